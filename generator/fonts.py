"""The CJK typeface used on every image: found on disk, measured with fontTools, drawn by Pillow or as SVG paths.

Noto Sans CJK ships as a collection; face 'SC' (Simplified Chinese) is picked by name so that glyph variants match
mainland usage.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdas.files import write_atomic

if TYPE_CHECKING:
    from fontTools.ttLib import TTFont
    from PIL import ImageFont

# fontTools and Pillow are imported where a font file is actually read: a rebuild served from the cache needs neither.

_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk")
_FILES = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}


class FontMissing(Exception):
    """No usable CJK font: the message says how to install one."""


@dataclass
class Face:
    """One weight of the typeface.

    What the layout needs from the font file (character map, advance widths, glyph outlines) is read with fontTools
    once and kept in the cache folder next to the drawings, keyed by the file's path, size and modification time:
    parsing a 20 MB CJK collection costs more than drawing one sponsor's images.
    """

    path: Path
    index: int
    data: dict = field(default_factory=dict, repr=False)
    changed: bool = False  # read something from the file that the cache does not have yet
    new_outlines: dict[str, str] = field(default_factory=dict, repr=False)
    _pil: dict[int, ImageFont.FreeTypeFont] = field(default_factory=dict, repr=False)
    _em: dict[str, float] = field(default_factory=dict, repr=False)  # advance widths by character, in em

    @cached_property
    def _tt(self) -> TTFont:
        from fontTools.ttLib import TTFont

        # fontTools reads each table when it is first used, some of them in the image workers forked after the build
        # read the character map. Workers that inherit an open file share its offset and read each other's tables
        # ("unexpected end of 'vmtx' table data"); a memory map keeps its position in each process's own memory.
        with open(self.path, "rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        return TTFont(mapped, fontNumber=self.index, lazy=True)

    @cached_property
    def _glyphs(self) -> Mapping[str, Any]:
        return self._tt.getGlyphSet()

    def _read(self) -> None:
        """Fill `data` from the font file itself, and load what drawing outlines needs (the glyph set: outlines'
        index, vertical metrics): the build reads the data before it forks its image workers, so that they inherit
        all this rather than each parse the outlines' index again (0.2 s a weight)."""
        hmtx = self._tt["hmtx"].metrics
        self.data.update(
            cmap=self._tt.getBestCmap(), upm=self._tt["head"].unitsPerEm,
            advances={name: metric[0] for name, metric in hmtx.items()}, outlines={},
        )
        self.changed = True
        _ = self._glyphs

    def _get(self, name: str):  # type: ignore[no-untyped-def]
        if name not in self.data:
            self._read()
        return self.data[name]

    @property
    def cmap(self) -> dict[int, str]:
        return self._get("cmap")

    @property
    def upm(self) -> int:
        return self._get("upm")

    def glyph_name(self, ch: str) -> str:
        return self.cmap.get(ord(ch)) or ".notdef"

    def can_draw(self, ch: str) -> bool:
        return ch.isspace() or ord(ch) in self.cmap

    def advance(self, ch: str) -> float:
        """Advance width in em."""
        found = self._em.get(ch)
        if found is None:
            found = self._em[ch] = self._get("advances")[self.glyph_name(ch)] / self.upm
        return found

    def width(self, text: str, size: float) -> float:
        return sum(self.advance(ch) for ch in text) * size

    def outline(self, glyph: str) -> str:
        """The glyph's outline as SVG path data in font units (y up)."""
        outlines = self._get("outlines")
        if glyph not in outlines:
            from fontTools.pens.svgPathPen import SVGPathPen

            pen = SVGPathPen(self._glyphs)
            self._glyphs[glyph].draw(pen)
            outlines[glyph] = self.new_outlines[glyph] = pen.getCommands()
            self.changed = True
        return outlines[glyph]

    def pil(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._pil:
            from PIL import ImageFont

            # BASIC layout places glyphs by their advance widths, the same numbers the SVG renderer uses.
            self._pil[size] = _remembering_font()(str(self.path), size, index=self.index,
                                                  layout_engine=ImageFont.Layout.BASIC)
        return self._pil[size]


MASKS_KEPT = 512  # rendered lines a font remembers: every size and design of one sponsor's images, and then some


@lru_cache(maxsize=1)
def _remembering_font() -> type[ImageFont.FreeTypeFont]:
    """Pillow's font, remembering the lines it rendered.

    Every sponsor's images carry the same title, slogan, dates and button at the same sizes and places, and
    rendering CJK glyphs is most of the time spent drawing an image. A line rendered again from the same arguments
    (text, mode, anchor, the position's fraction of a pixel...) gives the same mask, so it is taken from memory.
    """
    from PIL import ImageFont

    class RememberingFont(ImageFont.FreeTypeFont):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._masks: dict[Any, Any] = {}

        def getmask2(self, *args: Any, **kwargs: Any) -> Any:
            if (args[1] if len(args) > 1 else kwargs.get("mode")) == "RGBA":
                return super().getmask2(*args, **kwargs)  # colour glyphs: Pillow changes that bitmap as it draws
            try:
                key = (args, tuple(sorted(kwargs.items())))
                hash(key)
            except TypeError:  # a list of features: not worth remembering
                return super().getmask2(*args, **kwargs)
            found = self._masks.get(key)
            if found is None:
                if len(self._masks) >= MASKS_KEPT:
                    self._masks.clear()
                found = self._masks[key] = super().getmask2(*args, **kwargs)
            return found

    return RememberingFont


@dataclass
class Typeface:
    regular: Face
    bold: Face

    def can_draw(self, ch: str) -> bool:
        return self.regular.can_draw(ch) and self.bold.can_draw(ch)

    @property
    def digest(self) -> str:
        """Hash of the font files' bytes: part of every image's cache key."""
        return hashlib.sha256("".join(face.data["digest"] for face in (self.regular, self.bold)).encode()).hexdigest()

    def take_new_outlines(self) -> dict[str, dict[str, str]]:
        """Outlines read since the last call, by weight: a worker process hands them to the main one to keep."""
        taken = {"regular": self.regular.new_outlines, "bold": self.bold.new_outlines}
        self.regular.new_outlines, self.bold.new_outlines = {}, {}
        return taken

    def add_outlines(self, outlines: dict[str, dict[str, str]]) -> None:
        for weight, found in outlines.items():
            face: Face = getattr(self, weight)
            if found and set(found) - face._get("outlines").keys():
                face.data["outlines"].update(found)
                face.changed = True

    def save(self) -> None:
        """Keep what was read from the font files (outlines drawn this build included) for the next build."""
        if _cache_dir is None:
            return
        for face in (self.regular, self.bold):
            if face.changed:
                write_atomic(_cache_dir / f"{_signature(face.path)}.pickle",
                             pickle.dumps({**face.data, "index": face.index}, protocol=pickle.HIGHEST_PROTOCOL))
                face.changed = False


_cache_dir: Path | None = None


def use_cache(folder: Path | None) -> None:
    """Keep font data under `folder` from now on (None: read the font files every time)."""
    global _cache_dir
    if folder != _cache_dir:
        _cache_dir = folder
        typeface.cache_clear()


def cache_folder() -> Path | None:
    """Where font data is kept (None: nowhere); other text data read at drawing time is kept beside it."""
    return _cache_dir


def _signature(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _face(path: Path) -> Face:
    if _cache_dir is not None:
        try:
            data = pickle.loads((_cache_dir / f"{_signature(path)}.pickle").read_bytes())
            return Face(path, data.pop("index"), data)
        except (OSError, pickle.PickleError, EOFError, KeyError):
            pass
    return Face(path, _sc_index(path), {"digest": _file_digest(path)})


def _sc_index(path: Path) -> int:
    """Index of the Simplified Chinese face in a collection (0 for a single font)."""
    from fontTools.ttLib import TTFont

    for index in range(16):
        try:
            font = TTFont(path, fontNumber=index, lazy=True)
        except Exception:  # noqa: BLE001 - fontTools signals the end of a collection with various errors
            break
        if " SC" in (font["name"].getDebugName(1) or ""):
            return index
    return 0


def _find(weight: str) -> Path:
    override = os.environ.get(f"SURVEY_FONT_{weight.upper()}")
    if override:
        return Path(override)
    for folder in _DIRS:
        candidate = Path(folder) / _FILES[weight]
        if candidate.is_file():
            return candidate
    raise FontMissing(
        f"no CJK font found ({_FILES[weight]} in {', '.join(_DIRS)}). "
        "Fix: install it with 'apt-get install fonts-noto-cjk', "
        f"or point SURVEY_FONT_{weight.upper()} at a font that covers Simplified Chinese"
    )


def font_files() -> list[Path]:
    """The font files in use, found without opening them."""
    return [_find(weight) for weight in ("regular", "bold")]


@lru_cache(maxsize=1)
def typeface() -> Typeface:
    """The typeface, loaded once per process."""
    faces = {}
    for weight in ("regular", "bold"):
        path = _find(weight)
        if not path.is_file():
            raise FontMissing(f"font file {path} does not exist. Fix: correct SURVEY_FONT_{weight.upper()}")
        faces[weight] = _face(path)
    return Typeface(**faces)



# The documents (授权书, 邀请函) are set in the serif their style sheet names first. A printed document embeds the
# subset of each face it uses, and HarfBuzz subsets in proportion to the face's 65,000 glyphs however few a document
# shows: the printer is given the face reduced once to the characters in common use, the whole face behind it for a
# rare one (see documents.py).
_DOCUMENT_FILES = {"regular": "NotoSerifCJK-Regular.ttc", "bold": "NotoSerifCJK-Bold.ttc"}
REDUCER_VERSION = "1"  # change when what `reduced` keeps changes


def document_font_files() -> dict[str, Path]:
    """The serif faces the documents are printed in, by weight, for the weights found (none found: the printer
    finds its fonts by itself, as before)."""
    found = {}
    for weight, name in _DOCUMENT_FILES.items():
        override = os.environ.get(f"SURVEY_DOCUMENT_FONT_{weight.upper()}")
        candidates = [Path(override)] if override else [Path(folder) / name for folder in _DIRS]
        path = next((p for p in candidates if p.is_file()), None)
        if path is not None:
            found[weight] = path
    return found


@lru_cache(maxsize=1)
def common_charset() -> str:
    """The characters a reduced face keeps, in code point order: every character of GB 2312 (its 6,763 hanzi,
    punctuation, full-width forms, kana...), ASCII and Latin-1, general and CJK punctuation, full-width forms. Fixed,
    so that one reduced face serves every sponsor list."""
    chars = {chr(c) for c in (*range(0x20, 0x7F), *range(0xA0, 0x100), *range(0x2000, 0x2070), *range(0x3000, 0x3040),
                              *range(0xFF00, 0xFFF0))}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # an unassigned code
    return "".join(sorted(chars))


def identify(path: Path, memo: Path) -> tuple[str, int]:
    """The font file's sha256 and the index of its Simplified Chinese face, kept at `memo` (a folder) under the
    file's path, size and modification time: hashing 26 MB on every build would cost more than it saves."""
    kept = memo / f"{_signature(path)}.txt"
    try:
        digest, index = kept.read_text().split()
        return digest, int(index)
    except (OSError, ValueError):
        pass
    digest, index = _file_digest(path), _sc_index(path)
    write_atomic(kept, f"{digest} {index}".encode())
    return digest, index


def harfbuzz_version() -> str | None:
    """The version of the HarfBuzz that reduces faces (part of a reduced face's key), None where it cannot."""
    hb = _harfbuzz()
    return None if hb is None else hb[0].string(hb[1].hb_version_string()).decode()


def reduced(path: Path, index: int, chars: str) -> bytes | None:
    """Face `index` of the font file at `path`, holding only the glyphs of `chars` and those its layout features
    (the ones HarfBuzz applies by default: local forms, kerning...) lead to from them, so that text in these
    characters is shaped and drawn as with the whole face. None where HarfBuzz cannot subset."""
    hb = _harfbuzz()
    if hb is None:
        return None
    ffi, harfbuzz, subset = hb
    blob = harfbuzz.hb_blob_create_from_file_or_fail(str(path).encode())
    if blob == ffi.NULL:
        return None
    blob = ffi.gc(blob, harfbuzz.hb_blob_destroy)
    face = ffi.gc(harfbuzz.hb_face_create(blob, index), harfbuzz.hb_face_destroy)
    wanted = ffi.gc(subset.hb_subset_input_create_or_fail(), subset.hb_subset_input_destroy)
    codes = sorted(ord(ch) for ch in chars)
    harfbuzz.hb_set_add_sorted_array(subset.hb_subset_input_set(wanted, subset.HB_SUBSET_SETS_UNICODE),
                                     ffi.new("hb_codepoint_t[]", codes), len(codes))
    made = subset.hb_subset_or_fail(face, wanted)
    if made == ffi.NULL:
        return None
    made = ffi.gc(made, harfbuzz.hb_face_destroy)
    data = ffi.gc(harfbuzz.hb_face_reference_blob(made), harfbuzz.hb_blob_destroy)
    length = ffi.new("unsigned int *")
    pointer = harfbuzz.hb_blob_get_data(data, length)
    return None if pointer == ffi.NULL or not length[0] else _cids_are_glyph_ids(ffi.unpack(pointer, length[0]))


def _cids_are_glyph_ids(font: bytes) -> bytes:
    """The font with its CFF charset made the identity, each glyph's CID its glyph index, as in the whole face.

    The subset keeps each glyph's CID from the whole face (网: glyph 5,160, CID 31,761). WeasyPrint writes glyph
    indexes as CIDs, and a viewer that follows the PDF standard finds a CID-keyed CFF glyph through the charset:
    CID 5,160 would be another character. The identity charset (format 2, one range) is 5 bytes, never more than
    the one it replaces, so it is written in its place and no offset moves; then the checksums are set again."""
    import io
    import struct

    from fontTools.ttLib import TTFont

    parsed = TTFont(io.BytesIO(font), lazy=True)
    top = parsed["CFF "].cff.topDictIndex[0]
    if not hasattr(top, "ROS") or parsed["maxp"].numGlyphs < 2:
        return font  # not CID-keyed: glyphs are found by index already
    data = bytearray(font)
    entry = _table_entry(data, b"CFF ")
    start, length = struct.unpack_from(">II", data, entry + 8)
    struct.pack_into(">BHH", data, start + top.rawDict["charset"], 2, 1, parsed["maxp"].numGlyphs - 2)
    struct.pack_into(">I", data, entry + 4, _checksum(data[start:start + length]))
    head = struct.unpack_from(">I", data, _table_entry(data, b"head") + 8)[0]
    struct.pack_into(">I", data, head + 8, 0)
    struct.pack_into(">I", data, head + 8, (0xB1B0AFBA - _checksum(data)) & 0xFFFFFFFF)
    return bytes(data)


def _table_entry(font: bytearray, tag: bytes) -> int:
    """Where the table directory's entry for `tag` starts."""
    import struct

    for at in range(12, 12 + 16 * struct.unpack_from(">H", font, 4)[0], 16):
        if font[at:at + 4] == tag:
            return at
    raise ValueError(f"no {tag!r} table")


def _checksum(data: bytes | bytearray) -> int:
    import struct

    padded = bytes(data) + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


@lru_cache(maxsize=1)
def _harfbuzz() -> tuple[Any, Any, Any] | None:
    """WeasyPrint's bindings of HarfBuzz and its subsetter, with the few functions `reduced` needs declared; None
    where WeasyPrint, HarfBuzz or its subsetter is missing or too old."""
    try:
        from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

        if not harfbuzz_subset or not harfbuzz.hb_version_atleast(4, 1, 0):
            return None
        declared = {
            "hb_blob_create_from_file_or_fail": "hb_blob_t * hb_blob_create_from_file_or_fail (const char *file_name);",
            "hb_face_create": "hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);",
            "hb_version_string": "const char * hb_version_string (void);",
        }
        for name, declaration in declared.items():
            try:
                getattr(harfbuzz, name)
            except AttributeError:
                ffi.cdef(declaration)
        for name in declared:
            getattr(harfbuzz, name)
    except Exception:  # noqa: BLE001 - any other WeasyPrint, cffi or HarfBuzz: print with the whole faces
        return None
    return ffi, harfbuzz, harfbuzz_subset
