"""Read a YAML file into plain data while remembering the line of every key and list item.

PyYAML throws line numbers away once it builds Python objects; validation messages need them, so this walks
the node tree itself and records `path -> line` on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass
class YamlProblem(Exception):
    line: int
    message: str


@dataclass
class LineMap:
    """Lines (1-based) of every node in a document, keyed by its path from the root."""

    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def load(path: Path) -> tuple[Any, LineMap]:
    """Parse `path`; raise YamlProblem with the line on a syntax error or a repeated key."""
    text = path.read_text(encoding="utf-8")
    # libyaml's parser when present: same nodes and marks, several times faster on a large sponsor list.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        lines = LineMap()
        data = _build(loader, node, (), lines) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"YAML syntax error: {exc.problem or exc.context}") from exc
    finally:
        loader.dispose()
    return data, lines


def _build(loader: Any, node: yaml.Node, path: Path_, lines: LineMap) -> Any:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise YamlProblem(key_node.start_mark.line + 1, "a key must be plain text")
            if key in result:
                raise YamlProblem(
                    key_node.start_mark.line + 1,
                    f"key '{key}' appears twice in the same block; keep one",
                )
            lines.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _build(loader, value_node, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
