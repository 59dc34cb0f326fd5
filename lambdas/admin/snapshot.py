"""Snapshots: each finished day's counts frozen into a file that carries the hash of the previous day's file.

Once a Beijing day is over, its counts are written to `<day>.json` and never rewritten. Each file names the SHA-256
of the one before it, so editing any day's file afterwards breaks the chain at the next day, which `verify` reports.
Published with the site, the files let anyone audit a disputed ranking against what was announced at the time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from lambdas.files import write_atomic
from lambdas.survey import counts
from lambdas.survey.catalog import BEIJING, Catalog

GENESIS = "0" * 64


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content(day: str, rows: list[counts.Row], cat: Catalog, previous: str, created: datetime) -> dict[str, Any]:
    mine = [r for r in rows if r.day == day]
    board = counts.leaderboard(mine, cat)
    return {
        "day": day,
        "previous": previous,
        "created": created.astimezone(BEIJING).isoformat(timespec="seconds"),
        "total": counts.campaign(mine, [day])["total"],
        "unattributed": counts.unattributed(mine),
        "sponsors": {e["sponsor"]: {"received": e["received"], "valid": e["valid"]} for e in board},
        "provinces": {p["province"]: {"received": p["received"], "valid": p["valid"]} for p in counts.provinces(mine)},
    }


def freeze(folder: Path, rows: list[counts.Row], cat: Catalog, now: datetime) -> list[str]:
    """Write the files of every finished day not yet frozen, in order; returns the days written."""
    folder.mkdir(parents=True, exist_ok=True)
    today = now.astimezone(BEIJING).date().isoformat()
    previous = GENESIS
    written = []
    for day in cat.days():
        if day >= today:
            break
        path = folder / f"{day}.json"
        if not path.exists():
            text = json.dumps(content(day, rows, cat, previous, now), ensure_ascii=False, indent=1, sort_keys=True)
            write_atomic(path, text + "\n")
            written.append(day)
        previous = digest(path)
    return written


def verify(folder: Path) -> list[str]:
    """Problems in the chain (empty when every file is as it was written)."""
    problems = []
    previous = GENESIS
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"{path.name}: not valid JSON ({exc})")
            previous = digest(path)
            continue
        if data.get("previous") != previous:
            problems.append(f"{path.name}: names {str(data.get('previous'))[:12]}… as the previous file, but that file "
                            f"now hashes to {previous[:12]}…: the previous day's file was changed after it was frozen")
        if data.get("day") != path.stem:
            problems.append(f"{path.name}: holds day {data.get('day')}")
        previous = digest(path)
    return problems
