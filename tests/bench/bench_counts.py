"""Counts and export benchmark: the counts API's cold read and cached views at 135 and 1,000 sponsors, and the
secretariat's export of 100,000 submissions, each figure beside a baseline measured in the same run.

    .venv/bin/python tests/bench/bench_counts.py [--sizes 135 1000] [--submissions 100000] [--volume 300000]
        [--moto-items 10000] [--moto-submissions 10000] [--requests 50] [--price 0.25]

1. Counts API, per size. The catalog: for 135, sponsors.json as the generator writes it from sponsors.yaml (the 135
   initiators and their 126 supporters, 261 listed); for any other size, a sponsors.json of that many listed
   sponsors in the same shape (the sample's initiator families copied under new slugs, same mix of kinds). The
   counter items of the whole 2020 window are drawn as real counting leaves them: every sponsor has a weight
   (log-normal; supporters half), its own 3-5 channels (the first carrying about half), samples mostly from its own
   province plus 2-4 others, both questionnaires, a launch-day peak; each submission lands in a random one of 16
   shards, so a (questionnaire, sponsor, channel, province) key with k submissions a day appears in about
   min(k, 16) shards. --volume submissions at the sample list; other sizes get the same volume per sponsor.
   a. moto over HTTP (`lambdas.local.database()`, the local stack's database): counter items written with
      batch_write_item, whole partitions (one day's shard) in window order while they fit in --moto-items. moto
      5.2's Query sorts the whole table on every call (Table.query goes through all_items()), ~28 µs per table
      item per call, so one full read of 135 sponsors' window (~160,000 items, 160 calls) would take about twelve
      minutes, twice with its baseline. Then the real handler with a fresh Source answers /api/counts (the request that reads every
      counter), /api/counts/sponsors, /api/counts/sponsors/<slug> and /api/counts/provinces once each, then
      --requests times each from the container's copy (median). Baseline: the same Query calls on their own,
      items discarded; the time inside those calls during the reading request is printed too.
   b. The whole window in memory: the same items served by an in-memory stand-in for the DynamoDB client (Query
      with DynamoDB's 1 MB pages and capacity arithmetic), under the real Store, Source and handler. This is our
      code at full scale, without moto's or DynamoDB's time; its baseline is the stand-in's own time (building the
      items' dicts, as boto3 would).
   Read units are computed from item sizes (eventually consistent Query: 0.5 RCU per 4 KB per page, at least 0.5),
   because moto's ConsumedCapacity is a constant 1.0 per call; both are printed. Cost per refresh and per day (one
   refresh a minute let through by the CDN) at --price USD per million read request units.
   Also: where the reading request's time goes (our functions one by one on the whole window, and Python's cyclic
   garbage collector during the read), boto3's parse cost per item, and the memory the reading request holds.
2. Export. Submission items (`S#<id>`, the shape `Store.put_pending` writes, counted: no `pending`, with `counted`),
   answers from `tests/lambdas/answers.py` (200 distinct sets per questionnaire, reused). moto's scan sorts the whole
   table for every 1 MB page, so its rate falls as the table grows (a trial on 2 cores: ~600 rows/s at 5,000 items,
   ~160 rows/s at 100,000): --moto-submissions are seeded into moto over HTTP and scanned there; the full
   --submissions are scanned from the in-memory stand-in. Either way through the real `Store.scan` and
   `lambdas.admin.__main__._parallel(store, 4)`: scan only (baseline: rows discarded), `export.export(...)` to CSV,
   to CSV + Parquet; rows/s and file sizes.

Summary: one Markdown table for the counts, one for the export.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: `tests` is not an installed package

from tests.helpers import guarded  # noqa: E402

SHARDS = 16
KB = 1024
PAGE_BYTES = 1024 * 1024  # DynamoDB stops a Query or Scan page after 1 MB of items read
SEED = 2020
DAY_SHAPE = (1.6, 1.3, 1.1, 1.0, 0.9, 0.8, 0.8, 0.9, 1.0, 1.3)  # launch-day peak, a lull, the closing push
OWN_PROVINCE = 0.75  # share of a sponsor's samples from its own province
FIRST_QUESTIONNAIRE = 0.85  # the public questionnaire; the practitioners' one gets the rest
VALID = 0.92
UNATTRIBUTED_SHARE = 0.02  # links naming no known sponsor: old posters, mistyped links
LAMBDA_MB, FULL_VCPU_MB = 512, 1769  # the counts function's memory (infra/template.yaml); Lambda gives 1 vCPU at 1,769 MB
REFRESHES_PER_DAY = 24 * 60


# ---- report -------------------------------------------------------------------------------------------------------

@dataclass
class Read:
    """One cold read of the four endpoints and their cached repeats."""

    size: str
    backend: str
    days: str
    items: int
    queries: int
    rcu: float
    reported: float  # the ConsumedCapacity the responses carried
    first: float  # s, the request that read the counters (our bookkeeping excluded)
    bare: float  # s spent inside that request's Query calls
    alone: float  # s for the same Query calls on their own, after the request (the baseline)
    cold: dict[str, float]
    cached: dict[str, float]
    sizes: dict[str, tuple[int, int]]  # bytes, gzip -6 bytes


@dataclass
class Export:
    rows: int
    backend: str
    scan: float  # rows/s
    csv: float
    both: float
    csv_bytes: int
    parquet_bytes: int


@dataclass
class Report:
    reads: list[Read] = field(default_factory=list)
    costs: list[str] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def failed(self, figure: str, exc: Exception) -> None:
        self.notes.append(f"{figure} FAILED: {type(exc).__name__}: {exc}")


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def kb(n: int) -> str:
    return f"{n / KB:.1f}"


# ---- DynamoDB arithmetic ------------------------------------------------------------------------------------------

def value_size(v: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value: UTF-8 strings, numbers ~1 byte per 2 significant digits + 1."""
    (t, x), = v.items()
    if t == "S":
        return len(x.encode())
    if t == "N":
        digits = len(x.lstrip("-").replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if t in ("BOOL", "NULL"):
        return 1
    if t == "L":
        return 3 + sum(1 + value_size(e) for e in x)
    if t == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(e) for k, e in x.items())
    raise ValueError(f"no size rule for type {t}")


def item_size(raw: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in raw.items())


def page_rcu(page_bytes: int) -> float:
    """An eventually consistent Query or Scan page: 0.5 RCU per 4 KB read, rounded up over the page, at least 0.5."""
    return max(1, math.ceil(page_bytes / 4096)) * 0.5


class Recording:
    """The client with every Query call timed (the time inside them is not ours) and its items sized for the RCUs;
    the sizing is timed apart so that it can be taken out of the request's time."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0
        self.items = 0
        self.rcu = 0.0
        self.reported = 0.0  # what the responses' ConsumedCapacity says, beside what the item sizes imply
        self.seconds = 0.0
        self.bookkeeping = 0.0

    def query(self, **kwargs: Any) -> dict[str, Any]:
        t0 = time.perf_counter()
        page = self.client.query(**kwargs, ReturnConsumedCapacity="TOTAL")
        t1 = time.perf_counter()
        self.reported += page.get("ConsumedCapacity", {}).get("CapacityUnits", 0)
        items = page.get("Items", [])
        self.calls += 1
        self.items += len(items)
        self.rcu += page_rcu(sum(item_size(i) for i in items))
        self.seconds += t1 - t0
        self.bookkeeping += time.perf_counter() - t1
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


class MemoryClient:
    """A stand-in for the DynamoDB client over records held in memory: Query ("pk = :pk") and Scan (segments,
    "begins_with(pk, :p0) OR begins_with(pk, :p1) ...") with DynamoDB's 1 MB pages and read units. Items are built as dicts page by page, as
    boto3 builds them from a response, so the stand-in's own time is about what boto3's parsing costs."""

    def __init__(self, partitions: dict[str, list[Any]], to_raw: Callable[[str, Any], dict[str, Any]]) -> None:
        self.partitions = partitions
        self.to_raw = to_raw
        self._segments: dict[tuple[int, int], list[tuple[str, Any]]] = {}

    def query(self, *, KeyConditionExpression: str, ExpressionAttributeValues: dict[str, Any],
              ExclusiveStartKey: dict[str, Any] | None = None, ProjectionExpression: str | None = None,
              ExpressionAttributeNames: dict[str, str] | None = None, **_: Any) -> dict[str, Any]:
        assert KeyConditionExpression == "pk = :pk", KeyConditionExpression
        pk = ExpressionAttributeValues[":pk"]["S"]
        pairs = [(pk, r) for r in self.partitions.get(pk, ())]
        page = self._page(pairs, int(ExclusiveStartKey["position"]["N"]) if ExclusiveStartKey else 0, lambda _: True)
        if ProjectionExpression:  # read units follow whole items; only the projected attributes travel
            names = ExpressionAttributeNames or {}
            keep = {names.get(a.strip(), a.strip()) for a in ProjectionExpression.split(",")}
            page["Items"] = [{k: v for k, v in i.items() if k in keep} for i in page["Items"]]
        return page

    def scan(self, *, Segment: int = 0, TotalSegments: int = 1, FilterExpression: str,
             ExpressionAttributeValues: dict[str, Any], ExclusiveStartKey: dict[str, Any] | None = None,
             **_: Any) -> dict[str, Any]:
        prefixes = tuple(ExpressionAttributeValues[name]["S"] for name in _begins_with(FilterExpression))
        key = (Segment, TotalSegments)
        if key not in self._segments:  # DynamoDB (and moto) put a partition in a segment by a hash of its key
            self._segments[key] = [(pk, r) for pk, recs in self.partitions.items()
                                   if hashlib.md5(pk.encode()).digest()[0] % TotalSegments == Segment for r in recs]
        start = int(ExclusiveStartKey["position"]["N"]) if ExclusiveStartKey else 0
        return self._page(self._segments[key], start, lambda raw: raw["pk"]["S"].startswith(prefixes))

    def _page(self, pairs: list[tuple[str, Any]], start: int, keep: Callable[[dict], bool]) -> dict[str, Any]:
        items, size, i = [], 0, start
        while i < len(pairs):
            raw = self.to_raw(*pairs[i])
            s = item_size(raw)
            if size and size + s > PAGE_BYTES:
                break
            size += s  # read units follow the items read, before any filter
            i += 1
            if keep(raw):
                items.append(raw)
        page: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": i - start,
                                "ConsumedCapacity": {"TableName": "memory", "CapacityUnits": page_rcu(size)}}
        if i < len(pairs):
            page["LastEvaluatedKey"] = {"pk": {"S": pairs[i - 1][0]}, "position": {"N": str(i)}}  # opaque to Store
        return page


def _begins_with(expression: str) -> list[str]:
    """The value names of a filter that is one or more begins_with(pk, :name) joined by OR; anything else is a
    filter the stand-in cannot answer, and fails here rather than answering it wrong."""
    names = [re.fullmatch(r"begins_with\(pk, (:\w+)\)", part) for part in expression.split(" OR ")]
    assert all(names), expression
    return [match.group(1) for match in names if match]


@contextmanager
def moto_table(name: str) -> Iterator[Any]:
    """A fresh table from the template's definition in moto's DynamoDB server, over HTTP; deleted on exit (moto's
    backends are process-wide, so a stopped server's tables would otherwise stay in memory)."""
    import boto3

    from lambdas import local

    with local.database() as url:
        client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")
        client.create_table(**local.table_definition(local.template(), name))
        try:
            yield client
        finally:
            client.delete_table(TableName=name)


def batch_write(client: Any, table: str, raws: Iterator[dict[str, Any]]) -> tuple[int, float]:
    """Write items 25 to a call (BatchWriteItem's limit), retrying what comes back unprocessed: (items, seconds)."""
    started, n, batch = time.perf_counter(), 0, []

    def flush() -> None:
        pending = {table: [{"PutRequest": {"Item": r}} for r in batch]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    for raw in raws:
        batch.append(raw)
        n += 1
        if len(batch) == 25:
            flush()
            batch = []
    if batch:
        flush()
    return n, time.perf_counter() - started


# ---- catalogs -----------------------------------------------------------------------------------------------------

def sample_catalog() -> dict[str, Any]:
    """sponsors.json as the generator writes it from sponsors.yaml (the 2020 window)."""
    from generator import build, pages

    return json.loads(pages.manifest(build.read(ROOT / "sponsors.yaml"), set()))


def catalog_data(sample: dict[str, Any], size: int) -> tuple[dict[str, Any], str]:
    """The catalog for a size and its label: the sample itself for its own number of initiators, otherwise `size`
    listed sponsors: the sample's initiator families (an initiator, then the supporters it nominated) in order,
    copied under new slugs round after round, so the mix of kinds stays the sample's."""
    from generator import links

    initiators = [slug for slug, s in sample["sponsors"].items() if s["kind"] == "initiator"]
    if size == len(initiators):
        return sample, f"{size:,} initiators ({len(sample['sponsors'])} listed)"
    families = [[slug] + [o for o, s in sample["sponsors"].items() if s["nominated_by"] == slug] for slug in initiators]
    sponsors: dict[str, Any] = {}
    round_ = 0
    while len(sponsors) < size:
        for family in families:
            for slug in family:
                if len(sponsors) == size:
                    break
                s = dict(sample["sponsors"][slug])
                suffix = f"-r{round_}" if round_ else ""
                s["name"] = s["name"] + (f"（{round_}）" if round_ else "")
                s["nominated_by"] = s["nominated_by"] + suffix if s["nominated_by"] else None
                sponsors[slug + suffix] = s
        round_ += 1
    data = dict(sample, sponsors=sponsors)
    data["published_links"] = sorted({links.entry_path(slug, ch) for slug, s in sponsors.items() for ch in s["channels"]})
    kinds = sum(1 for s in sponsors.values() if s["kind"] == "initiator")
    return data, f"{size:,} listed ({kinds} initiators)"


# ---- counter items ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Audience:
    """Where one sponsor's samples come from: its weight and its (questionnaire, channel, province) keys' shares."""

    slug: str
    weight: float
    keys: list[tuple[str, str, str]]
    cum: list[float]


def _audience(slug: str, weight: float, qids: list[str], channels: list[tuple[str, float]],
              provinces: list[tuple[str, float]]) -> Audience:
    q_share = [(qids[0], FIRST_QUESTIONNAIRE)] + [(q, (1 - FIRST_QUESTIONNAIRE) / (len(qids) - 1)) for q in qids[1:]]
    keys, cum, total = [], [], 0.0
    for q, qw in q_share:
        for ch, cw in channels:
            for p, pw in provinces:
                keys.append((q, ch, p))
                total += qw * cw * pw
                cum.append(total)
    return Audience(slug, weight, keys, cum)


def audiences(data: dict[str, Any], qids: list[str]) -> list[Audience]:
    """One per listed sponsor (seeded by its slug, so a sponsor looks the same at every size), plus the unattributed."""
    from lambdas.survey.catalog import UNATTRIBUTED
    from lambdas.survey.regions import PROVINCES

    out = []
    for slug, s in data["sponsors"].items():
        rng = random.Random(f"{SEED}:{slug}")
        weight = rng.lognormvariate(0, 1.0) * (1.0 if s["kind"] == "initiator" else 0.5)
        channels = list(s["channels"])
        rng.shuffle(channels)  # the main channel differs from sponsor to sponsor
        shares = [0.5 ** i for i in range(len(channels))]
        own = s["province"] if s["province"] in PROVINCES else rng.choice(PROVINCES)
        others = rng.sample([p for p in PROVINCES if p != own], rng.randint(2, 4))
        provinces = [(own, OWN_PROVINCE)] + [(p, (1 - OWN_PROVINCE) / len(others)) for p in others]
        out.append(_audience(slug, weight, qids, list(zip(channels, shares)), provinces))
    total = sum(a.weight for a in out)
    out.append(_audience(UNATTRIBUTED, total * UNATTRIBUTED_SHARE / (1 - UNATTRIBUTED_SHARE), qids,
                         [(UNATTRIBUTED, 1.0)], [(p, 1.0) for p in PROVINCES]))
    return out


Record = tuple[int, str, str, str, str, int, int]  # shard, questionnaire, sponsor, channel, province, received, valid


def key_base(key: str) -> int:
    """The key's own shard before the spread, as Store.shard_of computes it."""
    import hashlib

    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")


def counter_records(auds: list[Audience], days: list[str], unit: float) -> dict[str, list[Record]]:
    """Each day's counter items: every submission drawn onto a key and a shard, then summed per (key, shard)."""
    rng = random.Random(SEED)
    shape = [w * len(DAY_SHAPE) / sum(DAY_SHAPE) for w in DAY_SHAPE]
    out = {}
    for d, day in enumerate(days):
        records: list[Record] = []
        for a in auds:
            n = round(a.weight * unit * shape[d % len(shape)] * rng.uniform(0.7, 1.3))
            if not n:
                continue
            cells: dict[tuple[int, int], list[int]] = {}
            # As Store.shard_of places them: the key's own shard or the next, by the submission id.
            picks = rng.choices(range(len(a.keys)), cum_weights=a.cum, k=n)
            from lambdas.survey.layout import SPREAD, key_of

            shards = [(key_base(key_of(a.keys[k][0], a.slug, *a.keys[k][1:])) + rng.randrange(SPREAD)) % SHARDS
                      for k in picks]
            for k, shard in zip(picks, shards):
                cell = cells.setdefault((k, shard), [0, 0])
                cell[0] += 1
                cell[1] += rng.random() < VALID
            for (k, shard), (r, v) in cells.items():
                q, channel, province = a.keys[k]
                records.append((shard, q, a.slug, channel, province, r, v))
        out[day] = records
    return out


def counter_raw(day: str, r: Record) -> dict[str, Any]:
    """The item the counting transaction leaves: its key and the attributes it sets."""
    from lambdas.survey.layout import counter_key

    shard, q, sponsor, channel, province, received, valid = r
    return {**counter_key(day, shard, q, sponsor, channel, province),
            "received": {"N": str(received)}, "valid": {"N": str(valid)}}


def counter_partitions(records: dict[str, list[Record]]) -> dict[str, list[tuple[str, Record]]]:
    """The stand-in's partitions: pk -> (day, record) of every counter item in it."""
    from lambdas.survey.layout import counter_partition

    parts: dict[str, list[tuple[str, Record]]] = defaultdict(list)
    for day, recs in records.items():
        for r in recs:
            parts[counter_partition(day, r[0])].append((day, r))
    return parts


# ---- the counts API -----------------------------------------------------------------------------------------------

def endpoints(slug: str) -> list[tuple[str, str, dict[str, str] | None]]:
    return [("/api/counts", "/api/counts", None), ("/api/counts/sponsors", "/api/counts/sponsors", None),
            ("/api/counts/sponsors/{slug}", f"/api/counts/sponsors/{slug}", {"slug": slug}),
            ("/api/counts/provinces", "/api/counts/provinces", None)]


def get_event(route: str, path: str, params: dict[str, str] | None) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) GET event, shaped like tests/events/submit.json."""
    e = json.loads((ROOT / "tests" / "events" / "submit.json").read_text(encoding="utf-8"))
    e.update(routeKey=f"GET {route}", rawPath=path, rawQueryString="", queryStringParameters=None, body="",
             isBase64Encoded=False, pathParameters=params)
    e["requestContext"].update(routeKey=f"GET {route}")
    e["requestContext"]["http"].update(method="GET", path=path)
    e["headers"].pop("content-type", None)
    return e


def call(event: dict[str, Any]) -> tuple[float, str]:
    from lambdas import local
    from lambdas.counts import app as counts_app

    t0 = time.perf_counter()
    result = counts_app.handler(event, local.Context("counts", "bench"))
    elapsed = time.perf_counter() - t0
    if result["statusCode"] != 200:
        raise RuntimeError(f"{event['rawPath']}: {result['statusCode']} {result.get('body', '')[:200]}")
    return elapsed, result["body"]


def cold_read(client: Any, table: str, cat: Any, slug: str, repeats: int, size: str, backend: str,
              days: str) -> Read:
    """The four endpoints through the real handler over a fresh Source: the first reads the counters, the others
    (and every repeat) are served from its copy. The Source's clock is held still so that no repeat re-reads."""
    from lambdas.counts import app as counts_app
    from lambdas.survey.store import Store

    rec = Recording(client)
    store = Store(rec, table, SHARDS)
    counts_app.configure(counts_app.Source(store, cat, clock=lambda: 0.0))
    try:
        events = [(route, get_event(route, path, params)) for route, path, params in endpoints(slug)]
        cold, sizes, first = {}, {}, 0.0
        for i, (route, e) in enumerate(events):
            elapsed, body = call(e)
            if i == 0:
                first = elapsed - rec.bookkeeping
            cold[route] = first if i == 0 else elapsed
            raw = body.encode("utf-8")
            sizes[route] = (len(raw), len(gzip.compress(raw, 6)))
        cached = {}
        for route, e in events:
            cached[route] = statistics.median(call(e)[0] for _ in range(repeats))
    finally:
        counts_app.configure(None)
    alone = bare_queries(client, table, cat.days())
    return Read(size, backend, days, rec.items, rec.calls, rec.rcu, rec.reported, first, rec.seconds, alone, cold,
                cached, sizes)


def bare_queries(client: Any, table: str, days: list[str]) -> float:
    """The baseline: the Query calls Store.counters makes for the window, pages followed, items discarded."""
    from lambdas.survey.layout import counter_partition

    started = time.perf_counter()
    for day, shard in itertools.product(days, range(SHARDS)):
        kwargs: dict[str, Any] = {"TableName": table, "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": counter_partition(day, shard)}},
                                  "ProjectionExpression": "pk, sk, received, #v", "ExpressionAttributeNames": {"#v": "valid"}}
        while True:
            page = client.query(**kwargs)
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return time.perf_counter() - started


def print_read(r: Read) -> None:
    print(f"**{r.size}, {r.backend}** ({r.days}): {r.items:,} counter items in {r.queries} Query calls; "
          f"{r.rcu:,.1f} RCU computed from item sizes (the responses' ConsumedCapacity summed to {r.reported:,.1f})")
    print(f"- first request (reads the counters): {ms(r.first)}, of which inside the Query calls {ms(r.bare)} "
          f"({r.bare / r.first:.0%}); ours: {ms(r.first - r.bare)} = {(r.first - r.bare) / max(r.items, 1) * 1e6:.1f} µs per item")
    print(f"- baseline, the same {r.queries} Query calls on their own with nothing done with the items: {ms(r.alone)}\n")
    print("| endpoint | cold | cached (median) | response | gzip -6 |\n|---|---:|---:|---:|---:|")
    for route in r.cold:
        print(f"| {route} | {ms(r.cold[route])} | {ms(r.cached[route])} | {kb(r.sizes[route][0])} KB | {kb(r.sizes[route][1])} KB |")
    print()


def span_all(days: list[str]) -> str:
    return f"{len(days) * SHARDS} of {len(days) * SHARDS} partitions, the whole window"


def slowest_cached(r: Read) -> str:
    route = max(r.cached, key=r.cached.get)
    return f"{ms(r.cached[route])} ({route})"


# ---- where the reading request's time goes ------------------------------------------------------------------------

def median_time(fn: Callable[[], Any], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def gc_cost(cat: Any, stand_in: Callable[[], Any]) -> tuple[float, float]:
    """Source.rows() over the stand-in with Python's cyclic garbage collector on, then off (best of two each): the
    hundreds of thousands of dicts alive during the read make every full collection walk them all."""
    import gc

    from lambdas.counts import app as counts_app
    from lambdas.survey.store import Store

    def read(collect: bool) -> float:
        source = counts_app.Source(Store(stand_in(), "memory", SHARDS), cat)
        gc.collect()
        if not collect:
            gc.disable()
        try:
            t0 = time.perf_counter()
            source.rows()
            return time.perf_counter() - t0
        finally:
            gc.enable()

    return min(read(True) for _ in range(2)), min(read(False) for _ in range(2))


def profile(records: dict[str, list[Record]], cat: Any, slug: str, client_model: Any,
            stand_in: Callable[[], Any]) -> tuple[float, float]:
    """Our functions one by one on the whole window, and boto3's parse cost; returns (boto3 µs per item, MB held)."""
    from botocore import parsers

    from lambdas.survey import counts
    from lambdas.survey.store import _plain

    on, off = gc_cost(cat, stand_in)

    raws = [counter_raw(day, r) for day, recs in records.items() for r in recs]
    n = len(raws)
    plain_t = median_time(lambda: [_plain(x) for x in raws], 3)
    items = [_plain(x) for x in raws]
    merge_t = median_time(lambda: counts.rows_from_items(items), 3)
    rows = counts.rows_from_items(items)
    days = cat.days()
    views: list[tuple[str, Callable[[], Any]]] = [
        ("counts.campaign", lambda: counts.campaign(rows, days)), ("counts.unattributed", lambda: counts.unattributed(rows)),
        ("counts.leaderboard", lambda: counts.leaderboard(rows, cat)),
        ("counts.sponsor", lambda: counts.sponsor(rows, cat, slug, days)), ("counts.provinces", lambda: counts.provinces(rows))]
    print(f"{n:,} counter items merged into {len(rows):,} rows.\n")
    print("| step | time | per item or row |\n|---|---:|---:|")
    print(f"| store._plain (every item, in Store.counters) | {ms(plain_t)} | {plain_t / n * 1e6:.2f} µs/item |")
    print(f"| counts.rows_from_items (in Source.rows) | {ms(merge_t)} | {merge_t / n * 1e6:.2f} µs/item |")
    for name, fn in views:
        t = median_time(fn)
        out = fn()
        dump = median_time(lambda out=out: json.dumps(out, ensure_ascii=False))
        print(f"| {name} + json.dumps | {ms(t)} + {ms(dump)} | {t / len(rows) * 1e6:.2f} µs/row |")
    print(f"| cyclic GC during Source.rows (stand-in included: {ms(on)} with, {ms(off)} without) | {ms(on - off)} "
          f"| {(on - off) / n * 1e6:.2f} µs/item |")
    # boto3 turns each Query response's JSON into dicts: a per-item cost a Lambda pays whatever DynamoDB's speed.
    page = raws[:5000]
    body = json.dumps({"Items": page, "Count": len(page), "ScannedCount": len(page)}).encode()
    parser = parsers.create_parser("json")
    parse_t = median_time(lambda: parser.parse({"body": body, "headers": {}, "status_code": 200}, client_model.output_shape), 3)
    per_item = parse_t / len(page) * 1e6
    # Source.rows holds every item as a plain dict at once before merging; estimate from one as boto3 makes it.
    one = _plain(json.loads(json.dumps(raws[len(raws) // 2])))
    held = n * (sys.getsizeof(one) + sum(sys.getsizeof(v) for v in one.values())) / KB / KB
    print(f"\nboto3's parsing of a Query response: {per_item:.1f} µs per counter item ({per_item * n / 1e6:.2f} s for these).")
    print(f"Source.rows holds all {n:,} plain items in one list before merging: ≈ {held:,.0f} MB "
          f"(the counts function has {LAMBDA_MB} MB).")
    return per_item, held


# ---- 1. counts, per size ------------------------------------------------------------------------------------------

def bench_size(size: int, sample: dict[str, Any], unit: float, qids: list[str], args: argparse.Namespace,
               tmp: Path, report: Report) -> None:
    from lambdas.survey import catalog as catalogs

    data, label = catalog_data(sample, size)
    section(f"1. Counts API: {label}")
    path = tmp / f"sponsors-{size}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    cat = catalogs.load(path)
    days = cat.days()
    t0 = time.perf_counter()
    records = counter_records(audiences(data, qids), days, unit)
    total = sum(len(r) for r in records.values())
    submissions = sum(r[5] for recs in records.values() for r in recs)
    print(f"Drawn in {time.perf_counter() - t0:.1f} s: {submissions:,} submissions' worth over {len(days)} days, "
          f"{total:,} counter items ({total / submissions:.2f} per submission); "
          f"per day {min(map(len, records.values())):,}–{max(map(len, records.values())):,}.")
    slug = next(s for s, info in cat.sponsors.items() if info.kind == "initiator")

    # a. moto over HTTP: whole partitions (one day's shard), in window order, within the budget
    parts = counter_partitions(records)
    seeded, n = [], 0
    for pk in sorted(parts):
        if seeded and n + len(parts[pk]) > args.moto_items:
            break
        seeded.append(pk)
        n += len(parts[pk])
    first, last = seeded[0].removeprefix("C#"), seeded[-1].removeprefix("C#")
    span = f"{len(seeded)} of {len(days) * SHARDS} partitions: " + (first if first == last else f"{first}…{last}")
    table = f"survey-bench-{size}"
    with moto_table(table) as client:
        n, seconds = batch_write(client, table, (counter_raw(*dr) for pk in seeded for dr in parts[pk]))
        print(f"\nmoto: seeded {n:,} counter items ({span}) with batch_write_item in {seconds:.0f} s "
              f"({n / seconds:,.0f} items/s).\n")
        read = cold_read(client, table, cat, slug, args.requests, label, "moto over HTTP", span)
        model = client.meta.service_model.operation_model("Query")
    print_read(read)
    per_call = read.alone / read.queries / n
    print(f"moto's Query here: {per_call * 1e6:.0f} µs per table item per call; the whole window ({total:,} items, "
          f"{len(days) * SHARDS} calls) would take ≈ {per_call * total * len(days) * SHARDS / 60:.0f} min per read.\n")
    report.reads.append(read)

    # b. the whole window, in memory
    stand_in = MemoryClient(parts, lambda _pk, dr: counter_raw(*dr))
    mem = cold_read(stand_in, "memory", cat, slug, args.requests, label, "in-memory stand-in", span_all(days))
    print_read(mem)
    report.reads.append(mem)

    section(f"1. Where the reading request's time goes: {label}, whole window")
    parse_us, held = profile(records, cat, slug, model, lambda: MemoryClient(parts, lambda _pk, dr: counter_raw(*dr)))
    ours = mem.first - mem.bare
    projected = parse_us * mem.items / 1e6 + ours
    print(f"\nClient-side work per refresh (boto3's parsing + ours, DynamoDB's own time excluded): {projected:.2f} s here; "
          f"at {LAMBDA_MB} MB Lambda has ~{LAMBDA_MB / FULL_VCPU_MB:.2f} of a vCPU, so ≈ {projected * FULL_VCPU_MB / LAMBDA_MB:.1f} s "
          f"against the function's 10 s timeout, before DynamoDB's {mem.queries} sequential queries.")
    cost = mem.rcu / 1e6 * args.price
    print(f"Cost per full refresh: {mem.rcu:,.1f} RCU = ${cost:.5f} at ${args.price} per million read request units; "
          f"one refresh a minute = ${cost * REFRESHES_PER_DAY:.2f}/day.")
    report.costs.append(f"{label}: {mem.rcu:,.0f} RCU per full refresh = ${cost:.5f}; one a minute: "
                        f"${cost * REFRESHES_PER_DAY:.2f}/day; client-side work per refresh ≈ {projected:.1f} s on this "
                        f"machine (boto3 {parse_us:.0f} µs/item + ours), items held at once ≈ {held:,.0f} MB")


# ---- 2. export ----------------------------------------------------------------------------------------------------

def submission_records(n: int, survey: Any, auds: list[Audience], days: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(pk, attributes) of n counted submissions: a sponsor and channel by the audiences' weights, a day by the
    window's shape, answers from 200 sets per questionnaire (the province is the answers' own)."""
    from lambdas.survey.catalog import BEIJING, UNATTRIBUTED
    from tests.lambdas.answers import valid_answers

    rng = random.Random(SEED)
    answer_sets = {}
    for qid, qn in survey.questionnaires.items():
        sets = []
        for i in range(200):
            clean = valid_answers(qn, random.Random(i))
            sets.append((json.dumps(clean, ensure_ascii=False, separators=(",", ":")), qn.province_of(clean)))
        answer_sets[qid] = sets
    cum, total = [], 0.0
    for a in auds:
        total += a.weight
        cum.append(total)
    day_cum = list(itertools.accumulate(DAY_SHAPE[: len(days)]))
    reasons = ("too_fast", "repeat_device", "repeat_answers", "honeypot")
    out = []
    for a, d in zip(rng.choices(auds, cum_weights=cum, k=n), rng.choices(range(len(days)), cum_weights=day_cum, k=n)):
        qid, channel, _ = a.keys[rng.choices(range(len(a.keys)), cum_weights=a.cum)[0]]
        answers, province = rng.choice(answer_sets[qid])
        sub_id = f"{rng.getrandbits(128):032x}"
        start = datetime.fromisoformat(days[d]).replace(hour=9, tzinfo=BEIJING)
        received = (start + timedelta(seconds=rng.randrange(15 * 3600))).astimezone(UTC)
        valid = rng.random() < VALID
        attrs = {"id": sub_id, "questionnaire": qid, "sponsor": a.slug, "channel": channel, "province": province,
                 "day": days[d], "received": received.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                 "valid": valid, "digest": hashlib.sha256(f"{qid}|{a.slug}|{channel}|{answers}".encode()).hexdigest(),
                 "answers": answers, "shard": int(sub_id[:8], 16) % SHARDS, "seconds": rng.randrange(60, 1500),
                 "ip_hash": f"{rng.getrandbits(128):032x}", "counted": received.isoformat(timespec="seconds")[:19] + "Z"}
        if not valid:
            attrs["reasons"] = [rng.choice(reasons)]
        if a.slug == UNATTRIBUTED:
            attrs["claimed"] = "old-poster-2019/poster"
        out.append((f"S#{sub_id}", attrs))
    return out


def submission_raw(pk: str, a: dict[str, Any]) -> dict[str, Any]:
    """The stored item, as Store.put_pending writes it and Store.count leaves it (no `pending`, `counted` set)."""
    raw: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": "submission"}}
    for k, v in a.items():
        if isinstance(v, bool):
            raw[k] = {"BOOL": v}
        elif isinstance(v, int):
            raw[k] = {"N": str(v)}
        elif isinstance(v, list):
            raw[k] = {"L": [{"S": x} for x in v]}
        else:
            raw[k] = {"S": v}
    return raw


def export_rates(client: Any, table: str, survey: Any, tmp: Path, n: int, backend: str) -> Export:
    """Scan only, then export to CSV, then to CSV + Parquet, each reading through _parallel(store, 4)."""
    from lambdas.admin import export
    from lambdas.admin.__main__ import _parallel
    from lambdas.survey.store import Store

    store = Store(client, table, SHARDS)
    t0 = time.perf_counter()
    scanned = sum(1 for _ in _parallel(store, 4))
    scan = time.perf_counter() - t0
    if scanned != n:
        raise RuntimeError(f"scanned {scanned} rows of {n}")
    rates = []
    for name, formats in (("csv", ("csv",)), ("both", ("csv", "parquet"))):
        out = tmp / f"export-{backend.split()[0]}-{name}"
        t0 = time.perf_counter()
        written = export.export(_parallel(store, 4), survey, out, export.Filters(), formats)
        rates.append(sum(written.values()) / (time.perf_counter() - t0))
    sizes = {ext: sum(p.stat().st_size for p in out.glob(f"*.{ext}")) for ext in ("csv", "parquet")}
    return Export(n, backend, n / scan, rates[0], rates[1], sizes["csv"], sizes["parquet"])


def print_export(e: Export) -> None:
    print(f"**{e.rows:,} submissions, {e.backend}**: scan only {e.scan:,.0f} rows/s; export CSV {e.csv:,.0f} rows/s; "
          f"CSV + Parquet {e.both:,.0f} rows/s; files: CSV {e.csv_bytes / KB / KB:.1f} MB (with suggestions.csv), "
          f"Parquet {e.parquet_bytes / KB / KB:.1f} MB\n")


def bench_export(sample: dict[str, Any], qids: list[str], args: argparse.Namespace, tmp: Path, report: Report) -> None:
    from lambdas.survey import catalog as catalogs
    from lambdas.survey import questionnaire

    section("2. Export")
    survey = questionnaire.load()
    path = tmp / "sponsors-export.json"
    path.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    days = catalogs.load(path).days()
    t0 = time.perf_counter()
    subs = submission_records(max(args.submissions, args.moto_submissions), survey, audiences(sample, qids), days)
    size = statistics.mean(item_size(submission_raw(*s)) for s in subs[:2000])
    print(f"Drawn {len(subs):,} submissions in {time.perf_counter() - t0:.1f} s; {size:,.0f} bytes per item on average.\n")

    table = "survey-bench-export"
    with moto_table(table) as client:
        n, seconds = batch_write(client, table, (submission_raw(*s) for s in subs[: args.moto_submissions]))
        print(f"moto: seeded {n:,} submissions with batch_write_item in {seconds:.0f} s ({n / seconds:,.0f} items/s). "
              f"Its Scan sorts the whole table for every 1 MB page, so it is scanned at this size only; the full "
              f"{args.submissions:,} are exported from the in-memory stand-in.")
        moto = export_rates(client, table, survey, tmp, n, "moto over HTTP")
    print_export(moto)
    report.exports.append(moto)

    parts: dict[str, list[dict[str, Any]]] = {pk: [a] for pk, a in subs[: args.submissions]}
    mem = export_rates(MemoryClient(parts, submission_raw), "memory", survey, tmp, len(parts), "in-memory stand-in")
    print_export(mem)
    report.exports.append(mem)


# ---- summary ------------------------------------------------------------------------------------------------------

def summary(report: Report, price: float) -> None:
    section("Summary")
    print("| size | backend (partitions read) | counter items | queries | RCUs | first request | cached request (slowest, median) "
          "| bare queries (same calls alone) | response KB (counts / sponsors / one sponsor / provinces) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in report.reads:
        sizes = " / ".join(kb(s[0]) for s in r.sizes.values())
        print(f"| {r.size} | {r.backend} ({r.days}) | {r.items:,} | {r.queries} | {r.rcu:,.1f} | {ms(r.first)} | "
              f"{slowest_cached(r)} | {ms(r.alone)} | {sizes} |")
    print(f"\nCost at ${price} per million read request units (on-demand, eventually consistent):")
    for line in report.costs:
        print(f"- {line}")
    print("\n| submissions | backend | scan only (baseline) | export CSV | export CSV + Parquet | CSV | Parquet |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for e in report.exports:
        print(f"| {e.rows:,} | {e.backend} | {e.scan:,.0f} rows/s | {e.csv:,.0f} rows/s | {e.both:,.0f} rows/s | "
              f"{e.csv_bytes / KB / KB:.1f} MB | {e.parquet_bytes / KB / KB:.1f} MB |")
    for note in report.notes:
        print(f"\n{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[135, 1000],
                        help="sponsors: the sample's number of initiators (135) uses sponsors.yaml as it is; others list that many")
    parser.add_argument("--submissions", type=int, default=100_000, help="submissions exported from the in-memory stand-in")
    parser.add_argument("--moto-submissions", type=int, default=10_000, help="submissions seeded into and exported from moto")
    parser.add_argument("--volume", type=int, default=300_000, help="submissions over the window at the sample's sponsor list")
    parser.add_argument("--moto-items", type=int, default=10_000,
                        help="counter items seeded into moto per size, whole partitions (a day's shard) in window order")
    parser.add_argument("--requests", type=int, default=50, help="cached requests per endpoint")
    parser.add_argument("--price", type=float, default=0.25, help="USD per million read request units")
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from lambdas.survey import questionnaire

    started = time.monotonic()
    print(f"cores: {os.cpu_count()}; Python {sys.version.split()[0]}")
    report = Report(notes=[(
        "KB = 1024 bytes. RCUs are computed from DynamoDB's item-size rules (moto reports a constant 1.0 per call). "
        "'moto over HTTP' times are nearly all moto's: its Query sorts the whole table on every call and it returns "
        "about a thousand items a second, where DynamoDB returns a 1 MB page in tens of milliseconds. "
        "'in-memory stand-in' is our code at full scale; its bare time is the stand-in building the items' dicts. "
        "In both, first request minus the time inside its Query calls is ours.")])
    qids = list(questionnaire.load().questionnaires)
    sample = sample_catalog()
    # Submissions per unit of sponsor weight per day, so that the sample list draws --volume over its window.
    unit = args.volume / (len(DAY_SHAPE) * sum(a.weight for a in audiences(sample, qids)))
    with tempfile.TemporaryDirectory(prefix="bench-counts-") as tmp_name:
        tmp = Path(tmp_name)
        for size in args.sizes:
            guarded(report, f"counts at {size}", lambda size=size: bench_size(size, sample, unit, qids, args, tmp, report))
        if args.submissions or args.moto_submissions:
            guarded(report, "export", lambda: bench_export(sample, qids, args, tmp, report))
    summary(report, args.price)
    print(f"\n(run time {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
