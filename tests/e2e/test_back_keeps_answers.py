"""Without script, a refused form post shows the problems and says the answers are kept: going back must find them
there, the province and city included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_form import _answer_everything, _phone, stack  # noqa: F401  (a fixture)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def test_going_back_from_the_problem_page_finds_every_answer(browser: Any, stack: dict) -> None:  # noqa: F811  (stack)
    page = _phone(browser, stack, javascript=False)
    page.goto(stack["url"] + "s/beijing-ccs/website/")
    _answer_everything(page)
    # GIVEN a multiple-choice question answered beyond its limit, which only the server checks without script
    limited = page.locator('[data-type="multi"][data-max="3"]').first
    for box in limited.locator("input").all()[:4]:
        box.check()
    kept = {name: page.locator(f"#f-region-{name}").input_value() for name in ("p", "c")}
    assert kept == {"p": "浙江省", "c": "杭州市"}
    texts = page.locator("input[type=text]:not(#f-homepage), textarea")
    assert texts.count() and all(t.input_value() for t in texts.all())
    # WHEN it is posted and refused, and the respondent goes back
    page.locator("#submit").click()
    page.wait_for_load_state()
    assert "/api/submit" in page.url and "保留" in page.locator("body").inner_text()
    page.go_back()
    page.wait_for_load_state()
    # THEN the answers are still there
    assert {name: page.locator(f"#f-region-{name}").input_value() for name in ("p", "c")} == kept
    assert limited.locator("input:checked").count() == 4
    assert all(t.input_value() == "希望加强个人信息保护" for t in texts.all())
    assert page.outside == []
