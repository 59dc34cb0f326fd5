"""Exactness, proven: after any mix of submissions, retries, conflicts, throttles and crashes, every counter and
every hourly detail equals a recount from the stored submissions, at every step; after the sweeper, nothing is left
uncounted."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.survey import recount
from lambdas.survey.store import Store
from lambdas.sweep.app import sweep
from tests.lambdas.conftest import call, event, payload

OPS = st.lists(st.tuples(
    st.sampled_from(["new", "new_invalid", "retry", "conflict", "throttle_store", "throttle_count", "crash", "sweep"]),
    st.integers(0, 7),
), min_size=1, max_size=25)


def _throttle(code: str) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                          "injected")
    return fail


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_counters_always_equal_a_recount(intake, ddb, ops):
    store = intake.store
    for item in store.scan(""):  # hypothesis reuses the fixture: start each example from an empty table
        ddb.delete_item(TableName=store.table, Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})
    sent: list[dict[str, Any]] = []
    for op, n in ops:
        if op in ("new", "new_invalid") or not sent:
            body = payload(intake, seed=len(sent) + 1000 * n, homepage="x" if op == "new_invalid" else "")
            sent.append(body)
        body = sent[n % len(sent)]
        mp = pytest.MonkeyPatch()
        try:
            if op == "conflict":
                body = json.loads(json.dumps(body))
                body["answers"]["overall"] = 1 + body["answers"]["overall"] % 5
            elif op == "throttle_store":
                mp.setattr(store.client, "put_item", _throttle("ProvisionedThroughputExceededException"))
            elif op == "throttle_count":
                mp.setattr(store.client, "transact_write_items", _throttle("ThrottlingException"))
            elif op == "crash":
                mp.setattr(Store, "count", lambda self, item: (_ for _ in ()).throw(SystemExit("killed")))
            if op == "sweep":
                sweep(store, datetime.now(timezone.utc) + timedelta(minutes=2))
            else:
                try:
                    status = call(event(body))[0]
                except SystemExit:
                    status = None  # the process died between storing and counting
                assert status in (200, 409, 503, None)
        finally:
            mp.undo()
        found, _ = recount.check(store)
        assert found == [], f"after {op}: {found}"
    sweep(store, datetime.now(timezone.utc) + timedelta(minutes=2))
    found, pending = recount.check(store)
    assert found == [] and pending == 0
    stored = {s["id"] for s in store.scan("S#")}
    assert stored <= {b["id"] for b in sent}
    # The recount covers the details: each stored submission is in exactly one hour, once
    assert sum(d["received"] for d in store.scan("H#")) == len(stored)


def test_a_drift_is_found_and_fixed(intake, ddb):
    for seed in range(3):
        assert call(event(payload(intake, seed=seed)))[0] == 200
    [counter] = [c for c in intake.store.scan("C#")][:1]
    ddb.update_item(TableName=intake.store.table, Key={"pk": {"S": counter["pk"]}, "sk": {"S": counter["sk"]}},
                    UpdateExpression="ADD received :n", ExpressionAttributeValues={":n": {"N": "5"}})
    found, _ = recount.check(intake.store)
    [drift] = found
    assert drift.kind == "counter" and drift.actual["received"] == drift.expected["received"] + 5
    assert recount.fix(intake.store, found) == (1, 0)
    assert recount.check(intake.store) == ([], 0)


def test_a_fix_never_overwrites_a_counter_that_moved_meanwhile(intake, ddb):
    call(event(payload(intake, seed=1)))
    [counter] = list(intake.store.scan("C#"))
    key = {"pk": {"S": counter["pk"]}, "sk": {"S": counter["sk"]}}
    ddb.update_item(TableName=intake.store.table, Key=key, UpdateExpression="ADD received :n",
                    ExpressionAttributeValues={":n": {"N": "2"}})
    found, _ = recount.check(intake.store)
    ddb.update_item(TableName=intake.store.table, Key=key, UpdateExpression="ADD received :n",
                    ExpressionAttributeValues={":n": {"N": "1"}})  # a live submission lands in between
    assert recount.fix(intake.store, found) == (0, 1)
