"""The designs: entry images (问卷入口图片) at any size, the poster with its QR code, QR codes, sponsor marks.

Every function takes plain inputs and returns bytes; the same inputs always give the same bytes, which is what lets
the cache key on the inputs alone.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
import qrcode
from PIL import Image

from . import draw
from .draw import Circle, Modules, Picture, Polygon, Rect, Scene, Text
from .fonts import Face, typeface

# Bump when a design changes: it is part of every cache key, so old drawings are never reused by mistake.
RENDERER_VERSION = "3"

NAVY = "#0b3c8c"
NAVY_LIGHT = "#154a9e"
GOLD = "#ffc21a"
WHITE = "#ffffff"
PALE = "#d6e4ff"
INK = "#0b2a5c"
QR_BORDER = 4  # modules of quiet zone the QR specification asks for


@dataclass(frozen=True)
class EntryInputs:
    """Everything an entry image shows; its fields are the cache key."""

    width: int
    height: int
    title_parts: tuple[str, ...]
    slogan: str
    dates: str
    sponsor: str
    cta: str
    qr_url: str | None = None
    qr_label: str = "扫码参与调查"


def title_parts(year: int, name: str) -> tuple[str, ...]:
    """Phrases a title may break between: '2020' / '网民网络安全感' / '满意度调查'."""
    return (str(year), *[p for p in re.split(r"(?=满意度)", name) if p])


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of `url` without its quiet zone (medium error correction survives print and glare)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in code.get_matrix())


def qr_scene(url: str, label: str, scale: int = 10) -> Scene:
    matrix = qr_matrix(url)
    side = (len(matrix) + 2 * QR_BORDER) * scale
    face = typeface()
    scene = Scene(side, side, label, face.regular, face.bold)
    scene.add(Rect(0, 0, side, side, WHITE), Modules(QR_BORDER * scale, QR_BORDER * scale, scale, matrix))
    return scene


def qr_png(url: str, label: str) -> bytes:
    return draw.to_png(qr_scene(url, label))


def qr_svg(url: str, label: str) -> str:
    return draw.to_svg(qr_scene(url, label))


# ---- text fitting -------------------------------------------------------------------------------------------

_ATOM = re.compile(r"[A-Za-z0-9@._:/+-]+|\s+|.", re.S)
_NO_LINE_START = set("，。、；：！？）》」』”’,.;:!?)…—")


def _units(text: str) -> list[str]:
    """Break opportunities: a Latin word stays whole, CJK breaks between characters, punctuation stays attached."""
    units: list[str] = []
    for atom in _ATOM.findall(text):
        if units and atom[0] in _NO_LINE_START:
            units[-1] += atom
        else:
            units.append(atom)
    return units


def wrap(face: Face, phrases: tuple[str, ...] | list[str], size: float, max_w: float) -> list[str]:
    """Greedy line filling over phrases; a phrase wider than a line is broken into its units."""
    lines: list[str] = []
    current = ""
    pieces: list[str] = []
    for phrase in phrases:
        pieces.extend([phrase] if face.width(phrase, size) <= max_w else _units(phrase))
    for piece in pieces:
        if current and face.width((current + piece).rstrip(), size) > max_w:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current += piece
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _ellipsize(face: Face, line: str, size: float, max_w: float) -> str:
    while line and face.width(line + "…", size) > max_w:
        line = line[:-1]
    return line + "…"


def fit(
    face: Face,
    phrases: tuple[str, ...] | list[str],
    max_w: float,
    max_h: float,
    *,
    max_lines: int = 1,
    max_size: float = 200,
    min_size: float = 9,
    leading: float = 1.2,
) -> tuple[float, list[str]]:
    """The largest size at which the text fits the box; below `min_size` the last line is cut with an ellipsis."""
    size = min(max_size, max_h / leading if max_lines == 1 else max_h)
    while size > min_size:
        lines = wrap(face, phrases, size, max_w)
        if len(lines) <= max_lines and len(lines) * size * leading <= max_h + 0.01 and all(
            face.width(line, size) <= max_w for line in lines
        ):
            return size, lines
        size *= 0.94
    size = min_size
    lines = wrap(face, phrases, size, max_w)
    if len(lines) > max_lines or any(face.width(line, size) > max_w for line in lines):
        kept = lines[:max_lines]
        kept[-1] = _ellipsize(face, kept[-1], size, max_w)
        lines = kept
    return size, lines


def text_block(
    face: Face, bold: bool, lines: list[str], size: float, x: float, top: float, fill: str,
    leading: float = 1.2, centred: bool = True,
) -> list[Text]:
    """Lines starting at `top`, centred on `x` or starting at it."""
    shapes = []
    for i, line in enumerate(lines):
        left = x - face.width(line, size) / 2 if centred else x
        shapes.append(Text(left, top + i * size * leading + (leading - 1) * size / 2, size, line, fill, bold))
    return shapes


# ---- marks --------------------------------------------------------------------------------------------------


def campaign_mark(x: float, y: float, s: float, face: Face) -> list[draw.Shape]:
    """The campaign's shield with 安 (safety): drawn, so it needs no file and scales to any size."""
    def shield(inset: float) -> tuple[tuple[float, float], ...]:
        pts = [(0.5, 0.0), (0.93, 0.14), (0.9, 0.55), (0.5, 1.0), (0.1, 0.55), (0.07, 0.14)]
        cx, cy = 0.5, 0.5
        return tuple((x + s * (cx + (px - cx) * (1 - inset)), y + s * (cy + (py - cy) * (1 - inset))) for px, py in pts)

    glyph = s * 0.46
    return [
        Polygon(shield(0), GOLD),
        Polygon(shield(0.16), WHITE),
        Text(x + s / 2 - face.width("安", glyph) / 2, y + s * 0.2, glyph, "安", NAVY, True),
    ]


def sponsor_badge(x: float, y: float, s: float, short_name: str, logo: Image.Image | None, face: Face) -> list[draw.Shape]:
    """The sponsor's logo on a white tile, or a clean text mark of its first two characters."""
    shapes: list[draw.Shape] = [Rect(x, y, s, s, WHITE, radius=s * 0.18)]
    if logo is not None:
        inner = s * 0.84
        ratio = logo.width / logo.height
        w, h = (inner, inner / ratio) if ratio >= 1 else (inner * ratio, inner)
        shapes.append(Picture(x + (s - w) / 2, y + (s - h) / 2, w, h, logo))
        return shapes
    mark = "".join(ch for ch in short_name if not ch.isspace())[:2] or "?"
    size, lines = fit(face, [mark], s * 0.8, s * 0.6, max_size=s * 0.42, min_size=1)
    shapes += text_block(face, True, lines, size, x + s / 2, y + (s - size * 1.2) / 2, NAVY)
    return shapes


def load_logo(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA")


def mark_scene(short_name: str, logo: bytes | None, title: str) -> Scene:
    """The sponsor's badge alone: SVG for its page header, a small PNG for the entry pages (an SVG holding a logo
    carries the logo's pixels as base64, several times the PNG's weight on a phone)."""
    face = typeface()
    scene = Scene(120, 120, title, face.regular, face.bold)
    scene.add(*sponsor_badge(0, 0, 120, short_name, load_logo(logo), face.bold))
    return scene


# ---- entry images -------------------------------------------------------------------------------------------


def entry_scene(inputs: EntryInputs, logo: bytes | None) -> Scene:
    face = typeface()
    w, h = inputs.width, inputs.height
    scene = Scene(w, h, f"{''.join(inputs.title_parts)} · {inputs.sponsor}", face.regular, face.bold)
    big = max(w, h)
    scene.add(
        Rect(0, 0, w, h, NAVY),
        Circle(w * 0.95, h * 0.05, big * 0.38, NAVY_LIGHT),
        Circle(w * 0.02, h * 1.02, big * 0.22, NAVY_LIGHT),
        Rect(0, h - max(2, round(min(w, h) * 0.025)), w, max(2, round(min(w, h) * 0.025)), GOLD),
    )
    badge = load_logo(logo)
    if w / h >= 3:
        _wide(scene, inputs, badge)
    else:
        _stack(scene, inputs, badge)
    return scene


def _cta(scene: Scene, x: float, y: float, bw: float, bh: float, text: str) -> None:
    size, lines = fit(scene.bold, [text], bw * 0.8, bh * 0.62, min_size=6)
    scene.add(Rect(x, y, bw, bh, GOLD, radius=bh / 2))
    scene.add(*text_block(scene.bold, True, lines, size, x + bw / 2, y + (bh - size * 1.2) / 2, INK))


def _wide(scene: Scene, inputs: EntryInputs, logo: Image.Image | None) -> None:
    """Banners: marks on the left, title and sponsor in the middle, the call to action on the right."""
    w, h = scene.width, scene.height
    pad = h * 0.14
    mark = min(h - 2 * pad, w * 0.1)
    scene.add(*campaign_mark(pad, (h - mark) / 2, mark, scene.bold))
    left = pad * 2 + mark
    if h >= 80:
        scene.add(*sponsor_badge(left, (h - mark * 0.8) / 2, mark * 0.8, inputs.sponsor, logo, scene.bold))
        left += mark * 0.8 + pad
    cta_h = min(h * 0.42, 64)
    cta_w = min(cta_h * 3.2, w * 0.22)
    _cta(scene, w - pad - cta_w, (h - cta_h) / 2, cta_w, cta_h, inputs.cta)
    right = w - pad * 2 - cta_w
    inner_w = right - left
    sponsor_row = ((inputs.sponsor + " 邀您参与",), False, PALE, 0.26, 1)
    rows = [(inputs.title_parts, True, WHITE, 0.5, 1), sponsor_row]
    if h >= 150:
        rows = [(inputs.title_parts, True, WHITE, 0.42, 2), ((inputs.slogan,), False, PALE, 0.15, 1),
                ((inputs.dates,), True, GOLD, 0.14, 1), sponsor_row[:3] + (0.16, 1)]
    elif h >= 80:
        rows = [rows[0][:3] + (0.46, 1), ((inputs.dates,), True, GOLD, 0.2, 1), sponsor_row[:3] + (0.24, 1)]
    y = pad
    avail = h - 2 * pad
    for phrases, bold, color, share, max_lines in rows:
        face = scene.face(bold)
        row_h = avail * share
        size, lines = fit(face, phrases, inner_w, row_h, max_lines=max_lines, min_size=7)
        scene.add(*text_block(face, bold, lines, size, left, y + (row_h - len(lines) * size * 1.2) / 2, color, centred=False))
        y += row_h + avail * (1 - sum(r[3] for r in rows)) / max(1, len(rows) - 1)


def _stack(scene: Scene, inputs: EntryInputs, logo: Image.Image | None) -> None:
    """Squares, covers and tall formats: one centred column."""
    w, h = scene.width, scene.height
    tall = h / w > 1.6
    pad = min(w, h) * 0.08
    inner_w, cx = w - 2 * pad, w / 2
    rows: list[tuple[str, float]] = [("brand", 1.5), ("title", 2.6 if tall else 2.2), ("slogan", 1.0), ("dates", 0.6)]
    if inputs.qr_url:
        rows.append(("qr", 6.5))
        rows.append(("qr_label", 0.45))
    rows += [("sponsor", 0.7), ("cta", 0.9)]
    gap = (h - 2 * pad) * 0.035
    unit = (h - 2 * pad - gap * (len(rows) - 1)) / sum(weight for _, weight in rows)
    y = pad
    for kind, weight in rows:
        row_h = unit * weight
        _stack_row(scene, kind, inputs, logo, cx, y, inner_w, row_h, tall)
        y += row_h + gap


def _stack_row(
    scene: Scene, kind: str, inputs: EntryInputs, logo: Image.Image | None,
    cx: float, y: float, inner_w: float, row_h: float, tall: bool,
) -> None:
    texts: dict[str, tuple[tuple[str, ...], bool, str, int]] = {
        "title": (inputs.title_parts, True, WHITE, 3 if tall else 2),
        "slogan": ((inputs.slogan,), False, PALE, 2),
        "dates": ((inputs.dates,), True, GOLD, 1),
        "qr_label": ((inputs.qr_label,), False, WHITE, 1),
        "sponsor": ((inputs.sponsor + " 邀您参与",), False, WHITE, 2),
    }
    if kind == "brand":
        s = min(row_h, inner_w / 2.6)
        times = s * 0.4
        total = s * 2 + times
        x = cx - total / 2
        scene.add(*campaign_mark(x, y + (row_h - s) / 2, s, scene.bold))
        scene.add(*text_block(scene.regular, False, ["×"], times * 0.8, cx, y + (row_h - times) / 2, PALE))
        scene.add(*sponsor_badge(x + s + times, y + (row_h - s) / 2, s, inputs.sponsor, logo, scene.bold))
    elif kind == "qr":
        assert inputs.qr_url
        matrix = qr_matrix(inputs.qr_url)
        cells = len(matrix) + 2 * QR_BORDER
        side = min(row_h, inner_w * 0.8)
        scale = max(1, int(side / cells))
        side = scale * cells
        x0, y0 = round(cx - side / 2), round(y + (row_h - side) / 2)
        scene.add(Rect(x0, y0, side, side, WHITE), Modules(x0 + QR_BORDER * scale, y0 + QR_BORDER * scale, scale, matrix))
    elif kind == "cta":
        bh = row_h * 0.9
        bw = min(inner_w, bh * 4.2)
        _cta(scene, cx - bw / 2, y + (row_h - bh) / 2, bw, bh, inputs.cta)
    else:
        phrases, bold, color, max_lines = texts[kind]
        face = scene.face(bold)
        size, lines = fit(face, phrases, inner_w, row_h, max_lines=max_lines, min_size=7)
        block_h = len(lines) * size * 1.2
        scene.add(*text_block(face, bold, lines, size, cx, y + (row_h - block_h) / 2, color))



def campaign_mark_svg(title: str) -> str:
    """The campaign's mark alone, for the site's logo and favicon."""
    face = typeface()
    scene = Scene(64, 64, title, face.regular, face.bold)
    scene.add(*campaign_mark(2, 2, 60, face.bold))
    return draw.to_svg(scene)
