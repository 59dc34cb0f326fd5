"""The forms in the built site: one per link and questionnaire, made from the questionnaire file alone."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lambdas.survey import questionnaire
from lambdas.submit.intake import FORM_META

SURVEY = questionnaire.load()


class Form(HTMLParser):
    """The form's controls, labels and the page's metadata, as a browser without script would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.required: set[str] = set()
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.meta: dict[str, str] = {}
        self.hidden: dict[str, str] = {}
        self.form: dict[str, str] = {}
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("input", "select", "textarea") and a.get("name"):
            self.names.add(a["name"])
            if "required" in a:
                self.required.add(a["name"])
            if a.get("type") == "hidden":
                self.hidden[a["name"]] = a.get("value", "")
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        if tag == "meta" and a.get("name"):
            self.meta[a["name"]] = a.get("content", "")
        if tag == "form":
            self.form = a
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])


def parse(path: Path) -> Form:
    form = Form()
    form.feed(path.read_text(encoding="utf-8"))
    return form


@pytest.mark.parametrize(("slug", "channel"), [("guangdong-cyber", "poster"), ("shenzhen-media", "app")])
@pytest.mark.parametrize("qid", list(SURVEY.questionnaires))
def test_every_link_carries_each_questionnaire_with_its_attribution(built_small, slug, channel, qid):
    first = next(iter(SURVEY.questionnaires))
    folder = built_small / "site" / "s" / slug / channel / ("" if qid == first else qid)
    form = parse(folder / "index.html")
    qn = SURVEY.questionnaires[qid]
    # The attribution is in the page itself, not only in its address
    assert form.hidden["sponsor"] == form.meta["survey-sponsor"] == slug
    assert form.hidden["channel"] == form.meta["survey-channel"] == channel
    assert form.hidden["questionnaire"] == qid
    # Every control's name is one the server maps back to an answer, and every answer has its controls
    expected = {name for q in qn.questions for name in q.field_names()}
    assert form.names - FORM_META == expected
    # Without script the browser itself asks for what is always required, never for a follow-up
    for q in qn.questions:
        for name in q.field_names():
            if q.show_if or not q.required or q.type == "multi":
                assert name not in form.required, name
            elif q.type != "matrix" or q.required:
                assert name in form.required, name
    # Text controls are labelled; each question has a place for its error message
    assert {f"f-{q.id}" for q in qn.questions if q.type in ("text", "textarea")} <= form.label_for
    assert {f"e-{q.id}" for q in qn.questions} <= form.ids
    assert form.form["method"] == "post" and form.form["action"].endswith("api/submit")
    assert (built_small / "site" / form.scripts[0].split("?")[0].replace("../", "")).is_file()


def test_the_site_publishes_what_the_collection_api_reads(built_small):
    site = built_small / "site"
    published = json.loads((site / "questionnaires.json").read_text(encoding="utf-8"))
    assert questionnaire.parse(published, site / "questionnaires.json") == SURVEY
    catalog = json.loads((site / "sponsors.json").read_text(encoding="utf-8"))
    assert set(catalog["sponsors"]) == {"guangdong-cyber", "shenzhen-media", "beijing-ccs"}
    assert (site / "thanks" / "index.html").is_file()


def test_former_slugs_forward_every_questionnaire(built_small):
    for sub in ["", *list(SURVEY.questionnaires)[1:]]:
        page = built_small / "site" / "s" / "beijing-old" / "wechat" / sub / "index.html"
        assert f"s/beijing-ccs/wechat/{sub}" in page.read_text(encoding="utf-8")


def test_a_broken_questionnaire_fails_the_build_and_keeps_the_site(small_project, monkeypatch):
    from tests.conftest import mkdocs_build, tree_digest

    assert mkdocs_build(small_project).returncode == 0
    before = tree_digest(small_project / "site")
    broken = small_project / "questionnaires.yaml"
    broken.write_text(questionnaire.SOURCE.read_text(encoding="utf-8").replace("type: rating", "type: stars", 1),
                      encoding="utf-8")
    result = mkdocs_build(small_project, env={"SURVEY_QUESTIONNAIRES": str(broken)})
    assert result.returncode != 0
    assert "type: must be one of" in result.stderr and "questionnaires.yaml" in result.stderr
    assert tree_digest(small_project / "site") == before
