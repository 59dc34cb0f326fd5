"""Analysis over the export, checked against figures worked out by hand on twelve respondents (and one invalid
submission), written as the export writes them.

The twelve valid respondents of the public questionnaire (v: the answer given to overall, every satisfaction and
platform_perf row and law_effect; r12 answered overall 4, trend better and law_effect 3 only):

    id   province gender age        v  trend        top_concerns            report_channel
    r01  广东省   male   age18_24   5  much_better  fraud;info_leak         known_used
    r02  广东省   female age18_24   4  better       fraud                   known_unused
    r03  广东省   male   age25_30   4  unsure       info_leak;spam          known_used
    r04  广东省   female age25_30   3  same         fraud;spam;rumors       unknown
    r05  广东省   male   age31_40   3  worse        spam                    known_used
    r06  广东省   female age31_40   2  much_worse   fraud                   unknown
    r07  广东省   male   age41_50   5  better       fraud;info_leak         known_unused
    r08  北京市   female age18_24   4  better       info_leak               unknown
    r09  北京市   male   age25_30   1  same         fraud;harmful           known_used
    r10  北京市   female age31_40   3  unsure       spam;fraud              known_unused
    r11  北京市   male   age41_50   2  better       minors                  unknown
    r12  北京市   female age18_24   (partial, above)  —                     unknown
    x13  广东省   male   age18_24   1  much_worse   fraud                   known_used     (invalid)

The index (scale 0/25/50/75/100, so a v answer scores s = 25·(v − 1)): the overall domain is (2·s + trend) / 3, or s
when trend is 'unsure' (excluded); every other domain is s; the domain weights 0.2 (overall) and 0.8 (the rest).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import statistics
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lambdas.admin import export
from lambdas.results import analysis, queries, stats, weights
from lambdas.results.analysis import MIN_N, ResultsError
from lambdas.survey import questionnaire

Z = 1.959963984540054

PEOPLE = [
    # id, province, gender, age, v, trend, top_concerns, report_channel
    ("r01", "广东省", "male", "age18_24", 5, "much_better", "fraud;info_leak", "known_used"),
    ("r02", "广东省", "female", "age18_24", 4, "better", "fraud", "known_unused"),
    ("r03", "广东省", "male", "age25_30", 4, "unsure", "info_leak;spam", "known_used"),
    ("r04", "广东省", "female", "age25_30", 3, "same", "fraud;spam;rumors", "unknown"),
    ("r05", "广东省", "male", "age31_40", 3, "worse", "spam", "known_used"),
    ("r06", "广东省", "female", "age31_40", 2, "much_worse", "fraud", "unknown"),
    ("r07", "广东省", "male", "age41_50", 5, "better", "fraud;info_leak", "known_unused"),
    ("r08", "北京市", "female", "age18_24", 4, "better", "info_leak", "unknown"),
    ("r09", "北京市", "male", "age25_30", 1, "same", "fraud;harmful", "known_used"),
    ("r10", "北京市", "female", "age31_40", 3, "unsure", "spam;fraud", "known_unused"),
    ("r11", "北京市", "male", "age41_50", 2, "better", "minors", "unknown"),
]
# Each respondent's index, by hand: 0.2 · overall domain + 0.8 · s.
INDEX = {
    "r01": 100.0,  # s 100, trend 100: overall 100
    "r02": 75.0,  # s 75, trend 75
    "r03": 75.0,  # s 75, trend unsure: overall 75
    "r04": 50.0,
    "r05": 145 / 3,  # overall (100 + 25) / 3; 0.2 · 125/3 + 40
    "r06": 70 / 3,  # overall (50 + 0) / 3; 0.2 · 50/3 + 20
    "r07": 295 / 3,  # overall (200 + 75) / 3; 0.2 · 275/3 + 80
    "r08": 75.0,
    "r09": 10 / 3,  # overall (0 + 50) / 3; 0.2 · 50/3 + 0
    "r10": 50.0,  # trend unsure
    "r11": 85 / 3,  # overall (50 + 75) / 3; 0.2 · 125/3 + 20
    "r12": 200 / 3,  # overall 75 and law 50 only: (0.2 · 75 + 0.1 · 50) / 0.3
}
SATISFACTION = ("police", "cac", "telecom", "platforms", "privacy", "minors")
PLATFORMS = ("social", "ecommerce", "payment", "video", "games")


def _row(qn: questionnaire.Questionnaire, **values: object) -> dict:
    row = {c: None for c in export.columns(qn)}
    row.update({"questionnaire": qn.id, "day": "2020-08-01", "received": "2020-08-01T01:00:00.000Z",
                "sponsor": "-", "channel": "", "claimed": "", "valid": True, "reasons": "", "seconds": 300})
    row.update(values)
    return row


def _answers(v: int) -> dict:
    out = {"overall": v, "law_effect": v}
    out.update({f"satisfaction.{r}": v for r in SATISFACTION})
    out.update({f"platform_perf.{r}": v for r in PLATFORMS})
    return out


def hand_rows(qn: questionnaire.Questionnaire) -> list[dict]:
    rows = [_row(qn, id=i, province=p, gender=g, age=a, trend=t, top_concerns=c, report_channel=rc,
                 **{"region.province": p}, **_answers(v))
            for i, p, g, a, v, t, c, rc in PEOPLE]
    rows.append(_row(qn, id="r12", province="北京市", gender="female", age="age18_24", overall=4, trend="better",
                     law_effect=3, report_channel="unknown", **{"region.province": "北京市"}))
    rows.append(_row(qn, id="x13", province="广东省", gender="male", age="age18_24", trend="much_worse",
                     top_concerns="fraud", report_channel="known_used", valid=False, reasons="too_fast",
                     **{"region.province": "广东省"}, **_answers(1)))
    return rows


def write_export(rows: list[dict], qn: questionnaire.Questionnaire, folder: Path) -> Path:
    """Rows as the export's Parquet: its columns, typed as the export types them."""
    folder.mkdir(parents=True, exist_ok=True)
    typed = {"valid": pa.bool_(), "seconds": pa.int64()}
    typed.update({name: pa.int64() for q in qn.questions if q.type in ("rating", "matrix")
                  for name in q.field_names()})
    schema = pa.schema([(c, typed.get(c, pa.string())) for c in export.columns(qn)])
    path = folder / f"submissions-{qn.id}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


@pytest.fixture(scope="module")
def survey() -> questionnaire.Survey:
    return questionnaire.load()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, survey: questionnaire.Survey) -> Path:
    out = tmp_path_factory.mktemp("export")
    write_export(hand_rows(survey.questionnaires["public"]), survey.questionnaires["public"], out)
    return out


@pytest.fixture(scope="module")
def data(folder: Path, survey: questionnaire.Survey):
    with analysis.open_data(folder, survey) as d:
        yield d


def _ci(values: list[float]) -> tuple[float, float, float]:
    mean = sum(values) / len(values)
    half = Z * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def _flat(rows: tuple[tuple[float | None, ...], ...]) -> list[float | None]:
    return [v for r in rows for v in r]


def _table(tables: list[analysis.QuestionTable], column: str) -> analysis.QuestionTable:
    return next(t for t in tables if t.column == column)


# ---- the index -------------------------------------------------------------------------------------------------------

def test_each_respondents_index_is_the_hand_computed_one_and_the_reference_implementations(data, survey):
    scores = {s.id: s for s in analysis.respondent_scores(data, "public")}
    assert set(scores) == set(INDEX)  # the invalid submission is left out
    index = survey.questionnaires["public"].index
    rows = {r["id"]: r for r in hand_rows(survey.questionnaires["public"])}
    for rid, expected in INDEX.items():
        assert scores[rid].index == pytest.approx(expected, abs=1e-9)
        reference, domains = index.respondent(rows[rid])
        assert scores[rid].index == pytest.approx(reference, abs=1e-12)
        assert scores[rid].domains == pytest.approx(domains, abs=1e-12)
    assert scores["r03"].domains["overall"] == 75.0  # trend 'unsure' is excluded, not scored
    assert set(scores["r12"].domains) == {"overall", "law"}  # unanswered domains leave the index renormalised


def test_index_overall_with_its_ci_and_each_domain_with_its_own_n(data):
    table = analysis.index_table(data, "public", min_n=1)
    everyone = table.rows[0]
    assert (everyone.key, everyone.label, everyone.n) == (None, "全部", 12)
    mean, low, high = _ci(list(INDEX.values()))
    assert mean == pytest.approx(520 / 9)
    got = everyone.index.unweighted
    assert (got.value, got.low, got.high) == pytest.approx((mean, low, high))
    assert got.n == 12 and got.n_effective == 12 and not got.suppressed
    crime = table.figure(None, "crime").unweighted  # r12 has no satisfaction rows
    v = [p[4] for p in PEOPLE]
    assert crime.n == 11
    assert crime.value == pytest.approx(sum(25 * (x - 1) for x in v) / 11)
    overall = table.figure(None, "overall").unweighted
    assert overall.n == 12
    assert overall.value == pytest.approx((100 + 75 + 75 + 50 + 125 / 3 + 50 / 3 + 275 / 3 + 75 + 50 / 3 + 50
                                           + 125 / 3 + 75) / 12)
    assert [m.id for m in table.measures] == ["index", "overall", "crime", "privacy", "content", "minors",
                                              "platforms", "law"]
    assert table.weighted is False and everyone.index.weighted is None


def test_index_per_province_and_suppression_below_the_minimum(data):
    table = analysis.index_table(data, "public", "province", min_n=6)
    assert [r.key for r in table.rows] == [None, "北京市", "广东省"]  # the official order: 北京 before 广东
    guangdong = table.figure("广东省").unweighted
    values = [INDEX[p[0]] for p in PEOPLE if p[1] == "广东省"]
    assert (guangdong.value, guangdong.low, guangdong.high) == pytest.approx(_ci(values))
    assert guangdong.n == 7
    beijing = next(r for r in table.rows if r.key == "北京市")
    assert beijing.suppressed and beijing.n == 5
    assert (beijing.index.unweighted.value, beijing.index.unweighted.low, beijing.index.unweighted.high) == (None,) * 3
    assert beijing.index.unweighted.n == 5
    # the default minimum (30) suppresses everything here, yet every n is still given
    default = analysis.index_table(data, "public", "province")
    assert MIN_N == 30 and all(r.suppressed for r in default.rows)
    assert [r.n for r in default.rows] == [12, 5, 7]


def test_index_per_age_group_in_the_questionnaires_order_with_labels(data):
    table = analysis.index_table(data, "public", "age", min_n=1)
    assert [r.key for r in table.rows] == [None, "age18_24", "age25_30", "age31_40", "age41_50"]
    assert table.rows[1].label == "18～24岁" and table.by_label == "您的年龄"
    young = [INDEX[p[0]] for p in PEOPLE if p[3] == "age18_24"] + [INDEX["r12"]]
    assert table.figure("age18_24").unweighted.value == pytest.approx(sum(young) / len(young))
    assert analysis.groupings(data, "public") == ("province", "age", "occupation", "education")


def test_index_of_one_province_filters_before_scoring(data):
    table = analysis.index_table(data, "public", province="北京市", min_n=1)
    values = [INDEX[r] for r in ("r08", "r09", "r10", "r11", "r12")]
    assert table.rows[0].index.unweighted.value == pytest.approx(sum(values) / 5)


def test_an_unknown_grouping_names_the_choices(data):
    with pytest.raises(ResultsError, match="choose one of: province, sponsor, channel, day, gender, age"):
        analysis.index_table(data, "public", "top_concerns")


# ---- per-question tables ---------------------------------------------------------------------------------------------

def test_single_choice_shares_of_those_who_answered_with_labels(data):
    trend = _table(analysis.question_tables(data, "public", min_n=1), "trend")
    assert trend.n == 12 and trend.type == "single" and trend.text == "与去年相比，您觉得网络安全状况有何变化？"
    got = {s.option: (s.label, s.count, s.share) for s in trend.shares}
    assert got == {"much_better": ("明显好转", 1, 1 / 12), "better": ("有所好转", 5, 5 / 12),
                   "same": ("没有变化", 2, 2 / 12), "worse": ("有所下降", 1, 1 / 12),
                   "much_worse": ("明显下降", 1, 1 / 12), "unsure": ("说不清", 2, 2 / 12)}
    assert [s.option for s in trend.shares][:2] == ["much_better", "better"]  # questionnaire order
    assert trend.mean is None and trend.weighted is False


def test_multi_choice_shares_are_of_respondents_and_add_up_to_more_than_one(data):
    concerns = _table(analysis.question_tables(data, "public", min_n=1), "top_concerns")
    assert concerns.n == 11  # r12 did not answer
    got = {s.option: (s.count, s.share) for s in concerns.shares}
    assert got == {"fraud": (7, 7 / 11), "info_leak": (4, 4 / 11), "spam": (4, 4 / 11), "harmful": (1, 1 / 11),
                   "rumors": (1, 1 / 11), "violence": (0, 0.0), "malware": (0, 0.0), "minors": (1, 1 / 11)}
    assert sum(s.share for s in concerns.shares) == pytest.approx(18 / 11)


def test_rating_and_matrix_row_distributions_and_means(data):
    tables = analysis.question_tables(data, "public", min_n=1)
    overall = _table(tables, "overall")
    assert [s.count for s in overall.shares] == [1, 2, 3, 4, 2] and overall.n == 12
    assert overall.shares[0].label == "1（非常不安全）" and overall.shares[4].label == "5（非常安全）"
    answers = [p[4] for p in PEOPLE] + [4]
    assert (overall.mean.unweighted.value, overall.mean.unweighted.low, overall.mean.unweighted.high) == \
        pytest.approx(_ci(answers))
    police = _table(tables, "satisfaction.police")
    assert (police.question, police.row, police.type, police.n) == ("satisfaction", "police", "matrix", 11)
    assert police.text == "您对以下方面工作的满意程度：公安机关打击网络犯罪"
    assert police.mean.unweighted.value == pytest.approx(36 / 11)
    assert {t.type for t in tables} == {"single", "multi", "rating", "matrix"}
    assert not any(t.question in ("region", "suggestions", "occupation_other") for t in tables)


def test_question_tables_under_the_minimum_keep_counts_and_withhold_shares(data):
    trend = _table(analysis.question_tables(data, "public", province="北京市", min_n=6), "trend")
    assert trend.suppressed and trend.n == 5
    assert [s.count for s in trend.shares] == [0, 3, 1, 0, 0, 1]
    assert all(s.share is None for s in trend.shares)


def test_invalid_samples_count_only_when_asked(folder, survey):
    with analysis.open_data(folder, survey, include_invalid=True) as d:
        trend = _table(analysis.question_tables(d, "public", min_n=1), "trend")
        assert trend.n == 13 and {s.option: s.count for s in trend.shares}["much_worse"] == 2
        assert analysis.index_table(d, "public", min_n=1).rows[0].n == 13


# ---- cross-tabs ------------------------------------------------------------------------------------------------------

def test_crosstab_counts_shares_and_chi_square_against_the_hand_statistic(data):
    t = analysis.crosstab(data, "public", "gender", "report_channel")
    assert [lv.key for lv in t.rows] == ["male", "female"]
    assert [lv.label for lv in t.cols] == ["知道，并使用过", "知道，但没用过", "不知道"]
    assert t.counts == ((4, 1, 1), (0, 2, 4)) and t.n == 12
    assert t.row_n == (6, 6) and t.col_n == (4, 3, 5)
    assert _flat(t.row_shares) == pytest.approx([4 / 6, 1 / 6, 1 / 6, 0, 2 / 6, 4 / 6])
    assert _flat(t.col_shares) == pytest.approx([1, 1 / 3, 1 / 5, 0, 2 / 3, 4 / 5])
    # expected counts 2, 1.5, 2.5 in both rows
    statistic = (4 - 2) ** 2 / 2 + (1 - 1.5) ** 2 / 1.5 + (1 - 2.5) ** 2 / 2.5 + \
        (0 - 2) ** 2 / 2 + (2 - 1.5) ** 2 / 1.5 + (4 - 2.5) ** 2 / 2.5
    assert statistic == pytest.approx(6.133333333)
    assert t.chi2.statistic == pytest.approx(statistic) and t.chi2.dof == 2
    assert t.chi2.p_value == pytest.approx(math.exp(-statistic / 2))  # the chi-square survival function for 2 df
    assert t.chi2.min_expected == pytest.approx(1.5) and t.chi2.low_expected == 6
    assert any("6 of 6 cells expect fewer than 5" in w for w in t.warnings)
    assert t.weighted is False and t.weighted_counts is None


def test_crosstab_with_a_province_and_with_a_multi_choice_question(data):
    t = analysis.crosstab(data, "public", "gender", "report_channel", province="北京市")
    assert t.counts == ((1, 0, 1), (0, 1, 2)) and t.province == "北京市"
    m = analysis.crosstab(data, "public", "gender", "top_concerns")
    fraud = [lv.key for lv in m.cols].index("fraud")
    assert m.row_n == (6, 5) and m.n == 11  # r12 answered no concern
    assert [r[fraud] for r in m.counts] == [3, 4] and m.col_n[fraud] == 7
    assert m.row_shares[0][fraud] == pytest.approx(3 / 6) and m.col_shares[0][fraud] == pytest.approx(3 / 7)
    assert any("multi-choice" in w for w in m.warnings)


def test_crosstab_of_matrix_rows_and_ratings(data):
    t = analysis.crosstab(data, "public", "satisfaction.police", "overall")
    assert t.n == 11 and sum(t.counts[i][i] for i in range(5)) == 11  # every respondent gave both the same answer
    with pytest.raises(ResultsError, match="satisfaction.police, satisfaction.cac"):
        analysis.crosstab(data, "public", "satisfaction", "overall")
    with pytest.raises(ResultsError, match="no single, multi, rating question or matrix row"):
        analysis.crosstab(data, "public", "suggestions", "overall")


# ---- weighting -------------------------------------------------------------------------------------------------------

MARGINS = "dimension,category,share\nprovince,广东省,0.5\nprovince,北京市,0.5\ngender,male,0.5\ngender,female,0.5\n"
# The raked weights of the four cells, solved by hand: w = a(province) · b(gender) with 6 respondents' worth in each
# margin gives b(male)/b(female) = 3/(2√2), a(广东) = 2(√2 − 1), a(北京) = 2(2 − √2) with b(female) = 1.
RAKED = {("广东省", "male"): 1.5 * (2 - math.sqrt(2)), ("广东省", "female"): 2 * (math.sqrt(2) - 1),
         ("北京市", "male"): 3 * (math.sqrt(2) - 1), ("北京市", "female"): 2 * (2 - math.sqrt(2))}


@pytest.fixture(scope="module")
def weighted(folder, survey, tmp_path_factory):
    margins = tmp_path_factory.mktemp("margins") / "margins.csv"
    margins.write_text(MARGINS, encoding="utf-8")
    with analysis.open_data(folder, survey, weights=margins) as d:
        yield d


def _weight_of(rid: str) -> float:
    person = next((p for p in PEOPLE if p[0] == rid), None)
    province, gender = (person[1], person[2]) if person else ("北京市", "female")
    return RAKED[(province, gender)]


def test_raking_converges_to_the_hand_solved_weights(weighted):
    w = weighted.weighting["public"]
    assert w.applied and w.converged and w.dimensions == ("province", "gender")
    assert 1 < w.iterations < 100 and w.max_error <= w.tolerance
    factors = weighted.weights["public"]
    cells = {(p, g): factors.weight({"province": p, "gender": g}) for p, g in RAKED}
    assert cells == pytest.approx(RAKED)
    assert factors.weight({"province": None, "gender": "male"}) == 1  # no answer to a dimension: weight 1
    assert sum(_weight_of(r) for r in INDEX) == pytest.approx(12)  # weights average 1
    kish = 12 ** 2 / sum(_weight_of(r) ** 2 for r in INDEX)
    assert w.n == 12 and w.n_effective == pytest.approx(kish) and w.design_effect == pytest.approx(12 / kish)


def test_weighted_and_unweighted_figures_side_by_side(weighted):
    table = analysis.index_table(weighted, "public", min_n=1)
    assert table.weighted
    fig = table.rows[0].index
    assert fig.unweighted.value == pytest.approx(520 / 9)
    ws = {r: _weight_of(r) for r in INDEX}
    sw = sum(ws.values())
    mean = sum(ws[r] * INDEX[r] for r in INDEX) / sw
    variance = sum(ws[r] * (INDEX[r] - mean) ** 2 for r in INDEX) / sw
    n_eff = sw ** 2 / sum(w * w for w in ws.values())
    half = Z * math.sqrt(variance / (n_eff - 1))
    assert (fig.weighted.value, fig.weighted.low, fig.weighted.high) == pytest.approx((mean, mean - half, mean + half))
    assert fig.weighted.n == 12 and fig.weighted.n_effective == pytest.approx(n_eff)
    assert fig.headline is fig.weighted
    trend = _table(analysis.question_tables(weighted, "public", min_n=1), "trend")
    better = next(s for s in trend.shares if s.option == "better")
    assert better.share == pytest.approx(5 / 12)
    assert better.weighted_share == pytest.approx(sum(ws[r] for r in ("r02", "r07", "r08", "r11", "r12")) / sw)
    t = analysis.crosstab(weighted, "public", "gender", "report_channel")
    assert t.weighted and t.weighted_counts[0][0] == pytest.approx(sum(ws[r] for r in ("r01", "r03", "r05", "r09")))
    assert "the chi-square test uses the unweighted counts" in t.warnings


def test_rake_reports_no_convergence_when_it_runs_out_of_iterations():
    result = weights.rake([4, 3, 2, 3], {"p": [0, 0, 1, 1], "g": [0, 1, 0, 1]}, {"p": [0.5, 0.5], "g": [0.5, 0.5]},
                          tolerance=1e-12, max_iterations=1)
    assert not result.converged and result.iterations == 1 and result.max_error > 1e-12
    done = weights.rake([4, 3, 2, 3], {"p": [0, 0, 1, 1], "g": [0, 1, 0, 1]}, {"p": [0.5, 0.5], "g": [0.5, 0.5]})
    assert done.converged and list(done.weights) == pytest.approx([RAKED[k] for k in RAKED])
    products = [done.factors["p"][p] * done.factors["g"][g] for p, g in ((0, 0), (0, 1), (1, 0), (1, 1))]
    assert products == pytest.approx(list(done.weights), rel=1e-12)


def test_margins_that_do_not_fit_leave_the_figures_unweighted_and_say_why(folder, survey, tmp_path):
    margins = tmp_path / "m.csv"
    margins.write_text("dimension,category,share\nage,age18_24,0.6\nage,age25_30,0.4\n", encoding="utf-8")
    with analysis.open_data(folder, survey, weights=margins) as d:
        w = d.weighting["public"]
        assert not w.applied and "age31_40, age41_50, which the margins do not list" in w.notes[0]
        assert analysis.index_table(d, "public", min_n=1).weighted is False
    margins.write_text("dimension,category,share\ngender,man,0.5\ngender,female,0.5\n", encoding="utf-8")
    with analysis.open_data(folder, survey, weights=margins) as d:
        assert "man is no category of 'public'" in " ".join(d.weighting["public"].notes)


def test_a_wrong_margins_file_is_refused_with_every_problem_and_its_line(tmp_path):
    margins = tmp_path / "m.csv"
    margins.write_text("dimension,category,share\ngender,male,0.5\ngender,female,51\nage,a,x\ngender,male,0.5\n",
                       encoding="utf-8")
    with pytest.raises(weights.MarginsError) as caught:
        weights.read_margins(margins)
    message = str(caught.value)
    assert "m.csv:3: share 51 must be between 0 and 1" in message
    assert "m.csv:4: share 'x' is not a number" in message
    assert "m.csv:5: gender male is given twice (first on line 2)" in message


def test_margins_for_one_questionnaire_replace_the_shared_ones_dimension_by_dimension(tmp_path):
    margins = tmp_path / "m.csv"
    margins.write_text("questionnaire,dimension,category,share\n,gender,male,0.51\n,gender,female,0.49\n"
                       ",age,age18_24,1\npro,age,under25,0.3\npro,age,over50,0.7\n", encoding="utf-8")
    read = weights.read_margins(margins)
    assert read.for_questionnaire("public") == {"gender": {"male": 0.51, "female": 0.49}, "age": {"age18_24": 1.0}}
    assert read.for_questionnaire("pro")["age"] == {"under25": 0.3, "over50": 0.7}
    assert read.for_questionnaire("pro")["gender"] == {"male": 0.51, "female": 0.49}


def test_crosstab_command_with_weights_says_so(folder, tmp_path, capsys):
    margins = tmp_path / "m.csv"
    margins.write_text(MARGINS, encoding="utf-8")
    args = _parser().parse_args(["crosstab", "gender", "report_channel", "--data", str(folder),
                                 "--weights", str(margins)])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "加权;" in printed and "row share, weighted" in printed
    assert "the chi-square test uses the unweighted counts" in printed


def test_without_margins_every_result_says_unweighted(data):
    assert not data.weighting["public"].applied and data.weighting["public"].notes == ("no margins file",)
    assert all(not t.weighted and (t.mean is None or t.mean.weighted is None)
               for t in analysis.question_tables(data, "public", min_n=1))


# ---- year over year ------------------------------------------------------------------------------------------------

LAST_YEAR = {"format": analysis.SUMMARY_FORMAT, "questionnaires": {"public": {
    "n": 10, "index": {"index": 50.0, "crime": 60.0},
    "groups": {"province": {"广东省": {"index": 70.0}}},
    "questions": {"trend": {"n": 10, "shares": {"better": 0.25}}, "overall": {"n": 10, "mean": 3.0, "shares": {}}}}}}


def test_each_figure_carries_its_change_from_last_years_summary(folder, survey, tmp_path):
    path = tmp_path / "summary-2020.json"
    path.write_text(json.dumps(LAST_YEAR), encoding="utf-8")
    with analysis.open_data(folder, survey, last_year=path) as d:
        table = analysis.index_table(d, "public", "province", min_n=1)
        assert table.figure(None).delta == pytest.approx(520 / 9 - 50)
        assert table.figure(None, "crime").delta == pytest.approx(sum(25 * (p[4] - 1) for p in PEOPLE) / 11 - 60)
        assert table.figure(None, "law").delta is None  # last year has no such figure
        guangdong = [INDEX[p[0]] for p in PEOPLE if p[1] == "广东省"]
        assert table.figure("广东省").delta == pytest.approx(sum(guangdong) / 7 - 70)
        assert table.figure("北京市").delta is None
        tables = analysis.question_tables(d, "public", min_n=1)
        better = next(s for s in _table(tables, "trend").shares if s.option == "better")
        assert better.delta == pytest.approx(5 / 12 - 0.25)
        assert _table(tables, "overall").mean.delta == pytest.approx(40 / 12 - 3)
        assert _table(tables, "gender").shares[0].delta is None


def test_a_summary_round_trips_and_compares_to_no_change(data, tmp_path):
    made = analysis.summary(data, min_n=1)
    path = analysis.save_summary(made, tmp_path / "summary.json")
    loaded = analysis.load_summary(path)
    public = loaded["questionnaires"]["public"]
    assert public["n"] == 12 and public["weighted"] is False
    assert public["index"]["index"] == pytest.approx(520 / 9)
    assert set(public["groups"]) == {"province", "age", "occupation", "education"}
    assert public["groups"]["province"]["广东省"]["index"] == pytest.approx(sum(
        INDEX[p[0]] for p in PEOPLE if p[1] == "广东省") / 7)
    assert public["questions"]["top_concerns"]["shares"]["fraud"] == pytest.approx(7 / 11)
    again = analysis.compare(analysis.index_table(data, "public", "province", min_n=1), loaded)
    assert all(f.delta == pytest.approx(0) for r in again.rows for f in r.figures if f.headline.value is not None)
    # the default minimum leaves suppressed figures out of the summary
    assert analysis.summary(data)["questionnaires"]["public"]["groups"]["province"] == {}
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ResultsError, match="not a summary"):
        analysis.load_summary(tmp_path / "bad.json")


# ---- the reference on many rows -------------------------------------------------------------------------------------

def test_the_sql_index_equals_index_respondent_on_every_row_of_random_answers(survey, tmp_path):
    qn = survey.questionnaires["public"]
    rnd = random.Random(7)
    trend = [o for o, _ in next(q for q in qn.questions if q.id == "trend").options]
    rows = []
    for i in range(400):
        values = {}
        for d in qn.index.domains:
            for item in d.items:
                if rnd.random() < 0.15:
                    values[item.column] = None
                elif item.column == "trend":
                    values[item.column] = rnd.choice(trend)
                else:
                    values[item.column] = rnd.randint(1, 5)
        rows.append(_row(qn, id=f"s{i:04d}", province=rnd.choice(["广东省", "北京市", "四川省"]), **values))
    write_export(rows, qn, tmp_path)
    with analysis.open_data(tmp_path, survey) as d:
        got = {s.id: s for s in analysis.respondent_scores(d, "public")}
    assert len(got) == 400
    for row in rows:
        index, domains = qn.index.respondent(row)
        if index is None:
            assert got[row["id"]].index is None
        else:
            assert got[row["id"]].index == pytest.approx(index, rel=1e-12)
        assert got[row["id"]].domains == pytest.approx(domains, rel=1e-12)


def test_the_pro_questionnaire_groups_by_its_own_demographics(survey, tmp_path):
    qn = survey.questionnaires["pro"]
    rows = [_row(qn, id=f"p{i}", province="上海市", age="age25_30", education="master",
                 job_role=("security", "dev")[i % 2], company_type="internet", overall=4, trend="better",
                 **{f"satisfaction.{r}": 3 for r, _ in next(q for q in qn.questions if q.id == "satisfaction").rows})
            for i in range(4)]
    write_export(rows, qn, tmp_path)
    with analysis.open_data(tmp_path, survey) as d:
        assert d.questionnaires == ("pro",)
        assert analysis.groupings(d, "pro") == ("province", "age", "education", "job_role", "company_type")
        table = analysis.index_table(d, "pro", "job_role", min_n=1)
        assert [r.key for r in table.rows] == [None, "security", "dev"]
        # overall (2·75 + 75)/3 = 75, every other domain 50: 0.25 · 75 + 0.75 · 50
        assert table.rows[0].index.unweighted.value == pytest.approx(56.25)
        with pytest.raises(ResultsError, match="no export of questionnaire 'public'"):
            analysis.question_tables(d, "public")


def test_an_export_of_another_questionnaire_version_is_refused_with_the_fix(survey, tmp_path):
    qn = survey.questionnaires["public"]
    pq.write_table(pa.table({"id": ["a"], "valid": [True]}), tmp_path / "submissions-public.parquet")
    with pytest.raises(ResultsError, match="exported under another version of the questionnaire"):
        analysis.open_data(tmp_path, survey)
    with pytest.raises(ResultsError, match="no submissions-<questionnaire>.parquet"):
        analysis.open_data(tmp_path / "nothing", survey)
    assert qn.id == "public"


# ---- the commands --------------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    analysis.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_crosstab_command_prints_the_table_and_writes_csv(folder, tmp_path, capsys):
    out = tmp_path / "ct.csv"
    args = _parser().parse_args(["crosstab", "gender", "report_channel", "--data", str(folder), "--csv", str(out)])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "您的性别 × 您是否知道违法和不良信息的举报渠道？" in printed
    assert "未加权" in printed and "n = 12 answered both" in printed
    assert "4 (66.7%)" in printed and "chi-square = 6.133, df = 2, p = 0.04658" in printed
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[2][:5] == ["count", "gender \\ report_channel", "知道，并使用过", "知道，但没用过", "不知道"]
    assert rows[3][1:6] == ["男", "4", "1", "1", "6"]


def test_crosstab_command_with_a_province_and_a_mistake(folder, capsys):
    args = _parser().parse_args(["crosstab", "age", "trend", "--province", "北京市", "--data", str(folder)])
    assert args.run(args) == 0
    assert "public, 北京市" in capsys.readouterr().out
    args = _parser().parse_args(["crosstab", "age", "nope", "--data", str(folder)])
    assert args.run(args) == 2
    assert "choose one of" in capsys.readouterr().err


# ---- Athena ----------------------------------------------------------------------------------------------------------

def test_athena_flatten_has_exactly_the_exports_columns(survey):
    for qn in survey.questionnaires.values():
        sql = queries.athena_flatten(qn)
        names = [name for name, _ in queries.athena_columns(qn)]
        assert names == export.columns(qn)
        assert all(expr != "NULL" for _, expr in queries.athena_columns(qn))
        for name in names:
            assert f'AS "{queries.column(name)}"' in sql
        assert all("." not in queries.column(n) for n in names)  # Athena column names take no dot
        assert f"CREATE TABLE submissions_{qn.id}" in sql and f"Item.questionnaire.S = '{qn.id}'" in sql


# The only lines that differ from Trino: four function and type names DuckDB spells otherwise, and CTAS properties.
TRINO_TO_DUCKDB = (("json_extract_scalar(", "json_extract_string("), ("array_join(", "array_to_string("),
                   ("transform(", "list_transform("), ("AS ARRAY(VARCHAR)", "AS VARCHAR[]"),
                   ("WITH (format = 'PARQUET')\n", ""))
DYNAMODB_ITEM = ("STRUCT(pk STRUCT(S VARCHAR), sk STRUCT(S VARCHAR), id STRUCT(S VARCHAR), "
                 "questionnaire STRUCT(S VARCHAR), day STRUCT(S VARCHAR), received STRUCT(S VARCHAR), "
                 "sponsor STRUCT(S VARCHAR), channel STRUCT(S VARCHAR), claimed STRUCT(S VARCHAR), "
                 "province STRUCT(S VARCHAR), valid STRUCT(BOOL BOOLEAN), reasons STRUCT(L STRUCT(S VARCHAR)[]), "
                 "seconds STRUCT(N VARCHAR), answers STRUCT(S VARCHAR))")


def _item(sid: str, answers: dict, **extra: dict) -> dict:
    """A submission as the table's S3 export writes it (DynamoDB JSON), in the shape Store.put_pending stores."""
    item = {"pk": {"S": f"S#{sid}"}, "sk": {"S": "submission"}, "id": {"S": sid}, "questionnaire": {"S": "public"},
            "sponsor": {"S": "zhejiang-cyberspace"}, "channel": {"S": "wechat"}, "province": {"S": "浙江省"},
            "day": {"S": "2020-08-01"}, "received": {"S": "2020-08-01T02:03:04.005Z"}, "valid": {"BOOL": True},
            "digest": {"S": "d"}, "answers": {"S": json.dumps(answers, ensure_ascii=False, sort_keys=True)},
            "shard": {"N": "3"}, "seconds": {"N": "321"}}
    item.update(extra)
    return item


def _plain(item: dict) -> dict:
    out = {}
    for k, v in item.items():
        (t, value), = v.items()
        out[k] = int(value) if t == "N" else [x["S"] for x in value] if t == "L" else value
    return out


def test_athena_flatten_gives_the_exports_rows_from_the_tables_s3_export(survey, tmp_path):
    import duckdb
    from tests.lambdas.answers import valid_answers

    qn = survey.questionnaires["public"]
    full = valid_answers(qn)
    partial = {k: v for k, v in full.items() if k not in ("top_concerns", "satisfaction", "suggestions")}
    partial["trend"] = "unsure"
    items = [_item("a1", full),
             _item("a2", partial, valid={"BOOL": False}, reasons={"L": [{"S": "too_fast"}, {"S": "cap_ip"}]},
                   claimed={"S": "other/qr"})]
    lines = tmp_path / "export.json"
    lines.write_text("".join(json.dumps({"Item": it}, ensure_ascii=False) + "\n"
                             for it in items + [{"pk": {"S": "C#x"}, "sk": {"S": "public#a#b#c"}}]), encoding="utf-8")
    sql = queries.athena_flatten(qn, source="survey_export")
    for trino, duck in TRINO_TO_DUCKDB:
        sql = sql.replace(trino, duck)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE survey_export AS "
                f"SELECT * FROM read_json('{lines}', columns = {{Item: '{DYNAMODB_ITEM}'}})")
    con.execute(sql)
    got = con.execute("SELECT * FROM submissions_public ORDER BY id").to_arrow_table().to_pylist()
    expected = [{queries.column(k): v for k, v in export.flatten(_plain(it), qn).items()} for it in items]
    assert [sorted(r) for r in got] == [sorted(r) for r in expected]
    assert got == expected
    assert expected[1]["top_concerns"] is None and expected[1]["reasons"] == "too_fast;cap_ip"
    assert expected[0]["satisfaction__police"] == full["satisfaction"]["police"]


def test_athena_sql_command_writes_every_file(tmp_path, capsys):
    args = _parser().parse_args(["athena-sql", "--out", str(tmp_path), "--export-location",
                                 "s3://b/AWSDynamoDB/1/data/", "--tables-location", "s3://b/results"])
    assert args.run(args) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["athena_export_table.sql", "athena_flatten_pro.sql", "athena_flatten_public.sql",
                     "athena_scored_pro.sql", "athena_scored_public.sql", "index_pro_by_province.sql",
                     "index_public_by_province.sql", "question_counts_pro.sql", "question_counts_public.sql"]
    assert "LOCATION 's3://b/AWSDynamoDB/1/data/'" in (tmp_path / "athena_export_table.sql").read_text()
    assert "external_location = 's3://b/results/submissions_public/'" in \
        (tmp_path / "athena_flatten_public.sql").read_text()


def test_the_shared_queries_run_unchanged_in_duckdb_and_parse_as_trino(data, survey, tmp_path):
    """Every shared query as it would be sent to Athena runs here on the relation DuckDB makes; and, where the SQL
    parser sqlglot is installed, parses in its Trino dialect."""
    files = analysis.write_athena_sql(tmp_path, survey, "s3://b/x/")
    shared = [p for p in files if not p.name.startswith("athena_")]
    data.scored("public")
    for path in shared:
        if "_pro" in path.name:
            continue
        for statement in path.read_text(encoding="utf-8").split(";\n"):
            if statement.strip():
                data.query(statement)
    sqlglot = pytest.importorskip("sqlglot")
    for path in files:
        for statement in sqlglot.parse(path.read_text(encoding="utf-8"), read="trino"):
            assert statement is not None
    weighted_cte = queries.respondents("public", weights=queries.WeightFactors(("province",), (
        (("广东省", 1.5), ("北京市", 0.75)),)))
    sqlglot.parse_one(queries.crosstab(weighted_cte, "gender", "satisfaction.police"), read="trino")


def test_stats_estimate_suppresses_and_handles_too_few(data):
    assert stats.estimate(3, 3, 6, 14, 3, min_n=5) == stats.Estimate(None, None, None, 3, 3.0, True)
    assert stats.estimate(0, 0, 0, 0, 0) == stats.Estimate(None, None, None, 0, 0.0, False)
    one = stats.estimate(1, 1, 4, 16, 1)
    assert one.value == 4 and one.low is None
    assert stats.chi_square([[3, 0], [0, 0]]).statistic is None
