"""The questionnaire forms: each form's body (a questionnaire's, or a topic's: the core and that topic) is rendered
once per build, then placed in every sponsor's entry pages with that page's attribution around it, or in the one
page of a topic's form that every link shares.

The form works as a plain HTML form post without script; `static/form.js` adds drafts, show-if, progress,
field-level errors, proof of work and retries on top.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from lambdas.survey.questionnaire import Question, Questionnaire, Survey
from lambdas.survey.regions import CITIES, PROVINCES

STATIC = Path(__file__).with_name("static")
SCRIPT = STATIC / "form.js"
# Scripts of the pages around the form, published under assets/js/: the thank-you page's prizes and claim code,
# the sponsor's private page, and a questionnaire's topic list.
PAGE_SCRIPTS = ("thanks.js", "portal.js", "topics.js")


def script(name: str = SCRIPT.name) -> tuple[str, str]:
    """A script as published (the form's unless named) and a short digest of it, for a cache-busting query string."""
    text = light((STATIC / name).read_text(encoding="utf-8"))
    return text, hashlib.sha256(text.encode()).hexdigest()[:10]


def light(source: str) -> str:
    """A script without its comment lines and indentation: the form page's weight on a phone is budgeted (16 KB
    gzipped with its script), and the comments are for whoever reads static/. Only whole lines go, so no code can
    be cut; a comment that ends before code on its line, or a template literal (whose lines are text), leaves the
    script as it is."""
    if "`" in source:
        return source
    kept: list[str] = []
    in_comment = False
    for line in source.splitlines():
        text = line.strip()
        if in_comment or text.startswith("/*"):
            in_comment = "*/" not in text
            if not in_comment and not text.endswith("*/"):
                return source
        elif text and not text.startswith("//"):
            kept.append(text)
    return "\n".join(kept) + "\n"


def bodies(env: Environment, survey: Survey) -> dict[str, Markup]:
    """form id (a questionnaire's, or "<questionnaire>.<topic>") -> its form body (HTML)."""
    return {fid: Markup(_render(env, qn)) for fid, qn in survey.forms.items()}


def _render(env: Environment, qn: Questionnaire) -> str:
    numbers = {q.id: i for i, q in enumerate(qn.questions, 1)}
    by_id = {q.id: q for q in qn.questions}

    def shown_by(q: Question) -> str:
        assert q.show_if is not None
        target = by_id[q.show_if[0]]
        labels = "”或“".join(label for o, label in target.options if o in q.show_if[1])
        return f"第 {numbers[target.id]} 题选择“{labels}”时回答"

    return env.get_template("form.html.j2").render(
        qn=qn, numbers=numbers, shown_by=shown_by, limits=limits, hint=hint, provinces=PROVINCES,
        city_groups=[(p, CITIES[p]) for p in PROVINCES],
    )


def limits(q: Question) -> str:
    """How many options a multiple-choice question takes, from its own limits: the one place the form says it."""
    parts = ["可多选"]
    if q.min > 1:
        parts.append(f"至少 {q.min} 项")
    if q.max < len(q.options):
        parts.append(f"最多 {q.max} 项")
    return "，".join(parts)


def hint(q: Question) -> str:
    """The question's hint without the clauses that repeat its limits ("最多选3项", "可多选"): the form states those
    once, next to the question, from the limits the server checks."""
    if q.type != "multi" or not q.hint:
        return q.hint or ""
    said = [r"可多选", rf"最多(?:选择?)?\s*{q.max}\s*项", rf"至少(?:选择?)?\s*{q.min}\s*项"]
    clauses = re.split(r"([，,；;。])", q.hint)
    kept = [(text, sep) for text, sep in zip(clauses[::2], clauses[1::2] + [""])
            if not any(re.fullmatch(pattern, text.strip()) for pattern in said)]
    return "".join(text + sep for text, sep in kept).rstrip("，,；; ")
