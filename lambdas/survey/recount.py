"""Recount: what every counter should hold, from the stored submissions alone, and where the table differs.

A submission is counted when its pending marker is gone, so the expected counters come from the submissions
without one; a pending submission is the sweeper's to count, not a drift. The award decisions rest on the
counters, and this is how anyone can show they are exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from .store import Store, counter_key


class Drift(NamedTuple):
    day: str
    shard: int
    questionnaire: str
    sponsor: str
    channel: str
    province: str
    expected: tuple[int, int]  # (received, valid) recounted from submissions
    actual: tuple[int, int] | None  # what the counter holds; None when it is missing


CounterKey = tuple[str, int, str, str, str, str]  # day, shard, questionnaire, sponsor, channel, province


def expected(submissions: Iterable[dict[str, Any]]) -> tuple[dict[CounterKey, tuple[int, int]], int]:
    """Counter values implied by the counted submissions, and how many submissions are still pending."""
    totals: dict[CounterKey, list[int]] = defaultdict(lambda: [0, 0])
    pending = 0
    for s in submissions:
        if "pending" in s:
            pending += 1
            continue
        k = (s["day"], int(s["shard"]), s["questionnaire"], s["sponsor"], s["channel"], s["province"])
        totals[k][0] += 1
        totals[k][1] += 1 if s["valid"] else 0
    return {k: (r, v) for k, (r, v) in totals.items()}, pending


def actual(counters: Iterable[dict[str, Any]]) -> dict[CounterKey, tuple[int, int]]:
    found = {}
    for c in counters:
        _, day, shard = c["pk"].split("#")
        found[(day, int(shard), *c["sk"].split("#", 3))] = (int(c.get("received", 0)), int(c.get("valid", 0)))
    return found


def drifts(want: dict[CounterKey, tuple[int, int]], have: dict[CounterKey, tuple[int, int]]) -> list[Drift]:
    out = []
    for k in sorted(set(want) | set(have)):
        w, h = want.get(k, (0, 0)), have.get(k)
        if (h or (0, 0)) != w:
            out.append(Drift(*k, expected=w, actual=h))
    return out


def check(store: Store, progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda it: it) -> tuple[list[Drift], int]:
    """Every drift in the table, and the number of submissions still pending.

    Counters are read before submissions: a submission counted between the two reads is then in the recount but
    not in the counter read, and `fix`, which sets a counter only if it still holds what was read, leaves that
    counter alone. Read the other way round, such a counter would be "fixed" down and lose the count."""
    have = actual(store.scan("C#"))
    want, pending = expected(progress(store.scan("S#")))
    return drifts(want, have), pending


def fix(store: Store, found: list[Drift]) -> tuple[int, int]:
    """Set each drifted counter to its recount; returns (fixed, skipped because live traffic changed it)."""
    fixed = skipped = 0
    for d in found:
        key = counter_key(d.day, d.shard, d.questionnaire, d.sponsor, d.channel, d.province)
        if store.set_counter(key, d.expected[0], d.expected[1], d.actual):
            fixed += 1
        else:
            skipped += 1
    return fixed, skipped
