"""Sponsors' requests: the checks at entry, and storage in the table (moto)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lambdas.survey.catalog import BEIJING, Catalog, SponsorInfo, Sublink
from lambdas.survey.sponsor_requests import (KINDS, LIMITS, MAX_PER_SPONSOR, FieldError, Request, Requests, check,
                                             name_key, used)
from tests.lambdas.conftest import TABLE

NOW = datetime(2020, 7, 5, 10, 0, tzinfo=BEIJING)
LINKS_PASS = datetime(2020, 7, 11, tzinfo=BEIJING)  # 7月10日 24:00
PRIZES_PASS = datetime(2020, 7, 16, tzinfo=BEIJING)


def _info(slug: str, name: str, kind: str = "initiator", nominated_by: str | None = None,
          channels: tuple[str, ...] = ("website", "wechat", "poster"), sublinks: tuple[Sublink, ...] = ()) -> SponsorInfo:
    order = (*channels, *(s.id for s in sublinks))
    return SponsorInfo(slug, name, kind, "北京市", nominated_by, frozenset(order), sublinks, (), order)


@pytest.fixture
def cat() -> Catalog:
    sponsors = [
        _info("beijing-ccs", "北京市计算机学会", sublinks=(Sublink("poster.yizhong", "poster", "yizhong", "一中"),)),
        _info("beijing-media-1", "北京广播电视台网络部", "media", "beijing-ccs"),
        _info("panming", "北京磐明网络科技有限公司", "enterprise", "beijing-ccs"),
        _info("tianjin-ccs", "天津市计算机学会"),
    ]
    return Catalog(datetime(2020, 7, 22, 9, tzinfo=BEIJING), datetime(2020, 8, 1, tzinfo=BEIJING),
                   "https://survey.example.org/", {}, {s.slug: s for s in sponsors},
                   {"website": "官方网站", "wechat": "微信公众号", "poster": "线下海报", "weibo": "微博"},
                   {"links": LINKS_PASS, "prizes": PRIZES_PASS})


def nomination(name: str = "北京日报新媒体", kind: str = "media", **extra: str) -> dict:
    return {"name": name, "short_name": "北京日报", "kind": kind, "website": "https://bjd.example.org/",
            "province": "北京市", "contact_name": "张三", "contact_phone": "13800138000", **extra}


def stored(sponsor: str, kind: str, fields: dict, status: str = "pending", n: int = 0) -> Request:
    return Request(sponsor, f"20200701T00000{n}Z-0000000{n}", kind, status, "2020-07-01T00:00:00Z", fields)


def refused(kind: str, fields: dict, requester: SponsorInfo, cat: Catalog, existing: list[Request] | None = None,
            now: datetime = NOW) -> FieldError:
    with pytest.raises(FieldError) as caught:
        check(kind, fields, requester, cat, existing or [], now)
    assert caught.value.message and any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    return caught.value


# -- nominations ----------------------------------------------------------------------------------------------------

def test_a_valid_nomination_comes_back_trimmed(cat):
    clean = check("nominate", nomination(name="  北京日报新媒体 "), cat.sponsors["beijing-ccs"], cat, [], NOW)
    assert clean["name"] == "北京日报新媒体" and clean["kind"] == "media" and set(clean) == set(nomination())


def test_a_third_media_unit_is_refused_on_the_kind_field(cat):
    beijing = cat.sponsors["beijing-ccs"]
    # The catalog holds one media unit of beijing-ccs; a pending nomination makes two
    existing = [stored("beijing-ccs", "nominate", nomination("人民网北京频道"))]
    assert used("beijing-ccs", cat, existing) == {"media": 2, "enterprise": 1}
    err = refused("nominate", nomination(), beijing, cat, existing)
    assert (err.error, err.field) == ("limit", "kind") and "2" in err.message
    # A rejected nomination frees its place; an enterprise still has room
    existing = [stored("beijing-ccs", "nominate", nomination("人民网北京频道"), status="rejected")]
    assert check("nominate", nomination(), beijing, cat, existing, NOW)["kind"] == "media"
    assert check("nominate", nomination("某某科技有限公司", "enterprise"), beijing, cat, [], NOW)


def test_the_limits_count_an_approved_nomination_once_it_is_in_the_catalog(cat):
    existing = [stored("beijing-ccs", "nominate", nomination("北京广播电视台 网络部"), status="approved")]
    assert used("beijing-ccs", cat, existing)["media"] == 1
    assert used("tianjin-ccs", cat, existing) == {"media": 0, "enterprise": 0}


def test_enterprises_are_limited_to_three(cat):
    existing = [stored("beijing-ccs", "nominate", nomination(f"企业{n}", "enterprise"), n=n) for n in range(2)]
    err = refused("nominate", nomination("企业9", "enterprise"), cat.sponsors["beijing-ccs"], cat, existing)
    assert (err.error, err.field) == ("limit", "kind") and str(LIMITS["enterprise"]) in err.message


@pytest.mark.parametrize("name", ["北京广播电视台网络部", "北京 广播电视台网络部", "北京广播电视台网络部\u200b", "ＰＡＮ公司"])
def test_a_name_already_taken_is_refused_whatever_its_blanks_width_or_case(cat, name):
    # "ＰＡＮ公司" clashes with another initiator's pending nomination "pan公司"
    others = [stored("tianjin-ccs", "nominate", nomination("pan公司", "enterprise"))]
    err = refused("nominate", nomination(name), cat.sponsors["beijing-ccs"], cat, others)
    assert (err.error, err.field) == ("duplicate", "name")


def test_name_key_folds_width_case_and_blanks():
    assert name_key(" Ａbc 公司\u200b") == name_key("abc公司")


def test_a_proposed_initiator_is_checked_for_duplicates_too(cat):
    proposal = {k: v for k, v in nomination("天津市计算机学会").items() if k != "kind"}
    err = refused("initiator", proposal, cat.sponsors["beijing-ccs"], cat)
    assert (err.error, err.field) == ("duplicate", "name")
    proposal["name"] = "河北省网络安全协会"
    assert check("initiator", proposal, cat.sponsors["beijing-ccs"], cat, [], NOW)["name"] == "河北省网络安全协会"


def test_a_support_unit_cannot_nominate_or_propose(cat):
    media = cat.sponsors["beijing-media-1"]
    assert refused("nominate", nomination(), media, cat).error == "not_allowed"
    assert refused("initiator", nomination(), media, cat).error == "not_allowed"


@pytest.mark.parametrize(("field", "value"), [
    ("name", "北"), ("name", 42), ("kind", "initiator"), ("website", "www.example.org"), ("website", "ftp://x.org/"),
    ("province", "广东"), ("contact_phone", "call me"), ("contact_name", ""), ("short_name", "x" * 61),
    ("name", "北京\n日报"),
])
def test_a_wrong_field_is_named(cat, field, value):
    err = refused("nominate", nomination(**{field: value}), cat.sponsors["beijing-ccs"], cat)
    assert (err.error, err.field) == ("invalid", field)


def test_unknown_fields_are_named(cat):
    err = refused("contact", {"name": "张三", "phone": "13800138000", "idcard": "1", "address": "x"},
                  cat.sponsors["beijing-ccs"], cat)
    assert err.error == "invalid" and err.field == "address" and "idcard" in err.message


def test_an_unknown_kind_and_fields_that_are_no_object_are_refused(cat):
    assert refused("other", {}, cat.sponsors["beijing-ccs"], cat).error == "invalid"
    assert refused("contact", ["name"], cat.sponsors["beijing-ccs"], cat).error == "invalid"


# -- sub-links, placements, prizes, contacts ------------------------------------------------------------------------

def test_sublinks_until_the_deadline(cat):
    beijing = cat.sponsors["beijing-ccs"]
    fields = {"channel": "poster", "key": "erzhong", "label": "北京市第二中学"}
    assert check("sublink", fields, beijing, cat, [], LINKS_PASS - timedelta(seconds=1)) == fields
    err = refused("sublink", fields, beijing, cat, now=LINKS_PASS)
    assert (err.error, err.field) == ("deadline", "channel") and "7月10日24时" in err.message


def test_a_sublink_key_already_used_for_its_channel_is_refused(cat):
    beijing = cat.sponsors["beijing-ccs"]
    err = refused("sublink", {"channel": "poster", "key": "yizhong", "label": "一中"}, beijing, cat)  # in the catalog
    assert (err.error, err.field) == ("duplicate", "key")
    pending = [stored("beijing-ccs", "sublink", {"channel": "wechat", "key": "shop", "label": "门店"})]
    err = refused("sublink", {"channel": "wechat", "key": "shop", "label": "门店二"}, beijing, cat, pending)
    assert (err.error, err.field) == ("duplicate", "key")
    # The same key under another channel, or another sponsor's key, is free
    assert check("sublink", {"channel": "weibo", "key": "shop", "label": "x"}, beijing, cat, pending, NOW)
    assert check("sublink", {"channel": "poster", "key": "yizhong", "label": "一中"}, cat.sponsors["tianjin-ccs"],
                 cat, pending, NOW)


@pytest.mark.parametrize(("fields", "field"), [
    ({"channel": "fax", "key": "a", "label": "x"}, "channel"),
    ({"channel": "poster", "key": "Yi Zhong", "label": "x"}, "key"),
    ({"channel": "poster", "key": "a", "label": "x" * 41}, "label"),
])
def test_sublink_fields(cat, fields, field):
    assert refused("sublink", fields, cat.sponsors["beijing-ccs"], cat).field == field


def test_placements(cat):
    beijing = cat.sponsors["beijing-ccs"]
    fields = {"where": "https://beijing-ccs.example.org/", "when": "2020-07-22", "channel": "poster.yizhong",
              "upload": "placements/beijing-ccs/1f0e.png"}
    assert check("placement", fields, beijing, cat, [], NOW) == fields
    assert check("placement", {"where": "北京市一中门口", "when": "2020-07-23"}, beijing, cat, [], NOW)
    for bad, field in [({"when": "2020-7-22"}, "when"), ({"when": "2020-02-30"}, "when"), ({"channel": "weibo"}, "channel"),
                       ({"upload": "placements/tianjin-ccs/x.png"}, "upload"), ({"where": ""}, "where")]:
        assert refused("placement", {**fields, **bad}, beijing, cat).field == field


def test_prizes_until_the_deadline(cat):
    beijing = cat.sponsors["beijing-media-1"]  # support units offer prizes too
    fields = {"provider": "北京广电", "item": "保温杯", "quantity": "200", "scope": "local", "note": "北京市网民"}
    assert check("prize", fields, beijing, cat, [], NOW)["quantity"] == 200
    err = refused("prize", fields, beijing, cat, now=PRIZES_PASS + timedelta(hours=1))
    assert err.error == "deadline" and "7月15日24时" in err.message
    for bad, field in [({"quantity": 0}, "quantity"), ({"quantity": 100_001}, "quantity"), ({"quantity": True}, "quantity"),
                       ({"quantity": "²"}, "quantity"), ({"quantity": 2.5}, "quantity"),
                       ({"scope": "province"}, "scope")]:
        assert refused("prize", {**fields, **bad}, beijing, cat).field == field


def test_contacts(cat):
    beijing = cat.sponsors["beijing-ccs"]
    assert check("contact", {"name": "张三", "phone": "010-12345678"}, beijing, cat, [], NOW) == \
        {"name": "张三", "phone": "010-12345678"}
    assert refused("contact", {"name": "张三", "phone": "13800138000", "email": "nope"}, beijing, cat).field == "email"


def test_too_many_requests_from_one_sponsor(cat):
    mine = [stored("beijing-ccs", "contact", {}, status="rejected", n=n) for n in range(MAX_PER_SPONSOR)]
    err = refused("contact", {"name": "张三", "phone": "13800138000"}, cat.sponsors["beijing-ccs"], cat, mine)
    assert err.error == "too_many"
    # Other sponsors' requests do not count against it
    assert check("contact", {"name": "张三", "phone": "13800138000"}, cat.sponsors["tianjin-ccs"], cat, mine, NOW)


# -- the table ------------------------------------------------------------------------------------------------------

def test_requests_are_stored_listed_newest_first_and_decided_once(ddb):
    requests = Requests(ddb, TABLE)
    first = datetime(2020, 7, 1, 8, 0, tzinfo=timezone.utc)
    a = requests.add("beijing-ccs", "contact", {"name": "张三", "phone": "13800138000"}, now=first)
    b = requests.add("beijing-ccs", "placement", {"where": "一中", "when": "2020-07-22",
                                                  "upload": "placements/beijing-ccs/a.png"}, now=first + timedelta(hours=1))
    c = requests.add("tianjin-ccs", "prize", {"provider": "x", "item": "y", "quantity": 1, "scope": "local"},
                     now=first + timedelta(hours=2))
    assert a.id.startswith("20200701T080000Z-") and a.created == "2020-07-01T08:00:00Z" and a.status == "pending"
    assert [r.id for r in requests.of("beijing-ccs")] == [b.id, a.id]
    assert requests.of("beijing-ccs")[0].upload == "placements/beijing-ccs/a.png"
    assert requests.of("beijing") == []  # a prefix of another slug is not that sponsor
    assert [r.id for r in requests.all()] == [c.id, b.id, a.id]
    assert requests.get("beijing-ccs", a.id) == a
    assert requests.get("beijing-ccs", "nope") is None

    assert requests.decide("beijing-ccs", a.id, "rejected", "请填写手机号", now=first + timedelta(days=1))
    assert not requests.decide("beijing-ccs", a.id, "approved")  # decided already
    assert not requests.decide("beijing-ccs", "20200101T000000Z-00000000", "approved")  # no such request
    got = requests.get("beijing-ccs", a.id)
    assert (got.status, got.reason, got.decided) == ("rejected", "请填写手机号", "2020-07-02T08:00:00Z")
    assert got.public() == {"id": a.id, "kind": "contact", "status": "rejected", "created": a.created,
                            "decided": got.decided, "reason": "请填写手机号", "fields": a.fields}
    assert [r.id for r in requests.all("pending")] == [c.id, b.id]
    with pytest.raises(ValueError):
        requests.decide("tianjin-ccs", c.id, "pending")


def test_every_kind_has_a_check(cat):
    for kind in KINDS:
        with pytest.raises(FieldError) as caught:
            check(kind, {}, cat.sponsors["beijing-ccs"], cat, [], NOW)
        assert caught.value.error == "invalid"
