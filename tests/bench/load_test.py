"""Load test of the local stack: the 09:00 burst of the opening day, through real HTTP, with throttles injected.

    .venv/bin/python tests/bench/load_test.py [--submissions 3000] [--workers 16] [--retry-rate 0.3]
        [--lost-rate 0.05] [--throttle-rate 0.05] [--max-seconds 300] [--seed 1]

In one process, on loopback only:

1. A "site" folder with only what the API reads: `sponsors.json` (the sample's sponsors, the window moved to open
   today at 00:00 Beijing time), `questionnaires.json` and `rules.json`: the published rules with `min_seconds` set
   to 0, since the burst submits seconds after fetching its challenges and would otherwise be all `too_fast`, which
   skips the validity ledger's writes (the answers marker, the device's and the address's places): the cheaper path.
2. The real local stack, `lambdas.local.stack(site, port=0)`: real HTTP to the adapter, real HTTP from the handlers
   to moto's DynamoDB server. The submit handler gets an intake built here, with the template's environment for
   that function (its keys from the stack's Secrets Manager), on a DynamoDB client whose botocore `before-call`
   hooks raise `ProvisionedThroughputExceededException` (PutItem: the answers marker or the store step, so a 503)
   or `ThrottlingException` (TransactWriteItems: the count step, so the count is deferred to the sweeper) at
   --throttle-rate per call (a new valid submission makes two PutItems, so about twice that share of requests get
   a 503). Project code is untouched; the hooks only wrap the client handed to `create()`.
3. Baselines from the same thread pool: GET /api/challenge?id=<id>, once for every planned submission (the adapter,
   Powertools and one conditional DynamoDB update: the address's daily allowance), and moto's PutItem one at a
   time (the adapter's lock serializes every handler call, so that is the database's ceiling); and one
   TransactWriteItems on the survey table before and after the burst (moto copies the whole table per
   transaction, so the counting step costs more as the table grows). Each challenge is then solved at the stack's
   own difficulty in worker processes, outside every timing.
4. The burst: --submissions submissions from --workers threads, sponsors drawn Zipf-like (a few big platforms bring
   most samples), both questionnaires (mostly public), valid random answers, a device token and the proof of work
   solved for its own id (a challenge is bound to one submission).
   --retry-rate of them are sent 2–4 times at once (the same body from several threads); --lost-rate of them have
   their first 200 discarded and the same body sent again later, as a phone that lost the response; 503s are retried
   after Retry-After scaled down to 50 ms, up to an attempt cap. Nothing is sent after --max-seconds.
5. The sweeper (`lambdas.sweep.app.sweep`, two minutes ahead so nothing is too young) and `recount.check`, under the
   adapter's lock since moto's transactions are not safe concurrently; then every figure, as a Markdown table, with
   what else was seen: DynamoDB calls botocore retried (timeouts, 5xx), listen-queue overflows, peak memory, the
   stack's own output other than access lines.

Exits 1 on any loss, double count, drift, pending leftover, unexpected status, or fault injection that did not show
as it should; 0 otherwise. `run(Config(...))` returns the same figures as a dict (tests/e2e/test_load.py).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import queue
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from the repo root: `tests` is not an installed package

from tests.helpers import beijing_midnight, write_catalog  # noqa: E402

PUBLIC_SHARE = 0.85  # most respondents take the public questionnaire
ZIPF_S = 1.2  # with ~260 sponsors the top five bring about half the samples
RETRY_AFTER_SCALE = 1 / 60  # the handler's Retry-After of 3 s becomes 50 ms: the run stays short, the order holds
ATTEMPTS = 10  # per copy of a submission: a phone gives up (and keeps its draft) after a while
BARRIER_WAIT = 1.0  # seconds the copies of one submission wait for each other before going anyway
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Config:
    submissions: int = 3000
    workers: int = 16
    retry_rate: float = 0.30  # sent 2–4 times at once
    lost_rate: float = 0.05  # first 200 discarded, the same body sent again later
    throttle_rate: float = 0.05  # of the submit handler's PutItem and TransactWriteItems calls
    max_seconds: float = 300.0
    seed: int = 1
    progress: bool = False  # a line every few seconds while sending (the script; not the test)


# ---- the site folder ----------------------------------------------------------------------------------------------

def write_site(folder: Path) -> Path:
    """Only what the API reads; a full site build would cost a minute and change nothing here."""
    from lambdas.survey import rules

    data = rules.read()
    data["limits"]["min_seconds"] = {q: 0 for q in data["limits"]["min_seconds"]}  # see the module's docstring
    write_catalog(folder, beijing_midnight().isoformat(), rules_text=rules.dumps(data))
    rules.load(folder / "rules.json")  # the function must be able to read it
    return folder


# ---- fault injection ----------------------------------------------------------------------------------------------

THROTTLES = {"PutItem": "ProvisionedThroughputExceededException", "TransactWriteItems": "ThrottlingException"}
COUNTED = ("UpdateItem",)  # the validity ledger's places and the challenge allowance: counted, never throttled


class Faults:
    """botocore hooks that throttle a share of the submit handler's writes before they leave the client."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()

    def attach(self, client: Any) -> Any:
        for operation in (*THROTTLES, *COUNTED):
            client.meta.events.register(f"before-call.dynamodb.{operation}", self._hook(operation))
        return client

    def _hook(self, operation: str) -> Callable[..., None]:
        from botocore.exceptions import ClientError

        def hook(**_: Any) -> None:
            with self._lock:
                self.calls[operation] += 1
                hit = operation in THROTTLES and self._rng.random() < self.rate
                if hit:
                    self.injected[operation] += 1
            if hit:
                # Raised before the request is sent: nothing was written, exactly as a throttle leaves it.
                raise ClientError({"Error": {"Code": THROTTLES[operation], "Message": "injected by the load test"},
                                   "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)

        return hook


class Retries:
    """Every DynamoDB call a client's own retry logic looked at because it failed: a timeout or a 5xx is retried
    by botocore, and a retried write may meet its first attempt still running in the database."""

    SUBMISSION = re.compile(r'"S#([A-Za-z0-9_-]+)"')

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.ids: set[str] = set()  # submissions whose call was retried: to match against any drift
        self._lock = threading.Lock()

    def attach(self, client: Any, who: str) -> Any:
        def hook(response: Any = None, caught_exception: Exception | None = None, attempts: int = 1,
                 operation: Any = None, request_dict: dict | None = None, **_: Any) -> None:
            status = response[0].status_code if response is not None else None
            if caught_exception is not None or (status or 0) >= 500:
                what = repr(caught_exception)[:120] if caught_exception is not None else f"HTTP {status}"
                body = (request_dict or {}).get("body") or b""
                found = self.SUBMISSION.search(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
                with self._lock:
                    self.seen.append(f"{who} {operation.name} attempt {attempts}"
                                     f"{' (S#' + found.group(1) + ')' if found else ''}: {what}")
                    if found:
                        self.ids.add(found.group(1))

        client.meta.events.register("needs-retry.dynamodb", hook)
        return client


SUBMIT, SWEEP = "lambdas.submit.app.handler", "lambdas.sweep.app.handler"


def configure_functions(stk: Any, faults: Faults, retries: Retries) -> Any:
    """Start the submit function (and the sweeper's store) as the stack would at their first call, with exactly
    the template's environment for each, but on clients observed here. Returns the submit function's settings."""
    from lambdas import local
    from lambdas.submit import app as submit_app
    from lambdas.survey.settings import Settings

    with stk.api.lock, local.environ(stk.api.environments[SUBMIT]):
        settings = Settings.from_env()
        # The client reads its endpoint and credentials from this environment, as create() would.
        submit_app.configure(submit_app.create(settings, client=retries.attach(faulty_client(faults), "submit")))
    with stk.api.lock, local.environ(stk.api.environments[SWEEP]):
        observe_sweeper(retries, Settings.from_env())
    return settings


def faulty_client(faults: Faults) -> Any:
    """A client like the one `create()` makes (same retries and timeouts), with the fault hooks attached."""
    import boto3
    from botocore.config import Config as BotoConfig

    client = boto3.client("dynamodb", config=BotoConfig(retries={"max_attempts": 2, "mode": "standard"},
                                                        connect_timeout=2, read_timeout=3))
    return faults.attach(client)


def observe_sweeper(retries: Retries, settings: Any) -> None:
    """Give the stack's scheduled sweeper the store its handler would build (same default client), observed."""
    import boto3

    from lambdas.survey.store import Store
    from lambdas.sweep import app as sweep_app

    sweep_app._store = Store(retries.attach(boto3.client("dynamodb"), "sweeper"), settings.table, settings.shards)


def plain_client(database_url: str) -> Any:
    import boto3

    return boto3.client("dynamodb", endpoint_url=database_url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


# ---- what the stack says while it runs ----------------------------------------------------------------------------

class Sink(io.TextIOBase):
    """A stream that keeps whole lines and hands them to `on_line` (thread-safe)."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__()
        self._on_line = on_line
        self._buffer = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
            for line in lines:
                if line.strip():
                    self._on_line(line)
        return len(text)


ACCESS_LINE = re.compile(r'"(GET|POST) /api/\S* HTTP/1\.[01]" \d{3}')


@dataclass
class Logs:
    """What the handlers logged (JSON lines) and what else reached stderr (access lines are only counted)."""

    statuses: Counter[int] = field(default_factory=Counter)
    deferred: int = 0  # "count": "deferred": the count step was throttled, the sweeper's to count
    retries: int = 0  # a request found its id already stored
    swept: int = 0  # counted by the stack's own scheduled sweeper while the burst ran
    access_lines: int = 0
    other: list[str] = field(default_factory=list)  # tracebacks, warnings: evidence if something broke
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handler_line(self, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            self.stderr_line(line)
            return
        with self._lock:
            if record.get("message") == "submission":
                self.statuses[int(record.get("status", 0))] += 1
                self.deferred += record.get("count") == "deferred"
                self.retries += bool(record.get("retry"))
            elif record.get("message") == "swept":
                self.swept += int(record.get("counted", 0))
            else:
                self.other.append(line[:300])

    def stderr_line(self, line: str) -> None:
        with self._lock:
            if ACCESS_LINE.search(line):
                self.access_lines += 1
            else:
                self.other.append(line[:300])


@contextmanager
def captured(logs: Logs) -> Iterator[None]:
    """Route the handlers' log lines and the adapter's access lines to `logs` for the run: thousands of lines on
    the terminal would slow the run and hide the report, and the submit log is the evidence of deferred counts."""
    from lambdas.submit import app as submit_app
    from lambdas.sweep import app as sweep_app

    handlers = [submit_app.logger.registered_handler, sweep_app.logger.registered_handler]
    sink = Sink(logs.handler_line)
    old = [h.setStream(sink) for h in handlers]
    try:
        with redirect_stderr(Sink(logs.stderr_line)):
            yield
    finally:
        for h, stream in zip(handlers, old):
            h.setStream(stream)


# ---- HTTP ---------------------------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int  # 0: no response (connection error, timeout)
    body: bytes
    retry_after: float
    started: float
    seconds: float


def request(base: str, method: str, path: str, body: bytes | None = None) -> Response:
    """One request on a fresh connection, as the adapter (HTTP/1.0) closes each one anyway."""
    url = urlsplit(base)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        retry_after = float(resp.getheader("Retry-After") or 0)
        return Response(resp.status, data, retry_after, started, time.perf_counter() - started)
    except (OSError, http.client.HTTPException) as exc:
        return Response(0, str(exc).encode(), 0.0, started, time.perf_counter() - started)
    finally:
        conn.close()


class Pool:
    """A fixed set of worker threads on one FIFO queue. A task may queue another (a retry "later" goes to the back
    of the line), which an executor being shut down would refuse."""

    def __init__(self, workers: int) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]
        for t in self._threads:
            t.start()

    def put(self, task: Callable[[], None]) -> None:
        self._queue.put(task)

    def _work(self) -> None:
        while (task := self._queue.get()) is not None:
            try:
                task()
            except Exception as exc:  # noqa: BLE001 - a broken task is reported, the worker carries on
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def finish(self) -> None:
        self._queue.join()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped because a listening socket's accept queue was full (Linux,
    system-wide; None elsewhere). A 16-thread client against a server whose backlog is smaller shows up here, and
    each drop costs the client a SYN retransmission: a second or more of latency."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split())).get("ListenOverflows", 0))
    return None


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds (nearest rank)."""
    if not seconds:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    xs = sorted(seconds)

    def at(q: float) -> float:
        return xs[min(len(xs) - 1, max(0, round(q * len(xs)) - 1))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


# ---- baselines ----------------------------------------------------------------------------------------------------

def baseline_challenges(base: str, workers: int, ids: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """GET /api/challenge?id=<id> for every planned submission, from the pool: the API's cheapest request (one
    conditional update, the address's allowance). Returns the figures and each id's challenge (solved afterwards,
    outside the timing)."""
    pool = Pool(workers)
    responses: list[tuple[str, Response]] = []
    started = time.perf_counter()
    for sub_id in ids:
        pool.put(lambda sub_id=sub_id: responses.append((sub_id, request(base, "GET", f"/api/challenge?id={sub_id}"))))
    pool.finish()
    elapsed = time.perf_counter() - started
    ok = {sub_id: r for sub_id, r in responses if r.status == 200}
    challenges = {sub_id: json.loads(r.body)["challenge"] for sub_id, r in ok.items()}
    figures = {"requests": len(responses), "ok": len(ok), "seconds": elapsed, "per_s": len(responses) / elapsed,
               **percentiles([r.seconds for _, r in responses]), "errors": pool.errors}
    return figures, challenges


def baseline_puts(database_url: str, table: str, count: int) -> dict[str, Any]:
    """moto's PutItem one call at a time, on a scratch table: the adapter's lock lets the submit path no more."""
    client = plain_client(database_url)
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    times = []
    started = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        client.put_item(TableName=table, Item={"pk": {"S": f"b#{i}"}, "n": {"N": str(i)}},
                        ConditionExpression="attribute_not_exists(pk)")  # conditional, as every write of ours is
        times.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    client.delete_table(TableName=table)
    return {"requests": count, "seconds": elapsed, "per_s": count / elapsed, **percentiles(times)}


def probe_transaction(stk: Any) -> dict[str, float]:
    """What one TransactWriteItems on the survey table costs moto now (a lone ConditionCheck on a key that never
    exists: nothing is written), and how many items the table holds. moto copies every table a transaction names,
    so the counting step's cost follows the table's size; run before and after the burst to show it."""
    client = plain_client(stk.database_url)
    check = {"ConditionCheck": {"TableName": stk.table, "Key": {"pk": {"S": "load-test#probe"}, "sk": {"S": "probe"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}
    with stk.api.lock:  # alone, as the adapter runs every handler call
        items = client.describe_table(TableName=stk.table)["Table"]["ItemCount"]
        times = []
        for _ in range(3):
            t = time.perf_counter()
            client.transact_write_items(TransactItems=[check])
            times.append(time.perf_counter() - t)
    return {"items": items, "ms": min(times) * 1000}


def solve_all(challenges: dict[str, str]) -> tuple[dict[str, dict[str, str]], float]:
    """Each submission's proof at the stack's own difficulty (16 bits cost about 0.05 s of CPU each in Python), in
    worker processes: {id: proof}, and the seconds it took. A challenge is bound to its submission id, so every
    submission needs its own."""
    import concurrent.futures
    import multiprocessing

    from lambdas.submit import proof

    started = time.perf_counter()
    ids = list(challenges)
    todo = [challenges[i] for i in ids]
    # spawn, not fork: the stack's threads are running, and a forked child would inherit their locks mid-use
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 1,
                                                mp_context=multiprocessing.get_context("spawn")) as workers:
        nonces = list(workers.map(proof.solve, todo, chunksize=max(1, len(todo) // 64)))
    proofs = {i: {"challenge": c, "nonce": n} for i, c, n in zip(ids, todo, nonces)}
    return proofs, time.perf_counter() - started


# ---- the burst ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    id: str
    fields: dict[str, Any]  # the submission without its proof, which is fetched for its id once the plan is made
    copies: int  # sent this many times at once
    lost: bool  # the first 200 is discarded and the body sent again later
    body: bytes = b""  # what is sent: the fields and the proof (see `seal`)


def sponsor_weights(sponsors: dict[str, Any], rng: random.Random) -> tuple[list[str], list[float]]:
    """Every sponsor in the catalog, Zipf-weighted: core enterprises and media first (the big platforms), then
    the initiators, each group in a seeded order."""
    platforms = [s for s, info in sponsors.items() if info.kind != "initiator"]
    initiators = [s for s, info in sponsors.items() if info.kind == "initiator"]
    rng.shuffle(platforms)
    rng.shuffle(initiators)
    ranked = platforms + initiators
    return ranked, [1 / (rank + 1) ** ZIPF_S for rank in range(len(ranked))]


def plan(config: Config, settings: Any) -> list[Planned]:
    """Every submission of the burst, without its proof (see `seal`)."""
    from lambdas.survey import catalog, questionnaire
    from tests.lambdas.answers import valid_answers

    cat = catalog.load(settings.catalog)
    survey = questionnaire.load(settings.questionnaires)
    rng = random.Random(config.seed)
    ranked, weights = sponsor_weights(cat.sponsors, rng)
    sponsors = rng.choices(ranked, weights, k=config.submissions)
    out = []
    for i, sponsor in enumerate(sponsors):
        qid = "public" if rng.random() < PUBLIC_SHARE else "pro"
        body = {
            "id": f"load-{config.seed}-{i:06d}-{rng.getrandbits(32):08x}",
            "questionnaire": qid, "sponsor": sponsor, "channel": rng.choice(sorted(cat.sponsors[sponsor].channels)),
            "answers": valid_answers(survey.questionnaires[qid], rng),
            "homepage": "", "device": f"dev-{rng.getrandbits(64):016x}",
        }
        copies = rng.randint(2, 4) if rng.random() < config.retry_rate else 1
        out.append(Planned(body["id"], body, copies, rng.random() < config.lost_rate))
    return out


def seal(planned: list[Planned], proofs: dict[str, dict[str, str]]) -> list[Planned]:
    """Each submission with the proof solved for its own id; one whose challenge was refused is left out."""
    return [replace(p, body=json.dumps({**p.fields, "proof": proofs[p.id]}, ensure_ascii=False).encode())
            for p in planned if p.id in proofs]


@dataclass
class Burst:
    """Every request of the burst and what the client made of it."""

    base: str
    deadline: float  # time.perf_counter() after which nothing is sent
    pool: Pool | None = None
    requests: list[tuple[str, Response]] = field(default_factory=list)
    accepted: dict[str, float] = field(default_factory=dict)  # id -> time of its first 200
    sent: set[str] = field(default_factory=set)
    lost_responses: int = 0
    given_up: int = 0  # copies that hit the attempt cap
    cut: int = 0  # copies stopped by the time bound
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=lambda: random.Random(7))

    def post(self, sub: Planned) -> Response:
        with self._lock:
            self.sent.add(sub.id)
        r = request(self.base, "POST", "/api/submit", sub.body)
        with self._lock:
            self.requests.append((sub.id, r))
            if r.status == 200:
                self.accepted.setdefault(sub.id, r.started + r.seconds)
        return r

    def backoff(self, r: Response) -> float:
        with self._lock:
            jitter = 1 + self._rng.random() / 2
        return max(r.retry_after, 1.0) * RETRY_AFTER_SCALE * jitter

    def send(self, sub: Planned, barrier: threading.Barrier | None, lose: bool) -> None:
        if barrier is not None:
            try:
                barrier.wait(BARRIER_WAIT)  # the copies leave together, as a double tap or a flaky network sends them
            except threading.BrokenBarrierError:
                pass
        for _ in range(ATTEMPTS):
            if time.perf_counter() >= self.deadline:
                with self._lock:
                    self.cut += 1
                return
            r = self.post(sub)
            if r.status in (0, 429, 503):  # what the form's script retries
                time.sleep(self.backoff(r))
                continue
            if r.status == 200 and lose:
                with self._lock:
                    self.lost_responses += 1
                # The phone never saw this 200: it sends the same body again later (the back of the queue).
                assert self.pool is not None
                self.pool.put(lambda: self.send(sub, None, False))
            return
        with self._lock:
            self.given_up += 1


def run_burst(base: str, planned: list[Planned], workers: int, deadline: float, progress: bool) -> tuple[Burst, float]:
    burst = Burst(base, deadline)
    burst.pool = Pool(workers)
    stop = threading.Event()
    started = time.perf_counter()
    if progress:
        threading.Thread(target=_report_progress, args=(burst, len(planned), started, stop), daemon=True).start()
    for sub in planned:
        barrier = threading.Barrier(sub.copies) if sub.copies > 1 else None
        for copy in range(sub.copies):
            burst.pool.put(lambda sub=sub, copy=copy, barrier=barrier: burst.send(sub, barrier, sub.lost and copy == 0))
    burst.pool.finish()
    stop.set()
    return burst, time.perf_counter() - started


def _report_progress(burst: Burst, total: int, started: float, stop: threading.Event) -> None:
    while not stop.wait(5.0):
        statuses = Counter(r.status for _, r in list(burst.requests))
        print(f"  {time.perf_counter() - started:5.0f} s: {len(burst.accepted)}/{total} accepted, "
              f"{sum(statuses.values())} requests, {statuses.get(503, 0)} 503s", flush=True)


# ---- settling and checking ----------------------------------------------------------------------------------------

def settle(stk: Any, shards: int) -> dict[str, Any]:
    """The sweeper, then the recount and the table's contents, all under the adapter's lock."""
    from lambdas.survey import recount
    from lambdas.survey.store import Store
    from lambdas.sweep.app import sweep

    store = Store(plain_client(stk.database_url), stk.table, shards)
    with stk.api.lock:
        pending_before = sum(1 for s in store.scan("S#") if "pending" in s)
        swept = sweep(store, datetime.now(UTC) + timedelta(minutes=2))
        drift, pending = recount.check(store)
        stored = list(store.scan("S#"))
        counters = list(store.scan("C#"))
    drifted = {tuple(d[:6]) for d in drift}
    behind = {}  # drifted counter -> the counted submissions it should hold
    for s in stored:
        key = (s["day"], int(s["shard"]), s["questionnaire"], s["sponsor"], s["channel"], s["province"])
        if key in drifted and "pending" not in s:
            behind.setdefault(key, []).append(s["id"])
    return {
        "pending_before_sweep": pending_before, "swept": swept,
        "drift": [{**d._asdict(), "ids": behind.get(tuple(d[:6]), [])} for d in drift],
        "pending": pending, "stored_ids": {s["id"] for s in stored}, "stored": len(stored),
        "invalid_ids": {s["id"]: s.get("reasons", []) for s in stored if not s.get("valid")},
        "counted": sum(int(c.get("received", 0)) for c in counters),
        "counted_valid": sum(int(c.get("valid", 0)) for c in counters),
        "valid": sum(1 for s in stored if s.get("valid")),
        "reasons": dict(Counter(r for s in stored for r in s.get("reasons", []))),
        "sponsors_seen": len({s["sponsor"] for s in stored}),
    }


def sustained(accepted_at: list[float], started: float) -> dict[str, float]:
    """Accepted submissions per whole second of the burst: the median is the rate it holds, not its ramp or tail."""
    if not accepted_at:
        return {"median": 0.0, "min": 0.0, "max": 0.0}
    buckets = Counter(int(t - started) for t in accepted_at)
    full = [buckets.get(s, 0) for s in range(int(max(accepted_at) - started))]  # the last, partial second left out
    full = full or [len(accepted_at)]
    return {"median": statistics.median(full), "min": min(full), "max": max(full)}


def by_quarter(accepted_at: list[float], started: float, seconds: float) -> list[float]:
    """Accepted submissions/s in each quarter of the burst: a falling rate means each submission costs more as
    the table grows."""
    if not seconds:
        return [0.0] * 4
    quarter = seconds / 4
    counts = Counter(min(3, int((t - started) / quarter)) for t in accepted_at)
    return [counts.get(q, 0) / quarter for q in range(4)]


def figures(config: Config, burst: Burst, seconds: float, started: float, end: dict[str, Any], faults: Faults,
            burst_calls: Counter[str], logs: Logs, challenge: dict[str, Any], puts: dict[str, Any],
            probes: list[dict[str, float]], bits: int, solve_seconds: float) -> dict[str, Any]:
    statuses = Counter(r.status for _, r in burst.requests)
    accepted = set(burst.accepted)
    stored_ids = end.pop("stored_ids")
    invalid = end.pop("invalid_ids")
    # A submission that met a 503 and was then stored invalid: its retry was judged again (see the notes).
    after_503 = {i for i, r in burst.requests if r.status == 503}
    counted, stored = end["counted"], end["stored"]
    over = max(0, counted - stored) + sum(max(0, (d["actual"] or (0, 0))[0] - d["expected"][0]) for d in end["drift"])
    report = {
        "config": asdict(config), "proof": f"one challenge per submission from GET /api/challenge?id=, each solved "
                                           f"for its own id at the stack's {bits} bits ({challenge['ok']} proofs, "
                                           f"{solve_seconds:.0f} s in {os.cpu_count()} worker processes, outside "
                                           "every timing)",
        "sent": len(burst.sent), "requests": len(burst.requests), "ok": statuses.get(200, 0),
        "s503": statuses.get(503, 0), "s409": statuses.get(409, 0),
        "other": {str(k): v for k, v in sorted(statuses.items()) if k not in (200, 503, 409)},
        "accepted": len(accepted), **end,
        "lost": len(accepted - stored_ids), "phantom": len(stored_ids - accepted),
        "double_counted": over,
        "lost_responses": burst.lost_responses, "given_up": burst.given_up, "cut_by_time": burst.cut,
        "burst_seconds": seconds, "accepted_per_s": len(accepted) / seconds if seconds else 0.0,
        "requests_per_s": len(burst.requests) / seconds if seconds else 0.0,
        "sustained_per_s": sustained(list(burst.accepted.values()), started),
        "quarters_per_s": by_quarter(list(burst.accepted.values()), started, seconds),
        "latency_ms": percentiles([r.seconds for _, r in burst.requests]),
        "baseline_challenge": challenge, "baseline_puts": puts, "transaction_probe": probes,
        "injected": dict(faults.injected), "db_calls": dict(faults.calls), "burst_calls": dict(burst_calls),
        "invalid_after_503": {i: invalid[i] for i in sorted(after_503 & set(invalid))},
        "invalid_without_503": {i: invalid[i] for i in sorted(set(invalid) - after_503)},
        "logged": {"statuses": {str(k): v for k, v in sorted(logs.statuses.items())}, "deferred": logs.deferred,
                   "retries": logs.retries, "swept_by_stack": logs.swept, "access_lines": logs.access_lines},
        "stack_other_output": logs.other[:50], "task_errors": burst.pool.errors if burst.pool else [],
    }
    report["failures"] = failures(report)
    return report


def failures(r: dict[str, Any]) -> list[str]:
    found = []
    if r["lost"]:
        found.append(f"{r['lost']} accepted submissions are not stored")
    if r["double_counted"] or r["counted"] != r["stored"]:
        found.append(f"counted {r['counted']} ≠ stored {r['stored']} (double-counted {r['double_counted']})")
    if r["drift"]:
        found.append(f"{len(r['drift'])} counters drift from the recount")
    if r["pending"]:
        found.append(f"{r['pending']} submissions still pending after the sweep")
    if r["s409"] or r["other"]:
        found.append(f"unexpected statuses: 409 × {r['s409']}, others {r['other']}")
    if r["phantom"]:
        found.append(f"{r['phantom']} stored submissions were never accepted")
    # The hooks raise before the request is sent, and each submit request makes at most one throttled call
    # before it answers 503 (store step) or logs a deferred count (count step): the figures must match exactly.
    if r["s503"] != r["injected"].get("PutItem", 0):
        found.append(f"{r['injected'].get('PutItem', 0)} PutItem throttles injected but {r['s503']} 503s seen")
    if r["logged"]["deferred"] != r["injected"].get("TransactWriteItems", 0):
        found.append(f"{r['injected'].get('TransactWriteItems', 0)} count throttles injected but "
                     f"{r['logged']['deferred']} deferred counts logged")
    if r["task_errors"] or r["baseline_challenge"]["errors"]:
        found.append(f"client errors: {(r['task_errors'] + r['baseline_challenge']['errors'])[:3]}")
    if r["baseline_challenge"]["ok"] != r["baseline_challenge"]["requests"]:
        found.append("GET /api/challenge failed during the baseline")
    return found


def release_moto_copies() -> dict[str, int]:
    """moto (5.x) keeps every model instance it ever creates in `instances_tracked`, for its dashboard, and each
    TransactWriteItems deep-copies the whole table to roll back with: every copy stays reachable for the life of
    the process. Count them (the evidence), then drop the references once the database is stopped, so the test
    session or the script's exit does not carry gigabytes. The stack is gone by then: nothing else reads them."""
    from moto.core.model_instances import model_data

    models = model_data.get("dynamodb", {})
    kept = {name: len(getattr(model, "instances_tracked", [])) for name, model in models.items()
            if name in ("Table", "Item")}
    for model in models.values():
        model.instances_tracked = []  # type: ignore[attr-defined]
    return kept


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# ---- the run ------------------------------------------------------------------------------------------------------

@contextmanager
def isolated() -> Iterator[None]:
    """Leave the process as it was: the submit and sweep modules cache the intake and store configured here (a cached
    sweep store would point at an earlier, stopped database), and nothing here may leave variables behind."""
    from lambdas.submit import app as submit_app
    from lambdas.sweep import app as sweep_app

    env, intake, store = dict(os.environ), submit_app.intake, sweep_app._store
    sweep_app._store = None
    try:
        yield
    finally:
        submit_app.configure(intake)  # type: ignore[arg-type]
        sweep_app._store = store
        for k in set(os.environ) - set(env):
            del os.environ[k]
        os.environ.update(env)


def run(config: Config) -> dict[str, Any]:
    """The whole load test; returns every figure (and "failures", empty when all is well)."""
    from lambdas import local
    from lambdas.submit import app as submit_app

    started = time.perf_counter()
    deadline = started + config.max_seconds
    say = (lambda text: print(text, flush=True)) if config.progress else (lambda text: None)
    with tempfile.TemporaryDirectory(prefix="load-test-") as tmp, isolated():
        site = write_site(Path(tmp))
        with local.stack(site, port=0) as (stk, server):
            backlog = server.request_queue_size
            faults, retries = Faults(config.throttle_rate, config.seed), Retries()
            settings = configure_functions(stk, faults, retries)
            base = stk.url.rstrip("/")
            logs = Logs()
            with captured(logs):
                say(f"stack at {stk.url} (moto at {stk.database_url}); baselines ...")
                drafts = plan(config, settings)
                overflows = [listen_overflows()]
                challenge, challenges = baseline_challenges(base, config.workers, [p.id for p in drafts])
                overflows.append(listen_overflows())
                puts = baseline_puts(stk.database_url, "load-baseline", max(200, min(1000, config.submissions // 3)))
                say(f"solving {len(challenges)} proofs ...")
                proofs, solve_seconds = solve_all(challenges)
                probes = [probe_transaction(stk)]
                planned = seal(drafts, proofs)
                say(f"burst: {len(planned)} submissions from {config.workers} threads ...")
                calls_before = Counter(faults.calls)
                burst_start = time.perf_counter()
                overflows.append(listen_overflows())
                burst, seconds = run_burst(base, planned, config.workers, deadline, config.progress)
                overflows.append(listen_overflows())
                burst_calls = Counter(faults.calls) - calls_before
                probes.append(probe_transaction(stk))
                say("sweep and recount ...")
                end = settle(stk, settings.shards)
            report = figures(config, burst, seconds, burst_start, end, faults, burst_calls, logs, challenge, puts,
                             probes, submit_app.intake.rules.proof_bits, solve_seconds)
    report["backlog"] = backlog
    report["db_retries"] = retries.seen
    report["db_retry_ids"] = sorted(retries.ids)
    report["listen_overflows"] = (None if None in overflows else
                                  {"baseline": overflows[1] - overflows[0], "burst": overflows[3] - overflows[2]})
    report["moto_kept"] = release_moto_copies()
    report["peak_rss_mb"] = peak_rss_mb()
    report["concurrent"] = sum(1 for p in planned if p.copies > 1)
    report["planned_lost"] = sum(1 for p in planned if p.lost)
    report["unsent"] = len(drafts) - report["sent"]
    report["total_seconds"] = time.perf_counter() - started
    return report


# ---- the report ---------------------------------------------------------------------------------------------------

def markdown(r: dict[str, Any]) -> str:
    c = r["config"]
    title = (f"## Load test: {c['submissions']} submissions, {c['workers']} threads, retries {c['retry_rate']:.0%}, "
             f"lost responses {c['lost_rate']:.0%}, throttles {c['throttle_rate']:.0%}, seed {c['seed']}")
    if r["failures"]:
        result = "**FAILED**: " + "; ".join(r["failures"])
    else:
        result = "OK: every accepted submission stored once and counted once"
    return "\n".join([title, "", *_figures(r), "", *_baselines(r), "", *_notes(r), "", f"Result: {result}"])


def _figures(r: dict[str, Any]) -> list[str]:
    lat, s, n = r["latency_ms"], r["sustained_per_s"], len(r["drift"])
    unsent = f" ({r['unsent']} not sent: time bound)" if r["unsent"] else ""
    rows = [
        ("submissions sent (distinct ids)", f"{r['sent']}{unsent}"),
        ("HTTP requests made (POST /api/submit)", r["requests"]),
        ("200", r["ok"]),
        ("503 (injected store throttles, retried)", r["s503"]),
        ("409 (must be 0)", r["s409"]),
        ("other statuses", ", ".join(f"{k} × {v}" for k, v in r["other"].items()) or "none"),
        ("distinct ids accepted", r["accepted"]),
        ("submissions stored (`S#` items)", r["stored"]),
        ("counted (sum of counters' `received`)", r["counted"]),
        ("pending after the sweep", r["pending"]),
        ("drift (recount)", f"**{n} counter{'s' if n > 1 else ''}** (listed below)" if n else "none"),
        ("lost (accepted, not stored)", r["lost"]),
        ("double-counted", r["double_counted"]),
        ("accepted submissions/s over the burst",
         f"{r['accepted_per_s']:.1f} (per whole second: median {s['median']:g}, min {s['min']:g}, max {s['max']:g})"),
        ("accepted submissions/s by quarter of the burst", " → ".join(f"{q:.1f}" for q in r["quarters_per_s"])),
        ("requests/s over the burst", f"{r['requests_per_s']:.1f}"),
        ("request latency p50 / p95 / p99", f"{lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} ms"),
    ]
    return ["| figure | value |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)]


def _baselines(r: dict[str, Any]) -> list[str]:
    def row(path: str, f: dict[str, Any]) -> str:
        return (f"| {path} | {f['requests']} | {f['per_s']:.0f} | {f['p50']:.1f} ms | {f['p95']:.1f} ms | "
                f"{f['p99']:.1f} ms |")

    burst = {"requests": r["requests"], "per_s": r["requests_per_s"], **r["latency_ms"]}
    probes = [(f"| moto TransactWriteItems on the survey table, {t['items']} items ({when}) | 3 | "
               f"{1000 / t['ms']:.0f} | {t['ms']:.1f} ms (fastest) | | |")
              for t, when in zip(r["transaction_probe"], ("before the burst", "after the burst"))]
    return [f"### Beside the baselines (same run, same {r['config']['workers']}-thread pool)", "",
            "| path | requests | requests/s | p50 | p95 | p99 |", "|---|---:|---:|---:|---:|---:|",
            row("GET /api/challenge?id=: the adapter, the handler, one conditional update", r["baseline_challenge"]),
            row("POST /api/submit: the burst", burst),
            row("moto PutItem, one at a time (one thread; the adapter's lock allows no more)", r["baseline_puts"]),
            *probes]


def _notes(r: dict[str, Any]) -> list[str]:
    calls, inj, logged = r["db_calls"], r["injected"], r["logged"]
    burst_calls = r["burst_calls"]
    per_request = sum(burst_calls.values()) / max(1, r["requests"])
    after_503, other_invalid = r["invalid_after_503"], r["invalid_without_503"]
    overflows = r["listen_overflows"]
    overflows_text = ("n/a" if overflows is None else
                      f"{overflows['baseline']} during the GET baseline, {overflows['burst']} during the burst")
    notes = [
        f"- Proofs of work: {r['proof']}.",
        (f"- Faults injected in the submit handler's client: PutItem × {inj.get('PutItem', 0)} of "
         f"{calls.get('PutItem', 0)} → {r['s503']} × 503; TransactWriteItems × {inj.get('TransactWriteItems', 0)} of "
         f"{calls.get('TransactWriteItems', 0)} → {logged['deferred']} counts logged as deferred; "
         f"{r['pending_before_sweep']} still pending before the final sweep, which counted {r['swept']} "
         f"(the stack's own sweeper counted {logged['swept_by_stack']} during the run)."),
        (f"- Writes per submit request during the burst: {per_request:.2f} (PutItem × {burst_calls.get('PutItem', 0)}: "
         f"the answers marker and the submission; UpdateItem × {burst_calls.get('UpdateItem', 0)}: the device's and the "
         f"address's places; TransactWriteItems × {burst_calls.get('TransactWriteItems', 0)}: the count; a retry of a "
         "stored id makes none of them)."),
        (f"- Sent {r['concurrent']} submissions 2–4 times at once; discarded {r['lost_responses']} 200s as lost and "
         f"sent those bodies again later; the handler logged {logged['retries']} requests as retries of a stored id."),
        f"- Copies that gave up after {ATTEMPTS} attempts: {r['given_up']}; stopped by the time bound: {r['cut_by_time']}.",
        (f"- Stored: {r['valid']} valid, flags {r['reasons'] or 'none'}; counters' `valid` sum {r['counted_valid']}; "
         f"{r['sponsors_seen']} sponsors brought samples. Every submission is a distinct respondent (own device, own "
         f"proof, {r['config']['submissions']} from one address, under its daily cap): invalid after a 503 "
         f"{len(after_503)}, invalid otherwise {len(other_invalid)}."
         + (" A submission whose first attempt got a 503 after the validity ledger had taken its places is judged "
            "again on its retry and finds its own device place taken (repeat_device): "
            + ", ".join(f"{i} {reasons}" for i, reasons in list(after_503.items())[:3]) if after_503 else "")),
        (f"- TCP listen-queue overflows (kernel counter, system-wide; each costs its client a 1 s SYN retransmission): "
         f"{overflows_text}; the adapter's listen backlog is {r['backlog']}."),
        (f"- Memory: peak RSS {r['peak_rss_mb']:.0f} MB; moto still held {r['moto_kept'].get('Item', 0)} item objects "
         f"and {r['moto_kept'].get('Table', 0)} table objects for a table of {r['transaction_probe'][-1]['items']} "
         "items (a whole-table copy per transaction, never freed)."),
        f"- Burst {r['burst_seconds']:.1f} s; whole run {r['total_seconds']:.1f} s; {os.cpu_count()} cores.",
    ]
    for d in r["drift"][:5]:
        ids = ", ".join(f"{i} (its count call timed out: {'yes' if i in r['db_retry_ids'] else 'no'})"
                        for i in d["ids"][:5])
        actual = tuple(d["actual"]) if d["actual"] else "missing"
        notes.append(f"- Drift: day {d['day']} shard {d['shard']} {d['questionnaire']}/{d['sponsor']}/{d['channel']}/"
                     f"{d['province']}: recount (received, valid) {tuple(d['expected'])}, counter {actual}; "
                     f"counted submissions behind it: {ids or 'none'}.")
    notes.append(f"- DynamoDB calls that botocore's retry logic saw fail (timeouts, 5xx): {len(r['db_retries'])}")
    notes += [f"    {line}" for line in r["db_retries"][:10]]
    if r["stack_other_output"]:
        notes.append(f"- Other output from the stack ({len(r['stack_other_output'])} lines kept):")
        notes += [f"    {line}" for line in r["stack_other_output"][:20]]
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Config()
    parser.add_argument("--submissions", type=int, default=defaults.submissions)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--retry-rate", type=float, default=defaults.retry_rate)
    parser.add_argument("--lost-rate", type=float, default=defaults.lost_rate)
    parser.add_argument("--throttle-rate", type=float, default=defaults.throttle_rate)
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    config = Config(args.submissions, args.workers, args.retry_rate, args.lost_rate, args.throttle_rate,
                    args.max_seconds, args.seed, progress=True)
    report = run(config)
    print(markdown(report), flush=True)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
