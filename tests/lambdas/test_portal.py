"""The portal function against moto: a sponsor's page opened with its token, its requests checked at entry, its
uploads presigned, its numbers equal to the counts API's and to a recount; a bad token changes nothing."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest

from lambdas import local
from lambdas.counts import app as counts_app
from lambdas.portal import app as portal_app
from lambdas.portal import numbers, token
from lambdas.survey import counts, recount
from lambdas.survey.catalog import BEIJING
from lambdas.survey.regions import CITIES
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store
from tests.conftest import ROOT
from tests.lambdas.conftest import EVENT, SHARDS, TABLE, make_intake, payload, request

OPENAPI = json.loads((ROOT / "lambdas" / "openapi.json").read_text(encoding="utf-8"))
KEY = "portal-test-key-" * 3
BUCKET = "uploads-test"
URL = f"https://{BUCKET}.s3.us-east-1.amazonaws.com"
SLUG = "zhejiang-cyberspace"  # an initiator with support units in the sample list
SUB = "poster.yizhong"
LATER = int((datetime.now(timezone.utc) + timedelta(days=30)).timestamp())


@pytest.fixture
def site(open_catalog: Path, tmp_path: Path) -> Path:
    """The open window's build, with deadlines ahead and one sub-link for SLUG, as a build of today writes them."""
    folder = tmp_path / "site"
    shutil.copytree(open_catalog.parent, folder)
    data = json.loads((folder / "sponsors.json").read_text(encoding="utf-8"))
    ahead = (datetime.now(BEIJING) + timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
    data["campaign"]["deadlines"] = {"links": ahead.isoformat(), "prizes": (ahead + timedelta(days=5)).isoformat()}
    data["campaign"].setdefault("channels", data.get("channels"))
    me = data["sponsors"][SLUG]
    me["channels"] = [c for c in me["channels"] if c != SUB] + [SUB]
    me["sublinks"] = [{"id": SUB, "channel": "poster", "key": "yizhong", "label": "北京市第一中学"}]
    (folder / "sponsors.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def _create(ddb: Any, site: Path, policy: str = "live") -> portal_app.Portal:
    s3 = boto3.client("s3", region_name="us-east-1")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(Name=f"portal-{policy}", SecretString=KEY)["ARN"]
    env = {"SURVEY_PORTAL_KEY_SECRET": arn, "SURVEY_UPLOAD_BUCKET": BUCKET, "SURVEY_UPLOAD_URL": URL,
           "SURVEY_PRIVATE_VALID": policy}
    return portal_app.create(Settings(TABLE, site / "sponsors.json", SHARDS), env, ddb, s3, sm)


@pytest.fixture
def portal(ddb: Any, site: Path) -> Any:
    p = _create(ddb, site)
    portal_app.configure(p)
    yield p
    portal_app.configure(None)


def _token(p: portal_app.Portal, slug: str = SLUG) -> str:
    return token.sign(KEY, slug, p.generations.issue(slug), LATER)


def call(method: str, path: str, tok: str | None, body: Any = None) -> tuple[int, Any]:
    e = copy.deepcopy(EVENT)
    e.update(rawPath=path, routeKey=f"{method} {path}", isBase64Encoded=False,
             body=None if body is None else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)))
    e["requestContext"]["http"].update(method=method, path=path)
    if tok is not None:
        e["headers"]["x-portal-token"] = tok
    result = portal_app.handler(e, local.Context("portal", "req-1"))
    assert result["headers"]["Cache-Control"] == "no-store"
    return result["statusCode"], json.loads(result["body"])


def conforms(body: Any, schema: str) -> None:
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{schema}", **OPENAPI})


def _everything(ddb: Any) -> list[dict]:
    items = ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _objects() -> list[str]:
    return [o["Key"] for o in boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


# ---- the page's owner ---------------------------------------------------------------------------------------------

def test_me_says_whose_page_it_is_with_its_links_deadlines_and_limits(portal):
    status, body = call("GET", "/api/portal/me", _token(portal))
    assert status == 200
    conforms(body, "PortalMe")
    me = body["sponsor"]
    assert me["slug"] == SLUG and me["kind_label"] == "发起单位" and me["page"].endswith(f"/sponsors/{SLUG}/")
    sub = next(c for c in me["channels"] if c["id"] == SUB)
    assert sub == {"id": SUB, "label": "北京市第一中学", "base": "poster",
                   "url": f"{portal.catalog.site_url}s/{SLUG}/{SUB}/"}
    assert {c["id"] for c in me["channels"]} == set(portal.catalog.sponsors[SLUG].channels)
    assert body["deadlines"]["links"]["passed"] is False and body["deadlines"]["prizes"]["at"].endswith("+08:00")
    nominated = portal.catalog.nominated(SLUG)
    assert body["limits"]["media"] == 2 and body["limits"]["enterprise"] == 3
    assert body["limits"]["used"] == {k: sum(1 for s in nominated if s.kind == k) for k in ("media", "enterprise")}
    assert body["requests"] == [] and body["contact"] is None


# ---- bad tokens: 403, nothing read but the generation, nothing written ---------------------------------------------

ROUTES = [("GET", "/api/portal/me", None), ("GET", "/api/portal/numbers", None),
          ("POST", "/api/portal/requests", {"kind": "contact", "fields": {"name": "张三", "phone": "13800138000"}}),
          ("POST", "/api/portal/uploads", {"content_type": "image/png", "size": 100})]


def _bad_tokens(p: portal_app.Portal) -> dict[str, str | None]:
    good = _token(p)
    head, sig = good.rsplit(".", 1)
    old = token.sign(KEY, "guangdong-infosec", p.generations.issue("guangdong-infosec"), LATER)
    p.generations.rotate("guangdong-infosec")
    return {
        "missing": None,
        "malformed": "not-a-token",
        "bad_signature": f"{head}.{'A' * 32 if sig != 'A' * 32 else 'B' * 32}",
        "forged key": token.sign("someone-elses-key-" * 3, SLUG, 1, LATER),
        "other slug": f"panhan-zhejiang.1.{LATER}.{sig}",
        "expired": token.sign(KEY, SLUG, 1, int(datetime.now(timezone.utc).timestamp()) - 1),
        "revoked": old,
        "never issued": token.sign(KEY, "beijing-ccs", 1, LATER),
    }


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_a_missing_forged_expired_or_revoked_token_gets_403_and_changes_nothing(portal, ddb, method, path, body):
    bad = _bad_tokens(portal)
    before = _everything(ddb)
    reasons = {}
    for name, tok in bad.items():
        status, answer = call(method, path, tok, body)
        assert status == 403, name
        conforms(answer, "PortalForbidden")
        reasons[name] = answer["reason"]
    assert reasons == {"missing": "missing", "malformed": "malformed", "bad_signature": "bad_signature",
                       "forged key": "bad_signature", "other slug": "bad_signature", "expired": "expired",
                       "revoked": "revoked", "never issued": "revoked"}
    assert _everything(ddb) == before and _objects() == []


def test_a_bad_token_is_refused_before_the_body_is_read(portal, ddb):
    before = _everything(ddb)
    status, answer = call("POST", "/api/portal/requests", "x", "{not json")
    assert status == 403 and answer["reason"] == "malformed" and _everything(ddb) == before


def test_a_token_reads_only_its_generation_before_it_is_admitted(portal, monkeypatch):
    calls = []
    real = portal.generations.client

    class Spy:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(portal.generations, "client", Spy())
    monkeypatch.setattr(portal.requests, "client", Spy())
    monkeypatch.setattr(portal.store, "client", Spy())
    assert call("GET", "/api/portal/me", token.sign(KEY, SLUG, 7, LATER))[0] == 403
    assert calls == ["get_item"]


# ---- requests -------------------------------------------------------------------------------------------------------

NOMINEE = {"name": "浙江某某科技有限公司", "short_name": "某某科技", "kind": "enterprise", "website": "https://www.zjol.com.cn/",
           "province": "浙江省", "contact_name": "李四", "contact_phone": "13800138000"}


def test_a_request_is_stored_pending_and_listed_newest_first(portal, ddb, monkeypatch):
    tok = _token(portal)
    # Ids order by the second they were made in; two in one second have no order between them
    moments = iter([datetime.now(timezone.utc), datetime.now(timezone.utc) + timedelta(seconds=2)])
    monkeypatch.setattr(portal_app, "_now", lambda: next(moments, datetime.now(timezone.utc) + timedelta(seconds=4)))
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "sublink", "fields": {
        "channel": "poster", "key": "erzhong", "label": "第二中学"}})
    assert status == 201
    conforms(body, "PortalRequestStored")
    assert body["request"]["status"] == "pending" and body["request"]["fields"]["key"] == "erzhong"
    assert call("POST", "/api/portal/requests", tok, {"kind": "contact", "fields": {
        "name": "王五", "phone": "13900139000"}})[0] == 201
    _, me = call("GET", "/api/portal/me", tok)
    assert [r["kind"] for r in me["requests"]] == ["contact", "sublink"]
    [item] = [i for i in _everything(ddb) if i["pk"]["S"] == "R" and "erzhong" in i["fields"]["S"]]
    assert item["sk"]["S"] == f"{SLUG}#{body['request']['id']}" and item["status"]["S"] == "pending"
    assert me["contact"] is None  # pending, not yet the sponsor's contact


def test_the_enterprise_limit_is_checked_at_entry_counting_pending_nominations(portal):
    tok = _token(portal)
    used = call("GET", "/api/portal/me", tok)[1]["limits"]["used"]["enterprise"]
    assert used == 1  # the sample list's one enterprise nominated by SLUG
    for n in range(3 - used):
        assert call("POST", "/api/portal/requests", tok, {"kind": "nominate", "fields": {
            **NOMINEE, "name": f"{NOMINEE['name']}{n}"}})[0] == 201
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "nominate", "fields": NOMINEE})
    assert status == 422 and body["error"] == "limit" and body["field"] == "kind" and body["message"]
    conforms(body, "PortalFieldError")
    assert call("GET", "/api/portal/me", tok)[1]["limits"]["used"]["enterprise"] == 3
    # Two media units are in the list already: a third is refused at once
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "nominate", "fields": {**NOMINEE, "kind": "media"}})
    assert status == 422 and body["error"] == "limit" and body["field"] == "kind"


@pytest.mark.parametrize("kind,fields,field", [
    ("sublink", {"channel": "poster", "key": "Bad Key", "label": "x"}, "key"),
    ("sublink", {"channel": "no-such", "key": "ok", "label": "x"}, "channel"),
    ("sublink", {"channel": "poster", "key": "yizhong", "label": "x"}, "key"),  # already a sub-link of SLUG
    ("prize", {"provider": "a", "item": "b", "quantity": 0, "scope": "local"}, "quantity"),
    ("prize", {"provider": "a", "item": "b", "quantity": 5, "scope": "everywhere"}, "scope"),
    ("placement", {"where": "https://example.org/", "when": "2020-13-01"}, "when"),
    ("nominate", {**NOMINEE, "website": "ftp://x"}, "website"),
    ("nominate", {**NOMINEE, "name": "浙江省网络空间安全协会"}, "name"),  # a sponsor of the list already
    ("contact", {"name": "张三", "phone": "call me"}, "phone"),
    ("teleport", {}, "kind"),
])
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(portal, ddb, kind, fields, field):
    tok = _token(portal)
    before = _everything(ddb)
    status, body = call("POST", "/api/portal/requests", tok, {"kind": kind, "fields": fields})
    assert status == 422 and body["field"] == field, body
    assert _everything(ddb) == before


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", json.dumps("x")])
def test_a_body_that_is_not_a_json_object_is_a_422_naming_the_body(portal, text):
    status, body = call("POST", "/api/portal/requests", _token(portal), text)
    assert status == 422 and body["field"] == "body"


def test_past_the_deadlines_sublinks_and_prizes_are_refused(portal):
    tok = _token(portal)
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    portal.catalog = dataclasses.replace(portal.catalog, deadlines={"links": past, "prizes": past})
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "sublink", "fields": {
        "channel": "poster", "key": "sanzhong", "label": "第三中学"}})
    assert status == 422 and body["error"] == "deadline" and body["field"] == "channel"
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "prize", "fields": {
        "provider": "a", "item": "b", "quantity": 5, "scope": "local"}})
    assert status == 422 and body["error"] == "deadline"
    assert call("GET", "/api/portal/me", tok)[1]["deadlines"]["links"]["passed"] is True


def test_only_initiators_nominate(portal):
    support = portal.catalog.nominated(SLUG)[0].slug
    status, body = call("POST", "/api/portal/requests", _token(portal, support), {"kind": "nominate", "fields": NOMINEE})
    assert status == 422 and body["error"] == "not_allowed"


# ---- uploads --------------------------------------------------------------------------------------------------------

def _policy(fields: dict[str, str]) -> dict[str, Any]:
    return json.loads(base64.b64decode(fields["policy"]))


def test_an_upload_is_a_presigned_post_for_one_key_one_type_and_at_most_5_mb(portal):
    status, body = call("POST", "/api/portal/uploads", _token(portal), {"content_type": "image/jpeg", "size": 1000})
    assert status == 200
    conforms(body, "PortalUpload")
    assert body["url"] == URL and body["key"].startswith(f"placements/{SLUG}/") and body["key"].endswith(".jpg")
    assert body["fields"]["key"] == body["key"] and body["fields"]["Content-Type"] == "image/jpeg"
    policy = _policy(body["fields"])
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions and {"key": body["key"]} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions and ["content-length-range", 1, 5 * 1024 * 1024] in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires - datetime.now(timezone.utc) <= timedelta(minutes=10)


@pytest.mark.parametrize("body,field", [
    ({"content_type": "image/gif", "size": 10}, "content_type"), ({"content_type": "text/html", "size": 10}, "content_type"),
    ({"content_type": "image/png", "size": 5 * 1024 * 1024 + 1}, "size"), ({"content_type": "image/png", "size": 0}, "size"),
    ({"content_type": "image/png", "size": "10"}, "size"), ({"content_type": "image/png"}, "size"),
])
def test_an_upload_of_another_type_or_size_is_refused_naming_the_field(portal, body, field):
    status, answer = call("POST", "/api/portal/uploads", _token(portal), body)
    assert status == 422 and answer["field"] == field


def _put(key: str, size: int, content_type: str = "image/png") -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=b"x" * size,
                                                           ContentType=content_type)


def test_a_placement_names_an_upload_that_exists_and_is_the_sponsors(portal, ddb):
    tok = _token(portal)
    key = call("POST", "/api/portal/uploads", tok, {"content_type": "image/png", "size": 10})[1]["key"]
    place = {"where": "https://www.zjwx.gov.cn/", "when": "2020-07-22", "channel": "website", "upload": key}
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "placement", "fields": place})
    assert status == 422 and body["field"] == "upload"  # not uploaded yet
    _put(key, 10)
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "placement", "fields": place})
    assert status == 201 and body["request"]["fields"]["upload"] == key
    [item] = [i for i in _everything(ddb) if i["pk"]["S"] == "R"]
    assert item["upload"]["S"] == key
    other = "placements/guangdong-infosec/0123456789abcdef0123456789abcdef.png"
    _put(other, 10)
    status, body = call("POST", "/api/portal/requests", tok, {"kind": "placement", "fields": {**place, "upload": other}})
    assert status == 422 and body["field"] == "upload"


def test_a_placement_whose_file_broke_the_policy_is_refused(portal):
    # moto's S3 does not enforce a POST's policy (tests/lambdas/test_local.py shows it); the API checks again.
    tok = _token(portal)
    big, html = (call("POST", "/api/portal/uploads", tok, {"content_type": "image/png", "size": 10})[1]["key"]
                 for _ in range(2))
    _put(big, 5 * 1024 * 1024 + 1)
    _put(html, 10, "text/html")
    for key, error in ((big, "limit"), (html, "invalid")):
        status, body = call("POST", "/api/portal/requests", tok, {"kind": "placement", "fields": {
            "where": "校门口", "when": "2020-07-22", "upload": key}})
        assert status == 422 and body["field"] == "upload" and body["error"] == error


# ---- numbers --------------------------------------------------------------------------------------------------------

SEED = [  # (hours after the opening, sponsor, channel, province, valid)
    (1, SLUG, "wechat", "浙江省", True),
    (1, SLUG, "wechat", "浙江省", False),
    (2, SLUG, SUB, "上海市", True),
    (2, SLUG, "poster", "浙江省", True),
    (3, SLUG, "website", "江苏省", False),
    (26, SLUG, "wechat", "浙江省", True),
    (27, "panhan-zhejiang", "website", "江苏省", True),
    (27, "guangdong-infosec", "wechat", "广东省", True),
    (28, "guangdong-infosec", "wechat", "广东省", True),
    (28, "guangdong-infosec", "website", "广东省", True),
]


@pytest.fixture
def seeded(portal, ddb, site, survey) -> Any:
    """Submissions through the real intake over the first two days of the window, into the portal's table."""
    it = make_intake(ddb, site / "sponsors.json", survey)
    opening = it.catalog.opens
    for n, (hours, sponsor, channel, province, valid) in enumerate(SEED):
        now = opening + timedelta(hours=hours, minutes=n)
        body = payload(it, seed=n, now=now, sponsor=sponsor, channel=channel, homepage="" if valid else "bot")
        body["answers"]["region"]["province"] = province
        body["answers"]["region"]["city"] = CITIES[province][0]
        assert it.submit(request(body, now)).status == 200
    return it


def _counts_api(path: str, store: Store, cat: Any, policy: str) -> dict[str, Any]:
    counts_app.configure(counts_app.Source(store, cat, policy=policy))
    try:
        e = copy.deepcopy(EVENT)
        e.update(rawPath=path, routeKey=f"GET {path}", body=None, queryStringParameters=None, rawQueryString="")
        e["requestContext"]["http"].update(method="GET", path=path)
        return json.loads(counts_app.handler(e, local.Context("counts", "req"))["body"])
    finally:
        counts_app.configure(None)


def test_the_numbers_equal_the_counts_apis(portal, seeded):
    status, mine = call("GET", "/api/portal/numbers", _token(portal))
    assert status == 200
    conforms(mine, "PortalNumbers")
    api = _counts_api(f"/api/counts/sponsors/{SLUG}", portal.store, portal.catalog, "live")
    assert mine["totals"] == api["total"] == {"received": 6, "valid": 4}
    assert mine["days"] == api["days"]
    assert {c["id"]: {"received": c["received"], "valid": c["valid"]} for c in mine["channels"]} == api["channels"]
    board = {e["sponsor"]: e for e in _counts_api("/api/counts/sponsors", portal.store, portal.catalog, "live")["sponsors"]}
    assert mine["rank"]["valid"] == {"rank": board[SLUG]["rank"], "of": len(board)}
    assert mine["group"]["total"] == board[SLUG]["group"]
    for member in mine["group"]["members"]:
        assert (member["received"], member["valid"]) == (board[member["slug"]]["received"], board[member["slug"]]["valid"])


def test_the_numbers_equal_a_recount_of_the_stored_submissions(portal, seeded):
    _, mine = call("GET", "/api/portal/numbers", _token(portal))
    want, _ = recount.expected(portal.store.scan("S#"))
    items = [{"pk": pk, "sk": sk, **values} for (pk, sk), values in want.items()]
    rows = counts.rows_from_items(i for i in items if i["pk"].startswith("C#"))
    hours = counts.hours_from_items(i for i in items if i["pk"] == f"H#{SLUG}")
    again = numbers.view(rows, hours, portal.catalog, SLUG, portal.source.disclosure(None), portal.titles)
    assert {k: mine[k] for k in again} == again


def test_channels_group_sub_links_under_their_base_and_hours_provinces_and_reasons_add_up(portal, seeded):
    _, mine = call("GET", "/api/portal/numbers", _token(portal))
    ids = [c["id"] for c in mine["channels"]]
    assert ids.index(SUB) == ids.index("poster") + 1
    assert next(c for c in mine["channels"] if c["id"] == SUB) == {
        "id": SUB, "base": "poster", "label": "北京市第一中学", "received": 1, "valid": 1}
    assert mine["provinces"][0] == {"province": "浙江省", "received": 4, "valid": 3}
    assert sum(p["received"] for p in mine["provinces"]) == mine["totals"]["received"]
    assert [h["day"] for h in mine["hours"]] == [d["day"] for d in mine["days"] if d["received"]]
    for day in mine["hours"]:
        assert len(day["hours"]) == 24
        assert sum(h["received"] for h in day["hours"]) == next(d for d in mine["days"] if d["day"] == day["day"])["received"]
    # Two samples were not valid (the honeypot), of six received; the title is the published rule's
    assert mine["reasons"] == [{"code": "honeypot", "title": portal.titles["honeypot"], "count": 2, "share": round(2 / 6, 4)}]
    assert [m["slug"] for m in mine["group"]["members"]] == [SLUG, *(s.slug for s in portal.catalog.nominated(SLUG))]


def _valid_keys(x: Any, path: str = "") -> list[str]:
    if isinstance(x, dict):
        return [f"{path}.{k}" for k in x if k == "valid" and x[k] is not None and path != ".rank"] + [
            p for k, v in x.items() for p in _valid_keys(v, f"{path}.{k}")]
    if isinstance(x, list):
        return [p for v in x for p in _valid_keys(v, path)]
    return []


def test_while_the_private_policy_hides_them_no_valid_count_or_reason_is_shown(ddb, site, seeded):
    p = _create(ddb, site, "settled_days")  # the window opened yesterday: no day is settled yet
    portal_app.configure(p)
    status, mine = call("GET", "/api/portal/numbers", _token(p))
    assert status == 200 and mine["valid_shown"] is False and mine["valid_policy"] == "settled_days"
    conforms(mine, "PortalNumbers")
    assert _valid_keys(mine) == [] and mine["reasons"] == [] and mine["rank"]["valid"] is None
    assert mine["totals"] == {"received": 6}
    # Ranked by received alone: the order carries no valid count either
    board = _counts_api("/api/counts/sponsors", p.store, p.catalog, "settled_days")["sponsors"]
    assert mine["rank"]["received"]["rank"] == next(e["rank"] for e in board if e["sponsor"] == SLUG)


# ---- configuration --------------------------------------------------------------------------------------------------

def test_the_portal_key_is_one_get_secret_value_and_a_short_or_missing_one_is_refused(ddb, site):
    from lambdas.survey import keys
    from lambdas.survey.settings import SettingsError

    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(Name="portal-key", SecretString=KEY)["ARN"]
    calls = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(sm, name)

    assert keys.portal({keys.PORTAL_ENV: arn}, Counting()) == KEY.encode()
    assert calls == ["get_secret_value"]  # no BatchGetSecretValue: the role names this one secret only
    sm.put_secret_value(SecretId=arn, SecretString="short")
    with pytest.raises(SettingsError, match="at least 32"):
        keys.portal({keys.PORTAL_ENV: arn}, sm)
    with pytest.raises(SettingsError, match=keys.PORTAL_ENV):
        keys.portal({}, sm)
    with pytest.raises(SettingsError, match="cannot read secret"):
        keys.portal({keys.PORTAL_ENV: "no-such-secret"}, sm)


def test_an_unknown_private_policy_is_refused_before_any_request(ddb, site):
    from lambdas.survey.settings import SettingsError

    with pytest.raises(SettingsError, match="SURVEY_PRIVATE_VALID"):
        _create(ddb, site, "sometimes")
    assert portal_app.private_valid_policy({}) == "settled_days"
