"""The images a build publishes: every design at every size, 2× copies, captioned QR codes of one size, the poster's
offline channel, and the campaign's own artwork dropped into the project."""

from __future__ import annotations

import io
import json
import re
import zipfile

import zxingcpp
from PIL import Image

from generator import images
from tests.conftest import CAMPAIGN, SMALL_SPONSORS, mkdocs_build, tree_digest, write_project

SITE_URL = "https://survey.example.org/"
SIZES = [(int(w), int(h), name) for name, w, h in re.findall(r"name: ([a-z-]+), label: [^,]+, width: (\d+), height: (\d+)", CAMPAIGN)]


def decode(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def test_every_design_of_every_size_in_the_kit_with_2x_copies(built_small):
    site = built_small / "site"
    for slug in json.loads((site / "sponsors.json").read_text())["sponsors"]:
        kit = site / "sponsors" / slug / "kit"
        with zipfile.ZipFile(kit / f"{slug}-media-kit.zip") as archive:
            packed = set(archive.namelist())
        for n, design in enumerate(images.DESIGNS):
            suffix = f"-{design.name}" if n else ""
            for w, h, name in SIZES:
                base = f"{slug}-{name}-{w}x{h}{suffix}"
                assert Image.open(kit / f"{base}.png").size == (w, h)
                assert (kit / f"{base}.svg").read_text().startswith("<svg")
                assert f"images/{base}.png" in packed and f"images/{base}.svg" in packed
                if w * 2 <= 2000:
                    assert Image.open(kit / f"{base}@2x.png").size == (2 * w, 2 * h)
                    assert f"images/{base}@2x.png" in packed
                else:  # the poster is drawn at 1080 px already
                    assert not (kit / f"{base}@2x.png").exists()


def test_qr_codes_are_one_size_and_captioned_for_every_channel(built_small):
    site = built_small / "site"
    sponsors = json.loads((site / "sponsors.json").read_text())["sponsors"]
    plain, captioned = set(), set()
    for slug, sponsor in sponsors.items():
        kit = site / "sponsors" / slug / "kit"
        for channel in sponsor["channels"]:
            url = f"{SITE_URL}s/{slug}/{channel}/"
            for name, sizes in ((f"{slug}-qr-{channel}.png", plain), (f"{slug}-qr-{channel}-captioned.png", captioned)):
                data = (kit / name).read_bytes()
                assert decode(data) == [url], name
                sizes.add(Image.open(io.BytesIO(data)).size)
            svg = (kit / f"{slug}-qr-{channel}-captioned.svg").read_text()
            assert sponsor["name"] in svg  # the SVG's title; the band's text is drawn as outlines
    assert len(plain) == 1 and len(captioned) == 1, (plain, captioned)


def test_every_poster_carries_the_sponsors_own_offline_channel(built_small):
    """A scan of a printed poster counts as 线下海报, never as the sponsor's website."""
    site = built_small / "site"
    for slug, sponsor in json.loads((site / "sponsors.json").read_text())["sponsors"].items():
        assert "poster" in sponsor["channels"], slug
        url = f"{SITE_URL}s/{slug}/poster/"
        assert (site / "s" / slug / "poster" / "index.html").is_file()
        for n, design in enumerate(images.DESIGNS):
            suffix = f"-{design.name}" if n else ""
            poster = site / "sponsors" / slug / "kit" / f"{slug}-poster-1080x1920{suffix}.png"
            assert decode(poster.read_bytes()) == [url], poster


def png(colour: tuple[int, int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def test_artwork_dropped_into_the_project_is_drawn_and_rebuilt(tmp_path):
    """The secretariat drops its logo and mascot into site_src/artwork/; the next build draws them, and removing
    them brings the drawn shield back."""
    sponsors = CAMPAIGN + SMALL_SPONSORS.split("  - slug: shenzhen-media")[0]
    project = write_project(tmp_path / "project", sponsors)
    poster = project / "site/sponsors/guangdong-cyber/kit/guangdong-cyber-poster-1080x1920.png"
    assert mkdocs_build(project).returncode == 0
    plain = poster.read_bytes()
    folder = project / "site_src/artwork"
    folder.mkdir()
    (folder / "campaign-logo.png").write_bytes(png((200, 0, 0, 255), (200, 200)))
    (folder / "mascot.png").write_bytes(png((0, 160, 0, 255), (200, 400)))
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    dressed = Image.open(poster).convert("RGB")
    colours = {c for _, c in dressed.getcolors(1 << 20)}
    assert (200, 0, 0) in colours and (0, 160, 0) in colours
    assert decode(poster.read_bytes()) == [f"{SITE_URL}s/guangdong-cyber/poster/"]
    # The site's own logo and favicon follow.
    assert "data:image/png;base64," in (project / "site/assets/img/campaign-mark.svg").read_text()
    for artwork in folder.iterdir():
        artwork.unlink()
    assert mkdocs_build(project).returncode == 0
    assert poster.read_bytes() == plain
    assert "data:image" not in (project / "site/assets/img/campaign-mark.svg").read_text()


def test_unreadable_artwork_stops_the_build_with_the_fix(small_project):
    assert mkdocs_build(small_project).returncode == 0
    before = tree_digest(small_project / "site")
    folder = small_project / "site_src/artwork"
    folder.mkdir()
    (folder / "mascot.png").write_bytes(b"not a picture")
    result = mkdocs_build(small_project)
    assert result.returncode != 0
    assert "mascot.png" in result.stderr and "Fix:" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(small_project / "site") == before


def test_the_sponsor_page_offers_every_design_its_2x_images_and_the_captioned_qr_codes(built_small):
    site = built_small / "site"
    for slug in json.loads((site / "sponsors.json").read_text())["sponsors"]:
        page = (site / "sponsors" / slug / "index.html").read_text(encoding="utf-8")
        for design in images.DESIGNS[1:]:
            assert f"-{design.name}.png" in page and f"-{design.name}@2x.png" in page
        assert "srcset=" in page and "@2x.png 2x" in page
        assert f"{slug}-qr-poster-captioned.png" in page and f"{slug}-qr-poster-captioned.svg" in page
        for link in re.findall(r'href="(kit/[^"]+)"', page):
            assert (site / "sponsors" / slug / link).is_file(), link
