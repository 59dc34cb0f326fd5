"""Build benchmark: our builds beside a plain mkdocs-material build of the same number of pages, in one run.

    .venv/bin/python tests/bench/bench_build.py [--sizes 135 1000] [--repeats 3] [--shape 2025|2020]
    .venv/bin/python tests/bench/bench_build.py --tiny     # --sizes 1 --repeats 1: the test suite's smoke run
    .venv/bin/python tests/bench/bench_build.py --write-sponsors PATH [--count 1000]   # the synthetic list alone

The campaign at each size is synthetic and deterministic: the sample's initiators, each followed by the support
units it nominated (so within the limits of 2 media and 3 enterprises per initiator), with their channels,
sub-links and prizes, then copies of that whole list with new slugs and names, cut at the size. `--shape 2025`
(the default) builds with lambdas/survey/questionnaires-2025.yaml (a common core and topic modules), `--shape 2020`
with the two whole questionnaires; either way our builds read a copy of that file (SURVEY_QUESTIONNAIRES), so that
one question's wording can be edited.

For each size it prints, beside the plain build (hand-written Markdown pages, no images, same theme and nav) and
each target: our cold build (empty cache); a rebuild with nothing changed; a rebuild after editing one sponsor
(beside the time that sponsor's images take to draw on their own, in a fresh process); a rebuild after editing one
question's wording; and what each edit changed in site/. Then the sizes: the site, each sponsor's share of it, the
form pages' HTML against one copy per form plus the per-link pages, and what a phone downloads for one form.
Repeated timings take the fastest of --repeats (the machine is noisy), and each build starts once the previous
build's replaced site has been removed in the background, so one build's clean-up is not charged to the next.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from the repo root

from generator.__main__ import mkdocs_build  # noqa: E402
from lambdas.survey import questionnaire  # noqa: E402

SHAPES = {"2020": ROOT / "lambdas/survey/questionnaires.yaml", "2025": ROOT / "lambdas/survey/questionnaires-2025.yaml"}
QUESTIONNAIRES = "questionnaires.yaml"  # our project's own copy, the one its builds read

# The targets (at 1,000 sponsors and the 2025 shape); times other than the cold build are ratios to the
# plain build measured in the same run.
COLD_S = 180
UNCHANGED_X = 1.05
SPONSOR_EDIT_X = 1.05  # plus that sponsor's images drawn on their own
QUESTION_EDIT_X = 1.2
FORM_HTML_X = 2  # the form pages' HTML against one copy per form plus the per-link pages
FORM_PAGE_KB = 16  # a form page, gzip -9, HTML with its inline style and the scripts and stylesheets it loads
KB = 1024


# ---- the synthetic campaign ---------------------------------------------------------------------------------------

def families(sponsors: list[dict]) -> list[list[dict]]:
    """The sample's initiators in order, each followed by the support units it nominated."""
    nominated: dict[str, list[dict]] = {}
    for s in sponsors:
        if s.get("nominated_by"):
            nominated.setdefault(s["nominated_by"], []).append(s)
    return [[s, *nominated.get(s["slug"], [])] for s in sponsors if s["kind"] == "initiator"]


def copy_of(sponsor: dict, k: int) -> dict:
    """The k-th copy of a sample sponsor (the 0th is the sponsor itself): new slug and names, the nominating
    initiator's copy of the same round, its own name on the prizes it provides."""
    s = dict(sponsor)
    if k == 0:
        return s
    s.pop("former_slugs", None)  # the sample's former slugs belong to the sample's own sponsor
    old_name = s["name"]
    s.update(slug=f"{s['slug']}-{k}", name=f"{s['name']}{k}", short_name=f"{s['short_name']}{k}")
    if s.get("nominated_by"):
        s["nominated_by"] = f"{s['nominated_by']}-{k}"
    if s.get("prizes"):
        s["prizes"] = [dict(p, provider=s["name"]) if p.get("provider") == old_name else p for p in s["prizes"]]
    return s


def sponsors_text(n: int, folder: Path = ROOT) -> str:
    """The sample's campaign with `n` sponsors in the sample's mix, as sponsors.yaml text to be written in `folder`
    (a logo that is not found there is left out: a text mark is drawn instead)."""
    data = yaml.safe_load((ROOT / "sponsors.yaml").read_text(encoding="utf-8"))
    out: list[dict] = []
    rounds = 0
    while len(out) < n:
        out.extend(copy_of(s, rounds) for family in families(data["sponsors"]) for s in family)
        rounds += 1
    for s in out:
        if s.get("logo") and not (folder / s["logo"]).is_file():
            s.pop("logo")
    data["sponsors"] = out[:n]  # an initiator comes before its support units, so a cut keeps every nomination valid
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write_sponsors(path: Path, n: int, shape: str) -> None:
    from generator.sponsors import load

    path.write_text(sponsors_text(n, path.parent), encoding="utf-8")
    sl = load(path)  # refuses a list the build would refuse
    kinds = Counter(s.kind for s in sl.sponsors)
    print(f"{path}: {n} sponsors ({', '.join(f'{v} {k}' for k, v in kinds.items())}), "
          f"{sum(1 for s in sl.sponsors if s.prizes)} with prizes, {sum(1 for s in sl.sponsors if s.sublinks)} with sub-links")
    print(f"build it from a folder holding mkdocs.yml and site_src/ (a copy of the repository) with "
          f"SURVEY_QUESTIONNAIRES={SHAPES[shape]}")


# ---- building -----------------------------------------------------------------------------------------------------

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


def our_project(base: Path, n: int, shape: str) -> Path:
    project = base / f"ours-{n}"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project)
    shutil.copytree(ROOT / "site_src", project / "site_src")
    (project / "sponsors.yaml").write_text(sponsors_text(n, project), encoding="utf-8")
    # Written as the edits below write it, so that an edit changes the wording and nothing else.
    data = questionnaire.read(SHAPES[shape])
    (project / QUESTIONNAIRES).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
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


def edit_sponsor(project: Path, index: int) -> str:
    """Renames one sponsor's short name (drawn on its images); its slug."""
    path = project / "sponsors.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sponsor = data["sponsors"][index]
    sponsor["short_name"] += "新"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return sponsor["slug"]


def edit_question(project: Path) -> str:
    """Rewords one question of the first questionnaire's common part (with modules, every topic's form holds it):
    its first question after the region; says which."""
    path = project / QUESTIONNAIRES
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    qid, body = next(iter(data["questionnaires"].items()))
    q = next(q for s in body["sections"] for q in s["questions"] if q["type"] != "region")
    q["text"] += "（修订）"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return f"{qid}{' core' if body.get('modules') else ''} '{q['id']}'"


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


# ---- what is on disk ----------------------------------------------------------------------------------------------

def files_under(folder: Path) -> dict[str, os.stat_result]:
    """Every file below `folder` by its path relative to it."""
    out = {}
    for top, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            out[os.path.relpath(path, folder)] = os.stat(path)
    return out


def megabytes(folder: Path, only_own: bool = False) -> float:
    """Bytes of the files under `folder`; with `only_own`, of those not hard-linked from elsewhere (the cache)."""
    return sum(st.st_size for st in files_under(folder).values() if not only_own or st.st_nlink == 1) / 1e6


def changed(site: Path, before: Path) -> dict[str, int]:
    """What the last build changed: paths of `site` whose bytes differ from those in `before` (the site it
    replaced) or that are new, the distinct files among them (hard links counted once) and their bytes, and the
    paths it dropped. A file still hard-linked to the same inode is unchanged without being read."""
    now, then = files_under(site), files_under(before)
    verdicts: dict[tuple[int, int], bool] = {}
    paths, files = 0, {}
    for rel, st in now.items():
        old = then.get(rel)
        if old is not None and old.st_ino != st.st_ino and old.st_size == st.st_size:
            key = (st.st_ino, old.st_ino)
            if key not in verdicts:
                verdicts[key] = filecmp.cmp(site / rel, before / rel, shallow=False)
            if verdicts[key]:
                continue
        elif old is not None and old.st_ino == st.st_ino:
            continue
        paths += 1
        files[st.st_ino] = st.st_size
    return {"paths": paths, "files": len(files), "bytes": sum(files.values()), "gone": len(then.keys() - now.keys())}


def site_sizes(site: Path, slugs: list[str]) -> dict[str, float]:
    """The site's bytes, each file once (hard links share one) and as listed (every path its own copy); and the
    median sponsor's share: the bytes below s/<slug>/ and sponsors/<slug>/, a file linked from n paths in the site
    counting 1/n at each."""
    files = files_under(site)
    paths_of = Counter(st.st_ino for st in files.values())
    distinct = {st.st_ino: st.st_size for st in files.values()}
    share = dict.fromkeys(slugs, 0.0)
    listed = dict.fromkeys(slugs, 0)
    for rel, st in files.items():
        parts = rel.split(os.sep)
        if len(parts) > 2 and parts[0] in ("s", "sponsors") and parts[1] in share:
            share[parts[1]] += st.st_size / paths_of[st.st_ino]
            listed[parts[1]] += st.st_size
    return {"site_distinct_mb": sum(distinct.values()) / 1e6,
            "site_listed_mb": sum(st.st_size for st in files.values()) / 1e6, "files": len(files),
            "sponsor_kb": statistics.median(share.values()) / KB,
            "sponsor_listed_kb": statistics.median(listed.values()) / KB}


def form_layout(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Where each form and each topic page sit below an attributed link: (form id, folder) pairs and the folders of
    the topic pages. The first questionnaire lives at the link, any other one in a folder named after it."""
    survey = questionnaire.load(path)
    forms, topic_pages = [], []
    for i, (qid, qn) in enumerate(survey.questionnaires.items()):
        folder = f"{qid}/" if i else ""
        if qn.modules is None:
            forms.append((qid, folder))
        else:
            topic_pages.append(folder)
            forms.extend((questionnaire.form_id(qid, t.id), f"{folder}{t.id}/") for t in qn.modules.topics)
    return forms, topic_pages


def form_html(site: Path, slugs: list[str], layout: tuple[list[tuple[str, str]], list[str]]) -> dict:
    """The attributed links' HTML: the form pages and every other page below a link (the per-link pages), each file
    once and as listed; beside one copy of each form plus the per-link pages, what the site needs at least."""
    forms, topic_pages = layout
    links = sorted(d for slug in slugs if (site / "s" / slug).is_dir()
                   for d in (site / "s" / slug).iterdir() if (d / "index.html").is_file())
    form_paths = {f"{folder}index.html" for _, folder in forms}
    one_copy: dict[str, int] = {}
    distinct: dict[int, int] = {}
    listed = 0
    stubs: list[int] = []
    for link in links:
        for rel, st in files_under(link).items():
            if not rel.endswith(".html"):
                continue
            distinct[st.st_ino] = st.st_size
            listed += st.st_size
            if rel in form_paths:
                one_copy.setdefault(rel, st.st_size)
            else:
                stubs.append(st.st_size)
    least = sum(one_copy.values()) + sum(stubs) or 1
    first = links[0] / forms[0][1] if links else None
    return {"links": len(links), "forms": len(forms), "forms_found": len(one_copy),
            "form_html_mb": sum(distinct.values()) / 1e6, "form_html_listed_mb": listed / 1e6,
            "one_copy_kb": sum(one_copy.values()) / KB, "stub_pages": len(stubs), "stub_mb": sum(stubs) / 1e6,
            "stub_kb_median": statistics.median(stubs) / KB if stubs else 0.0,
            "form_html_x": sum(distinct.values()) / least, "form_html_listed_x": listed / least,
            "form_page": str(first.relative_to(site)) + "/" if first else "",
            "form_page_files": weight(site, first) if first else [],
            "topic_page_files": weight(site, links[0] / topic_pages[0]) if links and topic_pages else []}


class References(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        elif tag == "link" and "stylesheet" in a.get("rel", "").lower().split() and a.get("href"):
            self.refs.append(a["href"])


def weight(site: Path, page: Path) -> list[tuple[str, int]]:
    """What a phone downloads for the page in `page` (a folder): its HTML (with its inline style) and each
    same-site script and stylesheet it loads, each with its size gzipped on its own at level 9."""
    html = page / "index.html"
    parser = References()
    parser.feed(html.read_text(encoding="utf-8"))
    here = f"http://site.invalid/{page.relative_to(site).as_posix()}/"
    files = [html]
    for ref in parser.refs:
        url = urlsplit(urljoin(here, ref))
        path = site / unquote(url.path).lstrip("/")
        if url.netloc == "site.invalid" and path.is_file() and path not in files:
            files.append(path)
    return [(f.relative_to(site).as_posix(), len(gzip.compress(f.read_bytes(), compresslevel=9, mtime=0))) for f in files]


# Loaded by every page and used only inside WeChat (its share card): listed beside a page's weight, not in it.
APART = ("wechat.js",)


def judged(files: list[tuple[str, int]]) -> int:
    """The bytes a page's weight target is about: its HTML with its inline style, its stylesheets and its own
    script (form.js on a form, topics.js on a topic page)."""
    return sum(size for path, size in files if Path(path).name not in APART)


# ---- one size -----------------------------------------------------------------------------------------------------

def edited_builds(project: Path, env: dict[str, str], repeats: int, edit: Callable[[int], str]) -> tuple[float, dict, str]:
    """`repeats` builds, each after one more `edit` (given its round, it says what it edited): the fastest, and
    what the first one changed in site/ and edited."""
    times = []
    for index in range(repeats):
        what = edit(index)
        times.append(run(project, env))
        if index == 0:
            settle(project)
            first = changed(project / "site", project / "site.prev"), what
    return min(times), *first


def bench(n: int, base: Path, env: dict[str, str], shape: str, repeats: int = 3) -> dict:
    ours = our_project(base, n, shape)
    our_env = dict(env, SURVEY_QUESTIONNAIRES=str(ours / QUESTIONNAIRES))
    cold = run(ours, our_env)
    cache_files = sum(1 for p in (ours / ".cache").rglob("*") if p.is_file() and p.suffix != ".pickle")
    md_pages = sum(1 for _ in (ours / "site").rglob("index.html")) - sum(1 for _ in (ours / "site/s").rglob("index.html"))
    sponsor_html = sorted((ours / "site/sponsors").glob("*/index.html"))
    avg_html = sum(p.stat().st_size for p in sponsor_html) / len(sponsor_html)
    plain = plain_project(base, md_pages, int(avg_html // 8))
    plain_time = min(run(plain, env) for _ in range(repeats))
    unchanged = min(run(ours, our_env) for _ in range(repeats))
    settle(ours)
    unchanged_diff = changed(ours / "site", ours / "site.prev")
    redraws = []

    def edit_one_sponsor(index: int) -> str:
        slug = edit_sponsor(ours, index * 7 % n)  # sponsors 0, 7 and 14 at the usual sizes
        redraws.append(drawn_jobs(ours))
        return slug

    one_edit, sponsor_diff, edited = edited_builds(ours, our_env, repeats, edit_one_sponsor)
    jobs, draw_time = min(redraws, key=lambda r: r[1])
    question_edit, question_diff, question = edited_builds(ours, our_env, repeats, lambda _: edit_question(ours))
    settle(ours)
    slugs = [s["slug"] for s in yaml.safe_load((ours / "sponsors.yaml").read_text(encoding="utf-8"))["sponsors"]]
    sizes = {"cache_mb": megabytes(ours / ".cache"), "memo_mb": megabytes(ours / ".cache/sponsor-pages/outputs")
             + megabytes(ours / ".cache/sponsor-pages/parts"), "site_mb": megabytes(ours / "site"),
             "site_own_mb": megabytes(ours / "site", only_own=True), "kept_mb": megabytes(ours / "site.prev", only_own=True),
             **site_sizes(ours / "site", slugs), **form_html(ours / "site", slugs, form_layout(ours / QUESTIONNAIRES))}
    return {**sizes, "sponsors": n, "shape": shape, "pages": md_pages, "plain": plain_time, "cold": cold,
            "unchanged": unchanged, "unchanged_diff": unchanged_diff, "one_edit": one_edit, "edited": edited,
            "sponsor_diff": sponsor_diff, "redrawn_jobs": jobs, "draw_time": draw_time, "question_edit": question_edit,
            "question": question, "question_diff": question_diff, "cache_files": cache_files,
            "images_per_s": cache_files / cold, "sponsor_page_kb": avg_html / 1024}


# ---- the report ---------------------------------------------------------------------------------------------------

def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def diff_text(d: dict[str, int]) -> str:
    return f"{d['paths']} paths, {d['files']} distinct files, {d['bytes'] / 1e6:.2f} MB; {d['gone']} paths gone"


def print_times(rows: list[dict]) -> None:
    print("| sponsors | build | time | × plain | target | met? | changed in site/ |")
    print("|---:|---|---:|---:|---|---|---|")
    for r in rows:
        n, plain = r["sponsors"], r["plain"]
        edit_target = SPONSOR_EDIT_X * plain + r["draw_time"]
        lines = [
            (f"plain mkdocs-material, {r['pages']} pages", plain, "", True, ""),
            ("cold (empty cache)", r["cold"], f"≤ {COLD_S} s", r["cold"] <= COLD_S,
             f"{r['cache_files']} files drawn, {r['images_per_s']:.0f}/s"),
            ("unchanged rebuild", r["unchanged"], f"≤ {UNCHANGED_X}× plain = {UNCHANGED_X * plain:.2f} s",
             r["unchanged"] <= UNCHANGED_X * plain, diff_text(r["unchanged_diff"])),
            (f"one sponsor edited ({r['edited']})", r["one_edit"],
             f"≤ {SPONSOR_EDIT_X}× plain + its images alone ({r['draw_time']:.2f} s, {r['redrawn_jobs']} jobs) = {edit_target:.2f} s",
             r["one_edit"] <= edit_target, diff_text(r["sponsor_diff"])),
            (f"one question's wording edited ({r['question']})", r["question_edit"],
             f"≤ {QUESTION_EDIT_X}× plain = {QUESTION_EDIT_X * plain:.2f} s", r["question_edit"] <= QUESTION_EDIT_X * plain,
             diff_text(r["question_diff"])),
        ]
        for label, seconds, target, ok, diff in lines:
            print(f"| {n} | {label} | {seconds:.2f} s | {seconds / plain:.2f}× | {target} | {met(ok) if target else ''} | {diff} |")


def print_sizes(rows: list[dict]) -> None:
    print("| sponsors | site/, each file once (as listed) | per sponsor, median, each file once (as listed) | sponsor page HTML |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['sponsors']} | {r['site_distinct_mb']:.1f} MB ({r['site_listed_mb']:.1f} MB, {r['files']} paths) | "
              f"{r['sponsor_kb']:.0f} KB ({r['sponsor_listed_kb']:.0f} KB) | {r['sponsor_page_kb']:.0f} KB |")
    print()
    print("| sponsors | links | forms | form and per-link HTML, each file once (as listed) | one copy of each form + per-link pages | × | target | met? |")
    print("|---:|---:|---:|---:|---|---:|---|---|")
    for r in rows:
        least = r["one_copy_kb"] * KB / 1e6 + r["stub_mb"]
        print(f"| {r['sponsors']} | {r['links']} | {r['forms_found']} of {r['forms']} | {r['form_html_mb']:.2f} MB "
              f"({r['form_html_listed_mb']:.2f} MB) | {r['one_copy_kb']:.0f} KB + {r['stub_pages']} pages of "
              f"{r['stub_kb_median']:.1f} KB (median) = {least:.2f} MB | {r['form_html_x']:.2f}× "
              f"({r['form_html_listed_x']:.1f}× as listed) | ≤ {FORM_HTML_X}× | {met(r['form_html_x'] <= FORM_HTML_X)} |")
    print()
    print("| sponsors | page | gzip -9: HTML with its inline style + its own script | target | met? | each file, gzip -9 |")
    print("|---:|---|---:|---|---|---|")
    for r in rows:
        for label, files in ((f"form `{r['form_page']}`", r["form_page_files"]),
                             ("its link's topic page", r["topic_page_files"])):
            if not files:
                continue
            size = judged(files) / KB
            target = f"≤ {FORM_PAGE_KB} KB | {met(size <= FORM_PAGE_KB)}" if label.startswith("form") else " | "
            each = ", ".join(f"{Path(p).name} {b / KB:.1f} KB" for p, b in files)
            print(f"| {r['sponsors']} | {label} | {size:.1f} KB | {target} | {each} |")
    print()
    print("| sponsors | .cache/ | of it, remembered results | site/ | of it, not linked from the cache | site.prev/ (kept for the next build), not linked from the cache |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['sponsors']} | {r['cache_mb']:.0f} MB | {r['memo_mb']:.0f} MB | {r['site_mb']:.0f} MB | "
              f"{r['site_own_mb']:.0f} MB | {r['kept_mb']:.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[135, 1000])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each repeated build; the fastest counts")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="2025",
                        help="2025: a common core and topic modules; 2020: two whole questionnaires")
    parser.add_argument("--tiny", action="store_true", help="--sizes 1 --repeats 1: proves the script runs")
    parser.add_argument("--write-sponsors", type=Path, metavar="PATH",
                        help="only write the synthetic sponsors.yaml of --count sponsors to PATH, and check it")
    parser.add_argument("--count", type=int, default=1000, help="sponsors in the list --write-sponsors writes")
    args = parser.parse_args()
    if args.write_sponsors:
        write_sponsors(args.write_sponsors, args.count, args.shape)
        return
    if args.tiny:
        args.sizes, args.repeats = [1], 1
    env = dict(os.environ)
    env.pop("SURVEY_SITE_URL", None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(bench(n, Path(tmp), env, args.shape, args.repeats))
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
    forms, topic_pages = form_layout(SHAPES[args.shape])
    print(f"cores: {os.cpu_count()}; shape {args.shape}: {SHAPES[args.shape].relative_to(ROOT)}, {len(forms)} forms "
          f"({', '.join(f for f, _ in forms)}), {len(topic_pages)} topic pages per link")
    print()
    print_times(rows)
    print()
    print_sizes(rows)


if __name__ == "__main__":
    main()
