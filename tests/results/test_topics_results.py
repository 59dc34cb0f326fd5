"""The results over a 2025 export: the topic forms' files are opened beside the questionnaires' core files, a
topic's tables and index count that topic's respondents, topic reports cover each form and the national report
counts every respondent once."""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from pathlib import Path

import pytest

from lambdas.admin import export
from lambdas.results import analysis, queries, reports
from lambdas.survey import questionnaire
from tests.lambdas.answers import valid_answers

SOURCE_2025 = questionnaire.SOURCE.with_name("questionnaires-2025.yaml")


@pytest.fixture(scope="module")
def survey2025() -> questionnaire.Survey:
    return questionnaire.load(SOURCE_2025)


@pytest.fixture(scope="module")
def rows(survey2025) -> list[dict]:
    """Stored submissions of every form, more of some topics than others."""
    rng = random.Random(7)
    forms = [f for f in survey2025.forms for _ in range(3 if f == "public.ai" else 1)]
    out = []
    for n in range(240):
        form = rng.choice(forms)
        answers = valid_answers(survey2025.forms[form], rng)
        out.append({"id": f"r{n:04d}", "questionnaire": form, "day": "2025-09-0" + str(1 + n % 7),
                    "received": f"2025-09-01T00:{n // 60:02d}:{n % 60:02d}Z", "sponsor": "sp", "channel": "web",
                    "claimed": "", "province": answers["region"]["province"], "valid": n % 23 != 0,
                    "reasons": [] if n % 23 else ["too_fast"], "seconds": 300, "answers": json.dumps(answers)})
    return out


@pytest.fixture(scope="module")
def exported(rows, survey2025, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export-2025")
    export.export(rows, survey2025, out, export.Filters(), formats=("parquet",))
    return out


def _valid(rows: list[dict], form: str) -> list[dict]:
    return [r for r in rows if r["valid"] and r["questionnaire"].startswith(form)]


def test_the_topic_files_are_opened_beside_the_core_files(exported, survey2025, rows):
    with analysis.open_data(exported, survey2025) as data:
        assert data.questionnaires == ("public", "pro", *survey2025.forms)
        assert data.bases == ("public", "pro")
        assert data.questionnaire("public.ai") is survey2025.forms["public.ai"]
        assert data.questionnaire("public") is survey2025.questionnaires["public"]
        for qid in ("public", "pro", "public.ai", "pro.cii"):
            (n,), = data.query(queries.render("respondent_count", respondents=data.respondents(qid, weighted=False)))
            assert n == len(_valid(rows, qid + ("" if "." in qid else ".")))


def test_a_topics_tables_and_index_count_that_topics_respondents(exported, survey2025, rows):
    ai_rows = _valid(rows, "public.ai")
    form = survey2025.forms["public.ai"]
    with analysis.open_data(exported, survey2025) as data:
        [table] = [t for t in analysis.question_tables(data, "public.ai", min_n=1) if t.question == "ai_use"]
        tally = Counter(json.loads(r["answers"])["ai_use"] for r in ai_rows)
        assert table.n == len(ai_rows) and {s.option: s.count for s in table.shares} == {
            o: tally.get(o, 0) for o, _ in form.questions[[q.id for q in form.questions].index("ai_use")].options}
        index = analysis.index_table(data, "public.ai", min_n=1)
        by_hand = [form.index.respondent(export.flatten(r, form))[0] for r in ai_rows]
        assert index.rows[0].n == len(ai_rows)
        assert index.rows[0].index.unweighted.value == pytest.approx(statistics.mean(by_hand))
        # the demographics a topic's report groups by are its questionnaire's
        assert analysis.groupings(data, "public.ai") == analysis.groupings(data, "public")
        assert "public.ai" in analysis.summary(data, min_n=5)["questionnaires"]


def test_topic_reports_cover_each_form_and_the_nation_counts_everyone_once(exported, survey2025, rows):
    with analysis.open_data(exported, survey2025) as data:
        figures = reports.collect(data, min_n=5)
    scopes = reports.scopes(figures, None, 5)
    national = next(s for s in scopes if s.kind == "national")
    assert national.questionnaires == ("public", "pro")
    assert all(s.questionnaires == ("public", "pro") for s in scopes if s.kind in ("province", "sponsor"))
    topics = {s.questionnaires[0]: s for s in scopes if s.kind == "topic"}
    assert set(topics) == {"public", "pro", *survey2025.forms}
    assert reports.build(figures, national).n == sum(r["valid"] for r in rows)
    ai = reports.build(figures, topics["public.ai"])
    assert ai.slug == "topic-public-ai" and "智能社会发展与治理挑战" in ai.title
    assert ai.n == len(_valid(rows, "public.ai"))


def test_relations_and_athena_tables_of_topic_forms(survey2025):
    assert queries.relation("public.ai") == "submissions_public__ai"
    assert queries.scored_relation("public.ai") == "scored_public__ai"
    core = queries.athena_flatten(survey2025.questionnaires["public"])
    assert "Item.questionnaire.S LIKE 'public.%'" in core
    assert "Item.questionnaire.S = 'public.ai'" in queries.athena_flatten(survey2025.forms["public.ai"])
