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

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
UNATTRIBUTED = "-"  # never a slug or a channel: those start with a letter or digit


@dataclass(frozen=True)
class SponsorInfo:
    slug: str
    name: str
    kind: str  # initiator, media, enterprise
    province: str
    nominated_by: str | None
    channels: frozenset[str]


@dataclass(frozen=True)
class Catalog:
    opens: datetime
    closes: datetime
    site_url: str
    aliases: dict[str, str]  # former slug -> current slug
    sponsors: dict[str, SponsorInfo] = field(default_factory=dict)  # in the sponsor list's order

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


def load(path: Path) -> Catalog:
    data = json.loads(path.read_text(encoding="utf-8"))
    c = data["campaign"]
    return Catalog(
        opens=datetime.fromisoformat(c["opens"]),
        closes=datetime.fromisoformat(c["closes"]),
        site_url=c["site_url"],
        aliases=dict(data.get("aliases", {})),
        sponsors={slug: SponsorInfo(slug, s["name"], s["kind"], s["province"], s.get("nominated_by"),
                                    frozenset(s["channels"]))
                  for slug, s in data["sponsors"].items()},
    )
