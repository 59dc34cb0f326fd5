"""One build, start to finish, without MkDocs: read → validate → plan → draw → pack → render.

The MkDocs plugin calls this before MkDocs touches the output folder, so any failure here leaves the last good
site as it was. The whole result is remembered under the hash of its inputs, so a rebuild with nothing changed
reuses it instead of validating and rendering again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import pages
from .cache import Asset, FileDigests, Store, key, write_atomic
from .fonts import font_files, typeface
from .sponsors import Problem, SponsorList, SponsorsError, check_url, load

log = logging.getLogger("mkdocs.plugins.sponsor-pages")

CODE = Path(__file__).parent
KEEP_OUTPUTS = 3  # remembered results kept in the cache: the current one and a few to go back to


@dataclass
class Output:
    sponsors: SponsorList
    pages: list[pages.Page] = field(default_factory=list)
    files: list[Asset] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # site path -> generated text
    drawn: int = 0
    inputs: dict[str, str] = field(default_factory=dict)  # input file -> signature, to check a remembered result


def read(path: Path, site_url: str | None = None) -> SponsorList:
    """Load and validate the sponsor list; `site_url` overrides the campaign's (local runs, staging)."""
    sl = load(path, can_draw=typeface().can_draw)
    if site_url:
        try:
            check_url(site_url)
        except ValueError as exc:
            raise SponsorsError(path, [Problem(1, "SURVEY_SITE_URL", str(exc))]) from exc
        campaign = sl.campaign.model_copy(update={"site_url": site_url.rstrip("/") + "/"})
        sl = dataclasses.replace(sl, campaign=campaign)
    return sl


def check_published(sl: SponsorList, published: set[str], path: Path) -> None:
    """Refuse a sponsor list that would break a link printed on a poster or published on a site."""
    gone = pages.vanished_links(sl, published)
    if gone:
        problems = [
            Problem(1, f"link /{link}", "was published but this sponsor list no longer serves it. Fix: if the sponsor "
                    "was renamed, keep its old slug in 'former_slugs'; if a channel was dropped, keep it in 'channels'; "
                    "if the sponsor left, add its slug to campaign.retired_slugs")
            for link in gone[:50]
        ]
        raise SponsorsError(path, problems)


def run(path: Path, cache_dir: Path, published: set[str], site_url: str | None = None, workers: int | None = None) -> Output:
    """read → validate → check published links → generate; or the remembered output of exactly these inputs."""
    memo = cache_dir / "outputs" / f"{_memo_key(path, site_url)}.pickle"
    # The published links change with every deploy, so they are checked and recorded outside the remembered part.
    out = _recall(memo)
    if out is None:
        sl = read(path, site_url)
        check_published(sl, published, path)
        out = generate(sl, cache_dir, workers)
        out.inputs = _signatures(sl)
        _remember(memo, out)
    else:
        check_published(out.sponsors, published, path)
        log.info(f"sponsor-pages: {len(out.sponsors.sponsors)} sponsors unchanged, {len(out.pages)} pages reused")
    out.extra["sponsors.json"] = pages.manifest(out.sponsors, published)
    return out


def generate(sl: SponsorList, cache_dir: Path, workers: int | None = None) -> Output:
    """Draw what is missing from the cache and render every page; nothing is written outside the cache."""
    from . import assets, images  # drawing code is only needed when something changed

    store = Store(cache_dir)
    started = time.monotonic()
    plan = assets.plan(sl, store)
    if plan.jobs:
        log.info(f"sponsor-pages: drawing {len(plan.jobs)} image jobs for {len(sl.sponsors)} sponsors")
    step = max(1, len(plan.jobs) // 10)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            log.info(f"sponsor-pages: drawn {done}/{total} ({100 * done // total}%)")

    assets.draw_missing(plan.jobs, progress, workers)
    out = Output(sl, files=list(plan.assets), drawn=len(plan.jobs))
    for sponsor in sl.sponsors:
        texts = pages.kit_texts(sl, sponsor, plan.by_sponsor[sponsor.slug])
        members = [a for a in plan.files_of[sponsor.slug] if a.uri != plan.by_sponsor[sponsor.slug].mark]
        out.files.append(assets.pack_kit(sponsor, members, texts, store))
    out.pages = pages.PageWriter(sl, plan.by_sponsor).all()
    mark = store.path(key("campaign-mark", sl.campaign.title, typeface().digest, images.RENDERER_VERSION), "svg")
    if not mark.is_file():
        write_atomic(mark, images.campaign_mark_svg(sl.campaign.title))
    out.extra["assets/img/campaign-mark.svg"] = mark.read_text(encoding="utf-8")
    log.info(
        f"sponsor-pages: {len(sl.sponsors)} sponsors, {len(out.pages)} pages, {len(out.files)} files "
        f"({out.drawn} drawn) in {time.monotonic() - started:.1f}s"
    )
    return out


def _code_digest() -> str:
    h = hashlib.sha256()
    for source in sorted([*CODE.glob("*.py"), *CODE.glob("templates/*")]):
        h.update(source.name.encode() + b"\0" + source.read_bytes())
    return h.hexdigest()


def _memo_key(path: Path, site_url: str | None) -> str:
    try:
        text = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        text = "missing"
    return key("output", str(path.resolve()), text, site_url, _code_digest())


def _font_signature(font: Path) -> str:
    # Size and modification time, not the bytes: the fonts are 40 MB and only change when a package is upgraded.
    st = font.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _signatures(sl: SponsorList) -> dict[str, str]:
    """What else a result depends on besides sponsors.yaml and the code: logos (by content) and fonts."""
    digests = FileDigests()
    logos = {str(p): digests(p) or "" for s in sl.sponsors if (p := sl.logo_path(s)) is not None}
    return logos | {str(font): _font_signature(font) for font in font_files()}


def _recall(memo: Path) -> Output | None:
    try:
        with open(memo, "rb") as fh:
            out: Output = pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return None
    try:
        if out.inputs != _signatures(out.sponsors) or not all(a.path.is_file() for a in out.files):
            return None
    except OSError:
        return None
    os.utime(memo)  # most recently used: kept by the pruning below
    return out


def _remember(memo: Path, out: Output) -> None:
    write_atomic(memo, pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    older = sorted(memo.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP_OUTPUTS:]
    for stale in older:
        stale.unlink(missing_ok=True)
