"""The sponsors and the window the collection API knows: `sponsors.json`, written by the site generator.

The generator emits it from sponsors.yaml with every build, so the set of sponsors, their channels, former slugs
and the survey window have one source. A submission naming a sponsor or channel not in it is still stored, as
unattributed, with what it claimed kept beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # the campaign's time, in every day and hour it counts
UNATTRIBUTED = "-"  # never a slug or a channel: those start with a letter or digit
# The kinds of sponsor, as the campaign's documents name them. Labels are read in running text and often inside
# brackets ("北京广电（核心媒体支持单位）"), so they carry none themselves.
KIND_LABELS = {"initiator": "发起单位", "media": "核心媒体支持单位", "enterprise": "核心企业支持单位"}
KINDS = tuple(KIND_LABELS)


@dataclass(frozen=True)
class Sublink:
    """An extra attributed link of one channel kind with its own label (one per school, shop, event): its id,
    `<channel>.<key>`, is one more channel of its sponsor wherever channels are named."""

    id: str
    channel: str  # the base channel
    key: str
    label: str


@dataclass(frozen=True)
class Prize:
    provider: str
    item: str
    quantity: int
    scope: str  # local (only for respondents of the sponsor's province) | national
    note: str = ""


@dataclass(frozen=True)
class SponsorInfo:
    slug: str
    name: str
    kind: str  # one of KINDS
    province: str
    nominated_by: str | None
    channels: frozenset[str]  # base channels and sub-link ids
    sublinks: tuple[Sublink, ...] = ()
    prizes: tuple[Prize, ...] = ()
    order: tuple[str, ...] = ()  # the channels as the sponsor list orders them


def base_channel(channel: str) -> str:
    """The channel kind of a channel id: a sub-link `poster.yizhong` counts under `poster`."""
    return channel.split(".", 1)[0]


@dataclass(frozen=True)
class Catalog:
    opens: datetime
    closes: datetime
    site_url: str
    aliases: dict[str, str]  # former slug -> current slug
    sponsors: dict[str, SponsorInfo] = field(default_factory=dict)  # in the sponsor list's order
    channels: dict[str, str] = field(default_factory=dict)  # the campaign's channel kinds: key -> label
    deadlines: dict[str, datetime] = field(default_factory=dict)  # "links", "prizes": the instant each passes

    def days(self) -> list[str]:
        """Every Beijing-time day of the window, first to last."""
        first = self.opens.astimezone(BEIJING).date()
        last = (self.closes - timedelta(microseconds=1)).astimezone(BEIJING).date()
        return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]

    def attribute(self, sponsor: str, channel: str) -> tuple[str, str]:
        """The (sponsor, channel) a submission counts for; UNATTRIBUTED where the list does not know them."""
        slug = self.aliases.get(sponsor, sponsor)
        info = self.sponsors.get(slug)
        if info is None:
            return UNATTRIBUTED, UNATTRIBUTED
        return slug, channel if channel in info.channels else UNATTRIBUTED

    def nominated(self, initiator: str) -> list[SponsorInfo]:
        """The support units an initiator nominated, in the sponsor list's order."""
        return [s for s in self.sponsors.values() if s.nominated_by == initiator]

    def channel_label(self, slug: str, channel: str) -> str:
        """What a sponsor's channel is called: a sub-link's own label, or the campaign's name of the kind."""
        info = self.sponsors.get(slug)
        for sub in info.sublinks if info else ():
            if sub.id == channel:
                return sub.label
        return self.channels.get(channel, channel)

    def passed(self, deadline: str, now: datetime) -> bool:
        """Whether a deadline ("links", "prizes") has passed at `now`; one the campaign does not set never does."""
        at = self.deadlines.get(deadline)
        return at is not None and now >= at

    def window(self, now: datetime) -> str:
        """"open", "not_open" or "closed" at `now`; the window is [opens, closes) in Beijing time."""
        if now < self.opens:
            return "not_open"
        return "open" if now < self.closes else "closed"


def seconds_to_midnight(now: datetime) -> int:
    """Seconds until the next Beijing day begins: when a daily allowance starts again."""
    local = now.astimezone(BEIJING)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))


def day_of(now: datetime) -> str:
    """The Beijing-time calendar day, the unit of every daily count."""
    return now.astimezone(BEIJING).date().isoformat()


def utc_iso(moment: datetime, timespec: str = "seconds") -> str:
    """A moment as every stored time is written: ISO 8601 in UTC, ending in Z (`timespec` as datetime.isoformat's;
    receipt times are written to the millisecond, so they sort as they happened)."""
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def load(path: Path) -> Catalog:
    """Read sponsors.json; keys a build before sub-links, prizes and deadlines did not write read as empty."""
    data = json.loads(path.read_text(encoding="utf-8"))
    c = data["campaign"]
    return Catalog(
        opens=datetime.fromisoformat(c["opens"]),
        closes=datetime.fromisoformat(c["closes"]),
        site_url=c["site_url"],
        aliases=dict(data.get("aliases", {})),
        sponsors={slug: _sponsor(slug, s) for slug, s in data["sponsors"].items()},
        # Older builds wrote the channel kinds beside the campaign, not in it.
        channels=dict(c.get("channels") or data.get("channels") or {}),
        deadlines={k: datetime.fromisoformat(v) for k, v in (c.get("deadlines") or {}).items() if v},
    )


def _sponsor(slug: str, s: dict) -> SponsorInfo:
    subs = tuple(Sublink(x["id"], x["channel"], x["key"], x["label"]) for x in s.get("sublinks") or ())
    prizes = tuple(Prize(p["provider"], p["item"], int(p["quantity"]), p.get("scope", "national"), p.get("note") or "")
                   for p in s.get("prizes") or ())
    order = tuple(dict.fromkeys([*s["channels"], *(x.id for x in subs)]))
    return SponsorInfo(slug, s["name"], s["kind"], s["province"], s.get("nominated_by"), frozenset(order), subs,
                       prizes, order)
