from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from generator import draw, images
from generator.draw import Text
from generator.fonts import typeface

SIZES = [(900, 383, False), (500, 500, False), (300, 250, False), (728, 90, False), (320, 50, False),
         (970, 250, False), (160, 600, False), (300, 600, False), (750, 200, False), (1080, 1920, True)]
URL = "https://survey.example.org/s/guangdong-cyber/poster/"


def inputs(width: int, height: int, qr: bool, sponsor: str = "广东网安协会") -> images.EntryInputs:
    return images.EntryInputs(width, height, images.title_parts(2020, "网民网络安全感满意度调查"),
                              "网络安全为人民，网络安全靠人民", "7月22日—7月31日", sponsor, "立即参与",
                              qr_url=URL if qr else None)


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.mark.parametrize("width,height,qr", SIZES)
def test_entry_image_has_its_size_in_both_formats(width, height, qr):
    scene = images.entry_scene(inputs(width, height, qr), None)
    png, svg = draw.to_png(scene), draw.to_svg(scene)
    assert Image.open(io.BytesIO(png)).size == (width, height)
    assert f'width="{width}" height="{height}"' in svg
    # Text is outlines, not <text>: the SVG needs no font where it is opened or printed.
    assert "<text" not in svg and "<use href=" in svg
    for shape in scene.shapes:
        if isinstance(shape, Text):
            face = scene.face(shape.bold)
            assert shape.x >= -0.5 and shape.x + face.width(shape.text, shape.size) <= width + 0.5, shape
            assert shape.top >= -0.5 and shape.top + shape.size <= height + 0.5, shape


def test_poster_qr_decodes_to_the_attributed_url():
    png = draw.to_png(images.entry_scene(inputs(1080, 1920, True), None))
    assert decode(png) == [URL]


def test_standalone_qr_decodes_and_svg_is_one_path():
    assert decode(images.qr_png(URL, "label")) == [URL]
    svg = images.qr_svg(URL, "label")
    assert svg.count("<path") == 1 and "<title>label</title>" in svg


@pytest.mark.parametrize("width,height,qr", [(320, 50, False), (160, 600, False), (1080, 1920, True)])
def test_hostile_long_name_is_fitted_and_escaped(width, height, qr):
    name = '<script>alert("x")</script>' + "很长的单位名称" * 80
    scene = images.entry_scene(inputs(width, height, qr, sponsor=name), None)
    svg = draw.to_svg(scene)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    texts = [s for s in scene.shapes if isinstance(s, Text)]
    assert any(t.text.endswith("…") for t in texts), "an over-long name is cut with an ellipsis"
    for t in texts:
        assert t.x + scene.face(t.bold).width(t.text, t.size) <= width + 0.5


def test_same_inputs_give_same_bytes():
    a = images.entry_scene(inputs(500, 500, False), None)
    b = images.entry_scene(inputs(500, 500, False), None)
    assert draw.to_png(a) == draw.to_png(b) and draw.to_svg(a) == draw.to_svg(b)


def test_cjk_text_is_drawn_not_tofu():
    face = typeface()
    assert all(face.can_draw(ch) for ch in "网民网络安全感满意度调查邀您参与")
    # .notdef (tofu) would be the only glyph if the font lacked these characters.
    svg = draw.to_svg(images.entry_scene(inputs(500, 500, False), None))
    assert "notdef" not in svg and len(re.findall(r'<path id="', svg)) > 20


def test_logo_is_embedded():
    logo = io.BytesIO()
    Image.new("RGBA", (40, 20), (200, 0, 0, 255)).save(logo, "PNG")
    svg = draw.to_svg(images.entry_scene(inputs(500, 500, False), logo.getvalue()))
    assert "data:image/png;base64," in svg
