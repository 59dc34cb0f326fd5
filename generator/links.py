"""Where everything lives: one place that turns slugs and channels into site paths and attributed URLs.

A sponsor's attributed link carries the sponsor and the channel in the path, not in a query string, because chat
apps and link shorteners strip query strings.
"""

from __future__ import annotations

from .model import Campaign, Sponsor


def entry_path(slug: str, channel: str, questionnaire: str = "") -> str:
    """The attributed link; the first questionnaire lives at it, any other one in a folder below it."""
    return f"s/{slug}/{channel}/{questionnaire}/" if questionnaire else f"s/{slug}/{channel}/"


def entry_url(campaign: Campaign, slug: str, channel: str) -> str:
    return campaign.site_url + entry_path(slug, channel)


def sponsor_path(slug: str) -> str:
    return f"sponsors/{slug}/"


def kit_path(slug: str, filename: str) -> str:
    return f"sponsors/{slug}/kit/{filename}"


def base_channel(channel: str) -> str:
    """The campaign channel a channel id belongs to: itself, or for a sub-link `<channel>.<key>` the part before
    the dot."""
    return channel.split(".", 1)[0]


def channel_label(campaign: Campaign, sponsor: Sponsor, channel: str) -> str:
    """What a channel id is called wherever it is shown: the campaign's name for the channel, and for a sub-link
    that name and the sub-link's own label (线下海报 · 北京市第一中学)."""
    sub = sponsor.sublink(channel)
    name = campaign.channels[base_channel(channel)]
    return f"{name} · {sub.label}" if sub else name


def primary_channel(sponsor: Sponsor, *preferred: str) -> str:
    """The first of `preferred` the sponsor uses, else its first channel."""
    for channel in preferred:
        if channel in sponsor.channels:
            return channel
    return sponsor.channels[0]


def snippet_channel(campaign: Campaign, sponsor: Sponsor) -> str:
    """The channel an entry image's HTML snippet links to: the first of the campaign's snippet channels the sponsor
    uses (image snippets go on web pages), else its first channel."""
    return primary_channel(sponsor, *campaign.snippet_channels)


def poster_channel(campaign: Campaign, sponsor: Sponsor) -> str:
    """The channel a poster's QR code carries: the sponsor's own offline channel (the campaign's poster channel,
    which every sponsor has), so a scan of a printed poster is counted as 线下海报, never as its website."""
    if campaign.poster_channel not in sponsor.channels:
        raise ValueError(f"sponsor '{sponsor.slug}' has no '{campaign.poster_channel}' channel for its poster's "
                         "QR code")
    return campaign.poster_channel
