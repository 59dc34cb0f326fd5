"""A self-hosted proof of work, bound to one submission: the form asks for a challenge for its submission id, finds
a nonce, and sends both back with that id.

Google's reCAPTCHA and similar services do not load in mainland China, so the check is our own. A challenge is
signed with the challenge key and carries a tag of the submission id it was issued for, so it is spent by the one
conditional write that stores that submission: presented with any other id it is `foreign_proof`, and presented
again with the same id it is the same submission (a retry, never a second sample). Nothing is stored per challenge.

A challenge expires after the rules' `proof_hours`. A draft may outlive it: the form then asks for a renewal,
sending the old challenge, and the new one keeps the old one's start time, so the time the respondent took (the
too-fast check) still runs from when the form was first opened.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

FUTURE_MS = 60_000  # clock skew between functions tolerated for an issue time ahead of now
RENEW_WITHIN_MS = 7 * 24 * 3600 * 1000  # a renewal keeps a start time at most this old


def issue(key: bytes, submission_id: str, now_ms: int, bits: int, started_ms: int | None = None) -> str:
    """A challenge for `submission_id`: "issued.started.bits.tag.random.signature"."""
    body = f"{now_ms}.{started_ms or now_ms}.{bits}.{tag(submission_id)}.{secrets.token_hex(6)}"
    return f"{body}.{_sign(key, body)}"


def tag(submission_id: str) -> str:
    return hashlib.sha256(b"submission:" + submission_id.encode()).hexdigest()[:12]


def _parts(key: bytes, challenge: object) -> list[str] | None:
    """The fields of a challenge this key signed, or None."""
    if not isinstance(challenge, str) or len(challenge) > 120 or not challenge.isascii():
        return None
    parts = challenge.split(".")
    if len(parts) != 6 or not all(p.isdigit() and p.isascii() for p in parts[:3]):
        return None
    body, _, signature = challenge.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _sign(key, body).encode()):
        return None
    return parts


def renewal_start(key: bytes, old: object, submission_id: str, now_ms: int) -> int | None:
    """The start time a renewal keeps: the old challenge's, if this key signed it for the same submission."""
    parts = _parts(key, old)
    if parts is None or parts[3] != tag(submission_id):
        return None
    started = int(parts[1])
    return started if now_ms - RENEW_WITHIN_MS <= started <= now_ms + FUTURE_MS else None


def check(key: bytes, challenge: object, nonce: object, submission_id: str, now_ms: int, max_age_ms: int
          ) -> tuple[str, int]:
    """(verdict, started_ms): "ok" with the start time for a good proof, else no_proof, bad_proof, expired_proof
    or foreign_proof, and 0."""
    if not challenge and not nonce:
        return "no_proof", 0
    if not isinstance(nonce, str) or len(nonce) > 32 or not nonce.isascii():
        return "bad_proof", 0
    parts = _parts(key, challenge)
    if parts is None:
        return "bad_proof", 0
    issued, started, bits = int(parts[0]), int(parts[1]), int(parts[2])
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    if bits > 256 or (bits and int.from_bytes(digest, "big") >> (256 - bits)) or started > issued:
        return "bad_proof", 0
    if parts[3] != tag(submission_id):
        return "foreign_proof", 0
    if not now_ms - max_age_ms <= issued <= now_ms + FUTURE_MS:
        return "expired_proof", 0
    return "ok", started


def solve(challenge: str) -> str:
    """Find a nonce (what the form's script does; used by tests, the load test and the attack kit)."""
    bits = int(challenge.split(".")[2])
    n = 0
    while bits and int.from_bytes(hashlib.sha256(f"{challenge}:{n}".encode()).digest(), "big") >> (256 - bits):
        n += 1
    return str(n)


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, b"proof:" + body.encode(), hashlib.sha256).hexdigest()[:32]
