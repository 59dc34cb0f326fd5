"""The table: submissions, their counters and the markers behind the validity checks, in one DynamoDB table.

Its items and their keys are layout.py's: this module reads and writes them.

Exactly once: a submission is first stored with a `pending` marker by a write conditional on its id being new,
then counted by one transaction that clears the marker (on condition it is still there) and adds to its counter and
its hourly detail (`additions`). A process that dies in between leaves the marker, and `sweep` (run every minute,
and by any retry of the same id) counts it. A counter update therefore happens once per stored submission, whatever
fails when.

Counters are sharded by key (see layout.shard_of): one day's writes spread over `shards` partition keys, so the 09:00
spike stays far below a partition's 1,000 writes/s, and one key lives in at most two items, so a big sponsor's key
can take ~1,000 submissions/s and a day's counters are read in about one item per key. Pending markers live in a
sparse index sharded the same way, so the index never has a hot key either. A sponsor's hourly details share one
partition key, so its page reads them in one query; that key takes 1,000 write units/s, ~500 submissions/s of one
sponsor (a write in a transaction costs two), until DynamoDB splits the hot key by sort key. Their layout.DETAIL_SPREAD
parts spread one sponsor-hour's counting transactions over four items, so fewer of them conflict on one item (a
conflicted one stays pending for the sweeper).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import layout
from .catalog import utc_iso
from .layout import PENDING_INDEX, REASON_PREFIX, counter_key, detail_key, key_of, shard_of

MARKER_LIFETIME = 180 * 24 * 3600  # repeat markers matter during the campaign; the table's TTL removes them after
UNAVAILABLE = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError",
    "ServiceUnavailable", "TransactionInProgressException", "LimitExceededException", "RequestTimeout",
}


class Unavailable(Exception):
    """DynamoDB throttled or failed: the client should retry later."""


class Exists(Exception):
    """A submission with this id is already stored."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(item.get("id", ""))
        self.item = item


@dataclass(frozen=True)
class Submission:
    id: str
    questionnaire: str
    sponsor: str
    channel: str
    province: str
    day: str  # Beijing time
    received: str  # ISO 8601, UTC, milliseconds
    valid: bool
    reasons: tuple[str, ...]
    digest: str
    answers: str  # canonical JSON
    ip_hash: str = ""
    claimed: str = ""  # "<sponsor>/<channel>" as the request named them, when it differs from the attribution
    seconds: int = -1  # from the proof's challenge to receipt; -1 when unknown
    rules: str = ""  # the version of the validity rules it was judged by
    signals: str = ""  # JSON of what the request said (rules.Signals), so another rule set can judge it again
    device_hash: str = ""
    ip_province: str = ""  # derived from the address at receipt (the address itself is never stored)




def additions(item: dict[str, Any]) -> list[tuple[dict, dict[str, int]]]:
    """What counting a stored submission (plain item) adds, and to which items: its counter and its hourly detail.
    The counting transaction writes exactly this, and the recount sums exactly this."""
    valid = 1 if item["valid"] else 0
    counter = counter_key(item["day"], int(item["shard"]), item["questionnaire"], item["sponsor"], item["channel"],
                          item["province"])
    reasons = {REASON_PREFIX + r: 1 for r in sorted(set(item.get("reasons", [])))}
    return [(counter, {"received": 1, "valid": valid}),
            (detail_key(item["sponsor"], item["received"], item["id"]), {"received": 1, "valid": valid, **reasons})]


class Store:
    def __init__(self, client: Any, table: str, shards: int) -> None:
        self.client = client
        self.table = table
        self.shards = shards

    # -- markers ----------------------------------------------------------------------------------------------

    def first(self, marker: str, owner: str) -> bool:
        """True if `marker` is new or already owned by `owner`; False if another submission holds it."""
        return self._if_condition_holds(
            self.client.put_item,
            TableName=self.table,
            Item={**layout.key(marker, layout.MARKER), "owner": {"S": owner},
                  "expires": {"N": str(int(time.time()) + MARKER_LIFETIME)}},
            ConditionExpression="attribute_not_exists(pk) OR #o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": owner}},
        )

    def take(self, key: str, cap: int, sort: str = layout.LIMIT) -> bool:
        """Take one of `cap` places under `key` (an atomic counter): False, and nothing taken, when all are."""
        return self._if_condition_holds(
            self.client.update_item,
            TableName=self.table, Key=layout.key(key, sort),
            UpdateExpression="ADD n :one SET expires = if_not_exists(expires, :e)",
            ConditionExpression="attribute_not_exists(n) OR n < :cap",
            ExpressionAttributeValues={":one": {"N": "1"}, ":cap": {"N": str(cap)},
                                       ":e": {"N": str(int(time.time()) + MARKER_LIFETIME)}},
        )

    def set_verdict(self, submission_id: str, valid: bool, reasons: list[str], rules: str,
                    expected: tuple[bool, list[str], str]) -> bool:
        """Record a new verdict on a counted submission if its verdict is still `expected`; False if it changed
        meanwhile or the submission is still pending (the sweeper counts it with whatever verdict it then has)."""
        values: dict[str, Any] = {":v": {"BOOL": valid}, ":rules": {"S": rules}, ":ev": {"BOOL": expected[0]},
                                  ":erules": {"S": expected[2]}}
        update = "SET #v = :v, #rules = :rules"
        if reasons:
            update += ", reasons = :r"
            values[":r"] = {"L": [{"S": r} for r in reasons]}
        else:
            update += " REMOVE reasons"
        condition = "attribute_not_exists(pending) AND #v = :ev AND " + (
            "#rules = :erules" if expected[2] else "(attribute_not_exists(#rules) OR #rules = :erules)")
        if expected[1]:
            condition += " AND reasons = :er"
            values[":er"] = {"L": [{"S": r} for r in expected[1]]}
        else:
            condition += " AND attribute_not_exists(reasons)"
        return self._if_condition_holds(
            self.client.update_item, TableName=self.table, Key=layout.submission_key(submission_id),
            UpdateExpression=update, ConditionExpression=condition,
            ExpressionAttributeNames={"#v": "valid", "#rules": "rules"}, ExpressionAttributeValues=values)

    # -- submissions ------------------------------------------------------------------------------------------

    def put_pending(self, s: Submission) -> dict[str, Any]:
        """Store `s` with its pending marker and return it as stored (plain values), or raise Exists with the
        stored item if the id is taken."""
        shard = shard_of(s.id, key_of(s.questionnaire, s.sponsor, s.channel, s.province), self.shards)
        item = {
            **layout.submission_key(s.id),
            "id": {"S": s.id}, "questionnaire": {"S": s.questionnaire}, "sponsor": {"S": s.sponsor},
            "channel": {"S": s.channel}, "province": {"S": s.province}, "day": {"S": s.day},
            "received": {"S": s.received}, "valid": {"BOOL": s.valid}, "digest": {"S": s.digest},
            "answers": {"S": s.answers}, "shard": {"N": str(shard)},
            "pending": {"S": layout.pending_partition(shard)}, "since": {"S": s.received},  # the pending index's keys
            "seconds": {"N": str(s.seconds)},
        }
        if s.reasons:
            item["reasons"] = {"L": [{"S": r} for r in s.reasons]}
        if s.ip_hash:
            item["ip_hash"] = {"S": s.ip_hash}
        if s.claimed:
            item["claimed"] = {"S": s.claimed}
        for name in ("rules", "signals", "device_hash", "ip_province"):
            if getattr(s, name):
                item[name] = {"S": getattr(s, name)}
        try:
            with _translated():
                self.client.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)",
                                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not _failed_condition(exc):
                raise
            old = exc.response.get("Item") or self.get_raw(s.id)
            raise Exists(_plain(old or {})) from exc
        return _plain(item)

    def get_raw(self, submission_id: str) -> dict | None:
        with _translated():
            return self.client.get_item(TableName=self.table, Key=layout.submission_key(submission_id),
                                        ConsistentRead=True).get("Item")

    def get(self, submission_id: str) -> dict[str, Any] | None:
        raw = self.get_raw(submission_id)
        return _plain(raw) if raw else None

    # -- counting ---------------------------------------------------------------------------------------------

    def count(self, item: dict[str, Any]) -> bool:
        """Count a stored submission (plain item) if it is still pending: True if this call counted it; False if a
        retry or the sweeper counted it already."""
        # A counter is its keys and its numbers: the keys say what it counts, and every byte more would be paid for
        # on each of the thousands of reads a day the dashboards make.
        adds = [{"Update": {"TableName": self.table, "Key": key, **_adding(values)}} for key, values in additions(item)]
        return self._if_condition_holds(self.client.transact_write_items, TransactItems=[
            # First: a cancelled transaction whose first item's condition failed was counted already.
            {"Update": {
                "TableName": self.table, "Key": layout.submission_key(item["id"]),
                "UpdateExpression": "REMOVE pending, since SET counted = :now",
                "ConditionExpression": "attribute_exists(pending)",
                "ExpressionAttributeValues": {":now": {"S": utc_iso(datetime.now(timezone.utc))}},
            }},
            *adds,
        ])

    def counters(self, day: str) -> Iterator[dict[str, Any]]:
        """Every counter item of one Beijing day, shard by shard (queries only: the cost follows the counters,
        never the number of submissions)."""
        for shard in range(self.shards):
            for page in self._pages(
                self.client.query, TableName=self.table, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": layout.counter_partition(day, shard)}},
                ProjectionExpression="pk, sk, received, #v", ExpressionAttributeNames={"#v": "valid"},
            ):
                yield from map(_plain, page.get("Items", []))

    def details(self, sponsor: str) -> Iterator[dict[str, Any]]:
        """Every hourly detail item of one sponsor, in (day, hour, part) order: one query, paged. Read like the
        counters (eventually consistent), so a page showing both shows them as of about the same moment."""
        for page in self._pages(
            self.client.query, TableName=self.table, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": layout.detail_partition(sponsor)}},
        ):
            yield from map(_plain, page.get("Items", []))

    def scan(self, prefix: str | tuple[str, ...], segment: int = 0, segments: int = 1) -> Iterator[dict[str, Any]]:
        """Every item whose key starts with `prefix` (or with any of several: one pass over the table), one segment
        of a parallel scan. For the secretariat's recount and export only: the live API never scans."""
        prefixes = (prefix,) if isinstance(prefix, str) else prefix
        # Strongly consistent: a recount read from a lagging replica would see counted submissions as pending.
        for page in self._pages(self.client.scan, TableName=self.table, Segment=segment, TotalSegments=segments,
                                ConsistentRead=True,
                                FilterExpression=" OR ".join(f"begins_with(pk, :p{i})" for i in range(len(prefixes))),
                                ExpressionAttributeValues={f":p{i}": {"S": p} for i, p in enumerate(prefixes)}):
            yield from map(_plain, page.get("Items", []))

    def set_values(self, key: dict, values: dict[str, int], expected: dict[str, int] | None) -> bool:
        """Set a counter or detail item's numbers to `values`, removing any other number it holds, if it still holds
        exactly `expected` (None: if it does not exist); False if live traffic changed it meanwhile."""
        names = sorted(set(values) | set(expected or {}))
        sets, removes, conditions = [], [], ["attribute_exists(pk)"]
        numbers: dict[str, Any] = {}
        for i, name in enumerate(names):
            if name in values:
                sets.append(f"#a{i} = :v{i}")
                numbers[f":v{i}"] = {"N": str(values[name])}
            else:
                removes.append(f"#a{i}")
            if expected is not None and name in expected:
                conditions.append(f"#a{i} = :e{i}")
                numbers[f":e{i}"] = {"N": str(expected[name])}
            else:
                conditions.append(f"attribute_not_exists(#a{i})")
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return self._if_condition_holds(
            self.client.update_item, TableName=self.table, Key=key, UpdateExpression=update,
            ConditionExpression="attribute_not_exists(pk)" if expected is None else " AND ".join(conditions),
            ExpressionAttributeNames={f"#a{i}": name for i, name in enumerate(names)},
            ExpressionAttributeValues=numbers)

    def set_counter(self, key: dict, received: int, valid: int, expected: tuple[int, int] | None) -> bool:
        """set_values for a counter: (received, valid), expected (received, valid) or None."""
        return self.set_values(key, {"received": received, "valid": valid},
                               None if expected is None else {"received": expected[0], "valid": expected[1]})

    def pending(self, older_than: str) -> Iterator[dict[str, Any]]:
        """Stored submissions still waiting to be counted, received before `older_than` (ISO time)."""
        for shard in range(self.shards):
            for page in self._pages(
                self.client.query, TableName=self.table, IndexName=PENDING_INDEX,
                KeyConditionExpression="pending = :p AND since < :t",
                ExpressionAttributeValues={":p": {"S": layout.pending_partition(shard)}, ":t": {"S": older_than}},
            ):
                yield from map(_plain, page.get("Items", []))

    # -- calls ------------------------------------------------------------------------------------------------

    @staticmethod
    def _if_condition_holds(call: Any, **kwargs: Any) -> bool:
        """Make a conditional write: True if it was made, False if its condition (or a transaction's) failed."""
        try:
            with _translated():
                call(**kwargs)
            return True
        except ClientError as exc:
            if not _failed_condition(exc):
                raise
            return False

    @staticmethod
    def _pages(call: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a query or a scan."""
        while True:
            with _translated():
                page = call(**kwargs)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def sweep(self, older_than: str) -> int:
        """Count every submission left pending before `older_than`; returns how many this call counted.

        A counting transaction that conflicts with live traffic on a busy counter is left for the next run, and
        the rest are counted: one hot item must not hold back every other pending submission. If any was left,
        Unavailable is raised at the end, so the run is seen to have failed."""
        counted, left = 0, None
        for item in self.pending(older_than):
            # The index is eventually consistent: read the item itself before counting from its copy.
            try:
                fresh = self.get(layout.submission_id(item["pk"]))
                if fresh and "pending" in fresh and self.count(fresh):
                    counted += 1
            except Unavailable as exc:
                left = exc
        if left is not None:
            raise Unavailable(f"counted {counted}; some left for the next run: {left}")
        return counted


def _adding(values: dict[str, int]) -> dict[str, Any]:
    """An update adding each number in `values` to the attribute of that name."""
    return {"UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(values))),
            "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(values)},
            "ExpressionAttributeValues": {f":a{i}": {"N": str(n)} for i, n in enumerate(values.values())}}


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


@contextmanager
def _translated() -> Iterator[None]:
    """Throttles and outages become Unavailable (the client retries later); a failed condition stays a
    ClientError for the caller to read; anything else is a bug and stays as it is."""
    try:
        yield
    except ClientError as exc:
        if _failed_condition(exc):
            raise
        if _code(exc) in UNAVAILABLE or _code(exc) == "TransactionCanceledException" or \
                exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise Unavailable(_code(exc)) from exc
        raise
    except BotoCoreError as exc:
        raise Unavailable(str(exc)) from exc


def _failed_condition(exc: ClientError) -> bool:
    """A write's condition failed, or a transaction was cancelled because its first item's condition failed."""
    if _code(exc) == "ConditionalCheckFailedException":
        return True
    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
    return _code(exc) == "TransactionCanceledException" and bool(reasons) and reasons[0] == "ConditionalCheckFailed"


def _plain(raw: dict) -> dict[str, Any]:
    """A DynamoDB item as plain Python values (the few types this table uses)."""
    out: dict[str, Any] = {}
    for k, v in raw.items():
        (t, value), = v.items()
        if t == "N":
            out[k] = int(value)
        elif t == "L":
            out[k] = [next(iter(x.values())) for x in value]
        else:
            out[k] = value
    return out
