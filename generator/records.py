"""What a build plans and remembers: plain records of drawing jobs and of each sponsor's files.

They live apart from the drawing code so that loading a remembered build does not import Pillow or fontTools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .cache import Asset


class Job(NamedTuple):
    """How to draw one or two cached files (an entry image's PNG and SVG share one layout)."""

    kind: str
    params: dict
    logo: str | None
    outputs: tuple[tuple[str, str], ...]  # (format, cache path)


@dataclass
class SponsorAssets:
    """Site paths of one sponsor's files, for the page templates."""

    mark: str = ""
    mark_png: str = ""  # small raster of the mark, for the light entry pages
    entries: list[dict] = field(default_factory=list)  # size, png, svg, snippet url
    qr: dict[str, dict[str, str]] = field(default_factory=dict)  # channel -> {png, svg, url}
    kit: str = ""


@dataclass
class SponsorPlan:
    """One sponsor's files: where they go, how each is drawn, and what the pages show."""

    assets: list[Asset] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    mine: SponsorAssets = field(default_factory=SponsorAssets)
    kit: Asset | None = None  # the packed media kit, once packed


@dataclass
class Plan:
    assets: list[Asset] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)  # only those with an output missing from the cache
    part_of: dict[str, SponsorPlan] = field(default_factory=dict)  # slug -> its part
    parts: dict[str, SponsorPlan] = field(default_factory=dict)  # part key -> plan, for the next build to reuse


