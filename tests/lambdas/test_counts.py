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
from lambdas.survey.catalog import BEIJING, UNATTRIBUTED
from lambdas.survey.regions import CITIES
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


def get(path: str, query: str = "") -> tuple[int, dict[str, str], Any]:
    e = event(b"", path=path, method="GET")
    e["rawQueryString"] = query
    e["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&")) if query else None
    result = counts_app.handler(e, local.Context("counts", "req"))
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return result["statusCode"], headers, json.loads(result["body"])


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
    conforms(call(event(b"", path="/api/challenge", method="GET"))[2], "Challenge")


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
    clock[0] += counts_app.FRESH_SECONDS + 1
    again = get("/api/counts")[2]
    assert len(days_read) == 10 and again["total"] == first["total"]


def test_counter_items_hold_only_their_keys_and_numbers(seeded):
    for item in seeded["intake"].store.scan("C#"):
        assert set(item) == {"pk", "sk", "received", "valid"}
