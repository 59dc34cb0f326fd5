"""A self-hosted proof of work: the form asks for a signed challenge, finds a nonce, and sends both back.

Google's reCAPTCHA and similar services do not load in mainland China, so the check is our own: the challenge is
signed with the configured secret (nothing is stored), and finding the nonce costs a phone a second or two in the
background while the respondent reads the first questions. The challenge's issue time also tells how long the
respondent took, which is what the too-fast check needs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

MAX_AGE_MS = 3 * 24 * 3600 * 1000  # a draft may be finished days later; older proofs count as missing


def issue(secret: bytes, now_ms: int, bits: int) -> str:
    body = f"{now_ms}.{secrets.token_hex(8)}.{bits}"
    return f"{body}.{_sign(secret, body)}"


def check(secret: bytes, challenge: object, nonce: object, now_ms: int) -> tuple[str, int]:
    """("ok", issued_ms) for a good proof; otherwise a reason ("no_proof", "bad_proof") and 0."""
    if not challenge and not nonce:
        return "no_proof", 0
    if not isinstance(challenge, str) or not isinstance(nonce, str) or len(challenge) > 120 or len(nonce) > 32:
        return "bad_proof", 0
    parts = challenge.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
        return "bad_proof", 0
    body, signature = challenge.rpartition(".")[::2]
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return "bad_proof", 0
    issued, bits = int(parts[0]), int(parts[2])
    if not now_ms - MAX_AGE_MS <= issued <= now_ms + 60_000:
        return "bad_proof", 0
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    if int.from_bytes(digest, "big") >> (256 - bits) if bits else 0:
        return "bad_proof", 0
    return "ok", issued


def solve(challenge: str) -> str:
    """Find a nonce (what the form's script does; used by tests and the load test)."""
    bits = int(challenge.split(".")[2])
    n = 0
    while bits and int.from_bytes(hashlib.sha256(f"{challenge}:{n}".encode()).digest(), "big") >> (256 - bits):
        n += 1
    return str(n)


def _sign(secret: bytes, body: str) -> str:
    return hmac.new(secret, b"proof:" + body.encode(), hashlib.sha256).hexdigest()[:32]
