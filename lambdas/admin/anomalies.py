"""Anomalies: signs that a sponsor's samples are inflated, per sponsor and per (sponsor, channel), for the
secretariat to look into before the awards. Nothing here changes a count: it points at what to check.

One pass over the stored submissions (the plain dicts `Store.scan` yields) fills a fixed-size tally per
group, so memory follows the number of sponsors and channels, not of submissions: per-minute counts live in one
1,440-byte array per active day, completion times in a 3,601-slot histogram, and the most frequent address, device
and answer vector in Misra–Gries summaries of SKETCH counters (exact while a group has no more than SKETCH distinct
values; otherwise each top count is a lower bound, at most n/(SKETCH+1) short). Measured: 3 million synthetic
submissions over 30 days, 135 sponsors and 675 channels: 123 MB peak resident, about 30 µs a submission.

Signals, each a share of the group's submissions:
  address    the share from its single most frequent address hash
  device     the share from its single most frequent device hash
  identical  the share carrying its single most frequent answer vector (the answers without free text)
  straight   the share whose every matrix question has one value on all its rows ("straight-lining")
  fast       the share completed in less than the questionnaire's fast threshold (of those with a known time)
  province   the share whose stated province differs from the province of its address (of those with both)
  burst      the share that arrived in burst minutes, above the sponsor's usual rate (its median count over the
             minutes in which it received anything). A minute is a burst when its count is at least BURST_MIN, has
             P(X ≥ count) < BURST_P for X ~ Poisson(usual), and lies more than ROBUST_Z robust standard deviations
             (1.4826 × the median absolute deviation) above usual, so a big sponsor's ordinary rise and fall over the
             day is no burst. A channel is measured against its sponsor's usual rate, so a channel whose whole life
             is one burst still shows it.
  invalid    the share flagged invalid at intake (the share of each reason is reported beside it)

Score, from 0 to 100: the sum over signals of

    weight × min(1, max(0, low(share) − baseline − tolerance) / span)

where low(share) is the lower end of the share's 95% Wilson interval (so a share seen on few submissions counts
for less), baseline is the median share over the sponsors with at least MIN_SAMPLES submissions (the typical
sponsor: one large offender cannot raise the bar for everyone) for straight, fast, province and invalid, and 0
for address, device, identical and burst, which an honest sponsor does not show. RULES gives each signal's weight
(they add up to 100), tolerance and span. A signal earns nothing below its minimum evidence (top counts of
TOP_MIN, MIN_SAMPLES known values), and a group with fewer than MIN_SAMPLES submissions is not scored at all.
Every signal that earns points gives one reason in Chinese, strongest first.
"""

from __future__ import annotations

import csv
import functools
import html
import json
import math
import statistics
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import compress
from pathlib import Path
from typing import Any

from lambdas.survey.catalog import BEIJING, UNATTRIBUTED
from lambdas.survey.questionnaire import Survey

from .export import safe

MIN_SAMPLES = 30  # fewer submissions than this: too few to tell a pattern from chance
SKETCH = 256  # counters per Misra–Gries summary
TOP_MIN = {"address": 5, "device": 3, "identical": 5}  # a top count below this is no signal
BURST_MIN = 10  # fewer submissions than this in a minute is never a burst
BURST_P = 1e-6  # ~0.04 false burst minutes per group over a 30-day campaign of 43,200 minutes
ROBUST_Z = 6.0  # robust standard deviations above usual before a minute can be a burst
MAX_SECONDS = 3600  # completion times are kept per second up to an hour; longer ones share one slot
MINUTES_A_DAY = 1440
HOT = 20  # rows scoring this much are highlighted on the page


@dataclass(frozen=True)
class Rule:
    weight: float
    tolerance: float  # excess over the baseline that earns nothing
    span: float  # excess beyond the tolerance that earns the full weight
    label: str  # short Chinese name, for column headings


RULES: dict[str, Rule] = {
    "address": Rule(20, 0.05, 0.45, "地址集中"),
    "device": Rule(5, 0.02, 0.30, "设备集中"),
    "identical": Rule(15, 0.02, 0.30, "答案雷同"),
    "straight": Rule(15, 0.05, 0.40, "矩阵一致"),
    "fast": Rule(10, 0.05, 0.40, "用时过短"),
    "province": Rule(15, 0.10, 0.40, "省份不符"),
    "burst": Rule(10, 0.02, 0.25, "分钟高峰"),
    "invalid": Rule(10, 0.05, 0.40, "无效偏多"),
}
BASELINED = ("straight", "fast", "province", "invalid")

# Invalid reasons as the published rules name them; `analyse(titles=...)` can pass the rule set's own.
REASONS = {
    "honeypot": "隐藏字段被填写", "no_proof": "缺少安全验证", "bad_proof": "安全验证无效", "expired_proof": "安全验证已过期",
    "foreign_proof": "安全验证被挪用", "too_fast": "用时过短", "no_device": "缺少设备标识", "repeat_device": "同一设备重复提交",
    "repeat_answers": "同一网络地址重复提交相同答案", "cross_site": "来自其他网站的提交",
    "address_volume": "同一网络地址当日有效答卷超出上限",
}


class TopCounter:
    """The most frequent value of a stream in SKETCH counters (Misra–Gries): each count is a lower bound, short by
    at most `rounds`, which stays 0 while the stream has no more than `capacity` distinct values."""

    __slots__ = ("capacity", "counts", "rounds")

    def __init__(self, capacity: int = SKETCH) -> None:
        self.capacity = capacity
        self.counts: dict[Hashable, int] = {}
        self.rounds = 0

    def add(self, key: Hashable) -> None:
        counts = self.counts
        if key in counts:
            counts[key] += 1
        elif len(counts) < self.capacity:
            counts[key] = 1
        else:
            # Each round discards capacity + 1 occurrences, so rounds ≤ n / (capacity + 1) and the work stays O(n).
            self.rounds += 1
            for k in list(counts):
                if counts[k] == 1:
                    del counts[k]
                else:
                    counts[k] -= 1

    def top(self) -> int:
        return max(self.counts.values(), default=0)


class Tally:
    """Everything the report needs about one group of submissions, in memory that does not grow with it."""

    def __init__(self) -> None:
        self.n = self.valid = 0
        self.reasons: Counter[str] = Counter()
        # day number (UTC) -> submissions in each minute of it, one byte a minute; counts past 255 go on in
        # `crowded`, so a group costs at most 1.4 kB a day however busy it is
        self.days: dict[int, array] = {}
        self.crowded: Counter[int] = Counter()
        self.addresses, self.devices, self.vectors = TopCounter(), TopCounter(), TopCounter()
        self.address_known = self.device_known = self.vector_known = 0
        self.matrix_known = self.straight = 0
        self.seconds = array("I", bytes(4 * (MAX_SECONDS + 1)))
        self.seconds_known = self.fast = 0
        self.thresholds: set[int] = set()
        self.pairs = self.mismatched = 0

    def add(self, s: _Features) -> None:
        self.n += 1
        if s.valid:
            self.valid += 1
        self.reasons.update(s.reasons)
        if s.minute is not None:
            day, minute = divmod(s.minute, MINUTES_A_DAY)
            slots = self.days.get(day)
            if slots is None:
                slots = self.days[day] = array("B", bytes(MINUTES_A_DAY))
            if slots[minute] < 255:
                slots[minute] += 1
            else:
                self.crowded[s.minute] += 1
        if s.ip_hash:
            self.address_known += 1
            self.addresses.add(s.ip_hash)
        if s.device_hash:
            self.device_known += 1
            self.devices.add(s.device_hash)
        if s.vector is not None:
            self.vector_known += 1
            self.vectors.add(s.vector)
        if s.straight is not None:
            self.matrix_known += 1
            self.straight += s.straight
        if s.seconds >= 0:
            self.seconds_known += 1
            self.seconds[min(s.seconds, MAX_SECONDS)] += 1
            if s.fast_below is not None:
                self.thresholds.add(s.fast_below)
                self.fast += s.seconds < s.fast_below
        if s.mismatch is not None:
            self.pairs += 1
            self.mismatched += s.mismatch


@dataclass(slots=True)  # not frozen: one is made per submission, and frozen dataclasses are slower to build
class _Features:
    """What one submission contributes, worked out once for its sponsor, its channel and the campaign."""

    valid: bool
    reasons: tuple[str, ...]
    minute: int | None  # minutes since the epoch
    ip_hash: str
    device_hash: str
    vector: int | None  # hash of the answers without free text
    straight: bool | None  # None: no matrix answered
    seconds: int
    fast_below: int | None
    mismatch: bool | None  # None: stated or derived province unknown


@dataclass(frozen=True)
class Row:
    """One sponsor, one (sponsor, channel), or the whole campaign, with every figure the report shows."""

    level: str  # "campaign", "sponsor" or "channel"
    sponsor: str
    channel: str
    submissions: int
    valid: int
    reasons: dict[str, int]  # invalid reason -> submissions
    active_minutes: int
    usual_per_minute: float  # the sponsor's median over the minutes with any submission
    burst_limit: int  # submissions in a minute that make it a burst
    burst_minutes: int
    burst_excess: int  # submissions above the usual rate in burst minutes
    peak_minute: str  # Beijing time, "YYYY-MM-DD HH:MM"
    peak_count: int
    top_address: int
    address_known: int
    top_device: int
    device_known: int
    top_identical: int
    vector_known: int
    straight: int
    matrix_known: int
    median_seconds: int | None
    fast: int
    seconds_known: int
    fast_thresholds: tuple[int, ...]
    mismatched: int
    pairs: int
    scored: bool = False
    score: float = 0.0
    points: dict[str, float] = field(default_factory=dict)
    explanations: tuple[str, ...] = ()

    def shares(self) -> dict[str, float | None]:
        """Each signal's observed share (None where nothing is known)."""
        return {
            "address": _ratio(self.top_address, self.submissions), "device": _ratio(self.top_device, self.submissions),
            "identical": _ratio(self.top_identical, self.submissions),
            "straight": _ratio(self.straight, self.matrix_known), "fast": _ratio(self.fast, self.seconds_known),
            "province": _ratio(self.mismatched, self.pairs), "burst": _ratio(self.burst_excess, self.submissions),
            "invalid": _ratio(self.submissions - self.valid, self.submissions),
        }


@dataclass(frozen=True)
class Report:
    campaign: Row
    baselines: dict[str, float]  # signal -> the median sponsor's share (see the module docstring)
    sponsors: list[Row]  # by score, highest first
    channels: list[Row]  # by score, highest first
    reason_codes: tuple[str, ...]  # every invalid reason seen, most frequent first
    titles: Mapping[str, str] = field(default_factory=lambda: REASONS)  # reason code -> Chinese title


def analyse(items: Iterable[Mapping[str, Any]], survey: Survey, fast_seconds: Mapping[str, int], *,
            titles: Mapping[str, str] | None = None) -> Report:
    """One pass over stored submissions: per-sponsor and per-channel figures, scores and reasons.

    `fast_seconds` is the completion time below which a submission counts as fast, per questionnaire id (a
    questionnaire missing from it has no fast share); `titles` names invalid reason codes in Chinese (REASONS
    by default; a code missing from both shows as itself).
    """
    titles = {**REASONS, **(titles or {})}
    shape = _Shape(survey, fast_seconds)
    campaign = Tally()
    sponsors: dict[str, Tally] = {}
    channels: dict[tuple[str, str], Tally] = {}
    for item in items:
        features = shape.features(item)
        sponsor, channel = str(item.get("sponsor") or UNATTRIBUTED), str(item.get("channel") or UNATTRIBUTED)
        campaign.add(features)
        if sponsor not in sponsors:
            sponsors[sponsor] = Tally()
        if (sponsor, channel) not in channels:
            channels[sponsor, channel] = Tally()
        sponsors[sponsor].add(features)
        channels[sponsor, channel].add(features)
    total = _row("campaign", "", "", campaign)
    sponsor_rows = [_row("sponsor", s, "", t) for s, t in sponsors.items()]
    paces = {r.sponsor: Pace(r.usual_per_minute, r.burst_limit) for r in sponsor_rows}
    channel_rows = [_row("channel", s, c, t, paces[s]) for (s, c), t in channels.items()]
    baselines = _baselines(sponsor_rows, total)
    explain = functools.partial(_explain, baselines=baselines, titles=titles)
    order = lambda r: (-r.score, -r.submissions, r.sponsor, r.channel)  # noqa: E731
    return Report(
        campaign=total, baselines=baselines,
        sponsors=sorted((_scored(r, baselines, explain) for r in sponsor_rows), key=order),
        channels=sorted((_scored(r, baselines, explain) for r in channel_rows), key=order),
        reason_codes=tuple(code for code, _ in campaign.reasons.most_common()), titles=titles,
    )


class _Shape:
    """What the questionnaires say about answers: which questions are matrices, which are free text."""

    def __init__(self, survey: Survey, fast_seconds: Mapping[str, int]) -> None:
        self.matrices = {qid: tuple(q.id for q in qn.questions if q.type == "matrix" and len(q.rows) > 1)
                         for qid, qn in survey.questionnaires.items()}
        self.free = {qid: tuple(q.id for q in qn.questions if q.type in ("text", "textarea"))
                     for qid, qn in survey.questionnaires.items()}
        self.fast = dict(fast_seconds)

    def features(self, item: Mapping[str, Any]) -> _Features:
        qid = str(item.get("questionnaire", ""))
        vector, straight = self._answers(qid, item.get("answers"))
        stated, derived = item.get("province") or "", item.get("ip_province") or ""
        seconds = item.get("seconds", -1)
        return _Features(
            valid=bool(item.get("valid")), reasons=tuple(item.get("reasons") or ()),
            minute=_minute(item.get("received")),
            ip_hash=str(item.get("ip_hash") or ""), device_hash=str(item.get("device_hash") or ""),
            vector=vector, straight=straight,
            seconds=seconds if isinstance(seconds, int) and not isinstance(seconds, bool) else -1,
            fast_below=self.fast.get(qid),
            mismatch=(stated != derived) if stated and derived else None,
        )

    def _answers(self, qid: str, text: object) -> tuple[int | None, bool | None]:
        if not isinstance(text, str):
            return None, None
        try:
            answers = json.loads(text)
        except ValueError:
            return None, None
        if not isinstance(answers, dict):
            return None, None
        free = [k for k in self.free.get(qid, ()) if k in answers]
        for k in free:
            del answers[k]
        # Python's str hash is stable within the process, which is all a count of repeats needs.
        vector = hash((qid, json.dumps(answers, ensure_ascii=False, separators=(",", ":")) if free else text))
        grids = [answers[k] for k in self.matrices.get(qid, ()) if isinstance(answers.get(k), dict)]
        grids = [g for g in grids if len(g) > 1]
        straight = all(len(set(map(repr, g.values()))) == 1 for g in grids) if grids else None
        return vector, straight


def _minute(received: object) -> int | None:
    """Minutes since the epoch of an ISO UTC timestamp ("2020-07-22T01:15:03.123Z"); None if unreadable."""
    if not isinstance(received, str) or len(received) < 16:
        return None
    try:
        moment = datetime.fromisoformat(received[:16]).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return int(moment.timestamp()) // 60


@dataclass(frozen=True)
class Pace:
    usual: float  # median submissions over the minutes with any
    limit: int  # a minute with this many or more is a burst


def _minutes(t: Tally) -> list[tuple[int, int]]:
    """(minute since the epoch, submissions) for every minute with any."""
    minutes = [(day * MINUTES_A_DAY + m, slots[m]) for day, slots in t.days.items()
               for m in compress(range(MINUTES_A_DAY), slots)]
    return [(m, c + t.crowded[m]) for m, c in minutes] if t.crowded else minutes


def _pace(minutes: list[tuple[int, int]]) -> Pace:
    if not minutes:
        return Pace(0.0, BURST_MIN)
    counts = [c for _, c in minutes]
    usual = float(statistics.median(counts))
    spread = 1.4826 * statistics.median(abs(c - usual) for c in counts)
    return Pace(usual, max(_burst_limit(usual), math.floor(usual + ROBUST_Z * spread) + 1))


def _row(level: str, sponsor: str, channel: str, t: Tally, pace: Pace | None = None) -> Row:
    minutes = _minutes(t)
    pace = pace or _pace(minutes)
    bursts = [c for _, c in minutes if c >= pace.limit]
    peak_at, peak = max(minutes, key=lambda mc: (mc[1], -mc[0]), default=(None, 0))
    return Row(
        level=level, sponsor=sponsor, channel=channel, submissions=t.n, valid=t.valid, reasons=dict(t.reasons),
        active_minutes=len(minutes), usual_per_minute=pace.usual, burst_limit=pace.limit, burst_minutes=len(bursts),
        burst_excess=int(sum(c - pace.usual for c in bursts)), peak_minute=_beijing(peak_at), peak_count=peak,
        top_address=t.addresses.top(), address_known=t.address_known, top_device=t.devices.top(),
        device_known=t.device_known, top_identical=t.vectors.top(), vector_known=t.vector_known,
        straight=t.straight, matrix_known=t.matrix_known, median_seconds=_median(t.seconds, t.seconds_known),
        fast=t.fast, seconds_known=t.seconds_known, fast_thresholds=tuple(sorted(t.thresholds)),
        mismatched=t.mismatched, pairs=t.pairs,
    )


def _burst_limit(usual: float) -> int:
    """The smallest count in a minute that Poisson(usual) reaches with probability below BURST_P (≥ BURST_MIN)."""
    rate = max(usual, 1.0)
    count = max(BURST_MIN, math.floor(rate) + 1)
    while _poisson_tail(count, rate) >= BURST_P:
        count += 1
    return count


def _poisson_tail(count: int, rate: float) -> float:
    """P(X ≥ count) for X ~ Poisson(rate), count > rate, summed in log space so large rates do not underflow."""
    term = math.exp(-rate + count * math.log(rate) - math.lgamma(count + 1))
    total, k = 0.0, count
    while term > 0 and term > total * 1e-12:
        total += term
        k += 1
        term *= rate / k
    return total


def _median(histogram: array, known: int) -> int | None:
    if not known:
        return None
    seen, middle = 0, (known + 1) // 2
    for seconds, count in enumerate(histogram):
        seen += count
        if seen >= middle:
            return seconds
    return MAX_SECONDS


def _beijing(minute: int | None) -> str:
    if minute is None:
        return ""
    return datetime.fromtimestamp(minute * 60, BEIJING).strftime("%Y-%m-%d %H:%M")


def _baselines(sponsors: list[Row], campaign: Row) -> dict[str, float]:
    """The median share of the sponsors with enough evidence; the campaign's own share when none has."""
    result = {}
    pooled = campaign.shares()
    for key in BASELINED:
        eligible = [r for r in sponsors if r.submissions >= MIN_SAMPLES and _evidence(r, key) >= MIN_SAMPLES]
        known = [s for s in (r.shares()[key] for r in eligible) if s is not None]
        result[key] = statistics.median(known) if known else (pooled[key] or 0.0)
    return result


def _evidence(r: Row, key: str) -> int:
    """How many submissions a signal's share is taken over."""
    return {"straight": r.matrix_known, "fast": r.seconds_known, "province": r.pairs}.get(key, r.submissions)


def _strong_enough(r: Row, key: str) -> bool:
    """A top count too small to mean anything (three submissions from one café) earns nothing."""
    top = {"address": r.top_address, "device": r.top_device, "identical": r.top_identical}
    if key in top:
        return top[key] >= TOP_MIN[key]
    return key != "burst" or r.burst_minutes > 0


def _scored(r: Row, baselines: dict[str, float], explain: Callable[[str, Row], str]) -> Row:
    if r.submissions < MIN_SAMPLES:
        return r
    points: dict[str, float] = {}
    shares = r.shares()
    for key, rule in RULES.items():
        n, share = _evidence(r, key), shares[key]
        if share is None or n < MIN_SAMPLES or not _strong_enough(r, key):
            continue
        excess = _wilson_low(share, n) - baselines.get(key, 0.0) - rule.tolerance
        if excess > 0:
            points[key] = round(rule.weight * min(1.0, excess / rule.span), 1)
    ranked = sorted(points, key=lambda k: -points[k])
    return replace(r, scored=True, score=round(float(sum(points.values())), 1), points=points,
                   explanations=tuple(explain(k, r) for k in ranked))


def _wilson_low(share: float, n: int, z: float = 1.96) -> float:
    """The lower end of the 95% Wilson score interval of a share seen over n submissions."""
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def _explain(key: str, r: Row, *, baselines: dict[str, float], titles: Mapping[str, str]) -> str:
    s, base = r.shares(), _pct(baselines.get(key, 0.0))
    if key == "address":
        return f"{_pct(s['address'])} 的答卷来自同一网络地址（{r.top_address} 份）"
    if key == "device":
        return f"{_pct(s['device'])} 的答卷来自同一设备（{r.top_device} 份）"
    if key == "identical":
        return f"{r.top_identical} 份答卷的答案完全相同（不计文字题，占 {_pct(s['identical'])}）"
    if key == "straight":
        return f"{_pct(s['straight'])} 的答卷每道矩阵题各行都选同一分值（各单位中位数 {base}）"
    if key == "fast":
        limit = f"少于 {r.fast_thresholds[0]} 秒" if len(r.fast_thresholds) == 1 else "低于问卷的快速阈值"
        return f"{_pct(s['fast'])} 的答卷用时{limit}（各单位中位数 {base}），用时中位数 {r.median_seconds} 秒"
    if key == "province":
        return f"{_pct(s['province'])} 的答卷所填省份与网络地址所在省份不一致（各单位中位数 {base}）"
    if key == "burst":
        return (f"{r.burst_minutes} 个分钟出现异常高峰，最高 {r.peak_minute} 一分钟 {r.peak_count} 份"
                f"（平时每个有答卷的分钟约 {r.usual_per_minute:g} 份）")
    top = max(r.reasons.items(), key=lambda kv: kv[1], default=None)
    main = f"，最多的是“{titles.get(top[0], top[0])}” {_pct(top[1] / r.submissions)}" if top else ""
    return f"{_pct(s['invalid'])} 的答卷被判无效（各单位中位数 {base}）{main}"


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _pct(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.0f}%"


# ---- writing ----------------------------------------------------------------------------------------------------

LEVEL = {"campaign": "全部", "sponsor": "单位", "channel": "单位渠道"}


def write(out_dir: Path, report: Report, names: Mapping[str, str] | None = None) -> list[Path]:
    """Write anomalies.csv (UTF-8 with BOM, every figure) and anomalies.html (self-contained, by score) into
    `out_dir`; `names` maps a sponsor's slug to the name shown beside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = names or {}
    paths = [out_dir / "anomalies.csv", out_dir / "anomalies.html"]
    with open(paths[0], "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(_head(report))
        for r in [report.campaign, *report.sponsors, *report.channels]:
            w.writerow([safe(c) for c in _cells(r, report, names)])
    paths[1].write_text(_page(report, names), encoding="utf-8")
    return paths


def _head(report: Report) -> list[str]:
    return (["层级", "单位", "单位名称", "渠道", "分数", "已评分", "疑点", "答卷", "有效", "无效占比"]
            + [f"无效原因占比:{report.titles.get(c, c)}({c})" for c in report.reason_codes]
            + ["有答卷的分钟数", "平时每分钟", "高峰分钟数", "高峰超出份数", "最高分钟(北京时间)", "最高分钟答卷",
               "高峰门槛(每分钟)", "同一地址最多", "同一地址占比", "有地址的答卷", "同一设备最多", "有设备标识的答卷",
               "相同答案最多", "矩阵题一致", "矩阵题一致占比", "有矩阵题的答卷", "用时中位数(秒)", "用时过短",
               "用时过短占比", "有用时的答卷", "省份不一致", "省份不一致占比", "可比对省份的答卷"]
            + [f"得分:{rule.label}" for rule in RULES.values()])


def _cells(r: Row, report: Report, names: Mapping[str, str]) -> list[object]:
    s = r.shares()
    return ([LEVEL[r.level], r.sponsor, names.get(r.sponsor, ""), r.channel, r.score if r.scored else "",
             "" if r.level == "campaign" else "是" if r.scored else "否", "；".join(r.explanations), r.submissions, r.valid, _pct(s["invalid"])]
            + [_pct(_ratio(r.reasons.get(c, 0), r.submissions)) for c in report.reason_codes]
            + [r.active_minutes, f"{r.usual_per_minute:g}", r.burst_minutes, r.burst_excess, r.peak_minute,
               r.peak_count, r.burst_limit, r.top_address, _pct(s["address"]), r.address_known, r.top_device,
               r.device_known,
               r.top_identical, r.straight, _pct(s["straight"]), r.matrix_known,
               "" if r.median_seconds is None else r.median_seconds, r.fast, _pct(s["fast"]), r.seconds_known,
               r.mismatched, _pct(s["province"]), r.pairs]
            + [r.points.get(k, 0) for k in RULES])


_STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0 2em}th,td{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}
th{background:#f3f3f3;text-align:left;white-space:nowrap}td.n{text-align:right;white-space:nowrap}
tr.hot td{background:#fff1f0}
ul{margin:0;padding-left:1.2em}small{color:#666}
"""


def _page(report: Report, names: Mapping[str, str]) -> str:
    c, e = report.campaign, html.escape
    base = "，".join(f"{RULES[k].label} {_pct(v)}" for k, v in report.baselines.items())
    weights = "，".join(f"{rule.label} {rule.weight:g}" for rule in RULES.values())
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        "<title>样本异常线索</title>", f"<style>{_STYLE}</style></head><body>",
        "<h1>样本异常线索</h1>",
        f"<p>共 {c.submissions} 份答卷，有效 {c.valid} 份。分数 0–100，越高越值得核查，只是线索，不是结论。"
        f"不足 {MIN_SAMPLES} 份答卷的单位或渠道不评分。</p>",
        f"<p><small>计分：每项疑点按其占比超出比较基准的幅度得分，满分为其权重（{e(weights)}），各项相加。"
        f"占比取 95% 置信区间的下限，样本少的单位不会因偶然而得分。比较基准（各单位中位数）：{e(base)}；"
        "地址、设备、答案雷同和分钟高峰的基准为 0。</small></p>",
        "<h2>各单位</h2>", _table(report.sponsors, names, with_channel=False),
        "<h2>各单位的各渠道</h2>", _table(report.channels, names, with_channel=True),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _table(rows: list[Row], names: Mapping[str, str], with_channel: bool) -> str:
    e = html.escape
    head = ["序号", "分数", "单位"] + (["渠道"] if with_channel else []) + ["答卷", "有效", "疑点"]
    out = ["<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for i, r in enumerate(rows, 1):
        name = names.get(r.sponsor, "")
        who = e(name) + f"<br><small>{e(r.sponsor)}</small>" if name else e(r.sponsor)
        if r.sponsor == UNATTRIBUTED:
            who = "（未归属）"
        why = ("<ul>" + "".join(f"<li>{e(x)}</li>" for x in r.explanations) + "</ul>" if r.explanations
               else ("" if r.scored else "<small>样本不足，未评分</small>"))
        score = f"{r.score:g}" if r.scored else "—"
        cells = [f'<td class="n">{i}</td>', f'<td class="n">{score}</td>', f"<td>{who}</td>"]
        if with_channel:
            cells.append(f"<td>{e(r.channel)}</td>")
        cells += [f'<td class="n">{r.submissions}</td>', f'<td class="n">{r.valid}</td>', f"<td>{why}</td>"]
        out.append(("<tr class=\"hot\">" if r.score >= HOT else "<tr>") + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
