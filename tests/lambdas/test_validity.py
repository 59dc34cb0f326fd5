"""The validity rules against an attacker: spent proofs, believed addresses, same-origin posts, caps that hold, a
recorded rule version, and input that cannot make a 5xx."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from lambdas.submit import app, proof
from lambdas.survey import rules
from lambdas.survey.keys import Keys
from tests.lambdas.conftest import KEYS, RULES, call, counters, event, make_intake, payload, submissions

pytestmark = pytest.mark.usefixtures("intake")


def _only(ddb) -> dict:
    [item] = submissions(ddb)
    return item


def _challenge(sub_id: str, ip: str = "203.0.113.9", renew: str = "") -> tuple[int, dict, dict]:
    e = event(b"", path="/api/challenge", method="GET", ip=ip)
    e["queryStringParameters"] = {"id": sub_id, **({"renew": renew} if renew else {})}
    return call(e)


# ---- 1. proof that is spent -------------------------------------------------------------------------------------

def test_a_solved_challenge_replayed_for_other_submissions_is_never_valid_again(intake, ddb):
    # GIVEN one challenge solved once, for one submission
    first = payload(intake, seed=1)
    assert call(event(first))[0] == 200
    # WHEN a bot sends it with 20 other submissions (other ids, other answers)
    for seed in range(2, 22):
        other = payload(intake, seed=seed)
        other["proof"] = first["proof"]
        assert call(event(other, ip=f"198.51.100.{seed}"))[0] == 200
    # THEN each is stored and counted as received, none valid, each with its reason
    stored = {s["id"]: s for s in submissions(ddb)}
    assert len(stored) == 21
    assert stored[first["id"]]["valid"] is True
    replays = [s for i, s in stored.items() if i != first["id"]]
    assert all(s["valid"] is False and s["reasons"] == ["foreign_proof"] for s in replays)
    assert sum(r for r, _ in counters(ddb).values()) == 21 and sum(v for _, v in counters(ddb).values()) == 1


def test_the_same_challenge_and_id_again_is_the_same_submission_not_a_second_sample(intake, ddb):
    body = payload(intake)
    for _ in range(5):
        assert call(event(body, ip="198.51.100.1"))[0] == 200
    assert len(submissions(ddb)) == 1 and sum(v for _, v in counters(ddb).values()) == 1


def test_an_expired_challenge_is_stored_not_valid(intake, ddb):
    body = payload(intake, age=intake.rules.proof_hours * 3600 + 60)
    assert call(event(body))[0] == 200
    item = _only(ddb)
    assert item["valid"] is False and item["reasons"] == ["expired_proof"]


def test_a_renewed_challenge_keeps_the_start_time_so_a_long_draft_is_not_too_fast(intake, ddb):
    # GIVEN a draft opened ten hours ago, whose first challenge has expired
    now = datetime.now(timezone.utc)
    old = proof.issue(intake.keys.challenge, "draft-0000001", int((now - timedelta(hours=10)).timestamp() * 1000),
                      intake.rules.proof_bits)
    # WHEN the form renews it for the same submission
    status, _, body = _challenge("draft-0000001", renew=old)
    assert status == 200
    issued, started = (int(x) for x in body["challenge"].split(".")[:2])
    # THEN the new one is fresh but remembers when the respondent started
    assert issued - started >= 10 * 3600 * 1000 - 5000
    sub = payload(intake, sub_id="draft-0000001")
    sub["proof"] = {"challenge": body["challenge"], "nonce": proof.solve(body["challenge"])}
    assert call(event(sub))[0] == 200
    item = _only(ddb)
    assert item["valid"] is True and item["seconds"] >= 10 * 3600 - 5
    # AND a renewal cannot borrow another submission's start time, nor one the key did not sign
    status, _, body = _challenge("draft-0000002", renew=old)
    assert body["challenge"].split(".")[0] == body["challenge"].split(".")[1]
    forged = old.rsplit(".", 1)[0] + "." + "0" * 32
    status, _, body = _challenge("draft-0000001", renew=forged)
    assert body["challenge"].split(".")[0] == body["challenge"].split(".")[1]


def test_a_challenge_signed_with_another_key_is_a_bad_proof(intake, ddb):
    body = payload(intake)
    c = proof.issue(b"another-key" * 4, body["id"], int(datetime.now(timezone.utc).timestamp() * 1000) - 600_000, 8)
    body["proof"] = {"challenge": c, "nonce": proof.solve(c)}
    call(event(body))
    assert _only(ddb)["reasons"] == ["bad_proof"]


# ---- 2. addresses that cannot be forged -------------------------------------------------------------------------

@pytest.fixture
def behind_edge(ddb, open_catalog, survey):
    """The function as deployed: CloudFront in front, sending its origin token."""
    it = make_intake(ddb, open_catalog, survey, keys=dataclasses.replace(KEYS, origin_token="edge-token-" * 4))
    app.configure(it)
    yield it
    app.configure(None)


def test_behind_the_edge_a_request_without_its_token_is_refused_and_nothing_stored(behind_edge, ddb):
    e = event(payload(behind_edge))
    e["headers"]["cloudfront-viewer-address"] = "192.0.2.1:443"  # a forged viewer, straight to execute-api
    status, _, body = call(e)
    assert status == 403 and body["error"] == "direct_access"
    e["headers"]["x-origin-verify"] = "guessed"
    assert call(e)[0] == 403
    assert submissions(ddb) == []
    challenge = event(b"", path="/api/challenge", method="GET")
    challenge["queryStringParameters"] = {"id": "sub-00000001"}
    assert call(challenge)[0] == 403


def test_behind_the_edge_the_viewer_is_cloudfronts_header_not_the_connection(behind_edge, ddb):
    same_answers = [payload(behind_edge, seed=7, sub_id=f"nat-{i:08d}", device=f"phone-{i}") for i in range(2)]
    for body, viewer in zip(same_answers, ("192.0.2.1:50000", "192.0.2.2:50001")):
        e = event(body, ip="130.176.0.1")  # the edge's own address, the same for both
        e["headers"].update({"x-origin-verify": "edge-token-" * 4, "cloudfront-viewer-address": viewer})
        assert call(e)[0] == 200
    # Two viewers: the same answers from each are not repeats of one another.
    assert all(s["valid"] for s in submissions(ddb))


def test_without_an_edge_a_client_sent_viewer_header_is_ignored(intake, ddb):
    # GIVEN the same answers twice from one machine, the second claiming to be another viewer
    first = payload(intake, seed=3, sub_id="same-00000001")
    second = payload(intake, seed=3, sub_id="same-00000002", device="device-other")
    call(event(first, ip="198.51.100.5"))
    e = event(second, ip="198.51.100.5")
    e["headers"]["cloudfront-viewer-address"] = "192.0.2.99:443"
    call(e)
    # THEN both are from one address: the second repeats the first
    by_id = {s["id"]: s for s in submissions(ddb)}
    assert by_id["same-00000002"]["reasons"] == ["repeat_answers"]


# ---- 3. same origin only ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "cross"), [
    ({"origin": "https://evil.example"}, True),
    ({"origin": "null"}, True),
    ({"sec-fetch-site": "cross-site"}, True),
    ({"sec-fetch-site": "same-site"}, True),
    ({"sec-fetch-site": "same-origin"}, False),
    ({}, False),
])
def test_a_post_another_site_makes_is_stored_not_valid(intake, ddb, headers, cross):
    e = event(payload(intake))
    e["headers"].update(headers)
    assert call(e)[0] == 200
    item = _only(ddb)
    assert item["valid"] is not cross and ("cross_site" in item.get("reasons", [])) is cross


def test_a_post_from_the_sites_own_origin_is_valid(intake, ddb):
    e = event(payload(intake))
    e["headers"].update({"origin": intake.catalog.site_url.rstrip("/"), "sec-fetch-site": "same-origin"})
    call(e)
    assert _only(ddb)["valid"] is True


def test_a_form_post_from_another_site_is_stored_not_valid(intake, ddb):
    from urllib.parse import urlencode

    body = payload(intake)
    fields = {"questionnaire": "public", "sponsor": body["sponsor"], "channel": body["channel"], "homepage": ""}
    answers = body["answers"]
    form = dict(fields)
    for qid, value in answers.items():
        if isinstance(value, dict):
            for k, v in value.items():
                form[f"{qid}.{k}"] = v
        elif isinstance(value, list):
            form[qid] = value
        else:
            form[qid] = value
    e = event(urlencode(form, doseq=True).encode(), "application/x-www-form-urlencoded")
    e["headers"]["origin"] = "https://evil.example"
    status, _, _ = call(e)
    assert status == 303
    item = _only(ddb)
    assert "cross_site" in item["reasons"] and item["valid"] is False


# ---- 4. limits ----------------------------------------------------------------------------------------------------

@pytest.fixture
def capped(ddb, open_catalog, survey):
    tight = dataclasses.replace(RULES, address_valid_per_day=3, address_challenges_per_day=5)
    it = make_intake(ddb, open_catalog, survey, judged_by=tight)
    app.configure(it)
    yield it
    app.configure(None)


def test_one_address_gets_no_more_than_the_cap_credited_and_the_rest_is_kept(capped, ddb):
    for seed in range(6):
        assert call(event(payload(capped, seed=seed), ip="198.51.100.20"))[0] == 200
    assert call(event(payload(capped, seed=99), ip="198.51.100.21"))[0] == 200
    by_ip = [s for s in submissions(ddb)]
    assert len(by_ip) == 7
    assert sum(s["valid"] for s in by_ip) == 4  # three from the busy address, one from the other
    over = [s for s in by_ip if not s["valid"]]
    assert len(over) == 3 and all(s["reasons"] == ["address_volume"] for s in over)
    assert sum(r for r, _ in counters(ddb).values()) == 7 and sum(v for _, v in counters(ddb).values()) == 4


def test_retries_and_invalid_submissions_take_no_place_under_the_cap(capped, ddb):
    honest = payload(capped, seed=1)
    for _ in range(4):
        call(event(honest, ip="198.51.100.30"))  # the same submission, retried
    bot = payload(capped, seed=2, homepage="http://spam.example")
    call(event(bot, ip="198.51.100.30"))
    for seed in (3, 4):
        call(event(payload(capped, seed=seed), ip="198.51.100.30"))
    valid = [s for s in submissions(ddb) if s["valid"]]
    assert len(valid) == 3  # the retried one counts once, the honeypot took no place


def test_challenges_past_the_daily_allowance_are_refused_until_the_next_day(capped):
    statuses = [_challenge(f"sub-{i:08d}", ip="198.51.100.40")[0] for i in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    status, headers, body = _challenge("sub-00000099", ip="198.51.100.40")
    assert body["error"] == "address_volume" and 0 < int(headers["retry-after"]) <= 86400
    assert _challenge("sub-00000099", ip="198.51.100.41")[0] == 200  # another address is not affected


def test_a_device_brings_one_valid_sample_per_questionnaire(intake, ddb):
    for seed in (1, 2):
        call(event(payload(intake, seed=seed, device="the-same-phone"), ip=f"198.51.100.{seed}"))
    call(event(payload(intake, seed=3, qid="pro", device="the-same-phone")))
    by_q = sorted((s["questionnaire"], s["valid"], tuple(s.get("reasons", []))) for s in submissions(ddb))
    assert by_q == [("pro", True, ()), ("public", False, ("repeat_device",)), ("public", True, ())]


def test_a_script_post_without_a_device_token_is_not_valid(intake, ddb):
    body = payload(intake)
    del body["device"]
    call(event(body))
    item = _only(ddb)
    assert item["valid"] is False and item["reasons"] == ["no_device"]


def test_honest_respondents_behind_one_nat_address_below_the_cap_are_all_valid(intake, ddb):
    assert intake.rules.address_valid_per_day >= 2000
    for seed in range(40):
        assert call(event(payload(intake, seed=seed), ip="100.64.0.1"))[0] == 200
    assert all(s["valid"] for s in submissions(ddb))


# ---- 5. the rule set ----------------------------------------------------------------------------------------------

def test_each_submission_records_the_rule_version_and_the_signals_it_was_judged_on(intake, ddb):
    call(event(payload(intake), ip="198.51.100.50"))
    item = _only(ddb)
    assert item["rules"] == RULES.version
    signals = rules.Signals.from_item(json.loads(item["signals"]), item["device_hash"])
    assert signals.proof == "ok" and signals.seconds == item["seconds"] and signals.json and not signals.cross_site
    assert item["device_hash"] and "198.51.100.50" not in json.dumps(item)


def test_the_published_rules_describe_every_reason_the_judgement_gives():
    published = rules.load()
    assert set(published.reasons) == set(rules.CODES)
    assert all(r.title and r.meaning for r in published.reasons.values())


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["limits"].update(address_valid_per_day=0), "limits.address_valid_per_day"),
    (lambda d: d["reasons"].pop("too_fast"), "reasons.too_fast: missing"),
    (lambda d: d["reasons"].update(new_trick={"invalid": True, "title": "t", "meaning": "m"}), "reasons.new_trick"),
    (lambda d: d["reasons"]["honeypot"].update(invalid="yes"), "reasons.honeypot.invalid"),
    (lambda d: d.update(version=""), "version"),
    (lambda d: d["limits"]["min_seconds"].pop("pro"), "limits.min_seconds.pro: missing"),
])
def test_each_mistake_in_the_rules_file_is_named(tmp_path, edit, expected):
    data = rules.read()
    edit(data)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(rules.RulesError) as err:
        rules.parse(rules.read(path), path, ("public", "pro"))
    assert str(path) in str(err.value) and expected in str(err.value)


# ---- 9. input that cannot make a 5xx ------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["sponsor", "channel", "device", "homepage", "answer", "key"])
def test_a_lone_surrogate_anywhere_is_a_400_naming_the_field(intake, ddb, field):
    body = payload(intake)
    text = json.dumps(body, ensure_ascii=True)
    if field == "answer":
        body["answers"]["suggestions"] = "PLACEHOLDER"
    elif field == "key":
        body["answers"]["PLACEHOLDER"] = 1
    else:
        body[field] = "PLACEHOLDER"
    text = json.dumps(body, ensure_ascii=True).replace("PLACEHOLDER", "\\ud800x")
    status, _, answer = call(event(text.encode()))
    assert status == 400 and answer["error"] == "malformed"
    if field not in ("answer", "key"):
        assert answer["fields"][0]["field"] == field
    assert submissions(ddb) == []


def test_a_challenge_renewal_that_is_not_text_is_ignored_not_a_5xx(intake):
    status, _, body = _challenge("sub-00000001", renew="\udc80" * 5)
    assert status == 200 and body["challenge"]


def test_keys_come_from_secrets_manager_in_one_call_and_a_short_one_is_refused(monkeypatch):
    import boto3
    from moto import mock_aws

    from lambdas.survey import keys
    from lambdas.survey.settings import SettingsError

    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        sm = boto3.client("secretsmanager")
        arns = {name: sm.create_secret(Name=name, SecretString=name * 8)["ARN"] for name in ("addr", "chal", "orig")}
        env = {"SURVEY_ADDRESS_KEY_SECRET": arns["addr"], "SURVEY_CHALLENGE_KEY_SECRET": arns["chal"],
               "SURVEY_ORIGIN_TOKEN_SECRET": "orig"}  # an ARN or a name
        loaded = keys.load(env)
        assert loaded == Keys(b"addr" * 8, b"chal" * 8, "orig" * 8)
        sm.put_secret_value(SecretId="orig", SecretString="short")
        with pytest.raises(SettingsError, match="at least 32"):
            keys.load(env)
        with pytest.raises(SettingsError, match="SURVEY_ORIGIN_TOKEN_SECRET"):
            keys.load({k: v for k, v in env.items() if k != "SURVEY_ORIGIN_TOKEN_SECRET"})


# ---- 6. the province the address is in, for the anomaly report -----------------------------------------------------

def test_the_province_derived_from_the_address_is_kept_and_the_address_is_not(ddb, open_catalog, survey):
    from lambdas.survey import iplocate

    it = make_intake(ddb, open_catalog, survey, locate=iplocate.province)
    app.configure(it)
    try:
        call(event(payload(it), ip="114.114.114.114"))
    finally:
        app.configure(None)
    item = _only(ddb)
    assert item["ip_province"] == "江苏省" and "114.114" not in json.dumps(item, ensure_ascii=False)


def test_a_retry_after_a_throttled_store_is_judged_as_the_same_submission(intake, ddb, monkeypatch):
    # GIVEN the first attempt's judgement took its places, then DynamoDB throttled the store
    from botocore.exceptions import ClientError

    original = intake.store.client.put_item
    throttled: list[bool] = []

    def put_item(**kwargs):
        if kwargs["Item"]["pk"]["S"].startswith("S#") and not throttled:
            throttled.append(True)
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutItem")
        return original(**kwargs)

    monkeypatch.setattr(intake.store.client, "put_item", put_item)
    body = payload(intake)
    assert call(event(body))[0] == 503
    # WHEN the form retries it
    assert call(event(body))[0] == 200
    # THEN it is the valid sample it was: its device's place is its own
    item = _only(ddb)
    assert item["valid"] is True and "reasons" not in item


def test_a_scripted_form_post_with_a_proof_but_no_device_is_not_valid(intake, ddb):
    from urllib.parse import urlencode

    body = payload(intake)
    form = {"id": body["id"], "questionnaire": "public", "sponsor": body["sponsor"], "channel": body["channel"],
            "homepage": "", "proof_challenge": body["proof"]["challenge"], "proof_nonce": body["proof"]["nonce"]}
    for qid, value in body["answers"].items():
        if isinstance(value, dict):
            form.update({f"{qid}.{k}": v for k, v in value.items()})
        else:
            form[qid] = value
    assert call(event(urlencode(form, doseq=True).encode(), "application/x-www-form-urlencoded"))[0] == 303
    item = _only(ddb)
    assert item["valid"] is False and item["reasons"] == ["no_device"]
