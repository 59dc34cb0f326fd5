"""The results benchmark runs end to end at a tiny size and prints its side-by-side table."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import ROOT


def test_the_results_benchmark_runs_at_a_tiny_size(capsys, monkeypatch: pytest.MonkeyPatch):
    # on the path, so the engines' processes can import the benchmark's functions as the script's own run does
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "bench"))
    bench = importlib.import_module("bench_results_queries")
    assert bench.main(["--size", "400"]) == 0
    printed = capsys.readouterr().out
    assert "| step" in printed and "DuckDB (s)" in printed and "pandas (s)" in printed
    for step in ("load", "all per-question tables", "index with groupings", "one cross-tab", "peak memory (MB)"):
        assert step in printed
    assert "the engines' tables agree" in printed or "pandas is not installed" in printed
