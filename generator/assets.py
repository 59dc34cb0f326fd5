"""Plan, draw and pack every sponsor's files: entry images in every design, QR codes, its mark and the media-kit zip.

Planning is cheap and pure (it only computes names and cache keys); drawing happens only for keys missing from
the cache, spread over all cores.
"""

from __future__ import annotations

import os
import struct
import sys
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Callable, NamedTuple

from lambdas.files import zip_bytes

from . import artwork, draw, images, links, typeset
from lambdas.files import write_atomic

from .cache import Asset, FileDigests, Store, key
from .records import Job, Plan, SponsorPlan
from .fonts import typeface
from .model import Campaign, EntrySize, Sponsor, SponsorList


# A 2× copy of every entry image up to this doubled width: wider ones (the 1080-px poster) are sharp on phones as
# they are, and are printed from their SVG.
MAX_2X_WIDTH = 2000


def organiser_lines(campaign: Campaign) -> tuple[str, ...]:
    """The organisers as the poster names them: 指导单位, 主办单位, 承办单位."""
    lines = [f"指导单位：{campaign.guided_by}"] if campaign.guided_by else []
    return (*lines, f"主办单位：{campaign.hosted_by}", f"承办单位：{campaign.run_by}")


def plan(sponsors: SponsorList, store: Store, reuse: dict[str, SponsorPlan] | None = None) -> Plan:
    """Name every file and its cache key; list the jobs whose outputs are not cached yet.

    A sponsor whose inputs equal those of a part in `reuse` (the previous build's) takes that part as it is.
    """
    font = typeface().digest
    digests = FileDigests()
    found = artwork.check(sponsors.base_dir)
    art = Artwork(tuple(sorted((slot, str(path)) for slot, path in found.items())),
                  tuple(sorted((slot, digests(path) or "") for slot, path in found.items())))
    result = Plan()
    seen_jobs: set[tuple[tuple[str, str], ...]] = set()
    campaign = repr(sponsors.campaign)
    present = store.listing()
    for sponsor in sponsors.sponsors:
        logo_path = sponsors.logo_path(sponsor)
        logo_digest = digests(logo_path)
        part_key = key("plan", repr(sponsor), campaign, logo_digest, art.digests, font, images.RENDERER_VERSION,
                       str(store.root))
        part = (reuse or {}).get(part_key) or _plan_sponsor(sponsors, sponsor, logo_path, logo_digest, font, store, art)
        result.parts[part_key] = part
        result.assets += part.assets
        result.part_of[sponsor.slug] = part
        for job in part.jobs:
            if job.outputs not in seen_jobs and not all(p in present for _, p in job.outputs):
                seen_jobs.add(job.outputs)
                result.jobs.append(job)
    return result


class Artwork(NamedTuple):
    files: tuple[tuple[str, str], ...]  # (slot, path)
    digests: tuple[tuple[str, str], ...]  # (slot, sha256): part of every entry image's key


def _plan_sponsor(
    sponsors: SponsorList, sponsor: Sponsor, logo_path: Path | None, logo_digest: str | None, font: str, store: Store,
    art: Artwork,
) -> SponsorPlan:
    campaign = sponsors.campaign
    logo = str(logo_path) if logo_path else None
    part = SponsorPlan()
    mine = part.mine
    slug = sponsor.slug
    published: set[str] = set()

    def add(uri: str, digest: str, fmt: str, job: Job) -> str:
        if uri in published:  # two names made one (a sub-link key shaped like a size's name): never overwrite
            raise ValueError(f"sponsor '{slug}': two of its files would be published as {uri}")
        published.add(uri)
        part.assets.append(Asset(uri, store.path(digest, fmt)))
        if not part.jobs or part.jobs[-1] is not job:
            part.jobs.append(job)
        return uri

    digest = key("mark", sponsor.short_name, sponsor.name, logo_digest, font, images.RENDERER_VERSION)
    job = Job("mark", {"short_name": sponsor.short_name, "title": sponsor.name}, logo,
              (("svg", store.path(digest, "svg")), ("png", store.path(digest, "png"))))
    mine.mark = add(links.kit_path(slug, "mark.svg"), digest, "svg", job)
    mine.mark_png = add(links.kit_path(slug, "mark.png"), digest, "png", job)
    mine.designs = [{"name": d.name, "label": d.label} for d in images.DESIGNS]

    def entry(size: EntrySize, channel: str, qr_label: str | None, name: str) -> dict:
        """One entry-image size in every design, its QR code (if the size has one) carrying `channel`."""
        url = links.entry_url(campaign, slug, channel)
        designs = []
        for n, design in enumerate(images.DESIGNS):
            inputs = images.EntryInputs(
                size.width, size.height, images.title_parts(campaign.year, campaign.name), campaign.slogans[0],
                campaign.dates_short, sponsor.short_name, "立即参与", qr_url=url if size.qr else None,
                design=design.name, organisers=organiser_lines(campaign) if size.qr else (),
                **({"qr_label": qr_label} if qr_label else {}),
            )
            params = dict(vars(inputs))  # shallow: every field is a str, an int or a tuple of str
            digest = key("entry", params, logo_digest, art.digests, font, images.RENDERER_VERSION)
            double = size.width * 2 <= MAX_2X_WIDTH
            outputs = (("png", store.path(digest, "png")), *((("png2x", store.path(digest, "2x.png")),) if double else ()),
                       ("svg", store.path(digest, "svg")))
            job = Job("entry", params, logo, outputs, art.files)
            # The first design keeps the file names published before there were designs: snippets sponsors pasted
            # into their sites load the image from the site by that name.
            base = name + (f"-{design.name}" if n else "")
            designs.append({
                "name": design.name, "label": design.label,
                "png": add(links.kit_path(slug, base + ".png"), digest, "png", job),
                "png2x": add(links.kit_path(slug, base + "@2x.png"), digest, "2x.png", job) if double else None,
                "svg": add(links.kit_path(slug, base + ".svg"), digest, "svg", job),
            })
        first = designs[0]
        return {"size": size, "png": first["png"], "png2x": first["png2x"], "svg": first["svg"],
                "channel": channel, "url": url, "designs": designs}

    for size in campaign.entry_images:
        channel = links.poster_channel(campaign, sponsor) if size.qr else links.snippet_channel(campaign, sponsor)
        mine.entries.append(entry(size, channel, None, f"{slug}-{size.name}-{size.width}x{size.height}"))
    # A sub-link of the poster channel is a poster of its own (one per school, one per shop): the QR-code sizes
    # again, carrying the sub-link and naming its place under the code.
    for sub in sponsor.sublinks:
        if sub.channel == campaign.poster_channel:
            mine.posters[sub.id] = [entry(size, sub.id, f"{sub.label} · 扫码参与调查",
                                          f"{slug}-{sub.id}-{size.name}-{size.width}x{size.height}")
                                    for size in campaign.entry_images if size.qr]

    for channel in sponsor.channels:
        url = links.entry_url(campaign, slug, channel)
        name = links.channel_label(campaign, sponsor, channel)
        label = f"{campaign.title} · {sponsor.short_name} · {name}"
        params = {"url": url, "label": label, "name": sponsor.name, "channel": name,
                  "caption": f"{campaign.title} · {sponsor.name} · {name}"}
        digest = key("qr", params, images.RENDERER_VERSION)
        job = Job("qr", params, None, (("png", store.path(digest, "png")), ("svg", store.path(digest, "svg")),
                                       ("captioned_png", store.path(digest, "c.png")),
                                       ("captioned_svg", store.path(digest, "c.svg"))))
        base = f"{slug}-qr-{channel}"
        mine.qr[channel] = {
            "png": add(links.kit_path(slug, f"{base}.png"), digest, "png", job),
            "svg": add(links.kit_path(slug, f"{base}.svg"), digest, "svg", job),
            "captioned_png": add(links.kit_path(slug, f"{base}-captioned.png"), digest, "c.png", job),
            "captioned_svg": add(links.kit_path(slug, f"{base}-captioned.svg"), digest, "c.svg", job),
            "url": url,
        }
    mine.kit = links.kit_path(slug, f"{slug}-media-kit.zip")
    return part


def render(job: Job) -> dict[str, dict[str, str]]:
    """Draw one job into the cache (runs in a worker process); return the glyph outlines it had to read."""
    logo = Path(job.logo).read_bytes() if job.logo else None
    art = {slot: Path(path).read_bytes() for slot, path in job.artwork}
    scenes: dict[str, draw.Scene] = {}
    if job.kind == "entry":
        scenes["png"] = images.entry_scene(images.EntryInputs(**job.params), logo, art.get("logo"), art.get("mascot"))
    elif job.kind == "qr":
        scenes["png"] = images.qr_scene(job.params["url"], job.params["label"])
        scenes["captioned_png"] = images.captioned_qr_scene(
            job.params["url"], job.params["caption"], job.params["name"], job.params["channel"])
    elif job.kind == "mark":
        scenes["png"] = images.mark_scene(job.params["short_name"], logo, job.params["title"])
    else:
        raise ValueError(f"unknown job kind {job.kind}")
    pngs = {name: draw.to_pngs(scene, (1, 2) if name == "png" and "png2x" in dict(job.outputs) else (1,))
            for name, scene in scenes.items()}
    for fmt, path in job.outputs:
        name = "captioned_png" if fmt.startswith("captioned") else "png"
        if fmt.endswith("svg"):
            data: bytes | str = draw.to_svg(scenes[name])
        else:
            data = pngs[name][2 if fmt == "png2x" else 1]
        write_atomic(Path(path), data)
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
    # Read the fonts and load the word list once, before forking, so workers share them.
    _ = typeface().regular.cmap, typeface().bold.cmap
    typeset.prepare()
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
        entries = [(name, content.encode("utf-8")) for name, content in sorted(texts.items())]
        for asset in sorted(members, key=lambda a: a.uri):
            name = Path(asset.uri).name
            folder = "documents/" if name.endswith(".pdf") else "qr/" if "-qr-" in name else "images/"
            entries.append((folder + name, Path(asset.path).read_bytes()))
        # PNG is already compressed; storing it keeps packing fast.
        write_atomic(Path(path), zip_on_all_cores(entries, stamp, stored=(".png",)))
    return Asset(links.kit_path(sponsor.slug, f"{sponsor.slug}-media-kit.zip"), path)


def zip_on_all_cores(members: list[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int],
                     stored: tuple[str, ...] = ()) -> bytes:
    """`lambdas.files.zip_bytes(members, date_time, stored)`, byte for byte (tests/generator/test_cold_kit.py holds
    them equal), with the members deflated side by side on every core: zlib lets other threads run while it
    compresses, and deflating the kits' drawings and documents one after another was a serial step of the build.

    Only the local headers, the central directory and its end record are written here, as zipfile writes them to a
    seekable file for a ZipInfo of `date_time` and mode 644: version 2.0, no extra fields.
    """
    if len(members) >= 0xFFFF or any(len(data) * 1.05 > _ZIP64_LIMIT for _, data in members):
        return zip_bytes(members, date_time, stored)  # zip64 records: zipfile's own

    def pack(member: tuple[str, bytes]) -> tuple[int, bytes]:
        name, data = member
        if name.endswith(stored):
            return zlib.crc32(data), data
        deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        return zlib.crc32(data), deflate.compress(data) + deflate.flush()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # The largest first, so that no core is left with one large document at the end.
        futures = {i: pool.submit(pack, members[i]) for i in sorted(range(len(members)), key=lambda i: -len(members[i][1]))}
        packed = [futures[i].result() for i in range(len(members))]
    year, month, day, hour, minute, second = date_time
    dosdate, dostime = (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2
    made_on = 0 if sys.platform == "win32" else 3  # as zipfile records it: MS-DOS, else Unix
    out, central = bytearray(), bytearray()
    for (name, data), (crc, body) in zip(members, packed):
        method = zipfile.ZIP_STORED if name.endswith(stored) else zipfile.ZIP_DEFLATED
        try:
            raw, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-8"), 0x800  # the name is UTF-8
        if len(out) > _ZIP64_LIMIT:
            return zip_bytes(members, date_time, stored)
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, made_on, 20, 0, flags, method, dostime, dosdate, crc,
                               len(body), len(data), len(raw), 0, 0, 0, 0, 0o644 << 16, len(out)) + raw
        out += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, flags, method, dostime, dosdate, crc, len(body),
                           len(data), len(raw), 0) + raw + body
    if len(out) > _ZIP64_LIMIT or len(central) > _ZIP64_LIMIT:
        return zip_bytes(members, date_time, stored)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


_ZIP64_LIMIT = (1 << 31) - 1  # zipfile's: past it, zip64 records

