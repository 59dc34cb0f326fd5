"""The table's layout: README.md shows exactly layout.ITEMS, each key function builds keys of its row's shape, and
every key reads back as what built it."""

from __future__ import annotations

import re

from lambdas.survey import counts, layout
from tests.conftest import ROOT


def _readme_rows() -> list[str]:
    text = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = text[text.index("Table layout"):text.index("Markers and limits")]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| item |")]


def test_the_readme_shows_the_layout():
    assert _readme_rows() == layout.table_rows()


def _shape(pattern: str) -> re.Pattern[str]:
    """A row's `<placeholder>`s as one or more characters other than the separator."""
    return re.compile("".join("[^#]+" if part.startswith("<") else re.escape(part)
                              for part in re.split(r"(<[^>]+>)", pattern)) + r"\Z")


def _row(pk: str) -> layout.Item:
    [item] = [i for i in layout.ITEMS if _shape(i.pk).match(pk)]
    return item


def _matches(key: dict[str, dict[str, str]]) -> bool:
    pk, sk = key[layout.PARTITION]["S"], key[layout.SORT]["S"]
    return bool(_shape(_row(pk).sk).match(sk))


def test_every_key_has_its_rows_shape():
    day, now = "2020-07-22", "2020-07-22T01:02:03.456Z"
    assert _matches(layout.submission_key("abc12345"))
    assert _matches(layout.counter_key(day, 3, "public", "beijing-ccs", "wechat.yizhong", "北京市"))
    assert _matches(layout.detail_key("beijing-ccs", now, "abc12345"))
    assert _matches(layout.key(layout.answers_marker("ip", "digest"), layout.MARKER))
    assert _matches(layout.key(layout.device_marker("device", "public", 0), layout.MARKER))
    assert _matches(layout.key(layout.address_limit(day, "ip", "public"), layout.LIMIT))
    assert _matches(layout.key(layout.address_challenges(day, "ip"), layout.CHALLENGES))
    assert _matches(layout.portal_key("beijing-ccs"))
    assert _matches(layout.request_key("beijing-ccs", "20200701T080000Z-0a1b2c3d"))


def test_every_key_reads_back_as_what_built_it():
    key = layout.counter_key("2020-07-22", 7, "public", "beijing-ccs", "wechat.yizhong", "北京市")
    counted, shard = layout.read_counter(key["pk"]["S"], key["sk"]["S"])
    assert counted == ("2020-07-22", "public", "beijing-ccs", "wechat.yizhong", "北京市") and shard == 7
    assert layout.counter_day(key["pk"]["S"]) == "2020-07-22"
    detail = layout.detail_key("beijing-ccs", "2020-07-22T01:59:59.999Z", "abc12345")  # 09:59 in Beijing
    day, hour, part = layout.read_detail(detail["sk"]["S"])
    assert (day, hour) == ("2020-07-22", 9) and part in range(layout.DETAIL_SPREAD)
    assert layout.detail_sponsor(detail["pk"]["S"]) == "beijing-ccs"
    assert layout.submission_id(layout.submission_key("abc12345")["pk"]["S"]) == "abc12345"


def test_a_counts_row_is_a_counter_key_and_its_numbers():
    assert counts.Row._fields == (*layout.CounterKey._fields, "received", "valid")
