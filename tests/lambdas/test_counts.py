"""The counts function against moto: seeded submissions over several days and sponsors, read back through the API."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import jsonschema
import pytest

from lambdas import local
from lambdas.counts import app as counts_app
from lambdas.survey import catalog as catalogs
from lambdas.survey import counts
from lambdas.survey.catalog import BEIJING, UNATTRIBUTED
from lambdas.survey.regions import CITIES
from lambdas.survey.settings import SettingsError
from tests.conftest import ROOT
from tests.lambdas.conftest import event, make_intake, payload, request

OPENAPI = json.loads((ROOT / "lambdas" / "openapi.json").read_text(encoding="utf-8"))
SEED = [  # (day offset from the opening, sponsor, channel, province, valid)
    (0, "zhejiang-cyberspace", "wechat", "浙江省", True),
    (0, "zhejiang-cyberspace", "wechat", "浙江省", False),
    (0, "zhejiang-media-1-cyberspace", "website", "上海市", True),
    (1, "zhejiang-cyberspace", "app", "浙江省", True),
    (1, "panhan-zhejiang", "website", "江苏省", True),
    (1, "guangdong-infosec", "wechat", "广东省", True),
    (1, "no-such-sponsor", "wechat", "广东省", True),
    (3, "guangdong-infosec", "website", "广东省", False),
    (3, "zhejiang-wlaq", "douyin", "浙江省", True),  # a former slug of zhejiang-cyberspace
]


@pytest.fixture
def seeded(ddb, campaign_catalog, survey) -> dict[str, Any]:
    """Submissions stored through the real intake on days of the 2020 window, then a counts source over them."""
    it = make_intake(ddb, campaign_catalog, survey)
    opening = datetime(2020, 7, 22, 10, 0, tzinfo=BEIJING)
    for n, (offset, sponsor, channel, province, valid) in enumerate(SEED):
        now = opening + timedelta(days=offset, minutes=n)
        body = payload(it, seed=n, now=now, sponsor=sponsor, channel=channel,
                       homepage="" if valid else "bot")
        body["answers"]["region"]["province"] = province
        body["answers"]["region"]["city"] = CITIES[province][0]
        assert it.submit(request(body, now)).status == 200
    cat = catalogs.load(campaign_catalog)
    counts_app.configure(counts_app.Source(it.store, cat))
    yield {"intake": it, "catalog": cat}
    counts_app.configure(None)


def raw(path: str, query: str = "") -> tuple[int, dict[str, str], str]:
    e = event(b"", path=path, method="GET")
    e["rawQueryString"] = query
    e["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
    result = counts_app.handler(e, local.Context("counts", "req"))
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return result["statusCode"], headers, result["body"]


def get(path: str, query: str = "") -> tuple[int, dict[str, str], Any]:
    status, headers, body = raw(path, query)
    return status, headers, json.loads(body)


def conforms(body: Any, schema: str) -> None:
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{schema}", **OPENAPI})


def test_campaign_totals_and_the_daily_series(seeded):
    status, headers, body = get("/api/counts")
    assert status == 200 and "max-age" in headers["cache-control"] and headers["cache-control"].startswith("public")
    conforms(body, "Campaign")
    assert body["total"] == {"received": 9, "valid": 7}
    assert [d["day"] for d in body["days"]] == [f"2020-07-{d}" for d in range(22, 32)]
    by_day = {d["day"]: (d["received"], d["valid"]) for d in body["days"]}
    assert by_day["2020-07-22"] == (3, 2) and by_day["2020-07-23"] == (4, 4) and by_day["2020-07-25"] == (2, 1)
    assert by_day["2020-07-24"] == (0, 0)
    assert body["unattributed"] == {"received": 1, "valid": 1}


def test_the_leaderboard_with_group_totals_and_filters(seeded):
    status, _, body = get("/api/counts/sponsors")
    conforms(body, "Leaderboard")
    board = {e["sponsor"]: e for e in body["sponsors"]}
    assert len(board) == len(seeded["catalog"].sponsors)
    zj = board["zhejiang-cyberspace"]
    assert (zj["received"], zj["valid"]) == (4, 3)  # its own, the former slug's included
    assert zj["group"] == {"received": 6, "valid": 5}  # plus the media and enterprise it nominated
    assert zj["rank"] == 1 and body["sponsors"][0]["sponsor"] == "zhejiang-cyberspace"
    assert "group" not in board["panhan-zhejiang"]
    _, _, media = get("/api/counts/sponsors", "kind=media")
    assert {e["kind"] for e in media["sponsors"]} == {"media"}
    _, _, gd = get("/api/counts/sponsors", "province=广东省")
    assert {e["province"] for e in gd["sponsors"]} == {"广东省"}
    assert next(e for e in gd["sponsors"] if e["sponsor"] == "guangdong-infosec")["received"] == 2


def test_one_sponsor_per_day_and_per_channel(seeded):
    status, _, body = get("/api/counts/sponsors/zhejiang-cyberspace")
    conforms(body, "Sponsor")
    assert body["total"] == {"received": 4, "valid": 3}
    assert body["channels"]["wechat"] == {"received": 2, "valid": 1}
    assert body["channels"]["douyin"] == {"received": 1, "valid": 1}
    assert body["channels"]["website"] == {"received": 0, "valid": 0}
    assert [d["received"] for d in body["days"]][:4] == [2, 1, 0, 1]
    # A former slug answers for the sponsor it became
    assert get("/api/counts/sponsors/zhejiang-wlaq")[2]["sponsor"] == "zhejiang-cyberspace"


def test_provinces_with_active_sponsors(seeded):
    _, _, body = get("/api/counts/provinces")
    conforms(body, "Provinces")
    rows = {p["province"]: p for p in body["provinces"]}
    assert len(rows) == 31
    assert (rows["浙江省"]["received"], rows["浙江省"]["sponsors"]) == (4, 1)
    assert (rows["广东省"]["received"], rows["广东省"]["valid"], rows["广东省"]["sponsors"]) == (3, 2, 1)
    assert rows["北京市"] == {"province": "北京市", "received": 0, "valid": 0, "sponsors": 0}


def test_one_day_only(seeded):
    _, _, body = get("/api/counts", "day=2020-07-23")
    assert body["total"] == {"received": 4, "valid": 4}
    _, _, board = get("/api/counts/sponsors", "day=2020-07-22")
    assert next(e for e in board["sponsors"] if e["sponsor"] == "zhejiang-cyberspace")["received"] == 2


@pytest.mark.parametrize(("path", "query", "status", "field"), [
    ("/api/counts", "day=yesterday", 400, "day"),
    ("/api/counts", "day=2020-08-01", 400, "day"),
    ("/api/counts/provinces", "day=2020-13-01", 400, "day"),
    ("/api/counts/sponsors", "kind=ngo", 400, "kind"),
    ("/api/counts/sponsors", "province=广东", 400, "province"),
    ("/api/counts/sponsors/no-such-sponsor", "", 404, "slug"),
])
def test_bad_parameters_get_a_clear_4xx(seeded, path, query, status, field):
    got, headers, body = get(path, query)
    assert got == status
    conforms(body, "Error")
    assert body["fields"][0]["field"] == field and body["fields"][0]["message"]


def test_counts_read_counter_items_only(seeded, ddb, monkeypatch):
    """Queries of counter partitions, never a scan: the cost does not grow with the number of submissions."""
    calls: Counter[str] = Counter()
    store = seeded["intake"].store
    real_query = store.client.query

    def query(**kwargs: Any) -> Any:
        calls[kwargs["ExpressionAttributeValues"][":pk"]["S"][:2]] += 1
        return real_query(**kwargs)

    monkeypatch.setattr(store.client, "query", query)
    monkeypatch.setattr(store.client, "scan", lambda **kw: pytest.fail("counts must not scan"))
    get("/api/counts")
    assert set(calls) == {"C#"} and calls["C#"] == 10 * store.shards
    get("/api/counts/sponsors")  # within FRESH_SECONDS: served from the container's copy
    assert calls["C#"] == 10 * store.shards


def test_the_openapi_document_covers_every_route_and_is_served(seeded):
    routes = {tuple(r.split(" ", 1)) for r in local.routes(local.template())}
    documented = {(m.upper(), p) for p, ops in OPENAPI["paths"].items() for m in ops}
    assert documented == routes
    status, _, body = get("/api/openapi.json")
    assert status == 200 and body == OPENAPI


def test_submit_responses_follow_the_document(intake):
    from tests.lambdas.conftest import call

    status, _, body = call(event(payload(intake)))
    conforms(body, "Stored")
    status, _, body = call(event(b"{", "application/json"))
    conforms(body, "Error")
    e = event(b"", path="/api/challenge", method="GET")
    e["rawQueryString"], e["queryStringParameters"] = "id=sub-00000001", {"id": "sub-00000001"}  # one submission's
    conforms(call(e)[2], "Challenge")


def test_unattributed_rows_are_reported_apart(seeded):
    _, _, body = get("/api/counts/sponsors")
    assert UNATTRIBUTED not in {e["sponsor"] for e in body["sponsors"]}


def test_a_finished_day_is_read_once_per_container(seeded, monkeypatch):
    """Refreshes re-read only days that can still change: late in the window, a tenth of a full read."""
    clock = [0.0]
    src = counts_app.Source(seeded["intake"].store, seeded["catalog"], clock=lambda: clock[0])
    counts_app.configure(src)
    days_read: list[str] = []
    real = src.store.counters
    monkeypatch.setattr(src.store, "counters", lambda day: (days_read.append(day), real(day))[1])
    first = get("/api/counts")[2]
    assert len(days_read) == 10  # the 2020 window is long over: every day is settled
    clock[0] += counts.FRESH_SECONDS + 1
    again = get("/api/counts")[2]
    assert len(days_read) == 10 and again["total"] == first["total"]


def test_counter_items_hold_only_their_keys_and_numbers(seeded):
    for item in seeded["intake"].store.scan("C#"):
        assert set(item) == {"pk", "sk", "received", "valid"}


# -- what the public sees of the valid counts ---------------------------------------------------------------------

ROUTES = {"/api/counts": "Campaign", "/api/counts/sponsors": "Leaderboard",
          "/api/counts/sponsors/zhejiang-cyberspace": "Sponsor", "/api/counts/provinces": "Provinces"}
CLOSES = datetime(2020, 8, 1, tzinfo=BEIJING)  # the sample window is [2020-07-22 09:00, 2020-07-31 24:00)
TICK = timedelta(microseconds=1)


def at(seeded: dict[str, Any], now: datetime, policy: str = "after_close") -> counts_app.Source:
    """A counts source whose wall clock stands still at `now`, under `policy`."""
    src = counts_app.Source(seeded["intake"].store, seeded["catalog"], clock=lambda: 0.0, now=lambda: now,
                            policy=policy)
    counts_app.configure(src)
    return src


def valid_fields(body: Any, where: str = "") -> list[str]:
    """Where a response carries a `valid` count."""
    if isinstance(body, list):
        return [f for i, x in enumerate(body) for f in valid_fields(x, f"{where}[{i}]")]
    if isinstance(body, dict):
        return [f"{where}.{k}" if k == "valid" else f for k, v in body.items()
                for f in ([f"{where}.{k}"] if k == "valid" else valid_fields(v, f"{where}.{k}"))]
    return []


def all_routes(query: str = "") -> dict[str, Any]:
    """Every counts route's body, each checked against the OpenAPI document."""
    bodies = {}
    for path, schema in ROUTES.items():
        status, _, body = get(path, query)
        assert status == 200
        conforms(body, schema)
        bodies[path] = body
    return bodies


def test_the_policy_comes_from_the_environment_and_a_wrong_one_stops_the_function(ddb, campaign_catalog, monkeypatch):
    assert counts_app.public_valid_policy({}) == "after_close"
    for policy in counts.POLICIES:
        assert counts_app.public_valid_policy({"SURVEY_PUBLIC_VALID": policy}) == policy
    with pytest.raises(SettingsError) as exc:
        counts_app.public_valid_policy({"SURVEY_PUBLIC_VALID": "after-close"})
    message = str(exc.value)
    assert "SURVEY_PUBLIC_VALID" in message and "'after-close'" in message
    assert all(policy in message for policy in ("after_close", "settled_days", "never", "live"))
    # GIVEN the function's environment WHEN it sets up THEN the policy is read and checked before any answer
    monkeypatch.setenv("SURVEY_TABLE", "survey-test")
    monkeypatch.setenv("SURVEY_CATALOG", str(campaign_catalog))
    monkeypatch.setenv("SURVEY_PUBLIC_VALID", "sometimes")
    counts_app.configure(None)
    try:
        with pytest.raises(SettingsError, match="SURVEY_PUBLIC_VALID"):
            get("/api/counts")
        monkeypatch.setenv("SURVEY_PUBLIC_VALID", "settled_days")
        assert counts_app._source().policy == "settled_days"
        counts_app.configure(None)
        monkeypatch.delenv("SURVEY_PUBLIC_VALID")
        assert counts_app._source().policy == "after_close"
    finally:
        counts_app.configure(None)


def test_after_close_hides_valid_until_the_window_closes(seeded):
    at(seeded, CLOSES - TICK)
    bodies = all_routes()
    for path, body in bodies.items():
        assert valid_fields(body) == [], path  # absent, not zero
        assert (body["valid_policy"], body["valid_shown"], body["valid_through"]) == ("after_close", False, None)
        assert datetime.fromisoformat(body["valid_from"]) == CLOSES
    assert bodies["/api/counts"]["total"] == {"received": 9}
    assert bodies["/api/counts"]["days"][0] == {"day": "2020-07-22", "received": 3}
    assert bodies["/api/counts/sponsors/zhejiang-cyberspace"]["channels"]["wechat"] == {"received": 2}
    # One day alone is hidden the same way
    _, _, one_day = get("/api/counts", "day=2020-07-23")
    assert one_day["total"] == {"received": 4} and one_day["valid_shown"] is False
    # WHEN the window closes THEN every valid count is published
    at(seeded, CLOSES)
    for path, body in all_routes().items():
        assert (body["valid_shown"], body["valid_from"], body["valid_through"]) == (True, None, None), path
    assert get("/api/counts")[2]["total"] == {"received": 9, "valid": 7}


def test_while_valid_is_hidden_the_leaderboard_ranks_by_received(seeded):
    at(seeded, CLOSES - TICK)
    _, _, hidden = get("/api/counts/sponsors")
    assert hidden["ranked_by"] == "received"
    order = [(-e["received"], e["sponsor"]) for e in hidden["sponsors"]]
    assert order == sorted(order) and [e["rank"] for e in hidden["sponsors"]] == list(range(1, len(order) + 1))
    zj = next(e for e in hidden["sponsors"] if e["sponsor"] == "zhejiang-cyberspace")
    assert zj["group"] == {"received": 6}
    at(seeded, CLOSES)
    _, _, shown = get("/api/counts/sponsors")
    assert shown["ranked_by"] == "valid"
    order = [(-e["valid"], -e["received"], e["sponsor"]) for e in shown["sponsors"]]
    assert order == sorted(order)


def test_ranked_by_received_the_order_owes_nothing_to_valid(campaign_catalog):
    """Two sponsors with as many received: their order must not tell which has more valid samples."""
    cat = catalogs.load(campaign_catalog)
    a, b = sorted(cat.sponsors)[:2]
    for valid_a, valid_b in ((0, 5), (5, 0)):
        rows = [counts.Row("2020-07-22", "public", a, "-", "浙江省", 5, valid_a),
                counts.Row("2020-07-22", "public", b, "-", "浙江省", 5, valid_b)]
        board = counts.leaderboard(rows, cat, rank_by="received")
        assert [e["sponsor"] for e in board[:2]] == [a, b]


@pytest.mark.parametrize("policy", ["after_close", "settled_days", "never"])
def test_before_any_day_is_settled_nothing_valid_shows(seeded, policy):
    at(seeded, datetime(2020, 7, 22, 12, 0, tzinfo=BEIJING), policy)
    for path, body in all_routes().items():
        assert valid_fields(body) == [] and body["valid_shown"] is False, path


def test_settled_days_shows_each_day_24_hours_after_it_ended(seeded):
    # The first day, 07-22, ends at 07-23 00:00 and is published from 07-24 00:00 on
    first_settles = datetime(2020, 7, 24, tzinfo=BEIJING)
    at(seeded, first_settles - TICK, "settled_days")
    for path, body in all_routes().items():
        assert valid_fields(body) == [] and body["valid_shown"] is False, path
        assert datetime.fromisoformat(body["valid_from"]) == first_settles
    # WHEN 07-22 has been over for 24 h THEN its valid counts, and only its, are published
    at(seeded, first_settles, "settled_days")
    bodies = all_routes()
    for body in bodies.values():
        assert (body["valid_shown"], body["valid_from"], body["valid_through"]) == (True, None, "2020-07-22")
    campaign = bodies["/api/counts"]
    assert campaign["total"] == {"received": 7, "valid": 2}  # received up to now; valid of 07-22 alone
    days = {d["day"]: d for d in campaign["days"]}
    assert days["2020-07-22"] == {"day": "2020-07-22", "received": 3, "valid": 2}
    assert days["2020-07-23"] == {"day": "2020-07-23", "received": 4}
    assert all("valid" not in d for day, d in days.items() if day > "2020-07-22")
    assert bodies["/api/counts/sponsors"]["ranked_by"] == "valid"
    zj = bodies["/api/counts/sponsors/zhejiang-cyberspace"]
    assert zj["total"] == {"received": 3, "valid": 1} and zj["channels"]["app"] == {"received": 1, "valid": 0}
    # One day: a settled one in full, a later one hidden until its own turn
    assert get("/api/counts", "day=2020-07-22")[2]["total"] == {"received": 3, "valid": 2}
    later = get("/api/counts", "day=2020-07-23")[2]
    assert later["total"] == {"received": 4} and later["valid_shown"] is False
    assert datetime.fromisoformat(later["valid_from"]) == first_settles + timedelta(days=1)


def test_settled_days_publishes_every_day_a_day_after_the_close(seeded):
    at(seeded, CLOSES + timedelta(hours=24) - TICK, "settled_days")
    assert get("/api/counts")[2]["valid_through"] == "2020-07-30"
    at(seeded, CLOSES + timedelta(hours=24), "settled_days")
    campaign = get("/api/counts")[2]
    assert campaign["valid_through"] is None and campaign["total"] == {"received": 9, "valid": 7}
    assert all("valid" in d for d in campaign["days"])


def test_never_keeps_valid_hidden_after_the_close(seeded):
    at(seeded, CLOSES + timedelta(days=365), "never")
    for path, body in all_routes().items():
        assert valid_fields(body) == [], path
        assert (body["valid_shown"], body["valid_from"], body["valid_through"]) == (False, None, None)
    assert get("/api/counts/sponsors")[2]["ranked_by"] == "received"


def test_live_shows_valid_while_the_window_is_open(seeded):
    at(seeded, datetime(2020, 7, 23, 23, 0, tzinfo=BEIJING), "live")
    bodies = all_routes()
    assert bodies["/api/counts"]["total"] == {"received": 7, "valid": 6}
    assert all(b["valid_shown"] and b["valid_from"] is None for b in bodies.values())


def test_no_reason_and_no_verdict_of_a_submission_is_public(seeded):
    """Only sums leave the counts API: no submission, no id, no flag, no reason, under the policy that shows most."""
    stored = list(seeded["intake"].store.scan("S#"))
    assert any(s.get("reasons") for s in stored)  # there is something that could leak
    secrets = {s["id"] for s in stored} | {r for s in stored for r in s.get("reasons", [])}
    secrets |= {"reason", "honeypot", "too_fast", "repeat_device", "repeat_answers", "no_proof", "bad_proof",
                "foreign_proof", "expired_proof", "verdict", "ip_hash", "device"}
    at(seeded, CLOSES, "live")
    texts = [raw(path, query)[2] for path in ROUTES for query in ("", "day=2020-07-22")]
    texts.append(raw("/api/counts/sponsors", "province=浙江省")[2])
    for text in texts:
        assert not [s for s in secrets if s in text]
    # Nor does the document promise any: no counts schema has a field for them
    schemas = OPENAPI["components"]["schemas"]
    names: set[str] = set()
    todo = [schemas[s] for s in ROUTES.values()]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "").rpartition("/")[2]
            todo += [schemas[ref]] if ref else []
            names |= set(node.get("properties", {}))
            todo += list(node.values())
        elif isinstance(node, list):
            todo += node
    assert "valid" in names and not [n for n in names if n in secrets or "reason" in n]


@pytest.mark.parametrize("path", [*ROUTES, "/api/counts/sponsors/zhejiang-wlaq"])
def test_parameters_other_than_day_kind_and_province_change_nothing(seeded, path):
    """A CDN that keys on every parameter may pass `?x=random` through: the answer is the same, byte for byte, and
    the container computes nothing more for it."""
    src = at(seeded, CLOSES - TICK)
    plain = raw(path)
    day = raw(path, "day=2020-07-23")
    views = set(src._views)
    for query in ("x=random", "x=1&y=2", "utm_source=wechat", "_=1595379600", "valid=1", "policy=live"):
        assert raw(path, query) == plain, query
    assert raw(path, "day=2020-07-23&x=random") == day
    assert set(src._views) == views
    assert plain[1]["cache-control"] == counts_app.CACHE
