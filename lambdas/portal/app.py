"""The portal function: a sponsor's private page talks to it with the token of its link in `x-portal-token`.

  GET  /api/portal/me        whose page it is, its channels' links, the deadlines, its requests and their status
  GET  /api/portal/numbers   its numbers in private (numbers.py)
  POST /api/portal/requests  a request to the secretariat, checked at entry (lambdas/survey/sponsor_requests.py)
  POST /api/portal/uploads   a presigned POST for one placement screenshot or photo into the private upload bucket

Every route first admits the token (lambdas/portal/token.py): a missing, malformed, forged, expired or revoked one
gets 403 before anything but its sponsor's generation item is read, and nothing is written. Built once per
container at first use: the portal key (one Secrets Manager call), the catalog, the published rules' titles, the
clients. Tokens and request bodies are never logged (they open a page and hold contacts' phone numbers).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.survey import catalog as catalogs
from lambdas.survey import counts, keys, rules
from lambdas.survey.catalog import BEIJING, KIND_LABELS, Catalog
from lambdas.survey.settings import Settings, SettingsError
from lambdas.survey.sponsor_requests import KINDS, LIMITS, FieldError, Request, Requests, check, used
from lambdas.survey.store import Store, Unavailable, _translated

from . import numbers
from .token import Claim, Generations, TokenError

logger = Logger(service="portal")
app = APIGatewayHttpResolver()

TOKEN_HEADER = "x-portal-token"
UPLOAD_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
MAX_UPLOAD = 5 * 1024 * 1024
UPLOAD_SECONDS = 600
MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def private_valid_policy(env: Mapping[str, str] | None = None) -> str:
    """SURVEY_PRIVATE_VALID: what a sponsor's own page shows of its valid counts and not-valid reasons."""
    value = (os.environ if env is None else env).get("SURVEY_PRIVATE_VALID")
    return counts.policy_setting("SURVEY_PRIVATE_VALID", value, "settled_days")


@dataclass
class Portal:
    key: bytes
    catalog: Catalog
    generations: Generations
    requests: Requests
    store: Store
    source: counts.Source  # the counter rows of the window, as the counts API reads and keeps them
    s3: Any
    bucket: str
    upload_url: str  # where the page posts an upload (the bucket's regional origin; moto's locally)
    titles: dict[str, str]  # the published not-valid reasons: code -> title


def create(settings: Settings, env: Mapping[str, str] | None = None, dynamodb: Any | None = None,
           s3: Any | None = None, secrets: Any | None = None) -> Portal:
    env = dict(os.environ if env is None else env)
    missing = [v for v in ("SURVEY_UPLOAD_BUCKET", "SURVEY_UPLOAD_URL") if not env.get(v)]
    if missing:
        raise SettingsError(f"set {', '.join(missing)} in the function's environment (see infra/template.yaml)")
    policy = private_valid_policy(env)
    dynamodb = dynamodb or boto3.client("dynamodb", config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    s3 = s3 or boto3.client("s3", config=Config(signature_version="s3v4"))
    cat = catalogs.load(settings.catalog)
    published = rules.parse(rules.read(settings.rules), settings.rules)
    store = Store(dynamodb, settings.table, settings.shards)
    return Portal(keys.portal(env, secrets), cat, Generations(dynamodb, settings.table),
                  Requests(dynamodb, settings.table), store, counts.Source(store, cat, policy=policy), s3,
                  env["SURVEY_UPLOAD_BUCKET"], env["SURVEY_UPLOAD_URL"],
                  {code: r.title for code, r in published.reasons.items() if r.invalid})


portal: Portal | None = None


def configure(new: Portal | None) -> None:
    global portal
    portal = new


def _portal() -> Portal:
    global portal
    if portal is None:
        portal = create(Settings.from_env())
    return portal


# ---- answers -----------------------------------------------------------------------------------------------------

class Forbidden(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False), dict(NO_STORE))


@app.exception_handler(Forbidden)
def _forbidden(exc: Forbidden) -> Response:
    logger.info("portal token refused", extra={"reason": exc.reason})
    return _json(403, {"error": "forbidden", "reason": exc.reason, "message": "链接无效或已失效，请向秘书处索取新的链接"})


@app.exception_handler(FieldError)
def _refused(exc: FieldError) -> Response:
    return _json(422, {"error": exc.error, "field": exc.field, "message": exc.message})


@app.exception_handler(Unavailable)
def _unavailable(exc: Unavailable) -> Response:
    logger.warning("table unavailable", extra={"error": str(exc)})
    return Response(503, "application/json", '{"error":"unavailable","message":"服务繁忙，请稍后重试"}',
                    {**NO_STORE, "Retry-After": "5"})


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _admit(p: Portal) -> str:
    """The slug the request's token opens, or Forbidden: the first thing every route does."""
    token = (app.current_event.headers or {}).get(TOKEN_HEADER, "")
    if not token:
        raise Forbidden("missing")
    try:
        with _translated():
            claim: Claim = p.generations.admit(p.key, token, _now())
    except TokenError as exc:
        raise Forbidden(exc.reason) from None
    slug = p.catalog.aliases.get(claim.slug, claim.slug)
    if slug not in p.catalog.sponsors:  # a sponsor since retired from the list
        raise Forbidden("revoked")
    return slug


def _body() -> dict[str, Any]:
    """The request's JSON object, or 422 naming `body`."""
    text = app.current_event.decoded_body or ""
    if len(text) > MAX_BODY:
        raise FieldError("invalid", "body", "提交的内容过长，请精简后重试。")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise FieldError("invalid", "body", "请求格式不正确，请刷新页面后重试。")
    return data


# ---- routes ------------------------------------------------------------------------------------------------------

@app.get("/api/portal/me")
def me() -> Response:
    p = _portal()
    slug = _admit(p)
    with _translated():
        mine = p.requests.of(slug)
    return _json(200, me_view(p.catalog, slug, mine, _now()))


def me_view(cat: Catalog, slug: str, mine: list[Request], now: datetime) -> dict[str, Any]:
    info = cat.sponsors[slug]
    channels = [{"id": c, "label": cat.channel_label(slug, c), "base": catalogs.base_channel(c),
                 "url": f"{cat.site_url}s/{slug}/{c}/"} for c in info.order]
    deadlines = {name: _deadline(cat.deadlines.get(name), now) for name in ("links", "prizes")}
    contact = next((r.fields for r in mine if r.kind == "contact" and r.status == "approved"), None)
    return {
        "sponsor": {"slug": slug, "name": info.name, "kind": info.kind, "kind_label": KIND_LABELS.get(info.kind, info.kind),
                    "province": info.province, "channels": channels, "page": f"{cat.site_url}sponsors/{slug}/"},
        "deadlines": deadlines,
        "limits": {**LIMITS, "used": used(slug, cat, mine)},
        "requests": [r.public() for r in mine],
        "contact": contact,
    }


def _deadline(at: datetime | None, now: datetime) -> dict[str, Any] | None:
    return {"at": at.astimezone(BEIJING).isoformat(), "passed": now >= at} if at else None


@app.get("/api/portal/numbers")
def numbers_route() -> Response:
    p = _portal()
    slug = _admit(p)
    src = p.source
    shown = src.disclosure(None)
    with _translated():
        rows = src.rows()
        hours = counts.hours_from_items(p.store.details(slug))
    view = numbers.view(rows, hours, p.catalog, slug, shown, p.titles)
    return _json(200, {"updated": src.updated, **shown.fields(), **view})


@app.post("/api/portal/requests")
def add_request() -> Response:
    p = _portal()
    slug = _admit(p)
    data = _body()
    kind, fields = data.get("kind"), data.get("fields")
    if kind not in KINDS:
        raise FieldError("invalid", "kind", "请选择请求类型。")
    if not isinstance(fields, dict):
        raise FieldError("invalid", "fields", "请求格式不正确，请刷新页面后重新填写。")
    upload = ""
    if kind == "placement" and isinstance(fields, dict) and fields.get("upload") not in (None, ""):
        upload = _uploaded(p, slug, fields["upload"])
    now = _now()
    with _translated():
        existing = p.requests.all()  # names are unique across every sponsor's requests
        clean = check(kind, fields, p.catalog.sponsors[slug], p.catalog, existing, now)
        request = p.requests.add(slug, kind, clean, upload=upload, now=now)
    logger.info("request stored", extra={"sponsor": slug, "kind": kind, "id": request.id})
    return _json(201, {"request": request.public()})


def _uploaded(p: Portal, slug: str, key: Any) -> str:
    """A placement's file: a key this sponsor was given, holding an object of an allowed size."""
    if not isinstance(key, str) or not key.startswith(f"placements/{slug}/") or ".." in key or len(key) > 200:
        raise FieldError("invalid", "upload", "上传的文件不属于贵单位，请重新上传截图或照片。")
    try:
        head = p.s3.head_object(Bucket=p.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise FieldError("invalid", "upload", "没有找到上传的图片，请重新上传后再提交。") from None
        raise
    except BotoCoreError as exc:
        raise Unavailable(str(exc)) from exc
    # S3 enforces the POST's policy; checked again here, so a store that does not (moto's) stores nothing else.
    if not 1 <= int(head.get("ContentLength", 0)) <= MAX_UPLOAD:
        raise FieldError("limit", "upload", "图片不能超过 5 MB，请压缩后重新上传。")
    if head.get("ContentType") not in UPLOAD_TYPES:
        raise FieldError("invalid", "upload", "请上传 PNG、JPEG 或 WebP 格式的图片。")
    return key


@app.post("/api/portal/uploads")
def upload() -> Response:
    p = _portal()
    slug = _admit(p)
    data = _body()
    content_type, size = data.get("content_type"), data.get("size")
    if content_type not in UPLOAD_TYPES:
        raise FieldError("invalid", "content_type", "请选择 PNG、JPEG 或 WebP 格式的图片。")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise FieldError("invalid", "size", "图片大小不正确，请重新选择文件。")
    if size > MAX_UPLOAD:
        raise FieldError("limit", "size", "图片不能超过 5 MB，请压缩后重新上传。")
    key = f"placements/{slug}/{uuid.uuid4().hex}.{UPLOAD_TYPES[content_type]}"
    # The policy S3 enforces: this key only, this type only, 1 byte to 5 MB, for ten minutes.
    post = p.s3.generate_presigned_post(
        Bucket=p.bucket, Key=key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_UPLOAD]],
        ExpiresIn=UPLOAD_SECONDS)
    return _json(200, {"url": p.upload_url, "fields": post["fields"], "key": key, "max_bytes": MAX_UPLOAD,
                       "expires_in": UPLOAD_SECONDS})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
