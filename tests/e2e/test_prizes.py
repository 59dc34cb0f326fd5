"""Prizes as a respondent on a phone sees them, against the real local stack (`python -m generator serve
--rehearse`): a sponsor's form shows its national prize, its local-only prize once the respondent answers its
province, and the thank-you page shows the prizes and the 兑奖码 kept from the submission's id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_form import _answer_everything, _phone, _submissions
from tests.e2e.waiting import until
from tests.helpers import CAMPAIGN, SMALL_SPONSORS, rehearsal, write_project

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

LOCAL = "{provider: 广东省网络空间安全协会, item: 定制雨伞, quantity: 100, scope: local}"
NATIONAL = "{provider: 广东网安企业, item: 安全键盘, quantity: 20, scope: national}"
SUBLINK = "    sublinks:\n      - {channel: poster, key: yizhong, label: 广州市第一中学}\n"
SPONSORS = SMALL_SPONSORS.replace(f"      - {LOCAL}\n", f"      - {LOCAL}\n      - {NATIONAL}\n{SUBLINK}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    assert NATIONAL in SPONSORS
    with rehearsal(write_project(tmp_path_factory.mktemp("prizes") / "project", CAMPAIGN + SPONSORS)) as s:
        yield s


def test_local_prize_follows_the_province_and_the_thank_you_page_gives_a_claim_code(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "s/guangdong-cyber/wechat/")
    prizes = page.locator("#prizes")
    national, local = prizes.locator("li", has_text="安全键盘"), prizes.locator("li", has_text="定制雨伞")
    # GIVEN a respondent who has not answered where they live: the national prize only
    assert prizes.is_visible() and national.is_visible() and not local.is_visible()
    assert "兑奖码" in prizes.inner_text()  # how prizes are given
    # WHEN they answer another province, still not; WHEN they answer the sponsor's, the local prize appears
    _answer_everything(page)  # answers 浙江省
    assert not local.is_visible()
    region = page.locator("#q-region")
    region.locator("select").nth(0).select_option("广东省")
    region.locator("select").nth(1).select_option("广州市")
    assert local.is_visible() and "仅限广东省网民" in local.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = prizes.bounding_box()
    assert box is not None and box["width"] <= 360
    # AND after they submit, the thank-you page shows both prizes and their 兑奖码
    until(page, "(JSON.parse(localStorage.getItem('survey-draft:public') || '{}').proof || {}).nonce", timeout=60)
    page.locator("#submit").click()
    page.wait_for_url("**/thanks/#from=guangdong-cyber/wechat", timeout=60_000)
    thanks = page.locator("[data-prizes]")
    until(page, "!document.querySelector('[data-prizes]').hidden", timeout=10)
    text = thanks.inner_text()
    assert "安全键盘" in text and "定制雨伞" in text
    sub_id = page.evaluate("JSON.parse(localStorage.getItem('survey-done:public'))")
    assert [s["id"] for s in _submissions(stack["db"]) if s["id"] == sub_id] == [sub_id]
    code = page.locator("[data-claim-code]").inner_text()
    assert code == f"{sub_id[:4]}-{sub_id[4:8]}".upper()
    assert page.outside == []


def test_a_respondent_from_elsewhere_sees_no_local_prize_on_the_thank_you_page(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "thanks/")  # first visit: sets the origin's storage
    page.evaluate("localStorage.setItem('survey-claim', JSON.stringify({id: 'abcdef0123456789', province: '浙江省'}))")
    page.goto(stack["url"] + "thanks/#from=guangdong-cyber/wechat")
    page.reload()
    until(page, "!document.querySelector('[data-prizes]').hidden", timeout=10)
    text = page.locator("[data-prizes]").inner_text()
    assert "安全键盘" in text and "定制雨伞" not in text
    assert page.locator("[data-claim-code]").inner_text() == "ABCD-EF01"


def test_without_script_the_local_prize_is_shown_with_whom_it_is_for(browser, stack):
    page = _phone(browser, stack, javascript=False)
    page.goto(stack["url"] + "s/guangdong-cyber/wechat/")
    local = page.locator("#prizes li", has_text="定制雨伞")
    assert local.is_visible() and "仅限广东省网民" in local.inner_text()


def test_the_thank_you_page_offers_the_sub_link_a_respondent_came_by(browser, stack):
    # A sub-link's id has a dot (poster.yizhong): the thank-you page forwards that link and its QR code, not ours
    page = _phone(browser, stack)
    page.goto(stack["url"] + "thanks/#from=guangdong-cyber/poster.yizhong", wait_until="networkidle")
    until(page, "document.querySelector('[data-forward-qr]').complete")
    assert page.locator("[data-forward-link]").inner_text().endswith("/s/guangdong-cyber/poster.yizhong/")
    qr = page.locator("[data-forward-qr]")
    assert qr.get_attribute("src").endswith("/guangdong-cyber-qr-poster.yizhong.png")
    assert page.evaluate("document.querySelector('[data-forward-qr]').naturalWidth") > 0
