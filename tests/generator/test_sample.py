"""The shipped sample, every sponsor, built for real once."""

from __future__ import annotations

import json

import zxingcpp
from PIL import Image

from generator.build import read
from tests.conftest import ROOT


def test_every_sample_sponsor_has_its_page_images_and_decodable_qr_codes(built_sample):
    site = built_sample / "site"
    sl = read(ROOT / "sponsors.yaml")
    sizes = {(z.width, z.height) for z in sl.campaign.entry_images}
    manifest = json.loads((site / "sponsors.json").read_text())
    assert set(manifest["sponsors"]) == {s.slug for s in sl.sponsors}
    for sponsor in sl.sponsors:
        kit = site / "sponsors" / sponsor.slug / "kit"
        assert (site / "sponsors" / sponsor.slug / "index.html").is_file()
        assert {Image.open(p).size for p in kit.glob(f"{sponsor.slug}-*x*.png") if "@2x" not in p.name} == sizes
        for channel in sponsor.channels:
            decoded = zxingcpp.read_barcodes(Image.open(kit / f"{sponsor.slug}-qr-{channel}.png"))
            assert [r.text for r in decoded] == [f"{sl.campaign.site_url}s/{sponsor.slug}/{channel}/"]
    directory = (site / "initiators/index.html").read_text()
    assert all(f"../sponsors/{s.slug}/" in directory for s in sl.sponsors if s.is_initiator)
    supporters = (site / "supporters/index.html").read_text()
    assert all(f"../sponsors/{s.slug}/" in supporters for s in sl.sponsors if not s.is_initiator)
