"""Sponsors' requests to the secretariat: what they ask for from their private page, and the checks at entry.

Items (pk, sk): `R`, `<slug>#<request id>` (layout.request_key); the id starts with its UTC creation time, so a
sponsor's requests sort by age under one key and a query reads them newest first. `fields` is the checked request as JSON. A request is
decided once: `decide` writes only while it is still pending, so two people of the secretariat cannot both decide it.

`check` refuses at entry what the secretariat would refuse weeks later: a 3rd media unit or 4th enterprise, a name
already taken, a sub-link key already used, anything after its deadline. Contacts are personal data: they live in
this table only, never in sponsors.yaml or anything published.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from .catalog import BEIJING, KIND_LABELS, Catalog, SponsorInfo, base_channel, utc_iso
from .layout import REQUESTS, request_key, request_prefix
from .regions import PROVINCES
from .store import Store, _plain, _translated

KINDS = ("nominate", "initiator", "sublink", "placement", "prize", "contact")
LIMITS = {"media": 2, "enterprise": 3}
MAX_PER_SPONSOR = 200
STATUSES = ("pending", "approved", "rejected")
LIVE = ("pending", "approved")  # requests that hold what they ask for: a name, a key, a place among the units

SUPPORT_LABELS = {kind: KIND_LABELS[kind] for kind in LIMITS}  # the support units an initiator nominates
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{4,18}[0-9]$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUBLINK_KEY_RE = re.compile(r"^[a-z0-9-]{1,30}$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldError(Exception):
    """A request refused at entry. `error`: invalid | limit | duplicate | deadline | not_allowed | too_many;
    `field`: the field to correct ("" when the request as a whole is refused); `message`: what to do, in Chinese."""

    def __init__(self, error: str, field: str, message: str) -> None:
        super().__init__(f"{error} {field}: {message}")
        self.error = error
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Request:
    sponsor: str
    id: str
    kind: str
    status: str
    created: str
    fields: dict[str, Any] = field(default_factory=dict)
    decided: str = ""
    reason: str = ""
    upload: str = ""

    def public(self) -> dict[str, Any]:
        """What the sponsor's page shows of it (the upload's bucket key stays with the secretariat)."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "created": self.created,
                "decided": self.decided, "reason": self.reason, "fields": dict(self.fields)}


def _request(item: dict[str, Any]) -> Request:
    plain = _plain(item)
    return Request(plain["sponsor"], plain["id"], plain["kind"], plain["status"], plain["created"],
                   json.loads(plain.get("fields") or "{}"), plain.get("decided", ""), plain.get("reason", ""),
                   plain.get("upload", ""))


class Requests:
    """Sponsors' requests in the table."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def of(self, sponsor: str) -> list[Request]:
        """One sponsor's requests, newest first."""
        return self._query("begins_with(sk, :s)", {":s": {"S": request_prefix(sponsor)}}, newest_first=True)

    def all(self, status: str | None = None) -> list[Request]:
        """Every sponsor's requests (optionally of one status), newest first. For the secretariat, and for the
        duplicate checks of names, which span sponsors."""
        found = self._query(None, {}, newest_first=True)
        found.sort(key=lambda r: r.id, reverse=True)
        return [r for r in found if status is None or r.status == status]

    def get(self, sponsor: str, request_id: str) -> Request | None:
        with _translated():
            item = self.client.get_item(TableName=self.table, Key=request_key(sponsor, request_id),
                                        ConsistentRead=True).get("Item")
        return _request(item) if item else None

    def add(self, sponsor: str, kind: str, fields: dict[str, Any], upload: str = "",
            now: datetime | None = None) -> Request:
        """Store a checked request as pending. A placement's file key is kept in `upload` (from the argument, or
        the checked fields' `upload`)."""
        now = now or datetime.now(timezone.utc)
        request_id = f"{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        upload = upload or str(fields.get("upload") or "")
        request = Request(sponsor, request_id, kind, "pending", utc_iso(now), dict(fields), upload=upload)
        item = {**request_key(sponsor, request_id), "sponsor": {"S": sponsor}, "id": {"S": request_id},
                "kind": {"S": kind},
                "status": {"S": "pending"}, "created": {"S": request.created},
                "fields": {"S": json.dumps(fields, ensure_ascii=False, sort_keys=True)}}
        if upload:
            item["upload"] = {"S": upload}
        with _translated():
            # Ids are random past the second: a clash would be a bug, never an overwrite.
            self.client.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        return request

    def decide(self, sponsor: str, request_id: str, status: str, reason: str = "", now: datetime | None = None) -> bool:
        """Approve or reject a pending request; False if it is not pending (decided meanwhile) or does not exist."""
        if status not in ("approved", "rejected"):
            raise ValueError(f"a request is decided as approved or rejected, not {status!r}")
        values = {":s": {"S": status}, ":d": {"S": utc_iso(now or datetime.now(timezone.utc))},
                  ":pending": {"S": "pending"}}
        update = "SET #s = :s, decided = :d"
        if reason:
            update += ", reason = :r"
            values[":r"] = {"S": reason}
        return Store._if_condition_holds(
            self.client.update_item, TableName=self.table, Key=request_key(sponsor, request_id),
            UpdateExpression=update,
            ConditionExpression="#s = :pending", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values)

    def _query(self, condition: str | None, values: dict[str, Any], newest_first: bool) -> list[Request]:
        expression = "pk = :pk" + (f" AND {condition}" if condition else "")
        pages = Store._pages(self.client.query, TableName=self.table, KeyConditionExpression=expression,
                             ExpressionAttributeValues={":pk": {"S": REQUESTS}, **values}, ConsistentRead=True,
                             ScanIndexForward=not newest_first)
        return [_request(item) for page in pages for item in page.get("Items", [])]


# -- checks at entry ------------------------------------------------------------------------------------------------

def name_key(name: str) -> str:
    """A name as a reader sees it: full-width letters as normal ones, case folded, no blanks or invisible characters."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _live(existing: list[Request], kinds: tuple[str, ...], sponsor: str | None = None) -> list[Request]:
    return [r for r in existing if r.kind in kinds and r.status in LIVE and (sponsor is None or r.sponsor == sponsor)]


def used(slug: str, cat: Catalog, existing: list[Request]) -> dict[str, int]:
    """Support units of each kind that `slug` has nominated: those in the catalog plus its pending and approved
    nominations (an approved one already built into the catalog, known by its name, counts once)."""
    counts = {kind: 0 for kind in LIMITS}
    listed = set()
    for s in cat.sponsors.values():
        if s.nominated_by == slug and s.kind in counts:
            counts[s.kind] += 1
            listed.add(name_key(s.name))
    for r in _live(existing, ("nominate",), slug):
        kind = r.fields.get("kind")
        if kind in counts and name_key(str(r.fields.get("name", ""))) not in listed:
            counts[kind] += 1
    return counts


def _campaign_channels(cat: Catalog) -> dict[str, str]:
    if cat.channels:
        return dict(cat.channels)
    # A catalog written before the campaign's channels were part of it: the base channels its sponsors use.
    return {base_channel(c): base_channel(c) for s in cat.sponsors.values() for c in s.channels}


def _shown(deadline: datetime) -> str:
    """A deadline as the notice writes it: the start of the next Beijing day is the end (24时) of its day."""
    local = deadline.astimezone(BEIJING)
    if (local.hour, local.minute) == (0, 0):
        day = date.fromordinal(local.date().toordinal() - 1)
        return f"{day.month}月{day.day}日24时"
    return f"{local.month}月{local.day}日{local.hour}时{local.minute:02d}分"


class _Fields:
    """Reads one request's fields, each checked and trimmed, refusing the first wrong one with what to do."""

    def __init__(self, raw: Any, allowed: tuple[str, ...]) -> None:
        if not isinstance(raw, dict):
            raise FieldError("invalid", "", "请求格式不正确：fields 应为对象。请刷新页面后重新填写。")
        unknown = sorted(str(k) for k in raw if k not in allowed)
        if unknown:
            raise FieldError("invalid", unknown[0], f"不认识的字段：{'、'.join(unknown)}。请只填写表单中的项目"
                                                    f"（{'、'.join(allowed)}）。")
        self.raw = raw
        self.clean: dict[str, Any] = {}

    def text(self, name: str, label: str, low: int, high: int, required: bool = True) -> str:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise FieldError("invalid", name, f"请填写{label}。")
            return ""
        if not isinstance(value, str):
            raise FieldError("invalid", name, f"{label}应为文字，请重新填写。")
        value = value.strip()
        if not value and required:
            raise FieldError("invalid", name, f"请填写{label}。")
        if value and not low <= len(value) <= high:
            raise FieldError("invalid", name, f"{label}应为 {low}–{high} 个字符（现为 {len(value)} 个），请修改。")
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise FieldError("invalid", name, f"{label}中有控制字符（如换行），请写在一行内。")
        if value or required:
            self.clean[name] = value
        return value

    def choice(self, name: str, label: str, options: tuple[str, ...] | list[str], shown: str = "",
               required: bool = True) -> str:
        value = self.raw.get(name)
        if (value is None or value == "") and not required:
            return ""
        if value not in options:
            raise FieldError("invalid", name, f"请选择{label}：{shown or '、'.join(options)}。")
        self.clean[name] = value
        return value

    def url(self, name: str, label: str, required: bool = True) -> str:
        value = self.text(name, label, 1, 300, required)
        if value and not _is_url(value):
            raise FieldError("invalid", name, f"{label}应为完整网址，以 http:// 或 https:// 开头，例如 https://www.example.cn/。")
        return value

    def pattern(self, name: str, label: str, regex: re.Pattern[str], example: str, required: bool = True) -> str:
        value = self.text(name, label, 1, 60, required)
        if value and not regex.match(value):
            raise FieldError("invalid", name, f"{label}格式不正确，例如 {example}，请修改。")
        return value

    def number(self, name: str, label: str, low: int, high: int) -> int:
        value = self.raw.get(name)
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):  # a form's text box sends text
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("invalid", name, f"请填写{label}（整数）。")
        if not low <= value <= high:
            raise FieldError("invalid", name, f"{label}应在 {low}–{high} 之间，请修改。")
        self.clean[name] = value
        return value


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(ch.isspace() for ch in value)


def check(kind: str, fields: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request],
          now: datetime) -> dict[str, Any]:
    """The request's fields, checked and trimmed, or FieldError saying what to correct.

    `existing`: stored requests to check against, at least the requester's own (the limits, the per-sponsor cap,
    sub-link keys); names are compared with every request passed, so pass every sponsor's (Requests.all()) to
    refuse a name another initiator has already proposed."""
    if kind not in KINDS:
        raise FieldError("invalid", "", f"不认识的请求类型“{kind}”。请刷新页面后重试。")
    if sum(1 for r in existing if r.sponsor == requester.slug) >= MAX_PER_SPONSOR:
        raise FieldError("too_many", "", f"每个单位最多提交 {MAX_PER_SPONSOR} 条请求，已达上限。如需更多，请联系秘书处。")
    return _CHECKS[kind](fields, requester, cat, existing, now)


def _nominate(raw: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request], now: datetime) -> dict:
    _initiators_only(requester, "推荐支持单位")
    f = _Fields(raw, ("name", "short_name", "kind", "website", "province", "contact_name", "contact_phone"))
    _organisation(f, "kind")
    kind = f.clean["kind"]
    count = used(requester.slug, cat, existing)[kind]
    if count >= LIMITS[kind]:
        raise FieldError("limit", "kind", f"每个发起单位最多推荐 {LIMITS[kind]} 家{SUPPORT_LABELS[kind]}，贵单位已推荐 "
                                          f"{count} 家（含待审核的）。如需替换，请联系秘书处。")
    _unique_name(f.clean["name"], cat, existing)
    return f.clean


def _initiator(raw: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request], now: datetime) -> dict:
    _initiators_only(requester, "推荐新的发起单位")
    f = _Fields(raw, ("name", "short_name", "website", "province", "contact_name", "contact_phone"))
    _organisation(f, None)
    _unique_name(f.clean["name"], cat, existing)
    return f.clean


def _organisation(f: _Fields, kind: str | None) -> None:
    f.text("name", "单位全称", 2, 200)
    f.text("short_name", "单位简称", 1, 60)
    if kind:
        f.choice(kind, "支持单位类型", tuple(LIMITS), "media（核心媒体支持单位）或 enterprise（核心企业支持单位）")
    f.url("website", "单位网站")
    f.choice("province", "所在省份", PROVINCES, "31 个省、自治区、直辖市之一的全称，例如 广东省")
    f.text("contact_name", "联系人姓名", 1, 40)
    f.pattern("contact_phone", "联系人电话", PHONE_RE, "13800138000 或 010-12345678")


def _initiators_only(requester: SponsorInfo, what: str) -> None:
    if requester.kind != "initiator":
        raise FieldError("not_allowed", "", f"只有发起单位可以{what}。如有推荐，请告知推荐贵单位的发起单位或联系秘书处。")


def _unique_name(name: str, cat: Catalog, existing: list[Request]) -> None:
    key = name_key(name)
    for s in cat.sponsors.values():
        if name_key(s.name) == key:
            raise FieldError("duplicate", "name", f"“{s.name}”已是本次活动的参与单位，无需再次推荐。请核对单位全称。")
    for r in _live(existing, ("nominate", "initiator")):
        if name_key(str(r.fields.get("name", ""))) == key:
            raise FieldError("duplicate", "name", f"“{name}”已被推荐（{'待审核' if r.status == 'pending' else '已通过'}），"
                                                  "无需再次推荐。请核对单位全称。")


def _sublink(raw: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request], now: datetime) -> dict:
    f = _Fields(raw, ("channel", "key", "label"))
    deadline = cat.deadlines.get("links")
    if deadline is not None and now >= deadline:
        raise FieldError("deadline", "channel", f"申请独立链接的截止时间（{_shown(deadline)}）已过。如确有需要，请联系秘书处。")
    channels = _campaign_channels(cat)
    channel = f.choice("channel", "渠道", tuple(channels), "、".join(f"{k}（{v}）" for k, v in channels.items()))
    key = f.text("key", "链接代号", 1, 30)
    if not SUBLINK_KEY_RE.match(key):
        raise FieldError("invalid", "key", "链接代号只能用小写字母、数字和连字符（-），最多 30 个，例如 yizhong。请修改。")
    f.text("label", "链接名称", 1, 40)
    sub_id = f"{channel}.{key}"
    own = cat.sponsors.get(requester.slug, requester).channels
    taken = sub_id in own or any(r.fields.get("channel") == channel and r.fields.get("key") == key
                                 for r in _live(existing, ("sublink",), requester.slug))
    if taken:
        raise FieldError("duplicate", "key", f"贵单位的“{channel}”渠道已有代号为 {key} 的链接（或正在申请）。请换一个代号。")
    return f.clean


def _placement(raw: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request], now: datetime) -> dict:
    f = _Fields(raw, ("where", "when", "channel", "upload"))
    f.text("where", "发布位置（网址或地点）", 1, 300)
    when = f.text("when", "发布日期", 10, 10)
    try:
        if not DAY_RE.match(when):
            raise ValueError(when)
        date.fromisoformat(when)
    except ValueError as exc:
        raise FieldError("invalid", "when", "发布日期应写作 YYYY-MM-DD，例如 2020-07-22。请修改。") from exc
    own = sorted(cat.sponsors.get(requester.slug, requester).channels)
    f.choice("channel", "渠道", own, required=False)
    upload = f.text("upload", "上传的文件", 1, 200, required=False)
    if upload and (not upload.startswith(f"placements/{requester.slug}/") or ".." in upload):
        raise FieldError("invalid", "upload", "上传的文件不属于贵单位，请重新上传截图或照片。")
    return f.clean


def _prize(raw: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request], now: datetime) -> dict:
    f = _Fields(raw, ("provider", "item", "quantity", "scope", "note"))
    deadline = cat.deadlines.get("prizes")
    if deadline is not None and now >= deadline:
        raise FieldError("deadline", "item", f"登记奖品的截止时间（{_shown(deadline)}）已过。如确有需要，请联系秘书处。")
    f.text("provider", "奖品提供单位", 1, 200)
    f.text("item", "奖品名称", 1, 100)
    f.number("quantity", "奖品数量", 1, 100_000)
    f.choice("scope", "发放范围", ("local", "national"), "local（仅本地网民）或 national（全国网民）")
    f.text("note", "备注（发放对象等）", 1, 300, required=False)
    return f.clean


def _contact(raw: Any, requester: SponsorInfo, cat: Catalog, existing: list[Request], now: datetime) -> dict:
    f = _Fields(raw, ("name", "phone", "email"))
    f.text("name", "联系人姓名", 1, 40)
    f.pattern("phone", "联系电话", PHONE_RE, "13800138000 或 010-12345678")
    f.pattern("email", "电子邮箱", EMAIL_RE, "name@example.cn", required=False)
    return f.clean


_CHECKS = {"nominate": _nominate, "initiator": _initiator, "sublink": _sublink, "placement": _placement,
           "prize": _prize, "contact": _contact}
