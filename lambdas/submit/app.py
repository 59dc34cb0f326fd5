"""The submit function: POST /api/submit stores one answered questionnaire; GET /api/challenge hands out a
proof-of-work challenge for one submission. A thin adapter from API Gateway (HTTP API, payload v2) to `intake.py`.

Everything is built once per container, at first use: the keys (one Secrets Manager call), the rules and the
questionnaires' checks (JSON from the site build, so no YAML parser is loaded), the sponsor catalog, the client.
No Tracer on this path (it adds about 30 ms to every cold start: tests/bench/bench_submit.py) and no request
bodies in logs.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import os
import string
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from botocore.config import Config

from lambdas.survey import catalog, iplocate, keys, questionnaire, rules
from lambdas.survey.catalog import UNATTRIBUTED
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store

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
    )
    outcome = it.submit(req)
    logger.info("submission", extra=outcome.log)
    return _respond(outcome, data)


def _respond(outcome: Outcome, posted: bytes = b"") -> Response:
    headers = {"Cache-Control": "no-store", **outcome.headers}
    if not outcome.form:
        return Response(outcome.status, "application/json", json.dumps(outcome.body, ensure_ascii=False), headers)
    if outcome.status == 200:
        # A plain form post (no script): send the browser on to the thank-you page.
        headers["Location"] = f"{_intake().catalog.site_url}thanks/"
        return Response(303, "text/plain; charset=utf-8", "", headers)
    return Response(outcome.status, "text/html; charset=utf-8", _problem_page(outcome, posted), headers)


def _problem_page(outcome: Outcome, posted: bytes) -> str:
    """What a respondent without script sees when the post was refused: every problem under the number and wording
    of the question in the questionnaire that was posted, and a way back to it."""
    it = _intake()
    meta = _posted_meta(posted)
    qn = it.survey.questionnaires.get(meta.get("questionnaire", "")) or next(iter(it.survey.questionnaires.values()))
    # Numbered as the form numbers them (generator/forms.py): in questionnaire order, from 1.
    numbered = {q.id: (n, q.text) for n, q in enumerate(qn.questions, 1)}
    problems: dict[str, list[str]] = {}  # one entry per question, in the order the server named them
    for f in outcome.body.get("fields", []):
        parts = f["field"].split(".")
        key = parts[1] if parts[0] == "answers" and len(parts) > 1 and parts[1] in numbered else f["field"]
        problems.setdefault(key, []).append(f["message"])
    items = []
    for key, messages in problems.items():
        if key in numbered:
            n, text = numbered[key]
            head = f'<span class="n">第 {n} 题</span><span class="q">{html.escape(text)}</span>'
        else:
            head = f'<span class="q">{html.escape(PROBLEM_FIELDS.get(key.split(".")[0], "提交内容"))}</span>'
        # The message on a line of its own: a question that ends in "？" never runs into a "：".
        items.append(f'<li>{head}<span class="m">{html.escape("；".join(dict.fromkeys(messages)))}</span></li>')
    back, label = _form_link(it, meta, qn.id)
    return PROBLEM_PAGE.substitute(
        title=html.escape(qn.title), message=html.escape(outcome.body.get("message", "")),
        listing=f"<ul>{''.join(items)}</ul>" if items else "", back=html.escape(back), back_label=label,
    )


# What the page calls the parts of a post that are not answers (a respondent without script rarely sees these).
PROBLEM_FIELDS = {"questionnaire": "问卷", "sponsor": "发布单位", "channel": "发布渠道", "id": "提交编号",
                  "device": "设备标识", "proof": "安全验证", "homepage": "提交内容", "body": "提交内容", "answers": "答案"}
PROBLEM_PAGE = string.Template((Path(__file__).with_name("problem.html")).read_text(encoding="utf-8"))


def _posted_meta(posted: bytes) -> dict[str, str]:
    """The questionnaire, sponsor and channel a form post names (the page only reads them to lead back)."""
    try:
        fields = parse_qs(posted.decode("utf-8"), max_num_fields=400)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[-1] for k, v in fields.items() if k in ("questionnaire", "sponsor", "channel")}


def _form_link(it: Intake, meta: dict[str, str], qid: str) -> tuple[str, str]:
    """The form the respondent came from, as the site publishes it (the first questionnaire at the attributed link,
    any other in a folder below it); the home page when the post names no sponsor and channel the site knows."""
    slug, channel = it.catalog.attribute(meta.get("sponsor", ""), meta.get("channel", ""))
    if UNATTRIBUTED in (slug, channel):
        return it.catalog.site_url, "返回活动首页"
    first = next(iter(it.survey.questionnaires))
    return f"{it.catalog.site_url}s/{slug}/{channel}/" + ("" if qid == first else f"{qid}/"), "重新打开问卷"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
