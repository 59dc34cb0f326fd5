"""The campaign theme on every kind of page, in Chromium at a phone's and a desktop's width: the footer names the
organisers, the secretariat's contact and the ICP 备案号; nothing scrolls sideways on a phone; header and footer text
is readable (WCAG AA contrast, computed from the styles the browser applied); nothing loads from outside the site.

Set SURVEY_SCREENSHOTS=<folder> to keep a full-page screenshot of each page at each width for review."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from generator import sponsors
from tests.helpers import CAMPAIGN, SMALL_SPONSORS, mkdocs_build, serving, write_project

playwright = pytest.importorskip("playwright.sync_api")

ICP = "粤ICP备12345678号-1"
PAGES = {
    "home": "", "initiators": "initiators/", "supporters": "supporters/", "slogans": "slogans/",
    "materials": "materials/", "progress": "progress/", "rules": "rules/", "method": "method/", "guide": "guide/",
    "sponsor": "sponsors/guangdong-cyber/", "certificate": "sponsors/shenzhen-media/certificate/",
    "invitation": "sponsors/guangdong-cyber/invitation/", "form": "s/guangdong-cyber/wechat/",
    "form-pro": "s/guangdong-cyber/wechat/pro/", "thanks": "thanks/", "not-found": "404.html",
}
WIDTHS = {"phone": 360, "desktop": 1280}

# Every element in the header (with the tab bar) and the footer that shows text of its own, with its colour and the colour behind it:
# the nearest ancestor's solid background, with any translucent layers in between blended over it.
CONTRASTS = """
() => {
  const rgba = s => { const m = s.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; };
  const over = (top, bottom) => top.slice(0, 3).map((c, i) => c * top[3] + bottom[i] * (1 - top[3]));
  const lum = c => { const l = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
  const behind = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = rgba(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) { layers.push(bg); if (bg[3] === 1) break; }
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255]);
  };
  const out = [];
  for (const el of document.querySelectorAll('header, header *, .md-tabs *, footer, footer *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || !el.getClientRects().length || style.visibility === 'hidden') continue;
    const fg = rgba(style.color), bg = behind(el);
    const [a, b] = [lum(over(fg, bg)), lum(bg)].sort((x, y) => y - x);
    out.push({text: el.textContent.trim().slice(0, 30), ratio: (a + 0.05) / (b + 0.05)});
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The small project with an ICP number, built and served."""
    project = write_project(tmp_path_factory.mktemp("theme") / "project",
                            CAMPAIGN.replace('  icp: ""', f"  icp: {ICP}") + SMALL_SPONSORS)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    with serving(project / "site") as url:
        yield {"url": url, "campaign": sponsors.load(project / "sponsors.yaml").campaign}



@pytest.fixture(scope="module", params=list(WIDTHS))
def viewer(request: pytest.FixtureRequest, browser: Any, themed: dict) -> Any:
    width = WIDTHS[request.param]
    phone = width < 600
    context = browser.new_context(viewport={"width": width, "height": 740 if phone else 900}, device_scale_factor=1,
                                  is_mobile=phone, has_touch=phone, locale="zh-CN")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((themed["url"], "data:")) else None)
    page.outside = outside  # type: ignore[attr-defined]
    page.width = width  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.mark.parametrize("kind", list(PAGES))
def test_every_page_wears_the_campaign_theme(viewer: Any, themed: dict, kind: str) -> None:
    c = themed["campaign"]
    viewer.goto(themed["url"] + PAGES[kind], wait_until="networkidle")
    if folder := os.environ.get("SURVEY_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        viewer.screenshot(path=str(Path(folder) / f"{kind}-{viewer.width}.png"), full_page=True)
    footer = viewer.locator("footer").last
    assert footer.count() == 1, "no footer"
    text = " ".join(footer.inner_text().split())
    for expected in [*c.guided_by, c.hosted_by, c.run_by, c.secretariat.contact, c.secretariat.phone,
                     c.secretariat.email, ICP]:
        assert expected in text, (expected, text)
    assert "指导单位" in text and "主办单位" in text and "承办单位" in text
    assert viewer.evaluate("document.documentElement.scrollWidth") <= viewer.width
    low = [(t["text"], round(t["ratio"], 2)) for t in viewer.evaluate(CONTRASTS) if t["ratio"] < 4.5]
    assert low == []
    assert viewer.outside == []


def test_hub_pages_are_not_the_stock_theme(browser: Any, themed: dict) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    for kind in ("initiators", "guide", "rules"):
        page.goto(themed["url"] + PAGES[kind])
        h1 = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('.md-typeset h1'));"
                           " return [parseInt(s.fontWeight), s.color]; })()")
        assert h1[0] >= 600 and h1[1] != "rgba(0, 0, 0, 0.54)", (kind, h1)  # bold and in ink, not thin and grey
        sidebar = page.locator(".md-sidebar--primary")
        assert sidebar.count() == 0 or not sidebar.is_visible(), kind  # the tabs are the navigation on a desktop
        for shown in [s for s in page.locator(".md-sidebar").all() if s.is_visible()]:
            assert shown.locator("a").count() >= 2, kind  # no sidebar holding nothing or one item
        footer_bg = page.evaluate("getComputedStyle(document.querySelector('footer')).backgroundColor")
        assert footer_bg not in ("rgba(0, 0, 0, 0.87)", "rgba(0, 0, 0, 0)"), kind
        assert page.locator("header").inner_text().strip().startswith(themed["campaign"].title)
    context.close()
