"""The SAM template: lint-clean in AWS and AWS China regions, and consistent with the code that relies on it."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

from lambdas import local
from lambdas.survey import counts, layout
from lambdas.survey.settings import DEFAULT_SHARDS
from tests.conftest import ROOT

TEMPLATE = ROOT / "infra" / "template.yaml"


def test_cfn_lint_is_clean_in_aws_and_aws_china_regions():
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), "--regions", "us-east-1", "ap-east-1", "cn-north-1",
                             "cn-northwest-1", "--", str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_arns_name_the_partition_and_domains_the_url_suffix():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "arn:aws:" not in text and "arn:${AWS::Partition}:" in text
    assert "amazonaws.com" not in text and "${AWS::URLSuffix}" in text


def test_the_tables_keys_are_the_ones_the_code_uses():
    tpl = local.template(TEMPLATE)
    table = local.table_definition(tpl)
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        (layout.KEY_SCHEMA["partition"], "HASH"), (layout.KEY_SCHEMA["sort"], "RANGE")]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == layout.PENDING_INDEX
    assert tuple(k["AttributeName"] for k in index["KeySchema"]) == layout.KEY_SCHEMA["pending"]
    props = next(r["Properties"] for r in tpl["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    assert props["BillingMode"] == "PAY_PER_REQUEST" and props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"]["AttributeName"] == "expires"  # markers only; see store.claim


def test_the_templates_counter_shards_are_the_codes_default():
    # The template states the number for AWS; the code's default serves the local stack and the commands.
    tpl = local.template(TEMPLATE)
    assert int(tpl["Parameters"]["CounterShards"]["Default"]) == DEFAULT_SHARDS


def test_every_handler_in_the_template_resolves():
    tpl = local.template(TEMPLATE)
    handlers = [r["Properties"]["Handler"] for r in tpl["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(handlers) == 5  # submit, counts, sweep, the sponsors' portal and, with an official account, WeChat's
    for dotted in handlers:
        module, _, func = dotted.rpartition(".")
        assert callable(getattr(importlib.import_module(module), func)), dotted


def test_functions_get_only_what_they_call():
    tpl = local.template(TEMPLATE)
    fns = {name: r["Properties"] for name, r in tpl["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    actions = {name: {a for p in props["Policies"] for s in p["Statement"] for a in s["Action"]} for name, props in fns.items()}
    assert actions["CountsFunction"] == {"dynamodb:Query"}
    assert actions["PortalFunction"] == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                         "secretsmanager:GetSecretValue", "s3:PutObject", "s3:GetObject"}
    assert "dynamodb:Scan" not in set().union(*actions.values()) and "dynamodb:DeleteItem" not in set().union(*actions.values())
    glob = tpl["Globals"]["Function"]
    assert glob["Runtime"] >= "python3.12" and glob["Architectures"] == ["arm64"]
    for name, props in fns.items():
        assert props.get("LoggingConfig", {}).get("LogGroup"), f"{name} logs without a retention"


def test_the_api_is_routed_through_the_sites_distribution():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert re.search(r"PathPattern: /api/\*\n\s+TargetOriginId: api", text)
    assert "BlockPublicPolicy: true" in text and "ThrottlingRateLimit" in text


def test_the_edge_is_the_only_way_in_and_the_api_sees_only_what_it_reads():
    tpl = local.template(TEMPLATE)
    res = tpl["Resources"]
    assert "SurveySecret" not in tpl["Parameters"]  # no secret as a plain parameter or environment value
    dist = res["Distribution"]["Properties"]["DistributionConfig"]
    [api] = [o for o in dist["Origins"] if o["Id"] == "api"]
    [token] = api["OriginCustomHeaders"]
    assert token["HeaderName"] == "x-origin-verify" and "OriginTokenSecret" in token["HeaderValue"]["Fn::Sub"]
    headers = res["ApiRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]
    assert {"cloudfront-viewer-address", "origin", "sec-fetch-site"} <= set(headers)
    counts = res["CountsCachePolicy"]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert counts["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["day", "kind", "province"]}
    behaviours = [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"} for b in behaviours)


def test_submit_has_reserved_concurrency_and_its_routes_their_own_throttle():
    tpl = local.template(TEMPLATE)
    assert int(tpl["Parameters"]["SubmitReservedConcurrency"]["Default"]) > 0
    routes = tpl["Resources"]["SurveyApi"]["Properties"]["RouteSettings"]
    for route in ("POST /api/submit", "GET /api/challenge"):
        assert routes[route]["ThrottlingRateLimit"] == {"Ref": "SubmitRateLimit"}


def test_the_security_headers_the_local_server_sends_are_the_distributions():
    headers = local.security_headers(local.template(TEMPLATE))
    assert "script-src 'self'" in headers["Content-Security-Policy"] and "unsafe-eval" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"] == "max-age=31536000" and headers["Referrer-Policy"]


def test_the_portal_reads_only_its_key_and_writes_only_placements_into_a_private_bucket():
    tpl = local.template(TEMPLATE)
    res = tpl["Resources"]
    statements = res["PortalFunction"]["Properties"]["Policies"][0]["Statement"]
    [secret] = [s for s in statements if s["Action"] == ["secretsmanager:GetSecretValue"]]
    assert secret["Resource"] == {"Ref": "PortalKeySecret"}
    [s3] = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert s3["Resource"]["Fn::Sub"].endswith(":s3:::${UploadBucket}/placements/*")
    env = res["PortalFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SURVEY_PRIVATE_VALID"] == {"Ref": "PrivateValid"} and tpl["Parameters"]["PrivateValid"]["Default"] == "settled_days"
    assert set(tpl["Parameters"]["PrivateValid"]["AllowedValues"]) == set(counts.POLICIES)
    bucket = res["UploadBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    [cors] = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"] and "Distribution.DomainName" in cors["AllowedOrigins"][0]["Fn::Sub"]
    assert any(r.get("ExpirationInDays") for r in bucket["LifecycleConfiguration"]["Rules"])


def test_the_pages_may_post_to_the_upload_bucket_and_nowhere_else():
    tpl = local.template(TEMPLATE)
    res = tpl["Resources"]
    text, names = res["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    # The policy names the bucket by the same expression the bucket is named with (a Ref would be a cycle)
    assert names == {"Uploads": res["UploadBucket"]["Properties"]["BucketName"]}
    directives = dict(d.strip().split(" ", 1) for d in text.split(";"))
    assert directives["connect-src"] == "'self' https://${Uploads}.s3.${AWS::Region}.${AWS::URLSuffix}"
    assert all("${" not in v for k, v in directives.items() if k != "connect-src")
    assert res["PortalFunction"]["Properties"]["Environment"]["Variables"]["SURVEY_UPLOAD_URL"] == {
        "Fn::Sub": "https://${UploadBucket}.s3.${AWS::Region}.${AWS::URLSuffix}"}
    headers = res["ApiRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]
    assert "x-portal-token" in headers


def test_every_function_is_packaged():
    from infra import deploy

    packaged = {p.name for p in (ROOT / "lambdas").iterdir() if p.name not in deploy.NOT_PACKAGED}
    for dotted in local.functions(local.template(TEMPLATE)):
        assert dotted.split(".")[1] in packaged, dotted
    assert "portal" in packaged


def test_a_shared_form_pages_post_reaches_the_submit_function_through_its_own_behaviour():
    tpl = local.template(TEMPLATE)
    edge = local.behaviours(tpl)
    dist = tpl["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    [api] = [b for b in dist["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    [form] = [b for b in dist["CacheBehaviors"] if b["PathPattern"] == "/s/*/submit"]
    # The /api/* behaviour's policies: never cached, the viewer's headers forwarded, the same security headers
    assert {k: v for k, v in form.items() if k != "PathPattern"} == {k: v for k, v in api.items() if k != "PathPattern"}
    # No behaviour before it takes these paths; the form pages themselves stay the site's
    ours = edge[dist["CacheBehaviors"].index(form)]
    for path in ("/s/zhejiang-cyberspace/wechat/ai/submit", "/s/zhejiang-cyberspace/wechat/pro/law/submit"):
        assert local.behaviour_of(edge, path) == ours and ours.origin == "api" and "POST" in ours.methods
    for path in ("/s/zhejiang-cyberspace/wechat/ai/", "/s/zhejiang-cyberspace/wechat/", "/s/x/web/ai/index.html"):
        assert local.behaviour_of(edge, path).origin == "site"
    routes = local.routes(tpl)
    assert routes["POST /s/{proxy+}"] == "lambdas.submit.app.handler"
    assert routes["GET /api/assign"] == "lambdas.counts.app.handler"
    settings = tpl["Resources"]["SurveyApi"]["Properties"]["RouteSettings"]
    for route in ("POST /s/{proxy+}", "GET /api/assign"):
        assert route in routes and settings[route]["ThrottlingRateLimit"] == {"Ref": "SubmitRateLimit"}


def test_the_design_needs_no_edge_function_nor_origin_access_control():
    # Neither exists in AWS China's CloudFront (infra/README.md, "AWS China"): routing is by path pattern alone
    tpl = local.template(TEMPLATE)
    types = {r["Type"] for r in tpl["Resources"].values()}
    assert not {"AWS::CloudFront::Function", "AWS::CloudFront::OriginAccessControl"} & types
    dist = tpl["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for b in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]:
        assert not {"FunctionAssociations", "LambdaFunctionAssociations"} & set(b)
