"""The campaign model: plain frozen objects, made by `sponsors.load` once validation has passed.

Nothing here validates or parses; everything downstream (pages, images, links) works on these objects only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Literal

BEIJING = timezone(timedelta(hours=8), "Beijing")
KIND_LABELS = {"initiator": "发起单位", "media": "支持单位（核心媒体）", "enterprise": "支持单位（核心企业）"}

Kind = Literal["initiator", "media", "enterprise"]


@dataclass(frozen=True)
class EntrySize:
    """One configured entry-image size (问卷入口图片)."""

    name: str
    label: str
    width: int
    height: int
    qr: bool = False


@dataclass(frozen=True)
class Prize:
    """A prize a sponsor secured for netizens who submit valid answers."""

    provider: str
    item: str
    quantity: int
    scope: Literal["local", "national"] = "national"


@dataclass(frozen=True)
class Campaign:
    """Campaign-wide settings: everything that is the same for every sponsor."""

    name: str
    year: int
    organizer: str
    site_url: str
    opens: datetime
    closes: datetime
    slogans: tuple[str, ...]
    press_release: str
    channels: dict[str, str]
    entry_images: tuple[EntrySize, ...]
    guided_by: str = ""
    placement: tuple[str, ...] = ()
    retired_slugs: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.year}{self.name}"

    @property
    def last_day(self) -> datetime:
        """The last calendar day of the window: a close at 00:00 ends the day before."""
        return self.closes - timedelta(minutes=1)

    @property
    def dates_short(self) -> str:
        return f"{self.opens.month}月{self.opens.day}日—{self.last_day.month}月{self.last_day.day}日"

    @property
    def opens_text(self) -> str:
        return f"{self.opens.year}年{self.opens.month}月{self.opens.day}日 {self.opens.hour}:{self.opens.minute:02d}"

    @property
    def closes_text(self) -> str:
        end = self.closes
        if end.hour == 0 and end.minute == 0:
            end = self.last_day
            return f"{end.year}年{end.month}月{end.day}日 24:00"
        return f"{end.year}年{end.month}月{end.day}日 {end.hour}:{end.minute:02d}"


@dataclass(frozen=True)
class Sponsor:
    """One sponsoring organisation: an initiator (发起单位) or a support unit (支持单位)."""

    slug: str
    name: str
    short_name: str
    kind: Kind
    province: str
    channels: tuple[str, ...]
    city: str | None = None
    logo: str | None = None
    website: str | None = None
    nominated_by: str | None = None
    prizes: tuple[Prize, ...] = ()
    former_slugs: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_initiator(self) -> bool:
        return self.kind == "initiator"


@dataclass(frozen=True)
class SponsorList:
    """The validated campaign: settings, sponsors in file order, and where the data came from."""

    campaign: Campaign
    sponsors: tuple[Sponsor, ...]
    base_dir: Path
    aliases: dict[str, str] = field(default_factory=dict)

    @cached_property
    def by_slug(self) -> dict[str, Sponsor]:
        return {s.slug: s for s in self.sponsors}

    def get(self, slug: str) -> Sponsor:
        return self.by_slug[slug]

    @cached_property
    def _supporters(self) -> dict[str, list[Sponsor]]:
        by_parent: dict[str, list[Sponsor]] = {}
        for s in self.sponsors:
            if s.nominated_by:
                by_parent.setdefault(s.nominated_by, []).append(s)
        return by_parent

    def supporters_of(self, slug: str) -> list[Sponsor]:
        return self._supporters.get(slug, [])

    def logo_path(self, sponsor: Sponsor) -> Path | None:
        return self.base_dir / sponsor.logo if sponsor.logo else None


@dataclass(frozen=True)
class Problem:
    line: int
    where: str
    message: str


class SponsorsError(Exception):
    """Every problem found in sponsors.yaml, ready to print."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s); nothing was built:"]
        lines += [f"  {self.path.name}:{p.line}: {p.where}: {p.message}" for p in self.problems]
        return "\n".join(lines)
