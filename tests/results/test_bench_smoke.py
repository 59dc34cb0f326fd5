"""The whole-report-set benchmark runs end to end at a tiny size and prints its table."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import ROOT


def test_the_report_set_benchmark_runs_at_a_tiny_size(capsys, monkeypatch: pytest.MonkeyPatch):
    # on the path, so the report workers' processes can import what the script's own run imports
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "bench"))
    bench = importlib.import_module("bench_results")
    # no province report and two sponsors keep it short; the national and topic reports are the full ones
    assert bench.main(["--size", "300", "--sponsors", "2", "--min-n", "1000000000", "--no-suggestions"]) == 0
    printed = capsys.readouterr().out
    assert "| step | seconds | what |" in printed
    for step in ("figures (DuckDB)", "charts", "pages", "whole report set", "pandas per-question tables",
                 "peak memory (MB)"):
        assert f"| {step}" in printed
    assert "pandas and the national report's tables agree" in printed
