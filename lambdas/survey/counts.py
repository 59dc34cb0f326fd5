"""Counts: the counter items of the window, summed into the views the secretariat and the sponsors look at.

Plain functions on plain rows, shared by the counts API, the dashboards' data, the report and the snapshots, so
every place that shows a number computes it the same way. A row is one counter item summed over its shards:
(day, questionnaire, sponsor, channel, province) -> received, valid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from .catalog import UNATTRIBUTED, Catalog
from .regions import PROVINCES


class Row(NamedTuple):
    day: str
    questionnaire: str
    sponsor: str
    channel: str
    province: str
    received: int
    valid: int


def rows_from_items(items: Iterable[dict[str, Any]]) -> list[Row]:
    """Counter items (any shards, any days; as read, or as projected to pk, sk, received, valid) merged into one
    row per key. What a counter counts is read from its keys, the one place it is written."""
    merged: dict[tuple[str, str], list[int]] = {}
    for item in items:
        k = (item["pk"].split("#", 2)[1], item["sk"])
        pair = merged.get(k)
        if pair is None:
            merged[k] = [int(item.get("received", 0)), int(item.get("valid", 0))]
        else:
            pair[0] += int(item.get("received", 0))
            pair[1] += int(item.get("valid", 0))
    return [Row(day, *sk.split("#", 3), r, v) for (day, sk), (r, v) in sorted(merged.items())]


def _pair(received: int = 0, valid: int = 0) -> dict[str, int]:
    return {"received": received, "valid": valid}


def _add(target: dict[str, int], row: Row) -> None:
    target["received"] += row.received
    target["valid"] += row.valid


def campaign(rows: list[Row], days: list[str]) -> dict[str, Any]:
    """Totals and the per-day series over every day of the window (days without samples show zero)."""
    per_day = {d: _pair() for d in days}
    total = _pair()
    by_questionnaire: dict[str, dict[str, int]] = defaultdict(_pair)
    for row in rows:
        _add(per_day.setdefault(row.day, _pair()), row)
        _add(total, row)
        _add(by_questionnaire[row.questionnaire], row)
    return {
        "total": total,
        "questionnaires": dict(sorted(by_questionnaire.items())),
        "days": [{"day": d, **per_day[d]} for d in sorted(per_day)],
    }


def leaderboard(rows: list[Row], cat: Catalog, kind: str | None = None, province: str | None = None) -> list[dict[str, Any]]:
    """Every sponsor's totals, most valid samples first; an initiator's group adds the support units it nominated."""
    own: dict[str, dict[str, int]] = {slug: _pair() for slug in cat.sponsors}
    for row in rows:
        if row.sponsor in own:
            _add(own[row.sponsor], row)
    groups = {slug: dict(pair) for slug, pair in own.items() if cat.sponsors[slug].kind == "initiator"}
    for slug, info in cat.sponsors.items():
        if info.nominated_by in groups:
            groups[info.nominated_by]["received"] += own[slug]["received"]
            groups[info.nominated_by]["valid"] += own[slug]["valid"]
    board = []
    for slug, info in cat.sponsors.items():
        if (kind and info.kind != kind) or (province and info.province != province):
            continue
        entry = {"sponsor": slug, "name": info.name, "kind": info.kind, "province": info.province,
                 "nominated_by": info.nominated_by, **own[slug]}
        if slug in groups:
            entry["group"] = groups[slug]
        board.append(entry)
    board.sort(key=lambda e: (-e["valid"], -e["received"], e["sponsor"]))
    for rank, entry in enumerate(board, 1):
        entry["rank"] = rank
    return board


def unattributed(rows: list[Row]) -> dict[str, int]:
    total = _pair()
    for row in rows:
        if row.sponsor == UNATTRIBUTED:
            _add(total, row)
    return total


def sponsor(rows: list[Row], cat: Catalog, slug: str, days: list[str]) -> dict[str, Any]:
    """One sponsor's totals, per-day series and split by channel (its own samples, not its group's)."""
    info = cat.sponsors[slug]
    mine = [r for r in rows if r.sponsor == slug]
    channels = {ch: _pair() for ch in sorted(info.channels)}
    for row in mine:
        _add(channels.setdefault(row.channel, _pair()), row)
    view = campaign(mine, days)
    return {"sponsor": slug, "name": info.name, "kind": info.kind, "province": info.province,
            "total": view["total"], "days": view["days"], "channels": channels}


def provinces(rows: list[Row]) -> list[dict[str, Any]]:
    """Totals by the respondent's province, with how many sponsors brought in samples from there."""
    totals = {p: _pair() for p in PROVINCES}
    active: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        _add(totals.setdefault(row.province, _pair()), row)
        if row.sponsor != UNATTRIBUTED and row.received:
            active[row.province].add(row.sponsor)
    return [{"province": p, **pair, "sponsors": len(active[p])} for p, pair in totals.items()]
