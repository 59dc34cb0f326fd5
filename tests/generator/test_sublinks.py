"""Sub-links (子链接), deadlines and prizes for respondents: from sponsors.yaml to pages, QR codes, posters, the
kit and sponsors.json; and the private page every sponsor's link opens."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from generator import assets, build, images, model, pages, sponsors
from generator.cache import Store
from generator.fonts import typeface
from lambdas.survey import catalog, questionnaire
from tests.conftest import CAMPAIGN, ROOT, SMALL_SPONSORS, mkdocs_build, write_project
from tests.generator.test_sponsors import GOOD, line_of, problems, write

SITE_URL = "https://survey.example.org/"
SUBLINKS = """    sublinks:
      - {channel: poster, key: yizhong, label: 北京市第一中学}
      - {channel: wechat, key: menu, label: 公众号菜单}
"""
# beijing-ccs is the last sponsor of the small project, so its sub-links go at the end.
WITH_SUBLINKS = CAMPAIGN + SMALL_SPONSORS + SUBLINKS
SURVEY = questionnaire.load()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = write_project(tmp_path_factory.mktemp("sublinks") / "project", WITH_SUBLINKS)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    return project / "site"


def decoded(path: Path) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(path))]


@pytest.mark.parametrize(("channel", "label"), [("poster.yizhong", "线下海报 · 北京市第一中学"),
                                                ("wechat.menu", "微信公众号 · 公众号菜单")])
def test_a_sublink_has_its_pages_qr_codes_and_snippets(built, channel, label):
    url = f"{SITE_URL}s/beijing-ccs/{channel}/"
    kit = built / "sponsors/beijing-ccs/kit"
    # Every questionnaire under the sub-link, attributed to it as to a channel of its own
    for i, qid in enumerate(SURVEY.questionnaires):
        entry = (built / "s/beijing-ccs" / channel / ("" if i == 0 else qid) / "index.html").read_text()
        assert '<meta name="survey-sponsor" content="beijing-ccs">' in entry
        assert f'<meta name="survey-channel" content="{channel}">' in entry
        assert f'<input type="hidden" name="channel" value="{channel}">' in entry
        assert f"#from=beijing-ccs/{channel}" in entry
    # Its QR codes decode to its link; the captioned one names it
    assert decoded(kit / f"beijing-ccs-qr-{channel}.png") == [url]
    assert decoded(kit / f"beijing-ccs-qr-{channel}-captioned.png") == [url]
    assert label in (kit / f"beijing-ccs-qr-{channel}-captioned.svg").read_text()
    assert (kit / f"beijing-ccs-qr-{channel}.svg").read_text().startswith("<svg")
    # The sponsor's page lists it in its 子链接 section, with its link sample and text
    page = (built / "sponsors/beijing-ccs/index.html").read_text()
    section = page.split('id="sublinks"')[1].split("</section>")[0]
    assert f"<strong>{label}</strong>" in section and url in section
    assert f'data-snippet-channel="{channel}"' in section
    assert f'<span data-channel="{channel}">{label}</span>' in page  # the counts table names it
    # And the kit holds its codes and lists its link
    with zipfile.ZipFile(kit / "beijing-ccs-media-kit.zip") as archive:
        assert f"qr/beijing-ccs-qr-{channel}.png" in archive.namelist()
        assert f"{label}\t{url}" in archive.read("links.txt").decode()
        snippets = archive.read("snippets.html").decode()
        assert f'id="{channel}"' in snippets and label in snippets


def test_a_poster_sublink_has_its_own_poster(built):
    kit = built / "sponsors/beijing-ccs/kit"
    url = f"{SITE_URL}s/beijing-ccs/poster.yizhong/"
    for design in images.DESIGNS:
        suffix = "" if design is images.DESIGNS[0] else f"-{design.name}"
        poster = kit / f"beijing-ccs-poster.yizhong-poster-1080x1920{suffix}.png"
        assert Image.open(poster).size == (1080, 1920)
        assert decoded(poster) == [url]
        assert (kit / poster.name.replace(".png", ".svg")).read_text().startswith("<svg")
    # The sponsor's own poster still carries its poster channel; a sub-link of another channel has no poster
    assert decoded(kit / "beijing-ccs-poster-1080x1920.png") == [f"{SITE_URL}s/beijing-ccs/poster/"]
    assert not list(kit.glob("beijing-ccs-wechat.menu-*"))
    section = (built / "sponsors/beijing-ccs/index.html").read_text().split('id="sublinks"')[1].split("</section>")[0]
    assert 'href="kit/beijing-ccs-poster.yizhong-poster-1080x1920.png"' in section
    with zipfile.ZipFile(kit / "beijing-ccs-media-kit.zip") as archive:
        assert "images/beijing-ccs-poster.yizhong-poster-1080x1920.png" in archive.namelist()


def test_sponsors_json_carries_channels_deadlines_sublinks_and_prizes(built):
    data = json.loads((built / "sponsors.json").read_text())
    assert data["campaign"]["channels"]["poster"] == "线下海报"
    assert data["campaign"]["deadlines"] == {"links": "2020-07-11T00:00:00+08:00", "prizes": "2020-07-16T00:00:00+08:00"}
    ccs = data["sponsors"]["beijing-ccs"]
    assert ccs["channels"] == ["website", "wechat", "poster", "poster.yizhong", "wechat.menu"]
    assert ccs["sublinks"] == [
        {"id": "poster.yizhong", "channel": "poster", "key": "yizhong", "label": "北京市第一中学"},
        {"id": "wechat.menu", "channel": "wechat", "key": "menu", "label": "公众号菜单"},
    ]
    assert data["sponsors"]["guangdong-cyber"]["prizes"] == [
        {"provider": "广东省网络空间安全协会", "item": "定制雨伞", "quantity": 100, "scope": "local"}]
    assert "s/beijing-ccs/poster.yizhong/" in data["published_links"]
    # The collection API attributes a sub-link's answers to it
    known = catalog.load(built / "sponsors.json")
    assert known.attribute("beijing-ccs", "poster.yizhong") == ("beijing-ccs", "poster.yizhong")


def test_forms_and_thank_you_page_show_the_sponsors_prizes(built):
    entry = (built / "s/guangdong-cyber/wechat/index.html").read_text()
    prizes = entry.split('id="prizes"')[1].split("</div>")[0]
    # Without script a local prize is shown, saying for whom; the script hides it by the province answered
    assert '<li data-local="广东省">广东省网络空间安全协会提供定制雨伞 100 份（仅限广东省网民）</li>' in prizes
    assert "兑奖码" in prizes  # the campaign's prize_terms
    assert entry.index('id="prizes"') < entry.index('id="submit"')
    assert 'id="prizes"' not in (built / "s/beijing-ccs/wechat/index.html").read_text()  # no prizes, no box
    assert json.loads((built / "s/guangdong-cyber/prizes.json").read_text()) == {
        "province": "广东省",
        "prizes": [{"provider": "广东省网络空间安全协会", "item": "定制雨伞", "quantity": 100, "scope": "local"}]}
    assert not (built / "s/beijing-ccs/prizes.json").exists()
    thanks = (built / "thanks/index.html").read_text()
    assert "data-prizes hidden" in thanks and "data-claim-code" in thanks
    assert re.search(r'<script src="\.\./assets/js/thanks\.js\?v=[0-9a-f]+" defer>', thanks)
    assert (built / "assets/js/thanks.js").is_file()


def test_sponsor_pages_state_the_deadlines(built):
    without = (built / "sponsors/beijing-ccs/index.html").read_text()
    assert "申请子链接（7月10日24时前）" in without and "请于7月15日24时前将企业名单" in without
    with_prizes = (built / "sponsors/guangdong-cyber/index.html").read_text()
    assert "所答省份为广东省的网民" in with_prizes and "发放办法：" in with_prizes


def test_the_private_page_is_published_out_of_navigation_and_search(built):
    page = (built / "my/index.html").read_text()
    assert '<meta name="robots" content="noindex' in page
    assert re.search(r'<script src="\.\./assets/js/portal\.js\?v=[0-9a-f]+" defer>', page)
    assert (built / "assets/js/portal.js").is_file()
    home = (built / "index.html").read_text()
    assert 'href="my/"' not in home and "/my/" not in home
    sitemap = built / "sitemap.xml"
    assert not sitemap.exists() or "/my/" not in sitemap.read_text()
    assert not (built / "search").exists()


def test_adding_a_sublink_draws_only_its_qr_code_and_poster(small_project, tmp_path):
    cache = tmp_path / "cache"
    sl = build.read(small_project / "sponsors.yaml")
    assets.draw_missing(assets.plan(sl, Store(cache)).jobs, workers=1)
    path = small_project / "sponsors.yaml"
    path.write_text(path.read_text() + "    sublinks:\n      - {channel: poster, key: yizhong, label: 北京市第一中学}\n")
    jobs = assets.plan(build.read(path), Store(cache)).jobs
    urls = {j.params.get("url") or j.params.get("qr_url") for j in jobs}
    assert urls == {f"{SITE_URL}s/beijing-ccs/poster.yizhong/"}
    assert sorted(j.kind for j in jobs) == ["entry"] * len(images.DESIGNS) + ["qr"]
    # The poster names the place under its code, the captioned QR code beside the sponsor
    assert {j.params["qr_label"] for j in jobs if j.kind == "entry"} == {"北京市第一中学 · 扫码参与调查"}
    [qr] = [j for j in jobs if j.kind == "qr"]
    assert qr.params["channel"] == "线下海报 · 北京市第一中学"


def test_dropping_a_published_sublink_is_refused(tmp_path):
    sl = build.read(write_project(tmp_path / "p", WITH_SUBLINKS) / "sponsors.yaml")
    published = pages.live_links(sl)
    assert "s/beijing-ccs/poster.yizhong/" in published
    without = build.read(write_project(tmp_path / "q", CAMPAIGN + SMALL_SPONSORS) / "sponsors.yaml")
    assert pages.vanished_links(without, published) == ["s/beijing-ccs/poster.yizhong/", "s/beijing-ccs/wechat.menu/"]


BAD_SUBLINKS = {
    "unknown channel": ("{channel: tiktok, key: a, label: 甲}", "channel: tiktok", "unknown channel 'tiktok'"),
    "bad key": ("{channel: poster, key: Yi_Zhong, label: 甲}", "key: Yi_Zhong", "'sublinks.0.key'"),
    "label too long": ("{channel: poster, key: a, label: " + "长" * 41 + "}", "key: a, label: 长", "at most 40"),
    "empty label": ("{channel: poster, key: a, label: ''}", "key: a, label: ''", "'sublinks.0.label'"),
    "unknown field": ("{channel: poster, key: a, label: 甲, url: x}", "url: x", "'sublinks.0.url'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SUBLINKS))
def test_a_bad_sublink_names_its_line_and_the_fix(tmp_path, case):
    entry, marker, message = BAD_SUBLINKS[case]
    path = write(tmp_path, GOOD + f"    sublinks:\n      - {entry}\n")
    [problem] = problems(path)
    assert problem.startswith(f"  sponsors.yaml:{line_of(path, marker)}: sponsor #1 'guangdong-cyber'"), problem
    assert message in problem and "Fix:" in problem, problem


def test_a_key_used_twice_for_one_channel_is_refused_but_not_across_channels(tmp_path):
    path = write(tmp_path, GOOD + "    sublinks:\n"
                                  "      - {channel: poster, key: yizhong, label: 一中}\n"
                                  "      - {channel: wechat, key: yizhong, label: 一中公众号}\n"
                                  "      - {channel: poster, key: yizhong, label: 一中分校}\n")
    [problem] = problems(path)
    assert problem.startswith(f"  sponsors.yaml:{line_of(path, 'label: 一中分校')}:"), problem
    assert "'yizhong' is used twice for channel 'poster'" in problem
    assert f"sponsors.yaml:{line_of(path, 'label: 一中}')}" in problem  # where the first one is


def test_a_sublink_problem_is_found_beside_other_problems_of_its_sponsor(tmp_path):
    path = write(tmp_path, GOOD.replace("province: 广东省", "province: 广东")
                 + "    sublinks:\n      - {channel: tiktok, key: a, label: 甲}\n")
    found = problems(path)
    assert len(found) == 2 and any("unknown channel 'tiktok'" in p for p in found)


def test_deadlines_and_prize_terms_parse():
    sl = sponsors.load(ROOT / "sponsors.yaml", can_draw=typeface().can_draw)
    c = sl.campaign
    assert (c.deadlines.links, c.deadlines.prizes) == (date(2020, 7, 10), date(2020, 7, 15))
    # A date is the end of that Beijing day: the deadline passes when the next one begins
    assert c.deadlines.passes("links").isoformat() == "2020-07-11T00:00:00+08:00"
    assert "兑奖码" in c.prize_terms and len(c.prize_terms) <= model.PRIZE_TERMS_MAX
    sample = sl.get("shijiazhuang-cybersec")
    assert [x.id for x in sample.sublinks] == ["poster.yizhong", "poster.erzhong"]
    assert sample.channels[-2:] == ("poster.yizhong", "poster.erzhong")


@pytest.mark.parametrize(("edit", "marker", "message"), [
    (("links: 2020-07-10", "links: 2020-08-10"), "deadlines:", "deadlines.links (2020-08-10) is after the survey closes"),
    (("links: 2020-07-10", "links: 7月10日"), "links: 7月10日", "field 'deadlines.links'"),
    (("prize_terms: |", "prize_terms: |\n    " + "很长" * 201), "prize_terms:", "field 'prize_terms'"),
])
def test_a_bad_deadline_or_prize_terms_names_its_line(tmp_path, edit, marker, message):
    path = tmp_path / "sponsors.yaml"
    path.write_text(CAMPAIGN.replace(*edit) + "\nsponsors:" + GOOD, encoding="utf-8")
    [problem] = problems(path)
    assert f"sponsors.yaml:{line_of(path, marker)}:" in problem and message in problem and "Fix:" in problem, problem
