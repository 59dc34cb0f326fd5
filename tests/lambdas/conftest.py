from __future__ import annotations

import base64
import copy
import dataclasses
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas import local
from lambdas.submit import app, proof
from lambdas.submit.intake import Intake, Request
from lambdas.survey import catalog, questionnaire, rules
from lambdas.survey.keys import Keys
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store
from tests.helpers import ROOT, beijing_midnight, write_catalog
from tests.lambdas.answers import valid_answers

EVENT = json.loads((ROOT / "tests" / "events" / "submit.json").read_text(encoding="utf-8"))
KEYS = Keys(address=b"test-address-key-" * 3, challenge=b"test-challenge-key-" * 3, origin_token="")
SHARDS = 4
BITS = 8  # cheap proofs in tests; the format and the check are the same at any difficulty
RULES = dataclasses.replace(rules.load(), proof_bits=BITS)
TABLE = "survey-test"
SPONSOR, CHANNEL = "zhejiang-cyberspace", "wechat"  # a sponsor with a former slug in the sample


@pytest.fixture(scope="session")
def survey() -> questionnaire.Survey:
    return questionnaire.load()


@pytest.fixture(scope="session")
def campaign_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample campaign's own sponsors.json: the 2020 window."""
    return write_catalog(tmp_path_factory.mktemp("catalog-2020"))


@pytest.fixture(scope="session")
def open_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same sponsors with the window moved to have opened yesterday, as the local stack's rehearsal does."""
    return write_catalog(tmp_path_factory.mktemp("catalog-open"), beijing_midnight(days_ago=1).isoformat())


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Any:
    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**local.table_definition(local.template(), TABLE))  # the template's own keys
        yield client


def make_intake(client: Any, catalog_path: Path, survey: questionnaire.Survey, keys: Keys = KEYS,
                judged_by: rules.Rules = RULES, locate: Any = lambda ip: "") -> Intake:
    settings = Settings(TABLE, catalog_path, SHARDS)
    return Intake(settings, keys, judged_by, survey, catalog.load(catalog_path), Store(client, TABLE, SHARDS), locate)


@pytest.fixture
def intake(ddb: Any, open_catalog: Path, survey: questionnaire.Survey) -> Intake:
    it = make_intake(ddb, open_catalog, survey)
    app.configure(it)
    yield it
    app.configure(None)  # type: ignore[arg-type]


def payload(intake: Intake, *, qid: str = "public", seed: int = 1, sub_id: str | None = None, age: int = 600,
            now: datetime | None = None, **extra: Any) -> dict[str, Any]:
    """A complete, valid submission as the form's script sends it, with a solved proof issued `age` seconds ago
    for its id."""
    now = now or datetime.now(timezone.utc)
    sub_id = sub_id or f"test-{seed:08d}-{random.Random(seed).getrandbits(32):08x}"
    challenge = proof.issue(intake.keys.challenge, sub_id, int((now - timedelta(seconds=age)).timestamp() * 1000),
                            intake.rules.proof_bits)
    body = {
        "id": sub_id,
        "questionnaire": qid, "sponsor": SPONSOR, "channel": CHANNEL,
        "answers": valid_answers(intake.survey.questionnaires[qid], random.Random(seed)),
        "homepage": "", "device": f"device-{seed}",
        "proof": {"challenge": challenge, "nonce": proof.solve(challenge)},
    }
    body.update(extra)
    return body


def event(body: bytes | str | dict, content_type: str = "application/json", ip: str = "203.0.113.9",
          path: str = "/api/submit", method: str = "POST") -> dict[str, Any]:
    e = copy.deepcopy(EVENT)
    raw = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, dict) else body
    raw = raw.encode() if isinstance(raw, str) else raw
    e["headers"]["content-type"] = content_type
    e["requestContext"]["http"].update(sourceIp=ip, method=method, path=path)
    e["rawPath"] = path
    e["routeKey"] = f"{method} {path}"
    if content_type.startswith("application/json"):
        e["body"], e["isBase64Encoded"] = raw.decode("utf-8", "surrogateescape"), False
    else:
        e["body"], e["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return e


def call(e: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke the real handler; JSON bodies come back parsed."""
    result = app.handler(e, local.Context("submit", "req-1"))
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    body = result.get("body") or ""
    if headers.get("content-type", "").startswith("application/json"):
        body = json.loads(body)
    return result["statusCode"], headers, body


def items(client: Any, prefix: str = "") -> list[dict[str, Any]]:
    found = []
    kwargs: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = client.scan(**kwargs)
        found += [i for i in page["Items"] if i["pk"]["S"].startswith(prefix)]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def submissions(client: Any) -> list[dict[str, Any]]:
    from lambdas.survey.store import _plain

    return [_plain(i) for i in items(client, "S#")]


def counters(client: Any) -> dict[str, tuple[int, int]]:
    """counter sort key (without shard) -> (received, valid), summed over shards and days."""
    total: dict[str, tuple[int, int]] = {}
    for i in items(client, "C#"):
        k = i["sk"]["S"]
        r, v = total.get(k, (0, 0))
        total[k] = (r + int(i["received"]["N"]), v + int(i["valid"]["N"]))
    return total


def request(body: dict | bytes, now: datetime, content_type: str = "application/json", ip: str = "203.0.113.9") -> Request:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Request(raw, content_type, ip, now)
