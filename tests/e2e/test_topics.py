"""A netizen on a phone answers the common core and one topic, against the real local stack built with the 2025
questionnaire file (a core plus ten public topics and three for practitioners): the link printed on a poster opens
the topic list, the server offers the least-filled topics, the respondent picks one, answers, submits; the table
holds one submission under the topic's form, attributed to the link, counted per topic, exported per topic. The
same without JavaScript, posting to the link's own address. And where the campaign assigns topics, the page goes
straight to the one the server assigns."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lambdas.survey import questionnaire
from lambdas.survey.counts import FRESH_SECONDS
from tests.e2e.test_form import _answer_everything, _phone, _submissions
from tests.e2e.waiting import until
from tests.helpers import (CAMPAIGN, ROOT, SMALL_SPONSORS, beijing_midnight, mkdocs_build, rehearsal, serving,
                           write_project)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

FILE_2025 = ROOT / "lambdas" / "survey" / "questionnaires-2025.yaml"
SURVEY = questionnaire.load(FILE_2025)
PUBLIC_TOPICS = [t.id for t in SURVEY.questionnaires["public"].modules.topics]
GUANGZHOU = ("广东省", "广州市")
PRO_TOPICS = [t.id for t in SURVEY.questionnaires["pro"].modules.topics]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project = write_project(tmp_path_factory.mktemp("topics") / "project", CAMPAIGN + SMALL_SPONSORS)
    with rehearsal(project, {"SURVEY_QUESTIONNAIRES": str(FILE_2025)}) as s:
        yield s


def _fits_a_phone(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_pick_an_offered_topic_answer_core_and_topic_and_land_once(browser, stack):
    page = _phone(browser, stack)
    before = len(_submissions(stack["db"]))
    page.goto(stack["url"] + "s/guangdong-cyber/poster/")
    # The server offers the least-filled topics (assign_choice: three of the ten)
    until(page, "document.querySelectorAll('#topics li:not([hidden])').length === 3")
    offered = page.locator("#topics li:not([hidden])")
    assert all(t in PUBLIC_TOPICS for t in offered.evaluate_all("els => els.map(e => e.dataset.topic)"))
    assert _fits_a_phone(page)
    topic = offered.first.get_attribute("data-topic")
    offered.first.locator("a").click()
    page.wait_for_url(f"**/s/guangdong-cyber/poster/{topic}/")
    # The shared form learns its sponsor from the link it is served under
    until(page, "document.getElementById('inviter').textContent.includes('广东省网络空间安全协会')")
    form = SURVEY.forms[f"public.{topic}"]
    core = {q.id for s in SURVEY.questionnaires["public"].sections for q in s.questions}
    shown = set(page.locator("[data-q]").evaluate_all("els => els.map(e => e.dataset.q)"))
    assert shown == {q.id for q in form.questions} and core < shown  # the core, then this topic's questions
    _answer_everything(page, region=GUANGZHOU)
    assert _fits_a_phone(page)
    until(page, "(JSON.parse(localStorage.getItem('survey-draft:public') || '{}').proof || {}).nonce", timeout=60)
    page.locator("#submit").click()
    page.wait_for_url("**/thanks/#from=guangdong-cyber/poster", timeout=60_000)
    subs = _submissions(stack["db"])
    assert len(subs) == before + 1
    [s] = [s for s in subs if s["questionnaire"] == f"public.{topic}"]
    assert (s["sponsor"], s["channel"], s["province"]) == ("guangdong-cyber", "poster", "广东省")
    answers = json.loads(s["answers"])
    topic_questions = {q.id for sec in form.topic.sections for q in sec.questions}
    assert topic_questions & set(answers) and core & set(answers)
    assert page.outside == []


def test_core_answers_are_kept_when_the_respondent_changes_topic(browser, stack):
    page = _phone(browser, stack)
    first, second = PUBLIC_TOPICS[0], PUBLIC_TOPICS[1]
    page.goto(stack["url"] + f"s/beijing-ccs/website/{first}/")
    page.locator("#f-region-p").select_option("北京市")
    page.locator("#f-region-c").select_option("海淀区")
    page.locator("#q-gender label").nth(1).click()
    page.goto(stack["url"] + f"s/beijing-ccs/website/{second}/")
    assert page.locator("#f-region-c").input_value() == "海淀区"
    assert page.locator("#q-gender input").nth(1).is_checked()
    page.reload()
    assert page.locator("#f-region-p").input_value() == "北京市"


def test_without_javascript_core_and_topic_post_to_the_link_itself(browser, stack):
    page = _phone(browser, stack, javascript=False)
    before = len(_submissions(stack["db"]))
    page.goto(stack["url"] + "s/shenzhen-media/app/pro/")
    links = page.locator("#topics a")
    assert links.count() == len(PRO_TOPICS)  # without script every topic is offered
    topic = PRO_TOPICS[-1]
    page.locator(f"#topics [data-topic={topic}] a").click()
    page.wait_for_url(f"**/s/shenzhen-media/app/pro/{topic}/")
    assert page.locator("#survey").get_attribute("action") == "submit"
    _answer_everything(page, region=GUANGZHOU)  # every question shows; the server keeps those that apply
    page.locator("#submit").click()
    page.wait_for_url("**/thanks/")
    subs = _submissions(stack["db"])
    assert len(subs) == before + 1
    [s] = [s for s in subs if s["questionnaire"] == f"pro.{topic}"]
    assert (s["sponsor"], s["channel"]) == ("shenzhen-media", "app")  # from the address it was posted to
    assert [r["S"] for r in s["reasons"]] == ["no_proof"]
    assert page.outside == []


def test_a_topic_is_counted_and_exported_with_its_answers(stack, tmp_path):
    """After the two submissions above: the counts API totals each topic's form, and the export writes the core of
    every public respondent once, with its topic, and each topic's answers in that topic's own file."""
    stored = [s for s in _submissions(stack["db"]) if s["questionnaire"].startswith("public.")]
    assert stored, "run with the tests above"
    # Once the counts function reads the counters again (at most FRESH_SECONDS after the topic page's request)
    deadline = time.monotonic() + FRESH_SECONDS + 15
    while True:
        with urllib.request.urlopen(stack["url"] + "api/counts") as r:
            totals = json.load(r)["questionnaires"]
        if all(s["questionnaire"] in totals for s in stored) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for s in stored:
        assert totals[s["questionnaire"]]["received"] >= 1
    out = tmp_path / "export"
    result = subprocess.run(
        [sys.executable, "-m", "lambdas.admin", "--endpoint-url", stack["database_url"], "--site",
         str(stack["project"] / "site"), "export", "--out", str(out), "--format", "csv"],
        cwd=ROOT, capture_output=True, text=True, env={"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                                                       "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    with open(out / "submissions-public.csv", encoding="utf-8-sig") as fh:
        core_rows = {row["id"]: row for row in csv.DictReader(fh)}
    for s in stored:
        form = s["questionnaire"]
        assert core_rows[s["id"]]["topic"] == form.split(".", 1)[1]
        with open(out / f"submissions-{form}.csv", encoding="utf-8-sig") as fh:
            [row] = [row for row in csv.DictReader(fh) if row["id"] == s["id"]]
        answers = json.loads(s["answers"])
        topic_only = [q for sec in SURVEY.forms[form].topic.sections for q in sec.questions if q.id in answers]
        assert topic_only and all(row.get(q.id) or any(k.startswith(q.id + ".") and row[k] for k in row)
                                  for q in topic_only)


def test_where_topics_are_assigned_the_link_goes_to_the_assigned_one(browser, tmp_path):
    """A campaign that assigns topics: the link's page asks the server and opens the topic it names. (The server's
    choice is tested on its own; here the browser's side, against a static copy of the site.)"""
    text = FILE_2025.read_text(encoding="utf-8").replace("assignment: assign_choice", "assignment: assign")
    assert "assignment: assign\n" in text
    (tmp_path / "q.yaml").write_text(text, encoding="utf-8")
    project = write_project(tmp_path / "project", CAMPAIGN + SMALL_SPONSORS)
    opens = beijing_midnight(days_ago=1).isoformat()
    result = mkdocs_build(project, env={"SURVEY_QUESTIONNAIRES": str(tmp_path / "q.yaml"), "SURVEY_OPENS": opens})
    assert result.returncode == 0, result.stderr
    assigned = PUBLIC_TOPICS[4]
    with serving(project / "site") as url:
        page = _phone(browser, {"url": url})
        asked: list[str] = []

        def answer(route: Any) -> None:
            asked.append(route.request.url)
            route.fulfill(status=200, content_type="application/json",
                          body=json.dumps({"questionnaire": "public", "assignment": "assign", "topics": [assigned]}))

        page.route("**/api/assign*", answer)
        page.goto(url + "s/beijing-ccs/wechat/")
        page.wait_for_url(f"**/s/beijing-ccs/wechat/{assigned}/")
        assert asked and asked[0].endswith("assign?questionnaire=public")
        assert page.locator("#survey").is_visible()
        # If the server cannot be asked, the whole list stays for the respondent to choose from
        page2 = _phone(browser, {"url": url})
        page2.route("**/api/assign*", lambda route: route.fulfill(status=503, body="{}"))
        page2.goto(url + "s/beijing-ccs/website/")
        until(page2, "document.getElementById('topics-status').textContent.includes('请选择')")
        assert page2.locator("#topics li:not([hidden])").count() == len(PUBLIC_TOPICS)
        assert Path(page2.url).name == "website"
