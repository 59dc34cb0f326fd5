"""Portal tokens: the private link a sponsor's page is opened with, and the generation that revokes old links.

A token is `<slug>.<generation>.<expires>.<sig>`, signed with the portal key (a Secrets Manager secret, read once
per container like the submit function's keys). It names no account and needs none: whoever holds the link is
the sponsor. The link carries it in the fragment (`<site_url>my/#<token>`), which a browser never sends to a
server, so it is in no access log and no Referer; the page sends it in the `x-portal-token` header.

A signature alone cannot be withdrawn, so each sponsor has a generation (`P#<slug>`, `portal`): a token is
valid only while its generation is the current one, and rotating adds one, which revokes every older link at
once. `parse` checks what the token itself proves; the caller reads the generation and decides "revoked".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from lambdas.survey import layout
from lambdas.survey.catalog import utc_iso

SIG_LENGTH = 32  # characters of the urlsafe base64 of the HMAC kept: 192 bits, a short enough link to paste
MAX_LENGTH = 160  # a slug of up to 100 characters and the rest; anything longer is not a token
LIFETIME_AFTER_CLOSE = timedelta(days=120)  # sponsors look at their numbers and prizes well after the window
REASONS = ("malformed", "bad_signature", "expired", "revoked")
_TOKEN = re.compile(r"([a-z0-9][a-z0-9-]{0,99})\.([1-9][0-9]{0,8})\.([0-9]{1,12})\.([A-Za-z0-9_-]{32})\Z")


class TokenError(Exception):
    """A token that opens nothing; `reason` is one of REASONS (never more than that reaches the caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claim:
    slug: str
    generation: int
    expires: int  # unix seconds


def _key(key: bytes | str) -> bytes:
    return key.encode() if isinstance(key, str) else key


def _signature(key: bytes | str, slug: str, generation: int, expires: int) -> str:
    mac = hmac.new(_key(key), f"portal|{slug}|{generation}|{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:SIG_LENGTH]


def sign(key: bytes | str, slug: str, generation: int, expires: int) -> str:
    """The token for one sponsor's generation, valid until `expires` (unix seconds)."""
    token = f"{slug}.{generation}.{expires}.{_signature(key, slug, generation, expires)}"
    if not _TOKEN.match(token):
        raise ValueError(f"cannot sign a token for slug {slug!r}, generation {generation}, expires {expires}")
    return token


def parse(key: bytes | str, token: str, now: datetime | float) -> Claim:
    """What a token proves on its own: signed with `key` and not expired at `now`. Raises TokenError."""
    m = _TOKEN.match(token or "") if len(token or "") <= MAX_LENGTH else None
    if m is None:
        raise TokenError("malformed")
    slug, generation, expires, sig = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    # Signature before expiry: a forged token learns nothing, not even whether its date would have passed.
    if not hmac.compare_digest(sig.encode(), _signature(key, slug, generation, expires).encode()):
        raise TokenError("bad_signature")
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if expires <= seconds:
        raise TokenError("expired")
    return Claim(slug, generation, expires)


def expires_for(closes: datetime) -> int:
    """The default expiry of an issued link: LIFETIME_AFTER_CLOSE after the window closes."""
    return int((closes + LIFETIME_AFTER_CLOSE).timestamp())


def link(site_url: str, token: str) -> str:
    """The sponsor's private page, the token in the fragment so that no server ever sees it in a URL."""
    return f"{site_url}my/#{token}"


class Generations:
    """The current generation of each sponsor's token, one item per sponsor (layout.portal_key)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def current(self, slug: str) -> int | None:
        """The current generation, or None if no link was ever issued. Consistent: a link revoked a moment ago
        must not open the page from a replica that has not heard of it."""
        item = self.client.get_item(TableName=self.table, Key=layout.portal_key(slug), ConsistentRead=True,
                                    ProjectionExpression="generation").get("Item")
        return int(item["generation"]["N"]) if item and "generation" in item else None

    def issue(self, slug: str) -> int:
        """The current generation, creating generation 1 where none exists (issuing again revokes nothing)."""
        answer = self.client.update_item(
            TableName=self.table, Key=layout.portal_key(slug), ReturnValues="ALL_NEW",
            UpdateExpression="SET generation = if_not_exists(generation, :one)",
            ExpressionAttributeValues={":one": {"N": "1"}})
        return int(answer["Attributes"]["generation"]["N"])

    def rotate(self, slug: str, now: datetime | None = None) -> int:
        """Revoke every link of `slug` issued so far; returns the new generation."""
        at = utc_iso(now or datetime.now(timezone.utc))
        answer = self.client.update_item(
            TableName=self.table, Key=layout.portal_key(slug), ReturnValues="ALL_NEW",
            UpdateExpression="ADD generation :one SET rotated = :at",
            ExpressionAttributeValues={":one": {"N": "1"}, ":at": {"S": at}})
        return int(answer["Attributes"]["generation"]["N"])

    def admit(self, key: bytes | str, token: str, now: datetime | float) -> Claim:
        """The claim of a token that opens its sponsor's page now; TokenError otherwise (reason "revoked" when
        its generation is not the current one). Reads nothing but the generation item."""
        claim = parse(key, token, now)
        if self.current(claim.slug) != claim.generation:
            raise TokenError("revoked")
        return claim
