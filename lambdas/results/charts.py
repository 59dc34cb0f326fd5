"""Static charts for the reports, drawn with Matplotlib (Agg) in the CJK typeface the rest of the project uses.

A chart is described by a `Spec` (plain, picklable data) and drawn by `draw` into a folder as SVG, for the HTML
pages, and PNG, for the PDFs (WeasyPrint lays out a PNG several times faster than an SVG whose text is paths).
The SVG carries its text as outlines (svg.fonttype 'path'), so it reads the same on a phone without the font.
Every chart states what it shows in its title, its axis with the unit, and the sample size (n) under the title; the
same words go in the page's caption and alt text. Charts are 4 inches wide with 9–11 pt type: at about natural size
in print (100 mm), and about 11 px type when a phone shows them 330 px wide.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .tiles import TileSpec

WIDTH = 4.0  # inches: 9.5 pt labels read as about 11 px when a phone shows the chart 330 px wide
PNG_DPI = 150
ACCENT = "#1f5f8b"
MUTED = "#9aa5ae"
REFERENCE = "#c0392b"
# Five steps of a 1–5 scale, red to blue through grey: told apart in grey print and by red-green colour blindness.
SCALE_COLOURS = ("#b2182b", "#ef8a62", "#cfcfcf", "#67a9cf", "#2166ac")
FORMATS = ("svg", "png")


@dataclass(frozen=True)
class Spec:
    """One chart. `kind` picks the drawing:
    - "shares": one bar per label, `values` in percent (a question's answers; multi: share of respondents);
    - "scores": one bar per label on 0–100 with its 95 % interval in `low`/`high` (None where suppressed), and an
      optional `reference` line (e.g. the national index);
    - "stacked": one bar per label split into the shares of 1…5 (`parts`, percent), for rating and matrix questions.
    """

    name: str  # file stem, unique in the folder
    kind: str
    title: str
    n: int
    labels: tuple[str, ...]
    values: tuple[float | None, ...] = ()
    unit: str = "占比（%）"
    low: tuple[float | None, ...] = ()
    high: tuple[float | None, ...] = ()
    parts: tuple[tuple[float, ...], ...] = ()
    legend: tuple[str, ...] = ()  # stacked: what 1…5 mean
    reference: float | None = None
    reference_label: str = ""
    note: str = ""  # e.g. 未加权, or why a bar is missing
    n_label: str = "n"

    @property
    def subtitle(self) -> str:
        parts = [f"{self.n_label} = {self.n:,}"] + ([self.note] if self.note else [])
        if self.reference is not None:
            parts.append(f"虚线：{self.reference_label} {self.reference:.1f}")
        return "；".join(parts)

    @property
    def caption(self) -> str:
        """The chart in words, for alt text and the figure's caption."""
        return f"{self.title}（{self.subtitle}；横轴：{self.unit}）"


@dataclass(frozen=True)
class Drawn:
    spec: Spec | TileSpec
    files: dict[str, str] = field(default_factory=dict)  # format -> file name in the folder


def file_names(spec: Spec | TileSpec) -> dict[str, str]:
    return {fmt: f"{spec.name}.{fmt}" for fmt in FORMATS}


def draw(spec: Spec | TileSpec, folder: Path, formats: tuple[str, ...] = FORMATS) -> Drawn:
    """Draw one chart into `folder` in each format; returns the file names."""
    fig = _figure(spec)
    names = file_names(spec)
    written = {}
    for fmt in formats:
        metadata = {"Title": f"{spec.title}（{spec.subtitle}）"} if fmt == "svg" else {"Title": spec.title}
        fig.savefig(folder / names[fmt], format=fmt, dpi=PNG_DPI, metadata=metadata)
        written[fmt] = names[fmt]
    return Drawn(spec, written)


# ---- drawing ----------------------------------------------------------------------------------------------------

def _figure(spec: Spec | TileSpec) -> Figure:
    setup()
    if spec.kind == "shares":
        return _shares(spec)
    if spec.kind == "scores":
        return _scores(spec)
    if spec.kind == "stacked":
        return _stacked(spec)
    if spec.kind == "tiles":
        from . import tiles

        return tiles.figure(spec)  # type: ignore[arg-type]
    raise ValueError(f"unknown chart kind {spec.kind!r}")


@lru_cache(maxsize=1)
def setup() -> str:
    """Matplotlib off-screen with the project's CJK typeface registered; returns the family name in use."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, rcParams

    from generator.fonts import font_files

    family = ""
    for path in font_files():
        font_manager.fontManager.addfont(str(path))
        faces = [f.name for f in font_manager.fontManager.ttflist if Path(f.fname) == Path(path)]
        # A collection holds one face per region; the Simplified Chinese one matches mainland glyph forms.
        family = family or next((n for n in faces if n.endswith(" SC")), faces[0] if faces else "")
    rcParams.update({
        "font.family": [family, "sans-serif"] if family else ["sans-serif"],
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": False,  # the typeface's hyphen-minus, not U+2212, which some CJK faces lack
        "svg.fonttype": "path",
        "svg.hashsalt": "survey-results",  # stable ids: the same chart gives the same bytes
        "pdf.fonttype": 42,
    })
    return family


def _text_width(text: str, size: float) -> float:
    """Approximate width in inches: a CJK character is one em, Latin about half of one."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.56 for ch in text)
    return ems * size / 72


def wrap(text: str, width: float = 10.0) -> str:
    """Break a label into lines of at most about `width` ems, of even length, between characters (Chinese has no
    spaces to break at)."""
    ems = [1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.56 for ch in text]
    lines_needed = max(1, math.ceil(sum(ems) / width))
    target = sum(ems) / lines_needed
    lines, line, used = [], "", 0.0
    for ch, w in zip(text, ems):
        if used + w > target + 0.5 and line and len(lines) < lines_needed - 1:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    lines.append(line)
    return "\n".join(lines)


def _frame(spec: Spec, labels: list[str], rows: int, extra_bottom: float = 0.0) -> tuple[Figure, object]:
    from matplotlib.figure import Figure

    title = wrap(spec.title, WIDTH * 72 / 11 - 2)  # ems of the 11 pt title in the figure's width
    title_lines = title.count("\n") + 1
    label_lines = [label.count("\n") + 1 for label in labels]
    row_height = max(0.3, 0.17 * max(label_lines, default=1) + 0.08)
    top = 0.2 * title_lines + 0.32  # title and subtitle
    bottom = 0.55 + extra_bottom  # axis label and ticks
    height = top + bottom + row_height * max(rows, 1)
    fig = Figure(figsize=(WIDTH, height))
    label_width = max((max(_text_width(line, 9.5) for line in label.split("\n")) for label in labels), default=0.5)
    left = min(0.45, (label_width + 0.15) / WIDTH)
    ax = fig.add_axes((left, bottom / height, 0.93 - left, 1 - (top + bottom) / height))
    fig.text(0.02, 1 - 0.08 / height, title, ha="left", va="top", fontsize=11, fontweight="bold", linespacing=1.25)
    fig.text(0.02, 1 - (0.14 + 0.2 * title_lines) / height, spec.subtitle, ha="left", va="top", fontsize=9,
             color="#444444")
    ax.tick_params(axis="y", length=0, labelsize=9.5)
    ax.tick_params(axis="x", labelsize=9)
    return fig, ax


def _shares(spec: Spec) -> Figure:
    labels = [wrap(label) for label in spec.labels]
    fig, ax = _frame(spec, labels, len(labels))
    values = [v or 0.0 for v in spec.values]
    y = list(range(len(labels)))
    ax.barh(y, values, color=ACCENT, height=0.66)
    top = max(values, default=0.0)
    limit = 100.0 if top > 60 else max(10.0, math.ceil(top * 1.25 / 10) * 10)
    ax.set_xlim(0, limit)
    for yi, v, raw in zip(y, values, spec.values):
        ax.text(v + limit * 0.01, yi, "—" if raw is None else f"{v:.1f}", va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(spec.unit, fontsize=9)
    return fig


def _scores(spec: Spec) -> Figure:
    labels = [wrap(label) for label in spec.labels]
    fig, ax = _frame(spec, labels, len(labels))
    y = list(range(len(labels)))
    for yi, v, lo, hi in zip(y, spec.values, spec.low or [None] * len(y), spec.high or [None] * len(y)):
        if v is None:
            ax.text(1, yi, "样本不足，不报告", va="center", fontsize=9, color="#555555")
            continue
        ax.barh(yi, v, color=ACCENT, height=0.62)
        if lo is not None and hi is not None:
            ax.errorbar(v, yi, xerr=[[v - lo], [hi - v]], fmt="none", ecolor="#222222", elinewidth=1, capsize=3)
        ax.text(min((hi if hi is not None else v) + 2, 93), yi, f"{v:.1f}", va="center", fontsize=9)
    if spec.reference is not None:
        # Named in the subtitle (Spec.subtitle), where it cannot collide with the bars' own figures.
        ax.axvline(spec.reference, color=REFERENCE, linestyle="--", linewidth=1.2, zorder=0.5)
    ax.set_xlim(0, 100)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(spec.unit, fontsize=9)
    return fig


def _stacked(spec: Spec) -> Figure:
    labels = [wrap(label) for label in spec.labels]
    fig, ax = _frame(spec, labels, len(labels), extra_bottom=0.35)
    y = list(range(len(labels)))
    left = [0.0] * len(labels)
    for step, colour in enumerate(SCALE_COLOURS):
        widths = [row[step] if step < len(row) else 0.0 for row in spec.parts]
        name = spec.legend[step] if step < len(spec.legend) else str(step + 1)
        ax.barh(y, widths, left=left, color=colour, height=0.66, label=name, edgecolor="white", linewidth=0.5)
        for yi, lft, w in zip(y, left, widths):
            if w >= 7:
                ax.text(lft + w / 2, yi, f"{w:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if step in (0, 4) else "#222222")
        left = [a + b for a, b in zip(left, widths)]
    ax.set_xlim(0, 100)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(spec.unit, fontsize=9)
    fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.02 / fig.get_figheight()), ncol=5, fontsize=8,
               frameon=False, handlelength=1.0, columnspacing=0.8)
    return fig
