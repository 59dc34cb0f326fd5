"""A tile-grid map of China's provinces: one equal square per province, placed on a grid that approximates where it
lies (黑龙江 top right, 新疆 and 西藏 left, 海南 at the bottom), coloured by its figure, with the figure and the
sample size written on the tile.

Deliberately not a boundary map: a map of China showing boundaries may only be published with an approved map review
number (审图号), and equal tiles also give every province the same weight to the eye, whatever its area. 台湾、香港
and 澳门 keep their places on the grid so the figure reads as China; the survey's province list (regions.py) covers
the 31 mainland divisions, so they are drawn as "not surveyed", never as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdas.survey.regions import PROVINCES

from .charts import setup

WIDTH = 5.0  # inches: wider than the other charts; a phone scrolls it inside its figure (report.css)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# (column, row) from the top-left corner.
GRID: dict[str, tuple[int, int]] = {
    "黑龙江省": (6, 0),
    "内蒙古自治区": (3, 1), "北京市": (4, 1), "辽宁省": (5, 1), "吉林省": (6, 1),
    "新疆维吾尔自治区": (0, 2), "甘肃省": (1, 2), "宁夏回族自治区": (2, 2), "山西省": (3, 2), "河北省": (4, 2),
    "天津市": (5, 2),
    "西藏自治区": (0, 3), "青海省": (1, 3), "陕西省": (2, 3), "河南省": (3, 3), "山东省": (4, 3),
    "四川省": (1, 4), "重庆市": (2, 4), "湖北省": (3, 4), "安徽省": (4, 4), "江苏省": (5, 4), "上海市": (6, 4),
    "云南省": (1, 5), "贵州省": (2, 5), "湖南省": (3, 5), "江西省": (4, 5), "浙江省": (5, 5),
    "广西壮族自治区": (2, 6), "广东省": (3, 6), "福建省": (4, 6), "台湾省": (5, 6),
    "海南省": (2, 7), "澳门特别行政区": (3, 7), "香港特别行政区": (4, 7),
}
NOT_SURVEYED = ("台湾省", "香港特别行政区", "澳门特别行政区")
COLUMNS, ROWS = 7, 8
SHORT = {
    "内蒙古自治区": "内蒙古", "黑龙江省": "黑龙江", "广西壮族自治区": "广西", "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆", "香港特别行政区": "香港", "澳门特别行政区": "澳门",
}
SUPPRESSED_FILL = "#e3e3e3"
EMPTY_FILL = "#ffffff"
CMAP = "YlGnBu"


def short(province: str) -> str:
    """The name people use on a map: 广东, 内蒙古, 新疆."""
    return SHORT.get(province, province[:-1] if province[-1:] in "省市" else province)


@dataclass(frozen=True)
class Cell:
    province: str
    value: float | None  # None: suppressed (n under the minimum) or no sample
    n: int


@dataclass(frozen=True)
class TileSpec:
    """A tile map of one figure per province; provinces without a Cell have no sample."""

    name: str
    title: str
    n: int
    cells: tuple[Cell, ...]
    min_n: int
    unit: str = "指数（0–100）"
    note: str = ""
    highlight: str = ""  # a province to outline (its own report)
    kind: str = "tiles"
    n_label: str = "n"

    @property
    def subtitle(self) -> str:
        return "；".join([f"{self.n_label} = {self.n:,}"] + ([self.note] if self.note else [])
                        + ["格内：简称、数值、样本量"])

    @property
    def caption(self) -> str:
        return (f"{self.title}（{self.subtitle}；每格一个省级行政区，颜色和数字为{self.unit}，下方为样本量；"
                f"斜线灰格为样本不足 {self.min_n:,} 的省份，不报告其数值）")


def _compact(n: int) -> str:
    return f"{n / 10000:.1f}万" if n >= 100_000 else f"{n:,}"


def figure(spec: TileSpec) -> Figure:
    setup()
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    for p in GRID:  # the grid and the survey's province list must not drift apart
        assert p in PROVINCES or p in NOT_SURVEYED, p
    cells = {c.province: c for c in spec.cells}
    shown = [c.value for c in spec.cells if c.value is not None]
    lo, hi = (min(shown), max(shown)) if shown else (0.0, 100.0)
    if hi - lo < 1:
        lo, hi = lo - 0.5, hi + 0.5
    norm, cmap = Normalize(lo, hi), colormaps[CMAP]

    tile = WIDTH / (COLUMNS + 0.2)
    top, bottom = 0.62, 0.95
    height = top + ROWS * tile + bottom
    fig = Figure(figsize=(WIDTH, height))
    ax = fig.add_axes((0.1 * tile / WIDTH, bottom / height, COLUMNS * tile / WIDTH, ROWS * tile / height))
    ax.set_xlim(0, COLUMNS)
    ax.set_ylim(ROWS, 0)
    ax.set_axis_off()
    fig.text(0.02, 1 - 0.08 / height, spec.title, ha="left", va="top", fontsize=11, fontweight="bold")
    fig.text(0.02, 1 - 0.36 / height, spec.subtitle, ha="left", va="top", fontsize=9, color="#444444")

    for province, (col, row) in GRID.items():
        cell = cells.get(province)
        x, y = col + 0.04, row + 0.04
        if province in NOT_SURVEYED:
            fill, hatch, lines = EMPTY_FILL, None, (short(province), "未调查", "")
        elif cell is None or cell.n == 0:
            fill, hatch, lines = EMPTY_FILL, None, (short(province), "无样本", "")
        elif cell.value is None:
            fill, hatch, lines = SUPPRESSED_FILL, "////", (short(province), "样本不足", _compact(cell.n))
        else:
            fill, hatch, lines = cmap(norm(cell.value)), None, (short(province), f"{cell.value:.1f}", _compact(cell.n))
        edge = "#c0392b" if province == spec.highlight else ("#888888" if fill in (EMPTY_FILL, SUPPRESSED_FILL) else "white")
        ax.add_patch(Rectangle((x, y), 0.92, 0.92, facecolor=fill, edgecolor=edge, hatch=hatch,
                               linewidth=2.2 if province == spec.highlight else 0.8,
                               linestyle=":" if province in NOT_SURVEYED else "-"))
        ink = _ink(fill)
        name, value, n = lines
        ax.text(x + 0.46, y + 0.22, name, ha="center", va="center", fontsize=7.5 if len(name) > 2 else 8.5, color=ink)
        figure_shown = value[:1].isdigit()
        ax.text(x + 0.46, y + 0.5, value, ha="center", va="center", color=ink, fontsize=9.5 if figure_shown else 7.5,
                fontweight="bold" if figure_shown else "normal",
                bbox=dict(facecolor=fill, edgecolor="none", pad=1) if hatch else None)
        if n:
            ax.text(x + 0.46, y + 0.76, n, ha="center", va="center", fontsize=6.5, color=ink)

    bar = fig.add_axes((0.08, (bottom - 0.32) / height, 0.42, 0.1 / height))
    from matplotlib.colorbar import ColorbarBase

    ColorbarBase(bar, cmap=cmap, norm=norm, orientation="horizontal")
    bar.tick_params(labelsize=8, length=2)
    bar.set_xlabel(spec.unit, fontsize=8.5, labelpad=2)
    fig.legend(handles=[Patch(facecolor=SUPPRESSED_FILL, edgecolor="#888888", hatch="////",
                              label=f"样本不足 {spec.min_n:,}，不报告"),
                        Patch(facecolor=EMPTY_FILL, edgecolor="#888888", label="无样本 / 未调查")],
               loc="lower left", bbox_to_anchor=(0.54, 0.04 / height), fontsize=8, frameon=False, handlelength=1.4)
    return fig


def _ink(fill: object) -> str:
    """Black or white, whichever reads on the tile's colour."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(fill)  # type: ignore[arg-type]
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#ffffff"
