"""A tiny scene of shapes, text, pictures and QR codes, rendered to PNG (Pillow) and to SVG from one layout.

Both renderers take positions from the same numbers, so the PNG and the SVG of an entry image match. SVG text is
drawn as glyph outlines: the file prints the same on any machine, with no font installed and no tofu.
"""

from __future__ import annotations

import base64
import io
import math
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from .fonts import Face

ASCENT = 0.88  # Noto Sans CJK: ascender 880 of 1000 units


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    radius: float = 0


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    fill: str


@dataclass(frozen=True)
class Text:
    """One line of text; (x, top) is the top-left of its em box."""

    x: float
    top: float
    size: float
    text: str
    fill: str
    bold: bool = False


@dataclass(frozen=True)
class Picture:
    """A raster picture (a sponsor's logo), already decoded to RGBA."""

    x: float
    y: float
    w: float
    h: float
    image: Image.Image = field(compare=False)


@dataclass(frozen=True)
class Modules:
    """A QR code: dark modules of `matrix`, each `scale` wide, drawn from (x, y)."""

    x: float
    y: float
    scale: float
    matrix: tuple[tuple[bool, ...], ...]
    fill: str = "#000000"


Shape = Rect | Circle | Polygon | Text | Picture | Modules


@dataclass
class Scene:
    width: int
    height: int
    title: str
    regular: Face
    bold: Face
    shapes: list[Shape] = field(default_factory=list)

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)

    def face(self, bold: bool) -> Face:
        return self.bold if bold else self.regular


def to_png(scene: Scene, scale: int = 1) -> bytes:
    """The scene as PNG, `scale` device pixels per unit (2 for a high-density screen)."""
    return to_pngs(scene, (scale,))[scale]


def to_pngs(scene: Scene, scales: tuple[int, ...] = (1,)) -> dict[int, bytes]:
    """The scene as PNG at each of `scales`.

    A drawing without pictures is painted straight into palette indexes (see `_indexed`): its few colours and the
    blends its text's anti-aliased edges make fit a palette, at a third of the bytes of full colour and with no
    search for one afterwards. A logo or mascot may hold any colours, so a scene with pictures stays in full colour.
    """
    flat = not any(isinstance(shape, Picture) for shape in scene.shapes)
    out: dict[int, bytes] = {}
    for k in sorted(scales):
        image = _indexed(scene, k) if flat else None
        buf = io.BytesIO()
        if image is not None:
            # A palette image is mostly runs of one index: run-length zlib compresses it in half the time of the
            # default strategy, for about a tenth more bytes.
            image.save(buf, "PNG", compress_level=6, compress_type=zlib.Z_RLE)
        elif flat:  # more colours than a palette holds (text over text, many fills): the nearest 256
            image = _raster(scene, k).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            image.save(buf, "PNG", compress_level=6, compress_type=zlib.Z_RLE)
        else:
            _raster(scene, k).save(buf, "PNG", compress_level=5)
        out[k] = buf.getvalue()
    return out


# Shades of a text's anti-aliased edge over each colour under it: 16 steps of coverage err by at most 1/30 of the
# contrast, less than the 256 colours found afterwards by a search erred by, and leave room in a palette for a
# dozen pairs of text and ground.
COVERAGE_STEPS = 16


class _NotIndexed(Exception):
    """More colours than a palette holds, or text that ImageDraw would set in several lines."""


class _Palette:
    """Colours by index, each blend of a text's colour over a ground made once."""

    def __init__(self) -> None:
        self.colours: list[tuple[int, int, int]] = []
        self._index: dict[tuple[int, int, int], int] = {}
        self._blends: dict[tuple[tuple[int, int, int], int], np.ndarray] = {}

    def __call__(self, colour: tuple[int, int, int]) -> int:
        found = self._index.get(colour)
        if found is None:
            if len(self.colours) == 256:
                raise _NotIndexed
            found = self._index[colour] = len(self.colours)
            self.colours.append(colour)
        return found

    def blends(self, ink: tuple[int, int, int], ground: int) -> np.ndarray:
        """The indexes Pillow's colours take where a glyph covers 0, 1/(STEPS-1) ... all of a pixel of `ground`."""
        found = self._blends.get((ink, ground))
        if found is None:
            under = self.colours[ground]
            found = np.empty(COVERAGE_STEPS, np.uint8)
            for step in range(COVERAGE_STEPS):
                a = step * 255 // (COVERAGE_STEPS - 1)
                found[step] = self(tuple(u + ((i - u) * a + 127) // 255 for i, u in zip(ink, under)))  # type: ignore[arg-type]
            self._blends[(ink, ground)] = found
        return found


def _indexed(scene: Scene, k: int) -> Image.Image | None:
    """The scene at `k` pixels a unit, painted in palette indexes; None when its colours do not fit a palette.

    Fills are painted by index exactly where `_raster` paints them (Pillow's shapes are not anti-aliased). Text is
    the one anti-aliased thing: each glyph mask's coverage, in COVERAGE_STEPS steps, picks the blend of the text's
    colour over the index already under each pixel.
    """
    palette = _Palette()
    rgb = _rgb  # a local name: looked up once per shape
    image = Image.new("L", (scene.width * k, scene.height * k), palette(rgb("#ffffff")))
    draw = ImageDraw.Draw(image)
    try:
        for shape in scene.shapes:
            if isinstance(shape, Rect):
                box = (round(shape.x * k), round(shape.y * k), round((shape.x + shape.w) * k) - 1,
                       round((shape.y + shape.h) * k) - 1)
                if shape.radius:
                    draw.rounded_rectangle(box, radius=round(shape.radius * k), fill=palette(rgb(shape.fill)))
                else:
                    draw.rectangle(box, fill=palette(rgb(shape.fill)))
            elif isinstance(shape, Circle):
                draw.ellipse(((shape.cx - shape.r) * k, (shape.cy - shape.r) * k, (shape.cx + shape.r) * k,
                              (shape.cy + shape.r) * k), fill=palette(rgb(shape.fill)))
            elif isinstance(shape, Polygon):
                draw.polygon([(round(x * k), round(y * k)) for x, y in shape.points], fill=palette(rgb(shape.fill)))
            elif isinstance(shape, Text):
                _indexed_text(image, palette, scene, shape, k)
            elif isinstance(shape, Modules):
                step = max(1, int(shape.scale * k))
                image.paste(palette(rgb(shape.fill)), (round(shape.x * k), round(shape.y * k)),
                            _modules_mask(shape.matrix, step))
            else:
                return None
    except _NotIndexed:
        return None
    image.putpalette([c for colour in palette.colours for c in colour])
    return image


def _indexed_text(image: Image.Image, palette: _Palette, scene: Scene, shape: Text, k: int) -> None:
    """Paint one line of text into indexes where ImageDraw.text would paint it (anchor "ls", the same mask)."""
    if "\n" in shape.text:
        raise _NotIndexed  # ImageDraw sets several lines itself; never drawn here
    font = scene.face(shape.bold).pil(max(1, round(shape.size * k)))
    x, y = shape.x * k, (shape.top + ASCENT * shape.size) * k
    mask_core, offset = font.getmask2(shape.text, "L", None, None, None, 0, "ls", 0, (math.modf(x)[0],
                                      math.modf(y)[0]), stroke_filled=True)
    left, top = int(x) + offset[0], int(y) + offset[1]
    w, h = mask_core.size
    # The part of the mask inside the image.
    x0, y0, x1, y1 = max(0, left), max(0, top), min(image.width, left + w), min(image.height, top + h)
    if x0 >= x1 or y0 >= y1:
        return
    steps = _coverage(mask_core)[y0 - top:y1 - top, x0 - left:x1 - left]
    box = (x0, y0, x1, y1)
    ground = np.asarray(image.crop(box))
    ink = _rgb(shape.fill)
    table = _UNCOVERED.copy()  # by ground * STEPS + step
    low, high = int(ground.min()), int(ground.max())
    grounds = [low] if low == high else np.flatnonzero(np.bincount(ground[steps > 0], minlength=256)).tolist()
    for g in grounds:
        table[g * COVERAGE_STEPS:(g + 1) * COVERAGE_STEPS] = palette.blends(ink, g)
    pairs = ground.astype(np.uint16) * COVERAGE_STEPS + steps
    image.paste(Image.fromarray(np.take(table, pairs)), box)


_UNCOVERED = np.repeat(np.arange(256, dtype=np.uint8), COVERAGE_STEPS)  # no coverage: the ground stays

_COVERAGE: dict[int, tuple[object, np.ndarray]] = {}


def _coverage(mask_core: object) -> np.ndarray:
    """A glyph mask's coverage in COVERAGE_STEPS steps. The fonts hand out one mask for every repeat of a line, so
    it is computed once per mask (kept with the mask, whose id cannot be reused while it is held here)."""
    found = _COVERAGE.get(id(mask_core))
    if found is None:
        if len(_COVERAGE) >= 512:
            _COVERAGE.clear()
        # The mask is Pillow's own image core, as ImageDraw.text takes it: wrapped to be read as an array.
        mask = np.asarray(Image.Image()._new(mask_core))
        found = _COVERAGE[id(mask_core)] = (mask_core, ((mask.astype(np.uint16) * (COVERAGE_STEPS - 1) + 127)
                                                        // 255).astype(np.uint8))
    return found[1]


@lru_cache(maxsize=64)
def _rgb(colour: str) -> tuple[int, int, int]:
    return ImageColor.getrgb(colour)[:3]  # type: ignore[return-value]


def _raster(scene: Scene, k: int) -> Image.Image:
    image = Image.new("RGB", (scene.width * k, scene.height * k), "#ffffff")
    draw = ImageDraw.Draw(image)
    for shape in scene.shapes:
        if isinstance(shape, Rect):
            box = (round(shape.x * k), round(shape.y * k), round((shape.x + shape.w) * k) - 1, round((shape.y + shape.h) * k) - 1)
            if shape.radius:
                draw.rounded_rectangle(box, radius=round(shape.radius * k), fill=shape.fill)
            else:
                draw.rectangle(box, fill=shape.fill)
        elif isinstance(shape, Circle):
            draw.ellipse(((shape.cx - shape.r) * k, (shape.cy - shape.r) * k, (shape.cx + shape.r) * k,
                          (shape.cy + shape.r) * k), fill=shape.fill)
        elif isinstance(shape, Polygon):
            draw.polygon([(round(x * k), round(y * k)) for x, y in shape.points], fill=shape.fill)
        elif isinstance(shape, Text):
            font = scene.face(shape.bold).pil(max(1, round(shape.size * k)))
            draw.text((shape.x * k, (shape.top + ASCENT * shape.size) * k), shape.text, font=font, fill=shape.fill,
                      anchor="ls")
        elif isinstance(shape, Picture):
            picture = shape.image.resize((round(shape.w * k), round(shape.h * k)), Image.Resampling.LANCZOS)
            image.paste(picture, (round(shape.x * k), round(shape.y * k)), picture)
        elif isinstance(shape, Modules):
            # Whole pixels per module keep every edge sharp, which QR readers need.
            step = max(1, int(shape.scale * k))
            image.paste(shape.fill, (round(shape.x * k), round(shape.y * k)), _modules_mask(shape.matrix, step))
    return image


@lru_cache(maxsize=16)
def _modules_mask(matrix: tuple[tuple[bool, ...], ...], step: int) -> Image.Image:
    """The dark modules as a mask, `step` pixels a module: painting through it sets exactly the pixels that a
    filled square per module would, in one call instead of hundreds."""
    side = len(matrix)
    cells = Image.frombytes("L", (side, side), bytes(255 if dark else 0 for row in matrix for dark in row))
    return cells.resize((side * step, side * step), Image.Resampling.NEAREST)


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def to_svg(scene: Scene) -> str:
    defs: dict[str, str] = {}
    body: list[str] = []
    for shape in scene.shapes:
        if isinstance(shape, Rect):
            radius = f' rx="{_n(shape.radius)}"' if shape.radius else ""
            body.append(
                f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" height="{_n(shape.h)}"{radius} fill="{shape.fill}"/>'
            )
        elif isinstance(shape, Circle):
            body.append(f'<circle cx="{_n(shape.cx)}" cy="{_n(shape.cy)}" r="{_n(shape.r)}" fill="{shape.fill}"/>')
        elif isinstance(shape, Polygon):
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
            body.append(f'<polygon points="{points}" fill="{shape.fill}"/>')
        elif isinstance(shape, Text):
            body.append(_svg_text(scene.face(shape.bold), shape, defs))
        elif isinstance(shape, Picture):
            buf = io.BytesIO()
            # Twice the drawn size keeps the logo sharp in print without bloating the file.
            shape.image.resize((round(shape.w * 2), round(shape.h * 2)), Image.Resampling.LANCZOS).save(buf, "PNG")
            data = base64.b64encode(buf.getvalue()).decode()
            body.append(
                f'<image x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" height="{_n(shape.h)}" '
                f'href="data:image/png;base64,{data}"/>'
            )
        elif isinstance(shape, Modules):
            body.append(modules_path(shape))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
        f'viewBox="0 0 {scene.width} {scene.height}" role="img" aria-label={quoteattr(scene.title)}>'
        f"<title>{escape(scene.title)}</title>"
    )
    glyphs = "".join(f'<path id="{gid}" d="{d}"/>' for gid, d in sorted(defs.items()))
    return head + (f"<defs>{glyphs}</defs>" if glyphs else "") + "".join(body) + "</svg>\n"


def _svg_text(face: Face, shape: Text, defs: dict[str, str]) -> str:
    scale = shape.size / face.upm
    prefix = "b" if shape.bold else "r"
    uses = []
    x = shape.x
    for ch in shape.text:
        if not ch.isspace():
            glyph = face.glyph_name(ch)
            gid = f"{prefix}{glyph.replace('.', '_')}"
            if gid not in defs:
                defs[gid] = face.outline(glyph)
            uses.append(f'<use href="#{gid}" x="{_n(x / scale)}"/>')
        x += face.advance(ch) * shape.size
    baseline = shape.top + ASCENT * shape.size
    return (
        f'<g fill="{shape.fill}" transform="translate(0 {_n(baseline)}) scale({scale:.6f} {-scale:.6f})">'
        + "".join(uses)
        + "</g>"
    )


def modules_path(shape: Modules) -> str:
    """All dark modules as one path of horizontal runs: small and crisp at any print size."""
    parts = []
    s = shape.scale
    for r, row in enumerate(shape.matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                parts.append(f"M{_n(shape.x + start * s)} {_n(shape.y + r * s)}h{_n((c - start) * s)}v{_n(s)}h{_n(-(c - start) * s)}z")
            else:
                c += 1
    return f'<path fill="{shape.fill}" d="{"".join(parts)}"/>'
