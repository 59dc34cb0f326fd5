"""One build, start to finish, without MkDocs: read → validate → plan → draw → pack → render.

The MkDocs plugin calls this before MkDocs touches the output folder, so any failure here leaves the last good
site as it was.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import assets, images, pages
from .cache import Store
from .fonts import typeface
from .sponsors import Problem, SponsorList, SponsorsError, check_url, load

log = logging.getLogger("mkdocs.plugins.sponsor-pages")


@dataclass
class Output:
    sponsors: SponsorList
    pages: list[pages.Page] = field(default_factory=list)
    files: list[assets.Asset] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # site path -> generated text
    drawn: int = 0


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


def generate(sl: SponsorList, cache_dir: Path, published: set[str], workers: int | None = None) -> Output:
    """Draw what is missing from the cache and render every page; nothing is written outside the cache."""
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
    out.extra["assets/img/campaign-mark.svg"] = images.campaign_mark_svg(sl.campaign.title)
    out.extra["sponsors.json"] = pages.manifest(sl, published)
    log.info(
        f"sponsor-pages: {len(sl.sponsors)} sponsors, {len(out.pages)} pages, {len(out.files)} files "
        f"({out.drawn} drawn) in {time.monotonic() - started:.1f}s"
    )
    return out
