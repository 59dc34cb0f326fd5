"""The WeChat signature function: WeChat's own signature, its ticket kept and renewed, only the site's pages signed,
and off (404, nothing fetched) until the campaign configures its official account."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lambdas import local
from lambdas.wechat import app as wechat
from tests.lambdas.conftest import EVENT

SITE = "https://survey.example.org/"
CONFIG = wechat.Config("wx0123456789abcdef", "arn:aws-cn:secretsmanager:cn-north-1:1:secret:wechat", SITE)
# WeChat's worked example of a JS-SDK signature (its JS-SDK documentation, appendix 1).
EXAMPLE = {"ticket": "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
           "nonce": "Wm3WZYTPz0wzccnW", "timestamp": 1414587457, "url": "http://mp.weixin.qq.com?params=value",
           "signature": "0f9de62fce790f9a083d5c99e95740ceb90c27ed"}


class FakeWeChat:
    """WeChat's two calls, counted; each token and ticket lives `lifetime` seconds."""

    def __init__(self, lifetime: int = 7200, fail: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.lifetime, self.fail, self.issued = lifetime, fail, 0

    def __call__(self, url: str, body: bytes | None) -> dict[str, Any]:
        self.calls.append((url, json.loads(body) if body else None))
        if self.fail:
            raise wechat.WeChatError("WeChat answered 40164: invalid ip")
        if url.endswith("stable_token"):
            return {"access_token": "token", "expires_in": self.lifetime}
        self.issued += 1
        return {"errcode": 0, "ticket": f"ticket-{self.issued}", "expires_in": self.lifetime}


def test_the_signature_is_wechats_own():
    class Clock:
        now = EXAMPLE["timestamp"]

    def call(url: str, body: bytes | None) -> dict[str, Any]:
        return {"access_token": "t", "expires_in": 7200} if body else {"ticket": EXAMPLE["ticket"], "expires_in": 7200}

    signer = wechat.Signer(CONFIG, "s" * 32, call, clock=lambda: Clock.now, nonce=lambda: EXAMPLE["nonce"])
    signed = signer.sign(EXAMPLE["url"])
    assert signed == {"appId": CONFIG.app_id, "timestamp": EXAMPLE["timestamp"], "nonceStr": EXAMPLE["nonce"],
                      "signature": EXAMPLE["signature"], "url": EXAMPLE["url"]}


def test_the_ticket_is_kept_until_shortly_before_it_expires_and_fetched_with_the_stable_token():
    fake, now = FakeWeChat(), [1000.0]
    signer = wechat.Signer(CONFIG, "s" * 32, fake, clock=lambda: now[0])
    for _ in range(50):
        signer.sign(SITE)
    assert len(fake.calls) == 2  # one token, one ticket, for fifty pages
    (token_url, body), (ticket_url, _) = fake.calls
    assert token_url.endswith("/cgi-bin/stable_token") and body == {
        "grant_type": "client_credential", "appid": CONFIG.app_id, "secret": "s" * 32, "force_refresh": False}
    assert "ticket/getticket?access_token=token&type=jsapi" in ticket_url
    now[0] += 7200 - wechat.REFRESH_BEFORE - 1
    signer.sign(SITE)
    assert len(fake.calls) == 2
    now[0] += 2
    assert signer.ticket() == "ticket-2" and len(fake.calls) == 4


@pytest.mark.parametrize("url, signed", [
    (SITE + "s/guangdong-cyber/wechat/", SITE + "s/guangdong-cyber/wechat/"),
    (SITE + "thanks/#from=guangdong-cyber/wechat", SITE + "thanks/"),
    ("https://elsewhere.example.com/", None),
    ("https://survey.example.org.evil.example/", None),
    (SITE + "x" * 2000, None),
    ("", None),
])
def test_only_the_sites_own_pages_are_signed_without_their_fragment(url, signed):
    assert wechat.page_url(url, SITE) == signed


def _get(url: str | None) -> dict[str, Any]:
    e = json.loads(json.dumps(EVENT))
    path = "/api/wechat/signature"
    e.update(rawPath=path, routeKey=f"GET {path}", queryStringParameters={"url": url} if url is not None else None,
             body=None)
    e["requestContext"]["http"].update(method="GET", path=path)
    result = wechat.handler(e, local.Context("wechat", "req-1"))
    return {"status": result["statusCode"], "body": json.loads(result["body"]),
            "cache": {k.lower(): v for k, v in result["headers"].items()}.get("cache-control")}


@pytest.fixture
def signer():
    fake = FakeWeChat()
    wechat.configure(wechat.Signer(CONFIG, "s" * 32, fake))
    yield fake
    wechat.configure(None)


def test_the_handler_signs_a_page(signer):
    answer = _get(SITE + "sponsors/guangdong-cyber/#top")
    assert answer["status"] == 200 and answer["cache"] == "no-store"
    assert answer["body"]["url"] == SITE + "sponsors/guangdong-cyber/" and len(answer["body"]["signature"]) == 40
    assert _get("https://elsewhere.example.com/")["status"] == 400 and _get(None)["status"] == 400


def test_when_wechat_refuses_the_page_keeps_its_default_card(signer):
    signer.fail = True
    answer = _get(SITE)
    assert answer["status"] == 503 and answer["body"]["error"] == "unavailable"


def test_without_an_official_account_it_is_off(monkeypatch):
    wechat.configure(None)
    monkeypatch.delenv("SURVEY_WECHAT_APP_ID", raising=False)
    monkeypatch.delenv("SURVEY_WECHAT_SECRET", raising=False)
    answer = _get(SITE)
    assert answer["status"] == 404 and answer["body"]["error"] == "not_configured"
    assert wechat.signer is None  # nothing kept, nothing fetched


def test_the_placeholder_secret_counts_as_not_configured():
    class Secrets:
        def __init__(self, value: str) -> None:
            self.value = value

        def get_secret_value(self, SecretId: str) -> dict[str, str]:  # noqa: N803 - boto3's name
            return {"SecretString": self.value}

    with pytest.raises(wechat.NotConfigured, match="put the official account's AppSecret"):
        wechat.read_secret("arn:w", Secrets("unset"))
    assert wechat.read_secret("arn:w", Secrets("a" * 32)) == "a" * 32


# ---- the template ----------------------------------------------------------------------------------------------


def test_the_function_exists_only_for_a_configured_account_and_may_only_read_its_secret():
    tpl = local.template()
    res = tpl["Resources"]
    fn = res["WeChatFunction"]
    assert fn["Condition"] == "HasWeChat" and res["WeChatAppSecret"]["Condition"] == "HasWeChat"
    assert tpl["Parameters"]["WeChatAppId"]["Default"] == ""
    [statement] = [s for p in fn["Properties"]["Policies"] for s in p["Statement"]]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"] and statement["Resource"] == {"Ref": "WeChatAppSecret"}
    env = fn["Properties"]["Environment"]["Variables"]
    assert env == {"SURVEY_WECHAT_APP_ID": {"Ref": "WeChatAppId"}, "SURVEY_WECHAT_SECRET": {"Ref": "WeChatAppSecret"}}
    assert local.routes(tpl)["GET /api/wechat/signature"] == "lambdas.wechat.app.handler"
    assert fn["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "WeChatLogs"}
    assert res["WeChatLogs"]["Condition"] == "HasWeChat"


def test_the_pages_csp_loads_nothing_from_wechat_by_default():
    csp = local.security_headers(local.template())["Content-Security-Policy"]
    assert "wx.qq.com" not in csp and "script-src 'self';" in csp


def test_the_local_stack_answers_not_configured(open_catalog, tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(open_catalog.parent, site)
    (site / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    wechat.configure(None)
    with local.stack(Path(site), port=0, sweep_every=3600) as (stk, _):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(stk.url + "api/wechat/signature?url=" + stk.url, timeout=10)
    assert caught.value.code == 404 and json.loads(caught.value.read())["error"] == "not_configured"


from tests.lambdas.test_environments import _get as _event, _start, aws  # noqa: E402,F401 - the template's stack


def test_the_function_starts_with_the_templates_environment_and_is_off_by_default(aws):
    answer = _start(aws, "WeChatFunction", _event("/api/wechat/signature", {"url": SITE}, {}))
    assert answer["statusCode"] == 404 and json.loads(answer["body"])["error"] == "not_configured"
