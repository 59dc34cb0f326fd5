"""The documents are printed in the serif reduced to the characters in common use, the whole face behind it.

A name with a character outside the reduced face (堃, 喆: not in GB 2312) must still show that character's glyph,
taken from the whole face, never a blank box; every embedded face must keep each glyph's CID equal to its index,
as the whole face does, or a viewer that finds glyphs by CID draws other characters; and the same documents must
print to the same bytes from a fresh cache.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from generator import documents, fonts, sponsors
from generator.cache import Store
from tests.conftest import CAMPAIGN, SMALL_SPONSORS, write_project
from tests.generator import pdf_reader

RARE = "堃喆"
NAME = f"深圳{RARE}融媒体中心"

pytestmark = pytest.mark.skipif(len(fonts.document_font_files()) < 2 or fonts.harfbuzz_version() is None,
                                reason="needs the documents' serif (fonts-noto-cjk) and HarfBuzz's subsetter")


def _print(tmp: Path) -> tuple[dict[str, dict[str, bytes]], tuple[documents.Face, ...]]:
    """Every document of the small sponsor list (one sponsor named with rare characters), printed into a new cache."""
    project = write_project(tmp / "project", (CAMPAIGN + SMALL_SPONSORS).replace("name: 深圳融媒体中心", f"name: {NAME}"))
    path = project / "sponsors.yaml"
    store = Store(tmp / "cache")
    files, jobs = documents.plan(sponsors.load(path), store)
    documents.print_missing(jobs, workers=1)
    printed = {slug: {Path(a.uri).stem.removeprefix(f"{slug}-"): Path(a.path).read_bytes() for a in assets}
               for slug, assets in files.items()}
    return printed, documents.reduced_faces(store)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, bytes]], tuple[documents.Face, ...]]:
    return _print(tmp_path_factory.mktemp("documents"))


def _embedded(data: bytes) -> list[TTFont]:
    return [TTFont(io.BytesIO(part)) for part in pdf_reader.streams(data) if part[:4] == b"OTTO"]


def _base_fonts(data: bytes) -> set[str]:
    """The names of the fonts the file uses, without the subset prefix."""
    return {name.decode().split("+")[-1] for part in [data, *pdf_reader.streams(data)]
            for name in re.findall(rb"/BaseFont\s*/([^\s/\]>]+)", part)}


def _has_outline(font: TTFont, glyph_id: int) -> bool:
    glyphs = font.getGlyphSet()
    from fontTools.pens.recordingPen import RecordingPen

    pen = RecordingPen()
    glyphs[font.getGlyphName(glyph_id)].draw(pen)
    return bool(pen.value)


def test_the_reduced_faces_hold_the_common_characters_and_far_fewer_glyphs(printed):
    _, faces = printed
    assert [face.weight for face in faces] == [400, 700]
    common = {ord(ch) for ch in fonts.common_charset()}
    assert len(common) > 7800 and not any(ord(ch) in common for ch in RARE)
    for face in faces:
        reduced = TTFont(face.path, lazy=True)
        whole = TTFont(face.source, fontNumber=face.index, lazy=True)
        assert set(reduced.getBestCmap()) == common & set(whole.getBestCmap())
        assert reduced["maxp"].numGlyphs < whole["maxp"].numGlyphs / 4


def test_common_text_is_set_in_the_reduced_faces_only(printed):
    pdfs, _ = printed
    data = pdfs["guangdong-cyber"]["certificate"]
    names = {font["name"].getDebugName(6) for font in _embedded(data)}
    assert len(names) == 2  # a regular and a bold face, nothing from the whole ones
    assert _base_fonts(data) == {"Common-Serif-SC", "Common-Serif-SC-Bold"}


def test_a_rare_character_is_drawn_from_the_whole_face(printed):
    pdfs, faces = printed
    data = pdfs["shenzhen-media"]["certificate"]
    assert NAME in pdf_reader.text(data)
    used = _base_fonts(data)
    assert {"Common-Serif-SC", "Common-Serif-SC-Bold"} <= used  # the common characters, the rare ones from:
    assert used & {"Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold"}
    embedded = _embedded(data)
    # The name is bold or regular: its glyph is the whole face's own, by index, with an outline, in some embedded face.
    for ch in RARE:
        candidates = []
        for face in faces:
            whole = TTFont(face.source, fontNumber=face.index, lazy=True)
            candidates.append(whole.getGlyphID(whole.getBestCmap()[ord(ch)]))
        maps = pdf_reader._cmaps(pdf_reader.streams(data))
        codes = {int(code, 16) for table in maps for code, text in table.items() if text == ch}
        drawn = codes & set(candidates)
        assert drawn, (ch, codes, candidates)
        assert any(gid < font["maxp"].numGlyphs and _has_outline(font, gid) for font in embedded for gid in drawn), ch


def test_every_embedded_face_finds_a_glyph_by_its_index_as_by_its_cid(printed):
    pdfs, _ = printed
    for by_name in pdfs.values():
        for data in by_name.values():
            for font in _embedded(data):
                order = font.getGlyphOrder()
                assert all(name == f"cid{gid:05d}" for gid, name in enumerate(order) if gid), order[:20]


def test_the_same_documents_print_to_the_same_bytes_from_a_new_cache(printed, tmp_path):
    pdfs, faces = printed
    again, faces_again = _print(tmp_path)
    assert again == pdfs
    assert [Path(f.path).read_bytes() for f in faces_again] == [Path(f.path).read_bytes() for f in faces]


def test_a_reduced_face_is_made_once(tmp_path):
    store = Store(tmp_path)
    faces = documents.make_faces(documents.reduced_faces(store))
    stamps = [Path(face.path).stat().st_mtime_ns for face in faces]
    assert documents.make_faces(documents.reduced_faces(store)) == faces
    assert [Path(face.path).stat().st_mtime_ns for face in faces] == stamps
