"""One show-if rule, the server's: `Question.shown`, which `Questionnaire.check` applies in question order to the
answers it has kept, so a follow-up whose own question no longer applies is dropped however it was answered. The
form's script must show exactly the questions whose answers the server keeps. Each case below is a set of choices on
the public questionnaire and the follow-ups that apply; the server's check and the script, in Chromium on the built
form page, are both held to it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas.survey import catalog as catalogs
from lambdas.survey import questionnaire
from lambdas.survey.questionnaire import Question, Questionnaire
from tests.helpers import serving
from tests.lambdas.answers import valid_answers

pytestmark = pytest.mark.e2e

FORM = "s/guangdong-cyber/wechat/"  # the public questionnaire
FRAUD = {"victim_loss", "fraud_reported"}
# case: (choices at show-if questions, the follow-ups that apply). Show-if questions not named take an option that
# shows nothing.
CASES: dict[str, tuple[dict[str, str], set[str]]] = {
    "nothing that shows a follow-up": ({}, set()),
    "the option that shows two follow-ups": ({"fraud_victim": "victim_yes"}, FRAUD),
    "another option of the same question": ({"fraud_victim": "victim_unsure"}, set()),
    "the first of two options that show one": ({"info_leak": "often"}, {"leak_signs"}),
    "the second of them": ({"info_leak": "sometimes"}, {"leak_signs"}),
    "a follow-up's own follow-up": ({"fraud_victim": "victim_yes", "fraud_reported": "not_reported"},
                                    FRAUD | {"not_reported_reason"}),
    "a follow-up's follow-up once the first question no longer shows the follow-up":
        ({"fraud_victim": "victim_no", "fraud_reported": "not_reported"}, set()),
    "two questions' follow-ups at once": ({"fraud_victim": "victim_yes", "occupation": "other", "info_leak": "often"},
                                          FRAUD | {"occupation_other", "leak_signs"}),
}


@pytest.fixture(scope="module")
def public() -> Questionnaire:
    return questionnaire.load().questionnaires["public"]


def _choices(qn: Questionnaire, chosen: dict[str, str]) -> dict[str, str]:
    """An option at every show-if question: the case's, or the first that shows nothing."""
    showing: dict[str, set[str]] = {}
    for q in qn.questions:
        if q.show_if:
            showing.setdefault(q.show_if[0], set()).update(q.show_if[1])
    by_id = {q.id: q for q in qn.questions}
    return {qid: chosen.get(qid) or next(o for o, _ in by_id[qid].options if o not in opts)
            for qid, opts in showing.items()}


def _answer(q: Question) -> Any:
    """A valid answer to a follow-up, so that the server keeps it whenever it applies."""
    if q.type == "single":
        return q.options[0][0]
    if q.type == "multi":
        return [o for o, _ in q.options[:max(q.min, 1)]]
    return "希望加强个人信息保护"[: q.max_length or None]


def kept_by_server(qn: Questionnaire, chosen: dict[str, str]) -> set[str]:
    """The follow-ups whose answers the server's check keeps when every question is answered."""
    answers = {**valid_answers(qn, random.Random(1)), **{q.id: _answer(q) for q in qn.questions if q.show_if},
               **_choices(qn, chosen)}
    clean = qn.check(answers)
    return {q.id for q in qn.questions if q.show_if and q.id in clean}


SHOWN_AFTER = """([choices]) => {
  const form = document.getElementById("survey");
  for (const [name, value] of Object.entries(choices)) {
    for (const el of form.querySelectorAll(`input[name="${name}"]`)) el.checked = el.value === value;
  }
  form.dispatchEvent(new Event("change", {bubbles: true}));
  return [...form.querySelectorAll("[data-q][data-show]")].filter(q => !q.hidden).map(q => q.dataset.q);
}"""


@pytest.fixture(scope="module")
def form(built_small: Path, browser: Any) -> Iterator[Any]:
    """The built public form in Chromium, its clock inside the survey window so the script runs."""
    site = built_small / "site"
    opens = catalogs.load(site / "sponsors.json").opens
    with serving(site) as url:
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page = context.new_page()
        page.route("**/api/**", lambda route: route.abort())  # no functions here; the proof is not needed
        page.clock.set_fixed_time((opens + timedelta(hours=1)).timestamp())
        page.goto(url + FORM)
        assert page.locator("#survey").is_visible()
        yield page
        context.close()


@pytest.mark.parametrize("case", list(CASES))
def test_the_script_shows_the_follow_ups_whose_answers_the_server_keeps(public: Questionnaire, form: Any,
                                                                         case: str) -> None:
    chosen, applying = CASES[case]
    assert kept_by_server(public, chosen) == applying
    # The choices are set as they stand, so a question that no longer applies keeps its choice, as it does in a
    # form where the respondent went back and changed an earlier answer.
    assert set(form.evaluate(SHOWN_AFTER, [_choices(public, chosen)])) == applying
