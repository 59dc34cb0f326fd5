"""The text mark drawn for a sponsor without a logo: characters that name the organisation, not its place.

Most short names start with a place (北京网信安协会, 浙江日报): their first two characters read as the place, and
dozens of sponsors would share them. The mark drops the place and keeps what names the organisation, in one or two
short lines the way a seal sets them: 网信安 / 协会, 计算机 / 学会, 日报, 磐明 / 科技.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lambdas.survey.regions import CITIES, PROVINCES

from . import typeset

MAX_LINE = 4  # characters a line of the mark holds and stays legible on a small tile
MAX_LATIN = 8

# What a place name is called without its administrative suffix ('广西壮族自治区' -> '广西').
_ADMIN = re.compile(r"(自治区|自治州|自治县|特别行政区|地区|林区|新区|省|市|区|县|盟)$")
_PEOPLES = re.compile(r"(壮族|回族|维吾尔|蒙古族|蒙古|藏族|哈萨克|柯尔克孜|朝鲜族|土家族|苗族|侗族|布依族|哈尼族|彝族|傣族|"
                      r"白族|景颇族|傈僳族|羌族|黎族)+$")
# Organisation types that end a short name; the mark sets the part before them on its own line.
SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "广播电视台", "联合会", "研究会", "促进会", "研究院", "研究所",
            "电视台", "新闻网", "网络部", "融媒体", "协会", "学会", "商会", "中心", "集团", "公司", "科技", "日报",
            "晚报", "报社")
_NATIONAL = ("中华人民共和国", "中国", "全国", "中华")


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, ...]]:
    """Every province and city name as a short name may begin with it, by its first two characters, longest first."""
    names: set[str] = set(_NATIONAL)
    for full in [*PROVINCES, *(c for cities in CITIES.values() for c in cities)]:
        names.add(full)
        short = _ADMIN.sub("", full)
        for candidate in (short, _PEOPLES.sub("", short)):  # 内蒙古 stays whole: 内 alone is not its name
            if len(candidate) >= 2:
                names.add(candidate)
    by_start: dict[str, list[str]] = {}
    for place in sorted(names, key=len, reverse=True):
        by_start.setdefault(place[:2], []).append(place)
    return {start: tuple(places) for start, places in by_start.items()}


def without_place(name: str) -> str:
    """`name` without the places it starts with (广东深圳网安协会 -> 网安协会), unless nothing would be left."""
    rest = name
    for _ in range(3):
        place = next((p for p in _places().get(rest[:2], ()) if rest.startswith(p) and len(rest) - len(p) >= 2), None)
        if place is None:
            break
        rest = rest[len(place):]
    return rest


@lru_cache(maxsize=256)
def text_mark(short_name: str) -> tuple[str, ...]:
    """The lines of a sponsor's text mark: one or two, each at most `MAX_LINE` characters."""
    name = "".join(short_name.split()) or "?"
    if not any("\u3400" <= ch <= "\u9fff" for ch in name):
        return (name,) if len(name) <= MAX_LATIN else (name[: MAX_LATIN - 1] + "…",)
    rest = without_place(name)
    if len(rest) <= MAX_LINE - 1:
        return (rest,)
    suffix = next((s for s in SUFFIXES if rest.endswith(s) and len(rest) - len(s) >= 2), "")
    head = rest[: len(rest) - len(suffix)]
    if len(head) <= MAX_LINE:
        return (head, suffix) if suffix and len(suffix) <= MAX_LINE - 1 else (head,)
    # A long name: its first words, as many as two lines hold.
    lines: list[str] = []
    for word, _ in typeset.words(head):
        if lines and len(lines[-1]) + len(word) <= MAX_LINE:
            lines[-1] += word
        elif len(word) <= MAX_LINE and len(lines) < 2:
            lines.append(word)
        else:
            break
    return tuple(lines) or (head[:MAX_LINE],)
