"""The media kits are zipped with their members deflated side by side (assets.zip_on_all_cores): the bytes must be
exactly those of the one reproducible zip writer, lambdas.files.zip_bytes, so that a kit packed by either is the same
file."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from generator.assets import zip_on_all_cores
from lambdas.files import ZIP_EPOCH, zip_bytes

DRAWING = ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M1 2h3v4h-3z"/></svg>\n' * 2000).encode()


@pytest.mark.parametrize("date_time", [ZIP_EPOCH, (2026, 11, 28, 9, 0, 0), (2025, 2, 3, 23, 59, 59)])
def test_same_bytes_as_the_one_zip_writer(date_time: tuple[int, ...]) -> None:
    # GIVEN members as a kit holds them: texts with Chinese names, drawings, stored PNGs, a PDF, an empty file
    members = [
        ("使用说明.txt", "问卷入口图片与二维码的使用说明。\n".encode() * 40),
        ("documents/bj-授权书.pdf", os.urandom(50_000)),
        ("images/bj-poster-1080x1920.png", os.urandom(30_000)),
        ("images/bj-poster-1080x1920.svg", DRAWING),
        ("qr/bj-qr-web.svg", DRAWING[:777]),
        ("qr/empty.txt", b""),
    ]
    # WHEN both write them
    ours = zip_on_all_cores(members, date_time, stored=(".png",))
    # THEN the bytes are the same, and the zip reads back
    assert ours == zip_bytes(members, date_time, stored=(".png",))
    with zipfile.ZipFile(io.BytesIO(ours)) as archive:
        assert archive.testzip() is None
        assert [(i.filename, archive.read(i)) for i in archive.infolist()] == members
        assert archive.getinfo("images/bj-poster-1080x1920.png").compress_type == zipfile.ZIP_STORED


def test_no_members() -> None:
    assert zip_on_all_cores([], ZIP_EPOCH) == zip_bytes([], ZIP_EPOCH)
