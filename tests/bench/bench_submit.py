"""Submit benchmark: the collection path and the form page, each figure beside a baseline measured in the same run.

    .venv/bin/python tests/bench/bench_submit.py [--requests 2000] [--calls 20000] [--repeats 7] [--no-lighthouse]
        [--tiny]

It prints, then sums up in one Markdown table:

1. Cold start: `import lambdas.submit.app` plus `create(Settings.from_env())` (the DynamoDB client, the keys from
   Secrets Manager in one call, the rules, the questionnaires' checks, the sponsor catalog), timed inside fresh
   processes (median and min of --repeats) that get exactly the template's environment for the submit function,
   beside a bare handler that only imports boto3 and makes a DynamoDB client. The one Secrets Manager call goes to
   moto's server on loopback (`lambdas.local.database()`, holding the template's secrets), a few milliseconds where
   AWS takes tens. Context rows: Powertools' Tracer added (which we leave out), and create()'s steps timed one by one.
2. Warm request: the real `app.handler` on API Gateway v2 events carrying valid submissions, each with the proof of
   work for its own id (from `Intake.challenge`, issued ten minutes earlier), with the store replaced by an
   in-memory fake, so the figure is our code + Powertools routing + JSON + validation + the validity judgement
   (median, p95). Baseline: a one-route APIGatewayHttpResolver returning constant JSON, the framework's own floor.
3. Validation: `Questionnaire.check` on valid random answers, per questionnaire, beside `json.loads` of the same
   answers' JSON text.
4. Form page weight: gzip -9 (and -6) of an entry page and every same-site file it references, beside a lean
   mkdocs-material page (HTML + its CSS + JS).
5. Lighthouse (mobile; performance and accessibility) of the public form page and of the lean page, served by
   `python -m http.server` on loopback. Uses `.cache/lighthouse` if `npm install --prefix .cache/lighthouse
   lighthouse@12` was run there, otherwise `npx --yes lighthouse@12`; if it cannot run, the other figures still print.

Nothing here talks to AWS: clients are created with fake credentials and call nothing but the local moto server.
--tiny runs every part once at a few requests and no Lighthouse: a check that the script works, not a measurement.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: `tests` is not an installed package

from tests.helpers import (  # noqa: E402
    CAMPAIGN, SMALL_SPONSORS, beijing_midnight, free_port, guarded, mkdocs_build, write_catalog, write_project,
)

TABLE = "survey-bench"
SHARDS = 16
BITS = 8  # cheap to solve here; the server's check is one HMAC and one SHA-256 whatever the difficulty
SPONSOR, CHANNEL = "zhejiang-cyberspace", "wechat"
ENTRY = "s/guangdong-cyber/wechat/"  # the small fixture project's public entry page; practitioners' is pro/ below it
KB = 1024

TARGET_COLD_RATIO = 1.5
TARGET_WARM_MS = 2.0
TARGET_CHECK_US = 100.0
TARGET_PAGE_KB = 40.0
TARGET_PERF, TARGET_A11Y = 95, 100


@dataclass
class Row:
    figure: str
    ours: str
    baseline: str
    target: str
    met: bool | None  # None: not measured


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: Any) -> None:
        self.rows.append(Row(*args))

    def failed(self, figure: str, exc: Exception) -> None:
        self.add(figure, f"failed: {type(exc).__name__}", "", "", None)


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.95))]


def catalog_file(folder: Path) -> Path:
    """sponsors.json as the generator writes it, with the window open today, and the questionnaires and the rules the
    build publishes beside it: the function reads them there."""
    return write_catalog(folder, beijing_midnight().isoformat())


# ---- 1. cold start ------------------------------------------------------------------------------------------------

COLD = r"""
import json, os, sys, time
clock = time.perf_counter
started = clock()
stages = {}
variant = sys.argv[1]
if variant == "bare":
    import boto3
    boto3.client("dynamodb")
else:
    import lambdas.submit.app as app
    from lambdas.survey.settings import Settings
    stages["import lambdas.submit.app"] = clock() - started
    if variant == "tracer":
        from aws_lambda_powertools import Tracer
        Tracer()
        stages["Tracer()"] = clock() - started - sum(stages.values())
    settings = Settings.from_env()
    if variant == "parts":  # what create() does, step by step, to show where the time goes
        from botocore.config import Config
        from lambdas.survey import catalog as cat, keys, questionnaire, rules
        app.boto3.client("dynamodb", config=Config(retries={"max_attempts": 2, "mode": "standard"},
                                                   connect_timeout=2, read_timeout=3))
        stages["DynamoDB client"] = clock() - started - sum(stages.values())
        keys.load(dict(os.environ))
        stages["keys.load() (Secrets Manager client + 1 call)"] = clock() - started - sum(stages.values())
        survey = questionnaire.load(settings.questionnaires)
        stages["questionnaire.load()"] = clock() - started - sum(stages.values())
        rules.parse(rules.read(settings.rules), settings.rules, tuple(survey.questionnaires))
        stages["rules"] = clock() - started - sum(stages.values())
        cat.load(settings.catalog)
        stages["catalog.load()"] = clock() - started - sum(stages.values())
    else:
        app.configure(app.create(settings))
        stages["create()"] = clock() - started - sum(stages.values())
print(json.dumps({"total": clock() - started, **stages}))
"""

# variant -> (label, extra environment)
VARIANTS = {
    "bare": ("bare: import boto3; boto3.client('dynamodb')", {}),
    "ours": ("ours: import lambdas.submit.app + create(Settings.from_env())", {}),
    # Outside Lambda the Tracer disables itself and costs little; LAMBDA_TASK_ROOT makes it patch as it would there.
    "tracer": ("ours + Tracer() (as in Lambda; what we avoid)", {"LAMBDA_TASK_ROOT": str(ROOT)}),
    "parts": ("ours, create()'s steps timed apart", {}),
}


def lambda_env(extra: dict[str, str], function: dict[str, str] | None = None) -> dict[str, str]:
    """A Lambda-like environment: region and fake credentials from variables, no profile or local config, and the
    function's own variables (the template's, with the local secrets' ARNs and endpoints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_", "SURVEY_"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench",
               AWS_SECRET_ACCESS_KEY="bench", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               POWERTOOLS_SERVICE_NAME="submit")
    env.update(function or {})
    env.update(extra)
    return env


SUBMIT = "lambdas.submit.app.handler"


@contextmanager
def submit_environment(catalog: Path) -> Iterator[dict[str, str]]:
    """The submit function's environment as the template gives it, its secrets in moto's Secrets Manager (served on
    loopback for as long as this lasts) and its catalog the bench's sponsors.json."""
    from lambdas import local

    tpl = local.template()
    with local.database() as url:
        arns, _ = local.create_secrets(url, tpl)
        env = local.environments(tpl, url, catalog.parent, arns)[SUBMIT]
        yield {**env, "SURVEY_CATALOG": str(catalog)}


def cold_once(variant: str, function: dict[str, str]) -> dict[str, float]:
    """Milliseconds per stage (and "total") of one fresh process."""
    result = subprocess.run([sys.executable, "-c", COLD, variant], capture_output=True, text=True,
                            check=False, cwd=ROOT, env=lambda_env(VARIANTS[variant][1], function), timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{variant}: {result.stderr.strip().splitlines()[-1:]}")
    return {k: v * 1000 for k, v in json.loads(result.stdout.strip().splitlines()[-1]).items()}


def bench_cold(catalog: Path, repeats: int, report: Report) -> None:
    section("1. Cold start (in a fresh process: imports + everything built at cold start)")
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    with submit_environment(catalog) as function:
        for variant in VARIANTS:
            cold_once(variant, function)  # discarded: the first run may write bytecode caches
        for _ in range(repeats):
            for variant in VARIANTS:  # interleaved, so drift on a noisy machine hits every variant alike
                runs[variant].append(cold_once(variant, function))
    total = {v: [r["total"] for r in rs] for v, rs in runs.items()}
    bare = median(total["bare"])
    print("| handler | median | min | × bare (median) | stages (medians) |\n|---|---:|---:|---:|---|")
    for variant, (label, _) in VARIANTS.items():
        t = total[variant]
        stages = ", ".join(f"{k} {median([r[k] for r in runs[variant]]):.0f} ms" for k in runs[variant][0] if k != "total")
        print(f"| {label} | {median(t):.0f} ms | {min(t):.0f} ms | {median(t) / bare:.2f}× | {stages} |")
    ours, tracer = median(total["ours"]), median(total["tracer"])
    report.add("cold start, median (import + create)", f"{ours:.0f} ms ({ours / bare:.2f}×)", f"{bare:.0f} ms (bare boto3)",
               f"≤ {TARGET_COLD_RATIO}× bare", ours / bare <= TARGET_COLD_RATIO)
    report.add("cold start with Tracer (context only)", f"{tracer:.0f} ms ({tracer / bare:.2f}×)",
               f"{bare:.0f} ms (bare boto3)", "(not used)", None)


# ---- 2. warm request ----------------------------------------------------------------------------------------------

class NoDatabase:
    """A DynamoDB client that makes every write and finds nothing on a read, keeping the submissions put. Our own
    Store runs over it (items, conditions, the counting transaction), so the warm figure is all of our code without
    DynamoDB's round trips, and cannot drift from the Store it measures, as a stand-in Store once did (the figure
    failed with "argument of type 'NoneType' is not iterable"). It holds on the path measured only, where every
    id, marker and limit is new."""

    def __init__(self) -> None:
        self.submissions: list[dict[str, Any]] = []

    def put_item(self, **call: Any) -> dict[str, Any]:
        if "valid" in call["Item"]:  # a submission; the other puts are markers
            self.submissions.append(call["Item"])
        return {}

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        return lambda **call: {}


def bodies(intake: Any, n: int, start: int = 0) -> list[bytes]:
    """Valid submissions as the form's script sends them: distinct ids, devices and answers, both questionnaires,
    each with the proof of work for its own id, from a challenge issued ten minutes ago (so none is too fast)."""
    from lambdas.submit import proof
    from tests.lambdas.answers import valid_answers

    survey = intake.survey
    qids = list(survey.questionnaires)
    issued = datetime.now(UTC) - timedelta(minutes=10)
    out = []
    for i in range(start, start + n):
        qid = qids[i % len(qids)]
        rng = random.Random(i)
        sub_id = f"bench-{i:08d}-{rng.getrandbits(32):08x}"
        challenge = intake.challenge(sub_id, "", f"198.51.100.{i % 200}", issued).body["challenge"]
        out.append(json.dumps({
            "id": sub_id, "questionnaire": qid, "sponsor": SPONSOR,
            "channel": CHANNEL, "answers": valid_answers(survey.questionnaires[qid], rng), "homepage": "",
            "device": f"device-{i}", "proof": {"challenge": challenge, "nonce": proof.solve(challenge)},
        }, ensure_ascii=False).encode())
    return out


def api_event(template: dict[str, Any], body: bytes) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event for POST /api/submit, shaped like tests/events/submit.json."""
    e = json.loads(json.dumps(template))
    e["headers"]["content-type"] = "application/json"
    e["body"], e["isBase64Encoded"] = body.decode(), False
    now = time.time()
    e["requestContext"]["timeEpoch"] = int(now * 1000)
    return e


def timed(fn: Callable[[Any], Any], inputs: list[Any], keep: Callable[[Any], Any] | None = None,
          warmup: int = 0) -> tuple[list[float], list[Any]]:
    """Per-call times in µs, after `warmup` untimed calls; and keep(result) per call, if asked. Results are not
    held otherwise: thousands of live dicts would slow every garbage collection and inflate later calls."""
    for x in inputs[:warmup]:
        fn(x)
    gc.collect()
    times, kept = [], []
    clock = time.perf_counter_ns
    for x in inputs[warmup:]:
        t0 = clock()
        r = fn(x)
        times.append((clock() - t0) / 1000)
        if keep is not None:
            kept.append(keep(r))
    return times, kept


def bench_warm(catalog_path: Path, n: int, report: Report) -> None:
    section("2. Warm request, DynamoDB excluded (in-memory store)")
    from lambdas.submit import app

    # Lambda's stdout is a pipe to CloudWatch: keep writing every log line, just not to this terminal.
    with open(os.devnull, "w", encoding="utf-8") as sink:
        previous = app.logger.registered_handler.setStream(sink)
        try:
            ours, core, floor, ok = measure_warm(catalog_path, n)
        finally:
            app.logger.registered_handler.setStream(previous)
    print("| handler | median | p95 |\n|---|---:|---:|")
    for label, t in (("ours: app.handler (Powertools routing + Logger + Intake)", ours),
                     ("our code alone: Intake.submit(Request)", core),
                     ("floor: one-route APIGatewayHttpResolver, constant JSON", floor)):
        print(f"| {label} | {median(t) / 1000:.3f} ms | {p95(t) / 1000:.3f} ms |")
    print(f"\nProof difficulty here is {BITS} bits; the server's check (one HMAC + one SHA-256) costs the same at any.")
    for stat, f in (("median", median), ("p95", p95)):
        report.add(f"warm request, {stat} (no DynamoDB)", f"{f(ours) / 1000:.3f} ms", f"{f(floor) / 1000:.3f} ms (floor)",
                   f"≤ {TARGET_WARM_MS:g} ms", ok and f(ours) / 1000 <= TARGET_WARM_MS)


def measure_warm(catalog_path: Path, n: int) -> tuple[list[float], list[float], list[float], bool]:
    """µs per request: the real handler, Intake.submit alone, the framework's floor; and whether every request
    took the stored-and-valid path (the one to measure)."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from lambdas import local
    from lambdas.submit import app
    from lambdas.submit.intake import Intake, Request
    from lambdas.survey import catalog, questionnaire, rules
    from lambdas.survey.keys import Keys
    from lambdas.survey.settings import Settings
    from lambdas.survey.store import Store

    survey = questionnaire.load()
    settings = Settings(TABLE, catalog_path, SHARDS)
    keys = Keys(address=b"bench-address-key-" * 3, challenge=b"bench-challenge-key-" * 3, origin_token="")
    judged_by = replace(rules.load(catalog_path.with_name("rules.json")), proof_bits=BITS)
    database = NoDatabase()
    intake = Intake(settings, keys, judged_by, survey, catalog.load(catalog_path), Store(database, TABLE, SHARDS))
    previous = app.intake
    app.configure(intake)
    template = json.loads((ROOT / "tests" / "events" / "submit.json").read_text(encoding="utf-8"))
    warmup = min(200, n)
    raw = bodies(intake, n + warmup)
    events = [api_event(template, b) for b in raw]
    context = local.Context("submit", "bench-request")

    ours, codes = timed(lambda e: app.handler(e, context), events, lambda r: r["statusCode"], warmup)
    flagged = sum(1 for item in database.submissions if not item["valid"]["BOOL"])
    ok = set(codes) == {200} and flagged == 0 and len(database.submissions) == len(events)

    # Our code alone (no Powertools, no event): the same bodies straight into Intake.submit, into a fresh store.
    intake.store = Store(NoDatabase(), TABLE, SHARDS)
    now = datetime.now(UTC)
    requests = [Request(b, "application/json", "203.0.113.9", now) for b in raw]
    core, statuses = timed(intake.submit, requests, lambda o: o.status, warmup)
    ok = ok and set(statuses) == {200}

    floor_app = APIGatewayHttpResolver()

    @floor_app.post("/api/submit")
    def _stored() -> dict[str, str]:
        return {"status": "stored"}

    floor = timed(lambda e: floor_app.resolve(e, context), events, warmup=warmup)[0]
    print(f"{n} requests after {warmup} warm-up; handler statuses {sorted(set(codes))}, {flagged} flagged; "
          f"Intake.submit statuses {sorted(set(statuses))}"
          + ("" if ok else "  <-- NOT the all-valid path: figures are suspect"))
    app.configure(previous)
    return ours, core, floor, ok


# ---- 3. validation ------------------------------------------------------------------------------------------------

def bench_check(calls: int, report: Report) -> None:
    section("3. Validation per request: Questionnaire.check on valid answers")
    from lambdas.survey import questionnaire
    from tests.lambdas.answers import valid_answers

    survey = questionnaire.load()
    print("| questionnaire | questions | answers JSON | check median | check p95 | json.loads median |\n|---|---:|---:|---:|---:|---:|")
    for qid, qn in survey.questionnaires.items():
        samples = [valid_answers(qn, random.Random(i)) for i in range(500)]
        texts = [json.dumps(a, ensure_ascii=False) for a in samples]
        inputs = [samples[i % len(samples)] for i in range(calls + 1000)]
        checks = timed(qn.check, inputs, warmup=1000)[0]
        loads = timed(json.loads, [texts[i % len(texts)] for i in range(calls + 1000)], warmup=1000)[0]
        size = statistics.mean(len(t.encode()) for t in texts)
        print(f"| {qid} | {len(qn.questions)} | {size:.0f} B | {median(checks):.1f} µs | {p95(checks):.1f} µs | "
              f"{median(loads):.1f} µs |")
        report.add(f"check() median, {qid}", f"{median(checks):.1f} µs", f"{median(loads):.1f} µs (json.loads)",
                   f"≤ {TARGET_CHECK_US:g} µs", median(checks) <= TARGET_CHECK_US)


# ---- 4. page weight -----------------------------------------------------------------------------------------------

class References(HTMLParser):
    """What a browser fetches for a page: scripts, stylesheets, icons, preloads and images."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "img") and a.get("src"):
            self.refs.append(a["src"])
        elif tag == "link" and a.get("href"):
            rel = set(a.get("rel", "").lower().split())
            if rel & {"stylesheet", "icon", "apple-touch-icon", "preload", "modulepreload"}:
                self.refs.append(a["href"])


def kind_of(path: Path) -> str:
    return {".html": "html", ".css": "css", ".js": "js", ".mjs": "js"}.get(path.suffix, "other")


def page_files(site: Path, page: str) -> tuple[list[Path], list[str]]:
    """The page's HTML and every same-site file it references (each once); and references that are not ours."""
    html_path = site / page / "index.html" if page.endswith("/") or not page else site / page
    parser = References()
    parser.feed(html_path.read_text(encoding="utf-8"))
    base = f"http://site.invalid/{page}"
    files, other = [html_path], []
    for ref in parser.refs:
        url = urlsplit(urljoin(base, ref))
        if url.scheme != "http" or url.netloc != "site.invalid":
            other.append(ref)  # data: URIs live inside the HTML already; anything else is a third-party fetch
            continue
        path = site / unquote(url.path).lstrip("/")
        path = path / "index.html" if url.path.endswith("/") else path
        if path not in files:
            files.append(path)
    return files, other


def gz(data: bytes, level: int) -> int:
    return len(gzip.compress(data, compresslevel=level, mtime=0))


def weigh(site: Path, page: str, label: str) -> dict[str, float]:
    """Prints each file's raw and gzipped size; returns the sums, HTML+CSS+JS apart from everything."""
    files, other = page_files(site, page)
    sums = {"core9": 0.0, "core6": 0.0, "all9": 0.0, "raw": 0.0}
    print(f"**{label}** (`{page or 'index.html'}`)\n\n| file | kind | raw | gzip -6 | gzip -9 |\n|---|---|---:|---:|---:|")
    for f in files:
        if not f.exists():
            print(f"| {f.relative_to(site)} | missing | | | |")
            continue
        data = f.read_bytes()
        g6, g9 = gz(data, 6), gz(data, 9)
        kind = kind_of(f)
        print(f"| {f.relative_to(site)} | {kind} | {len(data) / KB:.1f} KB | {g6 / KB:.1f} KB | {g9 / KB:.1f} KB |")
        sums["all9"] += g9
        sums["raw"] += len(data)
        if kind != "other":
            sums["core9"] += g9
            sums["core6"] += g6
    print(f"| **HTML+CSS+JS** | | | {sums['core6'] / KB:.1f} KB | {sums['core9'] / KB:.1f} KB |")
    print(f"| **everything** | | {sums['raw'] / KB:.1f} KB | | {sums['all9'] / KB:.1f} KB |")
    if other:
        print(f"\nnot same-site: {other}")
    print()
    return sums


def build_ours(base: Path) -> Path:
    """The small fixture project, built with the window open today; returns its site folder."""
    project = write_project(base / "project", CAMPAIGN + SMALL_SPONSORS)
    result = mkdocs_build(project, env={"SURVEY_OPENS": beijing_midnight().isoformat()})
    if result.returncode != 0:
        raise RuntimeError(f"our build failed:\n{result.stderr[-2000:]}")
    return project / "site"


LEAN_CONFIG = """site_name: Lean page
theme:
  name: material
  font: false
plugins: []
"""

LEAN_PAGE = """# 网民网络安全感满意度调查

网络安全为人民，网络安全靠人民。这是一段普通的说明文字，用来代表一页最简单的 Material 页面上的正文内容。

第二段：没有插件、没有搜索、没有自定义样式或脚本，只有主题本身的 HTML、CSS 和 JavaScript。
"""


def build_lean(base: Path) -> Path:
    """A lean mkdocs-material page (theme only, no plugins, no search): the baseline for weight and Lighthouse."""
    project = base / "lean"
    (project / "docs").mkdir(parents=True)
    (project / "mkdocs.yml").write_text(LEAN_CONFIG, encoding="utf-8")
    (project / "docs" / "index.md").write_text(LEAN_PAGE, encoding="utf-8")
    result = mkdocs_build(project)
    if result.returncode != 0:
        raise RuntimeError(f"lean build failed:\n{result.stderr[-2000:]}")
    return project / "site"


def bench_weight(ours: Path | None, lean: Path | None, report: Report) -> None:
    section("4. Page weight: what a phone downloads for one page (each file gzipped on its own, summed)")
    base = weigh(lean, "", "lean mkdocs-material page") if lean else None
    for label, page in (("public form", ENTRY), ("practitioners' form", ENTRY + "pro/")):
        if ours is None:
            report.add(f"page weight, {label}", "not built", "", f"≤ {TARGET_PAGE_KB:g} KB", None)
            continue
        s = weigh(ours, page, label)
        report.add(f"page weight, {label} (HTML+CSS+JS, gzip -9)",
                   f"{s['core9'] / KB:.1f} KB (all files {s['all9'] / KB:.1f} KB)",
                   f"{base['core9'] / KB:.1f} KB (lean Material)" if base else "n/a",
                   f"≤ {TARGET_PAGE_KB:g} KB", s["core9"] / KB <= TARGET_PAGE_KB)


# ---- 5. Lighthouse ------------------------------------------------------------------------------------------------

LIGHTHOUSE_LOCAL = ROOT / ".cache" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
METRICS = {"first-contentful-paint": "FCP", "largest-contentful-paint": "LCP", "total-blocking-time": "TBT",
           "cumulative-layout-shift": "CLS"}


def serve(site: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("http.server did not start")


def lighthouse(site: Path, page: str, out: Path) -> dict[str, Any]:
    """Lighthouse's JSON report for one page, or raises RuntimeError saying why it could not run."""
    command = [str(LIGHTHOUSE_LOCAL)] if LIGHTHOUSE_LOCAL.exists() else ["npx", "--yes", "lighthouse@12"]
    if not LIGHTHOUSE_LOCAL.exists() and not shutil.which("npx"):
        raise RuntimeError("neither .cache/lighthouse nor npx is available")
    if not Path("/usr/bin/chromium").exists():
        raise RuntimeError("/usr/bin/chromium is missing (apt-get install chromium)")
    proc, url = serve(site)
    try:
        result = subprocess.run(
            [*command, url + page, "--only-categories=performance,accessibility", "--form-factor=mobile",
             "--screenEmulation.mobile", "--output=json", f"--output-path={out}", "--quiet",
             "--chrome-flags=--headless=new --no-sandbox"],
            capture_output=True, text=True, check=False, timeout=240, env=dict(os.environ, CHROME_PATH="/usr/bin/chromium"))
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError("lighthouse timed out") from exc
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"lighthouse exited {result.returncode}: {(result.stderr or result.stdout).strip()[-800:]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    if data.get("runtimeError", {}).get("code"):
        raise RuntimeError(f"lighthouse: {data['runtimeError']}")
    return data


def scores(data: dict[str, Any]) -> tuple[float, float]:
    c = data["categories"]
    return c["performance"]["score"] * 100, c["accessibility"]["score"] * 100


def describe(label: str, data: dict[str, Any]) -> None:
    audits = data["audits"]
    perf, a11y = scores(data)
    metrics = ", ".join(f"{short} {audits[m]['displayValue']}" for m, short in METRICS.items())
    print(f"**{label}**: performance {perf:.0f}, accessibility {a11y:.0f}; {metrics}")
    failed = [r["id"] for r in data["categories"]["accessibility"]["auditRefs"]
              if audits[r["id"]]["score"] is not None and audits[r["id"]]["score"] < 1]
    print(f"- failed accessibility audits: {', '.join(failed) if failed else 'none'}")
    for r in data["categories"]["performance"]["auditRefs"]:
        a = audits[r["id"]]
        if a["score"] is None or a["score"] >= 1 or a.get("scoreDisplayMode") in ("notApplicable", "manual", "informative"):
            continue
        what = ("metric" if r.get("weight") else "insight" if r["id"].endswith("-insight")
                else "diagnostic" if r.get("group") == "diagnostics" else "other")
        print(f"- {what}: `{r['id']}` ({a['score']:.2f}) {a['title']}" + (f" — {a['displayValue']}" if a.get("displayValue") else ""))
    print()


def bench_lighthouse(ours: Path | None, lean: Path | None, report: Report, tmp: Path) -> None:
    section("5. Lighthouse, mobile (served by python -m http.server on loopback: no compression, no cache headers)")
    results: dict[str, dict[str, Any] | str] = {}
    for key, site, page, label in (("ours", ours, ENTRY, "public form page"), ("lean", lean, "", "lean mkdocs-material page")):
        if site is None:
            results[key] = "site not built"
            continue
        try:
            results[key] = lighthouse(site, page, tmp / f"lh-{key}.json")
            describe(label, results[key])
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            results[key] = str(exc)
            print(f"**{label}**: Lighthouse could not run: {exc}\n")
    ours_r, lean_r = results.get("ours"), results.get("lean")
    base = scores(lean_r) if isinstance(lean_r, dict) else None
    for i, (name, target) in enumerate((("performance", TARGET_PERF), ("accessibility", TARGET_A11Y))):
        if isinstance(ours_r, dict):
            value = scores(ours_r)[i]
            report.add(f"Lighthouse {name}, public form (mobile)", f"{value:.0f}",
                       f"{base[i]:.0f} (lean Material)" if base else "n/a", f"≥ {target}" if target < 100 else "100", value >= target)
        else:
            report.add(f"Lighthouse {name}, public form (mobile)", f"not run: {str(ours_r)[:80]}", "", f"≥ {target}" if target < 100 else "100", None)


# ---- summary ------------------------------------------------------------------------------------------------------

def summary(report: Report) -> None:
    section("Summary")
    print("| figure | ours | baseline | target | met? |\n|---|---|---|---|---|")
    for r in report.rows:
        met = "n/a" if r.met is None else ("yes" if r.met else "**no**")
        print(f"| {r.figure} | {r.ours} | {r.baseline} | {r.target} | {met} |")
    for note in report.notes:
        print(f"\n{note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--tiny", action="store_true",
                        help="every part once, small: --requests 50 --calls 500 --repeats 1 --no-lighthouse")
    args = parser.parse_args(argv)
    if args.tiny:
        args.requests, args.calls, args.repeats, args.no_lighthouse = 50, 500, 1, True
    report = Report(notes=[(
        "KB = 1024 bytes. Lighthouse is served by python -m http.server: no compression and no cache headers, so "
        "its text-compression and cache-policy findings are the test server's, not the page's.")])
    started = time.monotonic()
    print(f"cores: {os.cpu_count()}; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp_name:
        tmp = Path(tmp_name)
        catalog = guarded(report, "catalog (sponsors.json)", lambda: catalog_file(tmp))
        if catalog is not None:
            guarded(report, "cold start", lambda: bench_cold(catalog, args.repeats, report))
            guarded(report, "warm request", lambda: bench_warm(catalog, args.requests, report))
        guarded(report, "validation", lambda: bench_check(args.calls, report))
        ours = guarded(report, "form page build", lambda: build_ours(tmp))
        lean = guarded(report, "lean page build", lambda: build_lean(tmp))
        guarded(report, "page weight", lambda: bench_weight(ours, lean, report))
        if not args.no_lighthouse:
            guarded(report, "Lighthouse", lambda: bench_lighthouse(ours, lean, report, tmp))
    summary(report)
    print(f"\n(run time {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
