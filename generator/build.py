"""One build, start to finish, without MkDocs: read → validate → plan → draw → pack → render.

The MkDocs plugin calls this before MkDocs touches the output folder, so any failure here leaves the last good
site as it was. The whole result is remembered under the hash of its inputs, so a rebuild with nothing changed
reuses it instead of validating and rendering again; its per-sponsor parts and the contents of its subtrees are
files of their own, shared by the results kept, so a rebuild after an edit stores only what the edit changed, and
a rebuild loads a subtree's contents only when it must be written (publish.py moves the others unchanged).
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
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from . import artwork, fonts, links, pages, publish
from lambdas.files import write_atomic

from .cache import Asset, FileDigests, Store, key
from .fonts import font_files, typeface
from .model import Problem, SponsorList, SponsorsError

log = logging.getLogger("mkdocs.plugins.sponsor-pages")

CODE = Path(__file__).parent
SURVEY = CODE.parent / "lambdas" / "survey"  # the questionnaires and their model: the forms are made from them
QUESTIONNAIRES = SURVEY / "questionnaires.yaml"
RULES = SURVEY / "rules.yaml"  # the validity rules: a page of the site, and the copy the submit function judges by
KEEP_OUTPUTS = 3  # remembered results kept in the cache: the current one and a few to go back to
PARTS = "parts"  # folder of the cache where remembered results keep their per-sponsor parts
TREES = "trees"  # and the contents of their subtrees, by stamp
PAGES = "pages"  # and each sponsor's pages that MkDocs builds, by the key of its part


@dataclass
class Output:
    sponsors: SponsorList
    pages: list[pages.Page] = field(default_factory=list)  # those MkDocs builds: every page outside the subtrees
    files: list[Asset] = field(default_factory=list)  # and the files it copies: those outside the subtrees
    extra: dict[str, str] = field(default_factory=dict)  # site path -> generated text
    drawn: int = 0
    inputs: dict[str, str] = field(default_factory=dict)  # input file -> signature, to check a remembered result
    # subtree -> publish.Tree: entry pages and kits, placed by publish.py; a recalled result's entries are loaded
    # by `entries` when a subtree must be written
    trees: dict = field(default_factory=dict)
    # Pages every attributed link has a copy of (a topic's form): path below a link -> the cached file
    shared: dict[str, str] = field(default_factory=dict)
    code: str = ""  # digest of the generator's code and templates that made it
    listing: str = ""  # key of what its sponsor list was read from: sponsors.yaml, the address and window overrides
    plan_parts: Mapping = field(default_factory=dict)  # per-sponsor parts the next build may reuse (assets.plan)
    page_parts: Mapping = field(default_factory=dict)  # and likewise for pages (see pages.PageWriter.all)
    directory: str = ""  # sponsors.json for a site that published no link this list does not serve
    cache: str = ""  # the cache folder it is remembered in
    campaign_key: str = ""  # what every sponsor's pages show of the campaign and the questionnaires
    # page part key -> paths of its pages MkDocs builds, and its sponsor's subtree: the next build reuses both
    part_pages: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    recipes: dict[str, str] = field(default_factory=dict)  # kit subtree -> key of what it is made of
    own: list[str] = field(default_factory=list)  # paths of the pages that are no sponsor's (pages.campaign_pages)

    def entries(self, name: str) -> tuple[publish.Entry, ...]:
        """What subtree `name` holds, every link's shared copies included; read from the cache if not in memory."""
        tree = self.trees[name]
        if tree.entries is None:
            stored = pickle.loads((Path(self.cache) / TREES / f"{_tree_key(tree.stamp, self.cache)}.pickle").read_bytes())
            copies = [publish.Entry(link + rel, source=path, shared=rel) for link in tree.links
                      for rel, path in self.shared.items()]
            tree = self.trees[name] = tree._replace(entries=tuple(sorted((*stored, *copies), key=lambda e: e.rel)))
        return tree.entries


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
        opens: str | None = None, questionnaires: Path | None = None, kept: Mapping[str, str] | None = None) -> Output:
    """read → validate → check published links → generate; or the remembered output of exactly these inputs.

    `kept` are the stamps of subtrees the publish can move from the site it replaced (publish.kept): a remembered
    result need not prove it could write those.
    """
    fonts.use_cache(cache_dir / "fonts")
    code = _code_digest()
    questionnaires = questionnaires or QUESTIONNAIRES
    listing = _memo_key(path, f"{site_url}|{opens}", code)  # what the sponsor list is read from
    memo = cache_dir / "outputs" / f"{key(listing, _digest(questionnaires))}.pickle"
    # The published links change with every deploy, so they are checked and recorded outside the remembered part.
    out = _recall(memo, kept or {})
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
        out = generate(sl, cache_dir, workers, previous, questionnaires, kept)
        typeface().save()
        out.inputs, out.code, out.listing = inputs, code, listing
        out.directory = pages.manifest(sl, set())
        _remember(memo, out)
    else:
        check_published(out.sponsors, published, path)
        log.info(f"sponsor-pages: {len(out.sponsors.sponsors)} sponsors unchanged, {len(out.pages)} pages reused")
    # The directory names every link ever published: the same text as long as the list serves all of them.
    fresh = not published or published <= pages.live_links(out.sponsors)
    out.extra["sponsors.json"] = out.directory if fresh and out.directory else pages.manifest(out.sponsors, published)
    return out


class _Forms(NamedTuple):
    """The questionnaires and validity rules as read for a build, and the scripts the pages load."""

    data: dict
    survey: Any  # questionnaire.Survey
    rules_data: dict
    rules: Any  # rules.Rules
    script: str
    version: str
    page_scripts: dict[str, tuple[str, str]]  # name -> (text, version)

    def writer(self, sl: SponsorList, mine: Mapping, mine_keys: Mapping[str, str] | None = None) -> pages.PageWriter:
        return pages.PageWriter(sl, dict(mine), self.survey, self.version, self.rules,
                                {name: version for name, (_, version) in self.page_scripts.items()}, mine_keys)

    def publish(self, extra: dict[str, str]) -> None:
        """The scripts, and what the server checks by: the questionnaires and the rules, exactly as the forms ask."""
        from lambdas.survey import questionnaire
        from lambdas.survey import rules as validity

        extra["assets/js/form.js"] = self.script
        for name, (text, _) in self.page_scripts.items():
            extra[f"assets/js/{name}"] = text
        extra["questionnaires.json"] = questionnaire.dumps(self.data)
        extra["rules.json"] = validity.dumps(self.rules_data)


def _forms(questionnaires: Path) -> _Forms:
    from lambdas.survey import questionnaire
    from lambdas.survey import rules as validity

    from . import forms

    data = questionnaire.read(questionnaires)
    survey = questionnaire.parse(data, questionnaires)
    rules_data = validity.read(RULES)
    rules = validity.parse(rules_data, RULES, tuple(survey.questionnaires))
    script, version = forms.script()
    return _Forms(data, survey, rules_data, rules, script, version,
                  {name: forms.script(name) for name in forms.PAGE_SCRIPTS})


def generate(sl: SponsorList, cache_dir: Path, workers: int | None = None, previous: Output | None = None,
             questionnaires: Path | None = None, kept: Mapping[str, str] | None = None) -> Output:
    """Draw what is missing from the cache and render every page; nothing is written outside the cache.

    With `previous` (an earlier result of the same code), sponsors whose inputs did not change keep their parts;
    when only the questionnaires changed and no sponsor's pages show the change, only the campaign's own pages
    and the shared forms are rendered (see _reworded).
    """
    started = time.monotonic()
    f = _forms(questionnaires or QUESTIONNAIRES)
    store = Store(cache_dir)
    if previous is not None and previous.sponsors is sl:
        out = _reworded(previous, f, store, kept or {})
        if out is not None:
            log.info(f"sponsor-pages: {len(sl.sponsors)} sponsors' pages and files as they were, the campaign's pages "
                     f"and {len(out.shared)} shared forms rendered in {time.monotonic() - started:.1f}s")
            return out
    from . import assets, documents, images  # drawing code is only needed when something changed

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
    out = Output(sl, drawn=len(plan.jobs), cache=str(cache_dir))
    # Subtrees of the previous result (same cache: same paths) that hold what they held are taken as they were.
    base = previous if previous is not None and previous.cache == out.cache else None
    reused: dict[str, publish.Tree] = {}
    plan_keys = {id(part): k for k, part in plan.parts.items()}
    for sponsor in sl.sponsors:
        part = plan.part_of[sponsor.slug]
        # A reused part keeps its kit: the kit's contents follow from the same inputs as the part.
        if part.kit is None or not os.path.exists(part.kit.path):
            members = [a for a in part.assets if a.uri not in (part.mine.mark, part.mine.mark_png)] + papers[sponsor.slug]
            part.kit = assets.pack_kit(sponsor, members, pages.kit_texts(sl, sponsor, part.mine), store,
                                       sl.campaign.documents.issued)
        files = [*part.assets, *papers[sponsor.slug], part.kit]
        kit = links.kit_path(sponsor.slug, "")[:-1]
        out.recipes[kit] = key("kit", plan_keys[id(part)], papers[sponsor.slug], part.kit)
        if base is not None and base.recipes.get(kit) == out.recipes[kit] and kit in base.trees:
            reused[kit] = base.trees[kit]._replace(entries=None)
            files = [a for a in files if not a.uri.startswith(kit + "/")]
        out.files += files
    writer = f.writer(sl, {slug: part.mine for slug, part in plan.part_of.items()},
                      {slug: plan_keys[id(part)] for slug, part in plan.part_of.items()})
    shared = writer.shared_forms()
    # A sponsor's pages that are reused come with its entry folder if every link holds the same shared names.
    same_links = base is not None and sorted(base.shared) == sorted(shared)
    every = writer.all(_Reuse(base) if same_links else previous.page_parts if previous else None)
    out.plan_parts, out.page_parts = plan.parts, {k: None if isinstance(part, _Kept) else part
                                                  for k, part in writer.parts.items()}
    out.campaign_key, out.own = writer.campaign_key, [p.uri for p in writer.own]
    for k, part in writer.parts.items():
        name = "s/" + part[0].uri.split("/")[1]
        out.part_pages[k] = (tuple(p.uri for p in part if publish.subtree_of(p.uri) is None), name)
        if isinstance(part, _Kept):
            reused[name] = base.trees[name]._replace(entries=None)  # type: ignore[union-attr]
    # The site's logo and favicon: the campaign's own logo when the secretariat dropped one in, else the shield.
    logo = artwork.files(sl.base_dir).get("logo")
    mark = Path(store.path(key("campaign-mark", sl.campaign.title, typeface().digest, images.RENDERER_VERSION,
                               FileDigests()(logo)), "svg"))
    if not mark.is_file():
        write_atomic(mark, images.campaign_mark_svg(sl.campaign.title, logo.read_bytes() if logo else None))
    out.extra["assets/img/campaign-mark.svg"] = mark.read_text(encoding="utf-8")
    f.publish(out.extra)
    out.shared = _store_shared(shared, store)
    _split(out, every, reused)
    log.info(
        f"sponsor-pages: {len(sl.sponsors)} sponsors, {len(out.pages)} pages and {len(out.trees)} folders of entry "
        f"pages and kits ({out.drawn} drawn) in {time.monotonic() - started:.1f}s"
    )
    return out


def _reworded(previous: Output, f: _Forms, store: Store, kept: Mapping[str, str]) -> Output | None:
    """The previous result with the questionnaires read anew, if no sponsor's pages show what changed (a question's
    wording: the shared forms have it): the campaign's own pages and the shared forms rendered, every sponsor's
    pages, files and folders taken as they were. None where the sponsors' pages change too."""
    writer = f.writer(previous.sponsors, {})
    if not previous.campaign_key or writer.campaign_key != previous.campaign_key:
        return None
    own = writer.campaign_pages()
    inside = publish.subtree_of
    was_own = set(previous.own)
    out = dataclasses.replace(previous, extra=dict(previous.extra), drawn=0, own=[p.uri for p in own])
    out.pages = [p for p in own if inside(p.uri) is None] + [p for p in previous.pages if p.uri not in was_own]
    own_trees = publish.group([(p.uri, p.body) for p in own if p.front is None and inside(p.uri)], [])
    # The sponsors' folders as stored: their shared copies are made from the shared forms of this result.
    out.trees = {name: tree._replace(entries=None) for name, tree in previous.trees.items()
                 if name not in {inside(uri) for uri in was_own}} | own_trees
    f.publish(out.extra)
    out.shared = _store_shared(writer.shared_forms(), store)
    return out if _complete(out, kept) else None


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


def _split(out: Output, every: list[pages.Page], reused: dict[str, publish.Tree] | None = None) -> None:
    """Group the subtrees publish.py places (static pages, the sponsors' files, every link's copy of each shared
    page), leaving in the output's pages and files only what MkDocs builds and copies. The `reused` subtrees are
    taken as they are (none of their pages or files is given)."""
    inside = publish.subtree_of
    reused = reused or {}
    copies = [publish.Copy(link + rel, rel, path) for s in out.sponsors.sponsors if f"s/{s.slug}" not in reused
              for channel in s.channels for link in (links.entry_path(s.slug, channel),)
              for rel, path in out.shared.items()]
    trees = publish.group([(p.uri, p.body) for p in every if p.front is None], out.files, copies=copies)
    if trees.keys() & reused.keys():
        raise RuntimeError(f"subtrees both reused and made: {sorted(trees.keys() & reused.keys())[:3]}")
    out.trees = trees | reused
    out.pages = [p for p in every if inside(p.uri) is None]
    out.files = [a for a in out.files if inside(a.uri) is None]


def _tree_key(stamp: str, cache: str) -> str:
    # The stamp names cached files by their base names only: the same stamp in another cache is other paths.
    return key("tree", stamp, cache)


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


class _Kept(list):
    """A sponsor's pages taken from the previous result: only those MkDocs builds; its subtree is the previous one."""


class _Reuse:
    """The previous result's sponsor pages by part key, as PageWriter.all reuses them, read from the result itself
    (no part file): a part's pages outside the subtrees, its subtree taken whole (see generate)."""

    def __init__(self, previous: Output) -> None:
        self.previous = previous
        self.pages = {p.uri: p for p in previous.pages}

    def __len__(self) -> int:
        return len(self.previous.part_pages)

    def get(self, k: str, default: Any = None) -> Any:
        found = self.previous.part_pages.get(k)
        if found is None or found[1] not in self.previous.trees or not all(u in self.pages for u in found[0]):
            return self.previous.page_parts.get(k, default)
        return _Kept(self.pages[u] for u in found[0])


class _Parts(Mapping):
    """Remembered per-sponsor parts by key, each read from its file when asked for."""

    def __init__(self, folder: Path, keys: list[str]) -> None:
        self.folder, self.keys, self.known, self.loaded = folder, keys, set(keys), {}

    def __getitem__(self, k: str) -> Any:
        if k not in self.loaded:
            if k not in self.known:
                raise KeyError(k)
            self.loaded[k] = pickle.loads((self.folder / f"{k}.pickle").read_bytes())
        return self.loaded[k]

    def get(self, k: str, default: Any = None) -> Any:
        try:
            return self[k]
        except (KeyError, OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
            return default  # a part that does not load is rendered again

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)


class _Stored(NamedTuple):
    """A result as remembered: the campaign's own pages inline, each sponsor's pages that MkDocs builds in a file
    under PAGES, its subtrees by stamp (their contents in files under TREES), and the keys of its per-sponsor parts
    (files under PARTS) for the next incremental build."""

    output: Output  # without the subtrees' entries and the parts
    plan_keys: list[str]
    page_keys: list[str]


def _parts_dir(memo: Path) -> Path:
    return memo.parent.parent / PARTS


def _load(memo: Path) -> Output | None:
    try:
        with open(memo, "rb") as fh:
            stored = pickle.load(fh)
        out = stored.output
        folder = _parts_dir(memo)
        out.plan_parts, out.page_parts = _Parts(folder, stored.plan_keys), _Parts(folder, stored.page_keys)
        pages_dir = memo.parent.parent / PAGES
        for k in out.part_pages:
            out.pages += pickle.loads((pages_dir / f"{k}.pickle").read_bytes())
        out.shared  # noqa: B018 (made by older code without it: fails here)
        if not isinstance(out.trees, dict) or not out.cache:
            return None
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


def _recall(memo: Path, kept: Mapping[str, str]) -> Output | None:
    """The result remembered under `memo`, if everything it needs is still there: its inputs as they were, the
    files MkDocs copies, the shared pages, and for each subtree the site cannot move (`kept`), its contents."""
    out = _load(memo)
    if out is None:
        return None
    try:
        if out.cache != str(memo.parent.parent) or out.inputs != _signatures(out.sponsors) or not _complete(out, kept):
            return None
        os.utime(memo)  # most recently used: kept by the pruning below, and so are its parts
    except OSError:
        return None
    return out


def _complete(out: Output, kept: Mapping[str, str]) -> bool:
    """Whether the cache holds what publishing `out` takes from it: the files MkDocs copies, the shared pages, and
    for each subtree the site cannot move (not in `kept` with its stamp), its contents and their files."""
    try:
        if not all(os.path.exists(a.path) for a in out.files) or not all(map(os.path.exists, out.shared.values())):
            return False
        return all(kept.get(name) == tree.stamp or all(
            os.path.exists(e.source) for e in out.entries(name) if e.source is not None)
            for name, tree in out.trees.items())
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return False


def _remember(memo: Path, out: Output) -> None:
    """Store the result for the next build: its parts and subtrees not stored yet, the keys it refers to, and then
    the result itself; each write atomic. Then drop results beyond the few kept, and any part or subtree none of
    those kept refers to."""
    cache = memo.parent.parent
    folder = _parts_dir(memo)
    refs = []
    for parts in (out.plan_parts, out.page_parts):
        for k in parts:
            refs.append(f"{PARTS}/{k}.pickle")
            path = folder / f"{k}.pickle"
            # A part taken from the previous result has its file (read only if lost: then it is rendered again)
            if not path.exists() and (part := parts.get(k)) is not None:
                write_atomic(path, pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    own, by_uri = set(out.own), None
    for k, (uris, _) in out.part_pages.items():
        file = f"{PAGES}/{k}.pickle"
        refs.append(file)
        if not (cache / file).exists():
            by_uri = by_uri or {p.uri: p for p in out.pages}
            write_atomic(cache / file, pickle.dumps(tuple(by_uri[u] for u in uris), protocol=pickle.HIGHEST_PROTOCOL))
    stored_trees = {}
    for name, tree in out.trees.items():
        file = f"{TREES}/{_tree_key(tree.stamp, out.cache)}.pickle"
        refs.append(file)
        if not (cache / file).exists():
            entries = tuple(e for e in out.entries(name) if not e.shared)
            write_atomic(cache / file, pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))
        stored_trees[name] = tree._replace(entries=None)
    write_atomic(memo.with_suffix(".refs"), "\n".join(refs).encode())
    # The sponsors' pages are in files of their own, shared by the results kept: only the campaign's are inline.
    rest = dataclasses.replace(out, pages=[p for p in out.pages if p.uri in own], trees=stored_trees, plan_parts={},
                               page_parts={})
    write_atomic(memo, pickle.dumps(_Stored(rest, list(out.plan_parts), list(out.page_parts)),
                                    protocol=pickle.HIGHEST_PROTOCOL))
    results = sorted(memo.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in results[KEEP_OUTPUTS:]:
        stale.unlink(missing_ok=True)
        stale.with_suffix(".refs").unlink(missing_ok=True)
    used: set[str] = set()
    for result in results[:KEEP_OUTPUTS]:
        try:
            used.update(result.with_suffix(".refs").read_text().split("\n"))
        except OSError:
            result.unlink(missing_ok=True)  # a result without its list of parts could lose them: forget it
    for sub in (PARTS, TREES, PAGES):
        for stored in (cache / sub).glob("*.pickle"):
            if f"{sub}/{stored.name}" not in used:
                stored.unlink(missing_ok=True)
