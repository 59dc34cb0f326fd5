"""The 授权书 and 邀请函 as PDF: each sponsor's documents printed to A4 by WeasyPrint from the same HTML and style
sheet as their pages, cached like the images under the hash of what they print.

WeasyPrint embeds the subset of each font a document uses, so a PDF shows the same on a machine without CJK fonts.
Printing takes about 80 ms of CPU a document; a full campaign's few hundred are spread over all cores.
"""

from __future__ import annotations

import base64
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from . import images, pages
from .cache import Asset, Store, key, write_atomic
from .model import SponsorList

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration

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

    return HTML(string=html).write_pdf(font_config=_printer_fonts())


_fonts: dict[int, FontConfiguration] = {}  # by process: a forked worker starts its own


def _printer_fonts() -> FontConfiguration:
    """One font configuration for every document a process prints, so that the CJK fonts are looked up and loaded
    once rather than for each document (the same fonts, the same bytes: about a seventh of a document's time);
    and WeasyPrint's font subsetting starts from a face prepared once (see `_subset_from_prepared_faces`)."""
    pid = os.getpid()
    if pid not in _fonts:
        from weasyprint.text.fonts import FontConfiguration

        _subset_from_prepared_faces()
        _fonts.clear()
        _fonts[pid] = FontConfiguration()
    return _fonts[pid]


def _subset_from_prepared_faces() -> None:
    """Have WeasyPrint subset each font from a face HarfBuzz prepared once (`hb_subset_preprocess`), not from the
    raw face each time: HarfBuzz documents the same result, found faster (about a tenth of a document's time for
    the CJK fonts). Left as it is where this WeasyPrint or HarfBuzz lacks what it needs."""
    try:
        from weasyprint.pdf import fonts as pdf_fonts
        from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

        subset = pdf_fonts.Font._harfbuzz_subset
        if getattr(subset, "prepared_faces", False) or not harfbuzz_subset or not harfbuzz.hb_version_atleast(6, 0, 0):
            return
        try:
            preprocess = harfbuzz_subset.hb_subset_preprocess
        except AttributeError:
            ffi.cdef("hb_face_t * hb_subset_preprocess (hb_face_t *source);")
            preprocess = harfbuzz_subset.hb_subset_preprocess
    except Exception:  # noqa: BLE001 - any other WeasyPrint, cffi or HarfBuzz: print as WeasyPrint does by itself
        return
    prepared: dict[tuple, object] = {}

    def subset_prepared(font, to_unicode, hinting):  # type: ignore[no-untyped-def]
        # The face's description, index, glyph count, units and size name one font file.
        face_key = (font.hash, font.index, font.glyph_count, font.upem, len(font.file_content))
        if face_key not in prepared:
            prepared[face_key] = ffi.gc(preprocess(font.hb_face), harfbuzz.hb_face_destroy)
        raw, font.hb_face = font.hb_face, prepared[face_key]
        try:
            subset(font, to_unicode, hinting)
        finally:
            font.hb_face = raw

    subset_prepared.prepared_faces = True  # type: ignore[attr-defined]
    pdf_fonts.Font._harfbuzz_subset = subset_prepared


def _print(job: tuple[str, str]) -> None:
    html, path = job
    write_atomic(Path(path), to_pdf(html))


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weasyprint")
    except PackageNotFoundError:
        return "missing"
