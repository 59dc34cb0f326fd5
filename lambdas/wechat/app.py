"""The WeChat signature function: GET /api/wechat/signature?url=<page> signs one page of the site for the official
account's JS-SDK, so that WeChat shows the campaign's share card (title, description, image) when a page is sent
to a friend or posted to Moments.

Off until the campaign configures its official account (the template's WeChatAppId, and the account's AppSecret
put into the secret the template creates): until then it answers 404 and the pages load nothing from WeChat.

The signature is WeChat's: the SHA-1 of "jsapi_ticket=…&noncestr=…&timestamp=…&url=…" for the page's address
without its #fragment. The ticket comes with the account's access token; both live two hours and WeChat counts how
often they are fetched, so a container keeps them until five minutes before they expire, and fetches the "stable"
access token, which one container's refresh does not take away from another.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from lambdas.survey import catalog as catalogs

logger = Logger(service="wechat")
app = APIGatewayHttpResolver()

WECHAT_API = "https://api.weixin.qq.com/cgi-bin/"
REFRESH_BEFORE = 300  # seconds before a token or ticket expires that a container fetches a new one
MAX_URL = 1024
MIN_SECRET = 16  # an AppSecret is 32 characters; the template's placeholder is shorter, so "not set yet" is plain


class NotConfigured(Exception):
    """The campaign has not set up its official account: no share card, and nothing to sign."""


class WeChatError(Exception):
    """WeChat refused or could not be reached; the page keeps WeChat's default card."""


@dataclass(frozen=True)
class Config:
    app_id: str
    secret_arn: str
    site_url: str  # only the site's own pages are signed

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        app_id, secret_arn = env.get("SURVEY_WECHAT_APP_ID", ""), env.get("SURVEY_WECHAT_SECRET", "")
        if not app_id or not secret_arn:
            raise NotConfigured("no WeChatAppId in the stack: the share card is off")
        path = Path(env.get("SURVEY_CATALOG") or Path(__file__).parent.parent / "sponsors.json")
        return cls(app_id, secret_arn, catalogs.load(path).site_url)


Fetch = Callable[[str, bytes | None], dict[str, Any]]  # url, JSON body (None: GET) -> WeChat's JSON answer


def fetch(url: str, body: bytes | None = None) -> dict[str, Any]:
    """One call to WeChat's API, with a short timeout: a page waits for this."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310 - a fixed https host
            answer = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise WeChatError(f"WeChat did not answer: {exc}") from exc
    if answer.get("errcode"):
        raise WeChatError(f"WeChat answered {answer.get('errcode')}: {answer.get('errmsg', '')}")
    return answer


class Signer:
    """Signs pages with the account's JS-SDK ticket, which it keeps until shortly before it expires."""

    def __init__(self, config: Config, app_secret: str, call: Fetch = fetch, clock: Callable[[], float] = time.time,
                 nonce: Callable[[], str] = lambda: secrets.token_hex(8)) -> None:
        self.config, self.app_secret, self.call, self.clock, self.nonce = config, app_secret, call, clock, nonce
        self._ticket, self._ticket_until = "", 0.0

    def ticket(self) -> str:
        now = self.clock()
        if now < self._ticket_until:
            return self._ticket
        token = self.call(WECHAT_API + "stable_token", json.dumps({
            "grant_type": "client_credential", "appid": self.config.app_id, "secret": self.app_secret,
            "force_refresh": False}).encode())
        answer = self.call(WECHAT_API + "ticket/getticket?" + urllib.parse.urlencode(
            {"access_token": token["access_token"], "type": "jsapi"}), None)
        lifetime = min(int(token.get("expires_in", 7200)), int(answer.get("expires_in", 7200)))
        self._ticket, self._ticket_until = answer["ticket"], now + max(60, lifetime - REFRESH_BEFORE)
        return self._ticket

    def sign(self, url: str) -> dict[str, Any]:
        nonce, stamp = self.nonce(), int(self.clock())
        text = f"jsapi_ticket={self.ticket()}&noncestr={nonce}&timestamp={stamp}&url={url}"
        return {"appId": self.config.app_id, "timestamp": stamp, "nonceStr": nonce,
                "signature": hashlib.sha1(text.encode()).hexdigest(), "url": url}


def page_url(raw: str, site_url: str) -> str | None:
    """The page to sign, without its fragment, if it is one of the site's own pages; else None."""
    url = raw.split("#", 1)[0]
    if not url or len(url) > MAX_URL or not url.startswith(site_url):
        return None
    return url


def read_secret(arn: str, client: Any | None = None) -> str:
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=arn).get("SecretString", "")
    if len(value) < MIN_SECRET:
        raise NotConfigured(f"secret {arn} holds no AppSecret yet: put the official account's AppSecret into it")
    return value


signer: Signer | None = None


def configure(new: Signer | None) -> None:
    global signer
    signer = new


def _signer() -> Signer:
    global signer
    if signer is None:
        config = Config.from_env()
        signer = Signer(config, read_secret(config.secret_arn))
    return signer


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False), {"Cache-Control": "no-store"})


@app.get("/api/wechat/signature")
def signature() -> Response:
    try:
        s = _signer()
    except NotConfigured as exc:
        logger.info("share card off", extra={"reason": str(exc)})
        return _json(404, {"error": "not_configured", "message": "未配置微信公众号分享"})
    url = page_url((app.current_event.query_string_parameters or {}).get("url", ""), s.config.site_url)
    if url is None:
        return _json(400, {"error": "invalid", "message": "只能为本站页面签名", "fields": [
            {"field": "url", "message": f"应为以 {s.config.site_url} 开头、不超过 {MAX_URL} 个字符的本站页面地址"}]})
    try:
        return _json(200, s.sign(url))
    except WeChatError as exc:
        logger.warning("wechat unavailable", extra={"error": str(exc)[:200]})
        return _json(503, {"error": "unavailable", "message": "暂时无法获取微信签名"})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
