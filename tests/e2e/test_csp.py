"""Every kind of page works under the Content-Security-Policy the deployment sends: no inline script, no inline
event handler, no `javascript:` URL anywhere in the build, and no violation reported when Chromium opens the pages
from a server that sends the policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from lambdas import local
from tests.helpers import Quiet, serving

# The headers the distribution adds to every response, read from its response-headers policy in the template.
EDGE_HEADERS = local.security_headers(local.template())
CSP = EDGE_HEADERS.get("Content-Security-Policy", "")

# Script element types a browser does not execute: data blocks.
DATA_BLOCKS = {"application/json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class _InlineCode(HTMLParser):
    """Collects inline executable scripts, on* attributes and javascript: URLs, each with its line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = dict(attrs)
        if tag == "script" and "src" not in values and (values.get("type") or "").strip().lower() not in DATA_BLOCKS:
            self.found.append(f"line {line}: inline <script{' type=' + values['type'] if values.get('type') else ''}>")
        for name, value in attrs:
            if re.fullmatch(r"on[a-z]+", name):
                self.found.append(f"line {line}: <{tag} {name}=...>")
            elif name in URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"line {line}: <{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def inline_code(text: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(text)
    parser.close()
    return parser.found


def test_the_policy_refuses_inline_script():
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in CSP.split(";") if d.strip())
    assert directives.get("script-src") == "'self'" and directives.get("object-src") == "'none'", CSP


def test_the_scanner_finds_inline_code():
    found = inline_code('<script>x()</script><script src="a.js"></script><script type="application/json">{}</script>'
                        '<button onclick="x()">b</button><a href=" JavaScript:x()">a</a><svg><g onload="x()"/></svg>')
    assert [f.split(": ", 1)[1] for f in found] == [
        "inline <script>", "<button onclick=...>", "<a href=' JavaScript:x()'>", "<g onload=...>"]


def test_no_built_page_or_drawing_has_inline_code(built_small: Path):
    site = built_small / "site"
    documents = sorted([*site.rglob("*.html"), *site.rglob("*.svg")])
    assert len(documents) > 30
    offenders = [f"{p.relative_to(site)} {hit}" for p in documents for hit in inline_code(p.read_text(encoding="utf-8"))]
    assert offenders == [], "inline code the CSP would block:\n" + "\n".join(offenders)


class _WithPolicy(Quiet):
    """A static server that sends the edge's headers on every response, and the site's 404 page for a missing path so that
    page is opened under the policy too."""

    def end_headers(self) -> None:
        for name, value in EDGE_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture(scope="module")
def strict_url(built_small: Path):
    with serving(built_small / "site", _WithPolicy) as url:
        yield url


# Runs in every document before the page's own code; init scripts come from the browser, not the page, so the
# policy does not apply to them.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolation([e.effectiveDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber, location.pathname].join(" "));
});
"""


@pytest.fixture
def phone(browser: Any, strict_url: str):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    violations: list[str] = []
    context.expose_function("cspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.violations = violations  # type: ignore[attr-defined]
    yield page
    context.close()


def _settle(page: Any) -> None:
    """Wait for the page's scripts and lazy images, so late violations are reported too."""
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")


def test_the_harness_reports_a_violation(phone, strict_url):
    """GIVEN a page under the policy WHEN an inline script is added THEN the test sees the violation: the header is
    sent and the listeners work, so an empty list below means something."""
    phone.goto(strict_url + "slogans/")
    phone.evaluate("const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s)")
    _settle(phone)
    assert phone.evaluate("window.ran") is None
    assert any("script-src" in v for v in phone.violations), phone.violations


# Pages outside the navigation, one of each kind; the navigation's own pages are all opened below.
PAGES = {
    "sponsor": "sponsors/guangdong-cyber/",
    "certificate": "sponsors/shenzhen-media/certificate/",
    "invitation": "sponsors/guangdong-cyber/invitation/",
    "form": "s/guangdong-cyber/wechat/",
    "campaign form": "survey/",
    "second questionnaire form": "s/shenzhen-media/app/pro/",
    "thanks": "thanks/",
    "404": "no-such-page/",
}


def _open(page: Any, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, url
    assert response.headers["content-security-policy"] == CSP
    _settle(page)


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_runs_without_a_policy_violation(phone, strict_url, path):
    _open(phone, strict_url + path, 404 if path == "no-such-page/" else 200)
    assert phone.violations == []


def test_every_page_in_the_navigation_runs_without_a_policy_violation(phone, strict_url):
    _open(phone, strict_url)
    hrefs = phone.eval_on_selector_all(".md-tabs a[href]", "links => links.map(a => a.href)")
    assert {strict_url + p for p in ("", "progress/", "slogans/", "materials/", "guide/")} <= set(hrefs)
    for href in hrefs:
        _open(phone, href)
    assert phone.violations == []


def test_an_old_slug_still_forwards_with_its_query_string(phone, strict_url):
    phone.goto(strict_url + "s/beijing-old/wechat/?from=poster")
    phone.wait_for_url(strict_url + "s/beijing-ccs/wechat/?from=poster")
    phone.goto(strict_url + "sponsors/beijing-old/certificate/#top")
    phone.wait_for_url(strict_url + "sponsors/beijing-ccs/certificate/#top")
    _settle(phone)
    assert phone.violations == []


def test_the_form_fills_and_validates_under_the_policy(phone, strict_url, built_small):
    # The sample's survey window is in the past: the page's clock is set inside it, so the script shows the form.
    entry = (built_small / "site/s/beijing-ccs/website/index.html").read_text(encoding="utf-8")
    opens = int(re.search(r'data-opens="(\d+)"', entry).group(1))  # type: ignore[union-attr]
    phone.clock.set_fixed_time(opens / 1000 + 3600)
    phone.goto(strict_url + "s/beijing-ccs/website/")
    bar = phone.locator("#progress")
    bar.wait_for(state="visible")  # the script runs: it shows the progress bar
    total = int(bar.get_attribute("max") or 0)
    assert total > 0 and phone.locator("#progress-text").inner_text() == f"已完成 0 / {total} 题"
    phone.locator("#q-gender label").first.click()
    phone.wait_for_function("document.getElementById('progress').value === 1")
    assert phone.locator("#progress-text").inner_text() == f"已完成 1 / {total} 题"
    phone.locator("#submit").click()
    assert phone.locator("#e-region").inner_text() == "请选择省份"
    assert phone.evaluate("document.activeElement.id") == "f-region-p"
    _settle(phone)
    assert phone.violations == []
