"""The catalog the portal reads: sub-links are channels of their sponsor, prizes and deadlines come with the build,
and a sponsors.json written before them still loads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from lambdas.survey import catalog
from lambdas.survey.catalog import BEIJING, UNATTRIBUTED, Prize, Sublink

OLD = {  # as builds wrote it before sub-links, prizes and deadlines
    "campaign": {"title": "t", "opens": "2020-07-22T09:00:00+08:00", "closes": "2020-08-01T00:00:00+08:00",
                 "site_url": "https://survey.example.org/"},
    "channels": {"website": "官方网站", "poster": "线下海报"},
    "sponsors": {"a-1": {"name": "甲", "kind": "initiator", "province": "北京市", "nominated_by": None,
                         "channels": ["website", "poster"]},
                 "m-1": {"name": "乙", "kind": "media", "province": "北京市", "nominated_by": "a-1",
                         "channels": ["website"]}},
    "aliases": {}, "retired": [], "published_links": [],
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "sponsors.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_older_sponsors_json_loads_with_empty_sublinks_prizes_and_deadlines(tmp_path):
    cat = catalog.load(_write(tmp_path, OLD))
    assert cat.channels == {"website": "官方网站", "poster": "线下海报"} and cat.deadlines == {}
    a = cat.sponsors["a-1"]
    assert a.sublinks == () and a.prizes == () and a.order == ("website", "poster")
    assert not cat.passed("links", datetime(2030, 1, 1, tzinfo=BEIJING))  # no deadline set: never passed
    assert [s.slug for s in cat.nominated("a-1")] == ["m-1"] and cat.nominated("m-1") == []


def test_sublinks_are_channels_of_their_sponsor_with_their_own_label(tmp_path):
    data = json.loads(json.dumps(OLD))
    data["campaign"]["channels"] = data.pop("channels")
    data["campaign"]["deadlines"] = {"links": "2020-07-11T00:00:00+08:00", "prizes": "2020-07-16T00:00:00+08:00"}
    a = data["sponsors"]["a-1"]
    a["channels"].append("poster.yizhong")
    a["sublinks"] = [{"id": "poster.yizhong", "channel": "poster", "key": "yizhong", "label": "北京市第一中学"}]
    a["prizes"] = [{"provider": "甲", "item": "U盘", "quantity": 200, "scope": "local"}]
    cat = catalog.load(_write(tmp_path, data))
    info = cat.sponsors["a-1"]
    assert info.sublinks == (Sublink("poster.yizhong", "poster", "yizhong", "北京市第一中学"),)
    assert info.prizes == (Prize("甲", "U盘", 200, "local"),)
    assert info.order == ("website", "poster", "poster.yizhong") and "poster.yizhong" in info.channels
    assert cat.attribute("a-1", "poster.yizhong") == ("a-1", "poster.yizhong")
    assert cat.attribute("a-1", "poster.erzhong") == ("a-1", UNATTRIBUTED)
    assert cat.channel_label("a-1", "poster.yizhong") == "北京市第一中学" and cat.channel_label("a-1", "poster") == "线下海报"
    assert catalog.base_channel("poster.yizhong") == "poster" and catalog.base_channel("website") == "website"
    links = cat.deadlines["links"]
    assert links == datetime(2020, 7, 11, tzinfo=BEIJING)
    assert not cat.passed("links", links - timedelta(seconds=1)) and cat.passed("links", links)
