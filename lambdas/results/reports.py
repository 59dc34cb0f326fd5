"""Reports: the national report, one per province with enough valid samples, one per questionnaire (topic) and one
per sponsor (its own samples only), each as an HTML page with charts and tables, a PDF of the same page, and its
tables as CSV (UTF-8 with BOM, formulas neutralised) and XLSX.

The flow is the project's: read (DuckDB over the export's Parquet, through `analysis`) → model (`Figures`: the
index tables and per-question tables of every scope) → report (`Report`: sections of paragraphs, chart specs and
tables, in Chinese, with the findings written from the figures) → render and write (charts, HTML, PDF, CSV, XLSX).

Speed. Every scope's figures come from few queries: each questionnaire's respondents are scored once into a
temporary table (the index's SQL from `queries.scores`, the same text Athena runs), and each per-question count is
one GROUP BY with grouping sets for the nation, every province and every sponsor at once — never one query per
sponsor. Charts are drawn once per spec (the national and topic reports share theirs), and charts and PDFs are
rendered in a pool of worker processes. Sponsor reports are short (index, domains, where their respondents are).

Publishing. Nothing reaches the site unless asked (`publish`): then the HTML pages, their SVG charts, the PDFs and
tables go to `site_src/results/` with an index page, and the next site build copies them as they are.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from lambdas.admin.export import safe
from lambdas.survey import catalog as catalogs
from lambdas.survey import questionnaire as questionnaires
from lambdas.survey.catalog import BEIJING, UNATTRIBUTED, Catalog
from lambdas.survey.questionnaire import Questionnaire, Survey
from lambdas.survey.regions import PROVINCES

from . import analysis, charts, queries
from .analysis import Figure, IndexRow, IndexTable, Measure, QuestionTable
from .charts import Spec
from .stats import estimate
from .tiles import Cell, TileSpec
from .weights import MarginsError

MIN_PROVINCE_N = 1000  # valid samples a province needs for a report of its own
SITE_RESULTS = Path("site_src") / "results"  # beside --site's default, from the project's folder, like snapshots/
TEMPLATES = Path(__file__).with_name("templates")
KIND_TITLES = {"national": "全国报告", "province": "区域报告", "topic": "专题报告", "sponsor": "单位报告"}
# GB/T 2260 codes of the provinces: the report folders' names (ASCII, stable, in the order official tables use).
CODES = dict(zip(PROVINCES, (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                             50, 51, 52, 53, 54, 61, 62, 63, 64, 65)))
SUPPRESSED = "样本不足"


# ---- the figures of every scope ----------------------------------------------------------------------------------

@dataclass
class Figures:
    """Everything the reports show, per questionnaire: the index tables (nation, per province, per sponsor) and the
    per-question tables of the same scopes. Keys of scoped dicts are a province's full name or a sponsor's slug."""
    survey: Survey
    questionnaires: tuple[str, ...]
    n: dict[str, int]  # valid respondents per questionnaire
    weighting: dict[str, Any]  # analysis.Weighting per questionnaire
    min_n: int
    # qid -> by (None, "province", "age", …) -> the national table
    national: dict[str, dict[str | None, IndexTable]] = field(default_factory=dict)
    # qid -> province -> by -> table (None: the province as a whole)
    provinces: dict[str, dict[str, dict[str | None, IndexTable]]] = field(default_factory=dict)
    # qid -> sponsor -> by -> table (None, "province")
    sponsors: dict[str, dict[str, dict[str | None, IndexTable]]] = field(default_factory=dict)
    # qid -> ("national", "") | ("province", name) | ("sponsor", slug) -> tables in questionnaire order
    questions: dict[str, dict[tuple[str, str], list[QuestionTable]]] = field(default_factory=dict)
    # respondents per scope: qid -> ("province", name) | ("sponsor", slug) -> n
    counts: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)


def demographics(data: analysis.Data, qid: str) -> tuple[str, ...]:
    """The groupings besides the province that a report shows the index by (age, occupation, education, …)."""
    return tuple(b for b in analysis.groupings(data, qid) if b != "province")


def collect(data: analysis.Data, min_n: int = analysis.MIN_N) -> Figures:
    """All figures of all scopes from the opened export (see the module's note on speed)."""
    figures = Figures(data.survey, data.questionnaires, {}, dict(data.weighting), min_n)
    for qid in data.questionnaires:
        qn = data.questionnaire(qid)
        figures.counts[qid], figures.n[qid] = _counts(data, qid)
        if qn.index is not None:
            _index_tables(data, qid, figures)
        figures.questions[qid] = _question_tables(data, qid, min_n, figures.counts[qid])
    return figures


def _counts(data: analysis.Data, qid: str) -> tuple[dict[tuple[str, str], int], int]:
    rows = data.query(f"""WITH {data.respondents(qid, weighted=False)}
        SELECT GROUPING("province"), GROUPING("sponsor"), "province", "sponsor", COUNT(*) FROM respondents
        GROUP BY GROUPING SETS ((), ("province"), ("sponsor"))""")
    out: dict[tuple[str, str], int] = {}
    total = 0
    for gp, gs, province, sponsor, n in rows:
        if gp and gs:
            total = n
        elif not gp:
            out[("province", province)] = n
        else:
            out[("sponsor", sponsor)] = n
    return out, total


def _index_tables(data: analysis.Data, qid: str, figures: Figures) -> None:
    """The nation's tables from analysis.index_table; every province's and sponsor's from one query per grouping
    over the scored respondents (the index's own query with a two-part group), never one query per scope."""
    bys = demographics(data, qid)
    national = {by: analysis.index_table(data, qid, by, min_n=figures.min_n) for by in (None, "province") + bys}
    figures.national[qid] = national
    provinces: dict[str, dict[str | None, IndexTable]] = {}
    sponsors: dict[str, dict[str | None, IndexTable]] = {}
    for by in (None,) + bys:
        for province, table in _scoped_index(data, qid, "province", by, figures.min_n).items():
            provinces.setdefault(province, {})[by] = table
    for by in (None, "province"):
        for sponsor, table in _scoped_index(data, qid, "sponsor", by, figures.min_n).items():
            sponsors.setdefault(sponsor, {})[by] = table
    # A province's own figures carry their change against last year's, as the nation's table by province has them.
    by_province = {r.key: r for r in national["province"].rows}
    for province, t in provinces.items():
        if province in by_province and None in t:
            own = dataclasses.replace(t[None].rows[0], figures=by_province[province].figures)
            t[None] = dataclasses.replace(t[None], rows=(own,))
    figures.provinces[qid], figures.sponsors[qid] = provinces, sponsors


def _scoped_index(data: analysis.Data, qid: str, scope: str, by: str | None,
                  min_n: int) -> dict[str, IndexTable]:
    """Per value of `scope` (province or sponsor), the index table grouped by `by` (None: that scope as a whole),
    with the sums of analysis.index_table; a scope's own figures are its groups' totals, as there."""
    qn = data.questionnaire(qid)
    index = qn.index
    assert index is not None
    s = f"CAST({queries.ident(scope)} AS VARCHAR)"
    group = f"[{s}, CAST({queries.ident(queries.column(by))} AS VARCHAR)]" if by else f"[{s}]"
    weighted = data.weighted(qid)
    result = data.query(queries.index_table(data.respondents(qid, scored=True), index, group, weighted))
    width = len(queries.WEIGHTED_SUMS if weighted else queries.PLAIN_SUMS)
    measures = (Measure("index", index.title, 1.0),) + tuple(Measure(d.id, d.title, d.weight) for d in index.domains)
    levels = _labels(qn).get(by, {}) if by else {}
    order = {k: i for i, k in enumerate(levels)}
    per_scope: dict[str, list[tuple[str, list[float]]]] = {}
    for key, *sums in result:
        level = ("" if key[1] is None else key[1]) if by else ""
        per_scope.setdefault(key[0], []).append((level, [v or 0 for v in sums]))
    out = {}
    for name, groups in per_scope.items():
        everyone = [sum(g[1][k] for g in groups) for k in range(len(measures) * width)]
        rows = []
        for key, sums in [(None, everyone)] + (groups if by else []):
            figures_ = []
            for m in range(len(measures)):
                n, sx, sxx, *w = sums[m * width:(m + 1) * width]
                figures_.append(Figure(estimate(n, n, sx, sxx, n, min_n),
                                       estimate(n, *w, min_n=min_n) if weighted else None))
            label = "全部" if key is None else analysis.UNANSWERED if key == "" else levels.get(key, key)
            rows.append(IndexRow(key, label, figures_[0].unweighted.n, tuple(figures_)))
        rows.sort(key=lambda r: (r.key is not None, r.key == "", order.get(r.key or "", len(order)), r.key or ""))
        by_label = analysis.GROUP_META.get(by, _question_text(qn, by)) if by else ""
        out[name] = IndexTable(qid, index.title, by, by_label, measures, tuple(rows), min_n, weighted)
    return out


def _labels(qn: Questionnaire) -> dict[str | None, dict[str, str]]:
    out: dict[str | None, dict[str, str]] = {"province": {p: p for p in PROVINCES}}
    for q in qn.questions:
        if q.type == "single":
            out[q.id] = dict(q.options)
    return out


def _question_text(qn: Questionnaire, qid: str | None) -> str:
    return next((q.text for q in qn.questions if q.id == qid), "")


def _question_tables(data: analysis.Data, qid: str, min_n: int,
                     scopes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[QuestionTable]]:
    """Per-question tables of the nation and each of `scopes` (("province", name), ("sponsor", slug)), every
    question in each: one grouped query per column."""
    scopes = [("national", ""), *scopes]
    qn = data.questionnaire(qid)
    cte = data.respondents(qid)
    weighted = data.weighted(qid)
    out: dict[tuple[str, str], list[QuestionTable]] = {}
    for q in qn.questions:
        if q.type not in queries.ANALYSED:
            continue
        for name, row, label in analysis._columns_of(q):
            col = queries.ident(queries.column(name))
            rows = data.query(f"""WITH {cte}
                SELECT GROUPING("province"), GROUPING("sponsor"), "province", "sponsor", {col},
                       COUNT(*), SUM("_w"), SUM("_w" * "_w")
                FROM respondents WHERE {col} IS NOT NULL
                GROUP BY GROUPING SETS (({col}), ("province", {col}), ("sponsor", {col}))""")
            counted: dict[tuple[str, str], list[tuple]] = {}
            for gp, gs, province, sponsor, answer, n, sw, sww in rows:
                scope = ("national", "") if gp and gs else ("province", province) if not gp else ("sponsor", sponsor)
                counted.setdefault(scope, []).append((answer, n, sw, sww))
            for scope in scopes:
                # The shares, means and suppression of analysis.question_tables, from this query's counts.
                out.setdefault(scope, []).append(analysis._question_table(qid, q, name, row, label,
                                                                          counted.get(scope, []), weighted, min_n))
    if data.last_year:
        out[("national", "")] = analysis.compare(out[("national", "")], data.last_year)
    return out


# ---- the reports: sections of paragraphs, charts and tables --------------------------------------------------------

@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text, int, score (0–100, one decimal), pct (a share as %), delta (change), mean (1–5)
    page: bool = True  # shown on the page and in the PDF; every column goes to the CSV and XLSX


@dataclass(frozen=True)
class Table:
    """One table, shown in the page and written as CSV and as rows of the XLSX. The first column heads each row.
    A cell is a number, a text, None (nothing to show) or SUPPRESSED (under the minimum size, withheld)."""
    key: str  # unique in the report: the CSV's name
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    level: int = 2
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()  # a list (the findings)
    charts: tuple[Spec | TileSpec, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    kind: str  # national, province, topic, sponsor
    slug: str  # its folder: national, province-44, topic-public, sponsor-<slug>
    title: str
    subtitle: str
    n: int  # valid respondents the report rests on
    facts: tuple[tuple[str, str], ...]  # (term, description): sample, weighting, date, suppression
    sections: tuple[Section, ...]
    headline: float | None = None  # the first questionnaire's index, for the list of reports

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def charts(self) -> list[Spec | TileSpec]:
        return [c for s in self.sections for c in s.charts]


@dataclass(frozen=True)
class Scope:
    kind: str
    key: str  # "" for the nation and topics; the province's name; the sponsor's slug
    questionnaires: tuple[str, ...]

    @property
    def slug(self) -> str:
        if self.kind == "province":
            return f"province-{CODES.get(self.key, _ascii(self.key))}"
        if self.kind == "topic":
            return f"topic-{self.questionnaires[0].replace('.', '-')}"
        if self.kind == "sponsor":
            return f"sponsor-{_ascii(self.key)}"
        return "national"

    @property
    def scope_key(self) -> tuple[str, str]:
        return ("national", "") if self.kind in ("national", "topic") else (self.kind, self.key)


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "x"


def scopes(figures: Figures, catalog: Catalog | None, min_province_n: int) -> list[Scope]:
    """Every report to write: the nation, each province with at least `min_province_n` valid samples (all
    questionnaires together), each questionnaire and each topic's form, each sponsor with valid samples of its own.
    Only the topic reports read a topic's form: the others read each questionnaire's file (with topics, its core,
    which holds every respondent once)."""
    qids = tuple(q for q in figures.questionnaires if q in figures.survey.questionnaires)
    out = [Scope("national", "", qids)]
    province_n = {p: sum(figures.counts[q].get(("province", p), 0) for q in qids) for p in PROVINCES}
    out += [Scope("province", p, qids) for p in PROVINCES if province_n[p] >= max(min_province_n, 1)]
    out += [Scope("topic", "", (q,)) for q in figures.questionnaires]
    sponsor_n: dict[str, int] = {}
    for q in qids:
        for (kind, key), n in figures.counts[q].items():
            if kind == "sponsor" and key != UNATTRIBUTED:
                sponsor_n[key] = sponsor_n.get(key, 0) + n
    order = list(catalog.sponsors) if catalog else []
    ranked = sorted(sponsor_n, key=lambda s: (order.index(s) if s in order else len(order), s))
    out += [Scope("sponsor", s, qids) for s in ranked if sponsor_n[s] > 0]
    return out


def build(figures: Figures, scope: Scope, *, catalog: Catalog | None = None, suggestions: Any = None,
          generated: str = "", year: str = "", has_last_year: bool = False) -> Report:
    """One report's content from the figures: what each kind of report shows is decided here."""
    survey = figures.survey
    names = {s: i.name for s, i in catalog.sponsors.items()} if catalog else {}
    place = {"national": "全国", "topic": "全国", "province": scope.key, "sponsor": names.get(scope.key, scope.key)}[
        scope.kind]
    campaign = f"{year}年网民网络安全感满意度调查" if year else "网民网络安全感满意度调查"
    if scope.kind == "topic":
        qn = survey.find(scope.questionnaires[0])
        title, subtitle = f"{qn.title}专题报告", campaign
    elif scope.kind == "sponsor":
        title, subtitle = f"{place}：样本与结果报告", f"{campaign} · 单位报告（仅含本单位带来的有效样本）"
    elif scope.kind == "province":
        title, subtitle = f"{campaign}{place}报告", "区域报告"
    else:
        title, subtitle = f"{campaign}全国报告", "全国报告"
    n_of = {q: _scope_n(figures, scope, q) for q in scope.questionnaires}
    sections: list[Section] = []
    if scope.kind in ("national", "province", "topic"):
        items = findings(figures, scope, has_last_year)
        if items:
            sections.append(Section("findings", "主要发现", items=tuple(items)))
    for qid in scope.questionnaires:
        sections += _questionnaire_sections(figures, scope, qid, n_of[qid], place, names)
    if suggestions is not None and scope.kind != "sponsor":
        group = (suggestions.national if scope.kind == "national" else
                 suggestions.questionnaires.get(scope.questionnaires[0]) if scope.kind == "topic" else
                 suggestions.provinces.get(scope.key))
        if group is not None:
            sections.append(_suggestions_section(group))
    sections.append(_method_section(figures, scope))
    facts = _facts(figures, scope, n_of, generated, survey)
    first = next((q for q in scope.questionnaires if q in figures.national), None)
    own = _index_of(figures, scope, first)
    headline = own.rows[0].index.headline.value if own is not None and own.rows else None
    return Report(scope.kind, scope.slug, title, subtitle, sum(n_of.values()), facts, tuple(sections), headline)


def _scope_n(figures: Figures, scope: Scope, qid: str) -> int:
    if scope.kind in ("national", "topic"):
        return figures.n[qid]
    return figures.counts[qid].get((scope.kind, scope.key), 0)


def _index_of(figures: Figures, scope: Scope, qid: str | None, by: str | None = None) -> IndexTable | None:
    """The index table of a scope grouped by `by` (None: the scope as a whole)."""
    if qid is None or qid not in figures.national:
        return None
    if scope.kind in ("national", "topic"):
        return figures.national[qid].get(by)
    pool = figures.provinces if scope.kind == "province" else figures.sponsors
    return pool[qid].get(scope.key, {}).get(by)


def _facts(figures: Figures, scope: Scope, n_of: dict[str, int], generated: str,
           survey: Survey) -> tuple[tuple[str, str], ...]:
    samples = "；".join(f"{survey.find(q).title.split('（')[-1].rstrip('）') or q} {n:,} 份"
                       for q, n in n_of.items())
    basis = "本单位带来的有效样本" if scope.kind == "sponsor" else (
        f"{scope.key}答题者的有效样本" if scope.kind == "province" else "全部有效样本")
    weighted = [q for q in scope.questionnaires if figures.weighting[q].applied]
    if weighted:
        dims = "、".join(figures.weighting[weighted[0]].dimensions)
        weighting = (f"加权：按网民结构（{dims}）迭代比例加权（raking），表中同时列出未加权数据；"
                     f"{'其余问卷未加权' if len(weighted) < len(scope.questionnaires) else '标题数字为加权值'}")
    else:
        weighting = "未加权：各项数据为有效样本的直接统计，未按网民结构加权"
    out = [("样本", f"{basis}，共 {sum(n_of.values()):,} 份（{samples}）"), ("加权", weighting),
           ("置信区间", "括号内为 95% 置信区间；每个数字旁给出其样本量 n"),
           ("数据保护", f"样本量不足 {figures.min_n} 的分组不报告具体数值，标为“{SUPPRESSED}”")]
    if generated:
        out.append(("生成时间", generated))
    return tuple(out)


def short_title(qn: Questionnaire) -> str:
    """公众网民版 from 网民网络安全感满意度调查（公众网民版）."""
    m = re.search(r"（([^（）]+)）$", qn.title)
    return m.group(1) if m else qn.title


def _quoted(text: str) -> str:
    return f"“{text}”"


def _change(delta: float | None, unit: str = "") -> str:
    if delta is None:
        return ""
    if round(delta, 1) == 0:
        return "与上年持平"
    return f"比上年{'提高' if delta > 0 else '下降'} {abs(delta):.1f}{unit}"


def findings(figures: Figures, scope: Scope, has_last_year: bool = False) -> list[str]:
    """The main findings, in Chinese sentences written from the figures: the index and its change, the best and
    worst domains, the largest changes against last year, provinces above and below the national index, and the
    groups with the highest and lowest index."""
    out: list[str] = []
    place = "全国" if scope.kind in ("national", "topic") else scope.key
    for qid in scope.questionnaires:
        table = _index_of(figures, scope, qid)
        qn = figures.survey.find(qid)
        if table is None or qn.index is None:
            continue
        name = f"《{short_title(qn)}》"
        everyone = table.rows[0]
        f = everyone.index.headline
        if f.value is None:
            out.append(f"{place}{name}有效样本 {everyone.n:,} 份，不足 {figures.min_n} 份，不报告指数。")
            continue
        sentence = f"{place}{name}{table.title}为 {f.value:.1f}"
        if f.low is not None and f.high is not None:
            sentence += f"（95% 置信区间 {f.low:.1f}～{f.high:.1f}，n = {f.n:,}）"
        if everyone.index.delta is not None:
            sentence += "，" + _change(everyone.index.delta)
        if scope.kind == "province":
            sentence += _against_nation(f, figures.national[qid][None].rows[0].index.headline.value)
        out.append(sentence + "。")
        out += _domain_findings(table, has_last_year)
        if scope.kind in ("national", "topic"):
            if has_last_year:
                out += _question_changes(figures, qid)
            out += _province_findings(table, figures.national[qid].get("province"), figures.min_n)
        for by, grouped in (figures.national[qid] if scope.kind != "province" else
                            figures.provinces[qid].get(scope.key, {})).items():
            if by not in (None, "province"):
                out += _group_findings(grouped)
    return out


def _against_nation(f: Any, national: float | None) -> str:
    if national is None:
        return ""
    if f.low is not None and f.low > national:
        return f"，高于全国（{national:.1f}）"
    if f.high is not None and f.high < national:
        return f"，低于全国（{national:.1f}）"
    return f"，与全国（{national:.1f}）的差异在置信区间之内"


def _domain_findings(table: IndexTable, has_last_year: bool) -> list[str]:
    row = table.rows[0]
    scored = [(m, f) for m, f in zip(table.measures[1:], row.figures[1:]) if f.headline.value is not None]
    out = []
    if len(scored) >= 2:
        best = max(scored, key=lambda mf: mf[1].headline.value)
        worst = min(scored, key=lambda mf: mf[1].headline.value)
        out.append(f"在 {len(scored)} 个领域中，得分最高的是{_quoted(best[0].title)}（{best[1].headline.value:.1f}），"
                   f"最低的是{_quoted(worst[0].title)}（{worst[1].headline.value:.1f}）。")
    changed = sorted(((m, f.delta) for m, f in scored if f.delta is not None), key=lambda md: -abs(md[1]))
    if has_last_year and changed:
        parts = [f"{_quoted(m.title)}（{d:+.1f}）" for m, d in changed[:2]]
        out.append(f"与上年相比，变化最大的领域是{'和'.join(parts)}。")
    return out


def _question_changes(figures: Figures, qid: str) -> list[str]:
    moves = []
    for t in figures.questions[qid].get(("national", ""), []):
        for s in t.shares:
            if s.delta is not None and t.type in ("single", "multi"):
                moves.append((abs(s.delta), s.delta, t.text, s.label))
    if not moves:
        return []
    moves.sort(key=lambda m: -m[0])
    parts = [f"{_quoted(text)}中选择{_quoted(label)}的比例{'上升' if d > 0 else '下降'} {abs(d) * 100:.1f} 个百分点"
             for _, d, text, label in moves[:3]]
    return ["各题中与上年相比变化最大的是：" + "；".join(parts) + "。"]


def _province_findings(table: IndexTable, by_province: IndexTable | None, min_n: int) -> list[str]:
    national = table.rows[0].index.headline.value
    if by_province is None or national is None:
        return []
    rows = [r for r in by_province.rows if r.key]
    shown = [(r.label, r.index.headline.value) for r in rows if r.index.headline.value is not None]
    hidden = [r.label for r in rows if r.index.headline.value is None and r.n > 0]
    if not shown:
        return []
    above = sorted((p for p in shown if p[1] > national), key=lambda p: -p[1])
    below = sorted((p for p in shown if p[1] < national), key=lambda p: p[1])
    sentence = f"在报告指数的 {len(shown)} 个省份中，{len(above)} 个高于全国指数"
    if above:
        sentence += f"（最高为{above[0][0]} {above[0][1]:.1f}）"
    sentence += f"，{len(below)} 个低于全国"
    if below:
        sentence += f"（最低为{below[0][0]} {below[0][1]:.1f}）"
    if hidden:
        sentence += f"；{len(hidden)} 个省份样本不足 {min_n} 份，不报告"
    out = [sentence + "。"]
    moved = sorted(((r.label, r.index.delta) for r in rows if r.index.delta is not None), key=lambda m: m[1])
    if moved and (moved[-1][1] > 0 or moved[0][1] < 0):
        parts = ([f"升幅最大的是{moved[-1][0]}（{moved[-1][1]:+.1f}）"] if moved[-1][1] > 0 else []) + (
            [f"降幅最大的是{moved[0][0]}（{moved[0][1]:+.1f}）"] if moved[0][1] < 0 else [])
        out.append("与上年相比，各省份指数中" + "，".join(parts) + "。")
    if above:
        out.append("高于全国指数的省份：" + "、".join(p for p, _ in above) + "。")
    if below:
        out.append("低于全国指数的省份：" + "、".join(p for p, _ in below) + "。")
    return out


def _group_findings(table: IndexTable) -> list[str]:
    shown = [(r.label, r.index.headline.value) for r in table.rows[1:] if r.key and r.index.headline.value is not None]
    if len(shown) < 2:
        return []
    best, worst = max(shown, key=lambda p: p[1]), min(shown, key=lambda p: p[1])
    what = re.sub(r"^您的|是？$|？$", "", table.by_label) or table.by_label
    return [f"按{what}分，指数最高的是{_quoted(best[0])}（{best[1]:.1f}），最低的是{_quoted(worst[0])}（{worst[1]:.1f}）。"]


# ---- sections of one questionnaire ---------------------------------------------------------------------------------

def _weight_note(figures: Figures, qid: str) -> str:
    return "加权" if figures.weighting[qid].applied else "未加权"


def _value(f: Figure | None) -> Any:
    if f is None:
        return None
    h = f.headline
    return SUPPRESSED if h.suppressed else h.value


def _interval(f: Figure) -> Any:
    h = f.headline
    return SUPPRESSED if h.suppressed else (h.low, h.high) if h.low is not None else None


def _figure_columns(first: str, weighted: bool, with_delta: bool, against: str = "") -> tuple[Column, ...]:
    cols = [Column(first), Column("得分（0～100）", "score"), Column("95% 置信区间", "ci"), Column("样本量 n", "int")]
    if weighted:
        cols.append(Column("未加权得分", "score"))
    if with_delta:
        cols.append(Column("较上年", "delta"))
    if against:
        cols.append(Column(against, "score"))
    return tuple(cols)


def _figure_row(label: str, f: Figure, n: int, weighted: bool, with_delta: bool,
                against: Figure | None | bool = False) -> tuple[Any, ...]:
    row: list[Any] = [label, _value(f), _interval(f), n]
    if weighted:
        row.append(SUPPRESSED if f.unweighted.suppressed else f.unweighted.value)
    if with_delta:
        row.append(f.delta)
    if against is not False:
        row.append(_value(against) if isinstance(against, Figure) else None)
    return tuple(row)


def _chart_prefix(scope: Scope) -> str:
    return "all" if scope.kind in ("national", "topic") else scope.slug


def _questionnaire_sections(figures: Figures, scope: Scope, qid: str, n: int, place: str,
                            names: dict[str, str]) -> list[Section]:
    qn = figures.survey.find(qid)
    intro = f"{qn.title}，{'本单位带来的' if scope.kind == 'sponsor' else ''}有效样本 {n:,} 份（{_weight_note(figures, qid)}）。"
    out = [Section(qid, f"《{short_title(qn)}》", 2, paragraphs=(intro,))]
    table = _index_of(figures, scope, qid)
    if table is not None and table.rows:
        # A sponsor's report stays short: one chart, of its first questionnaire's index; tables for the rest.
        first = next((q for q in scope.questionnaires if _index_of(figures, scope, q) is not None), None)
        out.append(_domain_section(figures, scope, qid, table, place, chart=scope.kind != "sponsor" or qid == first))
        if scope.kind in ("national", "topic"):
            out.append(_province_section(figures, scope, qid, figures.national[qid]["province"]))
        elif scope.kind == "sponsor" and _index_of(figures, scope, qid, "province"):
            out.append(_sponsor_provinces(figures, scope, qid, _index_of(figures, scope, qid, "province")))
        if scope.kind != "sponsor":
            out.append(_groups_section(figures, scope, qid))
    if scope.kind != "sponsor":
        out.append(_questions_section(figures, scope, qid))
    return out


def _domain_section(figures: Figures, scope: Scope, qid: str, table: IndexTable, place: str,
                    chart: bool = True) -> Section:
    everyone = table.rows[0]
    national = figures.national[qid][None].rows[0] if scope.kind in ("province", "sponsor") else None
    weighted, with_delta = table.weighted, any(f.delta is not None for f in everyone.figures)
    rows = tuple((lambda row: row[:1] + (None if m.id == "index" else m.weight * 100,) + row[1:])(
        _figure_row(m.title, f, f.unweighted.n, weighted, with_delta, national.figures[i] if national else False))
        for i, (m, f) in enumerate(zip(table.measures, everyone.figures)))
    plain = _figure_columns("指数与领域", weighted, with_delta, "全国" if national else "")
    columns = plain[:1] + (Column("权重", "pct"),) + plain[1:]
    caption = f"{place}{table.title}及各领域得分（n = {everyone.n:,}，{_weight_note(figures, qid)}）"
    spec = Spec(f"{_chart_prefix(scope)}-{qid}-domains", "scores", f"{place}{table.title}及各领域得分", everyone.n,
                tuple(m.title if m.id != "index" else "总指数" for m in table.measures),
                tuple(f.headline.value for f in everyone.figures), "得分（0–100）",
                tuple(f.headline.low for f in everyone.figures), tuple(f.headline.high for f in everyone.figures),
                reference=national.index.headline.value if national else None, reference_label="全国",
                note=_weight_note(figures, qid))
    headline = everyone.index.headline
    lines = []
    if headline.value is not None:
        text = f"{place}{table.title}为 {headline.value:.1f}"
        if headline.low is not None:
            text += f"（95% 置信区间 {headline.low:.1f}～{headline.high:.1f}）"
        lines.append(text + (f"，{_change(everyone.index.delta)}" if everyone.index.delta is not None else "") + "。")
    else:
        lines.append(f"样本量 {everyone.n:,} 不足 {figures.min_n}，不报告指数。")
    return Section(f"{qid}-index", "指数与各领域", 3, tuple(lines), charts=(spec,) if chart else (),
                   tables=(Table(f"{qid}-domains", caption, columns, rows),))


def _province_section(figures: Figures, scope: Scope, qid: str, by_province: IndexTable) -> Section:
    national = by_province.rows[0].index.headline.value
    weighted = by_province.weighted
    with_delta = any(r.index.delta is not None for r in by_province.rows)
    present = {r.key: r for r in by_province.rows if r.key}
    cols = _figure_columns("省份", weighted, with_delta) + (Column("与全国之差", "delta"),)
    rows = []
    for p in PROVINCES:
        r = present.get(p)
        if r is None:
            rows.append((p, None, None, 0) + (None,) * (len(cols) - 4))
            continue
        value = r.index.headline.value
        diff = value - national if value is not None and national is not None else None
        rows.append(_figure_row(p, r.index, r.n, weighted, with_delta) + (diff,))
    tile = TileSpec(f"{_chart_prefix(scope)}-{qid}-provinces", f"各省份{by_province.title}", by_province.rows[0].n,
                    tuple(Cell(p, r.index.headline.value, r.n) for p, r in present.items() if p in CODES),
                    figures.min_n, note=_weight_note(figures, qid))
    caption = f"各省份{by_province.title}（{_weight_note(figures, qid)}；全国 {national:.1f}）" if national is not None \
        else f"各省份{by_province.title}"
    return Section(f"{qid}-provinces", "各省份", 3,
                   (f"按答题者所在省份统计。样本量不足 {figures.min_n} 的省份不报告数值，在图中以斜线灰格标出。",),
                   charts=(tile,), tables=(Table(f"{qid}-provinces", caption, cols, tuple(rows)),))


SPONSOR_PROVINCES = 10  # a sponsor's report lists the provinces most of its respondents come from


def _sponsor_provinces(figures: Figures, scope: Scope, qid: str, table: IndexTable) -> Section:
    """Where a sponsor's respondents are: the provinces with most of them (enough for a figure), the rest in one
    row; the CSV and XLSX have the same rows."""
    ranked = sorted((r for r in table.rows[1:] if r.n > 0), key=lambda r: -r.n)
    shown = [r for r in ranked if r.n >= figures.min_n][:SPONSOR_PROVINCES]
    rest = [r for r in ranked if r not in shown]
    rows = [_figure_row(r.label, r.index, r.n, table.weighted, False) for r in shown]
    if rest:
        rows.append((f"其他 {len(rest)} 个省份", None, None, sum(r.n for r in rest))
                    + ((None,) if table.weighted else ()))
    caption = f"本单位样本最多的省份及其指数（{_weight_note(figures, qid)}）"
    return Section(f"{qid}-provinces", "样本来自的省份", 3, tables=(
        Table(f"{qid}-provinces", caption, _figure_columns("省份", table.weighted, False), tuple(rows)),))


def _groups_section(figures: Figures, scope: Scope, qid: str) -> Section:
    tables_, specs = [], []
    grouped = (figures.national[qid] if scope.kind in ("national", "topic") else
               figures.provinces[qid].get(scope.key, {}))
    for by, table in grouped.items():
        if by in (None, "province"):
            continue
        national = figures.national[qid].get(by) if scope.kind == "province" else None
        at_nation = {r.key: r.index for r in national.rows} if national else {}
        with_delta = any(r.index.delta is not None for r in table.rows)
        what = re.sub(r"^您的|是？$|？$", "", table.by_label) or by
        rows = tuple(_figure_row(r.label, r.index, r.n, table.weighted, with_delta,
                                 at_nation.get(r.key) if national else False) for r in table.rows[1:])
        tables_.append(Table(f"{qid}-by-{by}", f"按{what}分的{table.title}（{_weight_note(figures, qid)}）",
                             _figure_columns(what, table.weighted, with_delta, "全国" if national else ""), rows))
        if scope.kind in ("national", "topic"):
            shown = table.rows[1:]
            specs.append(Spec(f"all-{qid}-by-{by}", "scores", f"按{what}分的{table.title}", table.rows[0].n,
                              tuple(r.label for r in shown), tuple(r.index.headline.value for r in shown),
                              "指数（0–100）", tuple(r.index.headline.low for r in shown),
                              tuple(r.index.headline.high for r in shown), note=_weight_note(figures, qid)))
    return Section(f"{qid}-groups", "各群体", 3, charts=tuple(specs), tables=tuple(tables_))


def _questions_section(figures: Figures, scope: Scope, qid: str) -> Section:
    """One table per question (a matrix's rows in one table); charts in the national and topic reports, the
    nation's figure beside each in a province's report."""
    tables_ = figures.questions[qid].get(scope.scope_key, [])
    nation = {t.column: t for t in figures.questions[qid][("national", "")]} if scope.kind == "province" else {}
    charts_on = scope.kind in ("national", "topic")
    qn = figures.survey.find(qid)
    by_question: dict[str, list[QuestionTable]] = {}
    for t in tables_:
        by_question.setdefault(t.question, []).append(t)
    out_tables, out_charts = [], []
    for q in qn.questions:
        group = by_question.get(q.id)
        if not group:
            continue
        if q.type == "matrix":
            table, spec = _matrix(qid, q, group, nation, charts_on)
        else:
            table, spec = _choices(qid, q, group[0], nation.get(group[0].column), charts_on, qn)
        out_tables.append(table)
        if spec is not None:
            out_charts.append(spec)
    return Section(f"{qid}-questions", "各题结果", 3,
                   ("单选题和评分题为占答题人数的比例；多选题为选择该项的人数占答题人数的比例，合计可超过 100%。",),
                   charts=tuple(out_charts), tables=tuple(out_tables))


def _share(s: Any, t: QuestionTable) -> Any:
    if t.suppressed:
        return SUPPRESSED
    value = s.weighted_share if t.weighted else s.share
    return None if value is None else value * 100


def _choices(qid: str, q: Any, t: QuestionTable, nation: QuestionTable | None, charts_on: bool,
             qn: Questionnaire) -> tuple[Table, Spec | None]:
    with_delta = any(s.delta is not None for s in t.shares)
    # A province's report has some sixty of these tables: the page keeps the shares, the files keep the counts too.
    cols = [Column("选项" if q.type != "rating" else "评分"), Column("人数", "int", page=nation is None),
            Column("占比", "pct")]
    if t.weighted:
        cols.append(Column("未加权占比", "pct"))
    if with_delta:
        cols.append(Column("较上年（百分点）", "delta"))
    if nation is not None:
        cols.append(Column("全国占比", "pct"))
    at_nation = {s.option: s for s in nation.shares} if nation else {}
    rows = []
    for s in t.shares:
        row: list[Any] = [s.label, s.count, _share(s, t)]
        if t.weighted:
            row.append(SUPPRESSED if t.suppressed else (None if s.share is None else s.share * 100))
        if with_delta:
            row.append(None if s.delta is None else s.delta * 100)
        if nation is not None:
            row.append(_share(at_nation[s.option], nation) if s.option in at_nation else None)
        rows.append(tuple(row))
    if t.mean is not None:
        mean_row: list[Any] = ["平均分（1～5）", t.n, None if t.mean.headline.value is None else t.mean.headline.value]
        rows.append(tuple(mean_row + [None] * (len(cols) - 3)))
    kind = {"single": "单选", "multi": "多选", "rating": "评分"}[q.type]
    caption = f"{t.text}（{kind}，n = {t.n:,}）"
    notes = ("平均分一行的“占比”列为 1～5 分的平均分。",) if t.mean is not None else ()
    table = Table(f"{qid}-q-{q.id}", caption, tuple(cols), tuple(rows), notes)
    spec = None
    if charts_on:
        unit = "占答题人数的比例（%）" if q.type == "multi" else "占比（%）"
        title = t.text + ("（多选）" if q.type == "multi" else "")
        spec = Spec(f"all-{qid}-q-{q.id}", "shares", title, t.n, tuple(s.label for s in t.shares),
                    tuple(None if t.suppressed else _share(s, t) for s in t.shares), unit,
                    note=f"{'加权' if t.weighted else '未加权'}" + (f"；平均分 {t.mean.headline.value:.2f}"
                                                                  if t.mean and t.mean.headline.value else ""))
    return table, spec


def _matrix(qid: str, q: Any, group: list[QuestionTable], nation: dict[str, QuestionTable],
            charts_on: bool) -> tuple[Table, Spec | None]:
    cols = [Column("项目"), Column("平均分（1～5）", "mean"), Column("95% 置信区间", "ci"),
            Column("4～5 分占比", "pct"), Column("样本量 n", "int")]
    with_delta = any(t.mean is not None and t.mean.delta is not None for t in group)
    if with_delta:
        cols.append(Column("平均分较上年", "delta"))
    if nation:
        cols.append(Column("全国平均分", "mean"))
    rows = []
    labels = dict(q.rows)
    for t in group:
        top = sum((_share(s, t) or 0) for s in t.shares if s.option in ("4", "5")) if not t.suppressed else SUPPRESSED
        row: list[Any] = [labels.get(t.row, t.row), _value(t.mean), _interval(t.mean) if t.mean else None, top, t.n]
        if with_delta:
            row.append(t.mean.delta if t.mean else None)
        if nation:
            other = nation.get(t.column)
            row.append(_value(other.mean) if other and other.mean else None)
        rows.append(tuple(row))
    n = max((t.n for t in group), default=0)
    caption = f"{q.text}（1～5 分，1 = {q.low}，5 = {q.high}；n = {n:,}）"
    table = Table(f"{qid}-q-{q.id}", caption, tuple(cols), tuple(rows))
    spec = None
    if charts_on:
        parts = tuple(tuple((_share(s, t) or 0.0) if not t.suppressed else 0.0 for s in t.shares[:5]) for t in group)
        spec = Spec(f"all-{qid}-q-{q.id}", "stacked", q.text, n, tuple(labels.get(t.row, t.row) for t in group),
                    unit="占比（%）", parts=parts, legend=(f"1 {q.low}", "2", "3", "4", f"5 {q.high}"),
                    note="加权" if group[0].weighted else "未加权")
    return table, spec


def _suggestions_section(group: Any) -> Section:
    cols = (Column("词语"), Column("提及的建议数", "int"), Column("占建议的比例", "pct"), Column("例句"))
    terms = tuple((r.term, r.count, r.share * 100, r.examples[0] if r.examples else "") for r in group.terms[:15])
    phrases = tuple((r.term, r.count, r.share * 100, r.examples[0] if r.examples else "") for r in group.phrases[:10])
    intro = (f"共 {group.suggestions:,} 条意见建议，其中 {group.substantive:,} 条有实际内容。下表为提及最多的词语和短语"
             "（按提及的建议条数计，一条建议多次提及只计一次）。",)
    return Section("suggestions", "意见建议", 2, intro, tables=(
        Table("suggestions-terms", "意见建议中提及最多的词语", cols, terms),
        Table("suggestions-phrases", "意见建议中提及最多的短语", cols, phrases)))


def _method_section(figures: Figures, scope: Scope) -> Section:
    lines = [
        "数据来自本次调查的有效样本（按公开的有效样本判定规则判定），未含无效样本。",
        "满意度指数：每道评价题按 1～5 分折算为 0～100 分，领域得分为其题目得分的加权平均，个人指数为各领域得分按权重加权平均，"
        "总指数为个人指数的平均值；计算方法与题目、权重见网站“满意度指数计算方法”页面（/method/）。",
        f"括号内为 95% 置信区间；样本量不足 {figures.min_n} 的分组不报告数值，标为“{SUPPRESSED}”。",
    ]
    for qid in scope.questionnaires:
        w = figures.weighting[qid]
        if w.applied:
            lines.append(f"《{short_title(figures.survey.find(qid))}》按{ '、'.join(w.dimensions)}的网民结构迭代"
                         f"比例加权（{w.iterations} 次迭代，有效样本量 {w.n_effective:,.0f}，设计效应 {w.design_effect:.2f}）。")
    if scope.kind == "sponsor":
        lines.append("本报告只统计通过本单位链接提交的有效样本；其省份、群体分布取决于本单位的宣传范围，不代表全国或本省网民。")
    return Section("method", "说明", 2, tuple(lines))


# ---- rendering: HTML, PDF, CSV, XLSX ---------------------------------------------------------------------------------

def cell(value: Any, kind: str) -> tuple[str, str]:
    """A table cell as the page shows it, and its class."""
    if value is None:
        return "—", "empty"
    if value == SUPPRESSED:
        return SUPPRESSED, "suppressed"
    if isinstance(value, str):
        return value, ""
    if kind == "ci":
        low, high = value
        digits = 2 if high is not None and high <= 5 else 1
        return f"{low:.{digits}f}～{high:.{digits}f}", ""
    if kind == "int":
        return f"{value:,}", ""
    if kind == "pct":
        return f"{value:.1f}%", ""
    if kind == "delta":
        return (f"{value:+.1f}" if round(value, 1) else "0.0"), "negative" if value <= -0.05 else ""
    if kind == "mean":
        return f"{value:.2f}", ""
    if kind == "score":
        return f"{value:.1f}", ""
    return str(value), ""


def _pairs(section: Section) -> list[tuple[Any, Any]]:
    """Each chart beside the table of the same figures (sections build them in step)."""
    from itertools import zip_longest

    return list(zip_longest(section.charts, section.tables))


def _visible(table: Table) -> tuple[list[Column], list[list[Any]]]:
    """The columns and cells the page shows."""
    keep = [i for i, c in enumerate(table.columns) if c.page]
    return [table.columns[i] for i in keep], [[row[i] for i in keep] for row in table.rows]


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    env.globals.update(cell=cell, pair=_pairs, suppressed=SUPPRESSED, visible=_visible)
    return env


def html(report: Report, pdf: bool = False) -> str:
    """The report's page; for the PDF, with the charts as PNG and without the page's links."""
    first = next((s for s in report.sections if s.level == 2 and s.id not in ("findings",)), None)
    label = "网民网络安全感满意度指数" + (f"（{first.title}）" if first and first.title.startswith("《") else "")
    return _env().get_template("report.html.j2").render(report=report, pdf=pdf, ext="png" if pdf else "svg",
                                                       headline_label=label)


def stylesheet() -> str:
    return _env().get_template("report.css.j2").render()


def _csv_cells(table: Table) -> tuple[list[str], list[list[Any]]]:
    head: list[str] = []
    for c in table.columns:
        head += [f"{c.title}下限", f"{c.title}上限"] if c.kind == "ci" else [c.title]
    rows = []
    for row in table.rows:
        out: list[Any] = []
        for value, c in zip(row, table.columns):
            if c.kind == "ci":
                out += list(value) if isinstance(value, tuple) else [value, value]
            else:
                out.append(value)
        rows.append([_plain(v) for v in out])
    return head, rows


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    return value


def write_tables(report: Report, folder: Path) -> list[Path]:
    """Each table as a CSV (UTF-8 with BOM, text neutralised against formulas) and all of them in one XLSX, a
    sheet per section."""
    import xlsxwriter

    paths = []
    csv_dir = folder / "csv"
    csv_dir.mkdir(parents=True, exist_ok=True)
    for table in report.tables:
        head, rows = _csv_cells(table)
        path = csv_dir / f"{table.key}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([safe(table.caption)])
            w.writerow([safe(h) for h in head])
            w.writerows([["" if v is None else safe(v) for v in r] for r in rows])
            for note in table.notes:
                w.writerow([safe(note)])
        paths.append(path)
    xlsx = folder / f"{report.slug}.xlsx"
    book = xlsxwriter.Workbook(str(xlsx), {"strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    head_fmt = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
    number = {"int": book.add_format({"num_format": "#,##0"}), "score": book.add_format({"num_format": "0.0"}),
              "pct": book.add_format({"num_format": "0.0"}), "delta": book.add_format({"num_format": "+0.0;-0.0;0.0"}),
              "mean": book.add_format({"num_format": "0.00"}), "ci": book.add_format({"num_format": "0.00"})}
    names: set[str] = set()
    for section in report.sections:
        if not section.tables:
            continue
        sheet = book.add_worksheet(_sheet_name(section, report, names))
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 12, 12)
        at = 0
        for table in section.tables:
            head, rows = _csv_cells(table)
            kinds = [k for c in table.columns for k in ([c.kind] * (2 if c.kind == "ci" else 1))]
            sheet.write_string(at, 0, table.caption, bold)
            for j, h in enumerate(head):
                sheet.write_string(at + 1, j, h, head_fmt)
            for i, r in enumerate(rows):
                for j, v in enumerate(r):
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        sheet.write_number(at + 2 + i, j, v, number.get(kinds[j]))
                    elif v is not None:
                        sheet.write_string(at + 2 + i, j, str(v))  # a string cell, never a formula
            at += len(rows) + 2
            for note in table.notes:
                sheet.write_string(at, 0, note)
                at += 1
            at += 1
    book.close()
    paths.append(xlsx)
    return paths


def _sheet_name(section: Section, report: Report, used: set[str]) -> str:
    prefix = next((s.title for s in report.sections if s.level == 2 and section.id.startswith(s.id + "-")), "")
    name = re.sub(r"[\[\]:*?/\\《》]", "", f"{prefix}{section.title}")[:31] or "表"
    base, k = name, 2
    while name in used:
        name = f"{base[:28]}{k}"
        k += 1
    used.add(name)
    return name


def write_pdf(report: Report, folder: Path) -> Path:
    """The page as an A4 PDF (WeasyPrint), the CJK font embedded as a subset."""
    import weasyprint

    path = folder / f"{report.slug}.pdf"
    weasyprint.HTML(string=html(report, pdf=True), base_url=str(folder) + "/").write_pdf(path)
    return path


def render(report: Report, out_dir: Path, pdf: bool = True) -> list[Path]:
    """Write one report's folder: index.html, its tables (CSV, XLSX) and its PDF. The charts are drawn already."""
    folder = out_dir / report.slug
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    page.write_text(html(report), encoding="utf-8")
    paths = [page] + write_tables(report, folder)
    if pdf:
        paths.append(write_pdf(report, folder))
    return paths


def _draw_many(specs: list[Spec | TileSpec], folder: Path) -> list[str]:
    return [charts.draw(s, folder).spec.name for s in specs]


# ---- the whole set ---------------------------------------------------------------------------------------------------

def write_all(parquet_dir: Path, survey: Survey, catalog: Catalog | None, out_dir: Path, *,
              min_province_n: int = MIN_PROVINCE_N, margins: Path | None = None, last_year: Path | None = None,
              publish: bool | Path = False, min_n: int = analysis.MIN_N, suggestions: Any = None,
              workers: int | None = None, pdf: bool = True, timings: dict[str, float] | None = None) -> list[Path]:
    """Write every report into `out_dir` (a folder per report, shared charts in charts/, an index page, and
    summary.json: this year's figures for next year's --last-year) and return the files written.

    margins: a margins file to weight by; last_year: last year's summary, for the changes; suggestions: the
    suggestions' summary if already made (else it is made here; False leaves the section out); publish: also copy
    the pages into the site (True: site_src/results/, or a folder); pdf: False skips the PDFs (a quick look)."""
    timings = timings if timings is not None else {}
    clock = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    with analysis.open_data(Path(parquet_dir), survey, weights=margins, last_year=last_year) as data:
        figures = collect(data, min_n)
        has_last_year = data.last_year is not None
        # This year's figures in the form next year's reports read with --last-year.
        summary = analysis.save_summary(analysis.summary(data, min_n), out_dir / "summary.json")
    timings["figures"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if suggestions is None:
        suggestions = _suggestions(Path(parquet_dir), survey)
    timings["suggestions"] = time.perf_counter() - clock
    clock = time.perf_counter()
    now = datetime.now(BEIJING)
    year = str(catalog.opens.astimezone(BEIJING).year) if catalog else ""
    reports = [build(figures, s, catalog=catalog, suggestions=suggestions or None, year=year,
                     generated=now.strftime("%Y-%m-%d %H:%M（北京时间）"), has_last_year=has_last_year)
               for s in scopes(figures, catalog, min_province_n)]
    timings["reports"] = time.perf_counter() - clock
    paths = [summary] + _render_all(reports, out_dir, workers or min(2, os.cpu_count() or 1), pdf, timings)
    paths += write_index(reports, out_dir, year)
    if publish:
        paths += publish_to(out_dir, reports, SITE_RESULTS if publish is True else Path(publish), year)
    return paths


def _suggestions(parquet_dir: Path, survey: Survey) -> Any:
    from . import suggestions

    if not any(suggestions.free_text_columns(survey).values()):
        return False
    try:
        return suggestions.analyse(parquet_dir, survey)
    except suggestions.SuggestionsError:
        return False


def _render_all(reports: list[Report], out_dir: Path, workers: int, pdf: bool,
                timings: dict[str, float]) -> list[Path]:
    """Charts first (each drawn once, however many reports show it), then each report's files; in a pool of
    processes when `workers` > 1, the longest reports first so the pool finishes together."""
    folder = out_dir / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    css = out_dir / "report.css"  # before any page: the PDFs are laid out with it
    css.write_text(stylesheet(), encoding="utf-8")
    unique: dict[str, Spec | TileSpec] = {}
    for r in reports:
        for spec in r.charts:
            unique.setdefault(spec.name, spec)
    specs = list(unique.values())
    order = sorted(reports, key=lambda r: -(len(r.tables) + 4 * len(r.charts)))
    paths: list[Path] = []
    clock = time.perf_counter()
    if workers <= 1:
        _draw_many(specs, folder)
        timings["charts"] = time.perf_counter() - clock
        clock = time.perf_counter()
        for r in order:
            paths += render(r, out_dir, pdf)
    else:
        # spawn, not fork: the parent has run DuckDB's threads, and a forked copy of a threaded process may hang
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            size = max(1, len(specs) // (workers * 4))
            batches = [specs[i:i + size] for i in range(0, len(specs), size)]
            list(pool.map(_draw_many, batches, [folder] * len(batches)))
            timings["charts"] = time.perf_counter() - clock
            clock = time.perf_counter()
            for written in pool.map(render, order, [out_dir] * len(order), [pdf] * len(order)):
                paths += written
    timings["pages"] = time.perf_counter() - clock
    timings["chart_count"] = len(specs)
    paths += [folder / name for s in specs for name in charts.file_names(s).values()]
    return paths + [css]


INDEX_GROUPS = (("national", "全国报告"), ("topic", "专题报告（按问卷）"), ("province", "区域报告（按省份）"),
                ("sponsor", "单位报告（按发起和支持单位，仅含本单位带来的样本）"))


def write_index(reports: list[Report], out_dir: Path, year: str = "", home: str = "") -> list[Path]:
    """The list of reports, with each one's sample size, index and downloads."""
    campaign = f"{year}年网民网络安全感满意度调查" if year else "网民网络安全感满意度调查"
    groups = [(kind, heading, [r for r in reports if r.kind == kind]) for kind, heading in INDEX_GROUPS]
    page = _env().get_template("index.html.j2").render(
        title=f"{campaign}结果报告", home=home, groups=groups,
        intro="全国报告、各问卷的专题报告、有效样本达到规定数量的各省份报告和各单位报告；每份报告有网页版、PDF 和数据表格。"
              "指数为各报告第一份问卷的网民网络安全感满意度指数。",
        footer="数据均来自有效样本；样本量不足的分组不报告数值。")
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return [path]


def publish_to(out_dir: Path, reports: list[Report], target: Path, year: str = "") -> list[Path]:
    """Copy the reports into the site's source (target, normally site_src/results/), replacing what an earlier
    publication put there: pages, their SVG charts, PDFs and tables; the PNG charts only serve the PDFs."""
    if target.exists():
        shutil.rmtree(target)
    (target / "charts").mkdir(parents=True)
    written = []
    for r in reports:
        shutil.copytree(out_dir / r.slug, target / r.slug)
        written += [p for p in (target / r.slug).rglob("*") if p.is_file()]
        for spec in r.charts:
            svg = target / "charts" / f"{spec.name}.svg"
            if not svg.exists():
                shutil.copyfile(out_dir / "charts" / svg.name, svg)
                written.append(svg)
    shutil.copyfile(out_dir / "report.css", target / "report.css")
    written.append(target / "report.css")
    written += write_index(reports, target, year, home="../")
    return written


# ---- the command -----------------------------------------------------------------------------------------------------

def add_parser(sub: Any) -> None:
    """Register `results`: every report from the export's Parquet, optionally published into the site."""
    p = sub.add_parser("results", help="the national, provincial, topic and sponsor reports: HTML, PDF, CSV, XLSX",
                       description="Reports from the export's Parquet (python -m lambdas.admin export --format parquet)."
                                   " Publishing copies them into site_src/results/ for the next site build; do it only "
                                   "when the secretariat has decided to publish.")
    p.add_argument("--data", type=Path, required=True, help="the export's folder (submissions-<questionnaire>.parquet)")
    p.add_argument("--out", type=Path, required=True, help="where to write the reports")
    p.add_argument("--min-n", type=int, default=MIN_PROVINCE_N,
                   help=f"valid samples a province needs for a report of its own (default {MIN_PROVINCE_N})")
    p.add_argument("--min-cell", type=int, default=analysis.MIN_N,
                   help=f"figures resting on fewer respondents are withheld (default {analysis.MIN_N})")
    p.add_argument("--margins", type=Path, help="a margins file (province × age × gender shares) to weight by")
    p.add_argument("--last-year", type=Path, help="last year's summary file: every figure shows its change")
    p.add_argument("--publish", action="store_true", help="copy the reports into site_src/results/ for the site")
    p.add_argument("--workers", type=int, default=None, help="processes drawing and rendering (default: up to 2)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    site = Path(getattr(args, "site", None) or "site")
    try:
        survey = (questionnaires.load(site / "questionnaires.json") if (site / "questionnaires.json").is_file()
                  else questionnaires.load())
        if not (site / "sponsors.json").is_file():
            print(f"error: {site / 'sponsors.json'} not found: the sponsors' names come from the built site; build it "
                  "(python -m generator build) or pass --site", file=sys.stderr)
            return 2
        cat = catalogs.load(site / "sponsors.json")
        timings: dict[str, float] = {}
        began = time.perf_counter()
        paths = write_all(args.data, survey, cat, args.out, min_province_n=args.min_n, margins=args.margins,
                          last_year=args.last_year, publish=args.publish, min_n=args.min_cell,
                          workers=args.workers, timings=timings)
    except (analysis.ResultsError, questionnaires.QuestionnaireError, MarginsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pages = [p for p in paths if p.name == "index.html" and p.parent.parent == args.out]
    print(f"{args.out}: {len(pages)} reports ({len(paths)} files) in {time.perf_counter() - began:.0f} s; "
          f"open {args.out / 'index.html'}")
    if args.publish:
        print(f"published into {SITE_RESULTS.resolve()}: the next site build serves them at /results/")
    return 0
