"""Submitting a topic's form (the 2025 file) through the real handler against moto: stored and counted under the
form's id, attributed by a no-script post's own path, refused by name, judged with device and address caps per
base questionnaire and min_seconds per form, and judged the same again by rescore."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from lambdas.submit import app
from lambdas.submit.intake import link_of
from lambdas.survey import questionnaire, rescore, rules
from tests.lambdas.answers import form_fields, valid_answers
from tests.lambdas.conftest import CHANNEL, RULES, SPONSOR, call, counters, event, make_intake, payload, submissions

SOURCE_2025 = questionnaire.SOURCE.with_name("questionnaires-2025.yaml")
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def survey2025() -> questionnaire.Survey:
    return questionnaire.load(SOURCE_2025)


def _intake(ddb: Any, open_catalog: Path, survey2025: questionnaire.Survey, judged_by: rules.Rules = RULES) -> Any:
    it = make_intake(ddb, open_catalog, survey2025, judged_by=judged_by)
    app.configure(it)
    return it


@pytest.fixture
def topics(ddb: Any, open_catalog: Path, survey2025: questionnaire.Survey) -> Any:
    yield _intake(ddb, open_catalog, survey2025)
    app.configure(None)  # type: ignore[arg-type]


def _body(it: Any, form: str, seed: int, **extra: Any) -> dict[str, Any]:
    """A complete submission of one topic's form as the form's script sends it (a solved proof, a device)."""
    body = payload(it, seed=seed, **extra)
    body.update(questionnaire=form, answers=valid_answers(it.survey.forms[form], random.Random(seed)))
    body.update({k: v for k, v in extra.items() if k == "answers"})
    return body


def _no_script(body: dict[str, Any], qn: questionnaire.Questionnaire, sponsor: str = "", channel: str = "") -> bytes:
    """The same answers as the shared form page posts them without script: no sponsor or channel of its own."""
    meta = [("questionnaire", body["questionnaire"]), ("sponsor", sponsor), ("channel", channel), ("id", ""),
            ("device", ""), ("proof_challenge", ""), ("proof_nonce", ""), ("homepage", "")]
    return urlencode(meta + form_fields(body["answers"], qn)).encode()


def test_a_json_post_of_core_and_topic_is_stored_and_counted_under_the_form(topics, ddb):
    body = _body(topics, "public.ai", 1)
    status, _, answer = call(event(body))
    assert (status, answer) == (200, {"status": "stored", "id": body["id"]})
    [item] = submissions(ddb)
    assert item["questionnaire"] == "public.ai" and item["valid"] is True
    stored = json.loads(item["answers"])
    assert stored == body["answers"] and {"region", "overall", "ai_use", "ai_governance"} <= set(stored)
    assert counters(ddb) == {f"public.ai#{SPONSOR}#{CHANNEL}#{item['province']}": (1, 1)}


def test_a_no_script_post_to_a_links_form_is_attributed_by_its_path(topics, ddb):
    # GIVEN the public's topic form and the practitioners' one, posted without script to their own folders
    public, pro = _body(topics, "public.fraud", 1), _body(topics, "pro.cii", 2)
    for body, path in ((public, f"/s/{SPONSOR}/{CHANNEL}/fraud/submit"), (pro, f"/s/{SPONSOR}/poster/pro/cii/submit")):
        form = _no_script(body, topics.survey.forms[body["questionnaire"]])
        status, headers, _ = call(event(form, FORM, path=path))
        # THEN each is stored and the browser goes on to the thank-you page
        assert status == 303 and headers["location"] == topics.catalog.site_url + "thanks/"
    by_form = {i["questionnaire"]: i for i in submissions(ddb)}
    assert (by_form["public.fraud"]["sponsor"], by_form["public.fraud"]["channel"]) == (SPONSOR, CHANNEL)
    assert (by_form["pro.cii"]["sponsor"], by_form["pro.cii"]["channel"]) == (SPONSOR, "poster")
    assert json.loads(by_form["pro.cii"]["answers"]) == pro["answers"]
    assert all(i["reasons"] == ["no_proof"] and not i.get("claimed") for i in by_form.values())
    assert {k.split("#")[0] for k in counters(ddb)} == {"public.fraud", "pro.cii"}


def test_the_path_outranks_the_body_and_other_paths_attribute_nothing(topics, ddb):
    body = _body(topics, "public.data", 3)
    form = _no_script(body, topics.survey.forms["public.data"], sponsor="no-such-sponsor", channel="x")
    assert call(event(form, FORM, path=f"/s/{SPONSOR}/{CHANNEL}/data/submit"))[0] == 303
    [item] = submissions(ddb)
    assert (item["sponsor"], item["channel"]) == (SPONSOR, CHANNEL)
    assert link_of(f"/s/{SPONSOR}/{CHANNEL}/pro/cii/submit") == (SPONSOR, CHANNEL)
    assert link_of("/api/submit") is None and link_of(f"/s/{SPONSOR}/{CHANNEL}/submit") is None
    assert link_of(f"/s/{SPONSOR}/{CHANNEL}/a/b/c/submit") is None


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda b: b["answers"].update(rights_ease=3), "answers.rights_ease", "问卷中没有这道题"),
    (lambda b: b["answers"].pop("ai_use"), "answers.ai_use", "此题为必答题"),
    (lambda b: b.update(questionnaire="public"), "questionnaire", "public.ai"),
])
def test_a_wrong_topic_form_is_refused_by_name_and_nothing_is_stored(topics, ddb, change, field, message):
    body = _body(topics, "public.ai", 4)
    change(body)
    status, _, answer = call(event(body))
    assert status == 400 and any(f["field"] == field and message in f["message"] for f in answer["fields"])
    assert submissions(ddb) == [] and counters(ddb) == {}


def test_a_refused_no_script_post_leads_back_to_its_topics_form(topics, ddb):
    body = _body(topics, "pro.talent", 5)
    body["answers"].pop("industry_outlook")
    form = _no_script(body, topics.survey.forms["pro.talent"])
    status, headers, page = call(event(form, FORM, path=f"/s/{SPONSOR}/{CHANNEL}/pro/talent/submit"))
    assert status == 400 and headers["content-type"].startswith("text/html")
    qn = topics.survey.forms["pro.talent"]
    number = [q.id for q in qn.questions].index("industry_outlook") + 1
    assert f"第 {number} 题" in page and qn.questions[number - 1].text in page and "此题为必答题" in page
    assert f'href="{topics.catalog.site_url}s/{SPONSOR}/{CHANNEL}/pro/talent/"' in page
    assert submissions(ddb) == []


def test_one_device_has_one_place_per_questionnaire_whichever_topic(topics, ddb):
    # GIVEN rules.yaml's cap of valid samples per device and questionnaire
    assert RULES.device_valid_per_questionnaire == 1
    ai, fraud = _body(topics, "public.ai", 1, device="phone-A"), _body(topics, "public.fraud", 2, device="phone-A")
    cii = _body(topics, "pro.cii", 3, device="phone-A")
    # WHEN one phone answers two of the public's topics, then one of the practitioners'
    for body in (ai, fraud, cii):
        assert call(event(body, ip=f"198.51.100.{len(submissions(ddb)) + 1}"))[0] == 200
    # THEN hopping topics does not earn a second place; the other questionnaire has its own
    by_id = {i["id"]: i for i in submissions(ddb)}
    assert by_id[ai["id"]]["valid"] is True and by_id[cii["id"]]["valid"] is True
    assert by_id[fraud["id"]]["reasons"] == ["repeat_device"]
    per_form = {k.split("#")[0]: v for k, v in counters(ddb).items()}
    assert per_form == {"public.ai": (1, 1), "public.fraud": (1, 0), "pro.cii": (1, 1)}


def test_an_addresss_daily_cap_is_per_questionnaire_not_per_topic(ddb, open_catalog, survey2025):
    it = _intake(ddb, open_catalog, survey2025, dataclasses.replace(RULES, address_valid_per_day=1))
    try:
        bodies = [_body(it, form, seed) for seed, form in enumerate(("public.ai", "public.egov", "pro.cii"), 1)]
        for body in bodies:
            assert call(event(body, ip="198.51.100.9"))[0] == 200
    finally:
        app.configure(None)  # type: ignore[arg-type]
    by_id = {i["id"]: i for i in submissions(ddb)}
    assert [by_id[b["id"]].get("reasons", []) for b in bodies] == [[], ["address_volume"], []]


def test_min_seconds_may_name_a_form_and_falls_back_to_its_questionnaire(ddb, open_catalog, survey2025):
    strict = dataclasses.replace(RULES, min_seconds={**RULES.min_seconds, "public.ai": 900})
    it = _intake(ddb, open_catalog, survey2025, strict)
    try:
        ai, fraud = _body(it, "public.ai", 1, age=600), _body(it, "public.fraud", 2, age=600)
        quick = _body(it, "public.fraud", 3, age=RULES.min_seconds["public"] - 30)
        for n, body in enumerate((ai, fraud, quick), 1):
            assert call(event(body, ip=f"198.51.100.{n}"))[0] == 200
    finally:
        app.configure(None)  # type: ignore[arg-type]
    by_id = {i["id"]: i for i in submissions(ddb)}
    assert by_id[ai["id"]]["reasons"] == ["too_fast"]
    assert by_id[fraud["id"]]["valid"] is True
    assert by_id[quick["id"]]["reasons"] == ["too_fast"]


def test_the_rules_file_needs_every_base_and_takes_known_forms(survey2025):
    data = rules.read()
    rules.parse(data, rules.SOURCE, tuple(survey2025.questionnaires))  # public and pro: enough for the 2025 file
    with_form = {**data, "limits": {**data["limits"], "min_seconds": {**data["limits"]["min_seconds"], "pro.cii": 200}}}
    assert rules.parse(with_form, rules.SOURCE, tuple(survey2025.questionnaires)).fastest("pro.cii", "pro") == 200
    stray = {**data, "limits": {**data["limits"], "min_seconds": {"public": 120, "pro": 150, "kids.games": 99}}}
    with pytest.raises(rules.RulesError, match=r"limits.min_seconds.kids.games: .*no questionnaire 'kids'"):
        rules.parse(stray, rules.SOURCE, tuple(survey2025.questionnaires))
    missing = {**data, "limits": {**data["limits"], "min_seconds": {"public": 120, "public.ai": 150}}}
    with pytest.raises(rules.RulesError, match=r"limits.min_seconds.pro: missing"):
        rules.parse(missing, rules.SOURCE, tuple(survey2025.questionnaires))


def test_rescore_judges_topic_submissions_as_the_submit_function_did(topics, ddb):
    for seed, form in enumerate(("public.ai", "public.fraud", "pro.cii", "public.ai"), 1):
        assert call(event(_body(topics, form, seed, device="phone-B" if seed < 3 else f"phone-{seed}"),
                          ip=f"198.51.100.{seed}"))[0] == 200
    before = {i["id"]: (i["valid"], i.get("reasons", [])) for i in submissions(ddb)}
    assert sorted(v for v, _ in before.values()) == [False, True, True, True]
    # Judged again under the same rules: the device's place is still taken per questionnaire, nothing changes
    assert rescore.run(topics.store, RULES, dry_run=True).changed == 0
    # A stricter floor for one topic's form changes only that form's verdicts
    out = rescore.run(topics.store, dataclasses.replace(RULES, version="2025.2",
                                                       min_seconds={**RULES.min_seconds, "public.ai": 900}))
    after = {i["id"]: (i["questionnaire"], i["valid"], i.get("reasons", [])) for i in submissions(ddb)}
    assert sorted(r for q, _, r in after.values() if q == "public.ai") == [["too_fast"]] * 2
    # and the device's place the first one held is free again: its other topic's submission is now the valid one
    assert [(v, r) for q, v, r in after.values() if q == "public.fraud"] == [(True, [])]
    assert out.changed == 3
