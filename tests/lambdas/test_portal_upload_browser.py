"""A presigned POST from a real browser on the local stack: the page's Content-Security-Policy lets it post to the
upload bucket's origin (moto's S3 there), the bucket's CORS rule lets it read the answer, and a post to any other
origin is blocked by the policy before it leaves the page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lambdas import local
from tests.lambdas.test_local import _api, _portal_token

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

POST = """async ([url, fields, mode]) => {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  body.append("file", new Blob([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10])], {type: "image/png"}), "shot.png");
  try {
    const r = await fetch(url, {method: "POST", body, mode, credentials: "omit"});
    return {type: r.type, status: r.status};
  } catch (e) { return {error: String(e)}; }
}"""


@pytest.fixture(scope="module")
def stack(open_catalog: Path, tmp_path_factory: pytest.TempPathFactory):
    site = tmp_path_factory.mktemp("upload") / "site"
    shutil.copytree(open_catalog.parent, site)
    (site / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    with local.stack(site, port=0, sweep_every=3600) as (stk, _):
        yield stk


@pytest.fixture(scope="module")
def page(stack):
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium at /usr/bin/chromium")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 360, "height": 740})
        tab.goto(stack.url)
        yield tab
        browser.close()


def test_the_page_posts_an_upload_to_the_bucket_and_reads_the_answer(stack, page):
    tok = _portal_token(stack, "beijing-ccs")
    _, post = _api(stack, "POST", "api/portal/uploads", tok, {"content_type": "image/png", "size": 8})
    answer = page.evaluate(POST, [post["url"], post["fields"], "cors"])
    assert answer == {"type": "cors", "status": 204}, answer  # CORS answered for the site's origin
    status, stored = _api(stack, "POST", "api/portal/requests", tok, {"kind": "placement", "fields": {
        "where": "https://www.example.org/", "when": "2020-07-22", "upload": post["key"]}})
    assert status == 201, stored


def test_the_page_may_post_nowhere_else(stack, page):
    tok = _portal_token(stack, "beijing-ccs")
    _, post = _api(stack, "POST", "api/portal/uploads", tok, {"content_type": "image/png", "size": 8})
    elsewhere = post["url"].replace("127.0.0.1", "localhost")  # the same server under another origin
    answer = page.evaluate(POST, [elsewhere, post["fields"], "no-cors"])
    assert "error" in answer, json.dumps(answer)  # refused by connect-src before any request
