"""The CJK typeface used on every image: found on disk, measured with fontTools, drawn by Pillow or as SVG paths.

Noto Sans CJK ships as a collection; face 'SC' (Simplified Chinese) is picked by name so that glyph variants match
mainland usage.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.ttLib import TTFont
from PIL import ImageFont

_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk")
_FILES = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}


class FontMissing(Exception):
    """No usable CJK font: the message says how to install one."""


@dataclass
class Face:
    """One weight of the typeface."""

    path: Path
    index: int
    _pil: dict[int, ImageFont.FreeTypeFont] = field(default_factory=dict, repr=False)

    @cached_property
    def _tt(self) -> TTFont:
        return TTFont(self.path, fontNumber=self.index, lazy=True)

    @cached_property
    def cmap(self) -> dict[int, str]:
        return self._tt.getBestCmap()

    @cached_property
    def upm(self) -> int:
        return self._tt["head"].unitsPerEm

    @cached_property
    def _hmtx(self) -> dict[str, tuple[int, int]]:
        return self._tt["hmtx"].metrics

    @cached_property
    def _glyphs(self):  # type: ignore[no-untyped-def]
        return self._tt.getGlyphSet()

    def glyph_name(self, ch: str) -> str:
        return self.cmap.get(ord(ch)) or ".notdef"

    def can_draw(self, ch: str) -> bool:
        return ch.isspace() or ord(ch) in self.cmap

    def advance(self, ch: str) -> float:
        """Advance width in em."""
        return self._hmtx[self.glyph_name(ch)][0] / self.upm

    def width(self, text: str, size: float) -> float:
        return sum(self.advance(ch) for ch in text) * size

    def outline(self, glyph: str) -> str:
        """The glyph's outline as SVG path data in font units (y up)."""
        pen = SVGPathPen(self._glyphs)
        self._glyphs[glyph].draw(pen)
        return pen.getCommands()

    def pil(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._pil:
            # BASIC layout places glyphs by their advance widths, the same numbers the SVG renderer uses.
            self._pil[size] = ImageFont.truetype(
                str(self.path), size, index=self.index, layout_engine=ImageFont.Layout.BASIC
            )
        return self._pil[size]


@dataclass
class Typeface:
    regular: Face
    bold: Face

    def can_draw(self, ch: str) -> bool:
        return self.regular.can_draw(ch) and self.bold.can_draw(ch)

    @cached_property
    def digest(self) -> str:
        """Hash of the font files' bytes: part of every image's cache key."""
        h = hashlib.sha256()
        for face in (self.regular, self.bold):
            h.update(f"{face.path.name}:{face.index}:".encode())
            with open(face.path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()


def _sc_index(path: Path) -> int:
    """Index of the Simplified Chinese face in a collection (0 for a single font)."""
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
        faces[weight] = Face(path, _sc_index(path))
    return Typeface(**faces)
