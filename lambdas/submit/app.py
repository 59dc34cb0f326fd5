"""The submit function: POST /api/submit stores one answered questionnaire; GET /api/challenge hands out a
proof-of-work challenge. A thin adapter from API Gateway (HTTP API, payload v2) to `intake.py`.

Everything is built once per container, at import: the questionnaire's checks, the sponsor catalog, the client.
No Tracer on this path (it adds about 30 ms to every cold start: tests/bench/bench_submit.py) and no request
bodies in logs. The questionnaires come as JSON from the site build, so no YAML parser is loaded either.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timezone

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from botocore.config import Config

from lambdas.survey import catalog, questionnaire
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store

from .intake import Intake, Outcome, Request

logger = Logger(service="submit")
app = APIGatewayHttpResolver()


def create(settings: Settings, client: object | None = None) -> Intake:
    client = client or boto3.client("dynamodb", config=Config(
        # Fail fast and let the browser retry: a request held for long retries ties up concurrency in a spike.
        retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=3,
    ))
    return Intake(settings, questionnaire.load(settings.questionnaires), catalog.load(settings.catalog),
                  Store(client, settings.table, settings.shards))


intake: Intake | None = None


def configure(new: Intake) -> None:
    global intake
    intake = new


def _intake() -> Intake:
    global intake
    if intake is None:
        intake = create(Settings.from_env())
    return intake


@app.get("/api/challenge")
def challenge() -> Response:
    body = _intake().challenge(datetime.now(timezone.utc))
    return Response(200, "application/json", json.dumps(body), {"Cache-Control": "no-store"})


@app.post("/api/submit")
def submit() -> Response:
    event = app.current_event
    headers = event.headers or {}
    # Behind CloudFront the viewer's address arrives in this header (as "ip:port"); directly, in the source IP.
    viewer = headers.get("cloudfront-viewer-address", "").rsplit(":", 1)[0]
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
        ip=viewer or event.request_context.http.source_ip,
        now=datetime.now(timezone.utc),
    )
    outcome = _intake().submit(req)
    logger.info("submission", extra=outcome.log)
    return _respond(outcome)


def _respond(outcome: Outcome) -> Response:
    headers = {"Cache-Control": "no-store", **outcome.headers}
    if not outcome.form:
        return Response(outcome.status, "application/json", json.dumps(outcome.body, ensure_ascii=False), headers)
    if outcome.status == 200:
        # A plain form post (no script): send the browser on to the thank-you page.
        headers["Location"] = f"{_intake().catalog.site_url}thanks/"
        return Response(303, "text/plain; charset=utf-8", "", headers)
    return Response(outcome.status, "text/html; charset=utf-8", _problem_page(outcome), headers)


def _problem_page(outcome: Outcome) -> str:
    """What a respondent without script sees when the post was refused: every problem, by question."""
    texts = {f"answers.{q.id}": q.text for qn in _intake().survey.questionnaires.values() for q in qn.questions}
    items = []
    for f in outcome.body.get("fields", []):
        base = ".".join(f["field"].split(".")[:2])
        label = texts.get(base, f["field"])
        items.append(f"<li><b>{html.escape(label)}</b>：{html.escape(f['message'])}</li>")
    listing = f"<ul>{''.join(items)}</ul>" if items else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>提交未成功</title></head>'
        '<body style="font:16px/1.6 sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#0b2a5c">'
        f"<h1>提交未成功</h1><p>{html.escape(outcome.body.get('message', ''))}</p>{listing}"
        "<p>请使用浏览器的“返回”回到问卷修改后重新提交，您已填写的内容通常仍会保留。</p></body></html>"
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
