"""Portal tokens: only the secretariat's key signs them, each names one sponsor, expires, and a rotation revokes
every older link."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lambdas.portal import token
from lambdas.portal.token import Generations, TokenError
from tests.lambdas.conftest import TABLE

KEY = "portal-test-key-" * 3
NOW = datetime(2020, 7, 25, 12, 0, tzinfo=timezone.utc)
LATER = int((NOW + timedelta(days=30)).timestamp())


def _reason(key: str, text: str, now: datetime = NOW) -> str:
    with pytest.raises(TokenError) as caught:
        token.parse(key, text, now)
    return caught.value.reason


def test_a_signed_token_parses_to_its_claim():
    t = token.sign(KEY, "beijing-ccs", 3, LATER)
    assert t.startswith("beijing-ccs.3.") and len(t.rsplit(".", 1)[1]) == token.SIG_LENGTH
    assert token.parse(KEY, t, NOW) == token.Claim("beijing-ccs", 3, LATER)
    assert token.parse(KEY.encode(), t, NOW.timestamp()).slug == "beijing-ccs"  # bytes key, unix seconds


def test_the_signature_is_the_contracts_hmac():
    import base64
    import hashlib
    import hmac

    mac = hmac.new(KEY.encode(), f"portal|a-b|1|{LATER}".encode(), hashlib.sha256).digest()
    assert token.sign(KEY, "a-b", 1, LATER).split(".")[3] == base64.urlsafe_b64encode(mac).decode().rstrip("=")[:32]


@pytest.mark.parametrize("position", [0, 10, 31])
def test_a_tampered_signature_is_refused(position):
    t = token.sign(KEY, "beijing-ccs", 1, LATER)
    head, sig = t.rsplit(".", 1)
    flipped = sig[:position] + ("A" if sig[position] != "A" else "B") + sig[position + 1:]
    assert _reason(KEY, f"{head}.{flipped}") == "bad_signature"


def test_another_slug_generation_expiry_or_key_is_refused():
    sig = token.sign(KEY, "beijing-ccs", 1, LATER).rsplit(".", 1)[1]
    assert _reason(KEY, f"guangdong-infosec.1.{LATER}.{sig}") == "bad_signature"
    assert _reason(KEY, f"beijing-ccs.2.{LATER}.{sig}") == "bad_signature"
    assert _reason(KEY, f"beijing-ccs.1.{LATER + 86400}.{sig}") == "bad_signature"
    assert _reason("another-key-" * 4, token.sign(KEY, "beijing-ccs", 1, LATER)) == "bad_signature"


def test_an_expired_token_is_refused_and_a_forged_one_says_only_that_it_is_forged():
    past = int((NOW - timedelta(seconds=1)).timestamp())
    assert _reason(KEY, token.sign(KEY, "beijing-ccs", 1, past)) == "expired"
    assert _reason(KEY, token.sign(KEY, "beijing-ccs", 1, int(NOW.timestamp()))) == "expired"  # the instant itself
    forged = token.sign("not-the-key-" * 4, "beijing-ccs", 1, past)
    assert _reason(KEY, forged) == "bad_signature"


@pytest.mark.parametrize("text", [
    "", "beijing-ccs", "beijing-ccs.1.123", "beijing-ccs.1.123.short", "Beijing.1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "beijing-ccs.0.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "beijing-ccs.01.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "beijing-ccs.1.-5.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "beijing-ccs.1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "beijing-ccs.1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x", "a.b.c.d", "x" * 1000, "beijing-ccs.1.1.AAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAA",
    "beijing-ccs.1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
])
def test_malformed_tokens_are_refused_before_any_signature_is_computed(text):
    assert _reason(KEY, text) == "malformed"


def test_sign_refuses_what_parse_would_call_malformed():
    with pytest.raises(ValueError):
        token.sign(KEY, "Not A Slug", 1, LATER)
    with pytest.raises(ValueError):
        token.sign(KEY, "ok", 0, LATER)


def test_the_link_carries_the_token_in_its_fragment_and_lives_past_the_close():
    closes = datetime(2020, 8, 1, tzinfo=timezone(timedelta(hours=8)))
    t = token.sign(KEY, "ok", 1, token.expires_for(closes))
    assert token.link("https://survey.example.org/", t) == f"https://survey.example.org/my/#{t}"
    assert token.expires_for(closes) == int((closes + timedelta(days=120)).timestamp())


# ---- generations in the table ------------------------------------------------------------------------------------

def test_issue_creates_generation_one_once_and_rotation_revokes_older_links(ddb):
    gens = Generations(ddb, TABLE)
    assert gens.current("beijing-ccs") is None
    assert gens.issue("beijing-ccs") == 1 and gens.issue("beijing-ccs") == 1  # issuing again revokes nothing
    first = token.sign(KEY, "beijing-ccs", 1, LATER)
    assert gens.admit(KEY, first, NOW).generation == 1
    assert gens.rotate("beijing-ccs", NOW) == 2
    with pytest.raises(TokenError) as caught:
        gens.admit(KEY, first, NOW)
    assert caught.value.reason == "revoked"
    second = token.sign(KEY, "beijing-ccs", 2, LATER)
    assert gens.admit(KEY, second, NOW).generation == 2 and gens.issue("beijing-ccs") == 2
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "P#beijing-ccs"}, "sk": {"S": "portal"}})["Item"]
    assert item["generation"] == {"N": "2"} and item["rotated"] == {"S": "2020-07-25T12:00:00Z"}


def test_a_sponsor_never_issued_a_link_has_none_that_opens(ddb):
    gens = Generations(ddb, TABLE)
    with pytest.raises(TokenError) as caught:
        gens.admit(KEY, token.sign(KEY, "guangdong-infosec", 1, LATER), NOW)
    assert caught.value.reason == "revoked"
    assert ddb.scan(TableName=TABLE)["Count"] == 0  # admitting reads; it never writes


def test_rotating_one_sponsor_leaves_the_others_links_alone(ddb):
    gens = Generations(ddb, TABLE)
    gens.issue("a-1")
    gens.issue("b-2")
    gens.rotate("a-1")
    assert gens.admit(KEY, token.sign(KEY, "b-2", 1, LATER), NOW).slug == "b-2"
    assert gens.current("a-1") == 2
