from __future__ import annotations

from pathlib import Path

import pytest

from generator import sponsors
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
    body = GOOD + GOOD.replace("channels: [website, wechat]", "channels: [website]\n    former_slugs: [guangdong-cyber]")
    path = write(tmp_path, body)
    found = problems(path)
    assert len(found) == 2
    assert all("already used by sponsor #1" in line for line in found)
    assert f"sponsors.yaml:{line_of(path, 'slug: guangdong-cyber', 2)}:" in found[0]


def test_every_problem_is_reported_at_once(tmp_path):
    body = GOOD.replace("province: 广东省", "province: 火星") + GOOD.replace(
        "https://guangdong-cyber.example.org/", "ftp://x").replace("guangdong-cyber", "gd-two") + SUPPORTER.format(slug="m1", kind="media", parent="ghost")
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
