"""What a build plans and remembers: plain records of drawing jobs and of each sponsor's files.

They live apart from the drawing code so that loading a remembered build does not import Pillow or fontTools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .cache import Asset


class Job(NamedTuple):
    """How to draw a few cached files from one layout (an entry image's PNG, its 2× PNG and its SVG)."""

    kind: str
    params: dict
    logo: str | None
    outputs: tuple[tuple[str, str], ...]  # (format, cache path); formats: png, png2x, svg
    artwork: tuple[tuple[str, str], ...] = ()  # (slot, path) of the campaign's own logo and mascot


@dataclass
class SponsorAssets:
    """Site paths of one sponsor's files, for the page templates."""

    mark: str = ""
    mark_png: str = ""  # small raster of the mark, for the light entry pages
    # One per entry-image size, in the first design: size, png, png2x (None when the image is drawn large enough
    # already), svg, channel, url; and "designs": every design of that size (name, label, png, png2x, svg).
    entries: list[dict] = field(default_factory=list)
    designs: list[dict] = field(default_factory=list)  # name, label of each design, the first one first
    # channel -> {png, svg, url, captioned_png, captioned_svg}: the code alone, and with a band naming the sponsor
    # and the channel
    qr: dict[str, dict[str, str]] = field(default_factory=dict)
    # sub-link id of the poster channel -> its own posters: entries of the QR-code sizes, shaped like `entries`
    posters: dict[str, list[dict]] = field(default_factory=dict)
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


