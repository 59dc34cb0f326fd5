"""What the tests and the benchmarks share: the fixture project and its build, the catalog files the functions read,
a free port, a static server, the local stack (as `serve --rehearse` runs it, or holding given counters), Debian's
Chromium, and a benchmark part that fails without stopping the others.

Importable from a benchmark run as a script (after it puts the repository root on sys.path): nothing here needs
pytest, which is imported only where a fixture's helper needs it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TypeVar

ROOT = Path(__file__).resolve().parents[1]

CAMPAIGN = (ROOT / "sponsors.yaml").read_text(encoding="utf-8").split("\nsponsors:\n")[0]

SMALL_SPONSORS = """
sponsors:
  - slug: guangdong-cyber
    name: 广东省网络空间安全协会
    short_name: 广东网安协会
    kind: initiator
    province: 广东省
    logo: site_src/logos/guangdong-sample.png
    website: https://guangdong-cyber.example.org/
    channels: [website, wechat, poster]
    prizes:
      - {provider: 广东省网络空间安全协会, item: 定制雨伞, quantity: 100, scope: local}
  - slug: shenzhen-media
    name: 深圳融媒体中心
    short_name: 深圳融媒
    kind: media
    province: 广东省
    city: 深圳市
    nominated_by: guangdong-cyber
    channels: [website, app]
  - slug: beijing-ccs
    name: 北京市计算机学会
    short_name: 北京计算机学会
    kind: initiator
    province: 北京市
    channels: [website, wechat]
    former_slugs: [beijing-old]
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


# ---- the fixture project and its build ----------------------------------------------------------------------------

def write_project(root: Path, sponsors_text: str) -> Path:
    """A copy of the real project's site sources and config with its own sponsors.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    if not (root / "site_src").exists():
        shutil.copytree(ROOT / "site_src", root / "site_src")
    (root / "sponsors.yaml").write_text(sponsors_text, encoding="utf-8")
    return root


def mkdocs_build(project: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The build's own `mkdocs build` entry on `project`, output captured: how tests and benchmarks build. The
    site's address is the config's unless `env` sets SURVEY_SITE_URL; dates in files are fixed."""
    from generator.__main__ import mkdocs_build as build

    full_env = dict(os.environ, SOURCE_DATE_EPOCH="1595379600")
    full_env.pop("SURVEY_SITE_URL", None)
    full_env.update(env or {})
    return build(project / "mkdocs.yml", *extra, env=full_env, capture_output=True, text=True, cwd=project)


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


# ---- what the functions read from a built site --------------------------------------------------------------------

def beijing_midnight(days_ago: int = 0) -> datetime:
    """00:00 Beijing time, today or `days_ago` days before: where a rehearsal moves the window to have it open."""
    from lambdas.survey.catalog import BEIJING

    return (datetime.now(BEIJING) - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


def write_catalog(folder: Path, opens: str | None = None, rules_text: str | None = None) -> Path:
    """What the functions read from a built site, written by the build's own functions: sponsors.json (the sample's
    sponsors; the window moved to `opens` if given), questionnaires.json and rules.json (the published rules
    unless `rules_text`). Returns sponsors.json's path."""
    from generator import build, pages
    from lambdas.survey import questionnaire, rules

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sponsors.json"
    path.write_text(pages.manifest(build.read(ROOT / "sponsors.yaml", opens=opens), set()), encoding="utf-8")
    (folder / "questionnaires.json").write_text(questionnaire.dumps(questionnaire.read()), encoding="utf-8")
    (folder / "rules.json").write_text(rules_text if rules_text is not None else rules.dumps(rules.read()),
                                       encoding="utf-8")
    return path


# ---- loopback servers ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Quiet(SimpleHTTPRequestHandler):
    """A static file handler that logs nothing."""

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(folder: Path, handler: type[SimpleHTTPRequestHandler] = Quiet) -> Iterator[str]:
    """`folder` served over loopback HTTP in a thread; yields its address, ending in '/'."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def rehearsal(project: Path, extra_env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`python -m generator serve --rehearse` in `project` (with `extra_env`, e.g. another questionnaire file): the
    site, the functions, the table, the secrets and the upload bucket on this machine. Yields its address, a client
    of its database and that database's address, the project, and its log so far; once it has stopped on Ctrl-C,
    the log is whole and "returncode" is set."""
    import boto3

    port = free_port()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", **(extra_env or {}))
    env.pop("SURVEY_SITE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--rehearse", "--port", str(port)],
                            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log: list[str] = []
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while not any(line.startswith("Serving ") for line in log):
        line = proc.stdout.readline()
        assert line or proc.poll() is None, "".join(log)
        assert time.monotonic() < deadline, "".join(log)
        log.append(line)
    # Its log is read on, so a full pipe never stalls the server
    reader = threading.Thread(target=lambda: log.extend(proc.stdout or ()), daemon=True)
    reader.start()
    text = "".join(log)
    database = re.search(r"embedded DynamoDB \(moto server\) at (http://127\.0\.0\.1:\d+)", text)
    assert database, text
    # It prints the secretariat's command for the private links, naming the stack's own portal-key secret
    printed = re.search(r"Sponsors' private links: python -m lambdas\.admin --endpoint-url (\S+) --site (\S+) "
                        r"portal links --portal-secret (\S+)", text)
    assert printed and printed.group(1) == database.group(1) and Path(printed.group(2)) == project / "site", text
    client = boto3.client("dynamodb", endpoint_url=database.group(1), region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    stack = {"url": f"http://127.0.0.1:{port}/", "db": client, "database_url": database.group(1), "project": project,
             "log": log, "portal_secret": printed.group(3)}
    try:
        yield stack
    finally:
        proc.send_signal(signal.SIGINT)
        stack["returncode"] = proc.wait(timeout=30)
        reader.join(timeout=10)


def small_site(folder: Path) -> Path:
    """The small sample project built into `folder`, its window opened at yesterday's Beijing midnight (so every day
    so far is inside it); returns the site."""
    project = write_project(folder / "project", CAMPAIGN + SMALL_SPONSORS)
    result = mkdocs_build(project, env={"SURVEY_OPENS": beijing_midnight(days_ago=1).isoformat()})
    assert result.returncode == 0, result.stderr
    return project / "site"


@contextmanager
def counted_stack(site: Path, counters: list[tuple[int, str, str, str, int, int]]) -> Iterator[dict[str, Any]]:
    """The local stack over a built `site`, its table holding `counters`: (day of the window from 0, sponsor,
    channel, province, received, valid) of the public questionnaire, each row in its own shard. The counts function
    starts from its own setup, and is left so. Yields its address, its store, the site's catalog and its days."""
    import boto3

    from lambdas import local
    from lambdas.counts import app as counts_app
    from lambdas.survey import catalog as catalogs
    from lambdas.survey.layout import counter_key
    from lambdas.survey.store import Store

    counts_app.configure(None)
    with local.stack(site, port=0) as (stk, _server):
        client = boto3.client("dynamodb", endpoint_url=stk.database_url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        shards = int(next(e["SURVEY_SHARDS"] for e in stk.api.environments.values() if "SURVEY_SHARDS" in e))
        store = Store(client, stk.table, shards)
        cat = catalogs.load(site / "sponsors.json")
        days = cat.days()
        for n, (offset, sponsor, channel, province, received, valid) in enumerate(counters):
            key = counter_key(days[offset], n % shards, "public", sponsor, channel, province)
            assert store.set_counter(key, received, valid, None)
        yield {"url": stk.url, "store": store, "catalog": cat, "days": days}
    counts_app.configure(None)


# ---- the browser --------------------------------------------------------------------------------------------------

@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, headless; fails the test that asks for it when either is missing."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# ---- benchmarks ---------------------------------------------------------------------------------------------------

class Recorder(Protocol):
    def failed(self, figure: str, exc: Exception) -> None: ...


T = TypeVar("T")


def guarded(report: Recorder, figure: str, fn: Callable[[], T]) -> T | None:
    """Run one part of a benchmark; a failure is printed, recorded by the report, and the other parts still run
    (the smoke runs look for "FAILED" in the output)."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the others
        print(f"\n{figure} FAILED: {type(exc).__name__}: {exc}", flush=True)
        report.failed(figure, exc)
        return None
