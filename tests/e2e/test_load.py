"""A small, bounded run of the load test (tests/bench/load_test.py): the real local stack over loopback HTTP, with
throttles injected into the submit handler's DynamoDB client, concurrent duplicates and responses lost after the
commit. Every accepted submission must be stored once and counted once."""

from __future__ import annotations

import pytest

from tests.bench.load_test import Config, markdown, run

pytestmark = pytest.mark.e2e

# Each submission's proof is solved for its own id at 16 bits: about ten seconds of CPU for 200, outside the timings.
SMALL = Config(submissions=200, workers=8, throttle_rate=0.10, retry_rate=0.30, lost_rate=0.10, max_seconds=90,
               seed=20200722)


def test_a_bounded_burst_stores_and_counts_every_accepted_submission_once():
    r = run(SMALL)
    print(markdown(r))  # shown with -s or on failure: the whole picture beside the failed assertion
    assert r["unsent"] == 0 and r["cut_by_time"] == 0, "the run hit its time bound: the figures are partial"
    assert r["s409"] == 0
    # The only 5xx allowed are the injected throttles' 503s, one per injected PutItem throttle.
    assert r["other"] == {}, r["other"]
    assert r["s503"] == r["injected"].get("PutItem", 0) > 0
    # Count-step throttles were deferred, not lost: logged as such, then counted by the sweeper.
    assert r["logged"]["deferred"] == r["injected"].get("TransactWriteItems", 0) > 0
    assert r["lost"] == 0
    assert r["double_counted"] == 0
    assert r["drift"] == []
    assert r["pending"] == 0
    assert r["accepted"] == r["sent"] == SMALL.submissions  # nothing gave up within the attempt cap
    assert r["stored"] == r["accepted"]
    assert r["counted"] == r["stored"]
    assert r["failures"] == [], r["failures"]
