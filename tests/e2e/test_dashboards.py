"""The dashboards (the progress page and a sponsor's count block) in Chromium, against the real local stack: received
counts while the window is open, with a note that valid counts come after the close; valid counts once it has
closed, or day by day under `settled_days`.

The site is built with the window moved to have opened yesterday, as `serve --rehearse` does. Counters are written
straight into the table (the dashboards read nothing else), so valid and received differ and rank the sponsors
differently. The counts function runs with the template's environment (so its default policy, after_close) and
the real clock, or with a source whose wall clock and policy the test sets, as a container would have at that time.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas.counts import app as counts_app
from lambdas.survey.catalog import BEIJING
from tests.e2e.waiting import until
from tests.helpers import counted_stack, small_site

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

NOTE = '[data-field="valid-note"]'
BOARD_ROWS = '[data-table="board"] tbody tr'
# (day: 0 yesterday / 1 today, sponsor, channel, province, received, valid). By received: guangdong-cyber 9,
# beijing-ccs 4, shenzhen-media 2; by valid: beijing-ccs 4, guangdong-cyber 3, shenzhen-media 2.
SEED = [
    (0, "guangdong-cyber", "wechat", "广东省", 5, 2),
    (0, "beijing-ccs", "website", "北京市", 3, 3),
    (1, "guangdong-cyber", "website", "广东省", 4, 1),
    (1, "shenzhen-media", "app", "广东省", 2, 2),
    (1, "beijing-ccs", "wechat", "北京市", 1, 1),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_site(tmp_path_factory.mktemp("dashboards"))


@pytest.fixture(scope="module")
def stack(site: Path) -> Iterator[dict[str, Any]]:
    with counted_stack(site, SEED) as s:
        yield s


@pytest.fixture
def phone(browser: Any, stack: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((stack["url"], "data:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    yield page
    context.close()
    counts_app.configure(None)  # the next test starts from the function's own setup


def at(stack: dict[str, Any], page: Any, now: datetime, policy: str = "after_close") -> None:
    """The counts function as a container would run it at `now` under `policy`; the phone's clock at `now` too."""
    counts_app.configure(counts_app.Source(stack["store"], stack["catalog"], now=lambda: now, policy=policy))
    page.clock.set_fixed_time(now)


def api(stack: dict[str, Any], path: str) -> Any:
    with urllib.request.urlopen(stack["url"] + "api/" + path, timeout=10) as response:
        return json.loads(response.read())


def open_progress(page: Any, stack: dict[str, Any]) -> None:
    page.goto(stack["url"] + "progress/")
    until(page, f"document.querySelectorAll('{BOARD_ROWS}').length === 3")


def open_sponsor(page: Any, stack: dict[str, Any], slug: str) -> None:
    page.goto(stack["url"] + f"sponsors/{slug}/")
    until(page, "document.querySelector('[data-table=channels] tbody tr') !== null")


def field(page: Any, name: str, scope: str = "") -> str:
    return page.locator(f'{scope} [data-field="{name}"]'.strip()).inner_text()


def test_while_the_window_is_open_the_progress_page_shows_received_and_says_when_valid_comes(phone, stack):
    """No source is configured: the function sets itself up from the template's environment and runs on the
    real clock, inside the window."""
    open_progress(phone, stack)
    campaign, board = api(stack, "counts"), api(stack, "counts/sponsors")
    assert "valid" not in campaign["total"] and campaign["valid_shown"] is False
    assert campaign["valid_policy"] == "after_close"  # the template's default
    assert board["ranked_by"] == "received" and all("valid" not in e for e in board["sponsors"])
    assert field(phone, "received") == "15"
    assert field(phone, "valid") == "待公布"
    note = phone.locator(NOTE)
    assert note.is_visible() and "有效样本数将在调查结束后公布" in note.inner_text()
    assert "排行按已收到问卷数排列" in note.inner_text()
    # The leaderboard: by received, no valid column
    rows = phone.locator(BOARD_ROWS)
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == [
        "广东省网络空间安全协会", "北京市计算机学会", "深圳融媒体中心"]
    first = [td.inner_text() for td in rows.first.locator("td").all()]
    # The last column is the group: the initiator and the support unit it nominated
    assert first == ["1", "广东省网络空间安全协会", "广东省", "9", "11"]
    assert not phone.locator('[data-table="board"] th[data-valid-col]').is_visible()
    assert field(phone, "group-label") == "含推荐单位收到"
    # The chart: received bars only
    assert phone.locator('[data-chart="days"] rect.cp-v').count() == 0
    assert phone.locator('[data-chart="days"] rect.cp-r').count() == len(stack["days"])
    assert "有效" not in phone.locator(".cp-legend").inner_text()
    provinces = phone.locator('[data-table="provinces"] tbody tr', has_text="广东省")
    assert [td.inner_text() for td in provinces.locator("td").all()] == ["广东省", "11", "2"]
    assert "天" in field(phone, "countdown")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert phone.outside == []


def test_while_the_window_is_open_a_sponsor_page_shows_received_and_says_when_valid_comes(phone, stack):
    open_sponsor(phone, stack, "guangdong-cyber")
    assert field(phone, "received", ".sp-counts") == "9"
    assert field(phone, "valid", ".sp-counts") == "待公布"
    note = phone.locator(f".sp-counts {NOTE}")
    assert note.is_visible() and "有效样本数将在调查结束后公布" in note.inner_text()
    assert "排行" not in note.inner_text()  # no leaderboard on this page
    wechat = phone.locator('[data-table="channels"] tbody tr', has_text="微信公众号")
    assert [td.inner_text() for td in wechat.locator("td").all()] == ["微信公众号", "5"]
    assert phone.locator('.sp-counts [data-chart="days"] rect.cp-v').count() == 0
    assert phone.outside == []


def test_after_the_close_the_dashboards_show_valid(phone, stack):
    at(stack, phone, stack["catalog"].closes + timedelta(minutes=1))
    open_progress(phone, stack)
    assert field(phone, "received") == "15" and field(phone, "valid") == "9"
    assert phone.locator(NOTE).is_hidden()
    assert field(phone, "countdown") == "已结束"
    rows = phone.locator(BOARD_ROWS)
    first = [td.inner_text() for td in rows.first.locator("td").all()]
    assert first == ["1", "北京市计算机学会", "北京市", "4", "4", "4"]  # now by valid
    assert phone.locator('[data-table="board"] th[data-valid-col]').is_visible()
    assert field(phone, "group-label") == "含推荐单位有效"
    gd = phone.locator(BOARD_ROWS, has_text="广东省网络空间安全协会")
    assert [td.inner_text() for td in gd.locator("td").all()][3:] == ["9", "3", "5"]
    assert phone.locator('[data-chart="days"] rect.cp-v').count() == len(stack["days"])
    open_sponsor(phone, stack, "guangdong-cyber")
    assert field(phone, "valid", ".sp-counts") == "3"
    assert phone.locator(f".sp-counts {NOTE}").is_hidden()
    wechat = phone.locator('[data-table="channels"] tbody tr', has_text="微信公众号")
    assert [td.inner_text() for td in wechat.locator("td").all()] == ["微信公众号", "5", "2"]
    assert phone.outside == []


def test_under_settled_days_each_day_shows_valid_a_day_after_it_ended(phone, stack):
    yesterday, today = stack["days"][:2]
    # Yesterday ended at today's midnight and is published a day later; today is not yet
    now = datetime.fromisoformat(today).replace(tzinfo=BEIJING) + timedelta(days=1, minutes=1)
    at(stack, phone, now, "settled_days")
    open_progress(phone, stack)
    assert field(phone, "received") == "15" and field(phone, "valid") == "5"  # yesterday's valid samples
    note = phone.locator(NOTE).inner_text()
    month_day = f"{int(yesterday[5:7])}月{int(yesterday[8:])}日"
    assert "有效样本数按日公布" in note and f"目前已公布至{month_day}" in note
    assert phone.locator('[data-chart="days"] rect.cp-v').count() == 1
    phone.locator("details summary").first.click()
    day_rows = phone.locator('[data-table="days"] tbody tr')
    assert [td.inner_text() for td in day_rows.nth(0).locator("td").all()] == [yesterday, "8", "5"]
    assert [td.inner_text() for td in day_rows.nth(1).locator("td").all()] == [today, "7", "待公布"]
    first = [td.inner_text() for td in phone.locator(BOARD_ROWS).first.locator("td").all()]
    assert first == ["1", "北京市计算机学会", "北京市", "4", "3", "3"]
