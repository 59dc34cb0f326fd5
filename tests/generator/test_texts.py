"""Texts people read: the press release follows the campaign window, labels and limits read as written Chinese, and a
rehearsal keeps the campaign's own times of day."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator import build, pages, sponsors
from generator.model import BEIJING
from tests.conftest import CAMPAIGN, ROOT, SMALL_SPONSORS

NESTED_BRACKETS = re.compile(r"（[^（）]*（")


def load_with_window(tmp_path: Path, opens: str, closes: str) -> sponsors.SponsorList:
    campaign = CAMPAIGN.replace("opens: 2020-07-22 09:00", f"opens: {opens}").replace("closes: 2020-07-31 24:00", f"closes: {closes}")
    path = tmp_path / "sponsors.yaml"
    path.write_text(campaign + SMALL_SPONSORS.replace("    logo: site_src/logos/guangdong-sample.png\n", ""), encoding="utf-8")
    return sponsors.load(path)


def test_press_release_takes_its_dates_and_length_from_the_window(tmp_path):
    sl = load_with_window(tmp_path, "2021-08-02 10:00", "2021-08-15 24:00")
    text = pages.press_release(sl, sl.sponsors[0])
    assert "8月2日10时正式启动" in text and "历时14天" in text
    assert "7月22日" not in text and "历时10天" not in text


def test_the_sample_press_release_reads_as_the_launch_notice():
    sl = sponsors.load(ROOT / "sponsors.yaml")
    text = pages.press_release(sl, sl.sponsors[0])
    assert text.splitlines()[0] == "2020网民网络安全感满意度调查活动于7月22日9时正式启动"
    assert "历时10天" in text


class Text(HTMLParser):
    """The text a reader sees on a page (no scripts, styles or attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self.skip:
            self.parts.append(data)


def visible_text(path: Path) -> str:
    parser = Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return "".join(parser.parts)


def test_no_page_nests_brackets(built_small):
    site = built_small / "site"
    nested = {str(p.relative_to(site)): m.group(0) for p in site.rglob("*.html")
              if (m := NESTED_BRACKETS.search(visible_text(p)))}
    assert nested == {}
    page = visible_text(site / "sponsors" / "guangdong-cyber" / "index.html")
    assert "深圳融媒体中心" in page and "核心媒体" in page


def test_a_limit_is_stated_once_per_question(built_small):
    form = (built_small / "site" / "s" / "guangdong-cyber" / "website" / "index.html").read_text(encoding="utf-8")
    multi = re.findall(r'<fieldset class="q"[^>]*data-type="multi".*?</fieldset>', form, re.S)
    limited = [q for q in multi if 'data-max="3"' in q]
    assert limited
    for question in limited:
        parser = Text()
        parser.feed(question)
        assert len(re.findall(r"最多\s*选?\s*3\s*项", "".join(parser.parts))) == 1, question


@pytest.mark.parametrize("now, opens", [
    (datetime(2026, 12, 1, 10, 30, tzinfo=BEIJING), datetime(2026, 12, 1, 9, 0, tzinfo=BEIJING)),
    (datetime(2026, 12, 1, 8, 0, tzinfo=BEIJING), datetime(2026, 11, 30, 9, 0, tzinfo=BEIJING)),
])
def test_a_rehearsal_is_open_now_and_keeps_the_campaigns_times_of_day(now, opens):
    from generator.__main__ import rehearsal_opens

    start = rehearsal_opens(ROOT / "sponsors.yaml", now)
    assert datetime.fromisoformat(start) == opens
    c = build.read(ROOT / "sponsors.yaml", opens=start).campaign
    assert c.opens <= now < c.closes
    assert c.closes_text.endswith(" 24:00") and c.opens_text.endswith(" 9:00")
    assert c.days == 10
