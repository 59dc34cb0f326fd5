"""Plan, draw and pack every sponsor's files: entry images, QR codes, its mark and the media-kit zip.

Planning is cheap and pure (it only computes names and cache keys); drawing happens only for keys missing from
the cache, spread over all cores.
"""

from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Callable

from . import draw, images, links
from .cache import Asset, FileDigests, Store, key, write_atomic
from .records import Job, Plan, SponsorPlan
from .fonts import typeface
from .model import Sponsor, SponsorList


def plan(sponsors: SponsorList, store: Store, reuse: dict[str, SponsorPlan] | None = None) -> Plan:
    """Name every file and its cache key; list the jobs whose outputs are not cached yet.

    A sponsor whose inputs equal those of a part in `reuse` (the previous build's) takes that part as it is.
    """
    font = typeface().digest
    digests = FileDigests()
    result = Plan()
    seen_jobs: set[tuple[tuple[str, str], ...]] = set()
    campaign = repr(sponsors.campaign)
    present = store.listing()
    for sponsor in sponsors.sponsors:
        logo_path = sponsors.logo_path(sponsor)
        logo_digest = digests(logo_path)
        part_key = key("plan", repr(sponsor), campaign, logo_digest, font, images.RENDERER_VERSION, str(store.root))
        part = (reuse or {}).get(part_key) or _plan_sponsor(sponsors, sponsor, logo_path, logo_digest, font, store)
        result.parts[part_key] = part
        result.assets += part.assets
        result.part_of[sponsor.slug] = part
        for job in part.jobs:
            if job.outputs not in seen_jobs and not all(p in present for _, p in job.outputs):
                seen_jobs.add(job.outputs)
                result.jobs.append(job)
    return result


def _plan_sponsor(
    sponsors: SponsorList, sponsor: Sponsor, logo_path: Path | None, logo_digest: str | None, font: str, store: Store,
) -> SponsorPlan:
    campaign = sponsors.campaign
    logo = str(logo_path) if logo_path else None
    part = SponsorPlan()
    mine = part.mine
    slug = sponsor.slug

    def add(uri: str, digest: str, fmt: str, job: Job) -> str:
        part.assets.append(Asset(uri, store.path(digest, fmt)))
        if not part.jobs or part.jobs[-1] is not job:
            part.jobs.append(job)
        return uri

    digest = key("mark", sponsor.short_name, sponsor.name, logo_digest, font, images.RENDERER_VERSION)
    job = Job("mark", {"short_name": sponsor.short_name, "title": sponsor.name}, logo,
              (("svg", store.path(digest, "svg")), ("png", store.path(digest, "png"))))
    mine.mark = add(links.kit_path(slug, "mark.svg"), digest, "svg", job)
    mine.mark_png = add(links.kit_path(slug, "mark.png"), digest, "png", job)

    for size in campaign.entry_images:
        inputs = images.EntryInputs(
            size.width, size.height, images.title_parts(campaign.year, campaign.name), campaign.slogans[0],
            campaign.dates_short, sponsor.short_name, "立即参与",
            qr_url=links.entry_url(campaign, slug, links.poster_channel(sponsor)) if size.qr else None,
        )
        params = dict(vars(inputs))  # shallow: every field is a str, an int or a tuple of str
        digest = key("entry", params, logo_digest, font, images.RENDERER_VERSION)
        outputs = (("png", store.path(digest, "png")), ("svg", store.path(digest, "svg")))
        job = Job("entry", params, logo, outputs)
        base = f"{slug}-{size.name}-{size.width}x{size.height}"
        png = add(links.kit_path(slug, base + ".png"), digest, "png", job)
        svg = add(links.kit_path(slug, base + ".svg"), digest, "svg", job)
        channel = links.poster_channel(sponsor) if size.qr else links.snippet_channel(sponsor)
        mine.entries.append({"size": size, "png": png, "svg": svg, "channel": channel,
                             "url": links.entry_url(campaign, slug, channel)})

    for channel in sponsor.channels:
        url = links.entry_url(campaign, slug, channel)
        label = f"{campaign.title} · {sponsor.short_name} · {campaign.channels[channel]}"
        digest = key("qr", url, label, images.RENDERER_VERSION)
        job = Job("qr", {"url": url, "label": label}, None,
                  (("png", store.path(digest, "png")), ("svg", store.path(digest, "svg"))))
        mine.qr[channel] = {
            "png": add(links.kit_path(slug, f"{slug}-qr-{channel}.png"), digest, "png", job),
            "svg": add(links.kit_path(slug, f"{slug}-qr-{channel}.svg"), digest, "svg", job),
            "url": url,
        }
    mine.kit = links.kit_path(slug, f"{slug}-media-kit.zip")
    return part


def render(job: Job) -> dict[str, dict[str, str]]:
    """Draw one job into the cache (runs in a worker process); return the glyph outlines it had to read."""
    logo = Path(job.logo).read_bytes() if job.logo else None
    outputs = dict(job.outputs)
    if job.kind == "entry":
        scene = images.entry_scene(images.EntryInputs(**job.params), logo)
        for fmt, path in outputs.items():
            write_atomic(Path(path), draw.to_png(scene) if fmt == "png" else draw.to_svg(scene))
    elif job.kind == "qr":
        scene = images.qr_scene(job.params["url"], job.params["label"])
        for fmt, path in outputs.items():
            write_atomic(Path(path), draw.to_png(scene) if fmt == "png" else draw.to_svg(scene))
    elif job.kind == "mark":
        scene = images.mark_scene(job.params["short_name"], logo, job.params["title"])
        write_atomic(Path(outputs["svg"]), draw.to_svg(scene))
        write_atomic(Path(outputs["png"]), draw.to_png(scene))
    else:
        raise ValueError(f"unknown job kind {job.kind}")
    return typeface().take_new_outlines()


def draw_missing(jobs: list[Job], progress: Callable[[int, int], None] | None = None, workers: int | None = None) -> None:
    """Draw every job, on all cores when there is enough work to pay for the processes."""
    if not jobs:
        return
    workers = workers or os.cpu_count() or 1
    total, done = len(jobs), 0
    # Below a few dozen jobs, starting worker processes costs more than it saves.
    if workers == 1 or total < 48:
        for job in jobs:
            render(job)  # outlines read here are already in this process's font data
            done += 1
            if progress:
                progress(done, total)
        return
    _ = typeface().regular.cmap, typeface().bold.cmap  # read the fonts once, before forking, so workers share them
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for outlines in pool.map(render, jobs, chunksize=max(1, min(16, total // (workers * 8)))):
            typeface().add_outlines(outlines)
            done += 1
            if progress:
                progress(done, total)


def pack_kit(sponsor: Sponsor, members: list[Asset], texts: dict[str, str], store: Store, dated: date) -> Asset:
    """The sponsor's media kit as one zip, itself cached under the hash of its members; every entry is dated
    `dated` (the campaign's documents' date), so unzipped files carry a date that means something."""
    names = sorted((Path(a.uri).name, Path(a.path).stem) for a in members)
    stamp = (dated.year, dated.month, dated.day, 9, 0, 0)
    digest = key("kit", names, texts, stamp)
    path = store.path(digest, "zip")
    if not os.path.isfile(path):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, content in sorted(texts.items()):
                _add(archive, name, content.encode("utf-8"), zipfile.ZIP_DEFLATED, stamp)
            for asset in sorted(members, key=lambda a: a.uri):
                name = Path(asset.uri).name
                # PNG is already compressed; storing it keeps packing fast.
                method = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
                folder = "documents/" if name.endswith(".pdf") else "qr/" if "-qr-" in name else "images/"
                _add(archive, folder + name, Path(asset.path).read_bytes(), method, stamp)
        write_atomic(Path(path), buf.getvalue())
    return Asset(links.kit_path(sponsor.slug, f"{sponsor.slug}-media-kit.zip"), path)


def _add(archive: zipfile.ZipFile, name: str, data: bytes, method: int, stamp: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = method
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
