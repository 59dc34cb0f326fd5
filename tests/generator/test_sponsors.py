from __future__ import annotations

import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from generator import links, sponsors
from generator.fonts import typeface
from generator.regions import PROVINCES
from tests.conftest import CAMPAIGN, ROOT

GOOD = """
  - slug: guangdong-cyber
    name: 广东省网络空间安全协会
    short_name: 广东网安协会
    kind: initiator
    province: 广东省
    website: https://guangdong-cyber.example.org/
    channels: [website, wechat]
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sponsors.yaml"
    path.write_text(CAMPAIGN + "\nsponsors:" + body, encoding="utf-8")
    return path


def line_of(path: Path, marker: str, nth: int = 1) -> int:
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if marker in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{marker!r} not in file")


def problems(path: Path) -> list[str]:
    with pytest.raises(sponsors.SponsorsError) as info:
        sponsors.load(path, can_draw=typeface().can_draw)
    return info.value.report().splitlines()[1:]


def test_sample_covers_every_province_with_at_least_135_initiators():
    sl = sponsors.load(ROOT / "sponsors.yaml", can_draw=typeface().can_draw)
    initiators = [s for s in sl.sponsors if s.is_initiator]
    assert len(initiators) >= 135
    assert {s.province for s in initiators} == set(PROVINCES)
    supporters = [s for s in sl.sponsors if not s.is_initiator]
    assert supporters and all(sl.get(s.nominated_by).is_initiator for s in supporters)
    assert sl.campaign.opens.isoformat() == "2020-07-22T09:00:00+08:00"
    assert sl.campaign.closes.isoformat() == "2020-08-01T00:00:00+08:00"


CASES = {
    "unknown province": (GOOD.replace("province: 广东省", "province: 广东"), "province: 广东", "'province'", "write '广东省'"),
    "malformed slug": (GOOD.replace("slug: guangdong-cyber", "slug: Guangdong_Cyber"), "slug: Guangdong_Cyber", "'slug'", "lowercase"),
    "bad url": (GOOD.replace("https://guangdong-cyber.example.org/", "www.gd.org"), "website: www.gd.org", "'website'", "full address"),
    "missing name": (GOOD.replace("    name: 广东省网络空间安全协会\n", ""), "- slug: guangdong-cyber", "'name'", "add it"),
    "unknown field": (GOOD + "    provence: 广东省\n", "provence:", "'provence'", "spelling"),
    "unknown kind": (GOOD.replace("kind: initiator", "kind: sponsor"), "kind: sponsor", "'kind'", "initiator"),
    "duplicate channel": (GOOD.replace("[website, wechat]", "[website, wechat, website]"), "channels: [website, wechat, website]", "'channels'", "listed twice"),
    "unknown channel": (GOOD.replace("[website, wechat]", "[website, tiktok]"), "channels: [website, tiktok]", "'channels'", "use one of"),
    "logo missing": (GOOD + "    logo: logos/none.png\n", "logo: logos/none.png", "'logo'", "not found"),
    "glyph missing": (GOOD.replace("short_name: 广东网安协会", "short_name: 广东网安😀"), "short_name: 广东网安😀", "'short_name'", "cannot draw"),
    "duplicate key": (GOOD + "    province: 北京市\n", "province: 北京市", "file", "appears twice"),
    "yaml syntax": (GOOD + "    channels: [website\n", "channels: [website", "file", "YAML syntax error"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_mistake_names_line_field_and_fix(tmp_path, case):
    body, marker, field, fix = CASES[case]
    path = write(tmp_path, body)
    found = problems(path)
    assert len(found) == 1, found
    line = line_of(path, marker) if case != "yaml syntax" else None
    if line is not None:
        assert found[0].strip().startswith(f"sponsors.yaml:{line}:"), found
    assert field in found[0] and fix in found[0]
    if case not in ("duplicate key", "yaml syntax"):
        assert "guangdong-cyber" in found[0] or "sponsor #1" in found[0]


def test_yaml_syntax_error_points_at_the_broken_line(tmp_path):
    path = write(tmp_path, GOOD + "    channels: [website\n  - slug: x\n")
    (message,) = problems(path)
    reported = int(message.strip().split(":")[1])
    assert abs(reported - line_of(path, "channels: [website", 2)) <= 2


def test_logo_that_is_not_an_image(tmp_path):
    (tmp_path / "logo.png").write_text("not a picture")
    path = write(tmp_path, GOOD + "    logo: logo.png\n")
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, 'logo: logo.png')}:" in message and "not a readable image" in message


SUPPORTER = """
  - slug: {slug}
    name: 支持单位{slug}
    short_name: 支持单位
    kind: {kind}
    province: 广东省
    nominated_by: {parent}
    channels: [website]
"""


def test_supporter_of_unknown_sponsor(tmp_path):
    path = write(tmp_path, GOOD + SUPPORTER.format(slug="media-a", kind="media", parent="nobody"))
    (message,) = problems(path)
    assert f":{line_of(path, 'nominated_by: nobody')}:" in message and "'nobody'" in message and "Fix:" in message


@pytest.mark.parametrize("kind,limit", [("media", 2), ("enterprise", 3)])
def test_too_many_supporters_for_one_initiator(tmp_path, kind, limit):
    body = GOOD + "".join(SUPPORTER.format(slug=f"s-{i}", kind=kind, parent="guangdong-cyber") for i in range(limit + 1))
    path = write(tmp_path, body)
    (message,) = problems(path)
    assert f"sponsor #{limit + 2} 's-{limit}'" in message and f"already nominated {limit}" in message
    assert f":{line_of(path, 'nominated_by: guangdong-cyber', limit + 1)}:" in message


def test_duplicate_slug_and_former_slug_collisions(tmp_path):
    body = GOOD + GOOD.replace("channels: [website, wechat]", "channels: [website]\n    former_slugs: [guangdong-cyber]").replace(
        "name: 广东省网络空间安全协会", "name: 广东省第二协会")
    path = write(tmp_path, body)
    found = problems(path)
    assert len(found) == 2
    assert all("already used by sponsor #1" in line for line in found)
    assert f"sponsors.yaml:{line_of(path, 'slug: guangdong-cyber', 2)}:" in found[0]


def test_every_problem_is_reported_at_once(tmp_path):
    body = GOOD.replace("province: 广东省", "province: 火星") + GOOD.replace(
        "https://guangdong-cyber.example.org/", "ftp://x").replace("guangdong-cyber", "gd-two").replace(
        "name: 广东省网络空间安全协会", "name: 广东省第二协会") + SUPPORTER.format(slug="m1", kind="media", parent="ghost")
    found = problems(write(tmp_path, body))
    assert len(found) == 3
    assert [("'province'" in f, "'website'" in f, "'ghost'" in f) for f in found] == [
        (True, False, False), (False, True, False), (False, False, True)]


def test_window_closing_at_24_00_is_end_of_day():
    assert sponsors.parse_beijing("2020-07-31 24:00").isoformat() == "2020-08-01T00:00:00+08:00"
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        sponsors.parse_beijing("31/07/2020")


def test_check_command(tmp_path, capsys):
    from generator.__main__ import main

    assert main(["check", str(ROOT / "sponsors.yaml"), "--site", str(tmp_path)]) == 0
    assert "135 initiators" in capsys.readouterr().out
    bad = write(tmp_path, GOOD.replace("province: 广东省", "province: 广东"))
    assert main(["check", str(bad), "--site", str(tmp_path)]) == 1
    assert "write '广东省'" in capsys.readouterr().err


def test_supporter_of_an_invalid_initiator_reports_only_the_initiator(tmp_path):
    body = GOOD.replace("province: 广东省", "province: 火星") + SUPPORTER.format(slug="m1", kind="media", parent="guangdong-cyber")
    (message,) = problems(write(tmp_path, body))
    assert "'province'" in message


# --- hostile or mistaken input: a clear problem with its line, never a traceback, in bounded memory and time ---

def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims `width` x `height` pixels (what a decompression bomb looks like)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width,height", [(50000, 50000), (12000, 12000), (5000, 5000)])
def test_logo_declaring_too_many_pixels_is_refused_before_decoding(tmp_path, width, height):
    (tmp_path / "bomb.png").write_bytes(png_declaring(width, height))
    path = write(tmp_path, GOOD + "    logo: bomb.png\n")
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, 'logo: bomb.png')}:" in message and "'logo'" in message
    assert "pixels" in message and "at most" in message and "Fix:" in message


def test_logo_huge_in_bytes_is_refused(tmp_path):
    logo = tmp_path / "huge.png"
    logo.write_bytes((ROOT / "site_src/logos/beijing-sample.png").read_bytes())
    with logo.open("r+b") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: takes no disk space
    path = write(tmp_path, GOOD + "    logo: huge.png\n")
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, 'logo: huge.png')}:" in message and "'logo'" in message
    assert "MB" in message and "Fix:" in message


@pytest.mark.parametrize("case", ["absolute", "parent", "passwd", "symlink"])
def test_logo_outside_the_project_is_refused(tmp_path, case):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    outside = elsewhere / "logo.png"
    outside.write_bytes((ROOT / "site_src/logos/beijing-sample.png").read_bytes())
    (project / "logos").mkdir()
    (project / "logos" / "link.png").symlink_to(outside)
    logo = {"absolute": str(outside), "parent": "../elsewhere/logo.png",
            "passwd": "../" * 12 + "etc/passwd", "symlink": "logos/link.png"}[case]
    path = write(project, GOOD + f"    logo: {logo}\n")
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, 'logo: ')}:" in message and "'logo'" in message
    # the allowed folder named on its own, not only as the start of the refused file's path
    assert re.search(re.escape(str(project.resolve())) + r"(?![\w/.])", message) and "Fix:" in message, message


def test_logo_symlink_inside_the_project_is_fine(tmp_path):
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "real.png").write_bytes((ROOT / "site_src/logos/beijing-sample.png").read_bytes())
    (tmp_path / "logo.png").symlink_to(tmp_path / "logos" / "real.png")
    sl = sponsors.load(write(tmp_path, GOOD + "    logo: logo.png\n"), can_draw=typeface().can_draw)
    assert sl.sponsors[0].logo == "logo.png"


@pytest.mark.parametrize("placeholder", [
    "{link:>400000000}", "{sponsor:{link}}", "{sponsor!r}", "{sponsor.__class__}", "{sponsor[0]}", "{0}", "{}",
    "{link", "link}",
])
def test_press_release_allows_only_plain_named_placeholders(tmp_path, placeholder):
    assert "访问 {link} 或" in CAMPAIGN
    path = tmp_path / "sponsors.yaml"
    path.write_text(CAMPAIGN.replace("访问 {link} 或", f"访问 {placeholder} 或") + "\nsponsors:" + GOOD, encoding="utf-8")
    (message,) = problems(path)
    # the line of the placeholder inside the press release, not just the line of 'press_release:'
    assert f"sponsors.yaml:{line_of(path, '参与方式')}:" in message, message
    assert "'press_release'" in message and "Fix:" in message and "{sponsor}" in message.split("Fix:")[1]


def write_raw(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sponsors.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_alias_bomb_is_refused_in_bounded_memory_and_time(tmp_path):
    # "billion laughs": nine levels of nine aliases each expand to about 390 million values
    levels = ["  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"] + [
        f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)]
    path = write_raw(tmp_path, CAMPAIGN + "\nlol:\n" + "".join(levels) + "\nsponsors:" + GOOD)
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from generator import sponsors\n"
        "try:\n    sponsors.load(sys.argv[1])\n"
        "except sponsors.SponsorsError as exc:\n    print(exc.report())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    (message,) = done.stdout.splitlines()[1:]
    reported = int(message.strip().split(":")[1])
    assert line_of(path, "l1:") <= reported <= line_of(path, "l9:") and "alias" in message and "Fix:" in message


def test_yaml_alias_to_itself_is_refused(tmp_path):
    path = write_raw(tmp_path, CAMPAIGN + "\nloop: &loop [*loop]\nsponsors:" + GOOD)
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, 'loop: &loop')}:" in message and "alias" in message


def test_yaml_aliases_that_repeat_a_value_still_work(tmp_path):
    body = GOOD.replace("[website, wechat]", "&usual [website, wechat]") + GOOD.replace(
        "guangdong-cyber", "gd-two").replace("广东省网络空间安全协会", "广东省第二协会").replace("[website, wechat]", "*usual")
    sl = sponsors.load(write(tmp_path, body), can_draw=typeface().can_draw)
    assert sl.sponsors[1].channels == ("website", "wechat", "poster")  # the poster channel comes with every sponsor


@pytest.mark.parametrize("case,text,marker", [
    ("control character", "\nsponsors:" + GOOD.replace("广东网安协会", "广东\x00网安协会"), "short_name: 广东"),
    ("unhashable key", "\nsponsors:" + GOOD + "    ? !!set {a}\n    : 1\n", "!!set"),
    ("impossible date", "\nsponsors:" + GOOD + "    city: !!timestamp 2020-13-45\n", "!!timestamp"),
    ("not a number", "\nsponsors:" + GOOD + "    city: !!int many\n", "!!int"),
])
def test_malformed_yaml_values_get_a_line_not_a_traceback(tmp_path, case, text, marker):
    path = write_raw(tmp_path, CAMPAIGN + text)
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, marker)}:" in message, message


def test_file_that_is_not_utf8_gets_a_line_not_a_traceback(tmp_path):
    text = CAMPAIGN + "\nsponsors:" + GOOD
    path = tmp_path / "sponsors.yaml"
    path.write_bytes(text.encode("utf-8").replace("广东网安协会".encode(), "广东网安协会".encode("gbk")))
    gbk_line = text.split("广东网安协会")[0].count("\n") + 1  # line_of cannot read the file any more
    (message,) = problems(path)
    assert f"sponsors.yaml:{gbk_line}:" in message
    assert "UTF-8" in message and "Fix:" in message


@pytest.mark.parametrize("first,second", [
    ("beijing-assoc", "beijingassoc"), ("gd-cyber-2020", "gd-cyber-2o2o"), ("sz-link", "sz-1ink"),
])
def test_near_duplicate_slugs_name_both_lines(tmp_path, first, second):
    other = GOOD.replace("guangdong-cyber", second).replace("广东省网络空间安全协会", "广东省第二协会")
    path = write(tmp_path, GOOD.replace("guangdong-cyber", first) + other)
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, f'slug: {second}')}:" in message and "'slug'" in message
    assert f"sponsors.yaml:{line_of(path, f'slug: {first}')}" in message.split(": ", 2)[2] and first in message
    assert "Fix:" in message


@pytest.mark.parametrize("second", ["beijing_assoc", "Beijing-Assoc"])
def test_malformed_slug_that_imitates_another_names_it(tmp_path, second):
    other = GOOD.replace("guangdong-cyber", second).replace("广东省网络空间安全协会", "广东省第二协会")
    path = write(tmp_path, GOOD.replace("guangdong-cyber", "beijing-assoc") + other)
    found = problems(path)
    at_line = [f for f in found if f.strip().startswith(f"sponsors.yaml:{line_of(path, f'slug: {second}')}:")]
    assert at_line and any(f"sponsors.yaml:{line_of(path, 'slug: beijing-assoc')}" in f for f in at_line), found


@pytest.mark.parametrize("second_name", ["广东省网络空间 安全协会", "  广东省网络空间安全协会　", "广东省网络空间安全协会\u200b"])
def test_sponsors_with_the_same_name_name_both_lines(tmp_path, second_name):
    other = GOOD.replace("guangdong-cyber", "gd-two").replace("name: 广东省网络空间安全协会", f"name: '{second_name}'")
    path = write(tmp_path, GOOD + other)
    first, second = line_of(path, "    name: 广东", 1), line_of(path, "    name: '", 1)
    found = problems(path)
    assert any(f.strip().startswith(f"sponsors.yaml:{second}:") and "'name'" in f and "Fix:" in f
               and f"sponsors.yaml:{first}" in f.split(": ", 2)[2] for f in found), found


def test_same_name_after_full_width_normalisation(tmp_path):
    first = GOOD.replace("广东省网络空间安全协会", "CN网络安全协会")
    second = GOOD.replace("guangdong-cyber", "gd-two").replace("广东省网络空间安全协会", "ＣＮ网络安全协会")
    path = write(tmp_path, first + second)
    (message,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, 'ＣＮ网络安全协会')}:" in message and "'name'" in message


def test_file_far_too_big_is_refused_before_reading(tmp_path):
    path = write(tmp_path, GOOD)
    with path.open("r+b") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: takes no disk space
    (message,) = problems(path)
    assert message.strip().startswith("sponsors.yaml:1:") and "MB" in message and "Fix:" in message


def test_campaign_names_its_organisers_secretariat_and_documents():
    c = sponsors.load(ROOT / "sponsors.yaml").campaign
    assert list(c.guided_by) == ["公安部网络安全保卫局"] and str(c.guided_by) == "公安部网络安全保卫局"
    assert c.hosted_by == "网民网络安全感满意度调查活动组委会"
    assert (c.secretariat.contact, c.secretariat.phone, c.secretariat.email) == ("周贵招", "13632357687", "cinsabj@163.com")
    assert c.icp == ""
    assert c.issued_text == "二〇二〇年六月二十日"


def test_documents_are_numbered_by_year_and_place_in_the_list():
    sl = sponsors.load(ROOT / "sponsors.yaml")
    initiators = [s for s in sl.sponsors if s.is_initiator]
    assert sl.certificate_number(sl.sponsors[0]) == "网安调授〔2020〕001号"
    assert sl.certificate_number(sl.sponsors[-1]) == f"网安调授〔2020〕{len(sl.sponsors):03d}号"
    assert sl.invitation_number(initiators[1]) == "网安调邀〔2020〕002号"


@pytest.mark.parametrize("old, new, field", [
    ("    email: cinsabj@163.com", "    email: cinsabj-at-163", "secretariat.email"),
    ("    phone: \"13632357687\"", "    phone: call us", "secretariat.phone"),
    ('  icp: ""', "  icp: 备案中", "icp"),
    ("    issued: 2020-06-20", "    issued: 2020-09-01", "after the survey closes"),
])
def test_campaign_contact_icp_and_issue_date_are_checked(tmp_path, old, new, field):
    path = tmp_path / "sponsors.yaml"
    assert old in CAMPAIGN
    path.write_text(CAMPAIGN.replace(old, new) + "\nsponsors:" + GOOD, encoding="utf-8")
    (message,) = problems(path)
    assert field in message


def test_the_poster_and_snippet_channels_are_campaign_settings(tmp_path):
    path = tmp_path / "sponsors.yaml"
    settings = "  poster_channel: offline\n  snippet_channels: [wechat, website]\n  channels:\n    offline: 线下张贴\n"
    campaign = CAMPAIGN.replace("    poster: 线下海报\n", "").replace("  channels:\n", settings, 1)
    path.write_text(campaign + "\nsponsors:" + GOOD, encoding="utf-8")
    sl = sponsors.load(path)
    (sponsor,) = sl.sponsors
    assert sponsor.channels == ("website", "wechat", "offline")  # the poster channel comes with every sponsor
    assert links.poster_channel(sl.campaign, sponsor) == "offline"
    assert links.snippet_channel(sl.campaign, sponsor) == "wechat"


def test_the_defaults_are_the_poster_channel_and_snippets_to_the_website(tmp_path):
    sl = sponsors.load(write(tmp_path, GOOD))
    assert (sl.campaign.poster_channel, sl.campaign.snippet_channels) == ("poster", ("website", "app", "wechat"))
    assert links.snippet_channel(sl.campaign, sl.sponsors[0]) == "website"


@pytest.mark.parametrize("setting, marker, message", [
    ("  snippet_channels: [website, blog]\n", "snippet_channels:", "unknown channel 'blog'. Fix: use one of website,"),
    ("  poster_channel: offline\n", "  channels:", "needs the 'offline' channel (e.g. 'offline: 线下海报')"),
])
def test_a_poster_or_snippet_channel_must_be_a_campaign_channel(tmp_path, setting, marker, message):
    path = tmp_path / "sponsors.yaml"
    path.write_text(CAMPAIGN.replace("  channels:\n", setting + "  channels:\n", 1) + "\nsponsors:" + GOOD,
                    encoding="utf-8")
    (found,) = problems(path)
    assert f"sponsors.yaml:{line_of(path, marker)}:" in found and message in found


def test_an_icp_number_in_the_usual_form_is_accepted(tmp_path):
    path = tmp_path / "sponsors.yaml"
    path.write_text(CAMPAIGN.replace('  icp: ""', "  icp: 粤ICP备12345678号-1") + "\nsponsors:" + GOOD, encoding="utf-8")
    assert sponsors.load(path).campaign.icp == "粤ICP备12345678号-1"


def test_the_sample_placement_tip_keeps_its_weibo_topic():
    tips = sponsors.load(ROOT / "sponsors.yaml").campaign.placement
    assert any("#网民网络安全感满意度调查#" in tip and tip.endswith("配 500×500 方图。") for tip in tips), tips


def test_a_topic_read_as_a_comment_is_a_warning_with_its_line(tmp_path, capsys):
    from generator.__main__ import main

    topic = "    - 微博置顶微博并带话题 #网民网络安全感满意度调查#，配 500×500 方图。"
    campaign = CAMPAIGN.replace("  placement:\n", "  placement:\n" + topic + "\n")
    path = tmp_path / "sponsors.yaml"
    path.write_text(campaign + "\nsponsors:" + GOOD.replace("province: 广东省", "province: 广东省  # 省级"), encoding="utf-8")
    sl = sponsors.load(path)
    (warning,) = sl.warnings
    assert warning.line == line_of(path, "带话题 #网民")
    assert "#网民网络安全感满意度调查#" in warning.message and "Fix:" in warning.message and "quote" in warning.message
    assert main(["check", str(path), "--site", str(tmp_path)]) == 0
    assert f"sponsors.yaml:{warning.line}: warning:" in capsys.readouterr().err


def test_unknown_channel_is_reported_with_a_bad_province_in_the_same_sponsor(tmp_path):
    body = GOOD.replace("province: 广东省", "province: 广东").replace("[website, wechat]", "[website, fax]")
    path = write(tmp_path, body)
    found = problems(path)
    assert len(found) == 2, found
    assert f"sponsors.yaml:{line_of(path, 'province: 广东')}:" in found[0] and "write '广东省'" in found[0]
    assert f"sponsors.yaml:{line_of(path, 'channels: [website, fax]')}:" in found[1] and "unknown channel 'fax'" in found[1]


def test_every_field_check_runs_beside_a_broken_field(tmp_path):
    (tmp_path / "logo.png").write_text("not a picture")
    body = (GOOD.replace("province: 广东省", "province: 火星").replace("short_name: 广东网安协会", "short_name: 广东网安😀")
            + "    logo: logo.png\n")
    found = problems(write(tmp_path, body))
    assert [("cannot draw" in f, "'province'" in f, "not a readable image" in f) for f in found] == [
        (True, False, False), (False, True, False), (False, False, True)], found
