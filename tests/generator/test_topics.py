"""Questionnaires with topic modules in the built site: at every link a small topic list, and each topic's form one
page that every link shares (hard links of one cached file); what an edit of one question's wording costs."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import posixpath
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from generator import pages, publish
from lambdas.submit.intake import FORM_META
from lambdas.survey import questionnaire
from lambdas.survey.questionnaire import form_id
from tests.generator.test_forms import parse
from tests.helpers import CAMPAIGN, ROOT, SMALL_SPONSORS, mkdocs_build, write_project

SHAPE_2025 = ROOT / "lambdas" / "survey" / "questionnaires-2025.yaml"
FORM_PAGE_BYTES = 16 * 1024  # a form page gzipped with its style and script, as the issue asks
WRITTEN = re.compile(r"sponsor-pages: (\d+) of (\d+) entry and kit folders written")


def build(project: Path) -> str:
    """Build `project` with its own copy of the 2025 questionnaires; returns the build's log."""
    result = mkdocs_build(project, env={"SURVEY_QUESTIONNAIRES": str(project / "questionnaires.yaml")})
    assert result.returncode == 0, result.stderr
    return result.stderr


def new_project(folder: Path) -> Path:
    project = write_project(folder, CAMPAIGN + SMALL_SPONSORS)
    # The file as data: the edits below change one text and nothing else
    data = yaml.safe_load(SHAPE_2025.read_text(encoding="utf-8"))
    (project / "questionnaires.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                                 encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = new_project(tmp_path_factory.mktemp("topics") / "project")
    build(project)
    return project


SURVEY = questionnaire.load(SHAPE_2025)
BASES = {qid: ("" if i == 0 else f"{qid}/") for i, qid in enumerate(SURVEY.questionnaires)}  # folder below a link
FORMS = {f"{BASES[qid]}{t.id}/": form_id(qid, t.id)
         for qid, qn in SURVEY.questionnaires.items() for t in (qn.modules.topics if qn.modules else ())}


def attributed_links(site: Path) -> list[str]:
    sponsors = json.loads((site / "sponsors.json").read_text(encoding="utf-8"))["sponsors"]
    return [f"s/{slug}/{channel}/" for slug, s in sponsors.items() for channel in s["channels"]]


class Topics(HTMLParser):
    """The topic list's links, as a browser without script would follow them."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.hrefs = False, []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "ul" and a.get("id") == "topics":
            self.inside = True
        elif tag == "a" and self.inside:
            self.hrefs.append(a.get("href"))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "ul":
            self.inside = False


def test_every_link_lists_its_topics_and_shares_one_file_per_form(built):
    site = built / "site"
    sponsors = json.loads((site / "sponsors.json").read_text(encoding="utf-8"))["sponsors"]
    links = attributed_links(site)
    assert len(links) == 9  # poster links added to every sponsor
    for qid, folder in BASES.items():
        topics = SURVEY.questionnaires[qid].modules.topics
        for link in links:
            page = (site / link / folder / "index.html").read_text(encoding="utf-8")
            parser = Topics()
            parser.feed(page)
            assert parser.hrefs == [f"{t.id}/" for t in topics]
            assert sponsors[link.split("/")[1]]["name"] in page  # the topic list is the sponsor's own page
    for rel, fid in FORMS.items():
        copies = {(site / link / rel / "index.html").stat().st_ino for link in links}
        assert len(copies) == 1, f"{rel}: every link's copy is the one file"
        html = (site / links[0] / rel / "index.html").read_text(encoding="utf-8")
        for slug in sponsors:
            names = json.loads((site / "s" / slug / "link.json").read_text(encoding="utf-8"))
            assert slug not in html and names["name"] not in html and names["short_name"] not in html
        form = parse(site / links[0] / rel / "index.html")
        qn = SURVEY.forms[fid]
        assert form.hidden == {"questionnaire": fid, "sponsor": "", "channel": "", "id": "", "device": "",
                               "proof_challenge": "", "proof_nonce": ""}
        assert form.names - FORM_META == {name for q in qn.questions for name in q.field_names()}
        assert form.form["action"] == "submit"  # without script: POST <link>[<base>/]<topic>/submit
        page_dir = posixpath.join(links[0], rel)
        assert posixpath.normpath(posixpath.join(page_dir, form.form["data-root"])) == "."
        assert (site / posixpath.normpath(posixpath.join(page_dir, form.scripts[0].split("?")[0]))).is_file()


def test_each_sponsor_has_the_little_file_its_shared_forms_read(built):
    site = built / "site"
    sponsors = json.loads((site / "sponsors.json").read_text(encoding="utf-8"))["sponsors"]
    for slug, s in sponsors.items():
        link = json.loads((site / "s" / slug / "link.json").read_text(encoding="utf-8"))
        assert link["name"] == s["name"] and link["province"] == s["province"] and link["prizes"] == s["prizes"]
        assert (site / link["mark"]).is_file()
    # the thank-you page's prizes file stays as it was
    assert json.loads((site / "s/guangdong-cyber/prizes.json").read_text())["prizes"][0]["item"] == "定制雨伞"


def test_the_campaign_entry_has_its_own_unattributed_copies(built):
    site = built / "site"
    shared = site / attributed_links(site)[0]
    for rel, fid in FORMS.items():
        page = site / "survey" / rel / "index.html"
        form = parse(page)
        assert form.hidden["questionnaire"] == fid and form.hidden["sponsor"] == form.hidden["channel"] == "-"
        assert posixpath.normpath(posixpath.join("survey", rel, form.form["action"])) == "api/submit"
        assert page.stat().st_ino != (shared / rel / "index.html").stat().st_ino


def test_former_slugs_forward_the_topic_pages(built):
    for rel in ["", *BASES.values(), *FORMS]:
        page = built / "site/s/beijing-old/wechat" / rel / "index.html"
        assert f"s/beijing-ccs/wechat/{rel}" in page.read_text(encoding="utf-8")


def test_a_form_page_is_light_and_the_site_grows_with_forms_not_links(built):
    site = built / "site"
    script = gzip.compress((site / "assets/js/form.js").read_bytes(), compresslevel=9, mtime=0)
    links = attributed_links(site)
    one_form = 0
    for rel in FORMS:
        page = (site / links[0] / rel / "index.html").read_bytes()
        assert len(gzip.compress(page, compresslevel=9, mtime=0)) + len(script) <= FORM_PAGE_BYTES, rel
        one_form = max(one_form, len(page))
    # Every page under the links and the campaign's entry, each file once
    pages = {p.stat().st_ino: p.stat().st_size for top in ("s", "survey") for p in (site / top).rglob("*.html")}
    stubs = sum((site / link / folder / "index.html").stat().st_size for link in links for folder in BASES.values())
    redirects = sum(p.stat().st_size for p in (site / "s/beijing-old").rglob("*.html"))
    assert sum(pages.values()) <= 2 * len(FORMS) * one_form + stubs + redirects


def contents(site: Path) -> dict[str, tuple[str, int, int]]:
    """Every file of the site: its digest, inode and size."""
    out = {}
    for p in site.rglob("*"):
        if p.is_file():
            st = p.stat()
            out[str(p.relative_to(site))] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_ino, st.st_size)
    return out


def reworded(project: Path, qid: str, topic: str | None, index: int) -> str:
    """Change the wording of one question (of `topic`'s sections, or of the core) in the project's file."""
    path = project / "questionnaires.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = data["questionnaires"][qid]
    if topic:
        body = next(t for t in body["modules"]["topics"] if t["id"] == topic)
    question = [q for s in body["sections"] for q in s["questions"]][index]
    question["text"] += "（改）"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return question["id"]


def changed_files(before: dict, after: dict) -> tuple[list[str], dict[str, int]]:
    """Paths whose bytes changed or that appeared, and the distinct new contents among them (digest -> size); not
    the build's own files, never published (publish.STAMPS, the record of its folders, and publish.SHARED, the files
    its shared copies are links of)."""
    paths = [p for p, v in after.items() if before.get(p, ("",))[0] != v[0] and not p.startswith(".")]
    return paths, {after[p][0]: after[p][2] for p in paths}


def test_editing_one_question_changes_a_handful_of_files_not_every_link(built, tmp_path):
    # GIVEN a site built twice from the same inputs (so a replaced site is there to take folders from)
    project = new_project(tmp_path / "project")
    shutil.copytree(built / ".cache", project / ".cache")  # drawn images: nothing to draw again
    build(project)
    build(project)
    before = contents(project / "site")
    log = build(project)
    # THEN an unchanged rebuild writes no subtree
    assert WRITTEN.search(log).group(1) == "0", log
    assert {p: v[0] for p, v in contents(project / "site").items()} == {p: v[0] for p, v in before.items()}
    site = project / "site"
    links = attributed_links(site)

    # WHEN one topic question's wording changes
    qid = reworded(project, "public", "ai", 0)
    log = build(project)
    after = contents(site)
    # THEN the sponsor list is not read again, no subtree is written again, and what changed is that form, its
    # campaign copy and questionnaires.json
    assert "sponsors.yaml unchanged, its 3 sponsors as checked last time" in log
    assert WRITTEN.search(log).group(1) == "0", log
    paths, distinct = changed_files(before, after)
    assert len(distinct) == 3, sorted(paths)
    assert sum(distinct.values()) <= 3 * 64 * 1024
    shared = after[f"{links[0]}ai/index.html"]
    assert {p for p in paths if p.startswith("s/")} == {f"{link}ai/index.html" for link in links}
    assert all(after[p][1] == shared[1] for p in paths if p.startswith("s/")), "the links' copies are one file"
    assert set(paths) - {p for p in paths if p.startswith("s/")} == {"survey/ai/index.html", "questionnaires.json"}
    assert "（改）" in (site / links[0] / "ai/index.html").read_text(encoding="utf-8")
    assert qid in (site / "questionnaires.json").read_text(encoding="utf-8")

    # WHEN a core question's wording changes: every topic form of that questionnaire changes, and only those
    before = after
    reworded(project, "public", None, 2)
    log = build(project)
    after = contents(site)
    assert WRITTEN.search(log).group(1) == "0", log
    paths, distinct = changed_files(before, after)
    public = [rel for rel, fid in FORMS.items() if fid.startswith("public.")]
    assert len(distinct) == 2 * len(public) + 1, sorted(paths)
    assert {p for p in paths if p.startswith("s/")} == {f"{link}{rel}index.html" for link in links for rel in public}
    assert len({after[p][1] for p in paths if p.startswith("s/")}) == len(public)


def test_a_sponsors_pages_are_keyed_by_the_topic_list_not_by_the_forms_wording():
    data = yaml.safe_load(SHAPE_2025.read_text(encoding="utf-8"))
    key = pages.shown_at_links(questionnaire.parse(data, SHAPE_2025))
    topic = data["questionnaires"]["public"]["modules"]["topics"][0]
    topic["sections"][0]["questions"][0]["text"] += "（改）"
    data["questionnaires"]["pro"]["sections"][0]["questions"][0]["text"] += "（改）"
    assert pages.shown_at_links(questionnaire.parse(data, SHAPE_2025)) == key
    topic["title"] += "（改）"
    assert pages.shown_at_links(questionnaire.parse(data, SHAPE_2025)) != key
    # Without topics a questionnaire's form is on the sponsor's pages: all of it counts, as before
    plain = questionnaire.load()
    assert pages.shown_at_links(plain) == repr(plain)


def test_the_questionnaire_file_is_a_plugin_setting(built, tmp_path):
    project = new_project(tmp_path / "project")
    shutil.copytree(built / ".cache", project / ".cache")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "  - sponsor-pages\n" in text
    setting = "  - sponsor-pages:\n      questionnaires: questionnaires.yaml\n"
    config.write_text(text.replace("  - sponsor-pages\n", setting), encoding="utf-8")
    result = mkdocs_build(project, env={"SURVEY_QUESTIONNAIRES": ""})  # the environment's choice would win
    assert result.returncode == 0, result.stderr
    assert (project / "site/s/beijing-ccs/wechat/pro/cii/index.html").is_file()
    published = json.loads((project / "site/questionnaires.json").read_text(encoding="utf-8"))
    assert "modules" in published["questionnaires"]["public"]


def test_a_result_remembered_by_older_code_is_rendered_again(built, tmp_path):
    # GIVEN remembered results from before shared pages existed (no `shared` field)
    project = new_project(tmp_path / "project")
    shutil.copytree(built / ".cache", project / ".cache")
    for memo in (project / ".cache/sponsor-pages/outputs").glob("*.pickle"):
        stored = pickle.loads(memo.read_bytes())
        del stored.output.__dict__["shared"]
        memo.write_bytes(pickle.dumps(stored))
    # WHEN the project is built THEN it builds, with every link's copies
    build(project)
    assert (project / "site/s/beijing-ccs/wechat/ai/index.html").is_file()
