"""The 授权书 and 邀请函 as PDF: each sponsor's documents printed to A4 by WeasyPrint from the same HTML and style
sheet as their pages, cached like the images under the hash of what they print.

WeasyPrint embeds the subset of each font a document uses, so a PDF shows the same on a machine without CJK fonts.
It subsets in proportion to the whole face, 65,000 glyphs for a CJK one, however few a document shows: the printer
is given each weight of the documents' serif reduced once to the 7,900 characters in common use (`fonts.reduced`,
kept in the cache), named first in the print style sheet, with the whole face after it for a rare character.
Printing takes about 40 ms of CPU a document; a full campaign's few hundred are spread over all cores.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import fonts, images, pages
from lambdas.files import write_atomic

from .cache import Asset, Store, key
from .model import SponsorList

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

PRINTER_VERSION = "2"  # change to print every document again
FAMILY = "Common Serif SC"  # the reduced faces' name in the print style sheet (document_print.html.j2)
_WEIGHTS = {"regular": 400, "bold": 700}


class Face(NamedTuple):
    """A weight of the documents' serif reduced to the common characters: made from face `index` of the file at
    `source`, kept at `path` (named by the source's digest, the characters and the reducer's version)."""

    weight: int
    source: str
    index: int
    path: str


class Job(NamedTuple):
    html: str
    path: str  # where the PDF goes
    faces: tuple[Face, ...]


def plan(sl: SponsorList, store: Store) -> tuple[dict[str, list[Asset]], list[Job]]:
    """Each sponsor's document files, and the jobs printing those not printed yet."""
    mark = "data:image/svg+xml;base64," + base64.b64encode(images.campaign_mark_svg(sl.campaign.title).encode()).decode()
    engine = _engine_version()
    faces = reduced_faces(store)
    face_names = [Path(face.path).name for face in faces]
    present = store.listing()
    files: dict[str, list[Asset]] = {}
    missing: list[Job] = []
    for sponsor in sl.sponsors:
        files[sponsor.slug] = []
        for name, html in pages.printable(sl, sponsor, mark).items():
            path = store.path(key("document", html, engine, PRINTER_VERSION, face_names), "pdf")
            files[sponsor.slug].append(Asset(pages.pdf_path(sponsor.slug, name), path))
            if path not in present:
                missing.append(Job(html, path, faces))
    return files, missing


def reduced_faces(store: Store) -> tuple[Face, ...]:
    """The reduced faces of the documents' serif, made or not yet (see `make_faces`); none where it is not found."""
    charset = hashlib.sha256(fonts.common_charset().encode()).hexdigest()
    found = []
    for weight, source in fonts.document_font_files().items():
        digest, index = fonts.identify(source, store.root / "font-ids")
        path = store.path(key("document-font", digest, index, charset, fonts.REDUCER_VERSION), "otf")
        found.append(Face(_WEIGHTS[weight], str(source), index, path))
    return tuple(found)


def make_faces(faces: tuple[Face, ...]) -> tuple[Face, ...]:
    """Make the reduced faces not in the cache yet: those that could be made or were there already."""
    made = []
    for face in faces:
        if not Path(face.path).exists():
            data = fonts.reduced(Path(face.source), face.index, fonts.common_charset())
            if data is None:
                continue  # HarfBuzz cannot subset here: the whole face serves
            write_atomic(Path(face.path), data)
        made.append(face)
    return tuple(made)


def print_missing(jobs: list[Job], workers: int | None = None) -> None:
    """Print every job, on all cores when there are enough to pay for the processes; the reduced faces they use are
    made first, once, by this process."""
    usable = {faces: make_faces(faces) for faces in {job.faces for job in jobs}}
    jobs = [job._replace(faces=usable[job.faces]) for job in jobs]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 16:
        for job in jobs:
            _print(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_print, jobs, chunksize=max(1, len(jobs) // (workers * 4))))


def to_pdf(html: str, faces: tuple[Face, ...] = ()) -> bytes:
    """The document `html` printed, the reduced `faces` (made already) given to it under `FAMILY`."""
    from weasyprint import HTML  # only when something is printed: it takes a second to import

    config = _printer_fonts()
    return HTML(string=html).write_pdf(font_config=config, stylesheets=_face_rules(faces, config))


_fonts: dict[int, FontConfiguration] = {}  # by process: a forked worker starts its own
_rules: dict[tuple[Face, ...], list[CSS]] = {}  # by process too: cleared with `_fonts`


def _face_rules(faces: tuple[Face, ...], config: FontConfiguration) -> list[CSS]:
    """The @font-face rules naming the reduced faces, read once per process and set of faces: WeasyPrint loads a
    face when it reads its rule."""
    found = _rules.get(faces)
    if found is None:
        from weasyprint import CSS

        rules = "".join(f'@font-face {{ font-family: "{FAMILY}"; font-weight: {face.weight}; '
                        f'src: url("{Path(face.path).as_uri()}"); }}\n' for face in faces)
        found = _rules[faces] = [CSS(string=rules, font_config=config)] if rules else []
    return found


def _printer_fonts() -> FontConfiguration:
    """One font configuration for every document a process prints, so that the CJK fonts are looked up and loaded
    once rather than for each document (the same fonts, the same bytes: about a seventh of a document's time);
    and WeasyPrint's font subsetting starts from a face prepared once (see `_subset_from_prepared_faces`)."""
    pid = os.getpid()
    if pid not in _fonts:
        from weasyprint.text.fonts import FontConfiguration

        _subset_from_prepared_faces()
        _fonts.clear()
        _rules.clear()
        _fonts[pid] = FontConfiguration()
        # Released while the interpreter is whole: left to its shutdown, its finaliser runs after the modules it
        # calls are gone and prints a TypeError.
        atexit.register(_release_fonts)
    return _fonts[pid]


def _release_fonts() -> None:
    _rules.clear()
    _fonts.clear()


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


def _print(job: Job) -> None:
    write_atomic(Path(job.path), to_pdf(job.html, job.faces))


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weasyprint")
    except PackageNotFoundError:
        return "missing"
