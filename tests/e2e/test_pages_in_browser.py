"""The pages a sponsor, a respondent and the secretariat open, in Chromium at a phone's 360 px and a desktop's
1280 px, against the real local stack: the leaderboard as a phone layout, a countdown that never breaks inside a
word, daily charts that keep their size and say when there is nothing yet, directory filters that say when nothing
matches, WeChat's download hint, the 404 page, and the page a post without script gets back. Every page kind is
photographed at both widths into SHOTS for review."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.waiting import until
from tests.helpers import counted_stack, small_site

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("SURVEY_SHOTS", "/tmp/survey-shots"))
WIDTHS = {"phone": 360, "desktop": 1280}
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 12; Pixel 6) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
             "Chrome/110.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.40.2420(0x28002851) NetType/WIFI Language/zh_CN")
# Samples for one sponsor only: beijing-ccs and shenzhen-media have none.
SEED = [(0, "guangdong-cyber", "wechat", "广东省", 5, 2), (1, "guangdong-cyber", "website", "广东省", 4, 1)]
BOARD_ROWS = '[data-table="board"] tbody tr'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_site(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def stack(site: Path) -> Iterator[dict[str, Any]]:
    with counted_stack(site, SEED) as s:
        yield s


def _context(browser: Any, width: int, **extra: Any) -> Any:
    phone = width < 600
    return browser.new_context(viewport={"width": width, "height": 740 if phone else 900}, device_scale_factor=2 if phone else 1,
                               is_mobile=phone, has_touch=phone, locale="zh-CN", **extra)


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def screen(request: Any, browser: Any, stack: dict[str, Any]) -> Iterator[Any]:
    context = _context(browser, WIDTHS[request.param])
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((stack["url"], "data:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    page.width_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def phone(browser: Any, stack: dict[str, Any]) -> Iterator[Any]:
    context = _context(browser, 360)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Any, stack: dict[str, Any]) -> Iterator[Any]:
    context = _context(browser, 1280)
    page = context.new_page()
    yield page
    context.close()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def _inside_window(page: Any, stack: dict[str, Any], hours: float = 1) -> None:
    page.clock.set_fixed_time((stack["catalog"].opens + timedelta(hours=hours)).timestamp())


# ---- 9: the leaderboard and the countdown on a phone ---------------------------------------------------------

# For every "<number> <unit>" pair and every run of characters: does it sit on one line?
BROKEN_WORDS = """el => {
  const chars = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) for (let i = 0; i < node.data.length; i++) chars.push([node, i]);
  const top = ([node, i]) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                               const box = r.getClientRects()[0]; return box ? Math.round(box.top) : null; };
  const text = chars.map(([n, i]) => n.data[i]).join("");
  const broken = [];
  for (const m of text.matchAll(/\\d+\\s*[^\\s\\d]+/g)) {
    const first = m.index, last = m.index + m[0].length - 1;
    if (top(chars[first]) !== top(chars[last])) broken.push(m[0]);
  }
  return broken;
}"""


def test_the_countdown_never_breaks_inside_a_word(phone, stack):
    _inside_window(phone, stack)
    phone.goto(stack["url"] + "progress/")
    countdown = phone.locator('[data-field="countdown"]')
    until(phone, "document.querySelector('[data-field=countdown]').textContent.includes('天')")
    assert re.fullmatch(r"\d+ 天 \d+ 小时 \d+ 分", " ".join(countdown.inner_text().split())), countdown.inner_text()
    assert countdown.evaluate(BROKEN_WORDS) == []


def test_the_leaderboard_is_a_phone_layout(phone, stack):
    _inside_window(phone, stack)
    phone.goto(stack["url"] + "progress/")
    until(phone, f"document.querySelectorAll('{BOARD_ROWS}').length === 3")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    names = phone.locator(f"{BOARD_ROWS} td a")
    for i in range(names.count()):
        box = names.nth(i).bounding_box()
        line = float(names.nth(i).evaluate("a => parseFloat(getComputedStyle(a).lineHeight) || 20"))
        assert box["height"] <= 1.5 * line, (names.nth(i).inner_text(), box)  # a name on one line, not two letters a line
    # Every figure still there, and labelled, on the phone
    first = phone.locator(BOARD_ROWS).first
    assert [td.inner_text() for td in first.locator("td").all()] == ["1", "广东省网络空间安全协会", "广东省", "9", "9"]
    labels = first.locator("td").evaluate_all("tds => tds.map(td => td.getAttribute('data-label'))")
    assert all(labels), labels
    row_height = first.bounding_box()["height"]
    assert row_height < 160, row_height


# ---- 10: the daily chart -------------------------------------------------------------------------------------

OVERLAPS = """box => {
  const rects = [...box.querySelectorAll("svg text")].map(t => t.getBoundingClientRect());
  const bars = [...box.querySelectorAll("svg rect")].map(r => r.getBoundingClientRect());
  const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const out = [];
  rects.forEach((a, i) => rects.forEach((b, j) => { if (i < j && hit(a, b)) out.push(["text", i, j]); }));
  rects.forEach((a, i) => bars.forEach((b, j) => { if (b.height > 1 && hit(a, b)) out.push(["bar", i, j]); }));
  return out;
}"""


@pytest.mark.parametrize("width", [360, 1280])
def test_the_daily_chart_keeps_its_size_and_its_labels_clear(browser, stack, width):
    context = _context(browser, width)
    page = context.new_page()
    _inside_window(page, stack, hours=30)
    page.goto(stack["url"] + "progress/")
    until(page, "document.querySelectorAll('[data-chart=days] svg rect').length > 0")
    box = page.locator('[data-chart="days"]').first
    sizes = box.evaluate("b => [...b.querySelectorAll('svg text')].map(t => t.getBoundingClientRect().height)")
    assert sizes and max(sizes) <= 18, sizes  # the labels' own size, not the drawing's scaled up
    assert box.evaluate(OVERLAPS) == []
    chart_height = box.locator("svg").bounding_box()["height"]
    assert 150 <= chart_height <= 320, chart_height
    context.close()


def test_a_chart_without_samples_says_so(phone, stack):
    _inside_window(phone, stack)
    phone.goto(stack["url"] + "sponsors/beijing-ccs/")
    until(phone, "document.querySelector('.sp-counts [data-field=updated]').textContent.includes('更新')")
    chart = phone.locator('.sp-counts [data-chart="days"]')
    assert "暂无数据" in chart.inner_text()
    assert chart.locator("svg rect").count() == 0


# ---- 11: the directory filter --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["initiators/", "supporters/"])
def test_a_filter_without_a_match_says_so_and_shows_no_empty_groups(phone, stack, path):
    phone.goto(stack["url"] + path)
    phone.get_by_label("查找单位").fill("没有这家单位")
    assert phone.locator("#sp-directory h2:visible").count() == 0
    none = phone.locator("#sp-none")
    assert none.is_visible() and "未找到" in none.inner_text() and "没有这家单位" in none.inner_text()
    phone.get_by_label("查找单位").fill("")
    assert phone.locator("#sp-directory h2:visible").count() > 0 and none.is_hidden()


def test_a_filter_shows_only_the_groups_that_match(phone, stack):
    phone.goto(stack["url"] + "initiators/")
    phone.get_by_label("查找单位").fill("北京")
    assert [h.inner_text().split()[0] for h in phone.locator("#sp-directory h2:visible").all()] == ["北京市"]


# ---- WeChat --------------------------------------------------------------------------------------------------


def test_in_wechat_pages_with_downloads_say_to_open_them_in_a_browser(browser, stack):
    context = browser.new_context(viewport={"width": 360, "height": 740}, user_agent=WECHAT_UA, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((stack["url"], "data:")) else None)
    page.goto(stack["url"] + "sponsors/guangdong-cyber/", wait_until="networkidle")
    hint = page.locator("[data-wechat-hint]").first
    assert hint.is_visible() and "请在浏览器中打开" in hint.inner_text()
    assert outside == []  # no official account configured: WeChat's script is never loaded
    shoot(page, "wechat-sponsor")
    for path in ("s/guangdong-cyber/wechat/", "thanks/"):  # the form and the thank-you page ask too, and stop there
        page.goto(stack["url"] + path, wait_until="networkidle")
    assert outside == []
    context.close()


def test_outside_wechat_there_is_no_hint(phone, stack):
    phone.goto(stack["url"] + "sponsors/guangdong-cyber/", wait_until="networkidle")
    assert phone.locator("[data-wechat-hint]").first.is_hidden()


# ---- every page kind at both widths --------------------------------------------------------------------------

PAGES = {
    "home": "", "initiators": "initiators/", "supporters": "supporters/", "materials": "materials/",
    "progress": "progress/", "sponsor": "sponsors/guangdong-cyber/", "support-unit": "sponsors/shenzhen-media/",
    "certificate": "sponsors/shenzhen-media/certificate/", "invitation": "sponsors/guangdong-cyber/invitation/",
    "form": "s/guangdong-cyber/wechat/", "campaign-form": "survey/", "thanks": "thanks/#from=guangdong-cyber/wechat",
    "not-found": "no-such-page/",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_kind_fits_its_screen_and_loads_nothing_from_outside(screen, stack, name):
    _inside_window(screen, stack)
    response = screen.goto(stack["url"] + PAGES[name], wait_until="networkidle")
    assert response is not None and response.status == (404 if name == "not-found" else 200)
    width = screen.viewport_size["width"]
    assert screen.evaluate("document.documentElement.scrollWidth") <= width
    assert screen.outside == []
    if name == "not-found":
        assert "404" in screen.title() or "不存在" in screen.content()
    if name == "thanks":
        until(screen, "document.querySelector('[data-forward-qr]').complete")
        assert screen.locator("[data-forward-link]").inner_text() == stack["catalog"].site_url + "s/guangdong-cyber/wechat/"
        assert screen.evaluate("document.querySelector('[data-forward-qr]').naturalWidth") > 0
    shoot(screen, name)


def test_the_page_a_post_without_script_gets_back(browser, stack):
    for width in WIDTHS.values():
        context = _context(browser, width, java_script_enabled=False)
        page = context.new_page()
        page.goto(stack["url"] + "s/guangdong-cyber/wechat/")
        page.locator("#q-gender label").first.click()
        # The browser's own checks would stop most mistakes first; the server's page is for what they let through.
        page.evaluate("document.getElementById('survey').noValidate = true")
        page.locator("#submit").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "提交未成功"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        first = page.locator("li").first.inner_text()
        assert first.startswith("第 1 题") and "？：" not in first
        shoot(page, "problem")
        context.close()


# ---- the documents print on one A4 sheet from their page -----------------------------------------------------


@pytest.mark.parametrize("path", ["sponsors/shenzhen-media/certificate/", "sponsors/guangdong-cyber/invitation/"])
def test_a_document_prints_from_its_page_on_one_a4_sheet_without_the_sites_frame(desktop, stack, path):
    from tests.generator import pdf_reader

    desktop.goto(stack["url"] + path, wait_until="networkidle")
    printed = desktop.pdf(prefer_css_page_size=True, print_background=True)
    assert [(round(w), round(h)) for w, h in pdf_reader.page_sizes(printed)] == [(595, 842)]
    desktop.emulate_media(media="print")
    assert desktop.locator(".md-header").is_hidden() and desktop.locator(".doc-tools").is_hidden()
    assert desktop.locator(".doc-seal").is_visible()
    (SHOTS / "print").mkdir(parents=True, exist_ok=True)
    (SHOTS / "print" / (path.strip("/").replace("/", "-") + ".pdf")).write_bytes(printed)
