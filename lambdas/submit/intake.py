"""Taking in one submission: parse → check the window → validate → attribute → flag → store once → count.

Plain functions on plain data; `app.py` adapts them to API Gateway. Every refusal is a 4xx naming the field, and
nothing is stored unless the answers fit the questionnaire. A submission that passes is stored even when it looks
automated or repeated: it is flagged `valid=false` with its reasons, never dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from lambdas.survey.catalog import Catalog, day_of
from lambdas.survey.questionnaire import FieldError, Invalid, Survey
from lambdas.survey.settings import Settings
from lambdas.survey.store import Exists, Store, Submission, Unavailable

from . import proof

JSON, FORM = "application/json", "application/x-www-form-urlencoded"
ENVELOPE = {"id", "questionnaire", "sponsor", "channel", "answers", "homepage", "device", "proof"}
FORM_META = {"id", "questionnaire", "sponsor", "channel", "homepage", "device", "proof_challenge", "proof_nonce"}
_ID = re.compile(r"[A-Za-z0-9_-]{8,64}\Z")
RETRY_AFTER = "3"


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    ip: str
    now: datetime  # aware


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    form: bool = False  # the request was a plain form post: answer with a page or a redirect, not JSON
    headers: dict[str, str] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)  # what may be logged: never answers


@dataclass(frozen=True)
class Envelope:
    id: str
    questionnaire: str
    sponsor: str
    channel: str
    answers: object
    homepage: str
    device: str
    challenge: object
    nonce: object


class Refused(Exception):
    def __init__(self, status: int, error: str, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.message, self.fields = status, error, message, fields or []


class Intake:
    def __init__(self, settings: Settings, survey: Survey, catalog: Catalog, store: Store) -> None:
        self.settings = settings
        self.survey = survey
        self.catalog = catalog
        self.store = store

    def challenge(self, now: datetime) -> dict[str, Any]:
        return {"challenge": proof.issue(self.settings.secret, _ms(now), self.settings.proof_bits),
                "bits": self.settings.proof_bits}

    def submit(self, req: Request) -> Outcome:
        kind = req.content_type.split(";", 1)[0].strip().lower()
        is_form = kind == FORM
        try:
            outcome = self._submit(req, kind)
        except Refused as exc:
            body: dict[str, Any] = {"error": exc.error, "message": exc.message}
            if exc.fields:
                body["fields"] = [e.as_dict() for e in exc.fields]
            if exc.error in ("not_open", "closed"):
                body["opens"], body["closes"] = self.catalog.opens.isoformat(), self.catalog.closes.isoformat()
            outcome = Outcome(exc.status, body, log={"status": exc.status, "error": exc.error,
                                                      "fields": [e.field for e in exc.fields][:10]})
        except Unavailable as exc:
            outcome = Outcome(503, {"error": "unavailable", "message": "服务繁忙，请稍后重试"},
                              headers={"Retry-After": RETRY_AFTER}, log={"status": 503, "error": str(exc)})
        outcome.form = is_form
        return outcome

    def _submit(self, req: Request, kind: str) -> Outcome:
        if len(req.body) > self.settings.max_body:
            raise Refused(413, "too_large", f"提交内容超过 {self.settings.max_body // 1024} KB",
                          [FieldError("body", "内容过长")])
        if kind not in (JSON, FORM):
            raise Refused(415, "unsupported_media_type", f"请以 {JSON} 或 {FORM} 提交",
                          [FieldError("content-type", f"不支持的类型：{kind[:60] or '（无）'}")])
        window = self.catalog.window(req.now)
        if window == "not_open":
            raise Refused(403, "not_open", "调查尚未开始")
        if window == "closed":
            raise Refused(403, "closed", "调查已经结束")
        env = self._parse_json(req.body) if kind == JSON else self._parse_form(req.body)
        questionnaire = self.survey.questionnaires[env.questionnaire]
        try:
            answers = questionnaire.check(env.answers)
        except Invalid as exc:
            raise Refused(400, "invalid", "请检查标出的题目", exc.errors) from exc
        canonical = json.dumps(answers, ensure_ascii=False, separators=(",", ":"))
        ip_hash = self._hash("ip", req.ip)
        # A plain form post has no script to make an id: the same answers from the same address are the same post.
        sub_id = env.id or "f" + self._hash("form", f"{ip_hash}|{env.questionnaire}|{env.sponsor}|{canonical}")
        sponsor, channel = self.catalog.attribute(env.sponsor, env.channel)
        digest = hashlib.sha256(f"{env.questionnaire}|{env.sponsor}|{env.channel}|{canonical}".encode()).hexdigest()
        reasons, seconds = self._flags(env, sub_id, questionnaire.min_seconds, ip_hash, canonical, req.now)
        submission = Submission(
            id=sub_id, questionnaire=env.questionnaire, sponsor=sponsor, channel=channel,
            province=questionnaire.province_of(answers), day=day_of(req.now), received=_iso(req.now),
            valid=not reasons, reasons=tuple(reasons), digest=digest, answers=canonical, ip_hash=ip_hash,
            claimed="" if (sponsor, channel) == (env.sponsor, env.channel) else f"{env.sponsor[:64]}/{env.channel[:32]}",
            seconds=seconds,
        )
        log = {"id": sub_id, "questionnaire": env.questionnaire, "sponsor": sponsor, "channel": channel,
               "valid": not reasons, "reasons": reasons}
        try:
            stored = self.store.put_pending(submission)
        except Exists as exc:
            if exc.item.get("digest") != digest:
                raise Refused(409, "conflict", "此编号已用于另一份不同的答卷", [FieldError("id", "编号重复")]) from exc
            stored, log["retry"] = exc.item, True
        if "pending" in stored:
            try:
                self.store.count(stored)
            except Unavailable:
                log["count"] = "deferred"  # stored and marked pending: the sweeper counts it
        return Outcome(200, {"status": "stored", "id": sub_id}, log={"status": 200, **log})

    def _flags(self, env: Envelope, sub_id: str, min_seconds: int, ip_hash: str, canonical: str,
               now: datetime) -> tuple[list[str], int]:
        reasons = []
        if env.homepage:
            reasons.append("honeypot")
        verdict, issued = proof.check(self.settings.secret, env.challenge, env.nonce, _ms(now))
        seconds = -1
        if verdict != "ok":
            reasons.append(verdict)
        else:
            seconds = (_ms(now) - issued) // 1000
            if seconds < min_seconds:
                reasons.append("too_fast")
        if env.device and not self.store.claim(f"D#{self._hash('device', env.device)}#{env.questionnaire}", sub_id):
            reasons.append("repeat_device")
        answers_key = hashlib.sha256(f"{env.questionnaire}|{canonical}".encode()).hexdigest()[:32]
        if not self.store.claim(f"A#{ip_hash}#{answers_key}", sub_id):
            reasons.append("repeat_answers")
        return reasons, seconds

    def _hash(self, purpose: str, value: str) -> str:
        """A keyed hash: stable for counting repeats, useless for recovering an address without the secret."""
        return hmac.new(self.settings.secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

    # -- parsing ----------------------------------------------------------------------------------------------

    def _parse_json(self, body: bytes) -> Envelope:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Refused(400, "malformed", "提交内容不是有效的 JSON", [FieldError("body", "不是有效的 JSON")]) from exc
        if not isinstance(data, dict):
            raise Refused(400, "malformed", "提交内容应为 JSON 对象", [FieldError("body", "应为 JSON 对象")])
        errors = [FieldError(str(k)[:40], "未知字段") for k in data if k not in ENVELOPE]
        sub_id = data.get("id")
        if not isinstance(sub_id, str) or not _ID.match(sub_id):
            errors.append(FieldError("id", "需要 8–64 位字母、数字、- 或 _ 组成的提交编号"))
        p = data.get("proof") or {}
        if not isinstance(p, dict) or set(p) - {"challenge", "nonce"}:
            errors.append(FieldError("proof", "应为包含 challenge 和 nonce 的对象"))
            p = {}
        env = self._envelope(data, errors, sub_id if isinstance(sub_id, str) else "", p.get("challenge"), p.get("nonce"))
        return env

    def _parse_form(self, body: bytes) -> Envelope:
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=400)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(400, "malformed", "表单内容无法识别", [FieldError("body", "不是有效的表单内容")]) from exc
        meta = {k: v[-1] for k, v in fields.items() if k in FORM_META}
        errors: list[FieldError] = []
        sub_id = meta.get("id", "")
        if sub_id and not _ID.match(sub_id):
            errors.append(FieldError("id", "需要 8–64 位字母、数字、- 或 _ 组成的提交编号"))
        qn = self.survey.questionnaires.get(meta.get("questionnaire", ""))
        answers: object = {}
        if qn is not None:
            answers, unknown = qn.from_form({k: v for k, v in fields.items() if k not in FORM_META})
            errors.extend(FieldError(k[:40], "未知字段") for k in unknown)
        meta["answers"] = answers
        return self._envelope(meta, errors, sub_id, meta.get("proof_challenge"), meta.get("proof_nonce"))

    def _envelope(self, data: dict, errors: list[FieldError], sub_id: str, challenge: object, nonce: object) -> Envelope:
        qid = data.get("questionnaire")
        if not isinstance(qid, str) or qid not in self.survey.questionnaires:
            errors.append(FieldError("questionnaire", f"应为 {' 或 '.join(self.survey.questionnaires)}"))
        text: dict[str, str] = {}
        for name, limit in (("sponsor", 64), ("channel", 32), ("homepage", 200), ("device", 64)):
            value = data.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str) or len(value) > limit:
                errors.append(FieldError(name, f"应为不超过 {limit} 个字符的文字"))
                value = ""
            text[name] = value
        if "answers" not in data:
            errors.append(FieldError("answers", "缺少答案"))
        if errors:
            raise Refused(400, "invalid", "请检查标出的字段", errors)
        return Envelope(sub_id, qid, text["sponsor"], text["channel"], data["answers"], text["homepage"].strip(),
                        text["device"], challenge, nonce)


def _ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def _iso(now: datetime) -> str:
    return now.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
