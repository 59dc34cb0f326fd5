"""Results benchmark: the analysis queries (DuckDB over the export's Parquet) beside the same tables computed with
pandas from the same Parquet, in one run, each engine in its own process so each one's peak memory is its own.

    .venv/bin/python tests/bench/bench_results_queries.py [--size 3000000] [--data DIR] [--seed 1]

Data: --size synthetic valid submissions written as the export's Parquet (lambdas.results.synth, 10 % of them the
practitioners' questionnaire; a plain generator of the same columns when synth is not there), or the export
already in --data. Steps, per engine:
  load                  DuckDB: open the export (views over the Parquet); pandas: pyarrow → pandas DataFrame
  per-question tables   counts per answer of every single, multi and rating question and matrix row, both
                        questionnaires (DuckDB: analysis.question_tables, shares, means and CIs included)
  index with groupings  every respondent's index and domains, then their means for everyone and per grouping
                        (province and each questionnaire's demographics)
  one cross-tab         public: age × satisfaction.police (DuckDB: analysis.crosstab, with its chi-square test)
DuckDB runs with threads=2 and memory_limit 3GB; peak memory is each process's maximum resident set. The per-question
counts and the index means of the two engines are compared, and the run says whether they agree.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CROSSTAB = ("public", "age", "satisfaction.police")
MEMORY_LIMIT = "3GB"


def generate(out: Path, size: int, seed: int) -> dict[str, int]:
    from lambdas.survey import questionnaire

    survey = questionnaire.load()
    try:
        from lambdas.results import synth
    except ImportError:
        return _plain_export(out, survey, size, seed)
    return synth.generate(out, survey, _catalog(out), size, seed=seed)


def _catalog(out: Path) -> Any:
    from generator import build, pages
    from lambdas.survey import catalog

    path = out / "sponsors.json"
    path.write_text(pages.manifest(build.read(ROOT / "sponsors.yaml", opens=None), set()), encoding="utf-8")
    return catalog.load(path)


def _plain_export(out: Path, survey: Any, size: int, seed: int) -> dict[str, int]:
    """Uniform answers in the export's columns, for when the synthetic generator is not there."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lambdas.admin import export
    from lambdas.survey.regions import PROVINCES

    out.mkdir(parents=True, exist_ok=True)
    sizes = {"pro": size // 10, "public": size - size // 10} if "pro" in survey.questionnaires else {}
    written = {}
    for number, (qid, qn) in enumerate(survey.questionnaires.items()):
        n = sizes.get(qid, size // len(survey.questionnaires))
        rng = np.random.default_rng([seed, number])
        cols: dict[str, Any] = {"id": pa.array([f"{qid}-{i:09d}" for i in range(n)]),
                                "valid": pa.array(np.ones(n, dtype=bool)),
                                "seconds": pa.array(rng.integers(120, 900, n))}
        cols["province"] = pa.array(np.array(PROVINCES)[rng.integers(0, len(PROVINCES), n)])
        latent = rng.integers(2, 6, n)
        for q in qn.questions:
            for name in q.field_names():
                if q.type in ("rating", "matrix"):
                    cols[name] = pa.array(np.clip(latent + rng.integers(-1, 2, n), 1, 5))
                elif q.type == "single":
                    ids = np.array([o for o, _ in q.options])
                    cols[name] = pa.array(ids[rng.integers(0, len(ids), n)])
                elif q.type == "multi":
                    ids = np.array([o for o, _ in q.options])
                    picks = rng.random((n, len(ids))) < min(0.9, q.max / len(ids) / 1.5)
                    picks[~picks.any(axis=1), 0] = True
                    cols[name] = pa.array([";".join(ids[row]) for row in picks])
                elif name == "region.province":
                    cols[name] = cols["province"]
        schema_types = {name: (pa.int64() if q.type in ("rating", "matrix") else pa.string())
                        for q in qn.questions for name in q.field_names()}
        schema_types.update({"valid": pa.bool_(), "seconds": pa.int64()})
        arrays = [cols.get(c, pa.nulls(n, schema_types.get(c, pa.string()))).cast(schema_types.get(c, pa.string()))
                  for c in export.columns(qn)]
        pq.write_table(pa.Table.from_arrays(arrays, names=export.columns(qn)), out / f"submissions-{qid}.parquet",
                       row_group_size=250_000)
        written[qid] = n
    return written


# ---- the engines, each in its own process ------------------------------------------------------------------------

def _timed(times: dict[str, float], step: str, began: float) -> float:
    now = time.perf_counter()
    times[step] = now - began
    return now


def run_duckdb(folder: str) -> dict[str, Any]:
    from lambdas.results import analysis

    times: dict[str, float] = {}
    t = time.perf_counter()
    data = analysis.open_data(Path(folder), memory_limit=MEMORY_LIMIT, threads=2)
    t = _timed(times, "load", t)
    counts, n_tables = {}, 0
    for qid in data.questionnaires:
        for table in analysis.question_tables(data, qid, min_n=0):
            counts[(qid, table.column)] = {s.option: s.count for s in table.shares if s.count}
            n_tables += 1
    t = _timed(times, "tables", t)
    means, n_index = {}, 0
    for qid in data.questionnaires:
        for by in (None,) + analysis.groupings(data, qid):
            table = analysis.index_table(data, qid, by, min_n=0)
            means.update({(qid, by, r.key): r.index.unweighted.value for r in table.rows})
            n_index += 1
    t = _timed(times, "index", t)
    import scipy.stats  # noqa: F401  (imported once, as the command does, so the cross-tab is the query and the test)

    t = time.perf_counter()
    ct = analysis.crosstab(data, *CROSSTAB)
    _timed(times, "crosstab", t)
    return {"times": times, "counts": counts, "means": means, "tables": n_tables, "indexes": n_index,
            "crosstab_n": ct.n, "rss": _peak_mb()}


def run_pandas(folder: str) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from lambdas.results.analysis import DEMOGRAPHICS
    from lambdas.survey import questionnaire

    survey = questionnaire.load()
    times: dict[str, float] = {}
    t = time.perf_counter()
    frames = {qid: pq.read_table(Path(folder) / f"submissions-{qid}.parquet").to_pandas()
              for qid in survey.questionnaires if (Path(folder) / f"submissions-{qid}.parquet").exists()}
    frames = {qid: df[df["valid"]] for qid, df in frames.items()}
    t = _timed(times, "load", t)
    counts = {}
    for qid, df in frames.items():
        for q in survey.questionnaires[qid].questions:
            if q.type not in ("single", "multi", "rating", "matrix"):
                continue
            for name in q.field_names():
                got = df[name].dropna().value_counts()
                if q.type == "multi":  # count the combinations, then split them (as the DuckDB path does)
                    split: dict[str, int] = {}
                    for combination, n in got.items():
                        for option in combination.split(";"):
                            split[option] = split.get(option, 0) + int(n)
                    counts[(qid, name)] = {k: v for k, v in split.items() if v}
                else:
                    counts[(qid, name)] = {str(k): int(v) for k, v in got.items() if v}
    t = _timed(times, "tables", t)
    means = {}
    for qid, df in frames.items():
        index = survey.questionnaires[qid].index
        scored = df[["province"]].copy()
        scored["_idx"] = _pandas_index(df, index, np)
        for by in [None, "province"] + [d for d in DEMOGRAPHICS.get(qid, ())]:
            if by is None:
                means[(qid, None, None)] = float(scored["_idx"].mean())
                continue
            scored["_g"] = df[by]
            agg = scored.groupby("_g", observed=True)["_idx"].agg(["mean", "std", "count"])
            means.update({(qid, by, k): float(v) for k, v in agg["mean"].items()})
            means[(qid, by, None)] = float(scored["_idx"].mean())
    t = _timed(times, "index", t)
    qid, a, b = CROSSTAB
    t = time.perf_counter()
    pd.crosstab(frames[qid][a], frames[qid][b])
    _timed(times, "crosstab", t)
    return {"times": times, "counts": counts, "means": means, "rss": _peak_mb()}


def _pandas_index(df: Any, index: Any, np: Any) -> Any:
    """The index definition (lambdas/survey/index.py) in numpy: item scores, weighted means over what is present."""
    n = len(df)
    top, bottom = np.zeros(n), np.zeros(n)
    for d in index.domains:
        d_top, d_bottom = np.zeros(n), np.zeros(n)
        for item in d.items:
            values = df[item.column]
            if item.scores:
                score = values.map(dict(item.scores)).to_numpy(dtype=float, na_value=np.nan)
            else:
                lookup = np.array([np.nan] + list(index.scale))
                raw = values.to_numpy(dtype=float, na_value=np.nan)
                score = np.where(np.isnan(raw), np.nan, lookup[np.nan_to_num(raw).astype(int).clip(0, 5)])
            present = ~np.isnan(score)
            d_top += np.where(present, item.weight * np.nan_to_num(score), 0)
            d_bottom += np.where(present, item.weight, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            domain = d_top / d_bottom
        present = ~np.isnan(domain)
        top += np.where(present, d.weight * np.nan_to_num(domain), 0)
        bottom += np.where(present, d.weight, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return top / bottom


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_process(target: Any, folder: Path) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(target, (str(folder),))


# ---- the run -------------------------------------------------------------------------------------------------------

def agree(duck: dict[str, Any], pan: dict[str, Any]) -> list[str]:
    """Differences between the two engines' per-question counts and index means."""
    problems = [f"counts of {k}" for k in duck["counts"] if duck["counts"][k] != pan["counts"].get(k)]
    for key, value in pan["means"].items():
        mine = duck["means"].get(key)
        if mine is None or abs(mine - value) > 1e-6:
            problems.append(f"index mean of {key}")
    return problems


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"
             for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=3_000_000, help="synthetic submissions (default 3,000,000)")
    parser.add_argument("--data", type=Path, help="an export folder to use (written there first when empty)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-results-") as tmp:
        folder = args.data or Path(tmp)
        began = time.perf_counter()
        if not list(folder.glob("submissions-*.parquet")):
            sizes = generate(folder, args.size, args.seed)
            print(f"generated {sum(sizes.values()):,} submissions ({', '.join(f'{q} {n:,}' for q, n in sizes.items())})"
                  f" in {time.perf_counter() - began:.1f} s")
        duck = _in_process(run_duckdb, folder)
        pan = _in_process(run_pandas, folder) if importlib.util.find_spec("pandas") else None
    rows = [["step", "DuckDB (s)", "pandas (s)"]]
    names = {"load": "load", "tables": f"all per-question tables ({duck['tables']})",
             "index": f"index with groupings ({duck['indexes']} tables)",
             "crosstab": f"one cross-tab ({' × '.join(CROSSTAB[1:])}, n={duck['crosstab_n']:,})"}
    for step, label in names.items():
        rows.append([label, f"{duck['times'][step]:.3f}", f"{pan['times'][step]:.3f}" if pan else "–"])
    rows.append(["peak memory (MB)", f"{duck['rss']:.0f}", f"{pan['rss']:.0f}" if pan else "–"])
    print(table(rows))
    if pan is None:
        print("pandas is not installed, so no baseline: pip install pandas")
        return 0
    problems = agree(duck, pan)
    print("the engines' tables agree" if not problems else "the engines differ: " + "; ".join(problems[:10]))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
