"""Put the site's generated folders in place: entry pages and media kits, tens of thousands of small files.

Creating folders is the slowest part of writing a site, and a rebuild changes few of these. Each folder (a
"subtree": one sponsor's entry links, one sponsor's kit) carries a stamp, the hash of what it holds. A subtree whose
stamp equals the previous site's is moved from there with one rename; only the others are written, files from the
image cache by hard link.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

from .cache import Asset

STAMPS = ".sponsor-pages-stamps.json"


class Entry(NamedTuple):
    rel: str  # path inside the subtree
    text: str | None = None  # a generated page
    source: str | None = None  # or a cached file


class Tree(NamedTuple):
    stamp: str
    entries: tuple[Entry, ...]


def subtree_of(uri: str) -> str | None:
    """The subtree a site path belongs to, if any: `s/<slug>` or `sponsors/<slug>/kit`."""
    parts = uri.split("/")
    if parts[0] == "s" and len(parts) > 2:
        return f"s/{parts[1]}"
    if parts[0] == "sponsors" and len(parts) > 3 and parts[2] == "kit":
        return f"sponsors/{parts[1]}/kit"
    return None


def group(pages: list[tuple[str, str]], files: list[Asset]) -> dict[str, Tree]:
    """Subtrees of the given static pages (site path, text) and cached files; paths outside any are left out."""
    entries: dict[str, list[Entry]] = {}
    for uri, text in pages:
        name = subtree_of(uri)
        if name:
            entries.setdefault(name, []).append(Entry(uri[len(name) + 1:], text=text))
    for asset in files:
        name = subtree_of(asset.uri)
        if name:
            entries.setdefault(name, []).append(Entry(asset.uri[len(name) + 1:], source=asset.path))
    trees = {}
    for name, items in sorted(entries.items()):
        items.sort(key=lambda e: e.rel)
        digest = hashlib.sha256()
        for e in items:
            # A cached file is named after its content, so its name stands for its bytes.
            digest.update(f"{e.rel}\0{os.path.basename(e.source) if e.source else e.text}\0".encode())
        trees[name] = Tree(digest.hexdigest(), tuple(items))
    return trees


def place(trees: dict[str, Tree], site: Path, previous: Path | None = None) -> int:
    """Fill `site` with every subtree, moving unchanged ones out of `previous`; return how many were written.

    If anything fails, the subtrees already moved go back, so `previous` is whole again.
    """
    old_stamps = _stamps(previous) if previous else {}
    moved: list[tuple[Path, Path]] = []
    written = 0
    try:
        for name, tree in trees.items():
            target = site / name
            source = previous / name if previous else None
            if source is not None and old_stamps.get(name) == tree.stamp and source.is_dir() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(source, target)
                moved.append((target, source))
            else:
                _write(tree, target)
                written += 1
        (site / STAMPS).write_text(json.dumps({n: t.stamp for n, t in trees.items()}, indent=0, sort_keys=True))
    except BaseException:
        for target, source in reversed(moved):
            os.rename(target, source)
        raise
    return written


def _stamps(site: Path) -> dict[str, str]:
    try:
        return json.loads((site / STAMPS).read_text())
    except (OSError, ValueError):
        return {}


def _write(tree: Tree, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    made: set[str] = set()
    for entry in tree.entries:
        path = os.path.join(target, entry.rel)
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        if entry.source is None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(entry.text or "")
            continue
        try:
            os.link(entry.source, path)
        except OSError:  # another filesystem, or no hard links there
            shutil.copyfile(entry.source, path)
