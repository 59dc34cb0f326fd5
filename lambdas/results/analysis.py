"""Analysis of the export: per-question tables, the satisfaction index with confidence intervals, cross-tabs with a
chi-square test, raked weights and year-over-year changes — DuckDB over the export's Parquet, valid samples only
unless asked otherwise.

The API, all plain values (frozen dataclasses of numbers and strings):

  open_data(parquet_dir, survey=None, include_invalid=False, weights=None, last_year=None, *,
            memory_limit="3GB", threads=2, materialize=False) -> Data
      Data.questionnaires (ids found: questionnaires, then topics' forms), .bases (the questionnaires found: what
      national and provincial figures read; with topics, the core of every respondent), .weighting[qid] (Weighting: applied, converged, design effect, notes),
      .weights[qid] (the raked factors), .last_year, .con (the DuckDB connection), .respondents(qid, ...) (the
      CTE every query starts from), .scored(qid) (the relation with each respondent's scores), .query(sql)
  question_tables(data, qid, *, province=None, sponsor=None, min_n=30, questions=None) -> list[QuestionTable]
  index_table(data, qid, by=None, *, province=None, sponsor=None, min_n=30) -> IndexTable
  groupings(data, qid) -> tuple[str, ...]          the `by` values a report shows (province, age, education, …)
  crosstab(data, qid, q1, q2, *, province=None, sponsor=None) -> Crosstab
  respondent_scores(data, qid, limit=None) -> list[RespondentScore]
  summary(data, min_n=30) -> dict                  JSON-able; last year's is what `last_year` reads
  compare(result, last_year) -> result             the same tables with each figure's change vs last year
  save_summary(summary, path) / load_summary(path)
  add_parser(sub)                                  the `crosstab` and `athena-sql` commands

Every figure carries its sample size; a figure resting on fewer than `min_n` respondents is suppressed (its value
None, `suppressed` True, its n still given). Without a margins file every result says it is unweighted
(`weighted` False, `Figure.weighted` None); with one, both the unweighted and the weighted figures are given.
The queries are the files in sql/, shared with Athena (see queries.py).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from lambdas.survey import questionnaire as questionnaires
from lambdas.survey.questionnaire import Question, Questionnaire, Survey
from lambdas.survey.regions import PROVINCES

from . import queries
from .queries import ANALYSED, WeightFactors
from .stats import ChiSquare, Estimate, chi_square, estimate
from .weights import MAX_ITERATIONS, TOLERANCE, Margins, MarginsError, Weighting, rake, read_margins

MIN_N = 30  # figures resting on fewer respondents are suppressed
SUMMARY_FORMAT = "netizen-survey-summary/1"
GROUP_META = {"province": "省份", "sponsor": "单位", "channel": "渠道", "day": "日期"}
# The demographic groupings a report shows besides the province, per questionnaire (the other questionnaires get
# their first section's single-choice questions).
DEMOGRAPHICS = {"public": ("age", "occupation", "education"), "pro": ("age", "education", "job_role", "company_type")}
UNANSWERED = "（未作答）"


class ResultsError(Exception):
    """The data or a request cannot be analysed as asked; the message says what to do."""


# ---- the results ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One figure, unweighted always and weighted when the data were raked; `delta` is its change against last
    year's summary (this year's headline value minus last year's), when last year has the same figure."""
    unweighted: Estimate
    weighted: Estimate | None = None
    delta: float | None = None

    @property
    def headline(self) -> Estimate:
        """The figure to publish: the weighted one when there is one."""
        return self.weighted or self.unweighted


@dataclass(frozen=True)
class Share:
    """One answer of a question: the respondents who gave it and their share of those who answered the question.
    For a multi-choice question a respondent may count under several options, so the shares add up to more than 1."""
    option: str  # the option id; for rating questions and matrix rows "1" … "5"
    label: str
    count: int
    share: float | None  # count / the table's n; None when the table is suppressed
    weighted_share: float | None = None  # None when unweighted or suppressed
    delta: float | None = None  # change of the headline share vs last year


@dataclass(frozen=True)
class QuestionTable:
    """The answers to one question (or one row of a matrix question), every option in questionnaire order."""
    questionnaire: str
    question: str  # the question id
    row: str  # the matrix row id; "" for other questions
    column: str  # the export column: question, or question.row
    type: str  # single, multi, rating or matrix
    text: str  # the question's text; for a matrix row, "question text：row label"
    n: int  # respondents who answered: the base of every share
    shares: tuple[Share, ...]
    mean: Figure | None  # rating and matrix rows: the mean answer (1–5) with its 95 % CI
    weighted: bool
    suppressed: bool  # n < min_n: shares and mean withheld, counts kept

    @property
    def key(self) -> str:
        return self.column


@dataclass(frozen=True)
class Measure:
    id: str  # "index" or a domain id
    title: str
    weight: float  # the domain's weight in the index; 1 for the index


@dataclass(frozen=True)
class IndexRow:
    """The index and its domains for one group; `figures` line up with IndexTable.measures (the index first)."""
    key: str | None  # None for everyone; a province, option id, sponsor slug or day; "" for no answer
    label: str
    n: int  # respondents in the group with an index
    figures: tuple[Figure, ...]

    @property
    def index(self) -> Figure:
        return self.figures[0]

    @property
    def suppressed(self) -> bool:
        return self.figures[0].unweighted.suppressed


@dataclass(frozen=True)
class IndexTable:
    """The satisfaction index (0–100) and its domains, for everyone (the first row) and per group of `by`."""
    questionnaire: str
    title: str  # the index's title
    by: str | None  # None, "province", "sponsor", "channel", "day" or a question id
    by_label: str
    measures: tuple[Measure, ...]
    rows: tuple[IndexRow, ...]
    min_n: int
    weighted: bool

    def figure(self, key: str | None, measure: str = "index") -> Figure | None:
        at = [m.id for m in self.measures].index(measure)
        return next((r.figures[at] for r in self.rows if r.key == key), None)


@dataclass(frozen=True)
class Level:
    key: str  # option id, or "1" … "5"
    label: str


@dataclass(frozen=True)
class Crosstab:
    """Two questions crossed among the respondents who answered both.

    counts[i][j]: respondents with row answer i and column answer j. row_n[i]: respondents with row answer i (the
    base of row shares); col_n[j] likewise. With a multi-choice question a respondent counts once per option chosen,
    so counts may add up to more than n. The chi-square test uses the unweighted counts.
    """
    questionnaire: str
    row_var: str  # export column
    col_var: str
    row_text: str
    col_text: str
    province: str | None
    rows: tuple[Level, ...]
    cols: tuple[Level, ...]
    counts: tuple[tuple[int, ...], ...]
    row_n: tuple[int, ...]
    col_n: tuple[int, ...]
    n: int
    row_shares: tuple[tuple[float | None, ...], ...]  # counts[i][j] / row_n[i]
    col_shares: tuple[tuple[float | None, ...], ...]  # counts[i][j] / col_n[j]
    weighted: bool
    weighted_counts: tuple[tuple[float, ...], ...] | None
    weighted_row_shares: tuple[tuple[float | None, ...], ...] | None
    weighted_col_shares: tuple[tuple[float | None, ...], ...] | None
    chi2: ChiSquare
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class RespondentScore:
    id: str
    index: float | None
    domains: dict[str, float]  # domain id -> score, for the domains the respondent has


# ---- opening the export --------------------------------------------------------------------------------------------

class Data:
    """The export opened for analysis: a DuckDB connection with the relation submissions_<questionnaire> for each
    questionnaire found, the questionnaires, the weights (when raked) and last year's summary (when given)."""

    def __init__(self, con: Any, survey: Survey, parquet_dir: Path, include_invalid: bool,
                 questionnaires: tuple[str, ...]) -> None:
        self.con = con
        self.survey = survey
        self.parquet_dir = parquet_dir
        self.include_invalid = include_invalid
        self.questionnaires = questionnaires
        self.weighting: dict[str, Weighting] = {q: Weighting(q, False, notes=("no margins file",))
                                                for q in questionnaires}
        self.weights: dict[str, WeightFactors] = {}  # the raked weights of the questionnaires weighted
        self.last_year: dict | None = None
        self._scored: set[str] = set()

    @property
    def bases(self) -> tuple[str, ...]:
        """The questionnaires found, without topics' forms: every respondent once (a topic's respondents are in
        their questionnaire's core file too)."""
        return tuple(q for q in self.questionnaires if q in self.survey.questionnaires)

    def questionnaire(self, qid: str) -> Questionnaire:
        """A questionnaire found (with topics: its core) or a topic's form found ("public.ai")."""
        if qid not in self.questionnaires:
            raise ResultsError(f"no export of questionnaire '{qid}' in {self.parquet_dir} "
                               f"(found: {', '.join(self.questionnaires) or 'none'})")
        return self.survey.find(qid)

    def weighted(self, qid: str) -> bool:
        return self.weighting[qid].applied

    def respondents(self, qid: str, where: Mapping[str, str | None] | None = None, weighted: bool = True,
                    scored: bool = False) -> str:
        """The respondents CTE of a query: valid (unless include_invalid), filtered, weighted when raked; with
        `scored`, over scored_<qid> (the export's columns and each respondent's index and domain scores)."""
        keep = {k: v for k, v in (where or {}).items() if v is not None}
        if scored:
            self.scored(qid)
        return queries.respondents(qid, include_invalid=self.include_invalid, where=keep,
                                   weight_column=weighted and qid in self.weights, scored=scored)

    def scored(self, qid: str) -> str:
        """The relation scored_<qid>, made on first use: every respondent's scores are computed once."""
        name = queries.scored_relation(qid)
        if qid not in self._scored:
            index = self.questionnaire(qid).index
            if index is None:
                raise ResultsError(f"questionnaire '{qid}' defines no index (add `index` to it in the questionnaire "
                                   "file)")
            for statement in queries.duckdb_scored(qid, index):
                self.con.execute(statement)
            self._scored.add(qid)
        return name

    def query(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Data:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_data(parquet_dir: Path, survey: Survey | None = None, include_invalid: bool = False,
              weights: Path | None = None, last_year: Path | None = None, *, memory_limit: str = "3GB",
              threads: int = 2, materialize: bool = False, tolerance: float = TOLERANCE,
              max_iterations: int = MAX_ITERATIONS) -> Data:
    """Open the export's submissions-<questionnaire>.parquet files in `parquet_dir`, and those of topics' forms
    (submissions-<questionnaire>.<topic>.parquet): each is a relation of its own.

    weights: a margins file (weights.py) to rake to; last_year: last year's summary (summary()), so every figure
    carries its change. materialize: load the Parquet into DuckDB's memory rather than reading it per query.
    """
    import duckdb

    survey = survey or questionnaires.load()
    parquet_dir = Path(parquet_dir)
    ids = [*survey.questionnaires, *(f for f in survey.forms if f not in survey.questionnaires)]
    found = tuple(q for q in ids if (parquet_dir / f"submissions-{q}.parquet").is_file())
    if not found:
        raise ResultsError(f"{parquet_dir}: no submissions-<questionnaire>.parquet; "
                           "write them with: python -m lambdas.admin export --out DIR --format parquet")
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    data = Data(con, survey, parquet_dir, include_invalid, found)
    try:
        _prepare(data, materialize, weights, tolerance, max_iterations)
    except BaseException:
        con.close()
        raise
    if last_year is not None:
        data.last_year = load_summary(Path(last_year))
    return data


def _prepare(data: Data, materialize: bool, weights: Path | None, tolerance: float, max_iterations: int) -> None:
    """The relations of each questionnaire found, and the weights when there are margins."""
    con, survey, parquet_dir, found = data.con, data.survey, data.parquet_dir, data.questionnaires
    for qid in found:
        path = parquet_dir / f"submissions-{qid}.parquet"
        _check_columns(path, survey.find(qid))
        con.execute(queries.duckdb_relation(survey.find(qid), path, table=materialize))
    if weights is not None:
        margins = read_margins(Path(weights))
        for qid in found:
            data.weighting[qid], factors = _weigh(data, qid, margins, tolerance, max_iterations)
            if factors is not None:
                # each respondent's weight once, then carried by the relation as "_weight"
                data.weights[qid] = factors
                con.execute(queries.duckdb_weights(qid, factors))
                path = parquet_dir / f"submissions-{qid}.parquet"
                con.execute(queries.duckdb_relation(survey.find(qid), path, table=materialize,
                                                    weights=queries.weights_relation(qid)))


def _check_columns(path: Path, qn: Questionnaire) -> None:
    import pyarrow.parquet as pq

    have = set(pq.read_schema(path).names)
    missing = [c for c in queries.field_columns(qn) if c not in have]
    if missing:
        raise ResultsError(f"{path}: no column {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}: it was "
                           "exported under another version of the questionnaire. Export again with this one, or "
                           "analyse it with the questionnaire file it was collected with")


def _weigh(data: Data, qid: str, margins: Margins, tolerance: float,
           max_iterations: int) -> tuple[Weighting, WeightFactors | None]:
    """Rake one questionnaire's respondents to the margins, or say why its figures stay unweighted."""
    qn = data.questionnaire(qid)
    targets = margins.for_questionnaire(qid)
    questions = {q.id: q for q in qn.questions}
    notes: list[str] = []
    for dim, cats in targets.items():
        if dim == "province":
            allowed = set(PROVINCES)
        elif dim in questions and questions[dim].type == "single":
            allowed = {o for o, _ in questions[dim].options}
        else:
            notes.append(f"{dim}: neither province nor a single-choice question of '{qid}'")
            continue
        unknown = sorted(set(cats) - allowed)
        if unknown:
            notes.append(f"{dim}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} no category of "
                         f"'{qid}' (expected {', '.join(sorted(allowed))})")
    if not targets or notes:
        return Weighting(qid, False, tuple(targets), notes=tuple(["margins do not fit; unweighted"] + notes)), None
    dims = tuple(targets)
    cells = data.query(queries.weight_cells(data.respondents(qid, weighted=False), dims))
    unset = sum(r[-1] for r in cells if any(v is None for v in r[:-1]))
    cells = [r for r in cells if all(v is not None for v in r[:-1])]
    if unset:
        notes.append(f"{unset} respondent(s) without an answer to {' or '.join(dims)} keep weight 1")
    codes: dict[str, list[int]] = {}
    shares: dict[str, list[float]] = {}
    orders: dict[str, list[str]] = {}
    for i, dim in enumerate(dims):
        present = {r[i] for r in cells}
        unlisted = sorted(present - set(targets[dim]))
        if unlisted:
            return Weighting(qid, False, dims, notes=(
                f"margins do not fit; unweighted: respondents answered {dim} {', '.join(unlisted)}, which the "
                "margins do not list; give each its share",)), None
        empty = sorted(c for c, s in targets[dim].items() if c not in present and s > 0)
        if empty:
            notes.append(f"{dim}: no respondents in {', '.join(empty)}; the other shares are scaled to add up to 1")
        order = orders[dim] = [c for c in targets[dim] if c in present]
        total = sum(targets[dim][c] for c in order)
        shares[dim] = [targets[dim][c] / total for c in order]
        codes[dim] = [order.index(r[i]) for r in cells]
    counts = [r[-1] for r in cells]
    result = rake(counts, codes, shares, tolerance, max_iterations)
    if not result.converged:
        notes.append(f"raking did not converge in {max_iterations} iterations (largest margin error "
                     f"{result.max_error:.2g}); figures use the last weights")
    n = sum(counts)
    sw = float(sum(c * w for c, w in zip(counts, result.weights)))
    sww = float(sum(c * w * w for c, w in zip(counts, result.weights)))
    n_eff = sw * sw / sww if sww else 0.0
    weighting = Weighting(qid, True, dims, result.converged, result.iterations, result.max_error, tolerance, n,
                          n_eff, n / n_eff if n_eff else 1.0, float(result.weights.min()),
                          float(result.weights.max()), tuple(notes))
    factors = tuple(tuple((c, float(f)) for c, f in zip(orders[d], result.factors[d])) for d in dims)
    return weighting, WeightFactors(dims, factors)


# ---- per-question tables --------------------------------------------------------------------------------------------

def question_tables(data: Data, qid: str, *, province: str | None = None, sponsor: str | None = None,
                    min_n: int = MIN_N, questions: Sequence[str] | None = None) -> list[QuestionTable]:
    """One table per single, multi and rating question and per matrix row, in questionnaire order."""
    qn = data.questionnaire(qid)
    cte = data.respondents(qid, {"province": province, "sponsor": sponsor})
    weighted = data.weighted(qid)
    out = []
    for q in qn.questions:
        if q.type not in ANALYSED or (questions is not None and q.id not in questions):
            continue
        for name, row, label in _columns_of(q):
            counted = data.query(queries.question_counts(cte, name))
            out.append(_question_table(qid, q, name, row, label, counted, weighted, min_n))
    return compare(out, data.last_year) if data.last_year else out


def _columns_of(q: Question) -> list[tuple[str, str, str]]:
    if q.type == "matrix":
        return [(f"{q.id}.{r}", r, label) for r, label in q.rows]
    return [(q.id, "", "")]


def _levels(q: Question) -> list[Level]:
    if q.type in ("single", "multi"):
        return [Level(o, label) for o, label in q.options]
    ends = {1: f"1（{q.low}）", 5: f"5（{q.high}）"}
    return [Level(str(v), ends.get(v, str(v))) for v in range(1, 6)]


def _answers(q: Question, stored: object) -> list[str]:
    return str(stored).split(";") if q.type == "multi" else [str(stored)]


def _question_table(qid: str, q: Question, name: str, row: str, row_label: str, counted: list[tuple],
                    weighted: bool, min_n: int) -> QuestionTable:
    levels = _levels(q)
    n_of: dict[str, int] = {lv.key: 0 for lv in levels}
    w_of: dict[str, float] = {lv.key: 0.0 for lv in levels}
    n = sw = sww = 0
    for answer, count, w, ww in counted:
        n, sw, sww = n + count, sw + w, sww + ww
        for key in _answers(q, answer):
            if key not in n_of:  # an option no longer in the questionnaire: shown, not dropped
                levels.append(Level(key, key))
                n_of[key], w_of[key] = 0, 0.0
            n_of[key] += count
            w_of[key] += w
    suppressed = n < min_n
    shares = tuple(Share(lv.key, lv.label, n_of[lv.key],
                         None if suppressed or not n else n_of[lv.key] / n,
                         None if suppressed or not weighted or not sw else w_of[lv.key] / sw) for lv in levels)
    mean = None
    if q.type in ("rating", "matrix"):
        values = [(int(k), n_of[k], w_of[k]) for k in n_of if k.isdigit()]
        plain = estimate(n, n, sum(v * c for v, c, _ in values), sum(v * v * c for v, c, _ in values), n, min_n)
        weighed = (estimate(n, sw, sum(v * w for v, _, w in values), sum(v * v * w for v, _, w in values), sww, min_n)
                   if weighted else None)
        mean = Figure(plain, weighed)
    text = f"{q.text}：{row_label}" if row else q.text
    return QuestionTable(qid, q.id, row, name, q.type, text, n, shares, mean, weighted, suppressed)


# ---- the index -------------------------------------------------------------------------------------------------------

def groupings(data: Data, qid: str) -> tuple[str, ...]:
    """The groupings a report shows the index by: the province, then the questionnaire's demographics."""
    qn = data.questionnaire(qid)
    singles = [q.id for q in qn.questions if q.type == "single"]
    demographics = DEMOGRAPHICS.get(qn.base_id) or tuple(q.id for q in qn.sections[0].questions if q.type == "single")
    return ("province",) + tuple(d for d in demographics if d in singles)


def index_table(data: Data, qid: str, by: str | None = None, *, province: str | None = None,
                sponsor: str | None = None, min_n: int = MIN_N) -> IndexTable:
    """The index and its domains for everyone (first row) and per group of `by`: "province", "sponsor", "channel",
    "day", or a single-choice or rating question (e.g. age, occupation, education)."""
    qn = data.questionnaire(qid)
    group, by_label, levels = _grouping(qn, by)
    weighted = data.weighted(qid)
    cte = data.respondents(qid, {"province": province, "sponsor": sponsor}, scored=True)
    assert qn.index is not None  # scored_<qid> exists
    result = data.query(queries.index_table(cte, qn.index, group, weighted))
    measures = (Measure("index", qn.index.title, 1.0),) + tuple(Measure(d.id, d.title, d.weight)
                                                                 for d in qn.index.domains)
    width = len(queries.WEIGHTED_SUMS if weighted else queries.PLAIN_SUMS)
    groups = [(None if by is None else "" if key is None else str(key), [v or 0 for v in sums])
              for key, *sums in result]
    everyone = [sum(g[1][k] for g in groups) for k in range(len(measures) * width)]
    rows: list[IndexRow] = []
    for key, sums in [(None, everyone)] + (groups if by is not None else []):
        figures = []
        for m in range(len(measures)):
            n, sx, sxx, *w = sums[m * width:(m + 1) * width]
            plain = estimate(n, n, sx, sxx, n, min_n)
            figures.append(Figure(plain, estimate(n, *w, min_n=min_n) if weighted else None))
        label = "全部" if key is None else UNANSWERED if key == "" else levels.get(key, key)
        rows.append(IndexRow(key, label, figures[0].unweighted.n, tuple(figures)))
    order = {k: i for i, k in enumerate(levels)}
    rows.sort(key=lambda r: (r.key is not None, r.key == "", order.get(r.key or "", len(order)), r.key or ""))
    table = IndexTable(qid, qn.index.title, by, by_label, measures, tuple(rows), min_n, weighted)
    return compare(table, data.last_year) if data.last_year else table


def _grouping(qn: Questionnaire, by: str | None) -> tuple[str | None, str, dict[str, str]]:
    """(SQL expression, label, {key: label} in display order) for a grouping; no expression for everyone."""
    if by is None:
        return None, "", {}
    if by in GROUP_META:
        levels = {p: p for p in PROVINCES} if by == "province" else {}
        return f"CAST({queries.ident(by)} AS VARCHAR)", GROUP_META[by], levels
    q = next((q for q in qn.questions if q.id == by), None)
    if q is None or q.type not in ("single", "rating"):
        choices = list(GROUP_META) + [q.id for q in qn.questions if q.type in ("single", "rating")]
        raise ResultsError(f"cannot group '{qn.id}' by '{by}'; choose one of: {', '.join(choices)}")
    return (f"CAST({queries.ident(queries.column(q.id))} AS VARCHAR)", q.text,
            {lv.key: lv.label for lv in _levels(q)})


def respondent_scores(data: Data, qid: str, limit: int | None = None) -> list[RespondentScore]:
    """Each respondent's index and domain scores, by submission id (the first `limit` ids)."""
    qn = data.questionnaire(qid)
    cte = data.respondents(qid, weighted=False, scored=True)
    assert qn.index is not None  # scored_<qid> exists
    ids = [d.id for d in qn.index.domains]
    rows = data.query(queries.respondent_scores(cte, qn.index, limit))
    return [RespondentScore(r[0], r[1], {d: s for d, s in zip(ids, r[2:]) if s is not None}) for r in rows]


# ---- cross-tabs ------------------------------------------------------------------------------------------------------

def crosstab(data: Data, qid: str, q1: str, q2: str, *, province: str | None = None,
             sponsor: str | None = None) -> Crosstab:
    """q1 (rows) against q2 (columns): single, multi or rating questions, or matrix rows as question.row."""
    qn = data.questionnaire(qid)
    (name1, q_a, text1), (name2, q_b, text2) = _variable(qn, q1), _variable(qn, q2)
    weighted = data.weighted(qid)
    cte = data.respondents(qid, {"province": province, "sponsor": sponsor})
    result = data.query(queries.crosstab(cte, name1, name2))
    rows, cols = _levels(q_a), _levels(q_b)
    at_r = {lv.key: i for i, lv in enumerate(rows)}
    at_c = {lv.key: j for j, lv in enumerate(cols)}
    pairs: list[tuple[list[int], list[int], int, float]] = []
    for a, b, count, w in result:
        ii = [_at(at_r, rows, k) for k in _answers(q_a, a)]
        jj = [_at(at_c, cols, k) for k in _answers(q_b, b)]
        pairs.append((ii, jj, count, w))
    counts = [[0] * len(cols) for _ in rows]
    wcounts = [[0.0] * len(cols) for _ in rows]
    row_n, col_n = [0] * len(rows), [0] * len(cols)
    row_w, col_w = [0.0] * len(rows), [0.0] * len(cols)
    for ii, jj, count, w in pairs:
        for i in ii:
            row_n[i] += count
            row_w[i] += w
            for j in jj:
                counts[i][j] += count
                wcounts[i][j] += w
        for j in jj:
            col_n[j] += count
            col_w[j] += w
    test = chi_square(counts)
    warnings = []
    if test.low_expected:
        warnings.append(f"{test.low_expected} of {test.cells} cells expect fewer than 5 respondents (smallest "
                        f"{test.min_expected:.2f}): the chi-square test is unreliable; merge answers or widen "
                        "the group")
    if "multi" in (q_a.type, q_b.type):
        warnings.append("a multi-choice question: a respondent who chose several options counts in several cells, "
                        "which the chi-square test does not allow for; read it as indicative")
    if test.statistic is None:
        warnings.append("fewer than two answered rows or columns: no chi-square test")
    if weighted:
        warnings.append("the chi-square test uses the unweighted counts")
    return Crosstab(
        qid, name1, name2, text1, text2, province, tuple(rows), tuple(cols), _tuples(counts), tuple(row_n),
        tuple(col_n), sum(p[2] for p in pairs),
        _tuples([[_ratio(counts[i][j], row_n[i]) for j in range(len(cols))] for i in range(len(rows))]),
        _tuples([[_ratio(counts[i][j], col_n[j]) for j in range(len(cols))] for i in range(len(rows))]),
        weighted, _tuples(wcounts) if weighted else None,
        _tuples([[_ratio(wcounts[i][j], row_w[i]) for j in range(len(cols))] for i in range(len(rows))])
        if weighted else None,
        _tuples([[_ratio(wcounts[i][j], col_w[j]) for j in range(len(cols))] for i in range(len(rows))])
        if weighted else None,
        test, tuple(warnings))


def _variable(qn: Questionnaire, name: str) -> tuple[str, Question, str]:
    qid, _, row = name.partition(".")
    q = next((q for q in qn.questions if q.id == qid), None)
    if q is None or q.type not in ANALYSED:
        choices = [c for q in qn.questions if q.type in ANALYSED for c, _, _ in _columns_of(q)]
        raise ResultsError(f"'{name}' is no single, multi, rating question or matrix row of '{qn.id}'; "
                           f"choose one of: {', '.join(choices)}")
    if q.type == "matrix":
        rows = dict(q.rows)
        if row not in rows:
            raise ResultsError(f"'{qid}' is a matrix question; name one of its rows: "
                               f"{', '.join(f'{qid}.{r}' for r in rows)}")
        return name, q, f"{q.text}：{rows[row]}"
    if row:
        raise ResultsError(f"'{qid}' is a {q.type} question and has no rows; write '{qid}'")
    return name, q, q.text


def _at(at: dict[str, int], levels: list[Level], key: str) -> int:
    if key not in at:  # an answer no longer in the questionnaire: its own level
        at[key] = len(levels)
        levels.append(Level(key, key))
    return at[key]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _tuples(rows: list[list[Any]]) -> tuple[tuple[Any, ...], ...]:
    width = max((len(r) for r in rows), default=0)
    return tuple(tuple(r + [0] * (width - len(r))) for r in rows)


# ---- summary and year over year ------------------------------------------------------------------------------------

def summary(data: Data, min_n: int = MIN_N) -> dict:
    """The figures next year compares with, as JSON-able data (the format, with SUMMARY_FORMAT):

    {"format": ..., "created": ISO time, "include_invalid": false,
     "questionnaires": {"public": {
        "weighted": false, "n": respondents,
        "index": {"index": 73.4, "<domain id>": 70.1, ...},
        "groups": {"province": {"广东省": {"index": 72.0, "<domain id>": ...}}, "age": {...}, ...},
        "questions": {"<column>": {"n": 1200, "shares": {"<option>": 0.31, ...}, "mean": 3.8 or null}}}}}

    Values are the headline figures (weighted when raked); suppressed figures are left out.
    """
    out: dict[str, Any] = {"format": SUMMARY_FORMAT,
                           "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "include_invalid": data.include_invalid, "questionnaires": {}}
    for qid in data.questionnaires:
        qn = data.questionnaire(qid)
        (n,), = data.query(queries.render("respondent_count", respondents=data.respondents(qid, weighted=False)))
        entry: dict[str, Any] = {"weighted": data.weighted(qid), "n": n}
        if qn.index is not None:
            entry["index"] = _measures(index_table(data, qid, min_n=min_n), None)
            entry["groups"] = {}
            for by in groupings(data, qid):
                table = index_table(data, qid, by, min_n=min_n)
                entry["groups"][by] = {r.key: _measures(table, r.key) for r in table.rows
                                       if r.key is not None and not r.suppressed}
        entry["questions"] = {}
        for t in question_tables(data, qid, min_n=min_n):
            if t.suppressed:
                continue
            mean = t.mean.headline.value if t.mean else None
            entry["questions"][t.column] = {"n": t.n, "mean": mean, "shares": {
                s.option: s.weighted_share if t.weighted else s.share for s in t.shares}}
        out["questionnaires"][qid] = entry
    return out


def _measures(table: IndexTable, key: str | None) -> dict[str, float]:
    row = next(r for r in table.rows if r.key == key)
    return {m.id: f.headline.value for m, f in zip(table.measures, row.figures) if f.headline.value is not None}


def save_summary(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_summary(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read last year's summary: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != SUMMARY_FORMAT:
        raise ResultsError(f"{path}: not a summary of format {SUMMARY_FORMAT} (write one with summary())")
    return data


R = TypeVar("R")


def compare(result: R, last_year: dict | None) -> R:
    """The same result with each figure's change against last year's summary, where last year has that figure:
    a QuestionTable, an IndexTable, or a list of them."""
    if not last_year:
        return result
    if isinstance(result, (list, tuple)):
        return type(result)(compare(r, last_year) for r in result)  # type: ignore[return-value]
    before = last_year.get("questionnaires", {}).get(getattr(result, "questionnaire", ""), {})
    if isinstance(result, QuestionTable):
        return _compare_question(result, before.get("questions", {}).get(result.column))  # type: ignore[return-value]
    if isinstance(result, IndexTable):
        return _compare_index(result, before)  # type: ignore[return-value]
    raise TypeError(f"compare: a QuestionTable, an IndexTable or a list of them, not {type(result).__name__}")


def _delta(now: float | None, then: object) -> float | None:
    return now - then if now is not None and isinstance(then, (int, float)) else None


def _compare_question(t: QuestionTable, before: dict | None) -> QuestionTable:
    if not before:
        return t
    then = before.get("shares", {})
    shares = tuple(dataclasses.replace(s, delta=_delta(s.weighted_share if t.weighted else s.share, then.get(s.option)))
                   for s in t.shares)
    mean = dataclasses.replace(t.mean, delta=_delta(t.mean.headline.value, before.get("mean"))) if t.mean else None
    return dataclasses.replace(t, shares=shares, mean=mean)


def _compare_index(t: IndexTable, before: dict) -> IndexTable:
    rows = []
    for r in t.rows:
        then = before.get("index", {}) if r.key is None else before.get("groups", {}).get(t.by or "", {}).get(r.key, {})
        figures = tuple(dataclasses.replace(f, delta=_delta(f.headline.value, then.get(m.id)))
                        for m, f in zip(t.measures, r.figures))
        rows.append(dataclasses.replace(r, figures=figures))
    return dataclasses.replace(t, rows=tuple(rows))


# ---- the commands ----------------------------------------------------------------------------------------------------

def add_parser(sub: Any) -> None:
    """Register `crosstab` and `athena-sql` on the admin command's subparsers."""
    ct = sub.add_parser("crosstab", help="cross-tabulate two questions of the export, with a chi-square test",
                        description="Q1 and Q2 are question ids (single, multi, rating) or matrix rows as "
                                    "question.row, e.g. age satisfaction.police")
    ct.add_argument("q1", help="the rows' question")
    ct.add_argument("q2", help="the columns' question")
    ct.add_argument("--questionnaire", default="public")
    ct.add_argument("--province", help="only respondents of this province (full name, e.g. 广东省)")
    ct.add_argument("--data", type=Path, required=True,
                    help="the export's folder (submissions-<questionnaire>.parquet)")
    ct.add_argument("--weights", type=Path, help="a margins CSV (dimension,category,share) to rake weights to")
    ct.add_argument("--include-invalid", action="store_true", help="count invalid samples too")
    ct.add_argument("--csv", type=Path, help="also write the table as CSV (UTF-8 with BOM)")
    ct.set_defaults(run=run_crosstab)
    at = sub.add_parser("athena-sql",
                        help="write the SQL that runs the same analysis in Athena over the table's S3 export")
    at.add_argument("--out", type=Path, required=True)
    at.add_argument("--export-location", default="s3://BUCKET/AWSDynamoDB/EXPORT_ID/data/",
                    help="where the table's export to S3 put its data files")
    at.add_argument("--tables-location", help="an S3 prefix for the flattened tables (default: Athena's)")
    at.add_argument("--source", default="survey_export", help="the name of the export's Athena table")
    at.set_defaults(run=run_athena_sql)


def _survey(args: argparse.Namespace) -> Survey:
    site = getattr(args, "site", None)
    if site is not None and (Path(site) / "questionnaires.json").is_file():
        return questionnaires.load(Path(site) / "questionnaires.json")
    return questionnaires.load()


def run_crosstab(args: argparse.Namespace) -> int:
    try:
        with open_data(args.data, _survey(args), include_invalid=args.include_invalid, weights=args.weights) as data:
            table = crosstab(data, args.questionnaire, args.q1, args.q2, province=args.province)
            print(format_crosstab(table, data.weighting[args.questionnaire], data.include_invalid))
    except (ResultsError, MarginsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.csv:
        write_crosstab_csv(table, args.csv)
        print(f"wrote {args.csv}")
    return 0


def run_athena_sql(args: argparse.Namespace) -> int:
    for path in write_athena_sql(args.out, _survey(args), args.export_location, args.tables_location, args.source):
        print(path)
    return 0


def write_athena_sql(out: Path, survey: Survey, export_location: str, tables_location: str | None = None,
                     source: str = "survey_export") -> list[Path]:
    """The SQL files for Athena: the export's table, per questionnaire the CTAS that flattens it and the one that
    scores it, and the shared queries (each questionnaire's index by province and its per-question counts) as they
    run there."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"athena_export_table.sql": queries.athena_export_table(source, export_location)}
    for qid, qn in {**survey.questionnaires, **survey.forms}.items():
        location = f"{tables_location.rstrip('/')}/{queries.relation(qid)}/" if tables_location else None
        files[f"athena_flatten_{qid}.sql"] = queries.athena_flatten(qn, source, location)
        cte = queries.respondents(qid)
        if qn.index is not None:
            scored_at = f"{tables_location.rstrip('/')}/{queries.scored_relation(qid)}/" if tables_location else None
            files[f"athena_scored_{qid}.sql"] = queries.athena_scored(qid, qn.index, scored_at)
            files[f"index_{qid}_by_province.sql"] = queries.index_table(
                queries.respondents(qid, scored=True), qn.index, 'CAST("province" AS VARCHAR)')
        counts = [queries.question_counts(cte, name) for q in qn.questions if q.type in ANALYSED
                  for name, _, _ in _columns_of(q)]
        files[f"question_counts_{qid}.sql"] = ";\n\n".join(counts) + ";\n"
    paths = []
    for name, text in files.items():
        (out / name).write_text(text.rstrip("\n;") + ";\n", encoding="utf-8")
        paths.append(out / name)
    return paths


def format_crosstab(t: Crosstab, weighting: Weighting | None = None, include_invalid: bool = False) -> str:
    """The cross-tab as terminal text: counts with row shares, totals, the test and its warnings."""
    sample = "全部样本（含无效）" if include_invalid else "有效样本"
    weighted = "加权" if t.weighted else "未加权 (unweighted)"
    lines = [f"{t.row_text} × {t.col_text}", f"{t.questionnaire}, {t.province or '全国'}; {sample}, {weighted}; "
             f"n = {t.n} answered both", ""]
    head = [f"{t.row_var} \\ {t.col_var}"] + [lv.label for lv in t.cols] + ["n"]
    body = []
    shares = t.weighted_row_shares if t.weighted and t.weighted_row_shares else t.row_shares
    for i, lv in enumerate(t.rows):
        cells = [f"{c} ({_pct(s)})" for c, s in zip(t.counts[i], shares[i])]
        body.append([lv.label] + cells + [str(t.row_n[i])])
    body.append(["n"] + [str(c) for c in t.col_n] + [str(t.n)])
    widths = [max(_width(r[k]) for r in [head] + body) for k in range(len(head))]
    for r in [head] + body:
        lines.append("  ".join(_pad(c, w, left=k == 0) for k, (c, w) in enumerate(zip(r, widths))))
    lines.append("")
    lines.append("cells: count (row share" + (", weighted" if t.weighted else "") + ")")
    c = t.chi2
    if c.statistic is not None:
        lines.append(f"chi-square = {c.statistic:.3f}, df = {c.dof}, p = {c.p_value:.4g}")
    lines.extend(f"warning: {w}" for w in t.warnings)
    if weighting is not None and weighting.notes and weighting.applied:
        lines.extend(f"weights: {n}" for n in weighting.notes)
    return "\n".join(lines)


def write_crosstab_csv(t: Crosstab, path: Path) -> Path:
    from lambdas.admin.export import safe

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"{t.row_text} × {t.col_text}", t.questionnaire, t.province or "全国",
                    "weighted" if t.weighted else "unweighted", f"n={t.n}"])
        blocks = [("count", t.counts), ("row share", t.row_shares), ("column share", t.col_shares)]
        if t.weighted:
            blocks += [("weighted count", t.weighted_counts), ("weighted row share", t.weighted_row_shares),
                       ("weighted column share", t.weighted_col_shares)]
        for title, values in blocks:
            w.writerow([])
            w.writerow([title, t.row_var + " \\ " + t.col_var] + [safe(lv.label) for lv in t.cols] + ["n"])
            for i, lv in enumerate(t.rows):
                w.writerow(["", safe(lv.label)] + ["" if v is None else v for v in values[i]] + [t.row_n[i]])
            w.writerow(["", "n"] + list(t.col_n) + [t.n])
        w.writerow([])
        c = t.chi2
        w.writerow(["chi-square", c.statistic, "df", c.dof, "p", c.p_value])
        for warning in t.warnings:
            w.writerow(["warning", warning])
    return path


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text
