"""A sponsor's private numbers: its counter rows and hourly details, summed into the views its page shows.

Days, channels and provinces come from the counter rows through the same functions as the counts API
(lambdas/survey/counts.py), so a figure here equals the API's for the same policy. What the private policy does
not show is handled as the public one is: unpublished valid counts are zeroed before anything is summed (so no
total, share or rank carries them) and their `valid` keys are left out, never set to zero. Aggregates only: no
submission, answer or address reaches this view.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from lambdas.survey import counts
from lambdas.survey.catalog import UNATTRIBUTED, Catalog, base_channel

BUSIEST_DAYS = 3  # days shown hour by hour
UNKNOWN_CHANNEL = "未识别的渠道"  # samples attributed to the sponsor through a channel its list does not name


class HourRow(Protocol):
    day: str
    hour: int
    received: int
    valid: int
    reasons: dict[str, int]


def view(rows: list[counts.Row], hours: Iterable[HourRow], cat: Catalog, slug: str, shown: counts.Disclosure,
         titles: dict[str, str]) -> dict[str, Any]:
    """Everything the numbers page shows of `slug`; `rows`: every sponsor's counter rows of the window (ranks span
    them all); `hours`: the sponsor's hourly details; `titles`: the published not-valid reasons' titles by code."""
    rows = counts.public_rows(rows, shown)
    own = counts.sponsor(rows, cat, slug, cat.days())
    hours = list(hours)
    body = {
        "totals": own["total"],
        "days": own["days"],
        "hours": _busiest(own["days"], hours, shown),
        "channels": _channels(own["channels"], cat, slug),
        "provinces": _provinces([r for r in rows if r.sponsor == slug]),
        "reasons": _reasons(hours, shown, titles),
        "group": _group(rows, cat, slug),
    }
    # After redact(): the rank's own "valid" is a place, not a count, and is null (not absent) while hidden.
    return {**counts.redact(body, shown), "rank": _rank(rows, cat, slug, shown)}


def _busiest(days: list[dict[str, Any]], hours: list[HourRow], shown: counts.Disclosure) -> list[dict[str, Any]]:
    """The sponsor's BUSIEST_DAYS days with most samples received, in calendar order, hour by hour (0-23)."""
    top = sorted((d for d in days if d["received"]), key=lambda d: (-d["received"], d["day"]))[:BUSIEST_DAYS]
    out = []
    for day in sorted(d["day"] for d in top):
        per = {h: [0, 0] for h in range(24)}
        for row in hours:
            if row.day == day:
                per[row.hour][0] += row.received
                per[row.hour][1] += row.valid
        # Each hour entry decides its own `valid`: redact() sees no day on it.
        covered = shown.covers(day)
        out.append({"day": day, "hours": [{"hour": h, "received": r, **({"valid": v} if covered else {})}
                                          for h, (r, v) in per.items()]})
    return out


def _channels(totals: dict[str, dict[str, int]], cat: Catalog, slug: str) -> list[dict[str, Any]]:
    """Every channel of the sponsor, each sub-link right after its base channel, in the sponsor list's order."""
    info = cat.sponsors[slug]
    listed = {c: n for n, c in enumerate(dict.fromkeys([*info.order, *sorted(totals)]))}
    bases = {b: n for n, b in enumerate(dict.fromkeys(base_channel(c) for c in listed))}
    ids = sorted(listed, key=lambda c: (bases[base_channel(c)], c != base_channel(c), listed[c]))
    return [{"id": c, "base": base_channel(c),
             "label": UNKNOWN_CHANNEL if c == UNATTRIBUTED else cat.channel_label(slug, c),
             **totals.get(c, {"received": 0, "valid": 0})} for c in ids]


def _provinces(mine: list[counts.Row]) -> list[dict[str, Any]]:
    """The respondents' provinces the sponsor brought samples from, most first."""
    found = [{"province": p["province"], "received": p["received"], "valid": p["valid"]}
             for p in counts.provinces(mine) if p["received"]]
    return sorted(found, key=lambda p: (-p["received"], p["province"]))


def _reasons(hours: list[HourRow], shown: counts.Disclosure, titles: dict[str, str]) -> list[dict[str, Any]]:
    """How often each published not-valid reason occurred, over the days whose valid counts are shown; `share`
    is of the samples received on those days (a sample may have several reasons)."""
    received, found = 0, dict.fromkeys(titles, 0)
    for row in hours:
        if not shown.covers(row.day):
            continue
        received += row.received
        for code, n in row.reasons.items():
            if code in found:
                found[code] += n
    return [{"code": code, "title": titles[code], "count": n, "share": round(n / received, 4) if received else 0.0}
            for code, n in sorted(found.items(), key=lambda kv: (-kv[1], list(titles).index(kv[0]))) if n]


def _group(rows: list[counts.Row], cat: Catalog, slug: str) -> dict[str, Any]:
    """The sponsor and the support units it nominated, each with its own totals."""
    members = [cat.sponsors[slug], *cat.nominated(slug)]
    totals = {m.slug: {"received": 0, "valid": 0} for m in members}
    for row in rows:
        if row.sponsor in totals:
            totals[row.sponsor]["received"] += row.received
            totals[row.sponsor]["valid"] += row.valid
    total = {"received": sum(t["received"] for t in totals.values()), "valid": sum(t["valid"] for t in totals.values())}
    return {"members": [{"slug": m.slug, "name": m.name, "kind": m.kind, **totals[m.slug]} for m in members],
            "total": total}


def _rank(rows: list[counts.Row], cat: Catalog, slug: str, shown: counts.Disclosure) -> dict[str, Any]:
    """The sponsor's place among all sponsors by its own samples received, and valid where those are shown."""
    def place(by: str) -> dict[str, int]:
        board = counts.leaderboard(rows, cat, rank_by=by)
        return {"rank": next(e["rank"] for e in board if e["sponsor"] == slug), "of": len(board)}

    return {"received": place("received"), "valid": place("valid") if shown.shown else None}
