"""Taking in one submission: parse → check the window → validate → attribute → judge → store once → count.

Plain functions on plain data; `app.py` adapts them to API Gateway. Every refusal is a 4xx naming the field, and
nothing is stored unless the answers fit the questionnaire. A submission that passes is stored even when it looks
automated, repeated or over a cap: it is judged by the published rules (rules.yaml), stored with `valid=false`
and its reasons, counted as received, never dropped.

What is submitted is a form (`Survey.forms`): a questionnaire, or its core plus one topic ("public.ai"). The
submission, its counters and its export carry the form's id; a device's and an address's caps are kept per base
questionnaire. A topic's form page is the same file under every attributed link, so a plain form post from it
names no sponsor: its path (`/s/<slug>/<channel>/[<base>/]<topic>/submit`) does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lambdas.survey import layout
from lambdas.survey import rules as validity
from lambdas.survey.catalog import Catalog, day_of, seconds_to_midnight, utc_iso
from lambdas.survey.keys import Keys
from lambdas.survey.questionnaire import FieldError, Invalid, Survey
from lambdas.survey.rules import Rules, Signals, Subject
from lambdas.survey.settings import Settings
from lambdas.survey.store import Exists, Store, Submission, Unavailable

from . import proof

JSON, FORM = "application/json", "application/x-www-form-urlencoded"
ENVELOPE = {"id", "questionnaire", "sponsor", "channel", "answers", "homepage", "device", "proof"}
FORM_META = {"id", "questionnaire", "sponsor", "channel", "homepage", "device", "proof_challenge", "proof_nonce"}
_ID = re.compile(r"[A-Za-z0-9_-]{8,64}\Z")
# A form page's own relative action: the link's sponsor and channel, then the form's folders (topic, or base/topic)
_LINK_POST = re.compile(r"(?:^|/)s/([^/]+)/([^/]+)/(?:[^/]+/){1,2}submit\Z")
RETRY_AFTER = "3"


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    ip: str  # the viewer's address, as far as it can be believed (see app.viewer)
    now: datetime  # aware
    origin: str = ""  # the Origin header, "" when absent
    fetch_site: str = ""  # the Sec-Fetch-Site header, "" when absent
    path: str = ""  # the request's path: a post to an attributed link's form names its sponsor and channel


def link_of(path: str) -> tuple[str, str] | None:
    """(sponsor, channel) named by a post to `/s/<slug>/<channel>/…/submit`, or None for any other path."""
    m = _LINK_POST.search(path)
    return (unquote(m.group(1)), unquote(m.group(2))) if m else None


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
    def __init__(self, settings: Settings, keys: Keys, rules: Rules, survey: Survey, catalog: Catalog,
                 store: Store, locate: Callable[[str], str] = lambda ip: "") -> None:
        missing = [q for q in survey.questionnaires if q not in rules.min_seconds]
        if missing:
            raise validity.RulesError(f"rules {rules.version}: no min_seconds for {', '.join(missing)}")
        self.settings = settings
        self.keys = keys
        self.rules = rules
        self.survey = survey
        self.catalog = catalog
        self.store = store
        self.locate = locate  # address -> province, from an offline database; the address itself is never kept
        site = urlsplit(catalog.site_url)
        self.origins = {f"{site.scheme}://{site.netloc}"} | ({settings.site_origin} if settings.site_origin else set())

    def challenge(self, submission_id: str, renew: str, ip: str, now: datetime) -> Outcome:
        """A proof-of-work challenge for one submission, within the address's daily allowance."""
        if not _ID.match(submission_id or ""):
            return Outcome(400, {"error": "invalid", "message": "需要提交编号",
                                 "fields": [FieldError("id", "需要 8–64 位字母、数字、- 或 _ 组成的提交编号").as_dict()]})
        try:
            allowed = self.store.take(layout.address_challenges(day_of(now), self._hash("ip", ip)),
                                      self.rules.address_challenges_per_day, sort=layout.CHALLENGES)
        except Unavailable:
            return Outcome(503, {"error": "unavailable", "message": "服务繁忙，请稍后重试"},
                           headers={"Retry-After": RETRY_AFTER})
        if not allowed:
            # Until the next Beijing day: a network past its allowance gets nothing more today.
            return Outcome(429, {"error": "address_volume", "message": "当前网络今日的访问量已达上限，请明日再试或更换网络"},
                           headers={"Retry-After": str(seconds_to_midnight(now))})
        now_ms = _ms(now)
        started = proof.renewal_start(self.keys.challenge, renew, submission_id, now_ms) if renew else None
        return Outcome(200, {"challenge": proof.issue(self.keys.challenge, submission_id, now_ms,
                                                       self.rules.proof_bits, started),
                             "bits": self.rules.proof_bits, "expires": now_ms + self.rules.proof_ms})

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
        link = link_of(req.path)
        if link:  # the path is the page's own address: it outranks whatever the body says
            env = replace(env, sponsor=link[0][:64], channel=link[1][:32])
        questionnaire = self.survey.forms[env.questionnaire]
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
        earlier = self.store.get(sub_id)
        if earlier is not None:  # a retry: judged and stored already; judging again would take a second place
            return self._again(earlier, digest, {"id": sub_id, "retry": True})
        signals = self._signals(env, kind, sub_id, req)
        subject = Subject(sub_id, questionnaire.base_id, day_of(req.now), ip_hash,
                          hashlib.sha256(f"{env.questionnaire}|{canonical}".encode()).hexdigest()[:32],
                          env.questionnaire)
        reasons = validity.judge(self.rules, signals, subject, self.store)
        valid = validity.is_valid(self.rules, reasons)
        submission = Submission(
            id=sub_id, questionnaire=env.questionnaire, sponsor=sponsor, channel=channel,
            province=questionnaire.province_of(answers), day=subject.day, received=utc_iso(req.now, "milliseconds"),
            valid=valid, reasons=tuple(reasons), digest=digest, answers=canonical, ip_hash=ip_hash,
            claimed="" if (sponsor, channel) == (env.sponsor, env.channel) else f"{env.sponsor[:64]}/{env.channel[:32]}",
            seconds=signals.seconds, rules=self.rules.version,
            signals=json.dumps(signals.as_item(), separators=(",", ":")), device_hash=signals.device,
            ip_province=self.locate(req.ip),
        )
        log = {"id": sub_id, "questionnaire": env.questionnaire, "sponsor": sponsor, "channel": channel,
               "valid": valid, "reasons": reasons}
        try:
            stored = self.store.put_pending(submission)
        except Exists as exc:
            return self._again(exc.item, digest, {**log, "retry": True})
        return self._counted(stored, log)

    def _again(self, stored: dict[str, Any], digest: str, log: dict[str, Any]) -> Outcome:
        """The answer to a submission whose id is stored already: the same success, or a conflict."""
        if stored.get("digest") != digest:
            raise Refused(409, "conflict", "此编号已用于另一份不同的答卷", [FieldError("id", "编号重复")])
        return self._counted(stored, log)

    def _counted(self, stored: dict[str, Any], log: dict[str, Any]) -> Outcome:
        if "pending" in stored:
            try:
                self.store.count(stored)
            except Unavailable:
                log["count"] = "deferred"  # stored and marked pending: the sweeper counts it
        return Outcome(200, {"status": "stored", "id": stored["id"]}, log={"status": 200, **log})

    def _signals(self, env: Envelope, kind: str, sub_id: str, req: Request) -> Signals:
        verdict, started = proof.check(self.keys.challenge, env.challenge, env.nonce, sub_id, _ms(req.now),
                                       self.rules.proof_ms)
        return Signals(
            honeypot=bool(env.homepage), proof=verdict,
            seconds=(_ms(req.now) - started) // 1000 if verdict == "ok" else -1,
            device=self._hash("device", env.device) if env.device else "",
            cross_site=self._cross_site(req), json=kind == JSON,
        )

    def _cross_site(self, req: Request) -> bool:
        """Whether the browser says the post comes from a page of another site. Browsers send Origin with every
        POST; Sec-Fetch-Site where Origin is missing. A client that sends neither is judged by the other rules."""
        if req.origin:
            return req.origin.rstrip("/") not in self.origins
        return req.fetch_site in ("cross-site", "same-site")

    def _hash(self, purpose: str, value: str) -> str:
        """A keyed hash: stable for counting repeats, useless for recovering an address without the key."""
        return hmac.new(self.keys.address, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

    # -- parsing ----------------------------------------------------------------------------------------------

    def _parse_json(self, body: bytes) -> Envelope:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Refused(400, "malformed", "提交内容不是有效的 JSON", [FieldError("body", "不是有效的 JSON")]) from exc
        if not isinstance(data, dict):
            raise Refused(400, "malformed", "提交内容应为 JSON 对象", [FieldError("body", "应为 JSON 对象")])
        where = _unencodable(data)
        if where is not None:
            # JSON may escape a lone surrogate ("\ud800"), which no UTF-8 text can hold: refuse it here, by field.
            raise Refused(400, "malformed", "提交内容包含无法识别的字符", [FieldError(where or "body", "包含无法识别的字符")])
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
        qn = self.survey.forms.get(meta.get("questionnaire", ""))
        answers: object = {}
        if qn is not None:
            answers, unknown = qn.from_form({k: v for k, v in fields.items() if k not in FORM_META})
            errors.extend(FieldError(k[:40], "未知字段") for k in unknown)
        meta["answers"] = answers
        return self._envelope(meta, errors, sub_id, meta.get("proof_challenge"), meta.get("proof_nonce"))

    def _envelope(self, data: dict, errors: list[FieldError], sub_id: str, challenge: object, nonce: object) -> Envelope:
        qid = data.get("questionnaire")
        if not isinstance(qid, str) or qid not in self.survey.forms:
            errors.append(FieldError("questionnaire", f"应为 {' 或 '.join(self.survey.forms)}"))
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


def _unencodable(value: object, path: str = "") -> str | None:
    """The dotted path of the first key or text that is not valid Unicode text, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        name = f"{path}.{k}" if path else str(k)
        if isinstance(k, str) and _unencodable(k) is not None:
            return path or "body"
        found = _unencodable(v, name)
        if found is not None:
            return found[:80]
    return None


def _ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


