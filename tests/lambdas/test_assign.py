"""GET /api/assign: the topics a respondent is offered, from the valid counts of each topic's form in the counts
function's cached counter rows; and, on the local stack, a shared form page's no-script post reaching the submit
function by its own path."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import jsonschema
import pytest

from lambdas import local
from lambdas.counts import app as counts_app
from lambdas.survey import catalog as catalogs
from lambdas.survey import layout, questionnaire
from lambdas.survey.store import Store
from tests.conftest import ROOT
from tests.lambdas.conftest import SHARDS, TABLE, event
from tests.lambdas.answers import form_fields, valid_answers

OPENAPI = json.loads((ROOT / "lambdas" / "openapi.json").read_text(encoding="utf-8"))
MODULES = questionnaire.SOURCE.with_name("questionnaires-2025.yaml")
DAY = "2020-07-22"  # a day of the sample campaign's window


@pytest.fixture(scope="module")
def survey_2025() -> questionnaire.Survey:
    return questionnaire.load(MODULES)


def put_counts(client: Any, valid: dict[str, int], not_valid: dict[str, int]) -> None:
    """Counter items as the submit function and the sweeper leave them: per form, spread over sponsors and shards;
    `not_valid` adds submissions received but not valid."""
    for n, (form, count) in enumerate(valid.items()):
        for shard, part in enumerate((count // 2, count - count // 2)):
            key = layout.counter_key(DAY, (n + shard) % SHARDS, form, f"sponsor-{shard}", "wechat", "浙江省")
            client.put_item(TableName=TABLE, Item={**key, "received": {"N": str(part)}, "valid": {"N": str(part)}})
    for form, count in not_valid.items():
        key = layout.counter_key(DAY, 0, form, "sponsor-0", "website", "浙江省")
        client.put_item(TableName=TABLE, Item={**key, "received": {"N": str(count)}, "valid": {"N": "0"}})


@pytest.fixture
def counts_of(ddb, campaign_catalog, survey_2025):
    """Configure the counts function over the table's counter items and the 2025 questionnaires."""
    def configure(valid: dict[str, int], survey: questionnaire.Survey = survey_2025,
                  not_valid: dict[str, int] | None = None) -> None:
        put_counts(ddb, valid, not_valid or {})
        counts_app.configure(counts_app.Source(Store(ddb, TABLE, SHARDS), catalogs.load(campaign_catalog)), survey)

    counts_app.rng = random.Random(11)
    yield configure
    counts_app.configure(None)
    counts_app.rng = random.Random()


def assign(base: str | None) -> tuple[int, dict[str, str], Any]:
    e = event(b"", path="/api/assign", method="GET")
    e["rawQueryString"] = f"questionnaire={base}" if base is not None else ""
    e["queryStringParameters"] = {"questionnaire": base} if base is not None else None
    result = counts_app.handler(e, local.Context("counts", "req"))
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return result["statusCode"], headers, json.loads(result["body"])


def with_assignment(survey: questionnaire.Survey, base: str, assignment: str) -> questionnaire.Survey:
    qn = survey.questionnaires[base]
    changed = dataclasses.replace(qn, modules=dataclasses.replace(qn.modules, assignment=assignment))
    return dataclasses.replace(survey, questionnaires={**survey.questionnaires, base: changed})


def test_assign_choice_offers_the_least_filled_topics_by_their_forms_valid_counts(counts_of, survey_2025):
    topics = survey_2025.questionnaires["public"].modules.topics
    # Every topic at half its target, but three lag: data at 10%, ai at 20%, egov at 30%
    valid = {f"public.{t.id}": t.target // 2 for t in topics}
    valid |= {"public.data": 20_000, "public.ai": 40_000, "public.egov": 60_000}
    # Received but not valid must not steer the offer: by received counts data would be the fullest
    counts_of(valid | {"pro.cii": 5}, not_valid={"public.data": 250_000})
    status, headers, body = assign("public")
    assert status == 200 and headers["cache-control"] == "no-store"
    jsonschema.validate(body, {"$ref": "#/components/schemas/Assignment", **OPENAPI})
    assert body == {"questionnaire": "public", "assignment": "assign_choice", "topics": ["data", "ai", "egov"]}


def test_assign_sends_everyone_to_the_one_topic_still_lacking(counts_of, survey_2025):
    pro = with_assignment(survey_2025, "pro", "assign")
    counts_of({"pro.cii": 30_000, "pro.talent": 12_000, "pro.compliance": 30_000}, pro)
    answers = Counter(tuple(assign("pro")[2]["topics"]) for _ in range(20))
    assert answers == {("talent",): 20}


def test_assign_spreads_requests_answered_from_the_same_counts(counts_of, survey_2025):
    pro = with_assignment(survey_2025, "pro", "assign")
    counts_of({"pro.cii": 10_000, "pro.talent": 10_000, "pro.compliance": 10_000}, pro)  # each lacks 20,000
    drawn = Counter(assign("pro")[2]["topics"][0] for _ in range(300))
    assert set(drawn) == {"cii", "talent", "compliance"} and min(drawn.values()) > 60


def test_choose_lists_every_topic_in_file_order(counts_of, survey_2025):
    counts_of({"public.fraud": 1}, with_assignment(survey_2025, "public", "choose"))
    status, _, body = assign("public")
    assert status == 200 and body["topics"] == [t.id for t in survey_2025.questionnaires["public"].modules.topics]


@pytest.mark.parametrize(("base", "says"), [
    ("nope", "应为 public 或 pro"),
    (None, "应为 public 或 pro"),
    ("public.ai", "应为 public 或 pro"),  # a form, not a questionnaire
])
def test_an_unknown_questionnaire_is_a_400_naming_the_field(counts_of, base, says):
    counts_of({})
    status, headers, body = assign(base)
    assert status == 400 and headers["cache-control"] == "no-store"
    jsonschema.validate(body, {"$ref": "#/components/schemas/Error", **OPENAPI})
    assert body["error"] == "bad_questionnaire" and body["fields"][0]["field"] == "questionnaire"
    assert says in body["fields"][0]["message"]


def test_a_questionnaire_without_topics_is_a_400_too(counts_of):
    counts_of({}, questionnaire.load())  # the 2020 shape: public and pro, no modules
    status, headers, body = assign("public")
    assert status == 400 and headers["cache-control"] == "no-store"
    assert body["fields"] == [{"field": "questionnaire", "message": "问卷 public 没有专题；本次调查的问卷没有专题"}]


# ---- on the local stack -----------------------------------------------------------------------------------------

def site_2025(folder: Path, open_catalog: Path) -> Path:
    """What the functions read from a build of the 2025 questionnaires: its catalog, questionnaires and rules (every
    fastest believable time zero: these tests post at once)."""
    shutil.copytree(open_catalog.parent, folder)
    (folder / "questionnaires.json").write_text(questionnaire.dumps(questionnaire.read(MODULES)), encoding="utf-8")
    data = json.loads((folder / "rules.json").read_text(encoding="utf-8"))
    data["limits"]["min_seconds"] = {q: 0 for q in data["limits"]["min_seconds"]}
    (folder / "rules.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (folder / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def served(tmp_path_factory, open_catalog):
    site = site_2025(tmp_path_factory.mktemp("assign") / "site", open_catalog)
    with local.stack(site, port=0, sweep_every=3600) as (stk, _):
        yield stk


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data, headers or {}, method="POST" if data is not None else "GET")

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # the 303 itself is the answer

    try:
        with urllib.request.build_opener(Stay).open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_local_stack_serves_assign_with_no_store_and_the_edges_headers(served):
    status, headers, body = fetch(f"{served.url}api/assign?questionnaire=public")
    answer = json.loads(body)
    assert status == 200 and headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in headers
    assert answer["assignment"] == "assign_choice" and len(answer["topics"]) == 3  # the 2025 file's offer
    status, headers, body = fetch(f"{served.url}api/assign?questionnaire=public.ai")
    assert status == 400 and json.loads(body)["fields"][0]["field"] == "questionnaire"


def test_a_no_script_post_to_a_links_form_reaches_the_submit_function_with_its_path(served, survey_2025):
    seen: list[tuple[str, dict]] = []
    call = served.api.call

    def spy(dotted: str, handler: Any, e: dict) -> dict:
        seen.append((dotted, e))
        return call(dotted, handler, e)

    served.api.call = spy  # type: ignore[method-assign]
    try:
        form = survey_2025.forms["public.ai"]
        answers = valid_answers(form, random.Random(3))
        fields = [("questionnaire", "public.ai"), ("id", ""), ("device", ""), ("proof_challenge", ""),
                  ("proof_nonce", ""), ("homepage", "")] + form_fields(answers, form)
        path = "s/zhejiang-cyberspace/wechat/ai/submit"
        status, headers, _ = fetch(served.url + path, urlencode(fields).encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
    finally:
        served.api.call = call  # type: ignore[method-assign]
    [(dotted, e)] = seen
    assert dotted == "lambdas.submit.app.handler" and e["routeKey"] == "POST /s/{proxy+}"
    assert e["rawPath"] == "/" + path and e["pathParameters"] == {"proxy": "zhejiang-cyberspace/wechat/ai/submit"}
    assert status == 303 and headers["Location"].endswith("/thanks/")
    client = boto3.client("dynamodb", endpoint_url=served.database_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    stored = [i for i in client.scan(TableName=served.table)["Items"] if i["pk"]["S"].startswith(layout.SUBMISSION)]
    [item] = [i for i in stored if i["questionnaire"]["S"] == "public.ai"]
    assert (item["sponsor"]["S"], item["channel"]["S"]) == ("zhejiang-cyberspace", "wechat")  # from the path


def test_the_site_takes_no_posts_and_its_pages_stay_files(served):
    status, _, _ = fetch(served.url + "s/zhejiang-cyberspace/wechat/", b"x=1",
                         {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403  # as CloudFront refuses a method its behaviour does not allow
    status, headers, body = fetch(served.url)
    assert status == 200 and body.startswith(b"<!doctype html>")


