"""Counts: the counter items of the window, summed into the views the secretariat and the sponsors look at.

Plain functions on plain rows, shared by the counts API, the dashboards' data, the report and the snapshots, so
every place that shows a number computes it the same way. A row is one counter item summed over its shards:
(day, questionnaire, sponsor, channel, province) -> received, valid.

`Source` (at the end) is what a function's container keeps of them: the counter rows, re-read at most every
FRESH_SECONDS, a finished day read once, and the views computed from them.

What the public may see of the valid counts is the secretariat's policy (`Disclosure`, below): the report and
the snapshots are the secretariat's own and always carry them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import TYPE_CHECKING, Any, NamedTuple

from .catalog import BEIJING, UNATTRIBUTED, Catalog, day_of
from .regions import PROVINCES
from .settings import SettingsError

if TYPE_CHECKING:
    from .store import Store
from .layout import REASON_PREFIX, counter_day, counter_of, read_detail


class Row(NamedTuple):
    """A counter's key (layout.CounterKey, field for field) and its numbers summed over its shards."""

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
        k = (counter_day(item["pk"]), item["sk"])
        pair = merged.get(k)
        if pair is None:
            merged[k] = [int(item.get("received", 0)), int(item.get("valid", 0))]
        else:
            pair[0] += int(item.get("received", 0))
            pair[1] += int(item.get("valid", 0))
    return [Row(*counter_of(day, sk), r, v) for (day, sk), (r, v) in sorted(merged.items())]


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


def leaderboard(rows: list[Row], cat: Catalog, kind: str | None = None, province: str | None = None,
                rank_by: str = "valid") -> list[dict[str, Any]]:
    """Every sponsor's totals, most valid samples first (or most received, with `rank_by="received"`, where valid
    counts are not published: then the order must not depend on them either); an initiator's group adds the support
    units it nominated."""
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
    if rank_by == "received":
        board.sort(key=lambda e: (-e["received"], e["sponsor"]))
    else:
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


# -- what the public sees of the valid counts -------------------------------------------------------------------

# Sponsors compete for awards on valid samples and some run bots: a valid count that moves in real time tells a bot's
# operator which of its submissions passed. The secretariat chooses what the public pages show:
POLICIES = {
    "after_close": "valid counts once the survey window has closed",
    "settled_days": "each Beijing day's valid count once the day ended 24 h ago",
    "never": "no valid counts (the secretariat publishes them itself)",
    "live": "valid counts as they change (rehearsals only)",
}
DEFAULT_POLICY = "after_close"
# Why 24 h after the day's end rather than at its midnight: published at midnight, a day's count would tell a bot's
# operator by the next morning which of yesterday's variants passed, in time to adapt all of today; and it may still
# move then (the sweeper counts what was pending, a recount repairs drift). A day later the operator has run a further
# day without feedback, so can change tactics at most every other day, and the figure is final. A day is shown from
# exactly SETTLED_AFTER after its end, the moment `valid_from` names.
SETTLED_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Disclosure:
    """What the public may see of the valid counts of some days, at one moment."""

    policy: str
    shown: bool
    through: str | None = None  # shown only for the days up to this one; None: for every day
    valid_from: datetime | None = None  # hidden until then; None: no date set

    def covers(self, day: str) -> bool:
        return self.shown and (self.through is None or day <= self.through)

    def fields(self) -> dict[str, Any]:
        """What a response says about it."""
        return {"valid_policy": self.policy, "valid_shown": self.shown,
                "valid_from": self.valid_from.astimezone(BEIJING).isoformat() if self.valid_from else None,
                "valid_through": self.through}


def day_end(day: str) -> datetime:
    """The moment a Beijing day ends: the next day's midnight."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), BEIJING)


def disclosure(policy: str, cat: Catalog, now: datetime, days: list[str]) -> Disclosure:
    """What the policy lets the public see at `now` of the valid counts of `days` (days of the window, in order)."""
    if policy == "live":
        return Disclosure(policy, True)
    if policy == "after_close":
        # The window is [opens, closes): at `closes` nothing more can be submitted, so nothing more is learnt.
        return Disclosure(policy, True) if now >= cat.closes else Disclosure(policy, False, valid_from=cat.closes)
    if policy == "settled_days":
        settled = [d for d in days if now >= day_end(d) + SETTLED_AFTER]
        if len(settled) == len(days):
            return Disclosure(policy, True)
        if settled:
            return Disclosure(policy, True, through=settled[-1])
        return Disclosure(policy, False, valid_from=day_end(days[0]) + SETTLED_AFTER)
    if policy == "never":
        return Disclosure(policy, False)
    raise ValueError(f"unknown policy {policy!r}")


def public_rows(rows: list[Row], shown: Disclosure) -> list[Row]:
    """The rows with every unpublished valid count set to zero, so that no total, and no order, can carry it."""
    if shown.shown and shown.through is None:
        return rows
    return [r if shown.covers(r.day) else r._replace(valid=0) for r in rows]


def redact(view: Any, shown: Disclosure) -> Any:
    """A view (of public_rows) without `valid` wherever it is not published: everywhere while hidden, and on the
    per-day entries after `through`. Absent, not zero: zero would read as a count."""
    if shown.shown and shown.through is None:
        return view

    def keep(entry: dict[str, Any]) -> bool:
        return shown.shown and ("day" not in entry or shown.covers(entry["day"]))

    def walk(x: Any) -> Any:
        if isinstance(x, list):
            return [walk(i) for i in x]
        if isinstance(x, dict):
            drop = not keep(x)
            return {k: walk(v) for k, v in x.items() if not (drop and k == "valid")}
        return x

    return walk(view)


# -- a sponsor's hours ------------------------------------------------------------------------------------------

class HourRow(NamedTuple):
    day: str  # Beijing time
    hour: int  # 0-23, Beijing time
    received: int
    valid: int
    reasons: dict[str, int]  # reason code -> submissions giving it (a submission may give several)


def hours_from_items(items: Iterable[dict[str, Any]]) -> list[HourRow]:
    """Hourly detail items (`Store.details`: one sponsor's; several sponsors' are summed) merged over their parts
    into one row per hour, in (day, hour) order. Like a counter, a detail says what it counts in its keys."""
    merged: dict[tuple[str, int], list[Any]] = {}
    for item in items:
        day, hour, _ = read_detail(item["sk"])
        row = merged.setdefault((day, hour), [0, 0, defaultdict(int)])
        row[0] += int(item.get("received", 0))
        row[1] += int(item.get("valid", 0))
        for name, n in item.items():
            if name.startswith(REASON_PREFIX):
                row[2][name.removeprefix(REASON_PREFIX)] += int(n)
    return [HourRow(day, hour, r, v, {code: n for code, n in sorted(reasons.items()) if n})
            for (day, hour), (r, v, reasons) in sorted(merged.items())]


# -- what a container keeps -------------------------------------------------------------------------------------

FRESH_SECONDS = 20.0  # a container re-reads the counters at most this often
SETTLE = timedelta(hours=1)  # after midnight, the sweeper has long counted what was pending at it


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def policy_setting(variable: str, value: str | None, default: str) -> str:
    """The disclosure policy a function's setting `variable` names (`value`; unset means `default`)."""
    value = value or default
    if value not in POLICIES:
        allowed = "; ".join(f"{name}: {what}" for name, what in POLICIES.items())
        raise SettingsError(f"{variable} is {value[:40]!r}; set one of {', '.join(POLICIES)} "
                            f"(unset means {default}). {allowed}")
    return value


class Source:
    """The counter rows of the window, re-read when older than FRESH_SECONDS; a finished day is read once.

    A day stops changing once the sweeper has counted what was pending at its midnight (SETTLE later), so only
    today's counters (and yesterday's, just after midnight) are read again: a refresh late in the campaign costs a
    tenth of a full read. The views computed from the rows are kept until the next refresh.

    `clock` times the refreshes; `now` is the wall clock that decides the days and what the policy shows.
    """

    def __init__(self, store: Store, cat: Catalog, clock: Callable[[], float] = monotonic,
                 now: Callable[[], datetime] = _utcnow, policy: str = DEFAULT_POLICY) -> None:
        if policy not in POLICIES:
            raise SettingsError(f"unknown policy {policy!r}: one of {', '.join(POLICIES)}")
        self.store = store
        self.catalog = cat
        self.clock = clock
        self.now = now
        self.policy = policy
        self._settled: dict[str, list[Row]] = {}
        self._rows: list[Row] = []
        self._read_at = -1e9
        self._views: dict[tuple, Any] = {}
        self.updated = ""

    def rows(self) -> list[Row]:
        if self.clock() - self._read_at > FRESH_SECONDS:
            now = self.now()
            today, settled_before = day_of(now), day_of(now - SETTLE)
            rows: list[Row] = []
            for day in self.catalog.days():
                if day > today:
                    break
                day_rows = self._settled.get(day)
                if day_rows is None:
                    day_rows = rows_from_items(self.store.counters(day))
                    if day < settled_before:
                        self._settled[day] = day_rows
                rows += day_rows
            self._rows, self._views = rows, {}
            self._read_at = self.clock()
            self.updated = now.astimezone(BEIJING).isoformat(timespec="seconds")
        return self._rows

    def view(self, key: tuple, make: Any) -> Any:
        """A view of the current rows, computed once per refresh."""
        self.rows()
        if key not in self._views:
            self._views[key] = make()
        return self._views[key]

    def disclosure(self, day: str | None) -> Disclosure:
        """What the policy shows now of the valid counts of one day, or of the whole window."""
        return disclosure(self.policy, self.catalog, self.now(), [day] if day else self.catalog.days())
