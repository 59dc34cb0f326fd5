"""The designs: entry images (问卷入口图片) at any size, the poster with its QR code, QR codes, sponsor marks.

Every function takes plain inputs and returns a scene (or bytes); the same inputs always give the same bytes, which
is what lets the cache key on the inputs alone. Each entry image comes in every design of `DESIGNS`, so a sponsor
can choose the one that suits its website.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import qrcode
import qrcode.util
from PIL import Image

from . import draw, textmark
from .draw import Circle, Modules, Picture, Polygon, Rect, Scene, Shape, Text
from .fonts import Face, typeface
from .typeset import MIN_SIZE, fit

# Bump when a design changes: it is part of every cache key, so old drawings are never reused by mistake.
RENDERER_VERSION = "9"

NAVY = "#0b3c8c"
NAVY_LIGHT = "#154a9e"
GOLD = "#ffc21a"
WHITE = "#ffffff"
PALE = "#dce8ff"
INK = "#0b2a5c"
RED = "#c0161f"
SLATE = "#2b3a55"
MIST = "#eaf1fb"
QR_BORDER = 4  # modules of quiet zone the QR specification asks for
QR_SIDE = 480  # every QR code PNG is this square, whatever its URL's length
CAPTION_BAND = 150  # height of the captioned QR code's band (sponsor and channel)


@dataclass(frozen=True)
class Design:
    """One look of the entry images and the poster."""

    name: str  # in file names; the first design's files keep the names published before designs existed
    label: str  # what sponsors choose by
    background: str
    glow: str  # the large soft circles
    title: str
    text: str
    highlight: str  # the dates
    button: str
    button_text: str
    stripe: str
    band: str | None = None  # a navy band behind the marks, on light designs


DESIGNS = (
    Design("navy", "深蓝", NAVY, NAVY_LIGHT, WHITE, PALE, GOLD, GOLD, INK, GOLD),
    Design("light", "浅色", WHITE, MIST, NAVY, SLATE, RED, RED, WHITE, RED, band=NAVY),
)
DESIGN = {d.name: d for d in DESIGNS}


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
    design: str = DESIGNS[0].name
    organisers: tuple[str, ...] = ()  # 指导单位 / 主办单位 / 承办单位 lines, drawn on the poster


@dataclass(frozen=True)
class Art:
    """The pictures an image may carry, decoded: the sponsor's logo and the campaign's own logo and mascot."""

    logo: Image.Image | None = None
    campaign_logo: Image.Image | None = None
    mascot: Image.Image | None = None


def title_parts(year: int, name: str) -> tuple[str, ...]:
    """Phrases a title prefers to break between: '2020' / '网民网络安全感' / '满意度调查'."""
    return (str(year), *[p for p in re.split(r"(?=满意度)", name) if p])


def load_picture(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA")


load_logo = load_picture


def fitted_picture(x: float, y: float, w: float, h: float, image: Image.Image, align: str = "center") -> Picture:
    """`image` as large as the box allows, keeping its proportions; centred, or standing on the box's bottom."""
    ratio = image.width / image.height
    pw, ph = (w, w / ratio) if ratio >= w / h else (h * ratio, h)
    top = y + h - ph if align == "bottom" else y + (h - ph) / 2
    return Picture(x + (w - pw) / 2, top, pw, ph, image)


# ---- QR codes -----------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of `url` without its quiet zone (medium error correction survives print and glare).

    The code qrcode's make() gives, with its choice of mask found by `_best_mask`: qrcode lays out and scores all
    eight masks in Python, most of the time a drawing's QR code took.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.best_fit(start=code.version)
    code.makeImpl(False, _best_mask(code))
    return tuple(tuple(bool(m) for m in row) for row in code.get_matrix())


def _best_mask(code: qrcode.QRCode) -> int:
    """qrcode's best_mask_pattern(): the first mask of the lowest penalty, each scored with blank format bits."""
    code.makeImpl(True, 0)
    n = code.modules_count
    laid = np.array(code.modules, dtype=bool)
    # The cells map_data fills (None until then): what makeImpl sets before it, set again on a blank matrix.
    code.modules = [[None] * n for _ in range(n)]
    for row, col in ((0, 0), (n - 7, 0), (0, n - 7)):
        code.setup_position_probe_pattern(row, col)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(True, 0)
    if code.version >= 7:
        code.setup_type_number(True)
    data = np.array([[m is None for m in row] for row in code.modules])
    masks = _mask_grids(n)
    plain = laid ^ (masks[0] & data)  # the data bits before mask 0
    penalties = [_penalty(plain ^ (masks[i] & data)) for i in range(8)]
    return penalties.index(min(penalties))


@lru_cache(maxsize=16)
def _mask_grids(n: int) -> np.ndarray:
    """Where each of the eight masks inverts a module of an n × n code, from qrcode's own mask functions."""
    return np.array([[[bool(qrcode.util.mask_func(i)(r, c)) for c in range(n)] for r in range(n)] for i in range(8)])


_FINDER_LIKE = np.array([[1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1]], dtype=bool)


def _penalty(m: np.ndarray) -> int:
    """qrcode.util.lost_point(m), on arrays: runs of five or more, 2 × 2 blocks, finder-like patterns, balance."""
    n = len(m)
    points = 0
    for lines in (m, m.T):
        starts = np.ones((n, n + 1), dtype=bool)  # where a run starts in each line, and each line's end
        starts[:, 1:n] = lines[:, 1:] != lines[:, :-1]
        runs = np.diff(np.flatnonzero(starts))
        points += int((runs[runs >= 5] - 2).sum())
        windows = np.lib.stride_tricks.sliding_window_view(lines, 11, axis=1)
        points += 40 * int(sum((windows == pattern).all(axis=2).sum() for pattern in _FINDER_LIKE))
    corner = m[:-1, :-1]
    points += 3 * int(((corner == m[1:, :-1]) & (corner == m[:-1, 1:]) & (corner == m[1:, 1:])).sum())
    percent = float(m.sum()) / (n ** 2)
    return points + int(abs(percent * 100 - 50) / 5) * 10


def qr_modules(url: str, x: float, y: float, side: float) -> tuple[list[Shape], float]:
    """A QR code centred in a white square of `side`, modules of whole pixels; and the square's actual side."""
    matrix = qr_matrix(url)
    scale = max(1, int(side // (len(matrix) + 2 * QR_BORDER)))
    inner = scale * len(matrix)
    x0, y0 = round(x + (side - inner) / 2), round(y + (side - inner) / 2)
    return [Rect(x, y, side, side, WHITE), Modules(x0, y0, scale, matrix)], side


def qr_scene(url: str, label: str) -> Scene:
    """The QR code alone, on a square of `QR_SIDE` whatever the URL's length (a longer URL has smaller modules)."""
    face = typeface()
    scene = Scene(QR_SIDE, QR_SIDE, label, face.regular, face.bold)
    scene.add(*qr_modules(url, 0, 0, QR_SIDE)[0])
    return scene


def captioned_qr_scene(url: str, label: str, name: str, channel: str) -> Scene:
    """The QR code over a band naming the sponsor and the channel, so a printed or forwarded code says whose it is."""
    face = typeface()
    scene = Scene(QR_SIDE, QR_SIDE + CAPTION_BAND, label, face.regular, face.bold)
    scene.add(*qr_modules(url, 0, 0, QR_SIDE)[0], Rect(0, QR_SIDE, QR_SIDE, CAPTION_BAND, NAVY),
              Rect(0, QR_SIDE + CAPTION_BAND - 6, QR_SIDE, 6, GOLD))
    pad = 24
    size, lines = fit(face.bold, [name], QR_SIDE - 2 * pad, 76, max_lines=2, max_size=34)
    block = len(lines) * size * 1.2
    sub_size, sub = fit(face.regular, [channel, " · 扫码参与调查"], QR_SIDE - 2 * pad, 34, max_size=24)
    top = QR_SIDE + (CAPTION_BAND - 6 - block - sub_size * 1.2 - 8) / 2
    scene.add(*text_block(face.bold, True, lines, size, QR_SIDE / 2, top, WHITE))
    scene.add(*text_block(face.regular, False, sub, sub_size, QR_SIDE / 2, top + block + 8, GOLD))
    return scene


def qr_png(url: str, label: str) -> bytes:
    return draw.to_png(qr_scene(url, label))


# ---- text ---------------------------------------------------------------------------------------------------


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


def invitation(face: Face, sponsor: str, max_w: float, max_h: float, max_lines: int) -> tuple[float, list[str]]:
    """'<sponsor> 邀您参与', or the sponsor's name alone where both do not fit legibly: the name matters most, and
    stays whole on its line unless it is wider than a line at the smallest size."""
    size, lines = fit(face, [sponsor, " 邀您参与"], max_w, max_h, max_lines=max_lines, split=False)
    if lines and lines[-1].endswith("…"):
        size, lines = fit(face, [sponsor], max_w, max_h, max_lines=max_lines, split=False)
    return size, lines


# ---- marks --------------------------------------------------------------------------------------------------


def campaign_mark(x: float, y: float, s: float, face: Face, logo: Image.Image | None = None) -> list[Shape]:
    """The campaign's logo when the secretariat supplied one; else its shield with 安 (safety), drawn to any size."""
    if logo is not None:
        return [fitted_picture(x, y, s, s, logo)]

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


BADGE_TEXT = 0.42  # a one-line text mark's size, as a share of its badge's height
TWO_LINE_HEIGHT = 2 * 1.12 / 0.68  # a two-line text mark's badge height, in its text's size


@dataclass(frozen=True)
class Badge:
    """The sponsor's tile, sized: a square for its logo, or as wide as its text mark in one line or two."""

    w: float
    h: float
    lines: tuple[str, ...] = ()
    size: float = 0.0  # of the text mark


def plan_badge(short_name: str, logo: Image.Image | None, face: Face, h: float, max_w: float, max_h: float) -> Badge:
    """The badge closest to height `h` that fits `max_w` × `max_h`: a text mark on one line (网信安协会) or, when
    two lines let it be larger, set like a seal (网信安 / 协会); its text grows past `h` to stay legible."""
    if logo is not None:
        return Badge(h, h)
    mark = textmark.text_mark(short_name)
    one = "".join(mark)
    # one line: height size / BADGE_TEXT, width text + half the height
    em1 = face.width(one, 1)
    t1 = min(max(h * BADGE_TEXT, MIN_SIZE), max_h * BADGE_TEXT, max_w / (em1 + 0.5 / BADGE_TEXT))
    options = [(t1, Badge(max(t1 / BADGE_TEXT, em1 * t1 + 0.5 * t1 / BADGE_TEXT), t1 / BADGE_TEXT, (one,), t1))]
    if len(mark) == 2:
        em2 = max(face.width(line, 1) for line in mark)
        t2 = min(max(h / TWO_LINE_HEIGHT, MIN_SIZE), max_h / TWO_LINE_HEIGHT, max_w / (em2 + 0.4 * TWO_LINE_HEIGHT))
        options.append((t2 * 0.85, Badge(max(t2 * TWO_LINE_HEIGHT, em2 * t2 + 0.4 * t2 * TWO_LINE_HEIGHT),
                                         t2 * TWO_LINE_HEIGHT, mark, t2)))
    return max(options, key=lambda option: option[0])[1]  # one line unless two are clearly larger


def sponsor_badge(x: float, y: float, badge: Badge, logo: Image.Image | None, face: Face) -> list[Shape]:
    """The sponsor's logo on a white tile, or its text mark."""
    shapes: list[Shape] = [Rect(x, y, badge.w, badge.h, WHITE, radius=min(badge.w, badge.h) * 0.18)]
    if logo is not None:
        inset = badge.h * 0.08
        shapes.append(fitted_picture(x + inset, y + inset, badge.w - 2 * inset, badge.h - 2 * inset, logo))
        return shapes
    block = len(badge.lines) * badge.size * 1.12
    shapes += text_block(face, True, list(badge.lines), badge.size, x + badge.w / 2, y + (badge.h - block) / 2, NAVY,
                         leading=1.12)
    return shapes


def mark_scene(short_name: str, logo: bytes | None, title: str) -> Scene:
    """The sponsor's badge alone, set like a seal on a square tile: SVG for its page header, a small PNG for the
    entry pages (an SVG holding a logo carries the logo's pixels as base64, several times the PNG's weight)."""
    face = typeface()
    picture = load_picture(logo)
    scene = Scene(120, 120, title, face.regular, face.bold)
    lines = textmark.text_mark(short_name)
    widest = max(face.bold.width(line, 1) for line in lines)
    size = min(120 * 0.8 / widest, 120 * 0.68 / (len(lines) * 1.12), 120 * BADGE_TEXT if len(lines) == 1 else 120)
    scene.add(*sponsor_badge(0, 0, Badge(120, 120, () if picture else lines, size), picture, face.bold))
    return scene


def campaign_mark_svg(title: str, logo: bytes | None = None) -> str:
    """The campaign's mark alone, for the site's logo and favicon."""
    face = typeface()
    scene = Scene(64, 64, title, face.regular, face.bold)
    scene.add(*campaign_mark(2, 2, 60, face.bold, load_picture(logo)))
    return draw.to_svg(scene)


# ---- entry images -------------------------------------------------------------------------------------------


def entry_scene(inputs: EntryInputs, logo: bytes | None, campaign_logo: bytes | None = None,
                mascot: bytes | None = None) -> Scene:
    face = typeface()
    w, h = inputs.width, inputs.height
    d = DESIGN[inputs.design]
    scene = Scene(w, h, f"{''.join(inputs.title_parts)} · {inputs.sponsor}", face.regular, face.bold)
    big = max(w, h)
    stripe = max(2, round(min(w, h) * 0.025))
    scene.add(
        Rect(0, 0, w, h, d.background),
        Circle(w * 0.95, h * 0.05, big * 0.38, d.glow),
        Circle(w * 0.02, h * 1.02, big * 0.22, d.glow),
        Rect(0, h - stripe, w, stripe, d.stripe),
    )
    art = Art(load_picture(logo), load_picture(campaign_logo), load_picture(mascot))
    if w / h >= 3:
        _wide(scene, d, inputs, art)
    else:
        _stack(scene, d, inputs, art)
    return scene


def _cta(scene: Scene, d: Design, x: float, y: float, bw: float, bh: float, text: str) -> None:
    size, lines = fit(scene.bold, [text], bw * 0.84, bh * 0.72)
    scene.add(Rect(x, y, bw, bh, d.button, radius=bh / 2))
    scene.add(*text_block(scene.bold, True, lines, size, x + bw / 2, y + (bh - size * 1.2) / 2, d.button_text))


def _wide(scene: Scene, d: Design, inputs: EntryInputs, art: Art) -> None:
    """Banners: marks on the left, title and sponsor in the middle, the call to action on the right."""
    w, h = scene.width, scene.height
    pad = max(5.0, h * 0.1)
    mark = min(h - 2 * pad, w * 0.1)
    left = pad * 2 + mark
    badge = plan_badge(inputs.sponsor, art.logo, scene.bold, mark * 0.8, w * 0.2, h - 2 * pad) if h >= 80 else None
    if badge is not None and badge.lines and badge.size < MIN_SIZE:
        badge = None  # the name is written beside it anyway
    if badge is not None:
        left += badge.w + pad
    if d.band:  # the marks stand on a band of their own, the texts on the light ground
        scene.add(Rect(0, 0, left - pad / 2, h - max(2, round(h * 0.025)), d.band))
        left += pad / 2
    scene.add(*campaign_mark(pad, (h - mark) / 2, mark, scene.bold, art.campaign_logo))
    if badge is not None:
        scene.add(*sponsor_badge(pad * 2 + mark, (h - badge.h) / 2, badge, art.logo, scene.bold))
    cta_h = max(24.0, min(h * 0.4, 64))
    cta_w = min(cta_h * 3.2, w * 0.24)
    _cta(scene, d, w - pad - cta_w, (h - cta_h) / 2, cta_w, cta_h, inputs.cta)
    right = w - pad * 2 - cta_w
    if art.mascot is not None and h >= 150:
        tall = h - 2 * pad
        wide = min(tall * art.mascot.width / art.mascot.height, w * 0.16)
        if right - left - wide - pad >= w * 0.2:  # only where the texts keep room to be read
            scene.add(fitted_picture(right - wide, pad, wide, tall, art.mascot, align="bottom"))
            right -= wide + pad
    inner_w = right - left
    sponsor_row = ("sponsor", False, d.text, 0.26, 1)
    if h >= 150:
        rows = [("title", True, d.title, 0.40, 2), ("slogan", False, d.text, 0.17, 1),
                ("dates", True, d.highlight, 0.15, 1), sponsor_row[:3] + (0.17, 1)]
    elif h >= 80:
        rows = [("title", True, d.title, 0.42, 1), ("dates", True, d.highlight, 0.27, 1), sponsor_row[:3] + (0.27, 1)]
    else:
        rows = [("title", True, d.title, 0.55, 1), sponsor_row[:3] + (0.45, 1)]
    texts = {"title": inputs.title_parts, "slogan": (inputs.slogan,), "dates": (inputs.dates,)}
    avail = h - 2 * pad
    y = pad
    spare = avail * (1 - sum(r[3] for r in rows)) / max(1, len(rows) - 1)
    for kind, bold, color, share, max_lines in rows:
        face = scene.face(bold)
        row_h = avail * share
        if kind == "sponsor":
            size, lines = invitation(face, inputs.sponsor, inner_w, row_h, max_lines)
        else:
            size, lines = fit(face, texts[kind], inner_w, row_h, max_lines=max_lines)
        top = y + (row_h - len(lines) * size * 1.2) / 2
        scene.add(*text_block(face, bold, lines, size, left, top, color, centred=False))
        y += row_h + spare


def _stack(scene: Scene, d: Design, inputs: EntryInputs, art: Art) -> None:
    """Squares, covers and tall formats: one centred column (beside the mascot on a wide cover)."""
    w, h = scene.width, scene.height
    tall = h / w > 1.6
    pad = min(w, h) * 0.08
    inner_w, cx = w - 2 * pad, w / 2
    if art.mascot is not None and w / h >= 1.8 and not inputs.qr_url:
        column = w * 0.26
        scene.add(fitted_picture(w - column, pad, column - pad, h - 2 * pad, art.mascot, align="bottom"))
        inner_w -= column
        cx = pad + inner_w / 2
    rows: list[tuple[str, float]] = [("brand", 1.5), ("title", 2.6 if tall else 2.2), ("slogan", 1.0), ("dates", 0.6)]
    if inputs.qr_url:
        rows += [("qr", 6.5), ("qr_label", 0.45)]
    rows += [("sponsor", 0.7), ("cta", 0.9)]
    if inputs.qr_url and inputs.organisers:
        rows.append(("organisers", 0.42 * len(inputs.organisers)))
    gap = (h - 2 * pad) * 0.035
    unit = (h - 2 * pad - gap * (len(rows) - 1)) / sum(weight for _, weight in rows)
    if d.band:
        scene.add(Rect(0, 0, w, pad + unit * 1.5 + gap / 2, d.band))
    y = pad
    for kind, weight in rows:
        row_h = unit * weight
        _stack_row(scene, d, kind, inputs, art, cx, y, inner_w, row_h, tall)
        y += row_h + gap


def _stack_row(
    scene: Scene, d: Design, kind: str, inputs: EntryInputs, art: Art,
    cx: float, y: float, inner_w: float, row_h: float, tall: bool,
) -> None:
    texts: dict[str, tuple[tuple[str, ...], bool, str, int]] = {
        "title": (inputs.title_parts, True, d.title, 3 if tall else 2),
        "slogan": ((inputs.slogan,), False, d.text, 2),
        "dates": ((inputs.dates,), True, d.highlight, 1),
        "qr_label": ((inputs.qr_label,), False, d.text, 1),
    }
    if kind == "brand":
        _brand(scene, d, inputs, art, cx, y, inner_w, row_h)
    elif kind == "qr":
        assert inputs.qr_url
        _qr_row(scene, inputs.qr_url, art, cx, y, inner_w, row_h, d.band)
    elif kind == "cta":
        bh = max(24.0, row_h * 0.9)
        bw = min(inner_w, bh * 4.2)
        _cta(scene, d, cx - bw / 2, y + (row_h - bh) / 2, bw, bh, inputs.cta)
    elif kind == "organisers":
        _organisers(scene, d, inputs.organisers, cx, y, inner_w, row_h)
    elif kind == "sponsor":
        size, lines = invitation(scene.regular, inputs.sponsor, inner_w, row_h, 2)
        block_h = len(lines) * size * 1.2
        scene.add(*text_block(scene.regular, False, lines, size, cx, y + (row_h - block_h) / 2, d.text))
    else:
        phrases, bold, color, max_lines = texts[kind]
        face = scene.face(bold)
        size, lines = fit(face, phrases, inner_w, row_h, max_lines=max_lines)
        block_h = len(lines) * size * 1.2
        scene.add(*text_block(face, bold, lines, size, cx, y + (row_h - block_h) / 2, color))


def _brand(scene: Scene, d: Design, inputs: EntryInputs, art: Art, cx: float, y: float, inner_w: float,
           row_h: float) -> None:
    """The campaign's mark × the sponsor's badge, centred."""
    s = row_h
    while True:
        times = s * 0.4
        badge = plan_badge(inputs.sponsor, art.logo, scene.bold, s * 0.86, max(0.0, inner_w - s - times), row_h)
        total = s + times + badge.w
        if (total <= inner_w and (not badge.lines or badge.size >= MIN_SIZE)) or s < 16:
            break
        s *= 0.92
    x = cx - total / 2
    top = y + (row_h - s) / 2
    scene.add(*campaign_mark(x, top, s, scene.bold, art.campaign_logo))
    on = PALE if d.band else d.text
    times_size = max(MIN_SIZE, times * 0.8)
    scene.add(*text_block(scene.regular, False, ["×"], times_size, x + s + times / 2,
                          y + (row_h - times_size * 1.2) / 2, on))
    scene.add(*sponsor_badge(x + s + times, y + (row_h - badge.h) / 2, badge, art.logo, scene.bold))


def _qr_row(scene: Scene, url: str, art: Art, cx: float, y: float, inner_w: float, row_h: float,
            frame: str | None) -> None:
    """The QR code, with the mascot beside it when there is one."""
    side = min(row_h, inner_w * (0.62 if art.mascot is not None else 0.8))
    if art.mascot is None:
        x = round(cx - side / 2)
    else:
        mascot_w = inner_w - side - inner_w * 0.04
        x = round(cx - inner_w / 2)
        scene.add(fitted_picture(x + side + inner_w * 0.04, y, mascot_w, row_h, art.mascot, align="bottom"))
    top = round(y + (row_h - side) / 2)
    if frame:  # on a light ground the code's white square needs an edge to stand on
        scene.add(Rect(x - 4, top - 4, round(side) + 8, round(side) + 8, frame, radius=6))
    scene.add(*qr_modules(url, x, top, round(side))[0])


def _organisers(scene: Scene, d: Design, lines: tuple[str, ...], cx: float, y: float, inner_w: float,
                row_h: float) -> None:
    """指导单位 / 主办单位 / 承办单位, one line each, all at one size."""
    slot = row_h / len(lines)
    size = min(fit(scene.regular, [line], inner_w, slot)[0] for line in lines)
    for i, line in enumerate(lines):
        _, fitted = fit(scene.regular, [line], inner_w, slot, max_size=size)
        scene.add(*text_block(scene.regular, False, fitted, size, cx, y + i * slot + (slot - size * 1.2) / 2, d.text))
