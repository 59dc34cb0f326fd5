"""Build benchmark: our builds beside a plain mkdocs-material build of the same number of pages, in one run.

    .venv/bin/python tests/bench/bench_build.py [--sizes 135 1000] [--repeats 3]
    .venv/bin/python tests/bench/bench_build.py --tiny     # --sizes 1 --repeats 1: the test suite's smoke run

For each size it prints: the plain build (hand-written Markdown pages, no images, same theme and nav); our rebuild
with nothing changed; our rebuild after editing one sponsor (and how many image jobs it redrew); our cold build
(empty cache) and files drawn per second. Ratios are against the plain build measured in the same run. Repeated
timings take the fastest of --repeats (the machine is noisy), and each build starts once the previous build's
replaced site has been removed in the background, so one build's clean-up is not charged to the next.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from the repo root

from generator.__main__ import mkdocs_build  # noqa: E402


def sponsors_text(n: int) -> str:
    """The sample's campaign with `n` initiators (the sample's own, then copies with new slugs)."""
    data = yaml.safe_load((ROOT / "sponsors.yaml").read_text(encoding="utf-8"))
    initiators = [s for s in data["sponsors"] if s["kind"] == "initiator"]
    out = []
    for i in range(n):
        s = dict(initiators[i % len(initiators)])
        s.pop("former_slugs", None)
        if i >= len(initiators):
            s["slug"] = f"{s['slug']}-{i}"
            s["name"] = f"{s['name']}{i}"
            s["short_name"] = f"{s['short_name']}{i}"
        out.append(s)
    data["sponsors"] = out
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def settle(project: Path) -> None:
    """Wait for the previous build's background work (removing a replaced site), so that no build is charged for
    its predecessor's clean-up."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(project.glob("site.old-*")):
        time.sleep(0.05)


def run(project: Path, env: dict[str, str]) -> float:
    settle(project)
    started = time.perf_counter()
    result = mkdocs_build(project / "mkdocs.yml", "-q", env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return elapsed


def our_project(base: Path, n: int) -> Path:
    project = base / f"ours-{n}"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project)
    shutil.copytree(ROOT / "site_src", project / "site_src")
    (project / "sponsors.yaml").write_text(sponsors_text(n), encoding="utf-8")
    return project


def plain_project(base: Path, pages: int, page_bytes: int) -> Path:
    """Hand-written pages, same theme and nav, no plugin, no images: what MkDocs itself costs."""
    project = base / f"plain-{pages}"
    docs = project / "docs"
    docs.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config.pop("plugins", None)
    config.update(docs_dir="docs", site_dir="site", plugins=[], extra_css=[], extra_javascript=[])
    config["theme"].pop("custom_dir", None)
    config["theme"].pop("logo", None)
    config["theme"].pop("favicon", None)
    config["exclude_docs"] = ""
    paragraph = "网络安全为人民，网络安全靠人民。" * max(1, page_bytes // 48)
    for name in ("index", "initiators", "supporters", "slogans", "materials", "guide"):
        (docs / f"{name}.md").write_text(f"# {name}\n\n{paragraph}\n", encoding="utf-8")
    for i in range(pages):
        folder = docs / "sponsors" / f"s{i}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(f"# 单位 {i}\n\n<div>\n{paragraph}\n</div>\n", encoding="utf-8")
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return project


DRAW = """
import pickle, sys, time
started = time.perf_counter()
from pathlib import Path
from generator import assets, fonts
fonts.use_cache(Path(sys.argv[2]))
assets.draw_missing(pickle.loads(Path(sys.argv[1]).read_bytes()), workers=1)
print(time.perf_counter() - started)
"""


def drawn_jobs(project: Path) -> tuple[int, float]:
    """How many image jobs the next build must draw, and how long drawing them takes on their own: in a fresh
    process, loading the drawing code and the font data included, writing into a scratch folder."""
    from generator import assets, build, fonts
    from generator.cache import Store

    cache = project / ".cache/sponsor-pages"
    fonts.use_cache(cache / "fonts")
    jobs = assets.plan(build.read(project / "sponsors.yaml"), Store(cache)).jobs
    with tempfile.TemporaryDirectory() as scratch:
        moved = [j._replace(outputs=tuple((fmt, f"{scratch}/{i}-{n}.{fmt}") for n, (fmt, _) in enumerate(j.outputs)))
                 for i, j in enumerate(jobs)]
        (Path(scratch) / "jobs.pickle").write_bytes(pickle.dumps(moved))
        result = subprocess.run([sys.executable, "-c", DRAW, f"{scratch}/jobs.pickle", str(cache / "fonts")],
                                capture_output=True, text=True, check=True)
        return len(jobs), float(result.stdout.strip())


def megabytes(folder: Path, only_own: bool = False) -> float:
    """Bytes of the files under `folder`; with `only_own`, of those not hard-linked from elsewhere (the cache)."""
    files = [p.stat() for p in folder.rglob("*") if p.is_file()]
    return sum(st.st_size for st in files if not only_own or st.st_nlink == 1) / 1e6


def bench(n: int, base: Path, env: dict[str, str], repeats: int = 3) -> dict[str, float]:
    ours = our_project(base, n)
    cold = run(ours, env)
    cache_files = sum(1 for p in (ours / ".cache").rglob("*") if p.is_file() and p.suffix != ".pickle")
    md_pages = sum(1 for _ in (ours / "site").rglob("index.html")) - sum(1 for _ in (ours / "site/s").rglob("index.html"))
    sponsor_html = sorted((ours / "site/sponsors").glob("*/index.html"))
    avg_html = sum(p.stat().st_size for p in sponsor_html) / len(sponsor_html)
    plain = plain_project(base, md_pages, int(avg_html // 8))
    plain_time = min(run(plain, env) for _ in range(repeats))
    unchanged = min(run(ours, env) for _ in range(repeats))
    edits, redraws = [], []
    for index in range(repeats):
        text = (ours / "sponsors.yaml").read_text(encoding="utf-8")
        sponsor = yaml.safe_load(text)["sponsors"][index * 7 % n]  # sponsors 0, 7 and 14 at the usual sizes
        old = f"short_name: {sponsor['short_name']}\n"
        (ours / "sponsors.yaml").write_text(text.replace(old, f"short_name: {sponsor['short_name']}新\n", 1), encoding="utf-8")
        redraws.append(drawn_jobs(ours))
        edits.append(run(ours, env))
    jobs, draw_time = min(redraws, key=lambda r: r[1])
    settle(ours)
    sizes = {"cache_mb": megabytes(ours / ".cache"), "memo_mb": megabytes(ours / ".cache/sponsor-pages/outputs")
             + megabytes(ours / ".cache/sponsor-pages/parts"), "site_mb": megabytes(ours / "site"),
             "site_own_mb": megabytes(ours / "site", only_own=True), "kept_mb": megabytes(ours / "site.prev", only_own=True)}
    return {**sizes, "sponsors": n, "pages": md_pages, "plain": plain_time, "unchanged": unchanged, "one_edit": min(edits),
            "redrawn_jobs": jobs, "draw_time": draw_time, "cold": cold, "cache_files": cache_files, "images_per_s": cache_files / cold,
            "sponsor_page_kb": avg_html / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[135, 1000])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each repeated build; the fastest counts")
    parser.add_argument("--tiny", action="store_true", help="--sizes 1 --repeats 1: proves the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.sizes, args.repeats = [1], 1
    env = dict(os.environ)
    env.pop("SURVEY_SITE_URL", None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(bench(n, Path(tmp), env, args.repeats))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(f"cores: {os.cpu_count()}")
    print("| sponsors | pages | plain build | unchanged rebuild | one-sponsor edit | its images alone | edit target (1.3× plain + images) | cold build | files/s | sponsor page HTML |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['sponsors']} | {r['pages']} | {r['plain']:.2f} s | {r['unchanged']:.2f} s ({r['unchanged'] / r['plain']:.2f}×) | "
              f"{r['one_edit']:.2f} s | {r['draw_time']:.2f} s ({r['redrawn_jobs']} jobs) | "
              f"{1.3 * r['plain'] + r['draw_time']:.2f} s | {r['cold']:.1f} s | "
              f"{r['images_per_s']:.0f} | {r['sponsor_page_kb']:.0f} KB |")
    print()
    print("| sponsors | .cache/ | of it, remembered results | site/ | of it, not linked from the cache | site.prev/ (kept for the next build), not linked from the cache |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['sponsors']} | {r['cache_mb']:.0f} MB | {r['memo_mb']:.0f} MB | {r['site_mb']:.0f} MB | "
              f"{r['site_own_mb']:.0f} MB | {r['kept_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
