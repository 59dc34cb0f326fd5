"""The campaign model: plain frozen objects, made by `sponsors.load` once validation has passed.

Each field of sponsors.yaml is declared here once, with its limits (pydantic's `Field` inside `Annotated`, which the
dataclasses themselves ignore); `sponsors.py` derives its input models from these declarations and adds the checks
that need code. Nothing here validates or parses; everything downstream (pages, images, links) works on these
objects only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from lambdas.survey.catalog import BEIJING, KIND_LABELS

Kind = Literal["initiator", "media", "enterprise"]
SUBLINK_LABEL_MAX = 40  # drawn under a QR code and on a poster, so it must stay short
PRIZE_TERMS_MAX = 400  # printed on every form near its submit button: a few sentences, not a page of rules


@dataclass(frozen=True)
class EntrySize:
    """One configured entry-image size (问卷入口图片)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    label: Annotated[str, Field(min_length=1)]
    width: Annotated[int, Field(ge=100, le=4000)]
    height: Annotated[int, Field(ge=30, le=4000)]
    qr: bool = False


@dataclass(frozen=True)
class Prize:
    """A prize a sponsor secured for netizens who submit valid answers."""

    provider: Annotated[str, Field(min_length=1)]
    item: Annotated[str, Field(min_length=1)]
    quantity: Annotated[int, Field(ge=1)]
    scope: Literal["local", "national"] = "national"


@dataclass(frozen=True)
class Sublink:
    """A sub-link (子链接): one more attributed link of a channel kind, with its own label (a school, a shop)."""

    channel: str  # its base channel, a campaign channel key
    key: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,30}$")]
    label: Annotated[str, Field(min_length=1, max_length=SUBLINK_LABEL_MAX)]

    @property
    def id(self) -> str:
        """The channel id it is counted and published under: `<channel>.<key>`."""
        return f"{self.channel}.{self.key}"


@dataclass(frozen=True)
class Deadlines:
    """The days by which sponsors report to the secretariat; each ends at 24:00 Beijing time."""

    links: date  # how many links (sub-links) each sponsor needs
    prizes: date  # the prizes sponsors secured

    def text(self, name: Literal["links", "prizes"]) -> str:
        """A deadline as the notice writes it: 7月10日."""
        day: date = getattr(self, name)
        return f"{day.month}月{day.day}日"

    def passes(self, name: Literal["links", "prizes"]) -> datetime:
        """The moment a deadline passes: the start of the Beijing day after its date."""
        day: date = getattr(self, name)
        return datetime(day.year, day.month, day.day, tzinfo=BEIJING) + timedelta(days=1)


class Names(tuple[str, ...]):
    """Organisations named together (指导单位, 主办单位): iterated one by one in a list, printed as running text."""

    def __str__(self) -> str:
        return "、".join(self)


@dataclass(frozen=True)
class Secretariat:
    """The secretariat (秘书处): it runs the campaign (承办单位) and answers sponsors' and the public's questions."""

    name: Annotated[str, Field(min_length=2, max_length=60)]
    contact: Annotated[str, Field(max_length=20)] = ""
    phone: Annotated[str, Field(pattern=r"^(\+?[0-9][0-9 -]{4,18}[0-9])?$")] = ""
    email: Annotated[str, Field(pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")] = ""


@dataclass(frozen=True)
class Documents:
    """How the 授权书 and 邀请函 are numbered and dated."""

    prefix: Annotated[str, Field(min_length=1, max_length=10)]
    issued: date

    def number(self, year: int, series: str, sequence: int) -> str:
        """A document number as official letters write it, e.g. 网安调授〔2020〕007号."""
        return f"{self.prefix}{series}〔{year}〕{sequence:03d}号"


_CN_DIGITS = "〇一二三四五六七八九"


def chinese_date(day: date) -> str:
    """A date as an official document signs it: 二〇二〇年六月二十日."""

    def small(n: int) -> str:  # 1-31
        tens, ones = divmod(n, 10)
        return (("" if tens == 1 else _CN_DIGITS[tens]) + "十" if tens else "") + (_CN_DIGITS[ones] if ones else "")

    return "".join(_CN_DIGITS[int(d)] for d in str(day.year)) + f"年{small(day.month)}月{small(day.day)}日"


# Keyword-only, so fields stand in the order sponsors.yaml documents them (and problems are listed in), defaults or not.
@dataclass(frozen=True, kw_only=True)
class Campaign:
    """Campaign-wide settings: everything that is the same for every sponsor."""

    name: Annotated[str, Field(min_length=1)]
    year: Annotated[int, Field(ge=2018, le=2100)]
    organizer: Annotated[str, Field(min_length=1)]
    guided_by: Names = Names()  # 指导单位
    secretariat: Secretariat
    documents: Documents
    # ICP 备案号, printed in every page's footer once the site has one
    icp: Annotated[str, Field(pattern=r"^([\u4e00-\u9fff]ICP[备证]\d{6,10}号(-\d{1,3})?)?$")] = ""
    site_url: str
    opens: datetime
    closes: datetime
    slogans: Annotated[tuple[str, ...], Field(min_length=1)]
    press_release: Annotated[str, Field(min_length=1)]
    # The channel every poster's QR code carries: every sponsor has it, listed or not, so that a scan of a printed
    # poster is counted as offline, never as the sponsor's website. Before `channels`, which must hold it.
    poster_channel: str = "poster"
    channels: Annotated[dict[str, str], Field(min_length=1)]
    # The channels an entry image's HTML snippet links to, the first of them a sponsor has (else its first channel):
    # snippets go on web pages.
    snippet_channels: tuple[str, ...] = ("website", "app", "wechat")
    entry_images: Annotated[tuple[EntrySize, ...], Field(min_length=1)]
    placement: tuple[str, ...] = ()
    retired_slugs: tuple[str, ...] = ()
    deadlines: Deadlines | None = None
    # How prizes are given, shown beside them on forms and the thank-you page.
    prize_terms: Annotated[str, Field(max_length=PRIZE_TERMS_MAX)] = ""

    @property
    def hosted_by(self) -> str:
        """主办单位: the organising committee, which also signs the 授权书 and 邀请函."""
        return self.organizer

    @property
    def run_by(self) -> str:
        """承办单位: the secretariat."""
        return self.secretariat.name

    @property
    def issued_text(self) -> str:
        """The documents' date in an official document's own style (二〇二〇年六月二十日)."""
        return chinese_date(self.documents.issued)

    @property
    def opens_short(self) -> str:
        """The opening as a press release writes it: 7月22日9时 (上午 and 下午 are left to the text)."""
        minutes = f"{self.opens.minute}分" if self.opens.minute else ""
        return f"{self.opens.month}月{self.opens.day}日{self.opens.hour}时{minutes}"

    @property
    def closes_short(self) -> str:
        """The close as a press release writes it: 7月31日24时."""
        end = self.closes
        if end.hour == 0 and end.minute == 0:
            return f"{self.last_day.month}月{self.last_day.day}日24时"
        minutes = f"{end.minute}分" if end.minute else ""
        return f"{end.month}月{end.day}日{end.hour}时{minutes}"

    @property
    def days(self) -> int:
        """How many calendar days the window touches: 7月22日 9:00 to 7月31日 24:00 is 10."""
        return (self.last_day.date() - self.opens.date()).days + 1

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


@dataclass(frozen=True, kw_only=True)
class Sponsor:
    """One sponsoring organisation: an initiator (发起单位) or a support unit (支持单位)."""

    slug: str
    name: Annotated[str, Field(min_length=2, max_length=200)]
    short_name: Annotated[str, Field(min_length=1, max_length=60)]
    kind: Kind
    province: str
    city: str | None = None
    logo: str | None = None
    website: str | None = None
    nominated_by: str | None = None
    # Those listed, then the poster channel if not listed and the sub-links' ids (the loader adds them).
    channels: Annotated[tuple[str, ...], Field(min_length=1)]
    prizes: tuple[Prize, ...] = ()
    former_slugs: tuple[str, ...] = ()
    # Its sub-links; their ids are in `channels` too, after its own channels, since a sub-link is counted,
    # published and redirected as one more channel of the sponsor.
    sublinks: tuple[Sublink, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_initiator(self) -> bool:
        return self.kind == "initiator"

    def sublink(self, channel: str) -> Sublink | None:
        """The sub-link a channel id names, or None for one of the sponsor's own channels."""
        return next((x for x in self.sublinks if x.id == channel), None)

    @property
    def own_channels(self) -> tuple[str, ...]:
        """Its channels without its sub-links."""
        ids = {x.id for x in self.sublinks}
        return tuple(ch for ch in self.channels if ch not in ids)


@dataclass(frozen=True)
class Problem:
    line: int
    where: str
    message: str


@dataclass(frozen=True)
class SponsorList:
    """The validated campaign: settings, sponsors in file order, and where the data came from."""

    campaign: Campaign
    sponsors: tuple[Sponsor, ...]
    base_dir: Path
    aliases: dict[str, str] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()  # likely mistakes that still make a valid list, for `check` to show

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

    @cached_property
    def _sequence(self) -> dict[str, int]:
        return {s.slug: i for i, s in enumerate(self.sponsors, 1)}

    @cached_property
    def _initiator_sequence(self) -> dict[str, int]:
        return {s.slug: i for i, s in enumerate((s for s in self.sponsors if s.is_initiator), 1)}

    def certificate_number(self, sponsor: Sponsor) -> str:
        """The 授权书 number: the campaign year and the sponsor's place in the list (new sponsors go at the end)."""
        c = self.campaign
        return c.documents.number(c.year, "授", self._sequence[sponsor.slug])

    def invitation_number(self, sponsor: Sponsor) -> str:
        """The 支持单位邀请函 number of an initiator: the year and its place among the initiators."""
        c = self.campaign
        return c.documents.number(c.year, "邀", self._initiator_sequence[sponsor.slug])

    def logo_path(self, sponsor: Sponsor) -> Path | None:
        return self.base_dir / sponsor.logo if sponsor.logo else None


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
