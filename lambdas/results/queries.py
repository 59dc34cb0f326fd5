"""The SQL of the results: the query files in `sql/`, filled in from the questionnaire.

Every shared query reads a relation named submissions_<questionnaire> with the export's columns, and uses only SQL
that DuckDB and Trino (Athena) both accept: double-quoted identifiers, literals with an exponent for doubles (a
plain 1.0 is a DECIMAL in Trino), CASE, COALESCE, NULLIF, GROUPING SETS and VALUES lists. What differs between the
engines is only how that relation comes to be: `duckdb_relation.sql` (a view over the Parquet) here,
`athena_export_table.sql` and `athena_flatten.sql` (the table's native S3 export, flattened by CTAS) in Athena.
Column names follow Athena's rule that a name has no dot: satisfaction.police is satisfaction__police in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from lambdas.admin.export import META
from lambdas.survey.index import Index, Item
from lambdas.survey.questionnaire import Question, Questionnaire

SQL_DIR = Path(__file__).with_name("sql")
ANALYSED = ("single", "multi", "rating", "matrix")  # the question types that have per-question tables


def relation(questionnaire: str) -> str:
    return f"submissions_{relation_id(questionnaire)}"


def relation_id(questionnaire: str) -> str:
    """A questionnaire's or a topic form's id as part of a relation's name (a dot would name a schema)."""
    return questionnaire.replace(".", "__")


def column(name: str) -> str:
    """The relation's name for an export column (Athena column names take no dot)."""
    return name.replace(".", "__")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def number(value: float) -> str:
    """A DOUBLE literal in both engines: with an exponent (Trino reads 0.15 as a DECIMAL)."""
    text = repr(float(value))
    return text if "e" in text else text + "e0"


def template(name: str) -> Template:
    return Template((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def render(name: str, **parts: str) -> str:
    return template(name).substitute(parts)


def field_columns(qn: Questionnaire) -> list[str]:
    """The export's columns for this questionnaire, in the export's order."""
    return list(META) + [name for q in qn.questions for name in q.field_names()]


@dataclass(frozen=True)
class WeightFactors:
    """Raked weights as one factor per category of each weighting dimension: a respondent's weight is the product
    of its categories' factors (1 for a respondent without an answer to a dimension)."""
    dimensions: tuple[str, ...]  # export columns, e.g. ("province", "age", "gender")
    factors: tuple[tuple[tuple[str, float], ...], ...]  # per dimension: (category, factor)

    def weight(self, categories: Mapping[str, str | None]) -> float:
        weight = 1.0
        for dim, factors in zip(self.dimensions, self.factors):
            factor = dict(factors).get(categories.get(dim) or "")
            if factor is None:
                return 1.0
            weight *= factor
        return weight

    def expression(self) -> str:
        """The weight as SQL over a respondent's columns: a CASE per dimension, multiplied."""
        cases = [f"CASE s.{ident(column(d))} " + " ".join(f"WHEN {literal(c)} THEN {number(f)}" for c, f in fs)
                 + " END" for d, fs in zip(self.dimensions, self.factors)]
        return f"COALESCE({' * '.join(cases)}, {number(1)})"


def respondents(questionnaire: str, *, include_invalid: bool = False, where: Mapping[str, str] | None = None,
                weights: WeightFactors | None = None, scored: bool = False, weight_column: bool = False) -> str:
    """The `respondents` common table expression every query starts from (without the leading WITH), over
    submissions_<questionnaire>, or with `scored` over scored_<questionnaire>. Weighted by `weights`, or with
    `weight_column` by the relation's own "_weight" (DuckDB computes the weights once: duckdb_weights.sql)."""
    keep = ["TRUE" if include_invalid else "s.valid"]
    keep += [f"s.{ident(column(k))} = {literal(v)}" for k, v in sorted((where or {}).items())]
    source = scored_relation(questionnaire) if scored else relation(questionnaire)
    weight = number(1)
    if weight_column:
        weight = 's."_weight"'
    elif weights is not None and weights.dimensions:
        weight = weights.expression()
    return render("respondents", relation=source, keep=" AND ".join(keep), weight=weight)


def question_counts(respondents_cte: str, name: str) -> str:
    return render("question_counts", respondents=respondents_cte, column=ident(column(name)))


def crosstab(respondents_cte: str, a: str, b: str) -> str:
    return render("crosstab", respondents=respondents_cte, a=ident(column(a)), b=ident(column(b)))


def weight_cells(respondents_cte: str, dimensions: Sequence[str]) -> str:
    dims = ", ".join(ident(column(d)) for d in dimensions)
    return render("weight_cells", respondents=respondents_cte, dimensions=dims)


# ---- the index ---------------------------------------------------------------------------------------------------

def item_score(index: Index, item: Item) -> str:
    """An item's score for one respondent, as Index.score gives it: NULL when unanswered or excluded."""
    col = ident(column(item.column))
    if item.scores:
        cases = " ".join(f"WHEN {literal(o)} THEN {number(s)}" for o, s in item.scores)
        return f"CASE {col} {cases} END"
    low, step = index.scale[0], index.scale[1] - index.scale[0]
    if all(low + (answer - 1) * step == score for answer, score in enumerate(index.scale, start=1)):
        # An evenly spaced scale as arithmetic, which engines evaluate faster than a five-way CASE; the check
        # above makes sure it gives exactly the scale's scores.
        start = f"{number(low)} + " if low else ""
        return f"CASE WHEN {col} BETWEEN 1 AND 5 THEN {start}({col} - 1) * {number(step)} END"
    cases = " ".join(f"WHEN {answer} THEN {number(s)}" for answer, s in enumerate(index.scale, start=1))
    return f"CASE {col} {cases} END"


def weighted_mean(terms: Sequence[tuple[float, str]]) -> str:
    """Σ weight·x over the x present, divided by the sum of their weights; NULL when none is present. Missing terms
    add exactly 0, so the arithmetic is the same as Index.respondent's sums over the present terms, in order."""
    top = " + ".join(f"COALESCE({x if w == 1 else f'{number(w)} * {x}'}, {number(0)})" for w, x in terms)
    bottom = " + ".join(f"CASE WHEN {x} IS NOT NULL THEN {number(w)} ELSE {number(0)} END" for w, x in terms)
    return f"({top}) / NULLIF({bottom}, {number(0)})"


def _expressions(index: Index) -> tuple[list[str], list[str], str]:
    """The item scores "_i<k>", the domain scores "_d<k>" over them, and the index over the domains."""
    items, domains = [], []
    at = 0
    for d in index.domains:
        terms = []
        for item in d.items:
            items.append(f"{item_score(index, item)} AS \"_i{at}\"")
            terms.append((item.weight, f'"_i{at}"'))
            at += 1
        domains.append(f'{weighted_mean(terms)} AS "_d{len(domains)}"')
    return items, domains, weighted_mean([(d.weight, f'"_d{i}"') for i, d in enumerate(index.domains)])


def scores(index: Index, group: str) -> str:
    """The items, domains and scored CTEs (without WITH) over the `respondents` CTE, with `group` (an SQL expression
    over the respondents, or NULL) carried as "_g": for queries that score their own selection in one statement."""
    items, domains, idx = _expressions(index)
    domain_columns = ", ".join(f'"_d{i}"' for i in range(len(index.domains)))
    return render("scores", group=group, items=",\n    ".join(items), domains=",\n    ".join(domains),
                  domain_columns=domain_columns, index=idx)


def scored(qid: str, index: Index) -> str:
    """The SELECT that defines scored_<questionnaire>: submissions_<questionnaire> with its scores (scored.sql)."""
    items, domains, idx = _expressions(index)
    return render("scored", relation=relation(qid), items=",\n      ".join(items),
                  domains=",\n    ".join(domains), index=idx)


def scored_relation(qid: str) -> str:
    return f"scored_{relation_id(qid)}"


def score_columns(index: Index) -> list[str]:
    return [f'"_d{i}"' for i in range(len(index.domains))] + ['"_idx"']


PLAIN_SUMS = ("n", "sx", "sxx")  # per measure, in this order, from index_table.sql
WEIGHTED_SUMS = PLAIN_SUMS + ("sw", "swx", "swxx", "sww")  # the same with weights


def index_table(respondents_cte: str, index: Index, group: str | None, weighted: bool = False) -> str:
    """The index's sums (PLAIN_SUMS, or WEIGHTED_SUMS) per value of `group` (an SQL expression; None for everyone);
    `respondents_cte` must read scored_<questionnaire>."""
    aggregates = []
    for m in ['"_idx"'] + [f'"_d{i}"' for i in range(len(index.domains))]:
        sums = [f"COUNT({m})", f"SUM({m})", f"SUM({m} * {m})"]
        if weighted:
            present = f"CASE WHEN {m} IS NOT NULL THEN \"_w\" END"
            sums += [f"SUM({present})", f'SUM("_w" * {m})', f'SUM("_w" * {m} * {m})', f'SUM({present} * "_w")']
        aggregates.append(", ".join(sums))
    return render("index_table", respondents=respondents_cte, group=group or "CAST(NULL AS VARCHAR)",
                  group_by=f"\nGROUP BY {group}" if group else "", aggregates=",\n  ".join(aggregates))


def respondent_scores(respondents_cte: str, index: Index, limit: int | None = None) -> str:
    domain_columns = ", ".join(f'"_d{i}"' for i in range(len(index.domains)))
    return render("respondent_scores", respondents=respondents_cte, domain_columns=domain_columns,
                  limit=f"\nLIMIT {int(limit)}" if limit is not None else "")


# ---- the relation, in each engine ---------------------------------------------------------------------------------

def duckdb_relation(qn: Questionnaire, path: Path | str, table: bool = False, weights: str | None = None) -> str:
    """The DuckDB view (or, with `table`, an in-memory table) submissions_<questionnaire> over a Parquet file;
    with `weights` (a table made by duckdb_weights), carrying its "_weight" row for row."""
    columns = ",\n  ".join(f"{ident(c)} AS {ident(column(c))}" if column(c) != c else ident(c)
                           for c in field_columns(qn))
    join = ""
    if weights:
        columns += ',\n  "_weight"'
        join = f" POSITIONAL JOIN {weights}"
    sql = render("duckdb_relation", relation=relation(qn.id), columns=columns, path=literal(str(path)), join=join)
    return sql.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TABLE") if table else sql


def weights_relation(qid: str) -> str:
    return f"weights_{relation_id(qid)}"


def duckdb_weights(qid: str, weights: WeightFactors) -> str:
    return render("duckdb_weights", weights=weights_relation(qid), weight=weights.expression(), relation=relation(qid))


def duckdb_scored(qid: str, index: Index) -> list[str]:
    """The DuckDB statements that make scored_<questionnaire>: the scores in memory beside the Parquet's view."""
    sql = render("duckdb_scored", scores=f"scores_{relation_id(qid)}", score_columns=", ".join(score_columns(index)),
                 scored=scored(qid, index), scored_relation=scored_relation(qid), relation=relation(qid))
    return [s for s in sql.split(";\n") if s.strip()]


def athena_scored(qid: str, index: Index, location: str | None = None) -> str:
    where = f",\n      external_location = {literal(location)}" if location else ""
    return render("athena_scored", scored_relation=scored_relation(qid), location=where, scored=scored(qid, index))


def athena_export_table(source: str, location: str) -> str:
    return render("athena_export_table", source=source, location=literal(location))


def athena_flatten(qn: Questionnaire, source: str = "survey_export", location: str | None = None) -> str:
    """CTAS text that makes submissions_<questionnaire> in Athena from the table's S3 export, with exactly the
    columns the export's Parquet has (renamed as `column` does)."""
    columns = [f"{expr} AS {ident(column(name))}" for name, expr in athena_columns(qn)]
    where = f",\n      external_location = {literal(location)}" if location else ""
    # A questionnaire with topics is stored under its forms' ids ("public.ai"): its core table holds them all.
    match = f"LIKE {literal(qn.id + '.%')}" if qn.modules is not None else f"= {literal(qn.id)}"
    return render("athena_flatten", relation=relation(qn.id), columns=",\n  ".join(columns), source=source,
                  location=where, match=match)


def athena_columns(qn: Questionnaire) -> list[tuple[str, str]]:
    """(export column, Trino expression over the export's Item) for every column, in the export's order."""
    plain = {"id", "questionnaire", "day", "received", "sponsor", "channel", "province"}
    out: list[tuple[str, str]] = []
    for name in META:
        if name in plain:
            out.append((name, f"Item.{name}.S"))
        elif name == "claimed":
            out.append((name, "COALESCE(Item.claimed.S, '')"))
        elif name == "valid":
            out.append((name, "Item.valid.BOOL"))
        elif name == "reasons":
            out.append((name, "COALESCE(array_join(transform(Item.reasons.L, r -> r.S), ';'), '')"))
        elif name == "seconds":
            out.append((name, "CAST(Item.seconds.N AS BIGINT)"))
        else:  # a new META column needs its expression here; the test of the column list fails until it has one
            out.append((name, "NULL"))
    for q in qn.questions:
        out.extend(_answer_columns(q))
    return out


def _answer_columns(q: Question) -> list[tuple[str, str]]:
    answers = "Item.answers.S"
    if q.type == "matrix":
        return [(f"{q.id}.{r}", f"CAST(json_extract_scalar({answers}, '$.{q.id}.{r}') AS BIGINT)") for r, _ in q.rows]
    if q.type == "region":
        return [(f"{q.id}.{k}", f"json_extract_scalar({answers}, '$.{q.id}.{k}')") for k in ("province", "city")]
    if q.type == "multi":
        joined = f"array_join(CAST(json_extract({answers}, '$.{q.id}') AS ARRAY(VARCHAR)), ';')"
        return [(q.id, f"NULLIF({joined}, '')")]
    if q.type == "rating":
        return [(q.id, f"CAST(json_extract_scalar({answers}, '$.{q.id}') AS BIGINT)")]
    return [(q.id, f"json_extract_scalar({answers}, '$.{q.id}')")]
