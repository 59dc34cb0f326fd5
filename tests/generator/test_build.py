from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import zxingcpp
from PIL import Image

from generator import assets, build, images
from generator.cache import Store
from tests.conftest import CAMPAIGN, SMALL_SPONSORS, mkdocs_build, tree_digest, write_project

SITE_URL = "https://survey.example.org/"


class Refs(HTMLParser):
    """Every URL a page would load by itself (not links a reader may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("rel") in ("stylesheet", "preload", "icon", "preconnect", "dns-prefetch", "modulepreload"):
            self.loads.append(a.get("href") or "")


def test_every_sponsor_has_pages_images_and_qr_codes(built_small):
    site = built_small / "site"
    manifest = json.loads((site / "sponsors.json").read_text())
    sizes = {(z["width"], z["height"]) for z in [
        {"width": int(w), "height": int(h)} for w, h in re.findall(r"width: (\d+), height: (\d+)", CAMPAIGN)]}
    for slug, sponsor in manifest["sponsors"].items():
        page = (site / "sponsors" / slug / "index.html").read_text()
        assert sponsor["name"] in page
        kit = site / "sponsors" / slug / "kit"
        # The first design's 1× images (other designs and 2× copies are checked in test_kit_images.py).
        drawn = {Image.open(p).size for p in kit.glob(f"{slug}-*x*.png") if re.fullmatch(rf"{slug}-.+-\d+x\d+\.png", p.name)}
        assert drawn == sizes
        assert len([p for p in kit.glob(f"{slug}-*x*.svg") if re.fullmatch(rf"{slug}-.+-\d+x\d+\.svg", p.name)]) == len(sizes)
        for channel in sponsor["channels"]:
            url = f"{SITE_URL}s/{slug}/{channel}/"
            decoded = zxingcpp.read_barcodes(Image.open(kit / f"{slug}-qr-{channel}.png"))
            assert [r.text for r in decoded] == [url]
            assert url in page
            entry = (site / "s" / slug / channel / "index.html").read_text()
            assert f'<meta name="survey-sponsor" content="{slug}">' in entry
            assert f'<meta name="survey-channel" content="{channel}">' in entry
        poster = next(kit.glob(f"{slug}-poster-1080x1920.png"))
        assert [r.text for r in zxingcpp.read_barcodes(Image.open(poster))] == [f"{SITE_URL}s/{slug}/poster/"]
        with zipfile.ZipFile(kit / f"{slug}-media-kit.zip") as archive:
            names = archive.namelist()
            assert "press-release.txt" in names and f"qr/{slug}-qr-{sponsor['channels'][0]}.png" in names
            assert sponsor["name"] in archive.read("press-release.txt").decode()


def test_documents_and_share_metadata(built_small):
    site = built_small / "site"
    certificate = (site / "sponsors/shenzhen-media/certificate/index.html").read_text()
    assert "深圳融媒体中心" in certificate and "核心媒体支持单位" in certificate and "广东省网络空间安全协会" in certificate
    assert (site / "sponsors/guangdong-cyber/invitation/index.html").exists()
    assert not (site / "sponsors/shenzhen-media/invitation").exists(), "only initiators invite support units"
    page = (site / "sponsors/guangdong-cyber/index.html").read_text()
    assert f'<meta property="og:image" content="{SITE_URL}sponsors/guangdong-cyber/kit/guangdong-cyber-wechat-square-500x500.png">' in page
    assert '<meta property="og:title" content="广东省网络空间安全协会 · 2020网民网络安全感满意度调查">' in page
    assert "定制雨伞" in page and "仅限广东省网民" in page


def test_pages_load_nothing_from_outside_the_site(built_small):
    site = built_small / "site"
    for html in site.rglob("*.html"):
        parser = Refs()
        parser.feed(html.read_text())
        outside = [u for u in parser.loads if re.match(r"^(https?:)?//", u) and not u.startswith(SITE_URL)]
        assert not outside, (html, outside)
    assert not any("fonts.googleapis" in p.read_text() for p in site.rglob("*.html"))
    # Not even a file that names an outside host: the theme's unused script bundle is not published.
    for text_file in [*site.rglob("*.js"), *site.rglob("*.html")]:
        assert not re.search(r"unpkg\.com|api\.github\.com|googleapis|jsdelivr", text_file.read_text()), text_file


def test_sponsor_pages_stay_out_of_nav(built_small):
    home = (built_small / "site/index.html").read_text()
    assert "sponsors/guangdong-cyber/" not in home.split('class="md-content"')[0]


def test_renamed_slug_redirects(built_small):
    site = built_small / "site"
    old = (site / "sponsors/beijing-old/index.html").read_text()
    assert 'url=../beijing-ccs/' in old
    entry = (site / "s/beijing-old/wechat/index.html").read_text()
    assert 'url=../../beijing-ccs/wechat/' in entry
    assert json.loads((site / "sponsors.json").read_text())["aliases"] == {"beijing-old": "beijing-ccs"}


def test_hostile_name_is_escaped(small_project):
    hostile = '<script>alert(1)</script>"深圳\'融媒&' + "很长" * 80
    text = (small_project / "sponsors.yaml").read_text().replace(
        "name: 深圳融媒体中心", "name: " + json.dumps(hostile, ensure_ascii=False))
    (small_project / "sponsors.yaml").write_text(text)
    result = mkdocs_build(small_project)
    assert result.returncode == 0, result.stderr
    site = small_project / "site"
    for html in site.rglob("*.html"):
        assert "<script>alert(1)" not in html.read_text(), html
    page = (site / "sponsors/shenzhen-media/index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_builds_are_identical(built_small, tmp_path):
    again = write_project(tmp_path / "again", CAMPAIGN + SMALL_SPONSORS)
    assert mkdocs_build(again).returncode == 0
    assert tree_digest(again / "site") == tree_digest(built_small / "site")


def test_build_leaves_site_src_unchanged(small_project):
    before = tree_digest(small_project / "site_src")
    assert mkdocs_build(small_project).returncode == 0
    assert tree_digest(small_project / "site_src") == before
    assert not (small_project / "site.partial").exists()


def failed_rebuild(project: Path, edits: dict[str, str]):  # type: ignore[no-untyped-def]
    """Build, apply `edits` to sponsors.yaml, build again: the second build must fail and keep the first site."""
    assert mkdocs_build(project).returncode == 0
    before = tree_digest(project / "site")
    path = project / "sponsors.yaml"
    text = path.read_text()
    for old, new in edits.items():
        text = text.replace(old, new)
    path.write_text(text)
    result = mkdocs_build(project)
    assert result.returncode != 0
    assert tree_digest(project / "site") == before
    assert not (project / "site.partial").exists()
    return result


def test_failed_build_keeps_previous_site(small_project):
    result = failed_rebuild(small_project, {"province: 北京市": "province: 北平"})
    assert "write '北京市'" in result.stderr or "is not a province" in result.stderr


def test_vanished_slug_fails_the_build(small_project):
    result = failed_rebuild(small_project, {"slug: beijing-ccs": "slug: beijing-computer",
                                            "former_slugs: [beijing-old]": "former_slugs: []"})
    assert "/s/beijing-ccs/website/" in result.stderr and "former_slugs" in result.stderr
    path = small_project / "sponsors.yaml"
    # Keeping the old slug as a former slug is the fix.
    path.write_text(path.read_text().replace("former_slugs: []", "former_slugs: [beijing-old, beijing-ccs]"))
    result = mkdocs_build(small_project)
    assert result.returncode == 0, result.stderr
    assert "url=../beijing-computer/" in (small_project / "site/sponsors/beijing-ccs/index.html").read_text()


def test_editing_one_sponsor_redraws_only_its_images(small_project, tmp_path):
    cache = tmp_path / "cache"
    sl = build.read(small_project / "sponsors.yaml")
    assets.draw_missing(assets.plan(sl, Store(cache)).jobs, workers=1)
    assert assets.plan(sl, Store(cache)).jobs == []
    path = small_project / "sponsors.yaml"
    path.write_text(path.read_text().replace("short_name: 深圳融媒", "short_name: 深圳融媒体"))
    jobs = assets.plan(build.read(path), Store(cache)).jobs
    assert all("深圳融媒体" in json.dumps(j.params, ensure_ascii=False) for j in jobs)
    entry_sizes = len(re.findall(r"width: \d+, height: \d+", CAMPAIGN))
    # its entry images in every design, its mark, and the QR codes of its two channels and of its poster's
    assert len(jobs) == entry_sizes * len(images.DESIGNS) + 1 + 3


def test_site_url_override_for_local_runs(small_project):
    result = mkdocs_build(small_project, env={"SURVEY_SITE_URL": "http://127.0.0.1:8000"})
    assert result.returncode == 0, result.stderr
    qr = small_project / "site/sponsors/beijing-ccs/kit/beijing-ccs-qr-wechat.png"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(qr))] == ["http://127.0.0.1:8000/s/beijing-ccs/wechat/"]
    bad = mkdocs_build(small_project, env={"SURVEY_SITE_URL": "localhost"})
    assert bad.returncode != 0 and "SURVEY_SITE_URL" in bad.stderr


def test_incremental_rebuild_equals_a_fresh_build(small_project, tmp_path):
    """Reused parts of the previous build never leave a stale page or file behind."""
    assert mkdocs_build(small_project).returncode == 0
    edited = (small_project / "sponsors.yaml").read_text().replace("short_name: 深圳融媒", "short_name: 深圳融媒体").replace(
        "channels: [website, wechat]\n    former_slugs", "channels: [website, wechat, weibo]\n    former_slugs")
    (small_project / "sponsors.yaml").write_text(edited)
    result = mkdocs_build(small_project)
    assert result.returncode == 0, result.stderr
    fresh = write_project(tmp_path / "fresh", edited)
    assert mkdocs_build(fresh).returncode == 0
    incremental, clean = tree_digest(small_project / "site"), tree_digest(fresh / "site")
    assert "s/beijing-ccs/weibo/index.html" in incremental
    assert incremental == clean


def test_hand_written_page_may_not_take_a_generated_path(small_project):
    (small_project / "site_src" / "slogans.md").write_text("# 标语\n")
    result = mkdocs_build(small_project)
    assert result.returncode != 0
    assert "slogans.md" in result.stderr and "generated page" in result.stderr


def test_remembered_results_share_their_per_sponsor_parts(small_project):
    assert mkdocs_build(small_project).returncode == 0
    cache = small_project / ".cache/sponsor-pages"
    before = set((cache / "parts").iterdir())
    path = small_project / "sponsors.yaml"
    path.write_text(path.read_text().replace("short_name: 深圳融媒", "short_name: 深圳融媒体"))
    assert mkdocs_build(small_project).returncode == 0
    after = set((cache / "parts").iterdir())
    # The edited sponsor's plan and pages, and the pages of the initiator that lists it: the rest are shared.
    assert before < after and len(after - before) <= 3 < len(before)
    results = list((cache / "outputs").glob("*.pickle"))
    assert len(results) == 2
    assert max(p.stat().st_size for p in results) < sum(p.stat().st_size for p in after) / 4
