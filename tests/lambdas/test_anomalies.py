from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from lambdas.admin import anomalies
from lambdas.admin.anomalies import Report, Row, TopCounter
from lambdas.survey.questionnaire import Questionnaire, Survey
from lambdas.survey.regions import PROVINCES
from tests.lambdas.answers import valid_answers

START = datetime(2020, 7, 22, 0, 0, tzinfo=timezone.utc)  # 08:00 in Beijing
FAST = {"public": 180}
HOSTILE_SLUG = '<script>alert("x")</script>'
HOSTILE_NAME = '<img src=x onerror=alert(1)>&"协会\''
HONEST = ("honest-a", "honest-b", "honest-c", HOSTILE_SLUG)
FLAGGED = {"farm": "address", "copycat": "straight", "elsewhere": "province", "surge": "burst"}


class Maker:
    """Stored submissions as `Store.scan` yields them, drawn from one seeded generator."""

    def __init__(self, qn: Questionnaire, seed: int = 1) -> None:
        self.qn, self.rng, self.count = qn, random.Random(seed), 0

    def item(self, sponsor: str, channel: str, when: datetime, *, answers: dict[str, Any] | None = None,
             ip: str | None = None, device: str | None = None, province: str | None = None,
             ip_province: str | None = None, seconds: int | None = None, reasons: tuple[str, ...] = (),
             old: bool = False) -> dict[str, Any]:
        rng = self.rng
        self.count += 1
        province = province or rng.choice(PROVINCES)
        answers = self.qn.check(answers or valid_answers(self.qn, rng, province))
        if ip_province is None:
            roll = rng.random()
            ip_province = province if roll < 0.85 else "" if roll < 0.9 else rng.choice(PROVINCES)
        item = {
            "id": f"id{self.count:08d}", "questionnaire": self.qn.id, "sponsor": sponsor, "channel": channel,
            "province": answers["region"]["province"], "day": when.date().isoformat(),
            "received": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "valid": not reasons,
            "digest": f"{rng.getrandbits(128):032x}",
            "answers": json.dumps(answers, ensure_ascii=False, separators=(",", ":")),
            "ip_hash": ip or f"{rng.getrandbits(128):032x}",
            "seconds": rng.randint(200, 900) if seconds is None else seconds, "claimed": "", "shard": 0,
        }
        if reasons:
            item["reasons"] = list(reasons)
        if not old:
            item |= {"device_hash": f"{rng.getrandbits(128):032x}" if device is None else device,
                     "ip_province": ip_province, "rules": "2020.1"}
        return item

    def spread(self, n: int, days: int = 3) -> Iterator[datetime]:
        """Times between 08:00 and 23:00 Beijing over a few days, as people answer."""
        for _ in range(n):
            day, minute = self.rng.randrange(days), self.rng.randrange(15 * 60)
            yield START + timedelta(days=day, minutes=minute, seconds=self.rng.randrange(60))

    def honest(self, sponsor: str, n: int, channels: tuple[str, ...] = ("wechat", "website"),
               old_share: float = 0.0) -> list[dict[str, Any]]:
        rng = self.rng
        return [self.item(sponsor, rng.choice(channels), t, old=rng.random() < old_share,
                          reasons=("too_fast",) if rng.random() < 0.05 else ()) for t in self.spread(n)]


def straight_answers(qn: Questionnaire, province: str) -> dict[str, Any]:
    answers = valid_answers(qn, random.Random(99), province)
    for q in qn.questions:
        if q.type == "matrix":
            answers[q.id] = {row: 5 for row, _ in q.rows}
    return answers


def campaign(qn: Questionnaire) -> list[dict[str, Any]]:
    """Four honest sponsors, one of each kind of inflation, and a tiny one that does everything wrong."""
    m = Maker(qn)
    items = m.honest("honest-a", 400) + m.honest("honest-b", 300, old_share=0.5) + m.honest("honest-c", 250)
    items += m.honest(HOSTILE_SLUG, 40)
    # One address at full speed: a submission every 3 seconds for 10 minutes, just over the intake's minimum time.
    farm_start = START + timedelta(days=1, hours=3)
    items += [m.item("farm", "wechat", farm_start + timedelta(seconds=3 * i), ip="f" * 32, device="",
                     province="河南省", ip_province="河南省", seconds=125 + i % 15) for i in range(200)]
    # The same straight-lined answers again and again, from many addresses over days.
    same = straight_answers(qn, "江苏省")
    items += [m.item("copycat", "website", t, answers=same, province="江苏省", ip_province="江苏省")
              for t in m.spread(150)]
    # Respondents who all say Beijing from addresses in Guangdong.
    items += [m.item("elsewhere", "wechat", t, province="北京市", ip_province="广东省") for t in m.spread(150)]
    # An honest sponsor, plus 80 submissions inside one minute.
    items += m.honest("surge", 250, channels=("website",))
    burst = START + timedelta(days=2, hours=5, minutes=7)
    items += [m.item("surge", "poster", burst + timedelta(milliseconds=700 * i)) for i in range(80)]
    # Too small to judge, however it looks.
    items += [m.item("tiny", "wechat", farm_start + timedelta(seconds=2 * i), answers=same, ip="e" * 32, seconds=30)
              for i in range(12)]
    random.Random(5).shuffle(items)  # a scan returns items in no particular order
    return items


@pytest.fixture(scope="module")
def public(survey: Survey) -> Questionnaire:
    return survey.questionnaires["public"]


@pytest.fixture(scope="module")
def report(survey: Survey, public: Questionnaire) -> Report:
    return anomalies.analyse(iter(campaign(public)), survey, FAST)


def by_sponsor(report: Report) -> dict[str, Row]:
    return {r.sponsor: r for r in report.sponsors}


def by_channel(report: Report) -> dict[tuple[str, str], Row]:
    return {(r.sponsor, r.channel): r for r in report.channels}


# ---- the synthetic campaign ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sponsor", HONEST)
def test_honest_sponsors_score_nothing(report: Report, sponsor: str) -> None:
    row = by_sponsor(report)[sponsor]
    assert row.scored
    assert row.score == 0, row.explanations
    assert row.explanations == ()


@pytest.mark.parametrize(("sponsor", "signal", "words"), [
    ("farm", "address", "的答卷来自同一网络地址（200 份）"),
    ("farm", "fast", "的答卷用时少于 180 秒"),
    ("copycat", "straight", "每道矩阵题各行都选同一分值"),
    ("copycat", "identical", "150 份答卷的答案完全相同"),
    ("elsewhere", "province", "所填省份与网络地址所在省份不一致"),
    ("surge", "burst", "1 个分钟出现异常高峰"),
])
def test_each_kind_of_inflation_is_flagged_with_its_reason(report: Report, sponsor: str, signal: str,
                                                           words: str) -> None:
    row = by_sponsor(report)[sponsor]
    assert row.points[signal] > 0
    assert any(words in text for text in row.explanations), row.explanations


def test_the_offenders_lead_the_ranking(report: Report) -> None:
    ranked = [r.sponsor for r in report.sponsors]
    assert set(ranked[:4]) == set(FLAGGED)
    assert [r.score for r in report.sponsors] == sorted((r.score for r in report.sponsors), reverse=True)
    farm = by_sponsor(report)["farm"]
    assert farm.score >= 25
    assert farm.explanations[0] == "100% 的答卷来自同一网络地址（200 份）"  # the strongest reason comes first


def test_figures_behind_the_reasons(report: Report) -> None:
    rows = by_sponsor(report)
    assert (rows["farm"].top_address, rows["farm"].submissions, rows["farm"].top_device) == (200, 200, 0)
    assert rows["farm"].median_seconds is not None and 125 <= rows["farm"].median_seconds < 140
    assert rows["farm"].fast == 200 and rows["farm"].fast_thresholds == (180,)
    assert (rows["copycat"].straight, rows["copycat"].top_identical) == (150, 150)
    assert rows["elsewhere"].mismatched == rows["elsewhere"].pairs == 150
    surge = rows["surge"]
    assert (surge.burst_minutes, surge.peak_count, surge.usual_per_minute) == (1, 80, 1.0)
    assert surge.peak_minute == "2020-07-24 13:07"  # Beijing time
    assert surge.burst_excess == 79
    assert rows["honest-a"].reasons.get("too_fast", 0) > 0
    assert report.campaign.submissions == sum(r.submissions for r in report.sponsors)
    assert report.reason_codes == ("too_fast",)


def test_baselines_are_the_typical_sponsor(report: Report) -> None:
    assert report.baselines["straight"] == 0
    assert 0.03 < report.baselines["province"] < 0.2
    assert report.campaign.shares()["province"] > report.baselines["province"]  # the pooled share is pulled up


def test_small_sponsors_are_not_scored(report: Report) -> None:
    tiny = by_sponsor(report)["tiny"]
    assert tiny.submissions == 12 and tiny.top_address == 12 and tiny.straight == 12
    assert (tiny.scored, tiny.score, tiny.explanations) == (False, 0, ())


def test_channels_are_scored_on_their_own(report: Report) -> None:
    rows = by_channel(report)
    poster = rows["surge", "poster"]
    assert (poster.submissions, poster.burst_minutes, poster.usual_per_minute) == (80, 1, 1.0)  # the sponsor's usual
    assert "burst" in poster.points
    assert rows["surge", "website"].score == 0
    assert "address" in rows["farm", "wechat"].points
    assert rows["honest-a", "wechat"].score == rows["honest-a", "website"].score == 0
    assert len(rows) == len(report.channels)


def test_old_items_without_the_new_fields_count_as_unknown(report: Report) -> None:
    b = by_sponsor(report)["honest-b"]
    assert 0 < b.device_known < b.submissions
    assert 0 < b.pairs < b.submissions


def test_the_fast_threshold_is_per_questionnaire(survey: Survey, public: Questionnaire) -> None:
    m = Maker(public)
    items = [m.item("quick", "wechat", t, seconds=130) for t in m.spread(40)]
    row = anomalies.analyse(items, survey, {"pro": 600}).sponsors[0]
    assert (row.fast_thresholds, row.fast, row.seconds_known, row.median_seconds) == ((), 0, 40, 130)
    row = anomalies.analyse(items, survey, {"public": 131}).sponsors[0]
    assert (row.fast_thresholds, row.fast) == ((131,), 40)


def test_straight_lining_needs_every_matrix_straight(survey: Survey, public: Questionnaire) -> None:
    matrices = [q for q in public.questions if q.type == "matrix"]
    assert len(matrices) >= 2
    answers = straight_answers(public, "江苏省")
    first_row = matrices[-1].rows[0][0]
    answers[matrices[-1].id][first_row] = 1  # one row off in the last matrix
    item = Maker(public).item("x", "wechat", START, answers=answers)
    assert anomalies.analyse([item], survey, FAST).campaign.straight == 0
    item = Maker(public).item("x", "wechat", START, answers=straight_answers(public, "江苏省"))
    assert anomalies.analyse([item], survey, FAST).campaign.straight == 1


def test_identical_answers_ignore_free_text(survey: Survey, public: Questionnaire) -> None:
    free = next(q for q in public.questions if q.type in ("text", "textarea") and q.show_if is None)
    m = Maker(public)
    base = valid_answers(public, random.Random(3), "浙江省")
    items = [m.item("x", "wechat", START, answers={**base, free.id: f"建议{i}"}) for i in range(6)]
    assert anomalies.analyse(items, survey, FAST).campaign.top_identical == 6


def test_unreadable_fields_are_unknown_not_errors(survey: Survey) -> None:
    items = [{"sponsor": "x"}, {"sponsor": "x", "answers": "{not json", "received": "yesterday", "seconds": "12"},
             {"sponsor": "x", "answers": "[]", "questionnaire": "nope", "received": "2020-07-22T01:02:03.000Z"}]
    row = anomalies.analyse(items, survey, FAST).sponsors[0]
    assert (row.submissions, row.vector_known, row.seconds_known, row.active_minutes) == (3, 0, 0, 1)
    assert by_channel(anomalies.analyse(items, survey, FAST))["x", "-"].submissions == 3


# ---- the files ---------------------------------------------------------------------------------------------------

class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)


def test_write_csv_and_html(report: Report, tmp_path: Path) -> None:
    names = {HOSTILE_SLUG: HOSTILE_NAME, "surge": "=cmd|' /C calc'!A0", "farm": "农场协会"}
    paths = anomalies.write(tmp_path / "out", report, names)
    assert [p.name for p in paths] == ["anomalies.csv", "anomalies.html"]

    raw = paths[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(paths[0], encoding="utf-8-sig", newline="") as fh:
        head, *rows = list(csv.reader(fh))
    assert len(rows) == 1 + len(report.sponsors) + len(report.channels)
    assert all(len(r) == len(head) for r in rows)
    record = [dict(zip(head, r)) for r in rows]
    assert record[0]["层级"] == "全部" and record[0]["答卷"] == str(report.campaign.submissions)
    farm = next(r for r in record if r["层级"] == "单位" and r["单位"] == "farm")
    assert (farm["单位名称"], farm["同一地址最多"], farm["同一地址占比"]) == ("农场协会", "200", "100%")
    assert "同一网络地址" in farm["疑点"] and float(farm["得分:地址集中"]) > 0
    surge = next(r for r in record if r["单位"] == "surge")
    assert surge["单位名称"] == "'=cmd|' /C calc'!A0"  # a spreadsheet shows it, never runs it
    assert next(r for r in record if r["单位"] == "tiny")["已评分"] == "否"
    assert "无效原因占比:用时过短(too_fast)" in head

    text = paths[1].read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    page.close()
    assert "script" not in page.tags and "img" not in page.tags
    assert not [v for _, v in page.attrs if v and ("http" in v or "//" in v)]  # nothing from outside
    assert HOSTILE_NAME in "".join(page.text) and HOSTILE_SLUG in "".join(page.text)
    assert "<script>" not in text and "<img" not in text
    sponsor_rows = [r for r in page.rows if r][: len(report.sponsors)]
    assert [r[0] for r in sponsor_rows] == [str(i) for i in range(1, len(report.sponsors) + 1)]
    scores = [float(r[1]) for r in sponsor_rows if r[1] != "—"]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert any("同一网络地址" in cell for cell in sponsor_rows[[r[2] for r in sponsor_rows].index("农场协会farm")])


# ---- the pieces ------------------------------------------------------------------------------------------------

def test_top_counter_is_exact_while_it_has_room() -> None:
    top = TopCounter(capacity=8)
    for key in "abcabca":
        top.add(key)
    assert (top.top(), top.rounds) == (3, 0)


def test_top_counter_undercounts_by_at_most_n_over_capacity() -> None:
    rng = random.Random(4)
    stream = ["hot"] * 3000 + [f"k{rng.getrandbits(40)}" for _ in range(20_000)]
    rng.shuffle(stream)
    top = TopCounter(capacity=64)
    for key in stream:
        top.add(key)
    assert 3000 - len(stream) / 65 <= top.top() <= 3000
    assert len(top.counts) <= 64


def test_poisson_tail_matches_the_sum_of_the_distribution() -> None:
    rate = 2.5
    exact = 1 - sum(math.exp(-rate) * rate ** k / math.factorial(k) for k in range(12))
    assert anomalies._poisson_tail(12, rate) == pytest.approx(exact, rel=1e-6)
    assert anomalies._poisson_tail(2000, 1500.0) > 0  # no underflow at large rates


def test_burst_limit() -> None:
    assert anomalies._burst_limit(1.0) == anomalies.BURST_MIN
    busy = anomalies._burst_limit(100.0)
    assert 130 < busy < 160  # about 4.75 standard deviations above a usual 100 a minute
    assert anomalies._poisson_tail(busy, 100.0) < anomalies.BURST_P <= anomalies._poisson_tail(busy - 1, 100.0)


def test_a_big_sponsors_rise_and_fall_over_the_day_is_no_burst() -> None:
    rng = random.Random(8)
    minutes = []
    for m in range(7 * 1440):
        hour = m % 1440 / 60
        rate = 20 * math.sin(math.pi * (hour - 7) / 16) ** 2 if 7 <= hour <= 23 else 0.2
        count = sum(rng.random() < rate / 100 for _ in range(100))  # binomial, close to Poisson(rate)
        if count:
            minutes.append((m, count))
    pace = anomalies._pace(minutes)
    assert max(c for _, c in minutes) < pace.limit
    assert pace.limit <= 150  # a push of 150 in a minute would still show


def test_wilson_lower_bound_is_lower_on_fewer_samples() -> None:
    assert anomalies._wilson_low(0.5, 30) < anomalies._wilson_low(0.5, 3000) < 0.5
    assert anomalies._wilson_low(0.0, 100) == 0.0
