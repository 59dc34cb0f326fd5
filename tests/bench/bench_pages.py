"""Lighthouse (mobile) of the pages people open most, beside a lean mkdocs-material page measured in the same run.

    .venv/bin/python tests/bench/bench_pages.py [--tiny]

Builds the small fixture project and a lean mkdocs-material page (theme only, no plugins), serves each with
`python -m http.server` on loopback (no compression, no cache headers, no API: the dashboards show their
"unavailable" state) and runs Lighthouse 12 in Debian's Chromium on the home page, a sponsor page, a form page and
/progress/. Targets: performance ≥ 95 and accessibility 100 on each. `--tiny` builds and prints the page list without
running Lighthouse: a check that the script works, not a measurement.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bench_submit import TARGET_A11Y, TARGET_PERF, build_lean, describe, lighthouse, scores  # noqa: E402
from lambdas.survey.catalog import BEIJING  # noqa: E402
from tests.helpers import CAMPAIGN, SMALL_SPONSORS, mkdocs_build, write_project  # noqa: E402

PAGES = (("home", ""), ("sponsor page", "sponsors/guangdong-cyber/"), ("form page", "s/guangdong-cyber/wechat/"),
         ("progress", "progress/"))


def build_ours(base: Path) -> Path:
    """The small project with its window open since yesterday, as `serve --rehearse` builds it: the form pages
    show their forms, as during the campaign."""
    project = write_project(base / "ours", CAMPAIGN + SMALL_SPONSORS)
    opens = (datetime.now(BEIJING) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    result = mkdocs_build(project, env={"SURVEY_OPENS": opens.isoformat()})
    if result.returncode != 0:
        raise RuntimeError(f"build failed:\n{result.stderr[-2000:]}")
    return project / "site"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="build and list the pages; run no Lighthouse")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        ours, lean = build_ours(base), build_lean(base)
        rows = []
        baseline = "not run"
        if not args.tiny:
            try:
                lean_data = lighthouse(lean, "", base / "lh-lean.json")
                describe("lean mkdocs-material page", lean_data)
                baseline = "{:.0f} / {:.0f}".format(*scores(lean_data))
            except RuntimeError as exc:
                baseline = f"not run: {exc}"[:60]
        for label, page in PAGES:
            assert (ours / page / "index.html").is_file(), page
            if args.tiny:
                rows.append((label, page, "not run (--tiny)", None))
                continue
            try:
                data = lighthouse(ours, page, base / f"lh-{label.replace(' ', '-')}.json")
            except RuntimeError as exc:
                rows.append((label, page, f"not run: {exc}"[:60], None))
                continue
            describe(label, data)
            perf, a11y = scores(data)
            rows.append((label, page, f"{perf:.0f} / {a11y:.0f}", perf >= TARGET_PERF and a11y >= TARGET_A11Y))
    print(f"| page | path | performance / accessibility | baseline: lean mkdocs-material | target ≥ {TARGET_PERF} / {TARGET_A11Y} |")
    print("|---|---|---|---|---|")
    for label, page, figure, ok in rows:
        verdict = "met" if ok else "not met" if ok is False else "—"
        print(f"| {label} | /{page} | {figure} | {baseline} | {verdict} |")
    return 0 if all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
