"""What a deploy of the campaign's 2025 shape (a common core plus one of 13 topics, each topic's form one page that
every link shares) costs after one question's wording changed, on a site built for real and deployed to moto's S3
and CloudFront: each distinct changed content is sent once, every other changed key is a server-side copy of one
of them, the invalidation stays bounded, and S3 serves the new wording under every link."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.publish import STAMPS
from infra import deploy
from tests.helpers import CAMPAIGN, ROOT, SMALL_SPONSORS, write_project
from tests.infra.test_deploy import moto_site

pytestmark = pytest.mark.e2e
SHAPE_2025 = ROOT / "lambdas" / "survey" / "questionnaires-2025.yaml"
EDITED = "（改）"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The small sample's three sponsors with the 2025 questionnaires, built and deployed once (the cold build);
    each test edits the project's own copy of the questionnaire file and deploys again."""
    with moto_site("survey-topics", "survey-topics-site") as aws:
        project = write_project(tmp_path_factory.mktemp("deploy-topics") / "project", CAMPAIGN + SMALL_SPONSORS)
        questionnaires = project / "questionnaires.yaml"
        # Through yaml once, so that an edit below changes one text and nothing else of the file
        data = yaml.safe_load(SHAPE_2025.read_text(encoding="utf-8"))
        questionnaires.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        mp = pytest.MonkeyPatch()
        mp.setenv("SURVEY_QUESTIONNAIRES", str(questionnaires))
        try:
            state = {**aws, "project": project, "build": project.parent / "build"}
            assert _deploy(state).bytes_uploaded > 0
            yield state
        finally:
            mp.undo()


def _deploy(aws: dict[str, Any]) -> deploy.Plan:
    args = deploy.parse(["--stack", aws["stack"], "--region", "us-east-1", "--skip-stack",
                         "--config", str(aws["project"] / "mkdocs.yml"), "--build-dir", str(aws["build"])])
    return deploy.run(args, aws["session"])


def _tree(site: Path) -> dict[str, tuple[str, int]]:
    """Every file of the built site (published or not): its MD5, which S3 gives as ETag, and its size."""
    out = {}
    for path in site.rglob("*"):
        if path.is_file():
            out[path.relative_to(site).as_posix()] = (hashlib.md5(path.read_bytes()).hexdigest(), path.stat().st_size)
    return out


def _keys(rel: str) -> list[str]:
    """The object keys a site file is published under (see deploy.files)."""
    return [rel, rel[: -len("index.html")]] if rel.endswith("/index.html") else [rel]


def _file(key: str) -> str:
    return key + "index.html" if key.endswith("/") else key


def _where(key: str) -> str:
    """A key without its link and index page: "s/*/*/ai/" for every link's copy of the topic's form."""
    return re.sub(r"^s/[^/]+/[^/]+/", "s/*/*/", key.removesuffix("index.html"))


def _reword(project: Path, topic: str | None) -> str:
    """Change the wording of one question of the public questionnaire: the first of `topic`, or the core's gender
    question; returns its new text."""
    path = project / "questionnaires.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = data["questionnaires"]["public"]
    if topic is not None:
        body = next(t for t in body["modules"]["topics"] if t["id"] == topic)
    question = next(q for s in body["sections"] for q in s["questions"] if topic or q["id"] == "gender")
    question["text"] += EDITED
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return question["text"]


def _public_topics(project: Path) -> list[str]:
    data = yaml.safe_load((project / "questionnaires.yaml").read_text(encoding="utf-8"))
    return [t["id"] for t in data["questionnaires"]["public"]["modules"]["topics"]]


def _invalidations(cloudfront: Any, distribution: str) -> set[str]:
    return {i["Id"] for i in cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
            .get("Items", [])}


def _edit_and_deploy(aws: dict[str, Any], topic: str | None) -> tuple[deploy.Plan, str, set[str]]:
    """Reword one question, deploy, and check what every such deploy must do; returns the plan, the new text and
    where the uploaded contents are (see _where)."""
    site = aws["build"] / "site"
    before = _tree(site)
    text = _reword(aws["project"], topic)
    cloudfront = aws["session"].client("cloudfront")
    earlier = _invalidations(cloudfront, aws["distribution"])
    plan = _deploy(aws)
    after = _tree(site)

    # What changed in the site, by content: the build's bookkeeping changed too, and is not published
    changed = sorted(rel for rel, found in after.items() if before.get(rel) != found)
    assert STAMPS in changed
    published = [rel for rel in changed if not any(part.startswith(".") for part in rel.split("/"))]
    distinct = {after[rel][0]: after[rel][1] for rel in published}

    # Every key of a changed file is written, and no other key
    assert sorted(plan.uploaded) == sorted(k for rel in published for k in _keys(rel))
    # Each new content is sent once: at most the distinct changed files' bytes; every other key is a copy of one
    copied = set(plan.copied)
    sent = [k for k in plan.uploaded if k not in copied]
    sent_md5 = {after[_file(k)][0] for k in sent}
    assert len(sent_md5) == len(sent), sent
    assert plan.bytes_uploaded == sum(after[_file(k)][1] for k in sent) <= sum(distinct.values())
    assert copied and all(after[_file(k)][0] in sent_md5 for k in copied)
    # A bounded invalidation, every path of it sent to CloudFront in one batch
    assert len(plan.invalidated) <= deploy.EXACT_PATHS
    assert sum(p.endswith("*") for p in plan.invalidated) <= deploy.MAX_WILDCARDS
    (new,) = _invalidations(cloudfront, aws["distribution"]) - earlier
    batch = cloudfront.get_invalidation(DistributionId=aws["distribution"], Id=new)["Invalidation"]
    assert sorted(batch["InvalidationBatch"]["Paths"]["Items"]) == sorted(plan.invalidated)
    # S3 serves the new bytes under every written key, sent or copied, as an HTML page where it is one
    s3 = aws["session"].client("s3")
    for key in plan.uploaded:
        got = s3.get_object(Bucket=aws["bucket"], Key=key)
        assert hashlib.md5(got["Body"].read()).hexdigest() == after[_file(key)][0], key
        assert not key.endswith("/") or got["ContentType"] == "text/html; charset=utf-8", key
    print(f"\n{'topic ' + topic if topic else 'core'} edit: {len(published)} site files changed "
          f"({len(distinct)} distinct, {sum(distinct.values()):,} bytes); {len(sent)} uploaded "
          f"({plan.bytes_uploaded:,} bytes), {len(copied)} copied server-side, {len(plan.invalidated)} path(s) "
          f"invalidated: {plan.invalidated if len(plan.invalidated) <= 5 else plan.invalidated[:5] + ['…']}")
    return plan, text, {_where(k) for k in sent}


def _served(aws: dict[str, Any], key: str) -> str:
    return aws["session"].client("s3").get_object(Bucket=aws["bucket"], Key=key)["Body"].read().decode()


def test_an_unchanged_redeploy_uploads_and_copies_nothing(deployed):
    plan = _deploy(deployed)
    assert plan.uploaded == [] and plan.copied == [] and plan.bytes_uploaded == 0 and plan.invalidated == []
    assert plan.kept > 0


def test_a_topic_questions_wording_sends_that_form_once_and_copies_it_under_every_link(deployed):
    plan, text, sent = _edit_and_deploy(deployed, "ai")
    # THEN what is sent is that form, its campaign copy and the questionnaires the functions check against
    assert sent == {"s/*/*/ai/", "survey/ai/", "questionnaires.json"}
    for key in ("s/beijing-ccs/wechat/ai/", "s/guangdong-cyber/poster/ai/index.html", "survey/ai/"):
        assert text in _served(deployed, key), key
    # and the forms of the other topics are left as they were
    assert not [k for k in plan.uploaded if "/fraud/" in k or "/pro/" in k]


def test_a_core_questions_wording_sends_each_of_that_questionnaires_forms_once(deployed):
    plan, text, sent = _edit_and_deploy(deployed, None)
    topics = _public_topics(deployed["project"])
    # THEN what is sent is every form of the public questionnaire, once for the links and once for the campaign's
    # own entry, and the questionnaires; the practitioners' forms are left as they were
    assert sent == {f"s/*/*/{t}/" for t in topics} | {f"survey/{t}/" for t in topics} | {"questionnaires.json"}
    for key in (f"s/shenzhen-media/app/{topics[-1]}/", f"s/beijing-ccs/website/{topics[0]}/index.html",
                f"survey/{topics[3]}/"):
        assert text in _served(deployed, key), key
    assert not any(k.startswith("s/") and "/pro/" in k for k in plan.uploaded)
