"""Results benchmark: the whole report set (national, every province with enough samples, every questionnaire, every
sponsor; HTML, PDF, CSV and XLSX) from synthetic submissions, and beside it, in the same run, the per-question
tables computed with pandas from the same Parquet as the baseline.

    .venv/bin/python tests/bench/bench_results.py [--size 3000000] [--data DIR] [--out DIR] [--workers 2]
                                                  [--sponsors N] [--min-n 1000] [--no-suggestions]

Data: --size synthetic valid submissions (lambdas.results.synth, 10 % practitioners) written as the export's
Parquet with the sample sponsors.yaml's sponsors (--sponsors N: only the first N, for a quick run), or the export
already in --data (with its sponsors.json beside it). Steps:
  figures         DuckDB over the Parquet: every scope's index tables and per-question tables (reports.collect)
  suggestions     the free-text suggestions' terms (suggestions.analyse; --no-suggestions leaves the section out)
  charts          every chart, once (SVG for the pages, PNG for the PDFs), in --workers processes
  pages           each report's HTML, CSV, XLSX and PDF, in --workers processes
  pandas          the per-question counts of both questionnaires from the same Parquet with pandas, checked
                  against the national report's own CSV tables
Peak memory: this process's and the largest worker's maximum resident set (they run side by side).
CPU: user + system seconds of this process and its workers; on an otherwise idle machine the wall time is about
CPU / workers for the parallel steps, which is how to read a run on a shared, busy machine.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 180
MEMORY_GB = 4


def catalog_file(folder: Path, sponsors: int | None) -> Any:
    """The sample campaign's sponsors.json (all sponsors, or the first `sponsors`) in `folder`."""
    from generator import build, pages
    from lambdas.survey import catalog

    path = folder / "sponsors.json"
    if not path.exists():
        path.write_text(pages.manifest(build.read(ROOT / "sponsors.yaml", opens=None), set()), encoding="utf-8")
    cat = catalog.load(path)
    if sponsors is not None:
        cat = dataclasses.replace(cat, sponsors=dict(list(cat.sponsors.items())[:sponsors]))
    return cat


def pandas_tables(parquet_dir: Path, survey: Any) -> tuple[dict[str, dict[str, dict[str, int]]], float]:
    """Respondents per answer of every single, multi and rating question and matrix row, valid samples only, per
    questionnaire: {qid: {column: {answer: count}}}, and the seconds it took."""
    import pandas as pd

    began = time.perf_counter()
    out: dict[str, dict[str, dict[str, int]]] = {}
    for qid, qn in survey.questionnaires.items():
        path = parquet_dir / f"submissions-{qid}.parquet"
        if not path.exists():
            continue
        columns = [c for q in qn.questions if q.type in ("single", "multi", "rating", "matrix") for c in q.field_names()]
        frame = pd.read_parquet(path, columns=["valid"] + columns)
        frame = frame[frame["valid"]]
        tables: dict[str, dict[str, int]] = {}
        multi = {q.id for q in qn.questions if q.type == "multi"}
        for c in columns:
            values = frame[c].dropna()
            if c in multi:
                values = values.str.split(";").explode()
            tables[c] = {str(k): int(v) for k, v in values.astype(str).value_counts().items()}
        out[qid] = tables
    return out, time.perf_counter() - began


def compare(out_dir: Path, survey: Any, baseline: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    """Differences between pandas' counts and the national report's CSV tables (single, multi, rating)."""
    problems = []
    for qid, tables in baseline.items():
        qn = survey.questionnaires[qid]
        for q in qn.questions:
            if q.type not in ("single", "multi", "rating"):
                continue
            path = out_dir / "national" / "csv" / f"{qid}-q-{q.id}.csv"
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))[2:]
            labels = dict(q.options) if q.type != "rating" else None
            for row in rows:
                if len(row) < 2 or not row[1].isdigit():
                    continue  # the caption, a note
                key = next((k for k, v in labels.items() if v == row[0]), None) if labels else row[0].split("（")[0]
                if key is None or (labels is None and key not in "12345"):
                    continue  # the mean's row
                want = tables[q.id].get(key, 0)
                if int(row[1]) != want:
                    problems.append(f"{qid}.{q.id}={key}: report {row[1]}, pandas {want}")
    return problems


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="an export already written (with sponsors.json beside it)")
    parser.add_argument("--out", type=Path, help="where the reports go (default: a temporary folder)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sponsors", type=int, help="only the first N sponsors of the sample list")
    parser.add_argument("--min-n", type=int, default=1000, help="valid samples a province needs for its report")
    parser.add_argument("--no-suggestions", action="store_true")
    args = parser.parse_args(argv)

    from lambdas.results import reports, synth
    from lambdas.survey import questionnaire

    survey = questionnaire.load()
    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp:
        data = args.data or Path(tmp) / "export"
        data.mkdir(parents=True, exist_ok=True)
        cat = catalog_file(data, args.sponsors)
        generated = ""
        if args.data is None:
            began = time.perf_counter()
            sizes = synth.generate(data, survey, cat, args.size, seed=args.seed)
            generated = f"{sum(sizes.values()):,} rows ({', '.join(f'{q} {n:,}' for q, n in sizes.items())}) " \
                        f"in {time.perf_counter() - began:.1f} s"
        out = args.out or Path(tmp) / "reports"
        timings: dict[str, float] = {}
        cpu_before = cpu_seconds()
        began = time.perf_counter()
        paths = reports.write_all(data, survey, cat, out, min_province_n=args.min_n, workers=args.workers,
                                  suggestions=False if args.no_suggestions else None, timings=timings)
        total = time.perf_counter() - began
        cpu = cpu_seconds() - cpu_before
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        baseline, pandas_seconds = pandas_tables(data, survey)
        problems = compare(out, survey, baseline)

        kinds = {k: sum(1 for p in paths if p.name == "index.html" and p.parent.name.startswith(k))
                 for k in ("national", "province", "topic", "sponsor")}
        pdfs = sum(1 for p in paths if p.suffix == ".pdf")
        without = total - timings.get("suggestions", 0.0)
        print(f"results benchmark: {generated or f'export in {data}'}; workers {args.workers}; "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
        print()
        print("| step | seconds | what |")
        print("|---|---:|---|")
        print(f"| figures (DuckDB) | {timings['figures']:.1f} | index and per-question tables of every scope |")
        print(f"| suggestions | {timings['suggestions']:.1f} | terms and phrases of the free text"
              f"{' (left out)' if args.no_suggestions else ''} |")
        print(f"| charts | {timings['charts']:.1f} | {int(timings['chart_count'])} charts, SVG + PNG |")
        print(f"| pages | {timings['pages']:.1f} | {sum(kinds.values())} reports: HTML, CSV, XLSX, {pdfs} PDFs |")
        print(f"| whole report set | {total:.1f} | national {kinds['national']}, provinces {kinds['province']}, "
              f"topics {kinds['topic']}, sponsors {kinds['sponsor']}; target ≤ {TARGET_SECONDS} s |")
        print(f"| whole report set without suggestions | {without:.1f} | |")
        print(f"| CPU (user + system) | {cpu:.1f} | this process and its workers |")
        print(f"| pandas per-question tables | {pandas_seconds:.1f} | baseline, same Parquet, one process |")
        print(f"| peak memory (MB) | {own_peak:.0f} / {worker_peak:.0f} | this process / largest worker; "
              f"limit {MEMORY_GB} GB |")
        print()
        print("pandas and the national report's tables agree" if not problems else
              f"pandas and the report DISAGREE on {len(problems)} count(s): " + "; ".join(problems[:5]))
        within = total <= TARGET_SECONDS and own_peak + args.workers * worker_peak < MEMORY_GB * 1024
        print(f"{'within' if within else 'OVER'} the target of {TARGET_SECONDS} s and {MEMORY_GB} GB")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
