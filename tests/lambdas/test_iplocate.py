from __future__ import annotations

import random

import pytest

from lambdas.survey import iplocate
from lambdas.survey.regions import PROVINCES

# Public resolvers and well-known hosts whose place has not moved in years (and the example the package documents).
KNOWN = {
    "114.114.114.114": "江苏省",  # 114DNS, Nanjing
    "223.5.5.5": "浙江省",  # AliDNS, Hangzhou
    "180.76.76.76": "北京市",  # Baidu public DNS
    "202.96.128.86": "广东省",  # China Telecom Guangdong resolver
    "202.96.209.133": "上海市",  # China Telecom Shanghai resolver
    "61.139.2.69": "四川省",  # China Telecom Sichuan resolver
    "61.128.128.68": "重庆市",  # China Telecom Chongqing resolver
    "60.30.1.1": "天津市",  # iputil's own example
    "202.99.224.68": "内蒙古自治区",  # China Unicom Inner Mongolia resolver
    "202.103.224.68": "广西壮族自治区",  # China Telecom Guangxi resolver
    "61.128.114.166": "新疆维吾尔自治区",  # China Telecom Xinjiang resolver
    "202.100.96.68": "宁夏回族自治区",  # China Telecom Ningxia resolver
    "202.98.224.68": "西藏自治区",  # China Telecom Tibet resolver
}


@pytest.mark.parametrize(("ip", "expected"), sorted(KNOWN.items()))
def test_well_known_addresses_map_to_their_province(ip: str, expected: str) -> None:
    assert iplocate.province(ip) == expected


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.1.1", "100.64.0.1", "169.254.1.1", "0.0.0.0",
    "255.255.255.255", "224.0.0.1",
])
def test_private_loopback_and_reserved_addresses_are_unknown(ip: str) -> None:
    assert iplocate.province(ip) == ""


@pytest.mark.parametrize("ip", [
    "8.8.8.8",  # United States
    "1.1.1.1",  # Australia in ip2region
    "202.45.84.58",  # Hong Kong: not a province the form offers
    "168.95.1.1",  # Taiwan
])
def test_addresses_outside_the_31_mainland_divisions_are_unknown(ip: str) -> None:
    assert iplocate.province(ip) == ""


@pytest.mark.parametrize("ip", [
    "", " ", "abc", "1.2.3", "1.2.3.4.5", "300.1.1.1", "01.2.3.4", "1.2.3.4/24", "114.114.114.114:443",
    "\x00", "中国", "1" * 10_000, None, 1920103026, b"rrrr", ["114.114.114.114"],
])
def test_garbage_is_unknown_and_never_raises(ip: object) -> None:
    assert iplocate.province(ip) == ""  # type: ignore[arg-type]


def test_ipv6_is_unknown_unless_it_carries_an_ipv4_address() -> None:
    assert iplocate.province("::ffff:114.114.114.114") == "江苏省"
    assert iplocate.province("::1") == ""
    assert iplocate.province("fe80::1%eth0") == ""
    assert iplocate.province("2400:3200::1") == ""  # AliDNS over IPv6: the shipped database is IPv4 only


def test_surrounding_spaces_are_ignored() -> None:
    assert iplocate.province(" 223.5.5.5\n") == "浙江省"


def test_every_answer_is_a_province_of_the_regions_list() -> None:
    rng = random.Random(7)
    seen = {iplocate.province(".".join(str(rng.randint(1, 223)) for _ in range(4))) for _ in range(20_000)}
    assert seen - {""} <= set(PROVINCES)
    assert len(seen - {""}) >= 25  # random addresses land all over the country, not in one bucket


def test_a_missing_database_makes_every_answer_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iplocate, "PACKAGE", "no_such_package_for_ip_data")
    iplocate._database.cache_clear()
    try:
        assert iplocate.province("114.114.114.114") == ""
    finally:
        monkeypatch.undo()
        iplocate._database.cache_clear()
    assert iplocate.province("114.114.114.114") == "江苏省"
