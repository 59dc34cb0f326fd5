"""The reports from a small synthetic campaign: what they say (findings from the figures, suppression, a sponsor's
own samples only), what they are made of (charts with titles, units and n; a PDF with the CJK font embedded and every
character in it; CSV and XLSX no spreadsheet evaluates) and how they read (a phone's width, print, publishing)."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import html as htmllib
import json
import re
import shutil
import subprocess
import zipfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from generator import build as site_build
from generator import pages
from generator.fonts import typeface
from lambdas.results import analysis, reports, synth
from lambdas.results.reports import SUPPRESSED, Column, Report, Section, Table
from lambdas.results.tiles import TileSpec, short
from lambdas.survey import catalog as catalogs
from lambdas.survey import questionnaire
from tests.conftest import CAMPAIGN, ROOT, SMALL_SPONSORS, mkdocs_build, tree_digest, write_project

SIZE = 3000
SPONSORS = 4
MIN_PROVINCE_N = 250  # with 3,000 samples: the one or two most populous provinces


@pytest.fixture(scope="module")
def survey() -> questionnaire.Survey:
    return questionnaire.load()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory, survey) -> tuple[Path, catalogs.Catalog]:
    """A synthetic export of 3,000 valid samples from four sponsors, in which every public respondent rates minors'
    protection 5 and personal-information protection 1: the best and worst domains are known by construction."""
    folder = tmp_path_factory.mktemp("results-campaign")
    (folder / "sponsors.json").write_text(pages.manifest(site_build.read(ROOT / "sponsors.yaml", opens=None), set()),
                                          encoding="utf-8")
    (folder / "questionnaires.json").write_text(questionnaire.dumps(questionnaire.read()), encoding="utf-8")
    cat = catalogs.load(folder / "sponsors.json")
    cat = dataclasses.replace(cat, sponsors=dict(list(cat.sponsors.items())[:SPONSORS]))
    data = folder / "data"
    synth.generate(data, survey, cat, SIZE, seed=7)
    path = data / "submissions-public.parquet"
    table = pq.read_table(path)
    for column, value in (("satisfaction.minors", 5), ("satisfaction.privacy", 1)):
        at = table.schema.get_field_index(column)
        table = table.set_column(at, column, pa.array([value] * table.num_rows, pa.int64()))
    pq.write_table(table, path)
    return data, cat


@pytest.fixture(scope="module")
def figures(campaign, survey) -> reports.Figures:
    data, _ = campaign
    with analysis.open_data(data, survey) as opened:
        return reports.collect(opened)


@pytest.fixture(scope="module")
def written(campaign, survey, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """The whole report set written by two worker processes, published into a stand-in for site_src/results/."""
    data, cat = campaign
    out = tmp_path_factory.mktemp("reports")
    site = tmp_path_factory.mktemp("site_src") / "results"
    paths = reports.write_all(data, survey, cat, out, min_province_n=MIN_PROVINCE_N, workers=2, publish=site)
    return out, site, paths


def _report(figures: reports.Figures, cat: catalogs.Catalog, kind: str, **kw: object) -> Report:
    scope = next(s for s in reports.scopes(figures, cat, MIN_PROVINCE_N) if s.kind == kind)
    return reports.build(figures, scope, catalog=cat, **kw)


# ---- what the reports say ----------------------------------------------------------------------------------------

def test_findings_name_the_best_and_worst_domain(figures, campaign):
    national = _report(figures, campaign[1], "national")
    findings = next(s for s in national.sections if s.id == "findings").items
    public = [f for f in findings if "领域中" in f][0]  # the public questionnaire's come first
    assert "得分最高的是“未成年人保护”（100.0）" in public
    assert "最低的是“个人信息保护”（0.0）" in public
    assert findings[0].startswith("全国《公众网民版》网民网络安全感满意度指数为 ")
    index = figures.national["public"][None].rows[0].index.unweighted
    assert f"{index.value:.1f}（95% 置信区间 {index.low:.1f}～{index.high:.1f}，n = {index.n:,}）" in findings[0]


def test_findings_name_provinces_above_and_below_the_national_index(figures, campaign):
    findings = next(s for s in _report(figures, campaign[1], "national").sections if s.id == "findings").items
    national = figures.national["public"][None].rows[0].index.unweighted.value
    values = {r.key: r.index.unweighted.value for r in figures.national["public"]["province"].rows if r.key}
    above = next(f for f in findings if f.startswith("高于全国指数的省份："))
    below = next(f for f in findings if f.startswith("低于全国指数的省份："))
    named_above = above.removeprefix("高于全国指数的省份：").rstrip("。").split("、")
    named_below = below.removeprefix("低于全国指数的省份：").rstrip("。").split("、")
    assert named_above and all(values[p] > national for p in named_above)
    assert named_below and all(values[p] < national for p in named_below)
    assert named_above == sorted(named_above, key=lambda p: -values[p])  # highest first
    suppressed = [p for p, v in values.items() if v is None]
    assert suppressed and f"{len(suppressed)} 个省份样本不足 30 份，不报告" in " ".join(findings)
    assert not set(suppressed) & set(named_above + named_below)


def test_findings_give_the_change_against_last_year(campaign, survey, tmp_path):
    data, cat = campaign
    with analysis.open_data(data, survey) as opened:
        last = analysis.summary(opened)
    public = last["questionnaires"]["public"]["index"]
    public["index"] -= 2.0  # this year 2 points higher
    public["privacy"] += 10.0  # and personal information 10 points lower: the largest change
    path = tmp_path / "summary-2019.json"
    path.write_text(json.dumps(last, ensure_ascii=False), encoding="utf-8")
    with analysis.open_data(data, survey, last_year=path) as opened:
        changed = reports.collect(opened)
    findings = next(s for s in _report(changed, cat, "national", has_last_year=True).sections
                    if s.id == "findings").items
    assert "比上年提高 2.0" in findings[0]
    assert any(f.startswith("与上年相比，变化最大的领域是“个人信息保护”（-10.0）") for f in findings)


def test_weighted_reports_say_so_and_give_the_unweighted_figure_beside(campaign, survey, tmp_path):
    data, cat = campaign
    margins = tmp_path / "margins.csv"
    margins.write_text("dimension,category,share\ngender,male,0.3\ngender,female,0.7\n", encoding="utf-8")
    with analysis.open_data(data, survey, weights=margins) as opened:
        weighted = reports.collect(opened)
    report = _report(weighted, cat, "national")
    facts = dict(report.facts)
    assert facts["加权"].startswith("加权：按网民结构（gender）迭代比例加权")
    domains = next(t for t in report.tables if t.key == "public-domains")
    at = [c.title for c in domains.columns]
    everyone = weighted.national["public"][None].rows[0].index
    assert domains.rows[0][at.index("得分（0～100）")] == everyone.weighted.value
    assert domains.rows[0][at.index("未加权得分")] == everyone.unweighted.value
    assert everyone.weighted.value != everyone.unweighted.value
    assert report.headline == everyone.weighted.value
    chart = next(c for c in report.charts if c.name == "all-public-domains")
    assert chart.note == "加权" and "加权" in chart.caption


def test_a_provinces_report_compares_it_with_the_nation(figures, campaign):
    scope = next(s for s in reports.scopes(figures, campaign[1], MIN_PROVINCE_N) if s.kind == "province")
    report = reports.build(figures, scope, catalog=campaign[1])
    own = figures.provinces["public"][scope.key][None].rows[0].index.unweighted
    nation = figures.national["public"][None].rows[0].index.unweighted
    first = next(s for s in report.sections if s.id == "findings").items[0]
    assert first.startswith(f"{scope.key}《公众网民版》网民网络安全感满意度指数为 {own.value:.1f}")
    assert f"全国（{nation.value:.1f}）" in first
    questions = next(t for t in report.tables if t.key == "public-q-age")
    assert [c.title for c in questions.columns if c.page] == ["选项", "占比", "全国占比"]  # counts in the files only


def test_suppressed_provinces_are_marked_on_the_tile_map(written, figures, campaign):
    out, _, _ = written
    national = _report(figures, campaign[1], "national")
    tile = next(c for c in national.charts if isinstance(c, TileSpec) and c.name == "all-public-provinces")
    suppressed = [c for c in tile.cells if c.value is None and c.n > 0]
    shown = [c for c in tile.cells if c.value is not None]
    assert suppressed and shown
    assert all(c.n < 30 for c in suppressed) and all(c.n >= 30 for c in shown)
    svg = (out / "charts" / f"{tile.name}.svg").read_text(encoding="utf-8")
    words = re.findall(r"<!-- (.*?) -->", svg)  # Matplotlib keeps each text as a comment beside its outlines
    for c in suppressed:  # a tile's name, then its mark, then its n
        at = words.index(short(c.province))
        assert words[at + 1] == "样本不足" and words[at + 2] == f"{c.n:,}"
    for c in shown:
        at = words.index(short(c.province))
        assert words[at + 1] == f"{c.value:.1f}"
    hatch = re.search(r'<pattern id="([^"]+)"', svg).group(1)
    assert svg.count(f"fill: url(#{hatch})") == len(suppressed) + 1  # each suppressed tile and the legend's key
    assert f"样本不足 30，不报告" in words  # the legend says what the hatch means
    page = (out / "national" / "index.html").read_text(encoding="utf-8")
    row = re.search(rf"<th scope=\"row\">{suppressed[0].province}</th>(.*?)</tr>", page).group(1)
    assert "样本不足" in row


def test_a_sponsors_report_counts_only_its_own_samples(written, figures, campaign):
    out, _, _ = written
    data, cat = campaign
    slug = next(s.key for s in reports.scopes(figures, cat, MIN_PROVINCE_N) if s.kind == "sponsor")
    own = {}
    for qid in ("public", "pro"):
        t = pq.read_table(data / f"submissions-{qid}.parquet", columns=["sponsor", "valid", "province"])
        mine = t.filter(pc.and_(pc.equal(t["sponsor"], slug), t["valid"]))
        own[qid] = mine.num_rows
    report = reports.build(figures, reports.Scope("sponsor", slug, ("public", "pro")), catalog=cat)
    assert report.n == sum(own.values()) and 0 < report.n < SIZE
    for qid, n in own.items():
        domains = next(t for t in report.tables if t.key == f"{qid}-domains")
        assert {row[4] for row in domains.rows} <= set(range(n + 1))  # every n at most the sponsor's own
        assert domains.rows[0][4] == n
        provinces = next(t for t in report.tables if t.key == f"{qid}-provinces")
        assert sum(row[3] for row in provinces.rows) == n
    page = (out / f"sponsor-{slug}" / "index.html").read_text(encoding="utf-8")
    assert f"共 {report.n:,} 份" in page and "本单位带来的有效样本" in page
    assert f"{SIZE:,}" not in page  # the campaign's total appears nowhere in a sponsor's report
    assert not any(s.id.endswith("-questions") or s.id == "suggestions" for s in report.sections)


def test_the_results_command_writes_the_set_from_the_sites_sponsors(campaign, tmp_path, capsys):
    data, _ = campaign
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path, default=Path("site"))
    reports.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["--site", str(tmp_path), "results", "--data", str(data), "--out", str(tmp_path / "o")])
    assert args.run(args) == 2
    assert "sponsors.json" in capsys.readouterr().err and not (tmp_path / "o").exists()
    args = parser.parse_args(["--site", str(data.parent), "results", "--data", str(data), "--out", str(tmp_path / "o"),
                              "--min-n", "1000000000", "--workers", "1"])
    assert (args.min_n, args.min_cell, args.margins, args.last_year, args.publish) == (10**9, 30, None, None, False)
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert f"{tmp_path / 'o'}: {1 + 2 + SPONSORS} reports" in printed
    assert (tmp_path / "o" / "national" / "national.pdf").is_file()


# ---- what they are made of ---------------------------------------------------------------------------------------

def test_every_chart_has_a_title_an_axis_with_its_unit_and_n(written, figures, campaign):
    out, _, _ = written
    national = _report(figures, campaign[1], "national")
    page = (out / "national" / "index.html").read_text(encoding="utf-8")
    assert national.charts
    for spec in national.charts:
        svg = (out / "charts" / f"{spec.name}.svg").read_text(encoding="utf-8")
        title = re.search(r"<dc:title>(.*?)</dc:title>", svg).group(1)
        assert htmllib.unescape(title).startswith(spec.title) and f"n = {spec.n:,}" in htmllib.unescape(title)
        words = [htmllib.unescape(w) for w in re.findall(r"<!-- (.*?) -->", svg)]
        assert spec.unit in words  # the axis (or the colour scale) names its unit
        assert (out / "charts" / f"{spec.name}.png").stat().st_size > 1000
        assert f'alt="{htmllib.escape(spec.caption, quote=True)}"' in page
        assert f"n = {spec.n:,}" in spec.caption


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("title", "style", "head")

    def handle_endtag(self, tag):
        self.skip -= tag in ("title", "style", "head")

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def _pdf_fonts(data: bytes) -> tuple[set[str], int, set[str]]:
    """The fonts a PDF names, how many font files it embeds, and the characters its ToUnicode maps cover."""
    streams = [data]
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            streams.append(zlib.decompress(data[m.end():end]))
        except zlib.error:
            continue
    blob = b"\n".join(streams)
    names = {n.decode() for n in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-]+)", blob)}
    files = len(re.findall(rb"/FontFile[23]?\s", blob))
    chars: set[str] = set()

    def text(hexcode: bytes) -> str:
        return bytes.fromhex(hexcode.decode()).decode("utf-16-be", "replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", blob, re.S):
        for _, target in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            chars.update(text(target))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", blob, re.S):
        for lo, hi, target in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = ord(text(target)[-1])
            chars.update(chr(start + k) for k in range(int(hi, 16) - int(lo, 16) + 1))
        for _, _, targets in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\[(.*?)\]", block, re.S):
            for target in re.findall(rb"<([0-9A-Fa-f]+)>", targets):
                chars.update(text(target))
    return names, files, chars


@pytest.mark.parametrize("kind", ["national", "province", "sponsor"])
def test_the_pdf_embeds_the_cjk_font_and_has_every_character(written, figures, campaign, kind):
    out, _, _ = written
    report = _report(figures, campaign[1], kind)
    pdf = out / report.slug / f"{report.slug}.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    names, files, covered = _pdf_fonts(data)
    assert names and all("Noto-Sans-CJK-SC" in n for n in names), names  # no fallback font anywhere
    assert all(re.match(r"[A-Z]{6}\+", n) for n in names)  # subsets: embedded, not referenced
    assert files == len(names)
    parser = _Text()
    parser.feed(reports.html(report, pdf=True))
    shown = {ch for ch in "".join(parser.chunks) if not ch.isspace()}
    assert {"网", "民", "满", "意", "度", "指", "数"} <= shown
    # A glyph the font shares between characters (· and ・) is mapped back to one of them: either one counts.
    cmap = typeface().regular.cmap
    glyphs = {cmap.get(ord(ch)) for ch in covered}
    missing = {ch for ch in shown - covered if ord(ch) not in cmap or cmap[ord(ch)] not in glyphs}
    assert missing == set(), f"characters drawn without a glyph of the embedded font: {missing}"
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert all(line.split()[-5] == "yes" for line in listing.splitlines()[2:])  # the "emb" column
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert report.title.replace(" ", "")[:12] in text.replace(" ", "").replace("\n", "")


def test_nothing_in_the_pdf_runs_off_the_page(written, figures, campaign):
    import weasyprint

    out, _, _ = written
    report = _report(figures, campaign[1], "province")
    document = weasyprint.HTML(string=reports.html(report, pdf=True), base_url=str(out / report.slug) + "/").render()

    def boxes(box):  # type: ignore[no-untyped-def]
        yield box
        for child in getattr(box, "children", ()):
            yield from boxes(child)

    for number, page in enumerate(document.pages, start=1):
        for box in boxes(page._page_box):
            right = box.position_x + box.margin_width()
            assert right <= page.width + 0.5, f"page {number}: {type(box).__name__} ends at {right:.0f} of {page.width:.0f}"


def test_tables_go_to_csv_with_a_bom_and_to_xlsx_and_no_formula_survives(tmp_path):
    table = Table("t", "=HYPERLINK(\"http://x\")", (Column("选项"), Column("人数", "int"), Column("占比", "pct"),
                                                    Column("95% 置信区间", "ci")),
                  (("=cmd|' /C calc'!A0", 12, 40.0, (1.5, 2.5)), ("＋1", 3, SUPPRESSED, SUPPRESSED), ("-", 0, None, None)))
    report = Report("sponsor", "sponsor-x", "t", "", 15, (), (Section("s", "各题结果", tables=(table,)),))
    paths = reports.write_tables(report, tmp_path)
    raw = (tmp_path / "csv" / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["'=HYPERLINK(\"http://x\")"]
    assert rows[1] == ["选项", "人数", "占比", "95% 置信区间下限", "95% 置信区间上限"]
    assert rows[2] == ["'=cmd|' /C calc'!A0", "12", "40.0", "1.5", "2.5"]
    assert rows[3] == ["'＋1", "3", SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert rows[4] == ["-", "0", "", "", ""]  # the unattributed marker stays as it is
    xlsx = next(p for p in paths if p.suffix == ".xlsx")
    with zipfile.ZipFile(xlsx) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet  # text is text: nothing is stored as a formula
    assert "=cmd|" in htmllib.unescape(strings)
    assert "<v>12</v>" in sheet  # numbers stay numbers


def test_the_whole_set_is_written_with_an_index_page(written, figures, campaign):
    out, _, paths = written
    expected = [s.slug for s in reports.scopes(figures, campaign[1], MIN_PROVINCE_N)]
    kinds = {slug.split("-")[0] for slug in expected}
    assert kinds == {"national", "province", "topic", "sponsor"}
    assert len([s for s in expected if s.startswith("sponsor-")]) == SPONSORS
    for slug in expected:
        folder = out / slug
        assert {p.name for p in folder.iterdir()} >= {"index.html", f"{slug}.pdf", f"{slug}.xlsx", "csv"}
        assert (folder / "index.html") in paths and (folder / f"{slug}.pdf") in paths
        page = (folder / "index.html").read_text(encoding="utf-8")
        for src in re.findall(r'<img src="([^"]+)"', page):
            assert (folder / src).resolve().is_file(), src
    index = (out / "index.html").read_text(encoding="utf-8")
    for slug in expected:
        assert f'href="{slug}/index.html"' in index and f'href="{slug}/{slug}.pdf"' in index
    assert "未加权" in (out / "national" / "index.html").read_text(encoding="utf-8")
    summary = analysis.load_summary(out / "summary.json")  # next year's --last-year
    assert summary["questionnaires"]["public"]["n"] == figures.n["public"]


def test_publishing_copies_pages_charts_and_pdfs_into_the_site_only_when_asked(written, campaign, survey,
                                                                                tmp_path, monkeypatch):
    out, site, _ = written
    assert (site / "index.html").is_file() and (site / "report.css").is_file()
    for page in site.glob("*/index.html"):
        slug = page.parent.name
        assert (page.parent / f"{slug}.pdf").is_file()
        for src in re.findall(r'<img src="([^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / src).resolve().is_file() and src.endswith(".svg")
    assert not list(site.rglob("*.png"))  # PNGs only serve the PDFs
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="../"' in index  # back to the site's home
    for href in re.findall(r'href="([^"#]+)"', index):
        if not href.startswith("../"):
            assert (site / href).exists(), href
    # Without --publish nothing reaches the site's source.
    target = tmp_path / "site_src" / "results"
    monkeypatch.setattr(reports, "SITE_RESULTS", target)
    data, cat = campaign
    reports.write_all(data, survey, dataclasses.replace(cat, sponsors={}), tmp_path / "out",
                      min_province_n=10**9, workers=1, pdf=False, suggestions=False)
    assert not target.exists()


def test_the_site_build_serves_what_was_published(written, tmp_path):
    _, site, _ = written
    project = write_project(tmp_path / "project", CAMPAIGN + SMALL_SPONSORS)
    shutil.rmtree(project / "site_src" / "results", ignore_errors=True)  # a real publication copied with the sources
    shutil.copytree(site, project / "site_src" / "results")
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    served = project / "site" / "results"
    assert tree_digest(served) == tree_digest(site)  # copied as they are, not wrapped in the theme


# ---- how they read -----------------------------------------------------------------------------------------------

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _pages(out: Path) -> list[Path]:
    return [out / "index.html", out / "national" / "index.html", next(out.glob("province-*/index.html")),
            next(out.glob("topic-*/index.html")), next(out.glob("sponsor-*/index.html"))]


@pytest.mark.parametrize("which", range(5))
def test_a_report_fits_a_phone_and_its_tables_scroll_in_their_own_box(written, browser, which):
    out, _, _ = written
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file://") else None)
    page.goto(_pages(out)[which].as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.scripts.length") == 0
    wraps = page.evaluate("""[...document.querySelectorAll('table')].map(t => {
        const box = t.closest('.table-wrap');
        return box && getComputedStyle(box).overflowX === 'auto' && box.getBoundingClientRect().right <= 360
            && !!t.querySelector('caption') && [...t.querySelectorAll('thead th')].every(th => th.scope === 'col')
            && [...t.querySelectorAll('tbody th')].every(th => th.scope === 'row');
    })""")
    assert wraps and all(wraps)
    assert outside == []
    context.close()


@pytest.mark.parametrize("which", range(1, 5))
def test_a_report_prints_on_a4_with_nothing_cut(written, browser, which):
    out, _, _ = written
    # A4 less the page margins (14 mm each side) in CSS pixels: what a printed page lays out in.
    width = round((210 - 28) / 25.4 * 96)
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.goto(_pages(out)[which].as_uri(), wait_until="load")
    page.emulate_media(media="print")
    cut = page.evaluate(f"""[...document.querySelectorAll('main *')].filter(e => {{
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.right > {width} + 1;
    }}).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    assert cut == []
    hidden = page.evaluate("""[...document.querySelectorAll('.table-wrap')]
        .filter(w => w.scrollWidth > w.clientWidth + 1).length""")
    assert hidden == 0
    assert page.evaluate("getComputedStyle(document.querySelector('.downloads') || document.body).display") in (
        "none", "block")
    assert page.pdf(format="A4").startswith(b"%PDF")
    context.close()
