"""Read a YAML file into plain data while remembering the line of every key and list item.

PyYAML throws line numbers away once it builds Python objects; validation messages need them, so this walks
the node tree itself and records `path -> line` on the way.

The file is edited by hand and may be pasted from anywhere, so every way it can be malformed or hostile ends as a
YamlProblem with a line: wrong encoding, forbidden characters, values that do not fit their tag, and aliases that
expand without bound ("billion laughs") or refer to themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

Path_ = tuple[str | int, ...]

# A sponsor list of a few hundred entries is well under 1 MB; anything far bigger is the wrong file.
MAX_BYTES = 8 * 1024 * 1024
# Values in the document once every alias is expanded. The sample has about 4,000; a few repeated lists cost
# little, while nested aliases can ask for billions and would exhaust memory long before an error.
MAX_VALUES = 200_000
# A '#' right after a text, on its line, starts a comment; with no space after it, it is almost always part of the
# text (a Weibo topic, #话题#) that YAML silently cuts off.
TOPIC_COMMENT = re.compile(r"\s+(#\S.*)$")


class CutText(NamedTuple):
    """A text that a same-line comment looking like part of it (#话题#) cut short."""

    line: int
    text: str
    comment: str


@dataclass
class YamlProblem(Exception):
    line: int
    message: str


@dataclass
class LineMap:
    """Lines (1-based) of every node in a document, keyed by its path from the root."""

    lines: dict[Path_, int] = field(default_factory=dict)
    # First line of the text of each literal block (`key: |`), whose line breaks are the file's own.
    blocks: dict[Path_, int] = field(default_factory=dict)
    # Texts followed on their line by a comment that reads as part of them.
    cut_texts: list[CutText] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def line_in_text(self, path: Path_, text_line: int) -> int:
        """The file line of line `text_line` (0-based) of the text at `path`; the text's own line if that is not
        known (a quoted or folded text re-flows its lines)."""
        path = tuple(path)
        if path in self.blocks:
            return self.blocks[path] + text_line
        return self.line_of(path)


def load(path: Path) -> tuple[Any, LineMap]:
    """Parse `path`; raise YamlProblem with the line on a syntax error, a repeated key or a hostile construct."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlProblem(1, f"the file is {size / 1024 / 1024:.1f} MB; a sponsor list is well under 1 MB and at most "
                             f"{MAX_BYTES // 1024 // 1024} MB is read. Fix: check that this is the right file")
    text = _decode(path.read_bytes())
    # libyaml's parser when present: same nodes and marks, several times faster on a large sponsor list.
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # Aliases need anchors and an anchor is always written '&': most files skip the second pass.
        if "&" in text:
            _check_aliases(loader_class, text)
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            lines = LineMap()
            data = _build(loader, node, (), lines, text.splitlines()) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"YAML syntax error: {exc.problem or exc.context}") from exc
    except yaml.reader.ReaderError as exc:
        # libyaml counts bytes, the Python reader characters; the first such character is the one it stopped at.
        line = text[: max(text.find(chr(exc.character)), 0)].count("\n") + 1
        raise YamlProblem(line, f"the character {chr(exc.character)!r} (U+{exc.character:04X}) is not allowed in YAML. "
                                "Fix: delete it (it is often pasted in unseen from a word processor)") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"YAML error: {exc}") from exc
    except RecursionError as exc:  # the pure-Python parser has no nesting limit of its own
        raise YamlProblem(1, "lists and mappings are nested too deeply. Fix: check the brackets and indentation") from exc
    return data, lines


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblem(line, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on this line). Fix: save it "
                                "as UTF-8 (in most editors: Save As, encoding UTF-8)") from exc


def _check_aliases(loader_class: type, text: str) -> None:
    """Refuse aliases that refer to themselves or expand past MAX_VALUES, counting from the parser's events
    (each anchor's expanded size once), so nothing is ever expanded to find out."""
    loader = loader_class(text)
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, expanded size so far] of each open collection
    total = 0
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([event.anchor, 1])
                total += 1
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, count = stack.pop()
                if anchor is not None:
                    sizes[anchor] = count
            elif isinstance(event, yaml.ScalarEvent):
                count = 1
                total += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1
                if any(anchor == event.anchor for anchor, _ in stack):
                    raise YamlProblem(line, f"the alias *{event.anchor} is used inside its own anchor &{event.anchor}, "
                                            "which never ends. Fix: write the value out instead")
                if event.anchor not in sizes:
                    continue  # an undefined alias: the composer reports it with its own message
                count = sizes[event.anchor]
                total += count
                if total > MAX_VALUES:
                    raise YamlProblem(line, f"the alias *{event.anchor} makes the file expand to more than "
                                            f"{MAX_VALUES:,} values (nested aliases, a 'billion laughs'). "
                                            "Fix: write the values out instead of repeating aliases of aliases")
            else:
                continue
            if stack:
                stack[-1][1] += count
    finally:
        loader.dispose()


def _build(loader: Any, node: yaml.Node, path: Path_, lines: LineMap, source: list[str]) -> Any:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node)
            if not _plain_key(key):
                raise YamlProblem(key_node.start_mark.line + 1, "a key must be plain text")
            if key in result:
                raise YamlProblem(
                    key_node.start_mark.line + 1,
                    f"key '{key}' appears twice in the same block; keep one",
                )
            lines.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _build(loader, value_node, path + (key,), lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), lines, source) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode) and node.style == "|":
        lines.blocks[path] = node.start_mark.line + 2  # the text starts on the line after the '|'
    value = _construct(loader, node)
    if isinstance(node, yaml.ScalarNode) and isinstance(value, str) and node.end_mark.line < len(source):
        after = TOPIC_COMMENT.match(source[node.end_mark.line][node.end_mark.column:])
        if after:
            lines.cut_texts.append(CutText(node.end_mark.line + 1, value, after.group(1)))
    return value


def _plain_key(key: Any) -> bool:
    try:
        hash(key)  # a set or a list as a key ('? !!set ...') would otherwise end in a TypeError
    except TypeError:
        return False
    return key is not None


def _construct(loader: Any, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML builds dates and numbers with Python's own constructors, which raise plain errors without a line.
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        shown = node.value if isinstance(node, yaml.ScalarNode) else "this value"
        raise YamlProblem(node.start_mark.line + 1, f"'{shown}' cannot be read as {tag} ({exc}). Fix: correct it, "
                                                    "or quote it to keep it as text") from exc

