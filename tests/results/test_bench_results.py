"""The results benchmark, run as a script at a tiny size: it finishes and prints its side-by-side table (no time is
asserted: the figures are the script's to report)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_results_benchmark_runs_at_a_tiny_size():
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "bench_results_queries.py"), "--size", "400"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    printed = result.stdout
    assert "| step" in printed and "DuckDB (s)" in printed and "pandas (s)" in printed
    for step in ("load", "all per-question tables", "index with groupings", "one cross-tab", "peak memory (MB)"):
        assert f"| {step}" in printed, step
    assert "the engines' tables agree" in printed or "pandas is not installed" in printed
