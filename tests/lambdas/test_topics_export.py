"""Exporting topic submissions: a questionnaire with topics gets its core file (every respondent of any topic,
with the topic) and one file per topic's form with the topic's answers; one without topics exports as before."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lambdas.admin import export
from lambdas.submit import app
from lambdas.survey import questionnaire
from tests.lambdas.answers import valid_answers
from tests.lambdas.conftest import call, event, make_intake, payload, submissions

SOURCE_2025 = questionnaire.SOURCE.with_name("questionnaires-2025.yaml")
FORMS = ("public.ai", "public.ai", "public.civility", "pro.compliance")


@pytest.fixture(scope="module")
def survey2025() -> questionnaire.Survey:
    return questionnaire.load(SOURCE_2025)


@pytest.fixture
def stored(ddb: Any, open_catalog: Path, survey2025: questionnaire.Survey) -> list[dict[str, Any]]:
    """Four topic submissions posted through the handler, as the table holds them."""
    it = make_intake(ddb, open_catalog, survey2025)
    app.configure(it)
    try:
        for seed, form in enumerate(FORMS, 1):
            body = payload(it, seed=seed)
            body.update(questionnaire=form, answers=valid_answers(survey2025.forms[form], random.Random(seed)))
            if form == "public.civility":
                body["answers"]["civility_idea"] = "=倡导文明上网"  # a topic's free text, formula-like
            assert call(event(body, ip=f"198.51.100.{seed}"))[0] == 200
    finally:
        app.configure(None)  # type: ignore[arg-type]
    return submissions(ddb)


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_core_file_holds_every_respondent_with_the_topic(stored, survey2025, tmp_path):
    written = export.export(stored, survey2025, tmp_path, export.Filters())
    assert written["public"] == 3 and written["pro"] == 1
    core = _csv(tmp_path / "submissions-public.csv")
    assert sorted(r["topic"] for r in core) == ["ai", "ai", "civility"]
    assert sorted(r["questionnaire"] for r in core) == ["public.ai", "public.ai", "public.civility"]
    public = survey2025.questionnaires["public"]
    assert list(core[0]) == export.columns(public)
    assert "topic" in core[0] and "ai_use" not in core[0] and "civility_idea" not in core[0]
    answers = {s["id"]: json.loads(s["answers"]) for s in stored}
    for row in core:
        assert row["overall"] == str(answers[row["id"]]["overall"])
        assert row["region.province"] == answers[row["id"]]["region"]["province"]
    table = pq.read_table(tmp_path / "submissions-public.parquet")
    assert table.column_names == export.columns(public) and sorted(table.column("topic").to_pylist()) == [
        "ai", "ai", "civility"]


def test_each_topic_has_its_own_file_with_its_answers(stored, survey2025, tmp_path):
    written = export.export(stored, survey2025, tmp_path, export.Filters())
    assert {k: v for k, v in written.items() if v} == {"public": 3, "pro": 1, "public.ai": 2, "public.civility": 1,
                                                       "pro.compliance": 1}
    # every topic gets its file, empty or not, so the analysis finds the same set each time
    assert all((tmp_path / f"submissions-{f}.csv").is_file() for f in survey2025.forms)
    answers = {s["id"]: json.loads(s["answers"]) for s in stored}
    ai = _csv(tmp_path / "submissions-public.ai.csv")
    assert list(ai[0]) == export.columns(survey2025.forms["public.ai"]) and "topic" not in ai[0]
    for row in ai:
        assert row["ai_use"] == answers[row["id"]]["ai_use"]
        assert row["ai_governance"] == str(answers[row["id"]]["ai_governance"])
        assert row["ai_risks"] == ";".join(answers[row["id"]]["ai_risks"])
    [pro] = pq.read_table(tmp_path / "submissions-pro.compliance.parquet").to_pylist()
    assert pro["compliance_burden"] == answers[pro["id"]]["compliance_burden"]
    assert pro["questionnaire"] == "pro.compliance"
    # a topic's free text goes to the suggestions file too, under its form, neutralised as every cell is
    suggestions = _csv(tmp_path / "suggestions.csv")
    assert [(r["questionnaire"], r["question"], r["text"]) for r in suggestions if r["question"] == "civility_idea"] \
        == [("public.civility", "civility_idea", "'=倡导文明上网")]


def test_filters_apply_to_both_files(stored, survey2025, tmp_path):
    province = next(s["province"] for s in stored if s["questionnaire"] == "public.civility")
    written = export.export(stored, survey2025, tmp_path, export.Filters(province=province), formats=("csv",))
    expected = [s for s in stored if s["province"] == province]
    assert written["public"] + written["pro"] == len(expected)
    assert written["public.civility"] == sum(s["questionnaire"] == "public.civility" for s in expected)


def test_a_questionnaire_without_topics_has_no_topic_column(survey):
    assert "topic" not in export.columns(survey.questionnaires["public"])
