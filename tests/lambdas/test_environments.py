"""Every function starts with exactly the environment the template gives it: a variable the template forgets fails
here, not at 09:00 on the opening day."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lambdas import local
from tests.conftest import ROOT
from tests.lambdas.conftest import EVENT

TEMPLATE = local.template()
SECRET_VARS = {"SURVEY_ADDRESS_KEY_SECRET", "SURVEY_CHALLENGE_KEY_SECRET", "SURVEY_ORIGIN_TOKEN_SECRET"}
PORTAL_SECRET = "SURVEY_PORTAL_KEY_SECRET"
RUN = """
import importlib, json, sys
from lambdas.local import Context
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
print(json.dumps(handler(json.loads(sys.stdin.read()), Context(name, "req-1"))))
"""


@pytest.fixture(scope="module")
def aws(open_catalog: Path) -> Any:
    """moto's server with the template's table and secrets, as a deployed stack would have them."""
    with local.database() as url:
        local.create_table(url, TEMPLATE)
        arns, token = local.create_secrets(url, TEMPLATE)
        made = local.create_buckets(url, TEMPLATE, "http://127.0.0.1:1")
        yield {"url": url, "physical": {"SurveyTable": local.TABLE, **arns, **made}, "token": token,
               "catalog": open_catalog}
        local._drop_table(url)
        local._drop_buckets(url, list(made.values()))


def _start(aws: Any, function: str, event: dict, parameters: dict[str, str] | None = None) -> dict:
    handler = TEMPLATE["Resources"][function]["Properties"]["Handler"]
    env = {**local.function_environment(TEMPLATE, function, aws["physical"], parameters, s3_url=aws["url"]),
           **local.runtime_environment(aws["url"], function),
           # In Lambda the catalog is packaged beside the code; here it is the test build's.
           "SURVEY_CATALOG": str(aws["catalog"]), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", RUN, handler], input=json.dumps(event), env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{function} failed to start with the template's environment:\n{result.stderr}"
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    answer["_logged"] = result.stdout  # what the function logged on the way (Powertools' JSON lines)
    return answer


def _get(path: str, query: dict[str, str], headers: dict[str, str]) -> dict:
    e = copy.deepcopy(EVENT)
    e.update(rawPath=path, routeKey=f"GET {path}", queryStringParameters=query, body=None)
    e["requestContext"]["http"].update(method="GET", path=path)
    e["headers"].update(headers)
    return e


def test_each_function_is_given_only_the_settings_it_reads_and_no_secret_value():
    envs = {name: local.function_environment(TEMPLATE, name, {"SurveyTable": "t", "AddressKeySecret": "arn:a",
                                                               "ChallengeKeySecret": "arn:c", "OriginTokenSecret": "arn:o",
                                                               "WeChatAppSecret": "arn:w", "PortalKeySecret": "arn:p",
                                                               "UploadBucket": "uploads-1"})
            for name in local.functions(TEMPLATE).values()}
    assert not SECRET_VARS & set(envs["WeChatFunction"])
    assert SECRET_VARS <= set(envs["SubmitFunction"])
    assert not SECRET_VARS & set(envs["SweepFunction"]) and not SECRET_VARS & set(envs["CountsFunction"])
    assert "SURVEY_PUBLIC_VALID" in envs["CountsFunction"] and "SURVEY_PUBLIC_VALID" not in envs["SubmitFunction"]
    # The portal knows its own key and nothing of the submit function's; only it knows the portal key
    assert not SECRET_VARS & set(envs["PortalFunction"]) and envs["PortalFunction"][PORTAL_SECRET] == "arn:p"
    assert [name for name, env in envs.items() if PORTAL_SECRET in env] == ["PortalFunction"]
    assert envs["PortalFunction"]["SURVEY_PRIVATE_VALID"] == "settled_days"
    assert envs["PortalFunction"]["SURVEY_UPLOAD_URL"] == "https://uploads-1.s3.us-east-1.amazonaws.com"
    for env in envs.values():
        assert all(not v.startswith("{") for v in env.values())  # every reference resolved
        assert not any("SECRET" in k and not v.startswith("arn:") for k, v in env.items())


def test_the_submit_function_starts_and_believes_only_the_edge(aws):
    viewer = {"x-origin-verify": aws["token"], "cloudfront-viewer-address": "198.51.100.9:5000"}
    answer = _start(aws, "SubmitFunction", _get("/api/challenge", {"id": "sub-00000001"}, viewer))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["challenge"]
    direct = _start(aws, "SubmitFunction", _get("/api/challenge", {"id": "sub-00000001"}, {}))
    assert direct["statusCode"] == 403


def test_the_counts_function_starts(aws):
    answer = _start(aws, "CountsFunction", _get("/api/counts", {}, {}))
    assert answer["statusCode"] == 200 and "total" in json.loads(answer["body"])


def test_the_sweeper_starts_without_any_key(aws):
    answer = _start(aws, "SweepFunction", {})
    assert answer["counted"] == 0


def test_the_wechat_function_starts_and_stays_off_until_its_secret_is_put(aws):
    # As the template creates it: an AppId given, the AppSecret's secret holding its placeholder
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=aws["url"], region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    placeholder = TEMPLATE["Resources"]["WeChatAppSecret"]["Properties"]["SecretString"]
    sm.put_secret_value(SecretId=aws["physical"]["WeChatAppSecret"], SecretString=placeholder)
    answer = _start(aws, "WeChatFunction", _get("/api/wechat/signature", {"url": "https://x/"}, {}),
                    {"WeChatAppId": "wx0123456789abcdef"})
    assert answer["statusCode"] == 404 and json.loads(answer["body"])["error"] == "not_configured"
    # Off because the secret (found through the template's variables) holds no AppSecret yet, not for want of a variable
    assert "holds no AppSecret yet" in answer["_logged"]


def test_the_portal_function_starts_admits_its_sponsors_token_and_nothing_else(aws):
    import boto3

    from lambdas.portal import token

    clients = {name: boto3.client(name, endpoint_url=aws["url"], region_name="us-east-1", aws_access_key_id="local",
                                  aws_secret_access_key="local") for name in ("secretsmanager", "dynamodb")}
    key = clients["secretsmanager"].get_secret_value(SecretId=aws["physical"]["PortalKeySecret"])["SecretString"]
    generation = token.Generations(clients["dynamodb"], local.TABLE).issue("beijing-ccs")
    good = token.sign(key, "beijing-ccs", generation, 4_000_000_000)
    answer = _start(aws, "PortalFunction", _get("/api/portal/me", {}, {"x-portal-token": good}))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["sponsor"]["slug"] == "beijing-ccs"
    forged = token.sign("a-key-of-our-own-making-" * 2, "beijing-ccs", generation, 4_000_000_000)
    answer = _start(aws, "PortalFunction", _get("/api/portal/me", {}, {"x-portal-token": forged}))
    assert answer["statusCode"] == 403 and good not in answer["_logged"]  # no token in the logs
    # The uploads it presigns go to the bucket the template names, on the S3 the environment points at
    post = _get("/api/portal/uploads", {}, {"x-portal-token": good, "content-type": "application/json"})
    post.update(routeKey="POST /api/portal/uploads", body=json.dumps({"content_type": "image/png", "size": 10}))
    post["requestContext"]["http"]["method"] = "POST"
    answer = _start(aws, "PortalFunction", post)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["url"] == f"{aws['url']}/{aws['physical']['UploadBucket']}"


def test_the_counts_function_assigns_topics_from_the_questionnaires_packaged_beside_its_catalog(aws, tmp_path):
    import shutil

    from lambdas.survey import questionnaire

    # A build of the 2025 questionnaires: the function finds them beside sponsors.json, as in its package
    shutil.copytree(aws["catalog"].parent, tmp_path / "site")
    modules = questionnaire.SOURCE.with_name("questionnaires-2025.yaml")
    (tmp_path / "site" / "questionnaires.json").write_text(questionnaire.dumps(questionnaire.read(modules)),
                                                           encoding="utf-8")
    built = {**aws, "catalog": tmp_path / "site" / "sponsors.json"}
    answer = _start(built, "CountsFunction", _get("/api/assign", {"questionnaire": "pro"}, {}))
    assert answer["statusCode"] == 200 and answer["headers"]["Cache-Control"] == "no-store"
    assert json.loads(answer["body"])["questionnaire"] == "pro" and len(json.loads(answer["body"])["topics"]) == 2
    refused = _start(aws, "CountsFunction", _get("/api/assign", {"questionnaire": "pro"}, {}))  # the 2020 shape
    assert refused["statusCode"] == 400 and json.loads(refused["body"])["fields"][0]["field"] == "questionnaire"
