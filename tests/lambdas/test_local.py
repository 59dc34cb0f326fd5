"""The local stack's adapter: the template's routes and table, API Gateway v2 events, real HTTP to moto's server."""

from __future__ import annotations

import json
import threading

import boto3

from lambdas import local
from lambdas.submit import app
from lambdas.submit import proof as app_proof
from tests.lambdas.conftest import counters, make_intake, payload, submissions


def test_the_local_table_has_the_templates_keys_and_index():
    definition = local.table_definition(local.template(), "t")
    assert [k["AttributeName"] for k in definition["KeySchema"]] == ["pk", "sk"]
    [index] = definition["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "pending-since"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["pending", "since"]


def test_routes_come_from_the_template_and_resolve_to_handlers():
    table = local.routes(local.template())
    assert table["POST /api/submit"] == table["GET /api/challenge"] == "lambdas.submit.app.handler"
    assert table["GET /api/counts/sponsors/{slug}"] == "lambdas.counts.app.handler"
    api = local.Api(table)
    assert api.match("GET", "/api/counts/sponsors/zhejiang-cyberspace") == (
        "GET /api/counts/sponsors/{slug}", {"slug": "zhejiang-cyberspace"})
    assert api.match("GET", "/api/counts/sponsors/a/b") is None and api.match("POST", "/api/counts") is None
    assert callable(local._resolve(table["POST /api/submit"]))
    assert local._sweep_handler() == "lambdas.sweep.app.handler"


def test_concurrent_duplicates_through_the_local_adapter_store_and_count_once(open_catalog, survey):
    # The local stack's path: real HTTP to moto's server, handler calls serialized by the adapter.
    with local.database() as url:
        client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        client.create_table(**local.table_definition(local.template(), "survey-test"))
        it = make_intake(client, open_catalog, survey)
        app.configure(it)
        api = local.Api(local.routes(local.template()))
        body = json.dumps(payload(it)).encode()
        statuses = []

        def post() -> None:
            statuses.append(api.invoke("POST", "/api/submit", {"Content-Type": "application/json"}, body, "198.51.100.7")[0])

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 8
        assert len(submissions(client)) == 1
        assert sum(r for r, _ in counters(client).values()) == 1




# ---- the local server as the edge: headers it sets, requests it refuses, connections it bounds -------------------

import socket  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

import pytest  # noqa: E402

from tests.lambdas.conftest import valid_answers  # noqa: E402


@pytest.fixture
def served(open_catalog, monkeypatch, tmp_path):
    """The whole local stack over a minimal site: the test build's catalog and questionnaires, and rules whose
    fastest believable time is zero (these tests post at once)."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(open_catalog.parent, site)
    data = json.loads((site / "rules.json").read_text(encoding="utf-8"))
    data["limits"]["min_seconds"] = {q: 0 for q in data["limits"]["min_seconds"]}
    (site / "rules.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (site / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    monkeypatch.setattr(local._Handler, "timeout", 2)
    monkeypatch.setattr(local, "MAX_CONNECTIONS", 2)
    with local.stack(site, port=0, sweep_every=3600) as (stk, server):
        yield stk, server.server_address[1]


def _raw(port: int, request: bytes, wait: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(request)
        return s.recv(4096)


@pytest.mark.parametrize("length", [b"-5", b"abc", b"1e3", b"\xd9\xa3"])
def test_a_negative_or_non_numeric_content_length_is_a_400(served, length):
    _, port = served
    reply = _raw(port, b"POST /api/submit HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.0 400") or reply.startswith(b"HTTP/1.1 400")


def test_the_stand_in_edge_overwrites_a_clients_viewer_and_token_headers(served, survey):
    import random

    stk, port = served
    answers = valid_answers(survey.questionnaires["public"], random.Random(5))

    def submit(n: int, forged: str) -> None:
        sub_id = f"local-{n:08d}"
        c = json.loads(urllib.request.urlopen(f"{stk.url}api/challenge?id={sub_id}", timeout=10).read())["challenge"]
        body = {"id": sub_id, "questionnaire": "public", "sponsor": "zhejiang-cyberspace", "channel": "wechat",
                "answers": answers, "homepage": "", "device": f"phone-{n}",
                "proof": {"challenge": c, "nonce": app_proof.solve(c)}}
        req = urllib.request.Request(stk.url + "api/submit", json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/json", "CloudFront-Viewer-Address": forged, "X-Origin-Verify": "guess"})
        assert urllib.request.urlopen(req, timeout=10).status == 200

    submit(1, "192.0.2.1:443")
    submit(2, "192.0.2.2:443")
    client = boto3.client("dynamodb", endpoint_url=stk.database_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    stored = {i["id"]["S"]: i for i in client.scan(TableName=stk.table)["Items"] if i["pk"]["S"].startswith("S#")}
    # Both came from this machine whatever they claimed: the second repeats the first's answers
    assert stored["local-00000002"]["reasons"]["L"] == [{"S": "repeat_answers"}]
    assert stored["local-00000002"]["ip_hash"] == stored["local-00000001"]["ip_hash"]


def test_pages_and_api_carry_the_distributions_security_headers(served):
    stk, _ = served
    expected = local.security_headers(local.template(), stk.database_url)
    for path in ("", "api/counts"):
        with urllib.request.urlopen(stk.url + path, timeout=10) as response:
            assert {k: response.headers[k] for k in expected} == expected


def test_idle_connections_time_out_and_only_so_many_are_served_at_once(served):
    stk, port = served
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]  # both slots, sending nothing
    try:
        time.sleep(0.3)
        started = time.monotonic()
        with urllib.request.urlopen(stk.url, timeout=10) as response:  # waits for a slot: an idle one times out
            assert response.status == 200
        assert time.monotonic() - started >= 1.0
        assert all(s.recv(10) == b"" for s in idle)  # the server closed the idle ones
    finally:
        for s in idle:
            s.close()


def test_the_access_log_names_no_client_address(served, capsys):
    stk, _ = served
    urllib.request.urlopen(stk.url + "api/counts", timeout=10).read()
    out = capsys.readouterr()
    logged = [line for line in (out.out + out.err).splitlines() if "GET /api/counts" in line]
    assert logged and not any("127.0.0.1" in line for line in logged)



# ---- the sponsors' portal on the local stack: its token through the edge, its uploads into moto's S3 -------------

import base64 as _base64  # noqa: E402
import uuid as _uuid  # noqa: E402


def _portal_token(stk: local.Stack, slug: str) -> str:
    from lambdas.portal import token

    env = stk.api.environments["lambdas.portal.app.handler"]
    sm = boto3.client("secretsmanager", endpoint_url=stk.database_url, region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    key = sm.get_secret_value(SecretId=env["SURVEY_PORTAL_KEY_SECRET"])["SecretString"]
    ddb = boto3.client("dynamodb", endpoint_url=stk.database_url, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    return token.sign(key, slug, token.Generations(ddb, stk.table).issue(slug), 4_000_000_000)


def _api(stk: local.Stack, method: str, path: str, tok: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(stk.url + path.lstrip("/"), None if body is None else json.dumps(body).encode(),
                                 method=method, headers={"X-Portal-Token": tok, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _multipart(fields: dict[str, str], data: bytes, content_type: str) -> tuple[bytes, str]:
    """A browser's form post of the presigned fields and then the file, as FormData sends it."""
    boundary = _uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="shot"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + data + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_the_portal_is_served_its_token_passes_the_edge_and_uploads_land_in_the_local_bucket(served):
    stk, _ = served
    tok = _portal_token(stk, "beijing-ccs")
    status, me = _api(stk, "GET", "api/portal/me", tok)
    assert status == 200 and me["sponsor"]["slug"] == "beijing-ccs"
    assert _api(stk, "GET", "api/portal/me", tok[:-1] + ("A" if tok[-1] != "A" else "B"))[0] == 403
    # The page may post where the API sends it: the CSP's bucket origin is moto's, as the presigned URL is
    status, post = _api(stk, "POST", "api/portal/uploads", tok, {"content_type": "image/png", "size": 8})
    assert status == 200 and post["url"].startswith(stk.database_url + "/")
    with urllib.request.urlopen(stk.url, timeout=10) as response:
        assert f"connect-src 'self' {stk.database_url};" in response.headers["Content-Security-Policy"]
    body, kind = _multipart(post["fields"], b"\x89PNG\r\n\x1a\n", "image/png")
    site = stk.url.rstrip("/")
    upload = urllib.request.Request(post["url"], body, method="POST", headers={"Content-Type": kind, "Origin": site})
    with urllib.request.urlopen(upload, timeout=10) as response:
        # moto's S3 answers the template's CORS rule for the local site's origin, so the page could read this answer
        assert response.status in (200, 201, 204) and response.headers["Access-Control-Allow-Origin"] == site
    status, stored = _api(stk, "POST", "api/portal/requests", tok, {"kind": "placement", "fields": {
        "where": "https://www.example.org/notice", "when": "2020-07-22", "upload": post["key"]}})
    assert status == 201 and stored["request"]["fields"]["upload"] == post["key"]


def test_moto_does_not_enforce_a_presigned_posts_policy_so_the_api_checks_the_object(served):
    stk, _ = served
    tok = _portal_token(stk, "beijing-ccs")
    _, post = _api(stk, "POST", "api/portal/uploads", tok, {"content_type": "image/png", "size": 8})
    policy = json.loads(_base64.b64decode(post["fields"]["policy"]))
    assert ["content-length-range", 1, 5 * 1024 * 1024] in policy["conditions"]
    body, kind = _multipart({**post["fields"], "Content-Type": "text/html"}, b"<script>", "text/html")
    with urllib.request.urlopen(urllib.request.Request(post["url"], body, method="POST",
                                                       headers={"Content-Type": kind}), timeout=10) as response:
        assert response.status in (200, 201, 204)  # AWS would answer 403: the policy's Content-Type differs
    status, refused = _api(stk, "POST", "api/portal/requests", tok, {"kind": "placement", "fields": {
        "where": "校门口", "when": "2020-07-22", "upload": post["key"]}})
    assert status == 422 and refused["field"] == "upload"
