"""Writing files: the one atomic write and the one reproducible zip, for the build, the admin commands and deploys."""

from __future__ import annotations

import io
import os
import secrets
import zipfile
from collections.abc import Iterable
from pathlib import Path

# A fixed date for zip entries that have no date of their own: the same content always gives the same bytes.
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


def write_atomic(path: Path | str, data: bytes | str, *, durable: bool = False) -> None:
    """Write through a temporary file beside `path` and rename it over `path`, so a reader or a killed process
    never sees half a file under a valid name.

    A replaced file keeps its permissions; a new one gets those a plain open() would give. With `durable`, the
    bytes reach the disk before the rename (a file a person edits: a power cut keeps the old or the new).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def zip_bytes(members: Iterable[tuple[str, bytes]], date_time: tuple[int, ...] = ZIP_EPOCH,
              stored: tuple[str, ...] = ()) -> bytes:
    """A zip whose bytes follow from its members alone: entries in the order given, each dated `date_time`, mode
    644, deflated unless its name ends with one of `stored` (already compressed data is stored, which is faster)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_STORED if name.endswith(stored) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buf.getvalue()
