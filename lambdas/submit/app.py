"""The submit function: POST /api/submit stores one answered questionnaire (so does a plain form post to a topic
form's own `/s/<slug>/<channel>/…/submit`); GET /api/challenge hands out a proof-of-work challenge for one
submission. A thin adapter from API Gateway (HTTP API, payload v2) to `intake.py`
(and, for a refused form post without script, to `problem.py`).

Everything is built once per container, at first use: the keys (one Secrets Manager call), the rules and the
questionnaires' checks (JSON from the site build, so no YAML parser is loaded), the sponsor catalog, the client.
No Tracer on this path (it adds about 30 ms to every cold start: tests/bench/bench_submit.py) and no request
bodies in logs.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from datetime import datetime, timezone

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from botocore.config import Config

from lambdas.survey import catalog, iplocate, keys, questionnaire, rules
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store

from . import problem
from .intake import Intake, Outcome, Request

logger = Logger(service="submit")
app = APIGatewayHttpResolver()
ORIGIN_HEADER = "x-origin-verify"  # set by CloudFront on every request it forwards (infra/template.yaml)
VIEWER_HEADER = "cloudfront-viewer-address"  # "ip:port", set by CloudFront, never passed on from the viewer


def create(settings: Settings, env: dict[str, str] | None = None, client: object | None = None) -> Intake:
    client = client or boto3.client("dynamodb", config=Config(
        # Fail fast and let the browser retry: a request held for long retries ties up concurrency in a spike.
        retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=3,
    ))
    survey = questionnaire.load(settings.questionnaires)
    return Intake(settings, keys.load(dict(os.environ if env is None else env)),
                  rules.parse(rules.read(settings.rules), settings.rules, tuple(survey.questionnaires)),
                  survey, catalog.load(settings.catalog), Store(client, settings.table, settings.shards),
                  iplocate.province)


intake: Intake | None = None


def configure(new: Intake | None) -> None:
    global intake
    intake = new


def _intake() -> Intake:
    global intake
    if intake is None:
        intake = create(Settings.from_env())
    return intake


class DirectAccess(Exception):
    """A request that did not come through the site's CloudFront distribution."""


def viewer(headers: dict[str, str], source_ip: str, token: str) -> str:
    """The viewer's address, believing only what CloudFront set. Where an edge stands in front (a token is set),
    a request must carry the edge's token; its viewer header is then CloudFront's own, since CloudFront replaces
    whatever a client sent under that name. With no edge, the connection's own address is the only truth."""
    if not token:
        return source_ip
    if not hmac.compare_digest(headers.get(ORIGIN_HEADER, "").encode(), token.encode()):
        raise DirectAccess
    address = headers.get(VIEWER_HEADER, "")
    return address.rsplit(":", 1)[0].strip("[]") if address else source_ip


def _direct() -> Response:
    return Response(403, "application/json", json.dumps({"error": "direct_access", "message": "请通过调查网站提交"},
                                                        ensure_ascii=False), {"Cache-Control": "no-store"})


@app.get("/api/challenge")
def challenge() -> Response:
    event = app.current_event
    it = _intake()
    try:
        ip = viewer(event.headers or {}, event.request_context.http.source_ip, it.keys.origin_token)
    except DirectAccess:
        return _direct()
    params = event.query_string_parameters or {}
    outcome = it.challenge(params.get("id", ""), params.get("renew", ""), ip, datetime.now(timezone.utc))
    headers = {"Cache-Control": "no-store", **outcome.headers}
    return Response(outcome.status, "application/json", json.dumps(outcome.body, ensure_ascii=False), headers)


@app.post("/api/submit")
def submit() -> Response:
    return _submit()


# A topic's form is one page under every attributed link; without script it posts to its own folder's `submit`,
# and that path tells which link it was (the route is a regular expression: Powertools compiles rules as such).
@app.post("/s/.+/submit")
def submit_at_link() -> Response:
    return _submit()


def _submit() -> Response:
    event = app.current_event
    headers = event.headers or {}
    it = _intake()
    try:
        ip = viewer(headers, event.request_context.http.source_ip, it.keys.origin_token)
    except DirectAccess:
        return _direct()
    raw = event.raw_event
    body = raw.get("body") or ""
    try:
        # Bytes, not text: a body that is not UTF-8 is the handler's to refuse with a 400, not the framework's to fail on.
        data = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode("utf-8", "surrogateescape")
    except ValueError:
        data = b"\xff"  # undecodable base64 is as malformed as any other body
    req = Request(
        body=data,
        content_type=headers.get("content-type", ""),
        ip=ip,
        now=datetime.now(timezone.utc),
        origin=headers.get("origin", ""),
        fetch_site=headers.get("sec-fetch-site", ""),
        path=event.path,
    )
    outcome = it.submit(req)
    logger.info("submission", extra=outcome.log)
    return _respond(outcome, data, req.path)


def _respond(outcome: Outcome, posted: bytes = b"", path: str = "") -> Response:
    headers = {"Cache-Control": "no-store", **outcome.headers}
    if not outcome.form:
        return Response(outcome.status, "application/json", json.dumps(outcome.body, ensure_ascii=False), headers)
    if outcome.status == 200:
        # A plain form post (no script): send the browser on to the thank-you page.
        headers["Location"] = f"{_intake().catalog.site_url}thanks/"
        return Response(303, "text/plain; charset=utf-8", "", headers)
    it = _intake()
    return Response(outcome.status, "text/html; charset=utf-8",
                    problem.page(outcome.body, posted, it.survey, it.catalog, path), headers)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
