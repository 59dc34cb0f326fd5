"""Every benchmark script, run as a script at a tiny size: it must finish and print its table. A smoke run proves the
script still works against the code it measures, so a change that breaks a benchmark fails here rather than rotting
unseen until the next measurement; it never asserts a time (the figures are the script's to report). Three scripts
have their smoke run beside the code they measure (SMOKE_RUNS)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.e2e

BENCH = ROOT / "tests" / "bench"

# Each script in tests/bench and the test file that runs it at a tiny size.
SMOKE_RUNS = {
    "bench_attack.py": "tests/e2e/test_attack.py",  # which also asserts the validity rules' targets
    "bench_build.py": "tests/bench/test_smoke.py",
    "bench_counts.py": "tests/bench/test_smoke.py",
    "bench_pages.py": "tests/bench/test_smoke.py",
    "bench_results.py": "tests/results/test_bench_smoke.py",
    "bench_results_queries.py": "tests/results/test_bench_results.py",
    "bench_submit.py": "tests/bench/test_smoke.py",
    "load_test.py": "tests/bench/test_smoke.py",
}


def test_every_benchmark_script_has_a_smoke_run():
    scripts = {p.name for p in BENCH.glob("*.py") if not p.name.startswith("test_")
               and p.name not in ("__init__.py", "conftest.py")}
    assert scripts == set(SMOKE_RUNS), "give each new script a tiny-size run in a test and list it in SMOKE_RUNS"
    for name, test_file in SMOKE_RUNS.items():
        text = (ROOT / test_file).read_text(encoding="utf-8")
        assert re.search(rf"\b{Path(name).stem}\b", text), f"{test_file} does not run {name}"


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
    # One sponsor in the 2025 shape, each build once: a cold build (every image and document drawn), the plain build,
    # an unchanged rebuild, one sponsor's edit with its images drawn apart, and one core question's rewording.
    from lambdas.survey import questionnaire

    survey = questionnaire.load(ROOT / "lambdas/survey/questionnaires-2025.yaml")
    out = script("bench_build.py", "--tiny")
    assert "| sponsors | build | time | × plain | target | met? | changed in site/ |" in out
    assert re.search(r"\n\| 1 \| one sponsor edited \(beijing-ccs\) \| .*\(\d+\.\d+ s, \d+ jobs\)", out), out
    # The rewording changed every public topic's form at each of the sponsor's four links, each form one file
    # hard-linked under every link, so there are fewer distinct files than paths.
    edit = re.search(r"\n\| 1 \| one question's wording edited \(public core '\w+'\) \| .* \| (\d+) paths, (\d+) distinct", out)
    topics = len(survey.questionnaires["public"].modules.topics)
    assert edit and int(edit[1]) >= 4 * topics and topics <= int(edit[2]) < int(edit[1]), out
    forms = len(survey.forms)
    assert re.search(rf"\n\| 1 \| 4 \| {forms} of {forms} \| ", out), out  # four links, every form at each
    assert re.search(r"\n\| 1 \| form `s/beijing-ccs/\w+/\w+/` \| \d+\.\d KB \| ≤ 16 KB", out), out


def test_bench_build_writes_a_campaign_of_the_samples_mix(tmp_path):
    from generator.sponsors import load

    path = tmp_path / "sponsors.yaml"
    script("bench_build.py", "--write-sponsors", str(path), "--count", "300")
    sponsors = load(path).sponsors  # refuses a list the build would refuse: nominations, limits, look-alikes
    kinds = Counter(s.kind for s in sponsors)
    assert len(sponsors) == 300 and kinds["initiator"] < 300 and kinds["media"] and kinds["enterprise"], kinds
    assert any(s.prizes for s in sponsors) and any(s.sublinks for s in sponsors)
    again = tmp_path / "again.yaml"
    script("bench_build.py", "--write-sponsors", str(again), "--count", "300")
    assert again.read_bytes() == path.read_bytes()  # the same campaign every time


def test_bench_pages_builds_the_pages_it_measures_and_prints_its_table():
    out = script("bench_pages.py", "--tiny")
    assert "| page | path | performance / accessibility |" in out
    for page in ("/sponsors/guangdong-cyber/", "/s/guangdong-cyber/wechat/", "/progress/"):
        assert f"| {page} |" in out, page
