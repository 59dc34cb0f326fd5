"""Load `sponsors.yaml`, validate every entry and return the campaign model (`model.py`).

All problems are collected and reported together, each with file:line, the sponsor, the field and the fix,
because the secretariat edits hundreds of entries at once and should not meet its mistakes one by one.
"""

from __future__ import annotations

import re
import string
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import MISSING, fields, is_dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Callable, NamedTuple, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from pydantic import (BaseModel, ConfigDict, ValidationError, ValidationInfo, create_model, field_validator,
                      model_validator)

from . import model, yamlfile
from .model import BEIJING, Campaign, Problem, Sponsor, SponsorList, SponsorsError
from .regions import PROVINCES, suggest_province

__all__ = ["Problem", "SponsorList", "SponsorsError", "check_url", "load", "parse_beijing"]

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SUPPORTER_LIMITS = {"media": 2, "enterprise": 3}
PRESS_RELEASE_FIELDS = {"sponsor", "short_name", "role", "link", "campaign", "year", "opens", "closes", "opens_short",
                        "closes_short", "days"}
LOGO_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
# A logo is drawn on a tile of at most a few hundred pixels; these limits leave ample room and keep a hostile file
# (a small PNG declaring billions of pixels, or gigabytes of padding) from being decoded or read by every worker.
LOGO_MAX_PIXELS = 16_000_000
LOGO_MAX_BYTES = 5 * 1024 * 1024
# Characters people read as the same in a link (sz-1ink, sz-link), so two slugs differing only by them are confused.
SLUG_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "_": None, "-": None})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_PLAIN: dict[type[BaseModel], type] = {}  # each input model made by `_input_model`, and the model class it checks


@cache
def _input_model(cls: type) -> type[_Model]:
    """The pydantic model of the model class `cls` (model.py): its fields with their types, defaults and limits as
    declared there, a nested model class checked by its own input model. Checks that need code are added by
    subclassing it (CampaignIn, SponsorIn)."""
    hints = get_type_hints(cls, include_extras=True)
    declared: dict[str, Any] = {
        f.name: (_input_type(hints[f.name]), ... if f.default is MISSING else f.default) for f in fields(cls)
    }
    checked = create_model(f"{cls.__name__}In", __base__=_Model, __module__=__name__, **declared)
    _PLAIN[checked] = cls
    return checked


def _input_type(hint: Any) -> Any:
    """A field's type as its input model checks it: each model class in it replaced by that class's input model
    (tuple[Prize, ...] becomes tuple[PrizeIn, ...]), and `Names` read as a list of names."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return Annotated[(_input_type(args[0]), *hint.__metadata__)]
    if origin is tuple:
        return tuple[tuple(_input_type(arg) for arg in args)]
    if origin in (Union, UnionType):
        return Union[tuple(_input_type(arg) for arg in args)]
    if hint is model.Names:
        return tuple[str, ...]
    return _input_model(hint) if isinstance(hint, type) and is_dataclass(hint) else hint


def _check_slug(value: str) -> str:
    if not SLUG_RE.match(value) or not 2 <= len(value) <= 40:
        raise ValueError(
            f"'{value}' is not a valid slug. Fix: use 2-40 lowercase letters, digits and single hyphens, "
            "e.g. 'guangdong-cyber' (it becomes the sponsor's URL)"
        )
    return value


class TextLineError(ValueError):
    """A problem on one line (0-based) of a multi-line text, so the message can point at the file line."""

    def __init__(self, message: str, text_line: int) -> None:
        super().__init__(message)
        self.text_line = text_line


def check_placeholders(text: str, allowed: set[str]) -> None:
    """Allow only plain `{name}` placeholders from `allowed` in a text filled in with `str.format`.

    A format spec ('{sponsor:>400000000}') would let the file ask for gigabytes, and attribute or index access
    ('{sponsor.__class__}') would reach into Python objects; neither has a use in a press release.
    """
    allowed_list = ", ".join(f"{{{n}}}" for n in sorted(allowed))
    # Line by line: a placeholder never spans lines, and an error then knows its line.
    for number, line in enumerate(text.split("\n")):
        try:
            parts = list(string.Formatter().parse(line))
        except ValueError as exc:
            raise TextLineError(
                f"a '{{' or '}}' without its pair ({exc}). Fix: write a placeholder as {{name}}, or '{{{{' and '}}}}' "
                f"for a brace in the text; placeholders: {allowed_list}", number) from exc
        for _, name, spec, conversion in parts:
            if name is None or (name in allowed and not spec and conversion is None):
                continue
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            if re.split(r"[.\[]", name, maxsplit=1)[0] in allowed:
                raise TextLineError(
                    f"'{shown}' is not a plain placeholder: formatting ('{{name:...}}', '{{name!r}}') and attributes or "
                    f"indexes ('{{name.x}}', '{{name[0]}}') are not allowed. Fix: write just one of {allowed_list}", number)
            raise TextLineError(f"unknown placeholder '{shown}'. Fix: use only {allowed_list}", number)


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError(f"'{value}' is not a web address. Fix: write the full address, e.g. 'https://www.example.cn/'")
    return value


class CampaignIn(_input_model(model.Campaign)):
    """The campaign's checks beyond its fields' declared types and limits."""

    @field_validator("guided_by", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        check_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _beijing_time(cls, value: Any) -> datetime:
        return parse_beijing(value)

    @field_validator("channels")
    @classmethod
    def _channel_keys(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for key in value:
            if not re.match(r"^[a-z0-9-]{2,20}$", str(key)):
                raise ValueError(f"channel key '{key}' must be 2-20 lowercase letters, digits or hyphens")
        poster = info.data.get("poster_channel")
        if poster is not None and poster not in value:
            raise ValueError(f"needs the '{poster}' channel (e.g. '{poster}: 线下海报'): every sponsor's "
                             "poster carries it, so offline scans are counted apart from the website")
        return value

    @field_validator("snippet_channels")
    @classmethod
    def _snippet_channels(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        channels = info.data.get("channels")
        for key in value if channels is not None else ():
            if key not in channels:
                raise ValueError(f"unknown channel '{key}'. Fix: use one of {', '.join(channels)}")
        return value

    @field_validator("deadlines")
    @classmethod
    def _deadlines(cls, value: Any, info: ValidationInfo) -> Any:
        closes = info.data.get("closes")
        if value is None or closes is None:
            return value
        last_day = (closes - timedelta(minutes=1)).date()
        for name in ("links", "prizes"):
            day = getattr(value, name)
            if day > last_day:
                raise ValueError(f"deadlines.{name} ({day}) is after the survey closes. Fix: set it on or before "
                                 f"{last_day}, the last day of the window")
        return value

    @field_validator("press_release", mode="before")
    @classmethod
    def _placeholders(cls, value: Any) -> Any:
        # Before stripping, so a line of the text is a line of the file.
        if isinstance(value, str):
            check_placeholders(value, PRESS_RELEASE_FIELDS)
        return value

    @field_validator("retired_slugs")
    @classmethod
    def _retired(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_slug(v) for v in value)

    @model_validator(mode="after")
    def _window(self) -> CampaignIn:
        if self.closes <= self.opens:
            raise ValueError("the window closes before it opens. Fix: 'closes' must be later than 'opens'")
        if self.documents.issued > (self.closes - timedelta(minutes=1)).date():
            raise ValueError(f"documents.issued ({self.documents.issued}) is after the survey closes. Fix: date the "
                             "授权书 and 邀请函 on or before the last day of the window")
        names = [size.name for size in self.entry_images]
        if len(names) != len(set(names)):
            raise ValueError("two entry_images share a name. Fix: give each size its own name")
        return self


class SponsorIn(_input_model(model.Sponsor)):
    """A sponsor's checks beyond its fields' declared types and limits."""

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _check_slug(value)

    @field_validator("former_slugs")
    @classmethod
    def _former(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_slug(v) for v in value)

    @field_validator("website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("province")
    @classmethod
    def _province(cls, value: str) -> str:
        if value not in PROVINCES:
            guess = suggest_province(value)
            fix = f"write '{guess}'" if guess else "use the full name of one of the 31 provinces, e.g. '广东省'"
            raise ValueError(f"'{value}' is not a province. Fix: {fix}")
        return value


def _plain(value: Any) -> Any:
    """A validated value as the model holds it: an input model's object as its model class's (nested ones too)."""
    if isinstance(value, BaseModel):
        return _convert(_PLAIN[type(value)], value)
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value


def _convert(cls: type, checked: BaseModel, campaign: Campaign | None = None) -> Any:
    """A validated input as a plain model object (nested entries included); a sponsor's with its `campaign`."""
    values = {f.name: _plain(getattr(checked, f.name)) for f in fields(cls)}
    if cls is model.Campaign:
        values["guided_by"] = model.Names(values["guided_by"])
    if cls is model.Sponsor:
        # Every kit holds a poster, and a scan of a printed poster must count as 线下海报, never as the website:
        # so every sponsor has the poster channel, listed or not (without a valid campaign nothing is built).
        poster = campaign.poster_channel if campaign else None
        if poster and poster not in values["channels"]:
            values["channels"] = (*values["channels"], poster)
        values["channels"] = (*values["channels"], *(x.id for x in values["sublinks"]))
    return cls(**values)


def _sublink_fields(item: Any) -> dict[str, str]:
    """channel, key and label of a sub-link, validated or raw (those that are text, stripped)."""
    if isinstance(item, model.Sublink):
        return {"channel": item.channel, "key": item.key, "label": item.label}
    if not isinstance(item, dict):
        return {}
    return {name: value.strip() for name in ("channel", "key", "label") if isinstance(value := item.get(name), str)}


def _slug_key(slug: str) -> str:
    """What a slug looks like to a reader: case, '-', '_', spaces and 0/o, 1/l set aside."""
    return "".join(unicodedata.normalize("NFKC", slug).casefold().split()).translate(SLUG_LOOKALIKES)


def _name_key(name: str) -> str:
    """A name as a reader sees it: full-width letters as normal ones, no spaces, no invisible characters."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def parse_beijing(value: Any) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' in Beijing time; '24:00' means the end of that day, as notices write it."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})", str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a time. Fix: write 'YYYY-MM-DD HH:MM' in Beijing time, e.g. '2020-07-22 09:00'")
    y, mo, d, h, mi = (int(g) for g in match.groups())
    end_of_day = h == 24 and mi == 0
    try:
        moment = datetime(y, mo, d, 0 if end_of_day else h, mi, tzinfo=BEIJING)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid time ({exc}). Fix: write 'YYYY-MM-DD HH:MM'") from exc
    return moment + timedelta(days=1) if end_of_day else moment


def load(path: Path, *, can_draw: Callable[[str], bool] | None = None) -> SponsorList:
    """Read, validate and model `path`; raise SponsorsError listing every problem found."""
    path = Path(path)
    try:
        raw, lines = yamlfile.load(path)
    except FileNotFoundError as exc:
        raise SponsorsError(path, [Problem(1, "file", f"not found. Fix: create {path.name} next to mkdocs.yml")]) from exc
    except yamlfile.YamlProblem as exc:
        raise SponsorsError(path, [Problem(exc.line, "file", exc.message)]) from exc
    checker = _Checker(path, lines, can_draw)
    result = checker.run(raw)
    if checker.problems:
        raise SponsorsError(path, checker.problems)
    assert result is not None
    return result


FIELD_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it or check its spelling",
    "literal_error": "use one of the values listed",
    "string_type": "write it as text",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "tuple_type": "write a list",
    "dict_type": "write a mapping of key: value",
    "too_short": "give at least one",
    "string_too_long": "shorten it",
    "string_too_short": "fill it in",
    "string_pattern_mismatch": "use lowercase letters, digits and hyphens",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "bool_parsing": "write true or false",
    "date_parsing": "write the date as YYYY-MM-DD, e.g. 2020-07-10",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD, e.g. 2020-07-10",
    "date_type": "write the date as YYYY-MM-DD, e.g. 2020-07-10",
}


class _Seen(NamedTuple):
    """The first slug or name met under one look-alike key, and whose it is."""

    value: str
    owner: str
    line: int


class _Checker:
    def __init__(self, path: Path, lines: yamlfile.LineMap, can_draw: Callable[[str], bool] | None) -> None:
        self.path = path
        self.lines = lines
        self.can_draw = can_draw
        self.problems: list[Problem] = []

    def add(self, loc: tuple[str | int, ...], where: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.lines.line_of(loc) if line is None else line, where, message))

    def run(self, raw: Any) -> SponsorList | None:
        if not isinstance(raw, dict) or not {"campaign", "sponsors"} <= raw.keys():
            self.add((), "file", "must have two top-level sections, 'campaign:' and 'sponsors:'. Fix: add the missing one")
            return None
        for key in raw.keys() - {"campaign", "sponsors"}:
            self.add((key,), "file", f"unknown top-level section '{key}'. Fix: remove it or check its spelling")
        campaign_in, _ = self._model(CampaignIn, raw["campaign"], ("campaign",), "campaign")
        campaign = _convert(model.Campaign, campaign_in) if campaign_in is not None else None
        items = raw["sponsors"]
        if not isinstance(items, list):
            self.add(("sponsors",), "sponsors", "must be a list of sponsors (each starting with '- slug:')")
            return None
        sponsors: list[tuple[int, Sponsor]] = []
        for i, item in enumerate(items):
            where = self._label(i, item)
            sponsor, broken = self._model(SponsorIn, item, ("sponsors", i), where)
            if sponsor is not None:
                sponsors.append((i, _convert(model.Sponsor, sponsor, campaign)))
            elif isinstance(item, dict):
                # The fields that are fine still get their own checks, so one pass lists every problem.
                self._check_fields(campaign, i, {k: v for k, v in item.items() if k not in broken}, where)
        if campaign is not None:
            self.raw_slugs = {item.get("slug") for item in items if isinstance(item, dict)}
            self._cross_check(campaign, sponsors)
        self._check_look_alikes(campaign.retired_slugs if campaign else (), items)
        if self.problems or campaign is None:
            return None
        aliases = {old: s.slug for _, s in sponsors for old in s.former_slugs}
        return SponsorList(campaign, tuple(s for _, s in sponsors), self.path.parent, aliases, self._warnings())

    def _warnings(self) -> tuple[Problem, ...]:
        return tuple(
            Problem(cut.line, "text", f"'{cut.comment}' after '{cut.text}' is read as a comment and cut off the "
                                      "text; a '#' with no space after it is usually part of the text, e.g. a Weibo "
                                      f"topic. Fix: quote the whole text, e.g. \"{cut.text} {cut.comment}\", or put a "
                                      "space after '#' if it is a comment")
            for cut in self.lines.cut_texts
        )

    @staticmethod
    def _label(i: int, item: Any) -> str:
        if isinstance(item, dict):
            slug, name = item.get("slug"), item.get("name")
            return f"sponsor #{i + 1} '{slug}'" + (f" ({name})" if name else "")
        return f"sponsor #{i + 1}"

    def _model(self, model: type[_Model], raw: Any, loc: tuple[str | int, ...], where: str) -> tuple[Any, set[Any]]:
        """The validated entry (None if it has problems, each reported) and the top-level fields that failed."""
        try:
            return model.model_validate(raw), set()
        except ValidationError as exc:
            for err in exc.errors():
                self._pydantic_problem(err, loc, where)
            return None, {err["loc"][0] for err in exc.errors() if err["loc"]}

    def _pydantic_problem(self, err: Any, loc: tuple[str | int, ...], where: str) -> None:
        field_loc = tuple(part for part in err["loc"] if part != "[key]")
        field_name = ".".join(str(p) for p in field_loc) or "(entry)"
        line = None
        if err["type"] == "value_error":
            error = err["ctx"]["error"]
            message = str(error)
            if isinstance(error, TextLineError):
                line = self.lines.line_in_text(loc + field_loc, error.text_line)
        else:
            message = err["msg"]
            if err["type"] == "literal_error":
                message = f"{message} (got '{err['input']}')"
            fix = FIELD_FIXES.get(err["type"])
            if fix:
                message += f". Fix: {fix}"
        self.add(loc + field_loc, f"{where}, field '{field_name}'", message, line)

    def _cross_check(self, campaign: Campaign, sponsors: list[tuple[int, Sponsor]]) -> None:
        self._check_slugs(campaign, sponsors)
        by_slug = {s.slug: s for _, s in sponsors}
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for i, s in sponsors:
            where = f"sponsor #{i + 1} '{s.slug}' ({s.name})"
            self._check_fields(campaign, i, {"channels": s.own_channels, "logo": s.logo, "name": s.name,
                                             "short_name": s.short_name, "sublinks": s.sublinks}, where)
            if s.is_initiator:
                if s.nominated_by:
                    self.add(("sponsors", i, "nominated_by"), f"{where}, field 'nominated_by'",
                             "an initiator is not nominated by anyone. Fix: remove 'nominated_by' or change 'kind'")
                continue
            if not s.nominated_by:
                self.add(("sponsors", i, "kind"), f"{where}, field 'nominated_by'",
                         "a support unit needs the slug of the initiator that nominated it. Fix: add 'nominated_by: <slug>'")
                continue
            parent = by_slug.get(s.nominated_by)
            if parent is None and s.nominated_by in self.raw_slugs:
                continue  # the nominating entry has problems of its own, already reported
            if parent is None or not parent.is_initiator:
                what = "no sponsor has" if parent is None else "that sponsor is not an initiator, and only initiators nominate; it has"
                self.add(("sponsors", i, "nominated_by"), f"{where}, field 'nominated_by'",
                         f"{what} the slug '{s.nominated_by}'. Fix: write the slug of an initiator listed in this file")
                continue
            counts[parent.slug][s.kind] += 1
            limit = SUPPORTER_LIMITS[s.kind]
            if counts[parent.slug][s.kind] == limit + 1:
                self.add(("sponsors", i, "nominated_by"), f"{where}, field 'nominated_by'",
                         f"'{parent.slug}' already nominated {limit} {s.kind} support units, the most allowed. "
                         "Fix: remove one, or ask the secretariat for an exception and list it under another initiator")

    def _check_slugs(self, campaign: Campaign, sponsors: list[tuple[int, Sponsor]]) -> None:
        seen: dict[str, str] = {slug: "retired_slugs in campaign" for slug in campaign.retired_slugs}
        for i, s in sponsors:
            where = f"sponsor #{i + 1} '{s.slug}' ({s.name})"
            for loc, slug in [(("sponsors", i, "slug"), s.slug)] + [
                (("sponsors", i, "former_slugs", j), old) for j, old in enumerate(s.former_slugs)
            ]:
                if slug in seen:
                    self.add(loc, f"{where}, field '{loc[2]}'",
                             f"slug '{slug}' is already used by {seen[slug]}; two sponsors cannot share a URL. "
                             "Fix: choose another slug")
                else:
                    seen[slug] = f"sponsor #{i + 1} '{s.slug}'"

    def _check_look_alikes(self, retired: tuple[str, ...], items: list[Any]) -> None:
        """Slugs that differ only by case, '-' or '_', or 0/o and 1/l, and names that differ only by spaces or
        character width, belong to sponsors people cannot tell apart: links get mixed up and counts go to the
        wrong sponsor. Raw entries are compared, so an entry with other problems is checked too."""
        slugs: dict[str, _Seen] = {}
        for j, old in enumerate(retired):
            loc = ("campaign", "retired_slugs", j)
            slugs.setdefault(_slug_key(old), _Seen(old, "retired_slugs in campaign", self.lines.line_of(loc)))
        names: dict[str, _Seen] = {}
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            where, owner = self._label(i, item), f"sponsor #{i + 1} '{item.get('slug')}'"
            candidates = [(("sponsors", i, "slug"), item.get("slug"))]
            if isinstance(item.get("former_slugs"), list):
                candidates += [(("sponsors", i, "former_slugs", j), old) for j, old in enumerate(item["former_slugs"])]
            for loc, slug in candidates:
                if not isinstance(slug, str):
                    continue
                slug = slug.strip()
                first = slugs.setdefault(_slug_key(slug), _Seen(slug, owner, self.lines.line_of(loc)))
                # A sponsor's own former slug may look like its slug; an exact repeat is _check_slugs' to report.
                if first.owner != owner and first.value != slug:
                    self.add(loc, f"{where}, field '{loc[2]}'",
                             f"slug '{slug}' looks like '{first.value}' of {first.owner} ({self.path.name}:{first.line}): "
                             "they differ only by case, '-' or '_', or 0/o and 1/l, and people typing or reading the "
                             "links would mix them up. Fix: choose a clearly different slug")
            name, loc = item.get("name"), ("sponsors", i, "name")
            if isinstance(name, str) and _name_key(name):
                first = names.setdefault(_name_key(name), _Seen(name.strip(), owner, self.lines.line_of(loc)))
                if first.owner != owner:
                    self.add(loc, f"{where}, field 'name'",
                             f"name '{name.strip()}' is the name of {first.owner} ({self.path.name}:{first.line}) as "
                             "well (spaces and full-width letters aside). Fix: give each sponsor its own full name, "
                             "or remove the repeated entry")

    def _check_fields(self, campaign: Campaign | None, i: int, values: dict[str, Any], where: str) -> None:
        """The checks of single fields beyond their type, on whichever of them passed it (a string, a list)."""
        channels = values.get("channels")
        if campaign is not None and isinstance(channels, (list, tuple)):
            self._check_channels(campaign, i, tuple(str(c).strip() for c in channels), where)
        sublinks = values.get("sublinks")
        if campaign is not None and isinstance(sublinks, (list, tuple)):
            self._check_sublinks(campaign, i, [_sublink_fields(x) for x in sublinks], where)
        if isinstance(values.get("logo"), str):
            self._check_logo(i, values["logo"].strip(), where)
        self._check_glyphs(i, {f: v.strip() for f in ("name", "short_name") if isinstance(v := values.get(f), str)}, where)

    def _check_channels(self, campaign: Campaign, i: int, channels: tuple[str, ...], where: str) -> None:
        for j, key in enumerate(channels):
            loc = ("sponsors", i, "channels", j)
            if key not in campaign.channels:
                self.add(loc, f"{where}, field 'channels'",
                         f"unknown channel '{key}'. Fix: use one of {', '.join(campaign.channels)}")
            elif key in channels[:j]:
                self.add(loc, f"{where}, field 'channels'", f"channel '{key}' is listed twice. Fix: keep one")

    def _check_sublinks(self, campaign: Campaign, i: int, items: list[dict[str, str]], where: str) -> None:
        keys: dict[tuple[str, str], int] = {}
        for j, item in enumerate(items):
            loc = ("sponsors", i, "sublinks", j)
            channel, key, label = item.get("channel"), item.get("key"), item.get("label")
            if channel is not None and channel not in campaign.channels:
                self.add((*loc, "channel"), f"{where}, field 'sublinks'",
                         f"unknown channel '{channel}' for a sub-link. Fix: use one of {', '.join(campaign.channels)}")
            if channel is not None and key is not None:
                first = keys.setdefault((channel, key), j)
                if first != j:
                    self.add((*loc, "key"), f"{where}, field 'sublinks'",
                             f"sub-link key '{key}' is used twice for channel '{channel}' (also sub-link #{first + 1}, "
                             f"{self.path.name}:{self.lines.line_of(('sponsors', i, 'sublinks', first, 'key'))}); "
                             f"each becomes the link /s/<slug>/{channel}.{key}/. Fix: give each its own key")
            if label is not None and self.can_draw is not None:
                missing = sorted({ch for ch in label if not self.can_draw(ch)})
                if missing:
                    self.add((*loc, "label"), f"{where}, field 'sublinks'",
                             f"the font cannot draw {' '.join(repr(c) for c in missing)} of label '{label}'. Fix: "
                             "remove or replace these characters")

    def _check_logo(self, i: int, logo_path: str, where: str) -> None:
        if not logo_path:
            return
        from PIL import Image, UnidentifiedImageError

        loc, field = ("sponsors", i, "logo"), f"{where}, field 'logo'"
        logo = self._logo_inside_project(logo_path)
        if logo is None:
            self.add(loc, field, f"'{logo_path}' is outside {self.path.parent.resolve()}, the folder that holds "
                                 f"{self.path.name}; logos are read only from there (symbolic links included). "
                                 "Fix: copy the logo into site_src/logos/ and write its path relative to "
                                 f"{self.path.name}, e.g. 'site_src/logos/{Path(logo_path).name}'")
            return
        if not logo.is_file():
            self.add(loc, field,
                     f"file '{logo_path}' not found (looked in {self.path.parent}). Fix: correct the path, or remove "
                     "'logo' to draw a text mark")
            return
        size = logo.stat().st_size
        if size > LOGO_MAX_BYTES:
            self.add(loc, field, f"'{logo_path}' is {size / 1024 / 1024:.1f} MB; a logo may be at most "
                                 f"{LOGO_MAX_BYTES // 1024 // 1024} MB. Fix: export it smaller, e.g. as a PNG of "
                                 "at most 1000×1000 pixels")
            return
        too_big = (f"a logo may have at most {LOGO_MAX_PIXELS:,} pixels (e.g. 4000×4000). Fix: export it smaller, "
                   "e.g. as a PNG of at most 1000×1000 pixels")
        try:
            # Pillow only warns between its two bomb limits; as an error it stops before any pixel is decoded.
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(logo) as image:  # reads the header only
                    width, height = image.size
                    if width * height > LOGO_MAX_PIXELS:
                        self.add(loc, field, f"'{logo_path}' declares {width}×{height} pixels; {too_big}")
                        return
                    image.verify()
                    fmt = image.format
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            self.add(loc, field, f"'{logo_path}' declares far too many pixels; {too_big}")
            return
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            self.add(loc, field, f"'{logo_path}' is not a readable image ({exc}). Fix: save it as PNG or JPEG")
            return
        if fmt not in LOGO_FORMATS:
            self.add(loc, field, f"'{logo_path}' is {fmt}. Fix: save it as PNG or JPEG")

    def _logo_inside_project(self, logo: str) -> Path | None:
        """The logo's path if it stays inside the folder of sponsors.yaml once '..' and links are followed."""
        allowed = self.path.parent.resolve()
        relative = Path(logo)
        if "\0" in logo or relative.is_absolute() or ".." in relative.parts:
            return None
        try:
            target = (allowed / relative).resolve()
        except (OSError, RuntimeError):  # a symbolic link loop
            return None
        return target if target.is_relative_to(allowed) else None

    def _check_glyphs(self, i: int, texts: dict[str, str], where: str) -> None:
        if self.can_draw is None:
            return
        for field_name, text in texts.items():
            missing = sorted({ch for ch in text if not self.can_draw(ch)})
            if missing:
                self.add(("sponsors", i, field_name), f"{where}, field '{field_name}'",
                         f"the font cannot draw {' '.join(repr(c) for c in missing)}. Fix: remove or replace these characters")
