"""A netizen on a phone, against the real local stack (`python -m generator serve --rehearse`): open a sponsor's
link, answer, lose the network mid-submit, come back, see the thank-you page; the table holds the answer once,
with that sponsor and channel. And the same without JavaScript."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from tests.e2e.waiting import until
from tests.helpers import CAMPAIGN, SMALL_SPONSORS, rehearsal, write_project

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with rehearsal(write_project(tmp_path_factory.mktemp("stack") / "project", CAMPAIGN + SMALL_SPONSORS)) as s:
        assert "REHEARSAL" in "".join(s["log"]), "".join(s["log"])
        yield s
    assert s["returncode"] == 0 and "stopped" in "".join(s["log"])


def _submissions(client: Any) -> list[dict[str, Any]]:
    items = client.scan(TableName="survey-local")["Items"]
    return [{k: next(iter(v.values())) for k, v in i.items()} for i in items if i["pk"]["S"].startswith("S#")]


def _counted(client: Any) -> int:
    items = client.scan(TableName="survey-local")["Items"]
    return sum(int(i["received"]["N"]) for i in items if i["pk"]["S"].startswith("C#"))



def _phone(browser: Any, stack: dict, javascript: bool = True) -> Any:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", java_script_enabled=javascript)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((stack["url"], "data:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    return page


def _answer_everything(page: Any, skip_conditional: bool = False,
                       region: tuple[str, str] = ("浙江省", "杭州市")) -> None:
    """Answer every visible question in page order, as a respondent would (earlier answers may reveal later ones)."""
    for q in page.locator("[data-q]").all():
        if not q.is_visible() or (skip_conditional and q.get_attribute("data-show")):
            continue
        kind = q.get_attribute("data-type")
        if kind in ("single", "multi"):
            q.locator("label").nth(1 if kind == "single" else 0).click()
        elif kind == "rating":
            q.locator("label").nth(3).click()
        elif kind == "matrix":
            for row in q.locator(".row").all():
                row.locator("label").nth(4).click()
        elif kind == "region":
            q.locator("select").nth(0).select_option(region[0])
            q.locator("select").nth(1).select_option(region[1])
        else:
            q.locator("input, textarea").fill("希望加强个人信息保护")


def test_answer_lose_the_network_mid_submit_and_land_once(browser, stack):
    page = _phone(browser, stack)
    before = len(_submissions(stack["db"]))
    page.goto(stack["url"] + "s/guangdong-cyber/wechat/")
    assert page.locator("meta[name=survey-sponsor]").get_attribute("content") == "guangdong-cyber"
    assert page.locator("#survey").is_visible()  # the rehearsal's window is open
    _answer_everything(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing wider than a phone
    assert "已完成" in page.locator("#progress-text").inner_text()
    # The proof of work is found while the respondent answers
    until(page, "(JSON.parse(localStorage.getItem('survey-draft:public') || '{}').proof || {}).nonce", timeout=60)
    # WHEN the network drops as they press submit
    page.context.set_offline(True)
    page.locator("#submit").click()
    until(page, "document.getElementById('status').textContent.includes('网络')")
    # AND when it is back, the first response is lost after the server stored the answers
    lost: list[str] = []

    def lose_first_response(route: Any) -> None:
        if not lost:
            route.fetch()  # reaches the server, which stores and counts ...
            lost.append(route.request.post_data or "")
            route.abort()  # ... but the phone never hears back
        else:
            route.continue_()

    page.route("**/api/submit", lose_first_response)
    page.context.set_offline(False)
    # The thank-you page learns the link they came by, to offer it for forwarding
    page.wait_for_url("**/thanks/#from=guangdong-cyber/wechat", timeout=60_000)
    assert page.locator("#thanks").is_visible()
    assert page.locator("[data-forward-link]").inner_text().endswith("/s/guangdong-cyber/wechat/")
    assert lost, "the first response was not lost: the retry path was not exercised"
    # THEN the table holds the answers once, attributed, counted once
    sub_id = page.evaluate("JSON.parse(localStorage.getItem('survey-done:public'))")
    mine = [s for s in _submissions(stack["db"]) if s["id"] == sub_id]
    assert len(mine) == 1 and len(_submissions(stack["db"])) == before + 1
    [s] = mine
    assert (s["sponsor"], s["channel"], s["questionnaire"], s["province"]) == ("guangdong-cyber", "wechat", "public", "浙江省")
    assert json.loads(lost[0])["id"] == sub_id  # the retry carried the same id
    assert [r["S"] for r in s.get("reasons", [])] == ["too_fast"]  # a test answers in seconds; the proof was good
    assert "pending" not in s
    assert page.evaluate("localStorage.getItem('survey-draft:public')") is None
    assert page.outside == []


def test_a_reload_keeps_the_draft(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "s/beijing-ccs/website/")
    region = page.locator("#q-region")
    region.locator("select").nth(0).select_option("北京市")
    region.locator("select").nth(1).select_option("海淀区")
    page.locator("#q-gender label").nth(1).click()
    page.reload()
    assert page.locator("#f-region-c").input_value() == "海淀区"
    assert page.locator("#q-gender input").nth(1).is_checked()
    assert "已恢复" in page.locator("#status").inner_text()


def test_missing_answers_are_marked_on_the_question_and_focused(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "s/beijing-ccs/website/")
    page.locator("#submit").click()
    error = page.locator("#e-region")
    assert error.inner_text() == "请选择省份"
    assert page.locator("#f-region-p").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "f-region-p"
    assert "e-region" in page.locator("#q-region").get_attribute("aria-describedby")


def test_the_form_can_be_answered_with_the_keyboard_alone(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "s/beijing-ccs/website/")
    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.name || document.activeElement.id"))
    assert "region.province" in focused and "homepage" not in focused  # the honeypot is out of reach
    page.locator("#f-region-p").focus()
    page.keyboard.press("ArrowDown")  # the first province
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # its first city
    assert page.locator("#f-region-c").input_value() == "东城区"
    page.locator("#q-gender input").first.focus()
    page.keyboard.press("Space")
    assert page.locator("#q-gender input").first.is_checked()


def test_follow_up_questions_appear_only_when_they_apply(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "s/beijing-ccs/website/")
    follow = page.locator("[data-show]").first
    target, options = follow.get_attribute("data-show").split(":")
    assert not follow.is_visible()
    page.locator(f"input[name={target}][value={options.split()[0]}]").check()
    assert follow.is_visible()


def test_without_javascript_the_plain_form_posts_and_lands_on_the_thank_you_page(browser, stack):
    page = _phone(browser, stack, javascript=False)
    before = len(_submissions(stack["db"]))
    page.goto(stack["url"] + "s/shenzhen-media/app/pro/")
    assert page.locator("h1").inner_text().endswith("（网络从业人员版）")
    _answer_everything(page)  # without script every question shows; the server keeps those that apply
    page.locator("#submit").click()
    page.wait_for_url("**/thanks/")
    assert page.locator("#thanks").is_visible()
    subs = _submissions(stack["db"])
    assert len(subs) == before + 1
    [s] = [s for s in subs if s["questionnaire"] == "pro"]
    assert (s["sponsor"], s["channel"]) == ("shenzhen-media", "app")
    assert [r["S"] for r in s["reasons"]] == ["no_proof"]  # stored and counted as received, flagged
    assert page.outside == []


def test_every_submission_is_counted_once(stack):
    deadline = time.monotonic() + 5
    while _counted(stack["db"]) != len(_submissions(stack["db"])) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _counted(stack["db"]) == len(_submissions(stack["db"]))


def test_outside_the_window_the_page_says_so(browser, tmp_path):
    """The sample's own window (2020) is long closed: the built page says so instead of showing the form."""
    from tests.helpers import mkdocs_build

    project = write_project(tmp_path / "closed", CAMPAIGN + SMALL_SPONSORS)
    assert mkdocs_build(project).returncode == 0
    page = browser.new_page()
    page.goto((project / "site" / "s" / "beijing-ccs" / "website" / "index.html").as_uri())
    assert "已于 2020年7月31日 24:00" in page.locator("#window").inner_text()
    assert not page.locator("#survey").is_visible()
    page.close()


def _api(stack: dict, path: str) -> Any:
    with urllib.request.urlopen(stack["url"] + "api/" + path, timeout=5) as response:
        return json.loads(response.read())


def test_the_progress_page_shows_what_the_counts_api_returns(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "progress/")
    until(page, "document.querySelector('[data-table=board] tbody tr') !== null")
    campaign, board = _api(stack, "counts"), _api(stack, "counts/sponsors")
    assert campaign["total"]["received"] == len(_submissions(stack["db"])) >= 2
    assert page.locator('[data-field="received"]').inner_text() == f"{campaign['total']['received']:,}"
    # While the window is open the public sees received counts only (the valid ones would coach a bot)
    assert campaign["valid_shown"] is False and "valid" not in campaign["total"]
    assert "天" in page.locator('[data-field="countdown"]').inner_text()
    assert page.locator('[data-chart="days"] svg rect').count() == len(campaign["days"])  # received bars only
    rows = page.locator('[data-table="board"] tbody tr')
    assert rows.count() == len(board["sponsors"])
    first = board["sponsors"][0]
    assert rows.first.locator("td").nth(1).inner_text() == first["name"] and "valid" not in first
    page.select_option('[data-filter-board="province"]', "北京市")
    assert rows.count() == sum(1 for e in board["sponsors"] if e["province"] == "北京市")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.outside == []


def test_a_sponsor_page_shows_its_own_count(browser, stack):
    page = _phone(browser, stack)
    page.goto(stack["url"] + "sponsors/guangdong-cyber/")
    until(page, "document.querySelector('[data-table=channels] tbody tr') !== null")
    mine = _api(stack, "counts/sponsors/guangdong-cyber")
    assert mine["total"]["received"] >= 1
    assert page.locator('.sp-counts [data-field="received"]').inner_text() == str(mine["total"]["received"])
    wechat = page.locator('[data-table="channels"] tbody tr', has_text="微信公众号")
    assert wechat.locator("td").nth(1).inner_text() == str(mine["channels"]["wechat"]["received"])


def test_the_api_is_same_origin_and_sends_the_sites_security_headers(stack):
    with urllib.request.urlopen(stack["url"] + "api/challenge?id=sub-00000001", timeout=5) as response:
        assert json.loads(response.read())["bits"] == 16
        api_headers = response.headers
    with urllib.request.urlopen(stack["url"] + "progress/", timeout=5) as response:
        page_headers = response.headers
    for headers in (api_headers, page_headers):
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"]
        assert headers["Strict-Transport-Security"].startswith("max-age=")
