"""Drawings without pictures are painted straight into palette indexes: the same picture as full colour, within
the coverage steps of the text's anti-aliased edges."""

from __future__ import annotations

import io

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from generator import draw, images
from generator.fonts import typeface

URL = "https://survey.example.org/s/guangdong-cyber/poster/"
ORGANISERS = ("指导单位：公安部网络安全保卫局", "主办单位：网民网络安全感满意度调查活动组委会",
              "承办单位：网民网络安全感满意度调查活动秘书处")
# Half a coverage step of the widest contrast (white on navy): the most a text edge's pixel may move.
EDGE_ERROR = 255 // (draw.COVERAGE_STEPS - 1) // 2 + 1


def entry(width: int, height: int, qr: bool, design: str, sponsor: str = "北京网信安协会") -> draw.Scene:
    return images.entry_scene(images.EntryInputs(
        width, height, images.title_parts(2025, "网民网络安全感满意度调查"), "网络安全为人民，网络安全靠人民",
        "7月22日—7月31日", sponsor, "立即参与", qr_url=URL if qr else None, design=design,
        organisers=ORGANISERS if qr else ()), None)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(int)


@pytest.mark.parametrize("design", [d.name for d in images.DESIGNS])
@pytest.mark.parametrize("width,height,qr", [(1080, 1920, True), (500, 500, False), (728, 90, False),
                                             (160, 600, False), (970, 250, False)])
@pytest.mark.parametrize("k", [1, 2])
def test_indexed_drawing_matches_full_colour(design, width, height, qr, k):
    scene = entry(width, height, qr, design)
    indexed = draw._indexed(scene, k)
    assert indexed is not None and indexed.mode == "P", "the designs' colours and edges fit one palette"
    diff = np.abs(pixels(indexed) - pixels(draw._raster(scene, k))).max(axis=2)
    assert diff.max() <= EDGE_ERROR
    # Only text edges differ: every fill is painted exactly.
    assert (diff > 0).mean() < 0.1


def test_png_of_a_drawing_is_a_palette_image_and_the_qr_code_a_two_colour_one():
    png = draw.to_png(entry(1080, 1920, True, "light"))
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and image.size == (1080, 1920)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [URL]
    qr = Image.open(io.BytesIO(images.qr_png(URL, "label")))
    assert qr.mode in ("P", "1") and len(qr.getcolors()) == 2
    assert [r.text for r in zxingcpp.read_barcodes(qr)] == [URL]


def test_more_colours_than_a_palette_holds_are_reduced_not_refused():
    face = typeface()
    scene = draw.Scene(300, 40, "many", face.regular, face.bold)
    scene.add(*(draw.Rect(x, 0, 1, 40, f"#{x % 256:02x}{255 - x % 256:02x}{x // 2:02x}") for x in range(300)))
    scene.add(draw.Text(10, 5, 20, "网络安全", "#123456"))
    assert draw._indexed(scene, 1) is None
    image = Image.open(io.BytesIO(draw.to_png(scene)))
    assert image.mode == "P" and image.size == (300, 40)


def test_text_over_text_keeps_its_blends():
    """The designs never overlap texts, but a blend over a blend still comes out close: each errs by one half step."""
    face = typeface()
    scene = draw.Scene(200, 60, "overlap", face.regular, face.bold)
    scene.add(draw.Rect(0, 0, 200, 60, images.NAVY), draw.Text(5, 5, 40, "安全", images.GOLD, True),
              draw.Text(15, 10, 40, "网络", images.WHITE))
    diff = np.abs(pixels(draw._indexed(scene, 1)) - pixels(draw._raster(scene, 1))).max()
    assert diff <= 2 * EDGE_ERROR
