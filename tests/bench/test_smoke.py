"""Every benchmark script, run as a script at a tiny size: it must finish and print its table. A smoke run proves the
script still works against the code it measures; it never asserts a time (the figures are the script's to report).
The attack kit's tiny run is tests/e2e/test_attack.py, which also asserts its targets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

BENCH = ROOT / "tests" / "bench"


def script(name: str, *args: str, timeout: float = 600) -> str:
    """Run tests/bench/<name> with `args` from the repository root; its output, after checking it exited 0."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop("SURVEY_SITE_URL", None)
    result = subprocess.run([sys.executable, str(BENCH / name), *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "FAILED" not in output, output[-4000:]  # a part that broke is reported, and the run goes on
    return result.stdout


def test_bench_submit_prints_its_summary():
    out = script("bench_submit.py", "--tiny")
    assert "| figure | ours | baseline | target | met? |" in out
    for figure in ("cold start, median", "warm request, median", "check() median, public", "page weight, public form"):
        assert f"| {figure}" in out, figure
    assert "handler statuses [200], 0 flagged" in out  # the warm figures took the stored-and-valid path


def test_load_test_prints_its_figures_and_finds_every_submission_once():
    out = script("load_test.py", "--submissions", "30", "--workers", "4", "--max-seconds", "60")
    assert "| submissions sent (distinct ids) | 30 |" in out
    assert "| path | requests | requests/s | p50 | p95 | p99 |" in out
    assert "Result: OK" in out


def test_bench_counts_prints_its_summary():
    out = script("bench_counts.py", "--sizes", "30", "--submissions", "200", "--moto-submissions", "100",
                 "--volume", "1000", "--moto-items", "100", "--requests", "2")
    assert "| size | backend (partitions read) | counter items |" in out
    assert "| submissions | backend | scan only (baseline) |" in out


def test_bench_build_prints_its_table():
    # 15 sponsors is the smallest size the script takes (it edits sponsors 0, 7 and 14); its cold build draws every
    # image, so this is the slowest smoke run here.
    out = script("bench_build.py", "--sizes", "15")
    assert "| sponsors | pages | plain build | unchanged rebuild |" in out
    assert "\n| 15 | " in out


def test_bench_pages_builds_the_pages_it_measures_and_prints_its_table():
    out = script("bench_pages.py", "--tiny")
    assert "| page | path | performance / accessibility |" in out
    for page in ("/sponsors/guangdong-cyber/", "/s/guangdong-cyber/wechat/", "/progress/"):
        assert f"| {page} |" in out, page
