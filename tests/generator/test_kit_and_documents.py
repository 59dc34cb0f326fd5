"""What a sponsor takes away: link snippets for every channel (on its page and in the kit), the 授权书 and 邀请函
as numbered, dated, sealed-ready A4 documents with a PDF of each, the placement advice, and a kit dated from the
campaign; and what a respondent is given to go on with: a questionnaire from the home page, a link and QR code to
forward from the thank-you page."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from generator import build
from tests.generator import pdf_reader

SITE_URL = "https://survey.example.org/"
A4 = (595.3, 841.9)  # points


class Links(HTMLParser):
    """Links, images, copy buttons and their texts."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []
        self.copies: list[str] = []
        self.downloads: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
            if "download" in a:
                self.downloads[a["href"]] = a["download"] or ""
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if a.get("data-copy") is not None:
            self.copies.append(a["data-copy"])


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def sl(built_small):
    return build.read(built_small / "sponsors.yaml")


# ---- link snippets for every channel -------------------------------------------------------------------------


def test_the_sponsor_page_has_a_link_snippet_for_every_channel(built_small, sl):
    for s in sl.sponsors:
        copies = parse(built_small / f"site/sponsors/{s.slug}/index.html").copies
        for channel in s.channels:
            url = f"{SITE_URL}s/{s.slug}/{channel}/"
            assert any(c.startswith(f'<a href="{url}"') for c in copies), (s.slug, channel)


def test_the_kits_snippets_file_declares_its_charset_and_covers_every_channel(built_small, sl):
    for s in sl.sponsors:
        with zipfile.ZipFile(built_small / f"site/sponsors/{s.slug}/kit/{s.slug}-media-kit.zip") as kit:
            html = kit.read("snippets.html").decode("utf-8")
        head = html.split("</head>")[0]
        assert re.search(r'<meta charset="utf-8">', head, re.I), head[:200]
        for channel in s.channels:
            url = f"{SITE_URL}s/{s.slug}/{channel}/"
            code = [unescape(block) for block in re.findall(r"<pre>(.*?)</pre>", html, re.S)]
            # as code to copy, shown as text, and as a live preview
            assert any(block.startswith(f'<a href="{url}"') and "<img " not in block for block in code), (s.slug, channel)
            assert any(block.startswith(f'<a href="{url}"') and "-wechat-square-500x500.png" in block for block in code)
            assert f'<a href="{url}"' in html


# ---- the kit -------------------------------------------------------------------------------------------------


def test_the_kit_holds_the_documents_and_the_placement_advice(built_small, sl):
    for s in sl.sponsors:
        with zipfile.ZipFile(built_small / f"site/sponsors/{s.slug}/kit/{s.slug}-media-kit.zip") as kit:
            names = kit.namelist()
            assert f"documents/{s.slug}-certificate.pdf" in names
            assert (f"documents/{s.slug}-invitation.pdf" in names) == s.is_initiator
            advice = kit.read("placement.txt").decode("utf-8")
            assert kit.read(f"documents/{s.slug}-certificate.pdf").startswith(b"%PDF-")
        for tip in sl.campaign.placement:
            assert tip in advice


def test_kit_entries_are_dated_from_the_campaign_not_1980(built_small, sl):
    issued: date = sl.campaign.documents.issued
    with zipfile.ZipFile(built_small / "site/sponsors/guangdong-cyber/kit/guangdong-cyber-media-kit.zip") as kit:
        stamps = {info.date_time[:3] for info in kit.infolist()}
    assert stamps == {(issued.year, issued.month, issued.day)}


# ---- the 授权书 and 邀请函 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug, name", [("guangdong-cyber", "certificate"), ("shenzhen-media", "certificate"),
                                        ("guangdong-cyber", "invitation")])
def test_each_document_page_is_numbered_dated_and_names_the_organisers(built_small, sl, slug, name):
    s = sl.get(slug)
    c = sl.campaign
    page = (built_small / f"site/sponsors/{slug}/{name}/index.html").read_text(encoding="utf-8")
    number = sl.certificate_number(s) if name == "certificate" else sl.invitation_number(s)
    assert number in page and c.issued_text in page
    for organiser in [*c.guided_by, c.hosted_by, c.run_by]:
        assert organiser in page
    assert s.slug not in re.sub(r'(href|src|data-[a-z]+)="[^"]*"', "", page.split('class="doc')[1])  # no slug as a number
    assert 'class="doc-seal"' in page  # room for the seal
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", page)
    links = parse(built_small / f"site/sponsors/{slug}/{name}/index.html")
    assert f"../kit/{slug}-{name}.pdf" in links.downloads


def test_the_invitation_carries_the_secretariats_contact(built_small, sl):
    page = (built_small / "site/sponsors/guangdong-cyber/invitation/index.html").read_text(encoding="utf-8")
    sec = sl.campaign.secretariat
    assert sec.contact in page and sec.phone in page and sec.email in page


@pytest.mark.parametrize("slug, name", [("guangdong-cyber", "certificate"), ("shenzhen-media", "certificate"),
                                        ("guangdong-cyber", "invitation")])
def test_each_document_pdf_is_one_a4_page_with_its_cjk_font_embedded(built_small, sl, slug, name):
    s = sl.get(slug)
    data = (built_small / f"site/sponsors/{slug}/kit/{slug}-{name}.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert pdf_reader.page_sizes(data) == [A4]
    assert pdf_reader.embedded_fonts(data) >= 1
    shown = pdf_reader.text(data)
    number = sl.certificate_number(s) if name == "certificate" else sl.invitation_number(s)
    for expected in (number, sl.campaign.issued_text, sl.campaign.hosted_by, sl.campaign.run_by):
        assert expected in shown, (expected, shown[:300])
    if name == "certificate":
        assert s.name in shown


def test_the_sponsor_page_offers_each_document_and_its_pdf(built_small, sl):
    for s in sl.sponsors:
        links = parse(built_small / f"site/sponsors/{s.slug}/index.html")
        assert "certificate/" in links.hrefs and f"kit/{s.slug}-certificate.pdf" in links.downloads
        assert ("invitation/" in links.hrefs) == s.is_initiator
        assert (f"kit/{s.slug}-invitation.pdf" in links.downloads) == s.is_initiator


# ---- a questionnaire from the home page; something to forward from the thank-you page ----------------------


def _is_form(path: Path) -> bool:
    return path.is_file() and '<form id="survey"' in path.read_text(encoding="utf-8")


def test_the_home_page_links_to_each_questionnaire(built_small):
    site = built_small / "site"
    links = parse(site / "index.html")
    forms = {h for h in links.hrefs if not h.startswith(("http", "#")) and _is_form(site / h / "index.html")}
    assert len(forms) == 2, links.hrefs  # the public questionnaire and the practitioners'


def test_the_thank_you_page_has_a_link_and_a_qr_code_to_forward(built_small):
    site = built_small / "site"
    page = site / "thanks/index.html"
    links = parse(page)
    forward = [c for c in links.copies if c.startswith(SITE_URL)]
    assert forward, links.copies
    [url] = set(forward)
    assert _is_form(site / url[len(SITE_URL):] / "index.html")
    assert url in links.hrefs
    qr = [src for src in links.images if src.startswith("data:image/png;base64,")]
    assert qr
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(qr[0].split(",", 1)[1]))))
    assert [r.text for r in decoded] == [url]
