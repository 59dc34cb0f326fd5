"""The page a plain form post (no script) gets when it is refused: problem.html, filled in."""

from __future__ import annotations

import html
import string
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lambdas.survey.catalog import UNATTRIBUTED, Catalog
from lambdas.survey.questionnaire import Questionnaire, Survey

from .intake import link_of

# What the page calls the parts of a post that are not answers (a respondent without script rarely sees these).
FIELDS = {"questionnaire": "问卷", "sponsor": "发布单位", "channel": "发布渠道", "id": "提交编号",
          "device": "设备标识", "proof": "安全验证", "homepage": "提交内容", "body": "提交内容", "answers": "答案"}
PAGE = string.Template((Path(__file__).with_name("problem.html")).read_text(encoding="utf-8"))


def page(refusal: dict[str, Any], posted: bytes, survey: Survey, cat: Catalog, path: str = "") -> str:
    """What a respondent without script sees when the post was refused (`refusal`: the answer's body, with its
    message and fields): every problem under the number and wording of the question in the form that was posted,
    and a way back to it. `path`: where it was posted; a topic form's own path names the sponsor and channel."""
    meta = _posted_meta(posted)
    link = link_of(path)
    if link:
        meta["sponsor"], meta["channel"] = link
    qn = survey.forms.get(meta.get("questionnaire", "")) or next(iter(survey.forms.values()))
    # Numbered as the form numbers them (generator/forms.py): in questionnaire order, from 1.
    numbered = {q.id: (n, q.text) for n, q in enumerate(qn.questions, 1)}
    problems: dict[str, list[str]] = {}  # one entry per question, in the order the server named them
    for f in refusal.get("fields", []):
        parts = f["field"].split(".")
        key = parts[1] if parts[0] == "answers" and len(parts) > 1 and parts[1] in numbered else f["field"]
        problems.setdefault(key, []).append(f["message"])
    items = []
    for key, messages in problems.items():
        if key in numbered:
            n, text = numbered[key]
            head = f'<span class="n">第 {n} 题</span><span class="q">{html.escape(text)}</span>'
        else:
            head = f'<span class="q">{html.escape(FIELDS.get(key.split(".")[0], "提交内容"))}</span>'
        # The message on a line of its own: a question that ends in "？" never runs into a "：".
        items.append(f'<li>{head}<span class="m">{html.escape("；".join(dict.fromkeys(messages)))}</span></li>')
    back, label = _form_link(survey, cat, meta, qn)
    return PAGE.substitute(
        title=html.escape(qn.title), message=html.escape(refusal.get("message", "")),
        listing=f"<ul>{''.join(items)}</ul>" if items else "", back=html.escape(back), back_label=label,
    )


def _posted_meta(posted: bytes) -> dict[str, str]:
    """The questionnaire, sponsor and channel a form post names (the page only reads them to lead back)."""
    try:
        fields = parse_qs(posted.decode("utf-8"), max_num_fields=400)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[-1] for k, v in fields.items() if k in ("questionnaire", "sponsor", "channel")}


def _form_link(survey: Survey, cat: Catalog, meta: dict[str, str], qn: Questionnaire) -> tuple[str, str]:
    """The form the respondent came from, as the site publishes it (the first questionnaire at the attributed link,
    any other in a folder below it, a topic's form in its topic's folder below that); the home page when the post
    names no sponsor and channel the site knows."""
    slug, channel = cat.attribute(meta.get("sponsor", ""), meta.get("channel", ""))
    if UNATTRIBUTED in (slug, channel):
        return cat.site_url, "返回活动首页"
    first = next(iter(survey.questionnaires))
    folder = "" if qn.base_id == first else f"{qn.base_id}/"
    topic = f"{qn.topic.id}/" if qn.topic else ""
    return f"{cat.site_url}s/{slug}/{channel}/{folder}{topic}", "重新打开问卷"
