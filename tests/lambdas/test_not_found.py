"""A page that does not exist answers the site's own 404 page, on AWS (CloudFront's custom error response) and on
the local stack (which reads the same setting from the template), never S3's XML or Python's English page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from lambdas import local

NOT_FOUND_PAGE = "<!doctype html><html lang=\"zh-CN\"><title>页面不存在</title><h1>页面不存在</h1></html>"


def test_the_distribution_answers_a_missing_page_with_the_sites_404_page():
    tpl = local.template()
    dist = tpl["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    [missing] = [r for r in dist["CustomErrorResponses"] if r["ErrorCode"] == 404]
    assert missing["ResponsePagePath"] == "/404.html" and missing["ResponseCode"] == 404
    assert local.error_pages(tpl) == {404: "/404.html"}


def test_s3_says_404_not_403_for_a_missing_key():
    # Without s3:ListBucket the bucket answers a missing key with 403 (AccessDenied), which no 404 rule catches.
    # A 403 rule is no way out: it would also replace the API's own 403s (the window is closed) with a page.
    tpl = local.template()
    statements = tpl["Resources"]["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reads = [s for s in statements if s["Effect"] == "Allow"]
    listing = [s for s in reads if "s3:ListBucket" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert listing and all("CanonicalUser" in s["Principal"] for s in listing)
    dist = tpl["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert not [r for r in dist["CustomErrorResponses"] if r["ErrorCode"] == 403]


@pytest.fixture
def served(open_catalog, tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(open_catalog.parent, site)
    (site / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    (site / "404.html").write_text(NOT_FOUND_PAGE, encoding="utf-8")
    with local.stack(site, port=0, sweep_every=3600) as (stk, _):
        yield stk


@pytest.mark.parametrize("path", ["no-such-page/", "sponsors/nobody/", "assets/missing.png"])
def test_the_local_server_answers_a_missing_page_with_the_sites_404_page(served, path):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(served.url + path, timeout=10)
    response = caught.value
    assert response.code == 404
    assert response.headers["Content-Type"].startswith("text/html") and "charset=utf-8" in response.headers["Content-Type"]
    assert response.read().decode("utf-8") == NOT_FOUND_PAGE
    expected = local.security_headers(local.template())
    assert {k: response.headers[k] for k in expected} == expected


def test_a_missing_api_route_still_answers_json_locally(served):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(served.url + "api/no-such-route", timeout=10)
    assert caught.value.code == 404 and json.loads(caught.value.read())


def test_the_access_log_names_no_client_address_for_pages_misses_or_refusals(served, capsys):
    """Raw addresses are never logged: not for the API, nor a page, a missing page or a refused request."""
    for path in ("", "no-such-page/", "api/counts"):
        try:
            urllib.request.urlopen(served.url + path, timeout=10).read()
        except urllib.error.HTTPError:
            pass
    request = urllib.request.Request(served.url + "api/submit", b"{}", method="POST", headers={"Content-Length": "x"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    assert any("/api/counts" in line for line in lines)  # the log is on: the check below means something
    assert not any("127.0.0.1 -" in line or line.startswith("127.0.0.1") for line in lines), lines
