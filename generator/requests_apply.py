"""Apply a sponsor's approved request to sponsors.yaml: a new sponsor, a sub-link or a prize, and nothing else.

The file is the secretariat's own: its comments, order, quoting and layout must survive an edit made by a command.
ruamel.yaml reads it (round-trip, with every node's line and column) and writes each new value, so the new text is
quoted as YAML needs; the new lines are then spliced in where they belong, in the indentation of their neighbours.
A whole-document dump would not do: ruamel.yaml writes every list with one indentation, and this file indents the
sponsor list and each sponsor's `prizes:` differently, so it would re-indent dozens of lines nobody changed.

The result is validated by the same code as `python -m generator check` before it replaces the file (atomically);
a change that fails it is refused with the report, and the file stays byte for byte as it was.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from lambdas.files import write_atomic

from .fonts import FontMissing
from .model import SponsorsError

APPLIED = ("nominate", "initiator", "sublink", "prize")  # placement and contact change no file
NEW_CHANNELS = ("website", "wechat")  # a new sponsor's links until it says where else it publishes
SLUG_SUFFIX = {"media": "media", "enterprise": "ent"}
MAX_SLUG = 40


class ApplyError(Exception):
    """A request that cannot be applied as it stands; the message says why and what to do."""


@dataclass(frozen=True)
class Applied:
    path: Path
    before: bytes  # the file as it was, to put back if the request cannot be marked approved
    summary: str  # what was added, in one line


def apply(path: Path, kind: str, sponsor: str, fields: dict[str, Any], slug: str | None = None) -> Applied:
    """Apply one approved request to the sponsor list at `path`, or raise ApplyError leaving it untouched."""
    path = Path(path)
    before = path.read_bytes()
    text, summary = edit(before.decode("utf-8"), kind, sponsor, fields, slug)
    _validate(path, text)
    write_atomic(path, text.encode("utf-8"), durable=True)
    return Applied(path, before, summary)


def _validate(path: Path, text: str) -> None:
    """Check `text` as `python -m generator check` checks sponsors.yaml. The copy sits next to the original, so
    logo paths, which are relative to the file, resolve as they will."""
    from .build import read  # the check's own entry point: the schema, the cross-checks and the font's glyphs

    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".check.yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        read(Path(temp))
    except SponsorsError as exc:
        lines = [f"{path}: the change fails the check, so {path.name} was not changed:"]
        # Messages that point at another line name the file they read: the copy's name is the original's here.
        lines += [f"  {path.name}:{p.line}: {p.where}: {p.message}".replace(Path(temp).name, path.name)
                  for p in exc.problems]
        raise ApplyError("\n".join(lines)) from exc
    except FontMissing as exc:
        raise ApplyError(f"{path}: cannot run the check ({exc}); {path.name} was not changed") from exc
    finally:
        Path(temp).unlink(missing_ok=True)


# -- the edit -------------------------------------------------------------------------------------------------------

def edit(text: str, kind: str, sponsor: str, fields: dict[str, Any], slug: str | None = None) -> tuple[str, str]:
    """The sponsor list with the request's entry added, and a one-line summary. Only lines are added."""
    doc = _yaml().load(text)
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("sponsors"), CommentedSeq):
        raise ApplyError("sponsors.yaml has no 'sponsors:' list to add to. Fix: run `python -m generator check`")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    sponsors: CommentedSeq = doc["sponsors"]
    if kind in ("nominate", "initiator"):
        new_slug = slug or _derived_slug(doc, kind, sponsor, fields)
        entry = _new_sponsor(kind, sponsor, fields, new_slug)
        at, block = _append_sponsor(lines, doc, entry)
        summary = f"new sponsor '{new_slug}' ({entry['name']}) at the end of the list"
    elif kind in ("sublink", "prize"):
        index = _index_of(sponsors, sponsor)
        key, value = (("sublinks", {k: fields[k] for k in ("channel", "key", "label")}) if kind == "sublink" else
                      ("prizes", {"provider": fields["provider"], "item": fields["item"],
                                  "quantity": int(fields["quantity"]), "scope": fields["scope"]}))
        at, block = _append_to_list(lines, doc, index, key, value)
        what = f"sub-link {value['channel']}.{value['key']}" if kind == "sublink" else f"prize {value['item']}"
        summary = f"{what} for '{sponsor}'"
    else:
        raise ApplyError(f"a {kind} request changes no file")
    return "".join(lines[:at] + block + lines[at:]), summary


def _yaml() -> YAML:
    y = YAML()  # round-trip: comments, key order, flow style and quotes are read with their positions
    y.preserve_quotes = True
    y.width = 100_000  # never fold a long name
    return y


def _dump(value: Any) -> list[str]:
    """`value` as YAML lines (for a one-key mapping: `key: value`), quoted only where YAML needs it."""
    out = io.StringIO()
    _yaml().dump(value, out)
    return out.getvalue().splitlines(keepends=True)


def _text(value: Any) -> Any:
    """A text as the generator will read it back. The generator reads YAML 1.1 (PyYAML), where a plain `yes`, `no`,
    `on` or `2020-07-22` is no text; ruamel.yaml writes YAML 1.2 and leaves those plain. Quote them."""
    if isinstance(value, str) and yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False)) != \
            "tag:yaml.org,2002:str":
        return DoubleQuotedScalarString(value)
    return value


def _flow(value: dict[str, Any] | list[Any]) -> CommentedMap | CommentedSeq:
    node = (CommentedMap({k: _text(v) for k, v in value.items()}) if isinstance(value, dict)
            else CommentedSeq(_text(v) for v in value))
    node.fa.set_flow_style()
    return node


def _new_sponsor(kind: str, nominator: str, fields: dict[str, Any], slug: str) -> dict[str, Any]:
    # Contact fields stay in the table: personal data never goes into the sponsor list or anything built from it.
    entry: dict[str, Any] = {"slug": slug, "name": fields["name"], "short_name": fields["short_name"],
                             "kind": fields["kind"] if kind == "nominate" else "initiator",
                             "province": fields["province"], "website": fields["website"]}
    if kind == "nominate":
        entry["nominated_by"] = nominator
    entry["channels"] = _flow(list(NEW_CHANNELS))
    return entry


def _derived_slug(doc: CommentedMap, kind: str, nominator: str, fields: dict[str, Any]) -> str:
    if kind == "initiator":
        raise ApplyError("a new initiator needs a slug (its URL, e.g. guangdong-netorg). Fix: pass --slug NEW_SLUG")
    taken = {str(s) for item in doc["sponsors"] if isinstance(item, dict)
             for s in [item.get("slug"), *(item.get("former_slugs") or [])]}
    taken |= {str(s) for s in (doc.get("campaign") or {}).get("retired_slugs") or []}
    n = 1
    while (slug := f"{nominator}-{SLUG_SUFFIX[fields['kind']]}-{n}") in taken:
        n += 1
    if len(slug) > MAX_SLUG:
        raise ApplyError(f"the derived slug '{slug}' is longer than {MAX_SLUG} characters. Fix: pass --slug NEW_SLUG")
    return slug


def _index_of(sponsors: CommentedSeq, slug: str) -> int:
    for i, item in enumerate(sponsors):
        if isinstance(item, dict) and item.get("slug") == slug:
            return i
    raise ApplyError(f"no sponsor '{slug}' in sponsors.yaml. Fix: check the slug (it may have been renamed)")


def _last_content(lines: list[str], start: int, stop: int) -> int:
    """The index after the last line in [start, stop) that is neither blank nor a comment (comments before the
    next entry belong to it)."""
    end = start + 1
    for i in range(start, stop):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            end = i + 1
    return end


def _item_end(lines: list[str], doc: CommentedMap, seq: CommentedSeq, i: int) -> int:
    """The line after the end of item `i` of `seq`."""
    if i + 1 < len(seq):
        stop = _dash_line(lines, seq, i + 1)
    else:
        stop = _after_seq(lines, doc, seq)
    return _last_content(lines, seq.lc.item(i)[0], stop)


def _after_seq(lines: list[str], doc: CommentedMap, seq: CommentedSeq) -> int:
    """The first line past the sponsor list: the next top-level key's, or the end of the file."""
    keys = list(doc.keys())
    k = keys.index("sponsors")
    return doc.lc.key(keys[k + 1])[0] if k + 1 < len(keys) else len(lines)


def _dash_line(lines: list[str], seq: CommentedSeq, i: int) -> int:
    """The line of item i's '-' (the item's own line, unless the dash stands alone on the line before)."""
    line, col = seq.lc.item(i)
    return line if lines[line][:col].strip().endswith("-") else line - 1


def _dash_column(lines: list[str], seq: CommentedSeq, i: int) -> tuple[int, int]:
    """Columns of item i's '-' and of its content, as the file writes them."""
    line, col = seq.lc.item(i)
    before = lines[line][:col]
    dash = before.rstrip().rfind("-")
    if dash < 0:  # the item starts on the line after its dash: "-\n  slug: x"
        above = lines[line - 1]
        return above.index("-"), col
    return dash, col


def _append_sponsor(lines: list[str], doc: CommentedMap, entry: dict[str, Any]) -> tuple[int, list[str]]:
    # The neighbours' layout: the last sponsor's dash and key columns.
    sponsors: CommentedSeq = doc["sponsors"]
    dash, key_col = _dash_column(lines, sponsors, len(sponsors) - 1) if sponsors else (2, 4)
    block: list[str] = []
    for n, (key, value) in enumerate(entry.items()):
        for text in _dump(CommentedMap({key: _text(value)})):
            prefix = " " * dash + "-" + " " * (key_col - dash - 1) if n == 0 and not block else " " * key_col
            block.append(prefix + text)
    at = _item_end(lines, doc, sponsors, len(sponsors) - 1) if sponsors else _after_seq(lines, doc, sponsors)
    return at, block


def _append_to_list(lines: list[str], doc: CommentedMap, index: int, key: str,
                    value: dict[str, Any]) -> tuple[int, list[str]]:
    sponsors: CommentedSeq = doc["sponsors"]
    item: CommentedMap = sponsors[index]
    existing = item.get(key)
    if isinstance(existing, CommentedSeq) and len(existing) and existing.fa.flow_style() is not True:
        # After the list's last item, written as that item is: "- {...}" on one line, or a block mapping.
        dash, content = _dash_column(lines, existing, len(existing) - 1)
        keys = list(item.keys())
        k = keys.index(key)
        stop = item.lc.key(keys[k + 1])[0] if k + 1 < len(keys) else _item_end(lines, doc, sponsors, index)
        at = _last_content(lines, existing.lc.item(len(existing) - 1)[0], stop)
        return at, _list_item(value, _is_flow(existing[-1]), dash, content)
    if key in item:
        raise ApplyError(f"sponsor '{item.get('slug')}' has '{key}:' written in a way this command does not edit "
                         f"(empty, or as one [..] list). Fix: write it as a list of '- {{...}}' lines, or add the "
                         "entry by hand")
    # No list yet: the key goes at the end of the sponsor's entry, its items laid out as other sponsors' are.
    key_col = item.lc.key(next(iter(item)))[1]
    offset, flow = _nested_habit(lines, doc, key)
    at = _item_end(lines, doc, sponsors, index)
    return at, [" " * key_col + f"{key}:\n"] + _list_item(value, flow, key_col + offset, key_col + offset + 2)


def _is_flow(node: Any) -> bool:
    return not isinstance(node, CommentedMap) or node.fa.flow_style() is True


def _list_item(value: dict[str, Any], flow: bool, dash: int, content: int) -> list[str]:
    """One list item, its dash and its content at the given columns: "- {k: v, ...}", or a block mapping."""
    node = _flow(value)
    if not flow:
        node.fa.set_block_style()
    rendered = _dump(CommentedSeq([node]))  # "- ..." then, for a block mapping, "  k: v" lines
    first = " " * dash + "-" + " " * (content - dash - 1) + rendered[0][2:]
    return [first] + [" " * content + line[2:] for line in rendered[1:]]


def _nested_habit(lines: list[str], doc: CommentedMap, key: str) -> tuple[int, bool]:
    """How the file writes a sponsor's nested list: the dash's offset from its key and whether items are flow
    mappings, from the same list of other sponsors first, then any nested list; else the dash under the key's
    first letter and flow mappings, as the contract's examples write them."""
    for names in ((key,), ("prizes", "sublinks")):
        for item in doc["sponsors"]:
            for name in names:
                seq = item.get(name) if isinstance(item, dict) else None
                if isinstance(seq, CommentedSeq) and len(seq) and seq.fa.flow_style() is not True:
                    dash, _ = _dash_column(lines, seq, 0)
                    return dash - item.lc.key(name)[1], _is_flow(seq[0])
    return 0, True
