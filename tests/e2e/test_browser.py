"""The built site in headless Chromium at a phone's width: layout, copy buttons, filters, redirects, no outside loads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.helpers import CHROMIUM, CHROMIUM_ARGS as ARGS, serving  # noqa: F401  (test_portal.py imports these from here)

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site_url(built_small: Path):
    with serving(built_small / "site") as url:
        yield url


@pytest.fixture
def phone(browser, site_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((site_url, "data:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.mark.parametrize("path", ["", "initiators/", "supporters/", "sponsors/guangdong-cyber/",
                                  "sponsors/shenzhen-media/certificate/", "s/guangdong-cyber/wechat/", "guide/"])
def test_page_fits_a_360px_phone_and_loads_nothing_from_outside(phone, site_url, path):
    phone.goto(site_url + path, wait_until="networkidle")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.outside == []
    assert phone.evaluate("document.documentElement.lang").startswith("zh")


def test_copy_buttons_copy_the_attributed_link_and_the_snippet(phone, site_url):
    phone.goto(site_url + "sponsors/guangdong-cyber/")
    button = phone.locator('button[data-copy="https://survey.example.org/s/guangdong-cyber/wechat/"]')
    button.click()
    assert phone.evaluate("navigator.clipboard.readText()") == "https://survey.example.org/s/guangdong-cyber/wechat/"
    assert button.inner_text() == "已复制"
    snippet_button = phone.locator('button[data-snippet="leaderboard"]')
    snippet_button.click()
    phone.wait_for_function("b => b.textContent !== '复制链接样例'", arg=snippet_button.element_handle())
    assert snippet_button.inner_text() == "已复制"
    snippet = phone.evaluate("navigator.clipboard.readText()")
    assert snippet.startswith('<a href="https://survey.example.org/s/guangdong-cyber/website/"')
    assert "guangdong-cyber-leaderboard-728x90.png" in snippet


def test_every_image_on_the_sponsor_page_loads(phone, site_url):
    phone.goto(site_url + "sponsors/guangdong-cyber/")
    for img in phone.locator("article img").all():
        img.scroll_into_view_if_needed()
    phone.wait_for_load_state("networkidle")
    broken = phone.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    assert broken == []


def test_print_svg_qr_code_decodes_when_rendered(browser, site_url):
    page = browser.new_page(viewport={"width": 600, "height": 600})
    page.goto(site_url + "sponsors/guangdong-cyber/kit/guangdong-cyber-qr-poster.svg")
    shot = page.locator("svg").screenshot()
    page.close()
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))] == [
        "https://survey.example.org/s/guangdong-cyber/poster/"]


def test_directory_filter(phone, site_url):
    phone.goto(site_url + "initiators/")
    phone.get_by_label("查找单位").fill("北京")
    visible = phone.locator("#sp-directory li:visible")
    assert visible.count() == 1 and "北京市计算机学会" in visible.inner_text()


def test_old_slug_redirects_in_the_browser(phone, site_url):
    phone.goto(site_url + "sponsors/beijing-old/")
    phone.wait_for_url(site_url + "sponsors/beijing-ccs/")
    assert "北京市计算机学会" in phone.locator("h1").inner_text()
    phone.goto(site_url + "s/beijing-old/wechat/?from=poster")
    phone.wait_for_url(site_url + "s/beijing-ccs/wechat/?from=poster")


def test_keyboard_reaches_copy_buttons(phone, site_url):
    phone.goto(site_url + "slogans/")
    for _ in range(40):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.classList.contains('sp-copy')"):
            break
    else:
        pytest.fail("no copy button reachable by keyboard")
    phone.keyboard.press("Enter")
    phone.wait_for_function("document.activeElement.textContent === '已复制'")
    assert phone.evaluate("navigator.clipboard.readText()") == "网络安全为人民，网络安全靠人民"


def test_menu_opens_on_a_phone(phone, site_url):
    phone.goto(site_url + "slogans/")
    phone.locator('.md-header label[for="__drawer"]').click()
    link = phone.locator(".md-nav--primary").get_by_role("link", name="发起单位").first
    link.wait_for(state="visible")
    link.click()
    phone.wait_for_url(site_url + "initiators/")
