"""The satisfaction index (网民网络安全感满意度指数) as data: which answers make up each domain, their weights, how an
answer becomes a score of 0–100, and which answers are left out.

Declared in the questionnaire file under each questionnaire's `index`, so the published method page and the
computation read the same definition. The method, for one respondent:
- an item's score: a rating or matrix row answered 1–5 maps through `scale`; a single-choice answer maps through
  the item's `scores`, and an option without a score (e.g. 说不清) leaves the item out;
- a domain's score: the weighted mean of its items' scores over the items the respondent has;
- the respondent's index: the weighted mean of the domain scores over the domains the respondent has (the weights
  renormalised over those domains).
The campaign's index is the (optionally weighted) mean of the respondents' indexes; a domain's, the mean of its
scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .questionnaire import Question

_KEYS = {"title", "scale", "domains"}
_DOMAIN_KEYS = {"id", "title", "weight", "items"}
_ITEM_KEYS = {"question", "row", "weight", "scores"}


@dataclass(frozen=True)
class Item:
    question: str
    row: str = ""  # a matrix row
    weight: float = 1.0
    scores: tuple[tuple[str, float], ...] = ()  # single choice: option -> score; unlisted options are left out

    @property
    def column(self) -> str:
        """The export's column for this item (as the form names its control)."""
        return f"{self.question}.{self.row}" if self.row else self.question


@dataclass(frozen=True)
class Domain:
    id: str
    title: str
    weight: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Index:
    title: str
    scale: tuple[float, float, float, float, float]  # the score of a 1, 2, 3, 4, 5 answer
    domains: tuple[Domain, ...]

    def score(self, item: Item, value: object) -> float | None:
        """One answer's score, or None when it is left out (unanswered, or an option without a score)."""
        if value is None or value == "":
            return None
        if item.scores:
            return dict(item.scores).get(str(value))
        try:
            answer = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return None
        return self.scale[answer - 1] if 1 <= answer <= 5 else None

    def respondent(self, answers: Mapping[str, Any]) -> tuple[float | None, dict[str, float]]:
        """A respondent's index and domain scores from flat answers keyed by export column."""
        domains: dict[str, float] = {}
        for d in self.domains:
            got = [(i.weight, s) for i in d.items if (s := self.score(i, answers.get(i.column))) is not None]
            if got:
                domains[d.id] = sum(w * s for w, s in got) / sum(w for w, _ in got)
        weights = {d.id: d.weight for d in self.domains if d.id in domains}
        if not weights:
            return None, domains
        return sum(weights[k] * domains[k] for k in weights) / sum(weights.values()), domains


def parse(raw: object, where: str, questions: Mapping[str, Question], problems: list[str]) -> Index | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: a mapping with title, scale and domains")
        return None
    _unknown(raw, _KEYS, where, problems)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}.title: required text, e.g. 网民网络安全感满意度指数")
    scale = raw.get("scale")
    if (not isinstance(scale, list) or len(scale) != 5 or not all(_number(v) and 0 <= v <= 100 for v in scale)
            or scale != sorted(scale)):
        problems.append(f"{where}.scale: five scores from 0 to 100, ascending: what a 1, 2, 3, 4 and 5 answer are worth")
        scale = [0, 25, 50, 75, 100]
    raw_domains = raw.get("domains")
    if not isinstance(raw_domains, list) or not raw_domains:
        problems.append(f"{where}.domains: a list of domains, each with id, title, weight and items")
        return None
    domains, seen = [], set()
    for i, body in enumerate(raw_domains):
        d = _domain(body, f"{where}.domains[{i}]", questions, problems)
        if d is None:
            continue
        if d.id in seen:
            problems.append(f"{where}.domains[{i}].id: '{d.id}' is used twice")
        seen.add(d.id)
        domains.append(d)
    total = sum(d.weight for d in domains)
    if domains and abs(total - 1) > 1e-6:
        problems.append(f"{where}.domains: the weights add up to {total:g}; they must add up to 1")
    return Index(str(title or ""), tuple(float(v) for v in scale), tuple(domains))  # type: ignore[arg-type]


def _domain(body: object, where: str, questions: Mapping[str, Question], problems: list[str]) -> Domain | None:
    if not isinstance(body, dict):
        problems.append(f"{where}: a mapping with id, title, weight and items")
        return None
    _unknown(body, _DOMAIN_KEYS, where, problems)
    did, title, weight = body.get("id"), body.get("title"), body.get("weight")
    if not isinstance(did, str) or not did.isidentifier():
        problems.append(f"{where}.id: a short id of letters, digits or '_'")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}.title: required text, e.g. 个人信息保护")
    if not _number(weight) or not 0 < weight <= 1:
        problems.append(f"{where}.weight: a number above 0 and at most 1 (the domains' weights add up to 1)")
        weight = 0
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(f"{where}.items: a list of the answers that make up this domain")
        return None
    items = [it for j, b in enumerate(raw_items) if (it := _item(b, f"{where}.items[{j}]", questions, problems))]
    return Domain(str(did), str(title or ""), float(weight), tuple(items))


def _item(body: object, where: str, questions: Mapping[str, Question], problems: list[str]) -> Item | None:
    if not isinstance(body, dict):
        problems.append(f"{where}: a mapping with question (and row for a matrix, scores for a single choice)")
        return None
    _unknown(body, _ITEM_KEYS, where, problems)
    qid, row, weight, scores = body.get("question"), body.get("row", ""), body.get("weight", 1), body.get("scores")
    q = questions.get(qid) if isinstance(qid, str) else None
    if q is None:
        problems.append(f"{where}.question: no question '{qid}' in this questionnaire")
        return None
    if not _number(weight) or weight <= 0:
        problems.append(f"{where}.weight: a positive number (1 when left out)")
        weight = 1
    if q.type == "matrix":
        if row not in dict(q.rows):
            problems.append(f"{where}.row: '{q.id}' is a matrix; name one of its rows: {', '.join(r for r, _ in q.rows)}")
            return None
    elif row:
        problems.append(f"{where}.row: only a matrix question has rows ('{q.id}' is {q.type})")
    out: tuple[tuple[str, float], ...] = ()
    if q.type == "single":
        options = dict(q.options)
        if not isinstance(scores, dict) or not scores:
            problems.append(f"{where}.scores: '{q.id}' is a single choice; give each scored option a score of 0–100 "
                            "(options left out, such as 说不清, are excluded)")
            return None
        for option, score in scores.items():
            if option not in options:
                problems.append(f"{where}.scores.{option}: not an option of '{q.id}' ({', '.join(options)})")
            elif not _number(score) or not 0 <= score <= 100:
                problems.append(f"{where}.scores.{option}: a score from 0 to 100")
        out = tuple(sorted((str(o), float(s)) for o, s in scores.items() if o in options and _number(s)))
    elif q.type in ("rating", "matrix"):
        if scores is not None:
            problems.append(f"{where}.scores: '{q.id}' is answered 1–5 and scored by the index's scale")
    else:
        problems.append(f"{where}.question: '{q.id}' is {q.type}; the index takes rating, matrix or single questions")
        return None
    return Item(q.id, str(row or ""), float(weight), out)


def _unknown(body: dict, allowed: set[str], where: str, problems: list[str]) -> None:
    problems.extend(f"{where}.{k}: unknown key (expected {', '.join(sorted(allowed))})" for k in sorted(set(body) - allowed))


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
