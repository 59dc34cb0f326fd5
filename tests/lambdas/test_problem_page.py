"""The page a respondent without script sees when a form post is refused: it names each problem by the question
of the questionnaire that was posted, with that question's number, in the campaign's colours, and leads back."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from tests.lambdas.conftest import SPONSOR, CHANNEL, call, event, payload
from tests.lambdas.test_submit import _form_fields


class _Items(HTMLParser):
    """The text of each <li> of the problem list, and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.links: list[str] = []
        self._in_item = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self._in_item = True
            self.items.append("")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._in_item = False

    def handle_data(self, data: str) -> None:
        if self._in_item:
            self.items[-1] += data


def _refused(intake: Any, qid: str, drop: set[str]) -> str:
    body = payload(intake, qid=qid)
    fields = [f for f in _form_fields(body, intake.survey.questionnaires[qid]) if f[0].split(".")[0] not in drop]
    status, headers, page = call(event(urlencode(fields).encode(), "application/x-www-form-urlencoded"))
    assert status == 400 and headers["content-type"].startswith("text/html")
    return page


def test_a_public_respondent_sees_the_public_questionnaires_wording(intake):
    page = _refused(intake, "public", {"region", "gender"})
    parsed = _Items()
    parsed.feed(page)
    public = {q.id: q for q in intake.survey.questionnaires["public"].questions}
    pro = {q.id: q for q in intake.survey.questionnaires["pro"].questions}
    assert public["region"].text != pro["region"].text
    assert any(public["region"].text in item for item in parsed.items), parsed.items
    assert pro["region"].text not in page


def test_each_problem_carries_its_question_number_and_no_doubled_punctuation(intake):
    page = _refused(intake, "public", {"region", "gender"})
    parsed = _Items()
    parsed.feed(page)
    numbers = {q.id: n for n, q in enumerate(intake.survey.questionnaires["public"].questions, 1)}
    assert any(item.strip().startswith(f"第 {numbers['region']} 题") for item in parsed.items), parsed.items
    assert any(item.strip().startswith(f"第 {numbers['gender']} 题") for item in parsed.items), parsed.items
    assert not any("？：" in item or "?：" in item for item in parsed.items), parsed.items


def test_a_question_ending_in_a_question_mark_is_not_followed_by_a_colon(intake):
    # years_online reads "您使用互联网有多少年了？"; leaving it out makes the server name it.
    page = _refused(intake, "public", {"years_online"})
    parsed = _Items()
    parsed.feed(page)
    [item] = parsed.items
    assert "您使用互联网有多少年了？" in item and "？：" not in item


def test_the_page_is_branded_and_leads_back_to_the_questionnaire_posted(intake):
    page = _refused(intake, "pro", {"gender"})
    parsed = _Items()
    parsed.feed(page)
    site = intake.catalog.site_url
    assert f"{site}s/{SPONSOR}/{CHANNEL}/pro/" in parsed.links
    # the campaign's mark, as on the form: beside the API on the site's own origin, whatever address it is built for
    assert 'src="../assets/img/campaign-mark.svg"' in page
    assert intake.survey.questionnaires["pro"].title in page
    assert '<meta name="viewport"' in page and 'lang="zh-CN"' in page
    assert "style=" not in page  # styled by the page's own style sheet, as the form is


def test_an_unknown_sponsor_leads_back_to_the_home_page(intake):
    body = payload(intake, sponsor="no-such-sponsor")
    fields = [f for f in _form_fields(body, intake.survey.questionnaires["public"]) if f[0] != "gender"]
    _, _, page = call(event(urlencode(fields).encode(), "application/x-www-form-urlencoded"))
    parsed = _Items()
    parsed.feed(page)
    assert intake.catalog.site_url in parsed.links
    assert not any("/s/no-such-sponsor/" in link for link in parsed.links)
