"""Hourly details: every counted submission adds once to its sponsor's Beijing hour, with its reasons; the recount
finds and fixes any drift in them as it does for counters; merged over their parts, they give a sponsor's hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lambdas import local
from lambdas.admin.__main__ import main
from lambdas.submit.intake import Intake
from lambdas.survey import counts, recount
from lambdas.survey.catalog import BEIJING
from lambdas.survey.counts import HourRow
from lambdas.survey.layout import DETAIL_SPREAD, detail_key
from lambdas.survey.store import Store, Unavailable
from lambdas.sweep.app import sweep
from tests.lambdas.conftest import SPONSOR, TABLE, items, make_intake, payload, request

OPENING = datetime(2020, 7, 22, 10, 0, tzinfo=BEIJING)


@pytest.fixture
def it(ddb: Any, campaign_catalog: Any, survey: Any) -> Intake:
    return make_intake(ddb, campaign_catalog, survey)


def _submit(it: Intake, seed: int, now: datetime, **extra: Any) -> dict[str, Any]:
    body = payload(it, seed=seed, now=now, **extra)
    assert it.submit(request(body, now)).status == 200
    return body


def _details(ddb: Any) -> dict[tuple[str, str], dict[str, int]]:
    return {(i["pk"]["S"], i["sk"]["S"]): {k: int(v["N"]) for k, v in i.items() if "N" in v}
            for i in items(ddb, "H#")}


def _key(body: dict[str, Any], now: datetime, sponsor: str = SPONSOR) -> tuple[str, str]:
    received = now.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    key = detail_key(sponsor, received, body["id"])
    return key["pk"]["S"], key["sk"]["S"]


def test_counting_adds_one_to_its_hour_with_its_reasons(it, ddb):
    # GIVEN a bot's submission (the hidden field filled) at 10:30 Beijing time
    now = OPENING + timedelta(minutes=30)
    body = _submit(it, 1, now, homepage="bot")
    # THEN exactly one detail item holds it: its sponsor, its Beijing day and hour, one received, none valid
    [(pk, sk)] = _details(ddb)
    assert (pk, sk) == _key(body, now)
    assert pk == f"H#{SPONSOR}" and sk.startswith("2020-07-22#10#") and int(sk[-1]) in range(DETAIL_SPREAD)
    [stored] = [s for s in it.store.scan("S#")]
    assert stored["reasons"] and "honeypot" in stored["reasons"]
    assert _details(ddb)[(pk, sk)] == {"received": 1, "valid": 0, **{f"x_{r}": 1 for r in stored["reasons"]}}


def test_the_hour_is_beijing_time_across_midnight(it, ddb):
    # 23:59:59.999 and 00:00 Beijing time are 15:59 and 16:00 of one UTC day, but two Beijing days
    late = datetime(2020, 7, 22, 23, 59, 59, 999000, tzinfo=BEIJING)
    a, b = _submit(it, 1, late), _submit(it, 2, late + timedelta(milliseconds=1))
    rows = counts.hours_from_items(it.store.details(SPONSOR))
    assert rows == [HourRow("2020-07-22", 23, 1, 1, {}), HourRow("2020-07-23", 0, 1, 1, {})]
    assert set(_details(ddb)) == {_key(a, late), _key(b, late + timedelta(milliseconds=1))}


def test_a_sponsors_details_are_its_own_and_unattributed_ones_are_kept_apart(it, ddb):
    _submit(it, 1, OPENING)
    _submit(it, 2, OPENING, sponsor="guangdong-infosec")
    _submit(it, 3, OPENING, sponsor="no-such-sponsor")
    assert [r.received for r in counts.hours_from_items(it.store.details(SPONSOR))] == [1]
    assert [r.received for r in counts.hours_from_items(it.store.details("-"))] == [1]
    assert {pk for pk, _ in _details(ddb)} == {f"H#{SPONSOR}", "H#guangdong-infosec", "H#-"}


def test_a_retry_a_crash_and_the_sweeper_never_add_twice(it, ddb, monkeypatch):
    # GIVEN a submission whose process died between storing and counting
    now = OPENING
    body = payload(it, seed=1, now=now)
    with monkeypatch.context() as mp:
        mp.setattr(Store, "count", lambda self, item: (_ for _ in ()).throw(SystemExit("killed")))
        with pytest.raises(SystemExit):
            it.submit(request(body, now))
    assert _details(ddb) == {}
    # WHEN the client retries, twice, and the sweeper runs
    assert it.submit(request(body, now)).status == 200
    assert it.submit(request(body, now + timedelta(seconds=5))).status == 200
    assert sweep(it.store, datetime.now(timezone.utc) + timedelta(minutes=2)) == 0
    # THEN its hour holds it once
    assert _details(ddb) == {_key(body, now): {"received": 1, "valid": 1}}
    assert recount.check(it.store) == ([], 0)


def test_the_sweeper_counts_a_pending_submission_into_its_hour_once(it, ddb, monkeypatch):
    body = payload(it, seed=1, now=OPENING)
    with monkeypatch.context() as mp:
        mp.setattr(Store, "count", lambda self, item: (_ for _ in ()).throw(SystemExit("killed")))
        with pytest.raises(SystemExit):
            it.submit(request(body, OPENING))
    assert recount.check(it.store) == ([], 1)
    assert sweep(it.store, datetime.now(timezone.utc) + timedelta(minutes=2)) == 1
    assert sweep(it.store, datetime.now(timezone.utc) + timedelta(minutes=2)) == 0
    assert _details(ddb) == {_key(body, OPENING): {"received": 1, "valid": 1}}


def test_a_conflicted_count_is_left_for_the_next_sweep_and_the_rest_are_counted(it, ddb, monkeypatch):
    # GIVEN three submissions left pending, and live traffic conflicting on the first one's counters
    bodies = [payload(it, seed=n, now=OPENING) for n in range(3)]
    with monkeypatch.context() as mp:
        mp.setattr(Store, "count", lambda self, item: (_ for _ in ()).throw(SystemExit("killed")))
        for body in bodies:
            with pytest.raises(SystemExit):
                it.submit(request(body, OPENING))
    real_count, hot = Store.count, bodies[0]["id"]

    def conflicted(self: Store, item: dict) -> bool:
        if item["id"] == hot:
            raise Unavailable("TransactionCanceledException")
        return real_count(self, item)

    later = datetime.now(timezone.utc) + timedelta(minutes=2)
    # WHEN the sweeper runs: THEN it counts the other two, and says the run left one
    with monkeypatch.context() as mp:
        mp.setattr(Store, "count", conflicted)
        with pytest.raises(Unavailable, match="counted 2"):
            sweep(it.store, later)
    assert recount.check(it.store)[1] == 1
    # AND the next run counts the one left, once
    assert sweep(it.store, later) == 1
    assert recount.check(it.store) == ([], 0)


def test_recount_finds_and_fixes_a_drifted_and_a_missing_detail(it, ddb):
    # GIVEN two hours of submissions, then one detail item drifted (a reason it never had) and another lost
    bodies = [_submit(it, n, OPENING + timedelta(hours=n % 2, minutes=n), homepage="bot" if n == 0 else "")
              for n in range(6)]
    assert recount.check(it.store) == ([], 0)
    drifted, lost = _key(bodies[0], OPENING), _key(bodies[1], OPENING + timedelta(hours=1, minutes=1))
    ddb.update_item(TableName=TABLE, Key={"pk": {"S": drifted[0]}, "sk": {"S": drifted[1]}},
                    UpdateExpression="ADD received :n, x_too_fast :n", ExpressionAttributeValues={":n": {"N": "2"}})
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": lost[0]}, "sk": {"S": lost[1]}})
    before = _details(ddb)
    # WHEN the recount runs
    found, pending = recount.check(it.store)
    # THEN it names both, with what they hold and what they should
    assert pending == 0 and {(d.pk, d.sk) for d in found} == {drifted, lost}
    by_key = {(d.pk, d.sk): d for d in found}
    assert by_key[lost].actual is None and by_key[lost].kind == "detail"
    assert by_key[drifted].actual["received"] == by_key[drifted].expected["received"] + 2
    assert by_key[drifted].actual["x_too_fast"] == 2 and "x_too_fast" not in by_key[drifted].expected
    # AND the fix makes them exact: the stray reason gone, the lost item back, nothing else touched
    assert recount.fix(it.store, found) == (2, 0)
    assert recount.check(it.store) == ([], 0)
    after = _details(ddb)
    assert "x_too_fast" not in after[drifted] and after[lost]["received"] >= 1
    assert {k: v for k, v in after.items() if k not in (drifted, lost)} == \
        {k: v for k, v in before.items() if k not in (drifted, lost)}


def test_a_fix_never_overwrites_a_detail_that_moved_meanwhile(it, ddb):
    body = _submit(it, 1, OPENING)
    pk, sk = _key(body, OPENING)
    key = {"pk": {"S": pk}, "sk": {"S": sk}}
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="ADD valid :n", ExpressionAttributeValues={":n": {"N": "3"}})
    found, _ = recount.check(it.store)
    # a live submission of a new reason lands in that item between the recount's read and its fix
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="ADD received :n, x_honeypot :n",
                    ExpressionAttributeValues={":n": {"N": "1"}})
    assert recount.fix(it.store, found) == (0, 1)
    assert _details(ddb)[(pk, sk)] == {"received": 2, "valid": 4, "x_honeypot": 1}


def test_the_recount_command_names_a_drifted_hour(it, ddb, capsys):
    body = _submit(it, 1, OPENING + timedelta(minutes=5))
    pk, sk = _key(body, OPENING)
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    args = ["--table", TABLE, "--site", str(it.settings.catalog.parent), "--shards", str(it.store.shards)]
    assert main([*args, "recount"]) == 1
    out = capsys.readouterr().out
    assert f"drift 2020-07-22 10:00 {SPONSOR} (hourly detail, part {sk[-1]}): detail missing; " \
           f"recount received 1, valid 1" in out
    assert main([*args, "recount", "--fix"]) == 0 and "fixed 1" in capsys.readouterr().out
    assert main([*args, "recount"]) == 0


def test_hours_from_items_sums_the_parts_of_each_hour():
    parts = [
        {"pk": "H#a", "sk": "2020-07-22#09#3", "received": 4, "valid": 1, "x_too_fast": 2, "x_honeypot": 1},
        {"pk": "H#a", "sk": "2020-07-22#09#0", "received": 3, "valid": 3},
        {"pk": "H#a", "sk": "2020-07-22#10#1", "received": 2, "valid": 0, "x_too_fast": 2, "x_no_device": 0},
        {"pk": "H#a", "sk": "2020-07-21#23#2", "received": 1, "valid": 1},
        {"pk": "H#a", "sk": "2020-07-22#09#1", "received": 1, "valid": 0, "x_too_fast": 1},
    ]
    assert counts.hours_from_items(parts) == [
        HourRow("2020-07-21", 23, 1, 1, {}),
        HourRow("2020-07-22", 9, 8, 4, {"honeypot": 1, "too_fast": 3}),
        HourRow("2020-07-22", 10, 2, 0, {"too_fast": 2}),
    ]
    assert counts.hours_from_items([]) == []


def test_every_counted_item_fits_the_types_of_the_tables_index_keys(it, ddb):
    # DynamoDB checks an index key attribute's type on every write, even where the item is not in the (sparse) index;
    # moto does not, so this test holds the table to the template's own definition.
    _submit(it, 1, OPENING, homepage="bot")
    definition = local.table_definition(local.template(), TABLE)
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    index_keys = {k["AttributeName"] for i in definition.get("GlobalSecondaryIndexes", []) for k in i["KeySchema"]}
    wrong = sorted((i["pk"]["S"], name) for i in items(ddb) for name in index_keys & set(i)
                   if set(i[name]) != {types[name]})
    assert wrong == []
