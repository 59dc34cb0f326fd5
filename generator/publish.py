"""Publish a build: put the generated folders in place and make the new site the live one in one step.

A `mkdocs build` writes into a staging folder beside the site (`site.partial`). Entry pages and media kits, tens of
thousands of small files, are placed there afterwards: creating folders is the slowest part of writing a site, and a
rebuild changes few of these. Each folder (a "subtree": one sponsor's entry links, one sponsor's kit) carries a
stamp, the hash of what it holds. A subtree whose stamp equals the one in the site the previous build replaced
(kept whole as `site.prev`) is moved from there with one rename; only the others are written, files from the image
cache by hard link. The live site is only ever read, never emptied, so a build killed at any step leaves it whole;
the staging folder then replaces it in one exchange of names, and the replaced site becomes the next `site.prev`.

Some files are the same in every subtree (a topic's form, byte-identical under every sponsor's link): such a shared
copy counts in its subtree's stamp by where it stands and which shared file it is, not by that file's bytes. Each
site has its own file of every shared name (under SHARED, never published), every copy in it a hard link of that
file, and the stamps file records which cached file's bytes it holds. The site's own files move from the replaced
site with its folders, so after an edit of one form only that form's file is rewritten, in place: every copy moved
with it holds the new bytes at once. The live site has files of its own, never touched.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from .cache import Asset

STAMPS = ".sponsor-pages-stamps.json"
SHARED = ".sponsor-pages-shared"  # the site's own file of each shared name, every copy of it a hard link of that file
STAGING = ".partial"  # suffix of the folder a build writes into
DONOR = ".prev"  # suffix of the site the last build replaced: where unchanged subtrees are taken from
REPLACED = ".old-"  # prefix of folders being removed in the background


class Entry(NamedTuple):
    rel: str  # path inside the subtree
    text: str | None = None  # a generated page
    source: str | None = None  # or a cached file
    shared: str = ""  # a copy of a file many subtrees share: that file's name, the same in each ("pro/ai/index.html")


class Copy(NamedTuple):
    """A shared file's copy at one site path."""

    uri: str
    shared: str  # the shared file's name
    source: str  # the cached file it is a hard link of


class Tree(NamedTuple):
    """A subtree: its stamp and what it holds. `entries` is None where a remembered build left them on disk until a
    subtree must be written (see place's `load`); `links` are the folders in it that hold a copy of every shared
    file (a sponsor's attributed links), so its copies can be linked again without loading it."""

    stamp: str
    entries: tuple[Entry, ...] | None
    links: tuple[str, ...] = ()


def subtree_of(uri: str) -> str | None:
    """The subtree a site path belongs to, if any: `s/<slug>` or `sponsors/<slug>/kit`."""
    parts = uri.split("/")
    if parts[0] == "s" and len(parts) > 2:
        return f"s/{parts[1]}"
    if parts[0] == "sponsors" and len(parts) > 3 and parts[2] == "kit":
        return f"sponsors/{parts[1]}/kit"
    return None


def group(pages: list[tuple[str, str]], files: list[Asset], stamps: dict[str, str] | None = None,
          copies: Iterable[Copy] = (), previous: dict[str, Tree] | None = None) -> dict[str, Tree]:
    """Subtrees of the given static pages (site path, text), cached files and shared copies; paths outside any are
    left out.

    `stamps` are those of an earlier grouping of exactly these pages, files and copies' names: given, nothing is
    hashed again. A subtree holding what it held in `previous` (an earlier grouping) keeps its stamp unhashed.
    """
    entries: dict[str, list[Entry]] = {}
    links: dict[str, set[str]] = {}
    for uri, text in pages:
        name = subtree_of(uri)
        if name:
            entries.setdefault(name, []).append(Entry(uri[len(name) + 1:], text=text))
    for asset in files:
        name = subtree_of(asset.uri)
        if name:
            entries.setdefault(name, []).append(Entry(asset.uri[len(name) + 1:], source=asset.path))
    for copy in copies:
        name = subtree_of(copy.uri)
        if name:
            rel = copy.uri[len(name) + 1:]
            entries.setdefault(name, []).append(Entry(rel, source=copy.source, shared=copy.shared))
            if rel.endswith(copy.shared):
                links.setdefault(name, set()).add(rel[:len(rel) - len(copy.shared)])
    trees = {}
    for name, items in sorted(entries.items()):
        items.sort(key=lambda e: e.rel)
        below = tuple(sorted(links.get(name, ())))
        if stamps and name in stamps:
            trees[name] = Tree(stamps[name], tuple(items), below)
            continue
        before = previous.get(name) if previous else None
        if before is not None and before.entries is not None and _same(before.entries, items):
            trees[name] = Tree(before.stamp, tuple(items), below)
            continue
        trees[name] = Tree(stamp(items), tuple(items), below)
    return trees


def stamp(items: Iterable[Entry]) -> str:
    """The hash of what a subtree holds. A cached file is named after its content, so its name stands for its bytes;
    a shared copy stands for whatever its shared file holds, which the stamps file records once for all subtrees."""
    return hashlib.sha256("".join(
        f"{e.rel}\0{f'={e.shared}' if e.shared else os.path.basename(e.source) if e.source else e.text}\0"
        for e in items).encode()).hexdigest()


def _same(before: tuple[Entry, ...], items: list[Entry]) -> bool:
    """Whether two subtrees' entries make the same stamp: equal but for the file a shared copy links to. A reused
    page is the very string it was, so comparing is much cheaper than hashing."""
    return len(before) == len(items) and all(
        a.rel == b.rel and a.text == b.text and a.shared == b.shared and (a.shared or a.source == b.source)
        for a, b in zip(before, items))


def place(trees: dict[str, Tree], site: Path, previous: Path | None = None, shared: dict[str, str] | None = None,
          load: Callable[[str], tuple[Entry, ...]] | None = None) -> int:
    """Fill `site` with every subtree, moving unchanged ones out of `previous`; return how many were written.

    A moved subtree has the copies of shared files that changed since `previous` was written linked again. If
    anything fails, the subtrees already moved go back, so `previous` is whole again. `shared` names each shared
    file's current source (else it is read from the trees' entries); `load` gives the entries of a subtree whose
    tree has none in memory, only called for subtrees that are written.
    """
    old_stamps, old_shared = _stamps(previous) if previous else ({}, {})
    if shared is None:
        shared = {e.shared: e.source or "" for t in trees.values() for e in t.entries or () if e.shared}
    files = {name: os.path.basename(source) for name, source in shared.items()}
    moved: list[tuple[Path, Path]] = []
    relinked: set[str] = set()
    own: dict[str, str] = {}
    written = 0
    try:
        fresh = _own_files(shared, files, old_shared, site, previous, moved, own)
        for name, tree in trees.items():
            target = site / name
            source = previous / name if previous else None
            if source is not None and old_stamps.get(name) == tree.stamp and source.is_dir() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(source, target)
                moved.append((target, source))
                stale = _copies(tree, fresh, own) if fresh else []
                if stale:
                    relinked.add(name)
                    _relink(target, stale)
            else:
                entries = tree.entries if tree.entries is not None or load is None else load(name)
                _write(tree._replace(entries=tuple(e._replace(source=own[e.shared]) if e.shared else e
                                                   for e in entries or ())), target)
                written += 1
        _write_stamps(site, {n: t.stamp for n, t in trees.items()}, files)
    except BaseException:
        for target, source in reversed(moved):
            os.rename(target, source)
        if relinked and previous is not None:
            _forget(previous, relinked)
        raise
    return written


def _own_files(shared: dict[str, str], files: dict[str, str], old_shared: dict[str, str], site: Path,
               previous: Path | None, moved: list[tuple[Path, Path]], own: dict[str, str]) -> set[str]:
    """Give `site` its own file of each shared name (into `own`): the previous site's, moved (and listed in
    `moved`), its bytes rewritten in place where they changed; else a new copy of the cached file. Return the names
    whose file is new: the copies in folders moved from `previous` must be linked to it."""
    folder = site / SHARED
    folder.mkdir(parents=True, exist_ok=True)
    kept, fresh = {}, set()
    for name in shared:
        own[name] = str(folder / _slot(name))
        donor = previous / SHARED / _slot(name) if previous is not None else None
        if donor is not None and name in old_shared and donor.is_file():
            kept[name] = donor
        else:
            fresh.add(name)
    rewrite = [name for name in kept if old_shared[name] != files[name]]
    if rewrite and previous is not None:
        # Its record no longer holds for these once rewritten: if this build stops, the next makes them anew.
        stamps, recorded = _stamps(previous)
        _write_stamps(previous, stamps, {n: f for n, f in recorded.items() if n not in rewrite})
    for name, donor in kept.items():
        os.rename(donor, own[name])
        moved.append((Path(own[name]), donor))
    for name in rewrite:
        _rewrite(shared[name], own[name])
    for name in fresh:
        temporary = own[name] + ".new"
        shutil.copyfile(shared[name], temporary)
        os.replace(temporary, own[name])
    return fresh


def _slot(name: str) -> str:
    return name.replace("/", "__")


def _rewrite(source: str, path: str) -> None:
    """Put the bytes of `source` into the file at `path`, the same file: every hard link of it shows them."""
    shutil.copyfile(source, path)


def _copies(tree: Tree, names: set[str], own: dict[str, str]) -> list[Entry]:
    """A subtree's copies of the shared files `names`, each with the site's own file of it as its source."""
    if tree.entries is not None:
        return [e._replace(source=own[e.shared]) for e in tree.entries if e.shared in names]
    return [Entry(link + name, source=own[name], shared=name) for link in tree.links for name in sorted(names)]


def kept(site: Path) -> dict[str, str]:
    """The stamps of the subtrees the next publish of `site` can move instead of writing (those of the site it
    replaced last time, `site.prev`, that are there)."""
    donor = site.with_name(site.name + DONOR)
    stamps = _stamps(donor)[0] if donor.is_dir() else {}
    return {name: s for name, s in stamps.items() if os.path.isdir(donor / name)}


def _stamps(site: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The stamps a site was placed with, and which cached file each shared name had."""
    try:
        data = json.loads((site / STAMPS).read_text())
        return dict(data["subtrees"]), dict(data["shared"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}, {}


def _write_stamps(site: Path, stamps: dict[str, str], shared: dict[str, str]) -> None:
    (site / STAMPS).write_text(json.dumps({"subtrees": stamps, "shared": shared}, indent=0, sort_keys=True))


def _forget(previous: Path, names: set[str]) -> None:
    """Subtrees put back into `previous` after their shared copies were linked again no longer match its record:
    drop their stamps, so the next build writes them afresh (or, failing that, forget every stamp)."""
    stamps, shared = _stamps(previous)
    try:
        _write_stamps(previous, {n: s for n, s in stamps.items() if n not in names}, shared)
    except OSError:
        (previous / STAMPS).unlink(missing_ok=True)


def _relink(target: Path, copies: list[Entry]) -> None:
    """Point each of these copies in a moved subtree at the site's own file of it: a new link beside it, then
    renamed over it, so no reader of the folder ever finds the file missing."""
    for entry in copies:
        path = os.path.join(target, entry.rel)
        temporary = path + ".relink"
        try:
            os.link(entry.source or "", temporary)
        except FileExistsError:
            os.unlink(temporary)
            os.link(entry.source or "", temporary)
        except OSError:  # another filesystem, or no hard links there
            shutil.copyfile(entry.source or "", temporary)
        os.replace(temporary, path)


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


def staging(site: Path) -> Path:
    return site.with_name(site.name + STAGING)


def prepare(site: Path) -> Path:
    """Before a build: clear what killed builds left (a staging folder; replaced sites whose removal stopped) and
    return the empty staging folder's path."""
    for leftover in site.parent.glob(f"{site.name}{REPLACED}*"):
        if time.time() - leftover.stat().st_mtime > 600:  # younger ones may still be being removed
            shutil.rmtree(leftover, ignore_errors=True)
    stage = staging(site)
    if stage.exists():
        remove(stage, site)
    return stage


def publish(trees: dict[str, Tree], stage: Path, site: Path, shared: dict[str, str] | None = None,
            load: Callable[[str], tuple[Entry, ...]] | None = None) -> int:
    """Fill `stage` with every subtree, then make it the live `site`; return how many subtrees were written.

    Unchanged subtrees are moved out of the site replaced last time, never out of the live one. `shared` and `load`
    as for place.
    """
    donor = site.with_name(site.name + DONOR)
    written = place(trees, stage, donor if donor.is_dir() else None, shared, load)
    replaced = _swap(stage, site)
    if donor.exists():
        remove(donor, site)
    if replaced is not None:
        os.rename(replaced, donor)
    return written


def remove(folder: Path, site: Path) -> None:
    """Rename `folder` out of the way at once and delete it in the background: a build need not wait for thousands
    of unlinks."""
    aside = Path(tempfile.mkdtemp(prefix=f"{site.name}{REPLACED}", dir=site.parent))
    os.rename(folder, aside / folder.name)
    try:
        subprocess.Popen(
            [sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)", str(aside)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError:
        shutil.rmtree(aside, ignore_errors=True)


def _swap(stage: Path, site: Path) -> Path | None:
    """Make `stage` the site; return where the replaced site is now (None if there was none)."""
    if not site.exists():
        os.rename(stage, site)
        return None
    if _exchange(stage, site):
        return stage
    # Where the system cannot exchange two names, there is a moment without a site between two renames.
    aside = site.with_name(f"{site.name}{REPLACED}{secrets.token_hex(4)}")
    os.rename(site, aside)
    os.rename(stage, site)
    return aside


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a kernel or filesystem without it
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))
