"""One build, start to finish, without MkDocs: read → validate → plan → draw → pack → render.

The MkDocs plugin calls this before MkDocs touches the output folder, so any failure here leaves the last good
site as it was. The whole result is remembered under the hash of its inputs, so a rebuild with nothing changed
reuses it instead of validating and rendering again; its per-sponsor parts are files of their own, shared by the
results kept, so a rebuild after an edit stores only what the edit changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from . import artwork, fonts, links, pages, publish
from .cache import Asset, FileDigests, Store, key, write_atomic
from .fonts import font_files, typeface
from .model import Problem, SponsorList, SponsorsError

log = logging.getLogger("mkdocs.plugins.sponsor-pages")

CODE = Path(__file__).parent
SURVEY = CODE.parent / "lambdas" / "survey"  # the questionnaires and their model: the forms are made from them
QUESTIONNAIRES = SURVEY / "questionnaires.yaml"
RULES = SURVEY / "rules.yaml"  # the validity rules: a page of the site, and the copy the submit function judges by
KEEP_OUTPUTS = 3  # remembered results kept in the cache: the current one and a few to go back to
PARTS = "parts"  # folder of the cache where remembered results keep their per-sponsor parts


@dataclass
class Output:
    sponsors: SponsorList
    pages: list[pages.Page] = field(default_factory=list)
    files: list[Asset] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # site path -> generated text
    drawn: int = 0
    inputs: dict[str, str] = field(default_factory=dict)  # input file -> signature, to check a remembered result
    trees: dict = field(default_factory=dict)  # subtree -> publish.Tree: entry pages and kits, placed by publish.py
    # Pages every attributed link has a copy of (a topic's form): path below a link -> the cached file
    shared: dict[str, str] = field(default_factory=dict)
    code: str = ""  # digest of the generator's code and templates that made it
    listing: str = ""  # key of what its sponsor list was read from: sponsors.yaml, the address and window overrides
    plan_parts: dict = field(default_factory=dict)  # per-sponsor parts the next build may reuse (see assets.plan)
    page_parts: dict = field(default_factory=dict)  # and likewise for pages (see pages.PageWriter.all)


def read(path: Path, site_url: str | None = None, opens: str | None = None) -> SponsorList:
    """Load and validate the sponsor list; `site_url` overrides the campaign's (local runs, staging), and `opens`
    (ISO time) moves the survey window to start then, with the same length (rehearsals)."""
    from .sponsors import check_url, load  # the validator's imports are only needed when the input changed

    sl = load(path, can_draw=typeface().can_draw)
    if site_url:
        try:
            check_url(site_url)
        except ValueError as exc:
            raise SponsorsError(path, [Problem(1, "SURVEY_SITE_URL", str(exc))]) from exc
        campaign = dataclasses.replace(sl.campaign, site_url=site_url.rstrip("/") + "/")
        sl = dataclasses.replace(sl, campaign=campaign)
    if opens:
        try:
            start = datetime.fromisoformat(opens)
            if start.tzinfo is None:
                raise ValueError("give a time zone, e.g. 2026-11-28T00:00+08:00")
        except ValueError as exc:
            raise SponsorsError(path, [Problem(1, "SURVEY_OPENS", f"'{opens}' is not an ISO time: {exc}")]) from exc
        c = sl.campaign
        campaign = dataclasses.replace(c, opens=start.astimezone(c.opens.tzinfo), closes=(start + (c.closes - c.opens)).astimezone(c.opens.tzinfo))
        sl = dataclasses.replace(sl, campaign=campaign)
    return sl


def check_published(sl: SponsorList, published: set[str], path: Path) -> None:
    """Refuse a sponsor list that would break a link printed on a poster or published on a site."""
    gone = pages.vanished_links(sl, published)
    if gone:
        problems = [
            Problem(1, f"link /{link}", "was published but this sponsor list no longer serves it. Fix: if the sponsor "
                    "was renamed, keep its old slug in 'former_slugs'; if a channel was dropped, keep it in 'channels' (a "
                    "sub-link <channel>.<key> in 'sublinks'); "
                    "if the sponsor left, add its slug to campaign.retired_slugs")
            for link in gone[:50]
        ]
        raise SponsorsError(path, problems)


def run(path: Path, cache_dir: Path, published: set[str], site_url: str | None = None, workers: int | None = None,
        opens: str | None = None, questionnaires: Path | None = None) -> Output:
    """read → validate → check published links → generate; or the remembered output of exactly these inputs."""
    fonts.use_cache(cache_dir / "fonts")
    code = _code_digest()
    questionnaires = questionnaires or QUESTIONNAIRES
    listing = _memo_key(path, f"{site_url}|{opens}", code)  # what the sponsor list is read from
    memo = cache_dir / "outputs" / f"{key(listing, _digest(questionnaires))}.pickle"
    # The published links change with every deploy, so they are checked and recorded outside the remembered part.
    out = _recall(memo)
    if out is None:
        previous = _latest(memo.parent, code)
        inputs = _signatures(previous.sponsors) if previous is not None and previous.listing == listing else None
        if previous is not None and inputs == previous.inputs:
            sl = previous.sponsors  # only the questionnaires changed: the list read and checked last time stands
            log.info(f"sponsor-pages: {path.name} unchanged, its {len(sl.sponsors)} sponsors as checked last time")
        else:
            sl = read(path, site_url, opens)
            inputs = _signatures(sl)
        check_published(sl, published, path)
        out = generate(sl, cache_dir, workers, previous, questionnaires)
        typeface().save()
        out.inputs, out.code, out.listing = inputs, code, listing
        _remember(memo, out)
    else:
        check_published(out.sponsors, published, path)
        log.info(f"sponsor-pages: {len(out.sponsors.sponsors)} sponsors unchanged, {len(out.pages)} pages reused")
    out.extra["sponsors.json"] = pages.manifest(out.sponsors, published)
    return out


def generate(sl: SponsorList, cache_dir: Path, workers: int | None = None, previous: Output | None = None,
             questionnaires: Path | None = None) -> Output:
    """Draw what is missing from the cache and render every page; nothing is written outside the cache.

    With `previous` (an earlier result of the same code), sponsors whose inputs did not change keep their parts.
    """
    from lambdas.survey import questionnaire
    from lambdas.survey import rules as validity

    from . import assets, documents, forms, images  # drawing code is only needed when something changed

    store = Store(cache_dir)
    started = time.monotonic()
    plan = assets.plan(sl, store, previous.plan_parts if previous else None)
    if plan.jobs:
        log.info(f"sponsor-pages: drawing {len(plan.jobs)} image jobs for {len(sl.sponsors)} sponsors")
    step = max(1, len(plan.jobs) // 10)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            log.info(f"sponsor-pages: drawn {done}/{total} ({100 * done // total}%)")

    assets.draw_missing(plan.jobs, progress, workers)
    papers, unprinted = documents.plan(sl, store)
    documents.print_missing(unprinted, workers)
    present = store.listing()
    out = Output(sl, files=list(plan.assets), drawn=len(plan.jobs))
    for sponsor in sl.sponsors:
        part = plan.part_of[sponsor.slug]
        out.files += papers[sponsor.slug]
        # A reused part keeps its kit: the kit's contents follow from the same inputs as the part.
        if part.kit is None or part.kit.path not in present:
            members = [a for a in part.assets if a.uri not in (part.mine.mark, part.mine.mark_png)] + papers[sponsor.slug]
            part.kit = assets.pack_kit(sponsor, members, pages.kit_texts(sl, sponsor, part.mine), store,
                                       sl.campaign.documents.issued)
        out.files.append(part.kit)
    questionnaires = questionnaires or QUESTIONNAIRES
    data = questionnaire.read(questionnaires)
    survey = questionnaire.parse(data, questionnaires)
    rules_data = validity.read(RULES)
    rules = validity.parse(rules_data, RULES, tuple(survey.questionnaires))
    script, script_version = forms.script()
    page_scripts = {name: forms.script(name) for name in forms.PAGE_SCRIPTS}
    writer = pages.PageWriter(sl, {slug: part.mine for slug, part in plan.part_of.items()}, survey, script_version,
                              rules, {name: version for name, (_, version) in page_scripts.items()})
    out.pages = writer.all(previous.page_parts if previous else None)
    out.plan_parts, out.page_parts = plan.parts, writer.parts
    # The site's logo and favicon: the campaign's own logo when the secretariat dropped one in, else the shield.
    logo = artwork.files(sl.base_dir).get("logo")
    mark = Path(store.path(key("campaign-mark", sl.campaign.title, typeface().digest, images.RENDERER_VERSION,
                               FileDigests()(logo)), "svg"))
    if not mark.is_file():
        write_atomic(mark, images.campaign_mark_svg(sl.campaign.title, logo.read_bytes() if logo else None))
    out.extra["assets/img/campaign-mark.svg"] = mark.read_text(encoding="utf-8")
    out.extra["assets/js/form.js"] = script
    for name, (text, _) in page_scripts.items():
        out.extra[f"assets/js/{name}"] = text
    # Published with the site and deployed with the functions: the server checks exactly what the forms ask.
    out.extra["questionnaires.json"] = questionnaire.dumps(data)
    out.extra["rules.json"] = validity.dumps(rules_data)
    out.shared = _store_shared(writer.shared_forms(), store)
    out.trees = _trees(out, previous=previous.trees if previous else None)
    log.info(
        f"sponsor-pages: {len(sl.sponsors)} sponsors, {len(out.pages)} pages, {len(out.files)} files "
        f"({out.drawn} drawn) in {time.monotonic() - started:.1f}s"
    )
    return out


def _store_shared(shared: dict[str, str], store: Store) -> dict[str, str]:
    """Each shared page as a file of the cache named after its bytes: a page that did not change keeps its file, so
    the copies of it already in the site stay as they are."""
    files = {}
    for rel, html in shared.items():
        data = html.encode()
        path = store.path(hashlib.sha256(data).hexdigest(), "html")
        if not os.path.exists(path):
            write_atomic(Path(path), data)
        files[rel] = path
    return files


def _trees(out: Output, stamps: dict[str, str] | None = None, previous: dict | None = None) -> dict[str, publish.Tree]:
    """The subtrees publish.py places: static pages, the sponsors' files, and every link's copy of each shared page.
    With the `stamps` they had, or those of `previous` (the trees of an earlier result) where they are the same."""
    copies = [publish.Copy(link + rel, rel, path) for s in out.sponsors.sponsors for channel in s.channels
              for link in (links.entry_path(s.slug, channel),) for rel, path in out.shared.items()]
    return publish.group([(p.uri, p.body) for p in out.pages if p.front is None], out.files, stamps, copies, previous)


def _code_digest() -> str:
    """The generator's code, templates and scripts, and what the forms are checked by: not the questionnaire file,
    an input of its own (see run), so that editing a question reuses what it does not change."""
    h = hashlib.sha256()
    for source in sorted([*CODE.glob("*.py"), *CODE.glob("templates/*"), *CODE.glob("static/*"),
                          *SURVEY.glob("*.py"), RULES]):
        h.update(source.name.encode() + b"\0" + source.read_bytes())
    return h.hexdigest()


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _memo_key(path: Path, site_url: str | None, code: str) -> str:
    try:
        text = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        text = "missing"
    return key("output", str(path.resolve()), text, site_url, code)


def _font_signature(font: Path) -> str:
    # Size and modification time, not the bytes: the fonts are 40 MB and only change when a package is upgraded.
    st = font.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _signatures(sl: SponsorList) -> dict[str, str]:
    """What else a result depends on besides sponsors.yaml and the code: logos and the campaign's artwork (by
    content; a dropped-in or removed file changes the result too) and fonts."""
    digests = FileDigests()
    logos = {str(p): digests(p) or "" for s in sl.sponsors if (p := sl.logo_path(s)) is not None}
    art = {f"artwork:{slot}": digests(path) or "" for slot, path in artwork.files(sl.base_dir).items()}
    return logos | art | {str(font): _font_signature(font) for font in font_files()}


class _Stored(NamedTuple):
    """A result as remembered: its per-sponsor parts by key, each a file of its own under PARTS that every result
    made from the same inputs shares, and the rest of the result inline."""

    output: Output  # without its pages, trees and parts
    pages: list[pages.Page | str]  # a page, or the key of the part whose pages stand there
    stamps: dict[str, str]  # subtree -> stamp: a recalled result hashes nothing again
    plan_keys: list[str]
    page_keys: list[str]


def _stored(out: Output) -> _Stored:
    starts = {id(part[0]): key for key, part in out.page_parts.items() if part}
    refs: list[pages.Page | str] = []
    i = 0
    while i < len(out.pages):
        part_key = starts.get(id(out.pages[i]))
        part = out.page_parts.get(part_key) if part_key else None
        if part_key and part and out.pages[i:i + len(part)] == part:
            refs.append(part_key)
            i += len(part)
        else:
            refs.append(out.pages[i])
            i += 1
    rest = dataclasses.replace(out, pages=[], trees={}, plan_parts={}, page_parts={})
    return _Stored(rest, refs, {name: tree.stamp for name, tree in out.trees.items()}, list(out.plan_parts),
                   list(out.page_parts))


def _parts_dir(memo: Path) -> Path:
    return memo.parent.parent / PARTS


def _load(memo: Path) -> Output | None:
    try:
        with open(memo, "rb") as fh:
            stored = pickle.load(fh)
        folder = _parts_dir(memo)
        found = {k: pickle.loads((folder / f"{k}.pickle").read_bytes()) for k in (*stored.plan_keys, *stored.page_keys)}
        out = stored.output
        out.plan_parts = {k: found[k] for k in stored.plan_keys}
        out.page_parts = {k: found[k] for k in stored.page_keys}
        out.pages = [p for ref in stored.pages for p in (out.page_parts[ref] if isinstance(ref, str) else (ref,))]
        out.trees = _trees(out, stored.stamps)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, KeyError):
        return None  # none, half-written or made by older code (fields it lacks): the next build renders
    return out


def _latest(folder: Path, code: str) -> Output | None:
    """The most recent remembered result made by this code, whatever its inputs: the base for an incremental build."""
    candidates = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    for candidate in candidates[:1]:
        out = _load(candidate)
        if out is not None and out.code == code:
            return out
    return None


def _recall(memo: Path) -> Output | None:
    out = _load(memo)
    if out is None:
        return None
    try:
        present = Store(memo.parent.parent).listing()
        if out.inputs != _signatures(out.sponsors) or not all(a.path in present for a in out.files) \
                or not all(path in present for path in out.shared.values()):
            return None
        os.utime(memo)  # most recently used: kept by the pruning below, and so are its parts
        _touch_parts(memo, out)
    except OSError:
        return None
    return out


def _touch_parts(memo: Path, out: Output) -> None:
    folder = _parts_dir(memo)
    for k in (*out.plan_parts, *out.page_parts):
        os.utime(folder / f"{k}.pickle")


def _remember(memo: Path, out: Output) -> None:
    """Store the result for the next build: a small file, and the per-sponsor parts not stored yet.

    Each write is atomic; a build killed between them leaves a result that does not load, and the next build
    renders. Parts are written (or touched) after the result, so none is older than a result that uses it.
    """
    write_atomic(memo, pickle.dumps(_stored(out), protocol=pickle.HIGHEST_PROTOCOL))
    folder = _parts_dir(memo)
    for k, part in {**out.plan_parts, **out.page_parts}.items():
        path = folder / f"{k}.pickle"
        try:
            os.utime(path)
        except FileNotFoundError:
            write_atomic(path, pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    results = sorted(memo.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in results[KEEP_OUTPUTS:]:
        stale.unlink(missing_ok=True)
    # A part older than the oldest result kept belongs to none of them.
    oldest = min(p.stat().st_mtime for p in results[:KEEP_OUTPUTS])
    for part_file in folder.glob("*.pickle"):
        if part_file.stat().st_mtime < oldest:
            part_file.unlink(missing_ok=True)
