"""The 授权书 and 邀请函 as PDF: each sponsor's documents printed to A4 by WeasyPrint from the same HTML and style
sheet as their pages, cached like the images under the hash of what they print.

WeasyPrint embeds the subset of each font a document uses, so a PDF shows the same on a machine without CJK fonts.
Printing takes about 60 ms a document; a full campaign's few hundred are spread over all cores.
"""

from __future__ import annotations

import base64
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import images, pages
from .cache import Asset, Store, key, write_atomic
from .model import SponsorList

PRINTER_VERSION = "1"  # change to print every document again


def plan(sl: SponsorList, store: Store) -> tuple[dict[str, list[Asset]], list[tuple[str, str]]]:
    """Each sponsor's document files, and the (HTML, cache path) of those not printed yet."""
    mark = "data:image/svg+xml;base64," + base64.b64encode(images.campaign_mark_svg(sl.campaign.title).encode()).decode()
    engine = _engine_version()
    present = store.listing()
    files: dict[str, list[Asset]] = {}
    missing: list[tuple[str, str]] = []
    for sponsor in sl.sponsors:
        files[sponsor.slug] = []
        for name, html in pages.printable(sl, sponsor, mark).items():
            path = store.path(key("document", html, engine, PRINTER_VERSION), "pdf")
            files[sponsor.slug].append(Asset(pages.pdf_path(sponsor.slug, name), path))
            if path not in present:
                missing.append((html, path))
    return files, missing


def print_missing(jobs: list[tuple[str, str]], workers: int | None = None) -> None:
    """Print every job, on all cores when there are enough to pay for the processes."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 16:
        for job in jobs:
            _print(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_print, jobs, chunksize=max(1, len(jobs) // (workers * 4))))


def to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # only when something is printed: it takes a second to import

    return HTML(string=html).write_pdf()


def _print(job: tuple[str, str]) -> None:
    html, path = job
    write_atomic(Path(path), to_pdf(html))


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weasyprint")
    except PackageNotFoundError:
        return "missing"
