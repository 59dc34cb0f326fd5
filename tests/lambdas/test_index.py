"""The satisfaction index as data: one respondent's scores computed by hand, each mistake in its definition named,
and the published method page showing the same definition."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import pytest

from lambdas.survey import questionnaire
from lambdas.survey.questionnaire import QuestionnaireError

PUBLIC = questionnaire.load().questionnaires["public"]


def test_one_respondents_index_by_hand():
    # GIVEN a respondent who answered overall 4, trend 'unsure' (left out), police 5, privacy 2, cac 3, telecom 1,
    # minors not at all, platforms 4 and the platform rows 5, 5, 3, 3, 4, law_effect 2
    answers = {"overall": 4, "trend": "unsure", "satisfaction.police": 5, "satisfaction.privacy": 2,
               "satisfaction.cac": 3, "satisfaction.telecom": 1, "satisfaction.platforms": 4,
               "platform_perf.social": 5, "platform_perf.ecommerce": 5, "platform_perf.payment": 3,
               "platform_perf.video": 3, "platform_perf.games": 4, "law_effect": 2}
    index, domains = PUBLIC.index.respondent(answers)
    # THEN each domain is the weighted mean of its answered items on the 0/25/50/75/100 scale
    assert domains == {
        "overall": 75.0,  # trend 'unsure' has no score: only overall (4 → 75) counts
        "crime": 100.0, "privacy": 25.0,
        "content": 25.0,  # (50 + 0) / 2
        "platforms": (2 * 75 + 100 + 100 + 50 + 50 + 75) / 7,
        "law": 25.0,
    }
    # AND the index renormalises the weights over the domains the respondent has (no 'minors': 1 - 0.1 = 0.9)
    expected = (0.2 * 75 + 0.2 * 100 + 0.15 * 25 + 0.1 * 25 + 0.15 * domains["platforms"] + 0.1 * 25) / 0.9
    assert index == pytest.approx(expected)


def test_a_scored_single_choice_counts_and_an_unanswered_respondent_has_no_index():
    index, domains = PUBLIC.index.respondent({"overall": 2, "trend": "much_better"})
    assert domains == {"overall": (2 * 25 + 100) / 3} and index == pytest.approx(domains["overall"])
    assert PUBLIC.index.respondent({}) == (None, {})


def _broken(edit) -> str:
    data = questionnaire.read()
    edit(data["questionnaires"]["public"]["index"])
    path = Path("questionnaires.json")
    with pytest.raises(QuestionnaireError) as err:
        questionnaire.parse(copy.deepcopy(data), path)
    return str(err.value)


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda i: i["domains"][0].update(weight=0.5), "the weights add up to 1.3; they must add up to 1"),
    (lambda i: i["domains"][1]["items"][0].update(row="fbi"), "index.domains[1].items[0].row: 'satisfaction' is a matrix"),
    (lambda i: i["domains"][0]["items"][1]["scores"].update(maybe=10), "scores.maybe: not an option of 'trend'"),
    (lambda i: i["domains"][0]["items"][1].pop("scores"), "'trend' is a single choice; give each scored option"),
    (lambda i: i["domains"][0]["items"].append({"question": "suggestions"}), "'suggestions' is textarea"),
    (lambda i: i["domains"][0]["items"].append({"question": "nope"}), "no question 'nope'"),
    (lambda i: i.update(scale=[0, 50, 25, 75, 100]), "index.scale: five scores from 0 to 100, ascending"),
    (lambda i: i["domains"][2].update(id="crime"), "index.domains[2].id: 'crime' is used twice"),
    (lambda i: i["domains"][0]["items"][0].update(colour="red"), "items[0].colour: unknown key"),
])
def test_each_mistake_in_the_index_is_named_with_its_place(edit, expected):
    message = _broken(edit)
    assert "questionnaires.public.index" in message and expected in message


def test_the_method_page_shows_the_definition_the_computation_reads(built_small):
    page = (built_small / "site" / "method" / "index.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for qn in questionnaire.load().questionnaires.values():
        assert qn.index.title in text
        for d in qn.index.domains:
            assert d.title in text and f"{d.weight * 100:g}%" in text
    assert "说不清" not in text.split("（其他选项不计）")[0].split("计分")[-1]  # excluded options are not listed as scored
    assert "明显好转 100 分" in text and "0 / 25 / 50 / 75 / 100" in text
    published = json.loads((built_small / "site" / "questionnaires.json").read_text(encoding="utf-8"))
    assert published["questionnaires"]["public"]["index"]["domains"][0]["id"] == "overall"
