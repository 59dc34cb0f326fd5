"""Attack kit: a bot farm against the real local stack, over real HTTP, with what the previous rules would have
credited beside what the current rules credit.

    .venv/bin/python tests/bench/bench_attack.py [--size tiny|default|full] [--honest N] [--cap N] [--seed N]
        [--json FILE]

Sizes: tiny (about 180 submissions, well under a minute: the test's), default (about 1,700, a few minutes on two
idle cores), full (2,000 honest respondents behind one address and a cap of 2,500: tens of minutes, since moto
copies the whole table twice for every counting transaction).

Sponsors compete for awards on their counts of valid samples, so some will run bots. Each attack runs against a
fresh `lambdas.local.stack(site, port=0)` (the real handlers behind the adapter that stands in for API Gateway and
CloudFront, moto's DynamoDB server behind them) over a site folder holding what the API reads, written by the
build's own functions with the window moved to open today, as the rehearsal build moves it. The bots are HTTP
clients on loopback; a "machine" is a client socket bound to its own address in 127.0.0.0/8 (Linux routes all of
it to lo), so the stand-in edge sees each machine's own address. The bots post for one sponsor, the honest
respondents for another.

The site's `rules.json` is written from the published rules (`rules.yaml`), then rewritten with three limits scaled
to the run before any stack starts (the submit function reads it at its cold start): the daily cap per address
(`address_valid_per_day`), the daily challenge allowance per address (kept at the published 4 per valid sample) and
`min_seconds`, set to 0: the too-fast rule stops only a bot that does not wait, and a farm that fetches its
challenges ahead and pipelines waits at no cost in throughput, so here it would only add waiting to the run. The
proof of work keeps the published difficulty: every proof is really solved.

Attacks:
  a. one challenge solved once and replayed for other submissions (and again for its own, as retries and with other
     answers);
  b. challenges shared between bots: each bot fetches one challenge for its own id and the farm uses it for others;
  c. forged `cloudfront-viewer-address` and `x-origin-verify` headers from one machine, the same answers each time
     (believed, each would look like another address);
  d. cross-site posts (Origin: https://evil.example), JSON and form posts, with good proofs;
  e. the strong bot: one address at full speed, a fresh challenge solved for every submission;
  f. a farm of 100 addresses (127.0.0.2 ... 127.0.0.101; 20 at the tiny size), each doing what (e) does a few
     times;
  g. many devices at one address: random answers; straight-lined identical answers; straight-lined answers with
     the province varied;
  h. no device token: JSON posts, and form posts with a solved proof.

BEFORE is what the previous rules credited, computed from the same stored submissions: a proof was not bound to a
submission, the viewer header was believed and there was no device, origin or volume rule, so every stored
submission (its answers passed the check) with a correctly solved proof was a valid sample (`ok`, `foreign_proof`
and `expired_proof` all mean solved). AFTER is what the current rules credit: the `valid` counters.

Figures: valid samples per attacker-hour before and after (each attack's wall time, its proofs included); expected
hashes per credited fake sample (challenges fetched x 2^bits / credited); the honest-user false-flag rate (campus
NAT: honest respondents behind one address, each with its own device, challenge and answers, fewer than the cap);
and the same-run baseline: the honest respondents' rate through the same stack. An attack's wall time runs from its
first request to its last response (its stack's start and the read-back after are not in it). Three targets end
the report; the script exits 1 if one fails. `run(config)` returns the figures and `--json` writes them
(tests/e2e/test_attack.py).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import http.client
import io
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from the repo root: `tests` is not an installed package

from tests.helpers import beijing_midnight, write_catalog  # noqa: E402

SOLVED = ("ok", "foreign_proof", "expired_proof")  # proof verdicts whose hash was right: the old rules' "valid"
EVIL = "https://evil.example"
FORGED_TOKEN = "forged-origin-token-" * 3
MIN_SECONDS = 0  # for the run: see run_rules
CHALLENGES_PER_VALID = 4  # the published ratio: address_challenges_per_day 20,000 / address_valid_per_day 5,000
WORKERS = 4  # client threads per attack; the adapter runs one handler call at a time anyway
REQUEST_TIMEOUT = 60.0
HONEST_IP = "127.0.1.1"
BOT_IP = "127.0.2.1"


@dataclass(frozen=True)
class Config:
    size: str = "default"
    cap: int = 300  # address_valid_per_day for the run
    honest: int = 250  # respondents behind one NAT address (fewer than the cap)
    replay: int = 100  # (a) other submissions carrying the one solved challenge
    shared_bots: int = 10  # (b) bots, one challenge each
    shared_uses: int = 10  # (b) submissions per bot, its own first
    forged: int = 100  # (c)
    cross: int = 50  # (d) of each kind, JSON and form
    strong_over: int = 60  # (e) submissions beyond the cap
    addresses: int = 100  # (f)
    per_address: int = 3  # (f)
    patterns: int = 100  # (g) of each kind
    no_device: int = 50  # (h) of each kind
    seed: int = 2020
    progress: bool = False  # a line per attack (the script; not the test)


SIZES = {
    "tiny": Config("tiny", cap=12, honest=10, replay=6, shared_bots=3, shared_uses=3, forged=6, cross=3,
                   strong_over=6, addresses=20, per_address=1, patterns=5, no_device=3),
    "default": Config(),
    # The campus of the brief: 2,000 respondents behind one address. moto copies the whole table twice per
    # counting transaction, so this runs for tens of minutes.
    "full": Config("full", cap=2500, honest=2000, replay=500, shared_bots=20, shared_uses=20, forged=500, cross=200,
                   strong_over=100, addresses=100, per_address=10, patterns=500, no_device=200),
}


# ---- the site -----------------------------------------------------------------------------------------------------

def write_site(folder: Path) -> Path:
    """What the API reads from a built site, written by the build's own functions as the rehearsal build writes
    them (the window moved to open today): sponsors.json, questionnaires.json and rules.json. The pages themselves
    play no part in an attack on the API, and a full build would tie this kit to every template."""
    write_catalog(folder, beijing_midnight().isoformat())
    return folder


def run_rules(site: Path, cap: int) -> dict[str, Any]:
    """Rewrite the built site's rules.json with the run's limits; returns what changed, for the report."""
    from lambdas.survey import rules

    data = json.loads((site / "rules.json").read_text(encoding="utf-8"))
    limits = data["limits"]
    published = {"address_valid_per_day": limits["address_valid_per_day"],
                 "address_challenges_per_day": limits["address_challenges_per_day"],
                 "min_seconds": dict(limits["min_seconds"])}
    limits["address_valid_per_day"] = cap
    limits["address_challenges_per_day"] = cap * CHALLENGES_PER_VALID
    limits["min_seconds"] = {q: MIN_SECONDS for q in limits["min_seconds"]}
    data["version"] = f"{data['version']}-attack"[:20]
    path = site / "rules.json"
    path.write_text(rules.dumps(data), encoding="utf-8")
    checked = rules.load(path)  # the function must be able to read it
    return {"published": published, "version": checked.version, "proof_bits": checked.proof_bits,
            "cap": checked.address_valid_per_day, "challenges": checked.address_challenges_per_day,
            "min_seconds": MIN_SECONDS}


# ---- answers ------------------------------------------------------------------------------------------------------

def straight_lined(qn: Any, value: int = 3, province: str = "广东省", city_index: int = 0) -> dict[str, Any]:
    """The same column all the way down: the first option of every choice, `value` for every rating and matrix
    row, one province; follow-up questions as those choices reveal them."""
    from lambdas.survey.regions import CITIES

    out: dict[str, Any] = {}
    for q in qn.questions:
        if not q.shown(out):
            continue
        if q.type == "single":
            out[q.id] = q.options[0][0]
        elif q.type == "multi":
            out[q.id] = [o for o, _ in q.options[: max(1, q.min)]]
        elif q.type == "rating":
            out[q.id] = value
        elif q.type == "matrix":
            out[q.id] = {r: value for r, _ in q.rows}
        elif q.type == "region":
            cities = CITIES[province]
            out[q.id] = {"province": province, "city": cities[city_index % len(cities)]}
        elif q.type in ("text", "textarea") and q.required:
            out[q.id] = "好"[: q.max_length]
    return out


def form_fields(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as the form names its inputs: a matrix row or region part as `<question>.<part>`."""
    out: dict[str, Any] = {}
    for qid, value in answers.items():
        if isinstance(value, dict):
            out.update({f"{qid}.{k}": v for k, v in value.items()})
        else:
            out[qid] = value
    return out


# ---- clients ------------------------------------------------------------------------------------------------------

class Machine:
    """One client machine: every connection it opens leaves from its own loopback address."""

    def __init__(self, port: int, ip: str) -> None:
        self.port, self.ip = port, ip

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT, source_address=(self.ip, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            return 0, str(exc).encode()
        finally:
            conn.close()


@dataclass
class Sent:
    """One submission as a bot sent it: which challenge it carried, what came back."""

    id: str
    challenge: str
    status: int
    kind: str  # json | form
    honest: bool = False


@dataclass
class Attack:
    """What one attack did, and what the stack made of it."""

    key: str
    title: str
    sent: list[Sent] = field(default_factory=list)
    fetched: int = 0  # challenges issued (200)
    refused: int = 0  # challenges refused (429: the address's daily allowance)
    bits: int = 0
    wall: float = 0.0
    stored: list[dict[str, Any]] = field(default_factory=list)
    counted_received: int = 0
    counted_valid: int = 0
    swept: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Farm:
    """The bots' side of one attack: fetch challenges, solve them (in worker processes: the attacker's cores),
    wait out min_seconds as a pipelining bot does, post."""

    def __init__(self, port: int, site_origin: str, solver: concurrent.futures.Executor, attack: Attack,
                 rng: random.Random, survey: Any, sponsor: tuple[str, str]) -> None:
        self.port, self.origin, self.solver, self.attack = port, site_origin, solver, attack
        self.rng, self.survey, self.sponsor = rng, survey, sponsor
        self._fetched_at = 0.0
        self._n = 0

    def machine(self, ip: str) -> Machine:
        return Machine(self.port, ip)

    def new_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n:06d}-{self.rng.getrandbits(32):08x}"

    def challenges(self, pairs: list[tuple[Machine, str]]) -> list[str]:
        """One challenge per (machine, submission id), each fetched by that machine; "" where refused."""
        def one(pair: tuple[Machine, str]) -> str:
            machine, sub_id = pair
            status, body = machine.request("GET", f"/api/challenge?id={sub_id}")
            with self.attack._lock:
                if status == 200:
                    self.attack.fetched += 1
                    data = json.loads(body)
                    self.attack.bits = int(data["bits"])
                    return data["challenge"]
                if status == 429:
                    self.attack.refused += 1
                    return ""
            raise RuntimeError(f"GET /api/challenge: {status} {body[:200]!r}")

        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            out = list(pool.map(one, pairs))
        self._fetched_at = time.monotonic()
        return out

    def solve(self, challenges: list[str]) -> list[str]:
        from lambdas.submit import proof

        todo = [c for c in challenges if c]
        nonces = dict(zip(todo, self.solver.map(proof.solve, todo, chunksize=max(1, len(todo) // 16))))
        # A bot that pipelines waits out the fastest believable completion after its last fetch, at no cost in
        # throughput.
        if MIN_SECONDS:
            time.sleep(max(0.0, self._fetched_at + MIN_SECONDS + 0.2 - time.monotonic()))
        return [nonces.get(c, "") for c in challenges]

    def answers(self, qid: str = "public") -> dict[str, Any]:
        from tests.lambdas.answers import valid_answers

        return valid_answers(self.survey.questionnaires[qid], self.rng)

    def envelope(self, sub_id: str, answers: dict[str, Any], challenge: str, nonce: str, device: str | None,
                 qid: str = "public") -> dict[str, Any]:
        body: dict[str, Any] = {"id": sub_id, "questionnaire": qid, "sponsor": self.sponsor[0],
                                "channel": self.sponsor[1], "answers": answers, "homepage": ""}
        if device is not None:
            body["device"] = device
        if challenge:
            body["proof"] = {"challenge": challenge, "nonce": nonce}
        return body

    def post(self, jobs: list[tuple[Machine, dict[str, Any], str, dict[str, str]]], honest: bool = False) -> None:
        """Send each (machine, envelope, kind, extra headers) at full speed from a few threads."""
        def one(job: tuple[Machine, dict[str, Any], str, dict[str, str]]) -> None:
            machine, env, kind, extra = job
            if kind == "json":
                raw = json.dumps(env, ensure_ascii=False).encode()
                headers = {"Content-Type": "application/json"}
            else:
                fields = {k: v for k, v in env.items() if k not in ("answers", "proof")}
                proof = env.get("proof") or {}
                fields.update(proof_challenge=proof.get("challenge", ""), proof_nonce=proof.get("nonce", ""))
                fields.update(form_fields(env["answers"]))
                raw = urlencode(fields, doseq=True).encode()
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
            headers.update({"Origin": self.origin, "Sec-Fetch-Site": "same-origin", **extra})
            status, _ = machine.request("POST", "/api/submit", raw, headers)
            sent = Sent(env["id"], (env.get("proof") or {}).get("challenge", ""), status, kind, honest)
            with self.attack._lock:
                self.attack.sent.append(sent)

        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, jobs))


# ---- the attacks --------------------------------------------------------------------------------------------------

def honest_nat(f: Farm, c: Config) -> None:
    """Honest respondents behind one campus address: each its own device, challenge and answers."""
    nat = f.machine(HONEST_IP)
    ids = [f.new_id("honest") for _ in range(c.honest)]
    challenges = f.challenges([(nat, i) for i in ids])
    nonces = f.solve(challenges)
    f.post([(nat, f.envelope(i, f.answers(), ch, n, f"phone-{f.rng.getrandbits(64):016x}"), "json", {})
            for i, ch, n in zip(ids, challenges, nonces)], honest=True)


def replay(f: Farm, c: Config) -> None:
    """(a) One challenge, solved once, for its own submission and then for every other."""
    bot = f.machine(BOT_IP)
    first = f.new_id("replay")
    [challenge] = f.challenges([(bot, first)])
    [nonce] = f.solve([challenge])
    own = f.envelope(first, f.answers(), challenge, nonce, "bot-device-0")
    f.post([(bot, own, "json", {})])
    others = [f.envelope(f.new_id("replay"), f.answers(), challenge, nonce, f"bot-device-{i + 1}")
              for i in range(c.replay)]
    f.post([(bot, e, "json", {}) for e in others])
    # The same submission again (a retry: the same success, never a second sample), and with other answers (409).
    f.post([(bot, own, "json", {}), (bot, own, "json", {})])
    f.post([(bot, {**own, "answers": f.answers()}, "json", {})])


def shared(f: Farm, c: Config) -> None:
    """(b) Each bot fetches one challenge for its own id; the farm pools them and every bot uses the pool."""
    bots = [f.machine(f"127.0.3.{i + 1}") for i in range(c.shared_bots)]
    ids = [[f.new_id(f"shared{b}") for _ in range(c.shared_uses)] for b in range(c.shared_bots)]
    challenges = f.challenges([(bot, own[0]) for bot, own in zip(bots, ids)])
    nonces = f.solve(challenges)
    pool = list(zip(challenges, nonces))
    jobs = []
    for b, (bot, own) in enumerate(zip(bots, ids)):
        for u, sub_id in enumerate(own):
            ch, n = pool[b] if u == 0 else pool[(b + u) % len(pool)]
            jobs.append((bot, f.envelope(sub_id, f.answers(), ch, n, f"shared-{b}-{u}"), "json", {}))
    f.post(jobs)


def forged(f: Farm, c: Config) -> None:
    """(c) One machine claiming another viewer address (and a guessed origin token) on every request, the same
    answers each time: believed, each would be a new address and none a repeat."""
    bot = f.machine(BOT_IP)
    ids = [f.new_id("forged") for _ in range(c.forged)]
    challenges = f.challenges([(bot, i) for i in ids])
    nonces = f.solve(challenges)
    answers = f.answers()
    f.post([(bot, f.envelope(i, answers, ch, n, f"forged-{k}"), "json",
             {"CloudFront-Viewer-Address": f"198.51.100.{k % 250 + 1}:{40000 + k}", "X-Origin-Verify": FORGED_TOKEN})
            for k, (i, ch, n) in enumerate(zip(ids, challenges, nonces))])


def cross_site(f: Farm, c: Config) -> None:
    """(d) Posts another site makes: Origin evil.example, JSON and form posts, each with a good proof."""
    bot = f.machine(BOT_IP)
    ids = [f.new_id("cross") for _ in range(2 * c.cross)]
    challenges = f.challenges([(bot, i) for i in ids])
    nonces = f.solve(challenges)
    f.post([(bot, f.envelope(i, f.answers(), ch, n, f"cross-{k}"), "json" if k < c.cross else "form",
             {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
            for k, (i, ch, n) in enumerate(zip(ids, challenges, nonces))])


def strong(f: Farm, c: Config) -> None:
    """(e) One address at full speed, paying a fresh proof of work for every submission."""
    bot = f.machine(BOT_IP)
    ids = [f.new_id("strong") for _ in range(c.cap + c.strong_over)]
    challenges = f.challenges([(bot, i) for i in ids])
    nonces = f.solve(challenges)
    f.post([(bot, f.envelope(i, f.answers(), ch, n, f"strong-{k}"), "json", {})
            for k, (i, ch, n) in enumerate(zip(ids, challenges, nonces)) if ch])


def farm(f: Farm, c: Config) -> None:
    """(f) The strong bot on many addresses."""
    machines = [f.machine(f"127.0.0.{2 + k}") for k in range(c.addresses)]
    pairs = [(m, f.new_id("farm")) for m in machines for _ in range(c.per_address)]
    challenges = f.challenges(pairs)
    nonces = f.solve(challenges)
    f.post([(m, f.envelope(i, f.answers(), ch, n, f"farm-{k}"), "json", {})
            for k, ((m, i), ch, n) in enumerate(zip(pairs, challenges, nonces)) if ch])


def patterned(kind: str) -> Callable[[Farm, Config], None]:
    def attack(f: Farm, c: Config) -> None:
        """(g) Many devices at one address, one kind of answers."""
        from lambdas.survey.regions import CITIES

        bot = f.machine(BOT_IP)
        qn = f.survey.questionnaires["public"]
        provinces = sorted(CITIES)
        ids = [f.new_id(f"pattern-{kind}") for _ in range(c.patterns)]
        challenges = f.challenges([(bot, i) for i in ids])
        nonces = f.solve(challenges)
        jobs = []
        for k, (i, ch, n) in enumerate(zip(ids, challenges, nonces)):
            answers = (f.answers() if kind == "random" else straight_lined(qn) if kind == "identical"
                       else straight_lined(qn, province=provinces[k % len(provinces)], city_index=k // len(provinces)))
            jobs.append((bot, f.envelope(i, answers, ch, n, f"pattern-{kind}-{k}"), "json", {}))
        f.post(jobs)

    return attack


def no_device(kind: str) -> Callable[[Farm, Config], None]:
    def attack(f: Farm, c: Config) -> None:
        """(h) Good proofs, no device token."""
        bot = f.machine(BOT_IP)
        ids = [f.new_id(f"nodevice-{kind}") for _ in range(c.no_device)]
        challenges = f.challenges([(bot, i) for i in ids])
        nonces = f.solve(challenges)
        f.post([(bot, f.envelope(i, f.answers(), ch, n, None), kind, {}) for i, ch, n in zip(ids, challenges, nonces)])

    return attack


ATTACKS: list[tuple[str, str, Callable[[Farm, Config], None]]] = [
    ("honest", "honest respondents behind one NAT address (baseline)", honest_nat),
    ("a", "(a) one challenge replayed for other submissions", replay),
    ("b", "(b) challenges shared between bots", shared),
    ("c", "(c) forged viewer address and origin token, one machine", forged),
    ("d", "(d) cross-site posts, JSON and form", cross_site),
    ("e", "(e) one address, fresh proof per submission, full speed", strong),
    ("f", "(f) many addresses, fresh proof per submission", farm),
    ("g1", "(g) one address, many devices: random answers", patterned("random")),
    ("g2", "(g) one address, many devices: straight-lined, identical", patterned("identical")),
    ("g3", "(g) one address, many devices: straight-lined, province varied", patterned("province")),
    ("h1", "(h) no device token: JSON", no_device("json")),
    ("h2", "(h) no device token: form posts with a solved proof", no_device("form")),
]


# ---- running one attack against a fresh stack ---------------------------------------------------------------------

class _Discard(io.TextIOBase):
    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


@contextmanager
def quiet() -> Iterator[None]:
    """The handlers log a line per submission and the adapter one per request: thousands of lines would bury the
    table. Both go nowhere while an attack runs."""
    from lambdas.submit import app as submit_app
    from lambdas.sweep import app as sweep_app

    sink = _Discard()
    handlers = [submit_app.logger.registered_handler, sweep_app.logger.registered_handler]
    old = [h.setStream(sink) for h in handlers]
    try:
        with redirect_stdout(sink), redirect_stderr(sink):
            yield
    finally:
        for h, stream in zip(handlers, old):
            h.setStream(stream)


@contextmanager
def cold_functions() -> Iterator[None]:
    """Each stack starts its functions cold (so the submit function reads this run's rules.json); whatever this
    process had configured before is put back after."""
    from lambdas.submit import app as submit_app
    from lambdas.sweep import app as sweep_app

    intake, store = submit_app.intake, sweep_app._store
    submit_app.configure(None)
    sweep_app._store = None
    try:
        yield
    finally:
        submit_app.configure(intake)  # type: ignore[arg-type]
        sweep_app._store = store


def settle(stk: Any, attack: Attack) -> None:
    """Count whatever is still pending (the sweeper's job), then read back the submissions and the counters."""
    import boto3

    from lambdas.survey.store import Store

    shards = int(next(env["SURVEY_SHARDS"] for env in stk.api.environments.values() if "SURVEY_SHARDS" in env))
    client = boto3.client("dynamodb", endpoint_url=stk.database_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    store = Store(client, stk.table, shards)
    with stk.api.lock:  # moto's transactions are not safe beside the handlers'
        attack.swept = store.sweep((datetime.now(UTC) + timedelta(minutes=2)).isoformat())
        attack.stored = list(store.scan("S#"))
        counters = list(store.scan("C#"))
    attack.counted_received = sum(int(c.get("received", 0)) for c in counters)
    attack.counted_valid = sum(int(c.get("valid", 0)) for c in counters)


def play(site: Path, key: str, title: str, fn: Callable[[Farm, Config], None], config: Config,
         solver: concurrent.futures.Executor, survey: Any, sponsor: tuple[str, str], origin: str) -> Attack:
    from lambdas import local

    attack = Attack(key, title)
    rng = random.Random(f"{config.seed}-{key}")
    with cold_functions(), quiet(), local.stack(site, port=0) as (stk, server):
        farm_ = Farm(server.server_address[1], origin, solver, attack, rng, survey, sponsor)
        started = time.perf_counter()
        fn(farm_, config)
        attack.wall = time.perf_counter() - started
        settle(stk, attack)
    return attack


# ---- figures ------------------------------------------------------------------------------------------------------

def figures(a: Attack) -> dict[str, Any]:
    stored = a.stored
    signals = [json.loads(s.get("signals") or "{}") for s in stored]
    before = sum(1 for sig in signals if sig.get("proof") in SOLVED)
    valid_ids = {s["id"] for s in stored if s.get("valid")}
    per_address = Counter((s.get("ip_hash", ""), s["questionnaire"], s["day"]) for s in stored if s.get("valid"))
    # Valid submissions per challenge, over every submission a challenge came with (a retry is the same one).
    valid_per_challenge: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    for x in a.sent:
        if x.challenge and x.id in valid_ids and (x.id, x.challenge) not in seen:
            seen.add((x.id, x.challenge))
            valid_per_challenge[x.challenge] += 1
    after = a.counted_valid
    hashes = 2 ** a.bits
    statuses = Counter(x.status for x in a.sent)
    reasons = Counter(r for s in stored for r in s.get("reasons", []))
    honest_ids = {x.id for x in a.sent if x.honest}
    honest = [s for s in stored if s["id"] in honest_ids]
    return {
        "key": a.key, "title": a.title, "submissions": len({x.id for x in a.sent}), "requests": len(a.sent),
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "challenges": a.fetched,
        "challenges_refused": a.refused, "bits": a.bits, "stored": len(stored), "received": a.counted_received,
        "before": before, "after": after, "stored_valid": len(valid_ids), "swept": a.swept,
        "wall_s": a.wall,
        "before_per_hour": before / a.wall * 3600 if a.wall else 0.0,
        "after_per_hour": after / a.wall * 3600 if a.wall else 0.0,
        "hashes_per_credited": a.fetched * hashes / after if after else None,
        "hashes_per_before": a.fetched * hashes / before if before else None,
        "addresses_seen": len({s.get("ip_hash", "") for s in stored}),
        "max_valid_per_address": max(per_address.values(), default=0),
        "max_valid_per_challenge": max(valid_per_challenge.values(), default=0),
        "challenges_with_valid": len(valid_per_challenge),
        "reasons": dict(reasons.most_common()),
        "honest": len(honest), "honest_flagged": sum(1 for s in honest if not s.get("valid")),
    }


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    by_key = {a["key"]: a for a in r["attacks"]}
    cap = r["rules"]["cap"]
    worst_address = max(a["max_valid_per_address"] for a in r["attacks"])
    strong_ = by_key["e"]
    worst_challenge = max(a["max_valid_per_challenge"] for a in r["attacks"])
    honest = by_key["honest"]
    return [
        {"target": f"one address never credited more than the cap ({cap} a day)",
         "met": worst_address <= cap and strong_["after"] == cap,
         "evidence": f"most valid samples from one address in any attack: {worst_address}; the strong bot (e): "
                     f"{strong_['after']} credited of {strong_['submissions']} sent"},
        {"target": "a replayed challenge never valid twice",
         "met": worst_challenge <= 1 and by_key["a"]["after"] == 1,
         "evidence": f"most valid submissions carrying one challenge: {worst_challenge}; (a) replayed one challenge "
                     f"{by_key['a']['submissions']} times: {by_key['a']['after']} credited"},
        {"target": "honest users under the cap never flagged",
         "met": honest["honest"] == r["config"]["honest"] < cap and honest["honest_flagged"] == 0,
         "evidence": f"{honest['honest_flagged']} of {honest['honest']} honest respondents behind one address flagged "
                     f"(cap {cap})"},
    ]


def check_consistency(r: dict[str, Any]) -> list[str]:
    """What would make the figures themselves wrong: an unexpected status, counters that disagree with the
    stored verdicts, a forged viewer header believed."""
    problems = []
    for a in r["attacks"]:
        unexpected = {k: v for k, v in a["statuses"].items() if k not in ("200", "303", "409")}
        if unexpected:
            problems.append(f"{a['key']}: unexpected statuses {unexpected}")
        if a["after"] != a["stored_valid"] or a["received"] != a["stored"]:
            problems.append(f"{a['key']}: counters (received {a['received']}, valid {a['after']}) disagree with the "
                            f"stored submissions ({a['stored']}, {a['stored_valid']} valid)")
    forged_ = next(a for a in r["attacks"] if a["key"] == "c")
    if forged_["addresses_seen"] != 1:
        problems.append(f"(c) forged viewer headers were believed: {forged_['addresses_seen']} addresses seen")
    return problems


# ---- the run ------------------------------------------------------------------------------------------------------

@contextmanager
def lean_collector() -> Iterator[None]:
    """moto deep-copies the whole table twice per counting transaction; Python's collector then scans those copies
    over and over. Fewer, later collections keep the stand-in database from dominating the run; nothing that is
    measured (the verdicts and counters) depends on it."""
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def proof_cost(bits: int, samples: int = 8) -> float:
    """Seconds of one core a proof at `bits` takes here, in CPython (what the form's script and these bots run;
    native code is faster), from a few solves of fresh challenges."""
    from lambdas.submit import proof

    started = time.process_time()
    for i in range(samples):
        proof.solve(proof.issue(os.urandom(32), f"calibrate-{i:04d}", int(time.time() * 1000), bits))
    return (time.process_time() - started) / samples


def run(config: Config) -> dict[str, Any]:
    """Every attack, each against a fresh stack; returns the figures, the targets and any inconsistency."""
    from lambdas import local
    from lambdas.survey import catalog, questionnaire

    say = (lambda text: print(text, flush=True)) if config.progress else (lambda text: None)
    started = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")  # the stack's threads make fork unsafe
    with tempfile.TemporaryDirectory(prefix="bench-attack-") as tmp, lean_collector(), \
            concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 1, mp_context=ctx) as solver:
        site = write_site(Path(tmp))
        rules = run_rules(site, config.cap)
        rules["proof_seconds"] = proof_cost(rules["proof_bits"])
        cat = catalog.load(site / "sponsors.json")
        survey = questionnaire.load(site / "questionnaires.json")
        honest_sponsor = next(s for s in sorted(cat.sponsors) if cat.sponsors[s].kind == "initiator")
        bot_sponsor = next(s for s in sorted(cat.sponsors) if cat.sponsors[s].kind != "initiator")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(cat.site_url))
        list(solver.map(abs, range(os.cpu_count() or 1)))  # start the workers before the first timing
        attacks = []
        for key, title, fn in ATTACKS:
            sponsor_slug = honest_sponsor if key == "honest" else bot_sponsor
            sponsor = (sponsor_slug, sorted(cat.sponsors[sponsor_slug].channels)[0])
            a = play(site, key, title, fn, config, solver, survey, sponsor, origin)
            attacks.append(figures(a))
            say(f"  {title}: {attacks[-1]['submissions']} sent, {attacks[-1]['after']} credited "
                f"({a.wall:.1f} s)")
        local._release_moto_copies()
    report = {"config": asdict(config), "rules": rules, "attacks": attacks, "cores": os.cpu_count(),
              "total_s": time.perf_counter() - started,
              "sponsors": {"honest": honest_sponsor, "bots": bot_sponsor}}
    report["targets"] = targets(report)
    report["problems"] = check_consistency(report)
    return report


# ---- the report ---------------------------------------------------------------------------------------------------

def _n(x: float) -> str:
    return f"{x:,.0f}"


def _hashes(x: float | None, bits: int) -> str:
    if x is None:
        return "none credited"
    return f"{x:,.0f} ({x / 2 ** bits:.2f} proofs)"


def markdown(r: dict[str, Any]) -> str:
    c, rules = r["config"], r["rules"]
    by_key = {a["key"]: a for a in r["attacks"]}
    honest = by_key["honest"]
    baseline = honest["after_per_hour"]
    lines = [
        f"## Attack kit: size {c['size']}, cap {rules['cap']} valid samples per address a day, "
        f"{rules['proof_bits']}-bit proofs, {r['cores']} cores",
        "",
        f"Rules: the published rules with, for this run, `address_valid_per_day` {rules['cap']} (published "
        f"{rules['published']['address_valid_per_day']:,}), `address_challenges_per_day` {rules['challenges']} "
        f"(published {rules['published']['address_challenges_per_day']:,}) and `min_seconds` {rules['min_seconds']} s "
        f"(published {', '.join(f'{q} {s}' for q, s in rules['published']['min_seconds'].items())}), written into the "
        f"site folder's rules.json (version {rules['version']}) before each stack started. Proofs at the published "
        f"{rules['proof_bits']} bits, all really solved. Each attack ran against a fresh local stack.",
        "",
        "| attack | submissions | challenges | before: credited | after: credited | wall | before /attacker-h "
        "| after /attacker-h | hashes per credited fake (after) | after ÷ baseline rate | what the rules said |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for a in r["attacks"]:
        reasons = ", ".join(f"{k} × {v}" for k, v in a["reasons"].items()) or "none"
        extra = ""
        if a["key"] == "c":
            extra = f"; {a['addresses_seen']} address seen"
        if a["statuses"].get("409"):
            extra += f"; 409 × {a['statuses']['409']}"
        if a["challenges_refused"]:
            extra += f"; challenges refused × {a['challenges_refused']}"
        hashes = "(honest)" if a["key"] == "honest" else _hashes(a["hashes_per_credited"], a["bits"])
        ratio = "1 (baseline)" if a["key"] == "honest" else (
            f"{a['after_per_hour'] / baseline:.2f}" if baseline else "n/a")
        lines.append(f"| {a['title']} | {a['submissions']} | {a['challenges']} | {a['before']} | {a['after']} | "
                     f"{a['wall_s']:.1f} s | {_n(a['before_per_hour'])} | {_n(a['after_per_hour'])} | {hashes} | "
                     f"{ratio} | {reasons}{extra} |")
    farm_ = by_key["f"]
    lines += [
        "",
        f"Baseline (same run, same stack, same client): {honest['honest']} honest respondents behind one address "
        f"took {honest['wall_s']:.1f} s, {_n(baseline)} valid samples/h through the local stack; "
        f"false-flag rate {honest['honest_flagged']}/{honest['honest']} "
        f"({honest['honest_flagged'] / max(1, honest['honest']):.1%}) under a cap of {rules['cap']}.",
        f"Cost: a proof is 2^{rules['proof_bits']} = {2 ** rules['proof_bits']:,} hashes expected, "
        f"{rules['proof_seconds'] * 1000:.0f} ms of one core in CPython here (about "
        f"{3600 / rules['proof_seconds']:,.0f} proofs per core-hour). A credited fake sample costs one proof where "
        f"the farm has addresses to spare (f: {farm_['after']} credited from {farm_['addresses_seen']} addresses, "
        f"{farm_['max_valid_per_address']} at most from one); the cap bounds what each address brings a day, not "
        "what a farm brings.",
        "Before: what the previous rules credited from the same stored submissions (a solved proof, reusable; the "
        "viewer header believed; no device, origin or volume rule): every stored submission with a solved proof. "
        "After: the `valid` counters. Rates per attacker-hour are this machine's, through moto: compare them with "
        "the baseline, not with AWS.",
        "",
        "| target | result | evidence |",
        "|---|---|---|",
        *(f"| {t['target']} | {'PASS' if t['met'] else '**FAIL**'} | {t['evidence']} |" for t in r["targets"]),
    ]
    if r["problems"]:
        lines += ["", "Inconsistencies (the figures above are suspect):", *(f"- {p}" for p in r["problems"])]
    lines += ["", f"(run time {r['total_s']:.0f} s)"]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--honest", type=int, help="honest respondents behind one address (must stay below the cap)")
    parser.add_argument("--cap", type=int, help="address_valid_per_day for the run")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    config = SIZES[args.size]
    changes: dict[str, Any] = {"progress": True}
    for name in ("honest", "cap", "seed"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    from dataclasses import replace

    return replace(config, **changes), args.json


def main(argv: list[str] | None = None) -> int:
    config, json_path = parse(argv)
    report = run(config)
    print(markdown(report), flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if all(t["met"] for t in report["targets"]) and not report["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
