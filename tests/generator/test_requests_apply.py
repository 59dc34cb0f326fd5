"""Approved requests applied to sponsors.yaml: only the new lines are added, and a change the check refuses
leaves the file byte for byte as it was."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from generator.build import read
from generator.requests_apply import ApplyError, apply, edit
from lambdas.files import write_atomic
from tests.conftest import ROOT

NOMINATION = {"name": "北京日报新媒体中心", "short_name": "北京日报", "kind": "media", "website": "https://bjd.example.org/",
              "province": "北京市", "contact_name": "张三", "contact_phone": "13800138000"}
PRIZE = {"provider": "北京市网络与信息安全协会", "item": "定制帆布袋", "quantity": 300, "scope": "national",
         "note": "仅限有效问卷"}


@pytest.fixture
def sponsors_file(tmp_path: Path) -> Path:
    """The sample sponsor list with the logos it names, relative to it as in the project."""
    path = tmp_path / "sponsors.yaml"
    shutil.copyfile(ROOT / "sponsors.yaml", path)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("logo:"):
            logo = line.split(":", 1)[1].strip()
            (tmp_path / logo).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / logo, tmp_path / logo)
    return path


def added_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if it removes or changes any."""
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    removed = [d for d in diff if d.startswith("-") and not d.startswith("---")]
    assert removed == [], removed
    return [d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")]


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith("#") or " # " in line]


def test_a_nominated_media_unit_is_appended_as_its_neighbours_are_written(sponsors_file):
    before = sponsors_file.read_text(encoding="utf-8")
    done = apply(sponsors_file, "nominate", "beijing-ccs", NOMINATION)
    after = sponsors_file.read_text(encoding="utf-8")
    assert done.before == before.encode() and "beijing-ccs-media-1" in done.summary
    assert added_lines(before, after) == [
        "  - slug: beijing-ccs-media-1",
        "    name: 北京日报新媒体中心",
        "    short_name: 北京日报",
        "    kind: media",
        "    province: 北京市",
        "    website: https://bjd.example.org/",
        "    nominated_by: beijing-ccs",
        "    channels: [website, wechat]",
    ]
    assert after.startswith(before)  # at the very end: the certificate numbers of everyone else stay as they are
    assert comments(after) == comments(before)
    assert "13800138000" not in after and "张三" not in after  # the contact stays in the table
    sl = read(sponsors_file)
    new = sl.sponsors[-1]
    assert (new.slug, new.kind, new.nominated_by, new.channels[:2]) == ("beijing-ccs-media-1", "media", "beijing-ccs",
                                                                        ("website", "wechat"))


def test_a_derived_slug_skips_taken_ones_and_a_given_slug_is_used(sponsors_file):
    apply(sponsors_file, "nominate", "beijing-ccs", NOMINATION)
    second = {**NOMINATION, "name": "北京青年报客户端", "kind": "enterprise"}
    assert "beijing-ccs-ent-1" in apply(sponsors_file, "nominate", "beijing-ccs", second).summary
    text = sponsors_file.read_text(encoding="utf-8")
    derived, _ = edit(text, "nominate", "tianjin-ccs", {**NOMINATION, "name": "天津日报"})
    assert "slug: tianjin-ccs-media-1" in derived
    chosen, _ = edit(text, "nominate", "tianjin-ccs", {**NOMINATION, "name": "天津日报"}, slug="tianjin-daily")
    assert "  - slug: tianjin-daily\n" in chosen


def test_a_proposed_initiator_needs_a_slug(sponsors_file):
    proposal = {k: v for k, v in NOMINATION.items() if k != "kind"} | {"name": "河北省网络安全协会"}
    before = sponsors_file.read_bytes()
    with pytest.raises(ApplyError, match="--slug"):
        apply(sponsors_file, "initiator", "beijing-ccs", proposal)
    assert sponsors_file.read_bytes() == before
    apply(sponsors_file, "initiator", "beijing-ccs", proposal, slug="hebei-cybersec")
    new = read(sponsors_file).sponsors[-1]
    assert (new.slug, new.kind, new.nominated_by) == ("hebei-cybersec", "initiator", None)


def test_text_yaml_would_misread_is_quoted(sponsors_file):
    odd = {**NOMINATION, "name": "北京: 新媒体 #1 中心", "short_name": "yes"}
    apply(sponsors_file, "nominate", "beijing-ccs", odd)
    new = read(sponsors_file).sponsors[-1]
    assert (new.name, new.short_name) == ("北京: 新媒体 #1 中心", "yes")


def test_a_prize_joins_the_sponsors_list_of_prizes(sponsors_file):
    before = sponsors_file.read_text(encoding="utf-8")
    apply(sponsors_file, "prize", "beijing-ccs", PRIZE)
    after = sponsors_file.read_text(encoding="utf-8")
    assert added_lines(before, after) == ["    - {provider: 北京市网络与信息安全协会, item: 定制帆布袋, quantity: 300, scope: national}"]
    # Right after the existing prize, inside beijing-ccs' entry
    lines = after.splitlines()
    at = lines.index("    - {provider: 北京市网络与信息安全协会, item: 定制帆布袋, quantity: 300, scope: national}")
    assert "定制雨伞" in lines[at - 1]
    prizes = read(sponsors_file).get("beijing-ccs").prizes
    assert [(p.item, p.quantity, p.scope) for p in prizes] == [("定制雨伞", 200, "local"), ("定制帆布袋", 300, "national")]
    assert "仅限有效问卷" not in after  # the note is the secretariat's, kept in the table


def test_a_first_prize_adds_the_key_in_the_files_own_layout(sponsors_file):
    before = sponsors_file.read_text(encoding="utf-8")
    apply(sponsors_file, "prize", "beijing-nis", PRIZE)
    after = sponsors_file.read_text(encoding="utf-8")
    assert added_lines(before, after) == [
        "    prizes:", "    - {provider: 北京市网络与信息安全协会, item: 定制帆布袋, quantity: 300, scope: national}"]
    assert [p.item for p in read(sponsors_file).get("beijing-nis").prizes] == ["定制帆布袋"]


def test_sublinks_are_added_as_flow_mappings(sponsors_file):
    text = sponsors_file.read_text(encoding="utf-8")
    first, summary = edit(text, "sublink", "beijing-ccs", {"channel": "poster", "key": "yizhong", "label": "北京市第一中学"})
    assert "poster.yizhong" in summary
    # Indented as the file's other sub-links are (or under the key, as the contract writes them, if it has none)
    others = [line for line in text.splitlines() if line.lstrip().startswith("- {channel:")]
    indent = " " * (len(others[0]) - len(others[0].lstrip())) if others else "    "
    assert added_lines(text, first) == ["    sublinks:", f"{indent}- {{channel: poster, key: yizhong, label: 北京市第一中学}}"]
    second, _ = edit(first, "sublink", "beijing-ccs", {"channel": "poster", "key": "erzhong", "label": "二中"})
    assert added_lines(first, second) == [f"{indent}- {{channel: poster, key: erzhong, label: 二中}}"]
    lines = second.splitlines()
    assert lines.index(f"{indent}- {{channel: poster, key: erzhong, label: 二中}}") == lines.index("    sublinks:") + 2


def test_an_applied_sublink_passes_the_check_and_becomes_a_channel(sponsors_file):
    before = sponsors_file.read_text(encoding="utf-8")
    apply(sponsors_file, "sublink", "beijing-ccs", {"channel": "poster", "key": "yizhong", "label": "北京市第一中学"})
    assert len(added_lines(before, sponsors_file.read_text(encoding="utf-8"))) == 2
    assert "poster.yizhong" in read(sponsors_file).get("beijing-ccs").channels
    with pytest.raises(ApplyError, match="was not changed"):  # the same key twice: the check refuses it
        apply(sponsors_file, "sublink", "beijing-ccs", {"channel": "poster", "key": "yizhong", "label": "一中"})


@pytest.mark.parametrize(("kind", "fields", "slug", "says"), [
    ("nominate", NOMINATION, "tianjin-ccs", "already used by"),  # a slug taken
    ("nominate", {**NOMINATION, "name": "北京市计算机学会"}, None, "name '北京市计算机学会'"),  # a name taken
    ("nominate", {**NOMINATION, "kind": "media"}, None, "already nominated 2 media"),  # a 3rd media of shanxi-nis
])
def test_a_change_the_check_refuses_leaves_the_file_as_it_was(sponsors_file, kind, fields, slug, says):
    before = sponsors_file.read_bytes()
    nominator = "shanxi-nis" if "2 media" in says else "beijing-ccs"
    with pytest.raises(ApplyError) as refused:
        apply(sponsors_file, kind, nominator, fields, slug=slug)
    message = str(refused.value)
    assert says in message and "was not changed" in message, message
    assert "sponsors.yaml:" in message and ".check.yaml" not in message  # lines of the real file, not the copy's
    assert sponsors_file.read_bytes() == before
    assert sorted(p.name for p in sponsors_file.parent.iterdir()) == ["site_src", "sponsors.yaml"]  # no temp left


def test_an_unknown_sponsor_and_a_kind_that_changes_no_file_are_refused(sponsors_file):
    with pytest.raises(ApplyError, match="no sponsor 'nobody'"):
        apply(sponsors_file, "prize", "nobody", PRIZE)
    with pytest.raises(ApplyError, match="changes no file"):
        apply(sponsors_file, "contact", "beijing-ccs", {"name": "x"})


def test_the_file_is_replaced_atomically_keeping_its_mode(sponsors_file):
    sponsors_file.chmod(0o640)
    write_atomic(sponsors_file, b"x\n", durable=True)  # as an approval writes sponsors.yaml
    assert sponsors_file.read_bytes() == b"x\n" and sponsors_file.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in sponsors_file.parent.iterdir() if p.name.startswith(".")] == []


OTHER_LAYOUT = """
sponsors:
# initiators
- slug: guangdong-cyber
  name: 广东省网络空间安全协会
  short_name: 广东网安协会
  kind: initiator
  province: 广东省
  website: https://guangdong-cyber.example.org/
  channels:
    - website
    - wechat
  prizes:
    - provider: 广东网安协会
      item: 保温杯
      quantity: 5
  # the next one joined late
- slug: zhejiang-x
  name: 浙江某协会
  short_name: 浙江协会
  kind: initiator
  province: 浙江省
  website: https://zj.example.org/
  channels: [website]   # only the site
# end of list
"""


@pytest.mark.parametrize(("kind", "sponsor", "fields", "expected"), [
    ("prize", "guangdong-cyber", PRIZE, ["    - provider: 北京市网络与信息安全协会", "      item: 定制帆布袋",
                                         "      quantity: 300", "      scope: national"]),
    ("prize", "zhejiang-x", PRIZE, ["  prizes:", "    - provider: 北京市网络与信息安全协会", "      item: 定制帆布袋",
                                    "      quantity: 300", "      scope: national"]),
    ("sublink", "zhejiang-x", {"channel": "poster", "key": "a", "label": "门店"},
     ["  sublinks:", "    - channel: poster", "      key: a", "      label: 门店"]),
    ("nominate", "guangdong-cyber", NOMINATION, [
        "- slug: guangdong-cyber-media-1", "  name: 北京日报新媒体中心", "  short_name: 北京日报", "  kind: media",
        "  province: 北京市", "  website: https://bjd.example.org/", "  nominated_by: guangdong-cyber",
        "  channels: [website, wechat]"]),
])
def test_another_layout_is_followed_too(tmp_path, kind, sponsor, fields, expected):
    from tests.conftest import CAMPAIGN

    path = tmp_path / "sponsors.yaml"
    path.write_text(CAMPAIGN + OTHER_LAYOUT, encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    apply(path, kind, sponsor, fields)
    after = path.read_text(encoding="utf-8")
    assert added_lines(before, after) == expected
    assert after.index(expected[0]) < after.index("# end of list") and comments(after) == comments(before)
