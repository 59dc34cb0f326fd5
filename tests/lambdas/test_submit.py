"""The submit handler against moto: stored once, counted once, attributed, flagged, refused with a named field."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

from lambdas.submit import app, proof
from lambdas.survey.catalog import BEIJING, UNATTRIBUTED
from lambdas.survey.store import Store
from lambdas.sweep.app import sweep
from tests.lambdas.answers import form_fields
from tests.lambdas.conftest import (
    CHANNEL, SPONSOR, call, counters, event, items, make_intake, payload, request, submissions,
)

pytestmark = pytest.mark.usefixtures("intake")


def test_a_valid_submission_is_stored_once_with_its_attribution_and_counted(intake, ddb):
    # GIVEN a complete submission from a sponsor's WeChat link
    body = payload(intake)
    # WHEN it is posted
    status, headers, answer = call(event(body))
    # THEN it is stored once, attributed, counted, and the pending marker is gone
    assert status == 200 and answer == {"status": "stored", "id": body["id"]}
    assert headers["cache-control"] == "no-store"
    [item] = submissions(ddb)
    assert (item["sponsor"], item["channel"], item["questionnaire"]) == (SPONSOR, CHANNEL, "public")
    assert item["province"] == body["answers"]["region"]["province"]
    assert item["day"] == datetime.now(BEIJING).date().isoformat()
    assert item["valid"] is True and "reasons" not in item and "pending" not in item
    assert json.loads(item["answers"]) == body["answers"]
    key = f"public#{SPONSOR}#{CHANNEL}#{item['province']}"
    assert counters(ddb) == {key: (1, 1)}


def test_a_retry_with_the_same_id_and_answers_gets_the_same_success_and_counts_once(intake, ddb):
    body = payload(intake)
    first = call(event(body))
    again = [call(event(body)) for _ in range(3)]
    assert all(r[0] == 200 and r[2] == first[2] for r in again)
    assert len(submissions(ddb)) == 1
    assert sum(r for r, _ in counters(ddb).values()) == 1


def test_the_same_id_with_other_answers_is_a_conflict_and_changes_nothing(intake, ddb):
    body = payload(intake)
    call(event(body))
    stored = submissions(ddb)
    other = json.loads(json.dumps(body))
    other["answers"]["overall"] = 1 if body["answers"]["overall"] != 1 else 2
    status, _, answer = call(event(other))
    assert status == 409 and answer["error"] == "conflict" and answer["fields"][0]["field"] == "id"
    assert submissions(ddb) == stored
    assert sum(r for r, _ in counters(ddb).values()) == 1


def test_a_duplicate_arriving_between_store_and_count_is_counted_once(intake, ddb, monkeypatch):
    # GIVEN request A stored its submission and is about to count it
    body = payload(intake)
    original = Store.count
    results: list[Any] = []
    interleaved = []

    def count_after_a_duplicate(self: Store, item: dict[str, Any]) -> bool:
        if not interleaved:
            interleaved.append(True)
            results.append(call(event(body)))  # request B, same id, runs to the end in between
        results.append(original(self, item))
        return results[-1]

    monkeypatch.setattr(Store, "count", count_after_a_duplicate)
    status, _, _ = call(event(body))
    # THEN both succeed, B counted it, A's count found nothing pending
    assert status == 200
    b_count, b_response, a_count = results
    assert b_response[0] == 200 and (b_count, a_count) == (True, False)
    assert sum(r for r, _ in counters(ddb).values()) == 1


def _throttle(client: Any, operation: str, code: str = "ProvisionedThroughputExceededException") -> Any:
    real = getattr(client, operation)

    def failing(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "injected"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)
    return real, failing


def test_a_throttled_store_gets_503_with_retry_after_and_stores_nothing(intake, ddb, monkeypatch):
    body = payload(intake)
    _, failing = _throttle(ddb, "put_item")
    monkeypatch.setattr(intake.store.client, "put_item", failing)
    status, headers, answer = call(event(body))
    assert status == 503 and headers["retry-after"] == "3" and answer["error"] == "unavailable"
    monkeypatch.undo()
    assert submissions(ddb) == []
    # AND the browser's retry, once DynamoDB recovers, stores it
    assert call(event(body))[0] == 200
    assert len(submissions(ddb)) == 1


def test_an_outage_on_read_after_a_conflict_is_503_not_500(intake, ddb, monkeypatch):
    body = payload(intake)
    call(event(body))
    _, failing = _throttle(ddb, "get_item", "InternalServerError")
    monkeypatch.setattr(intake.store.client, "get_item", failing)
    monkeypatch.setattr(intake.store.client, "put_item", _throttle(ddb, "put_item", "ServiceUnavailable")[1])
    assert call(event(body))[0] == 503


def test_a_throttled_count_still_answers_success_and_the_sweeper_counts_it(intake, ddb, monkeypatch):
    body = payload(intake)
    _, failing = _throttle(ddb, "transact_write_items", "ThrottlingException")
    monkeypatch.setattr(intake.store.client, "transact_write_items", failing)
    assert call(event(body))[0] == 200  # stored before the 2xx: the count can wait
    monkeypatch.undo()
    [item] = submissions(ddb)
    assert item["pending"].startswith("P#") and counters(ddb) == {}
    later = datetime.now(timezone.utc) + timedelta(minutes=2)
    assert sweep(intake.store, later) == 1
    assert sweep(intake.store, later) == 0
    assert sum(r for r, _ in counters(ddb).values()) == 1
    assert "pending" not in submissions(ddb)[0]


def test_a_crash_between_storing_and_counting_is_repaired_by_the_sweeper_once(intake, ddb, monkeypatch):
    body = payload(intake)

    def die(self: Store, item: dict[str, Any]) -> bool:
        raise SystemExit("process killed")  # the container dies after the conditional write

    monkeypatch.setattr(Store, "count", die)
    with pytest.raises(SystemExit):
        call(event(body))
    monkeypatch.undo()
    assert len(submissions(ddb)) == 1 and counters(ddb) == {}
    # Within the grace period the sweeper leaves it to the request that stored it
    assert sweep(intake.store, datetime.now(timezone.utc)) == 0
    assert sweep(intake.store, datetime.now(timezone.utc) + timedelta(minutes=2)) == 1
    # AND the client's retry afterwards succeeds without counting again
    assert call(event(body))[0] == 200
    assert sum(r for r, _ in counters(ddb).values()) == 1


def test_a_retry_counts_what_a_crash_left_pending(intake, ddb, monkeypatch):
    body = payload(intake)
    monkeypatch.setattr(Store, "count", lambda self, item: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        call(event(body))
    monkeypatch.undo()
    assert call(event(body))[0] == 200
    assert sum(r for r, _ in counters(ddb).values()) == 1
    assert sweep(intake.store, datetime.now(timezone.utc) + timedelta(minutes=2)) == 0


@pytest.mark.parametrize(("when", "status", "day"), [
    ("2020-07-22T08:59:59.999+08:00", 403, None),
    ("2020-07-22T09:00:00+08:00", 200, "2020-07-22"),
    ("2020-07-31T23:59:59.999+08:00", 200, "2020-07-31"),
    ("2020-08-01T00:00:00+08:00", 403, None),
    ("2020-07-31T16:00:00+00:00", 403, None),  # 24:00 Beijing time, written in UTC
    ("2020-07-22T00:59:59+00:00", 403, None),  # 08:59:59 Beijing time
])
def test_the_window_is_the_campaigns_in_beijing_time(ddb, campaign_catalog, survey, when, status, day):
    it = make_intake(ddb, campaign_catalog, survey)
    now = datetime.fromisoformat(when)
    outcome = it.submit(request(payload(it, now=now), now))
    assert outcome.status == status
    if status == 403:
        assert outcome.body["error"] == ("not_open" if now.month == 7 and now.day == 22 else "closed")
        assert outcome.body["opens"] == "2020-07-22T09:00:00+08:00"
        assert outcome.body["closes"] == "2020-08-01T00:00:00+08:00"
        assert submissions(ddb) == []
    else:
        assert submissions(ddb)[0]["day"] == day


@pytest.mark.parametrize(("change", "reason"), [
    ({"homepage": "http://spam.example"}, "honeypot"),
    ({"proof": None}, "no_proof"),
    ({"proof": {"challenge": "1.2.8.0000", "nonce": "1"}}, "bad_proof"),
])
def test_suspicious_submissions_are_stored_flagged_never_dropped(intake, ddb, change, reason):
    body = payload(intake, **change)
    status, _, _ = call(event(body))
    assert status == 200
    [item] = submissions(ddb)
    assert item["valid"] is False and reason in item["reasons"]
    [(received, valid)] = counters(ddb).values()
    assert (received, valid) == (1, 0)


def test_a_forged_or_tampered_proof_is_flagged(intake, ddb):
    body = payload(intake)
    body["proof"]["challenge"] = body["proof"]["challenge"].replace(".8.", ".0.")  # claims an easier proof
    call(event(body))
    assert submissions(ddb)[0]["reasons"] == ["bad_proof"]


def test_finishing_faster_than_the_floor_is_flagged(intake, ddb):
    floor = intake.rules.min_seconds["public"]
    call(event(payload(intake, seed=1, age=floor - 5)))
    call(event(payload(intake, seed=2, age=floor + 5)))
    by_id = {i["id"]: i for i in submissions(ddb)}
    fast, slow = by_id[payload(intake, seed=1)["id"]], by_id[payload(intake, seed=2)["id"]]
    assert fast["reasons"] == ["too_fast"] and fast["seconds"] < floor
    assert slow["valid"] is True


def test_the_same_device_again_is_flagged_but_its_first_submission_is_not(intake, ddb):
    first, second = payload(intake, seed=1, device="phone-A"), payload(intake, seed=2, device="phone-A")
    call(event(first))
    call(event(second))
    call(event(first))  # a retry of the first stays valid
    by_id = {i["id"]: i for i in submissions(ddb)}
    assert by_id[first["id"]]["valid"] is True
    assert by_id[second["id"]]["reasons"] == ["repeat_device"]
    assert sorted(counters(ddb).values()) != [] and sum(r for r, _ in counters(ddb).values()) == 2
    assert sum(v for _, v in counters(ddb).values()) == 1


def test_the_same_answers_again_from_the_same_address_are_flagged(intake, ddb):
    first = payload(intake, seed=1)
    second = dict(payload(intake, seed=2), answers=first["answers"])
    third = dict(payload(intake, seed=3), answers=first["answers"])
    call(event(first, ip="198.51.100.1"))
    call(event(second, ip="198.51.100.1"))
    call(event(third, ip="198.51.100.2"))  # the same answers from elsewhere: a different person
    by_id = {i["id"]: i for i in submissions(ddb)}
    assert by_id[first["id"]]["valid"] and by_id[third["id"]]["valid"]
    assert by_id[second["id"]]["reasons"] == ["repeat_answers"]


def test_no_raw_address_and_no_answers_are_stored_or_logged_outside_the_submission(intake, ddb):
    secret_text = "我的邮箱被盗用了好几次"
    body = payload(intake)
    body["answers"]["suggestions"] = secret_text
    stream = io.StringIO()
    previous = app.logger.registered_handler.setStream(stream)
    try:
        call(event(body, ip="192.0.2.77"))
    finally:
        app.logger.registered_handler.setStream(previous)
    logged = stream.getvalue()
    assert body["id"] in logged  # the log line exists ...
    assert secret_text not in logged and "192.0.2.77" not in logged  # ... and holds neither answers nor address
    everything = json.dumps(items(ddb), ensure_ascii=False)
    assert "192.0.2.77" not in everything
    assert submissions(ddb)[0]["ip_hash"] and len(submissions(ddb)[0]["ip_hash"]) == 32


@pytest.mark.parametrize(("sponsor", "channel", "stored_as"), [
    ("zhejiang-wlaq", "wechat", (SPONSOR, "wechat")),  # a former slug: counted for the sponsor it became
    ("no-such-sponsor", "wechat", (UNATTRIBUTED, UNATTRIBUTED)),
    (SPONSOR, "tiktok", (SPONSOR, UNATTRIBUTED)),
    ("", "", (UNATTRIBUTED, UNATTRIBUTED)),
])
def test_unknown_or_stale_attribution_is_stored_never_rejected(intake, ddb, sponsor, channel, stored_as):
    status, _, _ = call(event(payload(intake, sponsor=sponsor, channel=channel)))
    assert status == 200
    [item] = submissions(ddb)
    assert (item["sponsor"], item["channel"]) == stored_as
    if stored_as != (sponsor, channel):
        assert item["claimed"] == f"{sponsor}/{channel}"
    assert sum(r for r, _ in counters(ddb).values()) == 1


def _form_fields(body: dict[str, Any], questionnaire) -> list[tuple[str, str]]:
    return [("questionnaire", body["questionnaire"]), ("sponsor", body["sponsor"]), ("channel", body["channel"]),
            ("id", ""), ("device", ""), ("proof_challenge", ""), ("proof_nonce", ""), ("homepage", ""),
            *form_fields(body["answers"], questionnaire)]


def test_a_plain_form_post_is_stored_and_redirected_to_the_thank_you_page(intake, ddb):
    body = payload(intake, qid="pro")
    form = urlencode(_form_fields(body, intake.survey.questionnaires["pro"])).encode()
    status, headers, _ = call(event(form, "application/x-www-form-urlencoded"))
    assert status == 303 and headers["location"] == intake.catalog.site_url + "thanks/"
    [item] = submissions(ddb)
    assert json.loads(item["answers"]) == body["answers"] and item["questionnaire"] == "pro"
    assert item["reasons"] == ["no_proof"]  # no script, no proof of work: stored, counted as received
    # A double click posts it again: the same answers from the same address are the same submission
    assert call(event(form, "application/x-www-form-urlencoded"))[0] == 303
    assert len(submissions(ddb)) == 1 and sum(r for r, _ in counters(ddb).values()) == 1


def test_a_refused_form_post_gets_a_page_naming_each_question(intake, ddb):
    body = payload(intake)
    fields = [f for f in _form_fields(body, intake.survey.questionnaires["public"]) if f[0] != "gender"]
    status, headers, page = call(event(urlencode(fields).encode(), "application/x-www-form-urlencoded"))
    assert status == 400 and headers["content-type"].startswith("text/html")
    gender = next(q for q in intake.survey.questionnaires["public"].questions if q.id == "gender")
    assert gender.text in page and "此题为必答题" in page
    assert submissions(ddb) == []


def _bad(intake, **change: Any) -> dict[str, Any]:
    body = payload(intake)
    for k, v in change.items():
        if k.startswith("answers."):
            body["answers"][k.split(".", 1)[1]] = v
        else:
            body[k] = v
    return body


@pytest.mark.parametrize(("make", "content_type", "status", "field"), [
    (lambda it: b'{"id": "abc', "application/json", 400, "body"),
    (lambda it: b"[1, 2, 3]", "application/json", 400, "body"),
    (lambda it: b"\xff\xfe not utf-8", "application/json", 400, "body"),
    (lambda it: json.dumps(payload(it)).encode(), "text/plain", 415, "content-type"),
    (lambda it: json.dumps(payload(it)).encode(), "", 415, "content-type"),
    (lambda it: json.dumps(dict(payload(it), pad="x" * 17000)).encode(), "application/json", 413, "body"),
    (lambda it: _bad(it, id="short"), "application/json", 400, "id"),
    (lambda it: _bad(it, id=None), "application/json", 400, "id"),
    (lambda it: _bad(it, questionnaire="other"), "application/json", 400, "questionnaire"),
    (lambda it: _bad(it, extra=1), "application/json", 400, "extra"),
    (lambda it: _bad(it, sponsor=5), "application/json", 400, "sponsor"),
    (lambda it: _bad(it, answers=[]), "application/json", 400, "answers"),
    (lambda it: _bad(it, **{"answers.gender": 1}), "application/json", 400, "answers.gender"),
    (lambda it: _bad(it, **{"answers.gender": "robot"}), "application/json", 400, "answers.gender"),
    (lambda it: _bad(it, **{"answers.overall": 6}), "application/json", 400, "answers.overall"),
    (lambda it: _bad(it, **{"answers.overall": True}), "application/json", 400, "answers.overall"),
    (lambda it: _bad(it, **{"answers.overall": "5"}), "application/json", 400, "answers.overall"),
    (lambda it: _bad(it, **{"answers.no_such_question": "a1"}), "application/json", 400, "answers.no_such_question"),
    (lambda it: _bad(it, **{"answers.region": {"province": "广东省", "city": "杭州市"}}), "application/json", 400, "answers.region.city"),
    (lambda it: _bad(it, **{"answers.region": {"province": "火星"}}), "application/json", 400, "answers.region.province"),
    (lambda it: _bad(it, **{"answers.region": None}), "application/json", 400, "answers.region"),
    (lambda it: _bad(it, **{"answers.suggestions": "建" * 1001}), "application/json", 400, "answers.suggestions"),
    (lambda it: _bad(it, **{"answers.top_concerns": ["fraud", "fraud"]}), "application/json", 400, "answers.top_concerns"),
    (lambda it: _bad(it, **{"answers.satisfaction": {"police": 3}}), "application/json", 400, "answers.satisfaction."),
    (lambda it: _bad(it, **{"answers.satisfaction": "great"}), "application/json", 400, "answers.satisfaction"),
])
def test_bad_input_gets_a_4xx_naming_the_field_and_stores_nothing(intake, ddb, make, content_type, status, field):
    raw = make(intake)
    got, headers, answer = call(event(raw if isinstance(raw, bytes) else json.dumps(raw).encode(), content_type))
    assert got == status, answer
    assert headers["content-type"].startswith("application/json")
    assert any(f["field"].startswith(field) for f in answer["fields"]), answer
    assert all(f["message"] for f in answer["fields"])
    assert items(ddb) == []


def test_too_many_choices_and_hidden_follow_ups(intake, ddb):
    qn = intake.survey.questionnaires["public"]
    multi = next(q for q in qn.questions if q.type == "multi" and q.max < len(q.options) and not q.show_if)
    body = _bad(intake, **{f"answers.{multi.id}": [o for o, _ in multi.options][: multi.max + 1]})
    status, _, answer = call(event(body))
    assert status == 400 and answer["fields"] == [{"field": f"answers.{multi.id}", "message": f"最多选择 {multi.max} 项"}]
    # A follow-up answered while hidden (its condition not met) is dropped, not refused
    follow = next(q for q in qn.questions if q.show_if)
    parent = next(q for q in qn.questions if q.id == follow.show_if[0])
    not_showing = next(o for o, _ in parent.options if o not in follow.show_if[1])
    body = payload(intake)
    body["answers"][parent.id] = not_showing if parent.type == "single" else [not_showing]
    for q in qn.questions:  # drop whatever the random answers showed
        if q.show_if and q.show_if[0] == parent.id:
            body["answers"].pop(q.id, None)
    body["answers"][follow.id] = body["answers"].get(follow.id) or "anything"
    status, _, _ = call(event(body))
    assert status == 200
    assert follow.id not in json.loads(submissions(ddb)[0]["answers"])


def test_a_shown_follow_up_is_required(intake, ddb):
    qn = intake.survey.questionnaires["public"]
    follow = next(q for q in qn.questions if q.show_if and q.required)
    parent = next(q for q in qn.questions if q.id == follow.show_if[0])
    showing = sorted(follow.show_if[1])[0]
    body = payload(intake)
    body["answers"][parent.id] = showing if parent.type == "single" else [showing]
    body["answers"].pop(follow.id, None)
    status, _, answer = call(event(body))
    assert status == 400 and {"field": f"answers.{follow.id}", "message": "此题为必答题"} in answer["fields"]


def test_the_challenge_endpoint_hands_out_signed_challenges_for_one_submission(intake):
    e = event(b"", path="/api/challenge", method="GET")
    e["rawQueryString"], e["queryStringParameters"] = "id=sub-00000001", {"id": "sub-00000001"}
    status, headers, body = call(e)
    assert status == 200 and headers["cache-control"] == "no-store"
    issued, started, bits, tag, _, sig = body["challenge"].split(".")
    assert int(bits) == body["bits"] == 8 and len(sig) == 32 and issued == started
    assert tag == proof.tag("sub-00000001")
    assert abs(int(issued) / 1000 - datetime.now(timezone.utc).timestamp()) < 5
    assert body["expires"] == int(issued) + intake.rules.proof_hours * 3600 * 1000
    # Without a submission id there is nothing to bind the challenge to.
    status, _, body = call(event(b"", path="/api/challenge", method="GET"))
    assert status == 400 and body["fields"][0]["field"] == "id"
