"""Content-addressed store for drawn files.

A file's name is the hash of everything that decides its bytes (canonical JSON of the inputs, the bytes of input
files, the font's digest and the renderer version), so a present file is always current and nothing needs a
manifest: a changed input is a different name, an unchanged one is found again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple


class Asset(NamedTuple):
    """A cached file and the site path it is published at (plain strings: thousands are remembered per build)."""

    uri: str
    path: str


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def key(*parts: Any) -> str:
    return hashlib.sha256(canonical(list(parts))).hexdigest()


class FileDigests:
    """sha256 of input files, read once per build."""

    def __init__(self) -> None:
        self._seen: dict[Path, str] = {}

    def __call__(self, path: Path | None) -> str | None:
        if path is None:
            return None
        if path not in self._seen:
            self._seen[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._seen[path]


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._prefix = str(self.root)

    def path(self, digest: str, ext: str) -> str:
        return f"{self._prefix}/{digest[:2]}/{digest}.{ext}"

    def listing(self) -> set[str]:
        """Every file in the store, from one directory listing per shard: far fewer system calls than a stat each."""
        found: set[str] = set()
        try:
            shards = os.scandir(self._prefix)
        except FileNotFoundError:
            return found
        with shards:
            for shard in shards:
                if len(shard.name) == 2 and shard.is_dir():
                    found.update(f"{self._prefix}/{shard.name}/{name}" for name in os.listdir(shard.path))
        return found
