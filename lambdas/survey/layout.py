"""The table's layout: every item's keys, built and read back here and nowhere else.

One DynamoDB table holds everything the functions write. Its key schema (`pk`, `sk`) and the sparse index the
sweeper reads (`pending-since`: `pending`, `since`) are defined in infra/template.yaml, which the local stack and
the tests create their tables from; tests/infra/test_template.py checks that template against KEY_SCHEMA.

ITEMS lists each kind of item with its keys; README.md's "Table layout" table shows exactly these rows
(tests/lambdas/test_layout.py checks both that and that each function below builds keys of its row's shape).
A writer builds a key with one of these functions; a reader that needs what a key says (a counter's day and
sponsor, a detail's hour) reads it back with the function beside the one that built it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from .catalog import BEIJING

PARTITION, SORT = "pk", "sk"
PENDING_INDEX = "pending-since"
KEY_SCHEMA = {"partition": PARTITION, "sort": SORT, "pending": ("pending", "since")}  # the template defines the same

Key = dict[str, dict[str, str]]  # an item's key as DynamoDB's client takes it


@dataclass(frozen=True)
class Item:
    """One kind of item: what it is (and the attributes it holds), and the shape of its keys."""

    what: str
    pk: str
    sk: str


ITEMS = (
    Item("submission", "S#<id>", "submission"),
    Item("counter", "C#<day>#<shard>", "<questionnaire>#<sponsor>#<channel>#<province>"),
    Item("same answers from an address (owner: the first valid submission)", "A#<address hash>#<answers digest>",
         "marker"),
    Item("a device's places for valid samples (owner: the submission that took it)",
         "D#<device hash>#<questionnaire>#<slot>", "marker"),
    Item("an address's valid samples of a day (`n`, capped)", "L#<day>#<address hash>#<questionnaire>", "limit"),
    Item("an address's challenges of a day (`n`, capped)", "L#<day>#<address hash>", "challenges"),
    Item("a sponsor's hourly detail (`received`, `valid`, `x_<reason code>`), one of 4 parts by submission id",
         "H#<sponsor>", "<day>#<HH>#<n>"),
    Item("a sponsor's private-link generation (`generation`, `rotated`)", "P#<slug>", "portal"),
    Item("a sponsor's request (`kind`, `status`, `created`, `fields` JSON, `decided`, `reason`, `upload`)", "R",
         "<slug>#<request id>"),
)


def table_rows() -> list[str]:
    """ITEMS as the rows of README.md's Markdown table."""
    return [f"| {i.what} | `{i.pk}` | `{i.sk}` |" for i in ITEMS]


def key(pk: str, sk: str) -> Key:
    return {PARTITION: {"S": pk}, SORT: {"S": sk}}


# -- submissions ---------------------------------------------------------------------------------------------------

SUBMISSION = "S#"  # the prefix of every submission's partition key


def submission_key(submission_id: str) -> Key:
    return key(f"{SUBMISSION}{submission_id}", "submission")


def submission_id(pk: str) -> str:
    return pk.removeprefix(SUBMISSION)


def pending_partition(shard: int) -> str:
    """The pending index's partition key of a submission counted on `shard` (its `since` is its receipt time)."""
    return f"P#{shard:03d}"


# -- counters ------------------------------------------------------------------------------------------------------

COUNTER = "C#"
SPREAD = 2  # shards one counter key is spread over


class CounterKey(NamedTuple):
    """What a counter counts: one Beijing day of one questionnaire, sponsor, channel and province."""

    day: str
    questionnaire: str
    sponsor: str
    channel: str
    province: str


def key_of(questionnaire: str, sponsor: str, channel: str, province: str) -> str:
    """A counter's sort key."""
    return f"{questionnaire}#{sponsor}#{channel}#{province}"


def counter_partition(day: str, shard: int) -> str:
    return f"{COUNTER}{day}#{shard:03d}"


def counter_key(day: str, shard: int, questionnaire: str, sponsor: str, channel: str, province: str) -> Key:
    return key(counter_partition(day, shard), key_of(questionnaire, sponsor, channel, province))


def counter_day(pk: str) -> str:
    """The day of a counter's partition key."""
    return pk.split("#", 2)[1]


def counter_of(day: str, sk: str) -> CounterKey:
    """What a counter of `day` with sort key `sk` counts."""
    return CounterKey(day, *sk.split("#", 3))


def read_counter(pk: str, sk: str) -> tuple[CounterKey, int]:
    """What a counter counts, and its shard."""
    _, day, shard = pk.split("#")
    return counter_of(day, sk), int(shard)


def shard_of(submission_id: str, key: str, shards: int) -> int:
    """The counter shard of a submission: the key's own shard, or the next one, by the submission id.

    Sharding by key spreads a day's thousands of keys over every partition, and keeps each key in at most SPREAD
    items, so reading a day's counters reads about one item per key, not one per key and shard. The id's share
    lets a single key take SPREAD × 1,000 write units/s (~1,000 submissions/s for one sponsor, channel and province).
    """
    base = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    spread = int.from_bytes(hashlib.sha256(submission_id.encode()).digest()[:4], "big") % SPREAD
    return (base + spread) % shards


# -- a sponsor's hourly details ------------------------------------------------------------------------------------

DETAIL = "H#"
DETAIL_SPREAD = 4  # parts one sponsor-hour's detail is spread over
REASON_PREFIX = "x_"  # a detail's count of one reason is named by the prefix and the reason code


def hour_of(received: str) -> tuple[str, int]:
    """The Beijing day and hour of a receipt time (ISO 8601, UTC)."""
    moment = datetime.fromisoformat(received).astimezone(BEIJING)
    return moment.date().isoformat(), moment.hour


def detail_partition(sponsor: str) -> str:
    return f"{DETAIL}{sponsor}"


def detail_key(sponsor: str, received: str, submission_id: str) -> Key:
    """The detail a submission received at `received` is counted in: its sponsor's hour, one part by its id."""
    day, hour = hour_of(received)
    part = int.from_bytes(hashlib.sha256(submission_id.encode()).digest()[:4], "big") % DETAIL_SPREAD
    return key(detail_partition(sponsor), f"{day}#{hour:02d}#{part}")


def read_detail(sk: str) -> tuple[str, int, int]:
    """The Beijing day, hour and part of a detail's sort key."""
    day, hour, part = sk.split("#")
    return day, int(hour), int(part)


def detail_sponsor(pk: str) -> str:
    return pk.removeprefix(DETAIL)


# -- markers and limits --------------------------------------------------------------------------------------------

MARKER, LIMIT, CHALLENGES = "marker", "limit", "challenges"  # their sort keys


def answers_marker(ip_hash: str, answers_digest: str) -> str:
    return f"A#{ip_hash}#{answers_digest}"


def device_marker(device_hash: str, questionnaire: str, slot: int) -> str:
    return f"D#{device_hash}#{questionnaire}#{slot}"


def address_limit(day: str, ip_hash: str, questionnaire: str) -> str:
    return f"L#{day}#{ip_hash}#{questionnaire}"


def address_challenges(day: str, ip_hash: str) -> str:
    return f"L#{day}#{ip_hash}"


# -- sponsors' private links and requests --------------------------------------------------------------------------

def portal_key(slug: str) -> Key:
    """The item holding a sponsor's private-link generation."""
    return key(f"P#{slug}", "portal")


REQUESTS = "R"  # every request's partition key: one query lists them all


def request_prefix(sponsor: str) -> str:
    """The start of the sort keys of one sponsor's requests."""
    return f"{sponsor}#"


def request_key(sponsor: str, request_id: str) -> Key:
    return key(REQUESTS, f"{request_prefix(sponsor)}{request_id}")
