"""The attack kit at its tiny size (tests/bench/bench_attack.py): a bot farm against the real local stack over
loopback HTTP, one fresh stack per attack. The validity rules' targets are asserted from the figures, counts only,
never a time: one address is never credited more than the cap, a replayed challenge is never valid twice, and
honest respondents behind one address under the cap are never flagged."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from tests.bench.bench_attack import SIZES, main

pytestmark = pytest.mark.e2e

TINY = SIZES["tiny"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    figures = tmp_path_factory.mktemp("attack") / "figures.json"
    printed = io.StringIO()
    with redirect_stdout(printed):
        code = main(["--size", "tiny", "--json", str(figures)])
    report = json.loads(Path(figures).read_text(encoding="utf-8"))
    return {"code": code, "printed": printed.getvalue(), "report": report,
            "attacks": {a["key"]: a for a in report["attacks"]}}


def test_the_script_prints_its_table_and_a_line_per_target(run):
    printed = run["printed"]
    print(printed)  # shown with -s or on failure: the whole picture beside the failed assertion
    assert "| attack | submissions | challenges | before: credited | after: credited |" in printed
    assert printed.count("| PASS |") + printed.count("| **FAIL** |") == 3
    assert run["report"]["problems"] == [], run["report"]["problems"]
    assert run["code"] == 0


def test_one_address_is_never_credited_more_than_the_cap(run):
    cap = run["report"]["rules"]["cap"]
    assert cap == TINY.cap
    assert all(a["max_valid_per_address"] <= cap for a in run["attacks"].values())
    # The strong bot pays a fresh proof for every submission: credited stops at the cap, the rest is kept.
    strong = run["attacks"]["e"]
    assert strong["submissions"] == strong["stored"] == cap + TINY.strong_over
    assert strong["after"] == cap
    assert strong["reasons"] == {"address_volume": TINY.strong_over}
    # Claiming other viewer addresses changes nothing: the stand-in edge overwrites the header.
    forged = run["attacks"]["c"]
    assert forged["addresses_seen"] == 1 and forged["after"] == 1


def test_a_replayed_challenge_is_never_valid_twice(run):
    assert all(a["max_valid_per_challenge"] <= 1 for a in run["attacks"].values())
    replay = run["attacks"]["a"]
    assert replay["challenges"] == 1 and replay["after"] == 1
    assert replay["before"] == replay["stored"] == TINY.replay + 1  # what the previous rules credited
    assert replay["statuses"].get("409") == 1  # its own id with other answers
    shared = run["attacks"]["b"]
    assert shared["after"] == shared["challenges"] == TINY.shared_bots


def test_honest_users_under_the_cap_are_never_flagged(run):
    honest = run["attacks"]["honest"]
    assert honest["honest"] == TINY.honest < run["report"]["rules"]["cap"]
    assert honest["honest_flagged"] == 0
    assert honest["after"] == TINY.honest


def test_each_attack_is_credited_what_the_rules_allow(run):
    expected = {"d": 0, "g2": 1, "h1": 0, "g1": TINY.patterns, "g3": TINY.patterns,
                "f": TINY.addresses * TINY.per_address, "h2": 0}  # a scripted form post with a proof but no device
    assert {k: run["attacks"][k]["after"] for k in expected} == expected
    # Under the previous rules every stored submission with a solved proof was a valid sample.
    assert all(a["before"] == a["stored"] for a in run["attacks"].values())
