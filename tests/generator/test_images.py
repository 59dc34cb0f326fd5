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
    svg = draw.to_svg(images.qr_scene(URL, "label"))
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


# ---- legibility, line breaking, designs, marks, QR codes, artwork -------------------------------------------

TITLE = "2020网民网络安全感满意度调查"
TITLE_BREAKS = {4, 6, 8, 11, 14}  # after 2020, 网民, 网络, 安全感, 满意度: between words only
NAMES = ["上海广电", "北京网信安协会", "克拉玛依互联网协会", "中国互联网络信息中心", "磐明科技"]
ORGANISERS = ("指导单位：公安部网络安全保卫局", "主办单位：网民网络安全感满意度调查活动组委会",
              "承办单位：网民网络安全感满意度调查活动秘书处")


def design_inputs(width: int, height: int, qr: bool, design: str, sponsor: str = "北京网信安协会") -> images.EntryInputs:
    return images.EntryInputs(width, height, images.title_parts(2020, "网民网络安全感满意度调查"),
                              "网络安全为人民，网络安全靠人民", "7月22日—7月31日", sponsor, "立即参与",
                              qr_url=URL if qr else None, design=design, organisers=ORGANISERS if qr else ())


def every_design() -> list[str]:
    return [d.name for d in images.DESIGNS]


def scenes(width: int, height: int, qr: bool):  # type: ignore[no-untyped-def]
    """The image of each sample name in each design, and with a logo."""
    logo = io.BytesIO()
    Image.new("RGBA", (300, 120), (200, 0, 0, 255)).save(logo, "PNG")
    for design in every_design():
        for name in NAMES:
            yield name, images.entry_scene(design_inputs(width, height, qr, design, name), None)
        yield "logo", images.entry_scene(design_inputs(width, height, qr, design), logo.getvalue())


def texts(scene) -> list[Text]:
    return [s for s in scene.shapes if isinstance(s, Text)]


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def covers(shape, x: float, y: float) -> bool:
    if isinstance(shape, draw.Rect):
        return shape.x <= x <= shape.x + shape.w and shape.y <= y <= shape.y + shape.h
    if isinstance(shape, draw.Circle):
        return (x - shape.cx) ** 2 + (y - shape.cy) ** 2 <= shape.r ** 2
    if isinstance(shape, draw.Polygon):
        inside, pts = False, shape.points
        for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside
    return False


def backgrounds(scene, text: Text) -> set[str]:
    """The colours painted under a text's box (its centre and the middle of each edge), before the text."""
    face = scene.face(text.bold)
    x0, x1 = text.x, text.x + face.width(text.text, text.size)
    y0, y1 = text.top + text.size * 0.1, text.top + text.size * 0.9
    below = scene.shapes[: scene.shapes.index(text)]
    found = set()
    for x, y in [((x0 + x1) / 2, (y0 + y1) / 2), (x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2), ((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)]:
        under = [s for s in below if covers(s, x, y)]
        if under:
            found.add(under[-1].fill)
    return found


@pytest.mark.parametrize("width,height,qr", SIZES)
def test_text_is_legible_in_every_design_and_size(width, height, qr):
    """No text under 12 px at 1×, and every text stands out from what is under it (WCAG AA: 4.5:1, large 3:1)."""
    for name in NAMES:
        scene = images.entry_scene(inputs(width, height, qr, name), None)
        for t in texts(scene):
            assert t.size >= 12 - 1e-6, (name, t)
    for name, scene in scenes(width, height, qr):
        for t in texts(scene):
            assert t.size >= 12 - 1e-6, (name, t)
            large = t.size >= 24 or (t.bold and t.size >= 18.66)
            for colour in backgrounds(scene, t):
                assert contrast(t.fill, colour) >= (3 if large else 4.5), (name, t, colour)


@pytest.mark.parametrize("width,height,qr", SIZES)
def test_no_two_texts_overlap(width, height, qr):
    for name, scene in scenes(width, height, qr):
        draw.to_png(scene)
        for shape in scene.shapes:
            if isinstance(shape, (draw.Rect, draw.Picture)):
                assert shape.w >= 0 and shape.h >= 0 and shape.x >= -0.5 and shape.x + shape.w <= width + 0.5, shape
        boxes = [(t.x, t.top, t.x + scene.face(t.bold).width(t.text, t.size), t.top + t.size) for t in texts(scene)]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5, (name, a, b)


@pytest.mark.parametrize("width,height,qr", SIZES)
def test_lines_break_between_words_and_follow_the_line_breaking_rules(width, height, qr):
    for name in NAMES:
        lines = [t.text for t in texts(images.entry_scene(inputs(width, height, qr, name), None))]
        # The title, set in one or more lines, breaks only between its words.
        start = next(i for i, line in enumerate(lines) if TITLE.startswith(line))
        joined, breaks = "", set()
        for line in lines[start:]:
            if not TITLE.startswith(joined + line):
                break
            joined += line
            breaks.add(len(joined))
        assert joined == TITLE and breaks - {len(TITLE)} <= TITLE_BREAKS, (name, lines)
        for line in lines:
            assert not line.endswith(("邀", "邀您", "邀您参")), (name, lines)
            assert line[0] not in "，。、；：！？）》」』”’" and line[-1] not in "（《「『“‘", (name, lines)
            if line not in ("安", "×"):  # the shield's glyph and the sign between the marks
                assert len(line) > 1, (name, lines)


def test_a_line_breaks_at_a_phrase_and_keeps_an_aside_whole():
    face = typeface().bold
    _, lines = images.fit(face, ["网民网络安全感满意度调查（公众网民版）"], 300, 60, max_lines=2)
    assert "（公众网民版）" in lines, lines
    _, lines = images.fit(face, ["网络安全为人民，网络安全靠人民"], 150, 60, max_lines=2)
    assert lines == ["网络安全为人民，", "网络安全靠人民"]
    _, lines = images.fit(face, ["请参与“网民网络安全感”满意度调查"], 170, 60, max_lines=2)
    assert all(not line.endswith("“") and not line.startswith("”") for line in lines), lines
    assert any("“网民网络安全感”" in line for line in lines), lines


def test_a_small_banner_drops_the_invitation_before_it_cuts_the_name():
    scene = images.entry_scene(inputs(320, 50, False, "深圳市腾讯计算机系统有限公司"), None)
    assert "深圳市腾讯计算机系统有限公司" in [t.text for t in texts(scene)]


def test_every_design_is_its_own_look():
    assert len(images.DESIGNS) >= 2
    drawn = {draw.to_png(images.entry_scene(design_inputs(500, 500, False, d), None)) for d in every_design()}
    assert len(drawn) == len(images.DESIGNS)
    for d in every_design():
        assert decode(draw.to_png(images.entry_scene(design_inputs(1080, 1920, True, d), None))) == [URL]


def test_the_poster_names_the_organisers():
    for d in every_design():
        lines = [t.text for t in texts(images.entry_scene(design_inputs(1080, 1920, True, d), None))]
        assert all(line in lines for line in ORGANISERS), lines


def test_png_at_twice_the_size_is_drawn_not_scaled():
    scene = images.entry_scene(design_inputs(728, 90, False, "navy"), None)
    one, two = Image.open(io.BytesIO(draw.to_png(scene))), Image.open(io.BytesIO(draw.to_png(scene, 2)))
    assert two.size == (1456, 180)
    # A drawn 2× image has edges a doubled 1× image lacks: its 2×2 blocks are not all of one colour.
    pixels = two.convert("RGB").load()
    mixed = sum(1 for x in range(0, 1456, 2) for y in range(0, 180, 2)
                if len({pixels[x, y], pixels[x + 1, y], pixels[x, y + 1], pixels[x + 1, y + 1]}) > 1)
    assert mixed > 500 and one.size == (728, 90)


def png_of(colour: tuple[int, int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def test_campaign_logo_and_mascot_take_their_slots():
    logo, mascot = png_of((200, 0, 0, 255), (300, 300)), png_of((0, 160, 0, 255), (200, 400))
    for width, height, qr in [(1080, 1920, True), (900, 383, False), (970, 250, False)]:
        bare = images.entry_scene(design_inputs(width, height, qr, "navy"), None)
        dressed = images.entry_scene(design_inputs(width, height, qr, "navy"), None, logo, mascot)
        pictures = [s for s in dressed.shapes if isinstance(s, draw.Picture)]
        assert {p.image.size for p in pictures} == {(300, 300), (200, 400)}, (width, height)
        assert not any(isinstance(s, draw.Picture) for s in bare.shapes)
        # The drawn shield stands in for the logo, and nothing stands in for a missing mascot.
        assert any(isinstance(s, draw.Polygon) for s in bare.shapes)
        assert not any(isinstance(s, draw.Polygon) for s in dressed.shapes)
        for p in pictures:
            assert 0 <= p.x and p.x + p.w <= width + 0.5 and 0 <= p.y and p.y + p.h <= height + 0.5
        if qr:
            assert decode(draw.to_png(dressed)) == [URL]


@pytest.mark.parametrize("short_name,mark", [
    ("北京网信安协会", ("网信安", "协会")), ("浙江日报", ("日报",)), ("内蒙古互联网协会", ("互联网", "协会")),
    ("克拉玛依互联网协会", ("互联网", "协会")), ("磐明科技", ("磐明", "科技")), ("石家庄网安协会", ("网安", "协会")),
    ("北京广播电视台网络部", ("广播", "电视台")), ("北京", ("北京",)),
])
def test_text_mark_names_the_organisation_not_its_place(short_name, mark):
    scene = images.mark_scene(short_name, None, short_name)
    assert tuple(t.text for t in texts(scene)) == mark


def test_qr_codes_have_one_size_and_a_captioned_variant():
    urls = [URL, "https://survey.example.org/s/a/web/", "https://survey.example.org/s/" + "x" * 60 + "/wechat/"]
    plain = [Image.open(io.BytesIO(images.qr_png(u, "label"))).size for u in urls]
    assert len(set(plain)) == 1, plain
    captioned = []
    for u in urls:
        scene = images.captioned_qr_scene(u, "label", "北京市网络与信息安全协会", "微信公众号")
        png = draw.to_png(scene)
        captioned.append(Image.open(io.BytesIO(png)).size)
        assert decode(png) == [u]
        shown = "".join(t.text for t in texts(scene))
        assert "北京市网络与信息安全协会" in shown and "微信公众号" in shown
    assert len(set(captioned)) == 1 and captioned[0][0] == plain[0][0] and captioned[0][1] > plain[0][1]
