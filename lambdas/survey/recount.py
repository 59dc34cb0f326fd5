"""Recount: what every counter and hourly detail should hold, from the stored submissions alone, and where the table
differs.

A submission is counted when its pending marker is gone, so the expected values come from the submissions without
one; a pending submission is the sweeper's to count, not a drift. The award decisions rest on the counters, the
sponsors' pages on the details too, and this is how anyone can show they are exact. What one submission adds where
is `store.additions`, the same function the counting transaction writes with.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from . import layout
from .layout import REASON_PREFIX
from .store import Store, additions

COUNTED = (layout.COUNTER, layout.DETAIL)  # the items submissions are counted in: counters, hourly details
BASE = ("received", "valid")  # the numbers every counted item holds (zero included)
Key = tuple[str, str]  # an item's (pk, sk)
Values = dict[str, int]  # attribute -> number


class Drift(NamedTuple):
    pk: str
    sk: str
    expected: Values  # recounted from submissions
    actual: Values | None  # what the item holds; None when it is missing

    @property
    def kind(self) -> str:
        return "counter" if self.pk.startswith(layout.COUNTER) else "detail"

    def describe(self) -> str:
        """One line for people: what the item counts, what it holds, what the recount says."""
        if self.kind == "counter":
            c, shard = layout.read_counter(self.pk, self.sk)
            what = f"{c.day} {c.sponsor} {c.channel} {c.province} ({c.questionnaire}, shard {shard})"
        else:
            day, hour, part = layout.read_detail(self.sk)
            what = f"{day} {hour:02d}:00 {layout.detail_sponsor(self.pk)} (hourly detail, part {part})"
        have = "missing" if self.actual is None else _text(self.actual)
        return f"{what}: {self.kind} {have}; recount {_text(self.expected)}"


def _text(values: Values) -> str:
    return ", ".join(f"{name} {values.get(name, 0)}" for name in [*BASE, *sorted(set(values) - set(BASE))])


def expected(submissions: Iterable[dict[str, Any]]) -> tuple[dict[Key, Values], int]:
    """The values every counted item should hold, implied by the counted submissions, and how many submissions are
    still pending."""
    totals: dict[Key, Counter[str]] = defaultdict(Counter)
    pending = 0
    for s in submissions:
        if "pending" in s:
            pending += 1
            continue
        for key, adds in additions(s):
            totals[(key["pk"]["S"], key["sk"]["S"])].update(adds)
    return {k: dict(v) for k, v in totals.items()}, pending


def actual(items: Iterable[dict[str, Any]]) -> dict[Key, Values]:
    """The numbers the counted items (counters, details; plain) hold."""
    return {(i["pk"], i["sk"]): {k: int(v) for k, v in i.items() if k in BASE or k.startswith(REASON_PREFIX)}
            for i in items}


def _same(want: Values, have: Values) -> bool:
    return all(want.get(k, 0) == have.get(k, 0) for k in set(want) | set(have))


def drifts(want: dict[Key, Values], have: dict[Key, Values]) -> list[Drift]:
    out = []
    for k in sorted(set(want) | set(have)):
        w, h = want.get(k, dict.fromkeys(BASE, 0)), have.get(k)
        if not _same(w, h or {}):
            out.append(Drift(*k, expected=w, actual=h))
    return out


def check(store: Store, progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda it: it) -> tuple[list[Drift], int]:
    """Every drift in the table, and the number of submissions still pending.

    Counters and details are read before submissions: a submission counted between the two reads is then in the
    recount but not in the item read, and `fix`, which sets an item only if it still holds what was read, leaves
    that item alone. Read the other way round, such an item would be "fixed" down and lose the count."""
    have = actual(store.scan(COUNTED))
    want, pending = expected(progress(store.scan(layout.SUBMISSION)))
    return drifts(want, have), pending


def fix(store: Store, found: list[Drift]) -> tuple[int, int]:
    """Set each drifted item to its recount; returns (fixed, skipped because live traffic changed it)."""
    fixed = skipped = 0
    for d in found:
        if store.set_values({"pk": {"S": d.pk}, "sk": {"S": d.sk}}, d.expected, d.actual):
            fixed += 1
        else:
            skipped += 1
    return fixed, skipped
