"""The questionnaires: read once from `questionnaires.yaml`, they drive both the form and the server's validation.

Loading turns each question into a small checking function, so a request is validated by one pass over those
functions (tens of microseconds) with messages that name the question. The same model tells the generator how to
draw each question and tells the server how a plain form post's fields map back to answers.

A questionnaire may have topic `modules`: its own sections are then a common core, and a respondent answers the
core plus one topic. What can be submitted is a *form* (`Survey.forms`): one per topic, id `<base>.<topic>`, whose
questions are the core's followed by the topic's; a questionnaire without modules is its own single form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import index as indexes
from .index import Index
from .regions import CITIES

SOURCE = Path(__file__).with_name("questionnaires.yaml")
ASSIGNMENTS = ("choose", "assign", "assign_choice")  # who picks the topic: the respondent, the server, or both
DEFAULT_OFFER = 3  # assign_choice: the least-filled topics a respondent picks from, when the file does not say
TYPES = ("single", "multi", "rating", "matrix", "region", "text", "textarea")
SCALE = (1, 2, 3, 4, 5)
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")


class QuestionnaireError(ValueError):
    """The questionnaire file is wrong; the message names the file, the place in it and the fix."""


@dataclass(frozen=True)
class FieldError:
    field: str  # "answers.<question>" or "answers.<question>.<row>" or an envelope field
    message: str  # for the respondent, in Chinese

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class Invalid(Exception):
    """Answers that do not fit the questionnaire."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    required: bool = True
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()  # single, multi: (id, label)
    rows: tuple[tuple[str, str], ...] = ()  # matrix: (id, label)
    low: str = ""  # rating, matrix: what 1 means
    high: str = ""  # and what 5 means
    min: int = 0  # multi: fewest choices when answered
    max: int = 0  # multi: most choices
    max_length: int = 0  # text, textarea
    # (question, option ids that show this one), sorted: the model's repr keys the build's cache, so it must not
    # depend on set order, which changes from one process to the next
    show_if: tuple[str, tuple[str, ...]] | None = None

    def shown(self, answers: Mapping[str, Any]) -> bool:
        """Whether the question applies, given the answers before it: its show-if question's choice is one of
        the options that show it (or it has no show-if)."""
        if self.show_if is None:
            return True
        shown_by = answers.get(self.show_if[0])
        chosen = {shown_by} if isinstance(shown_by, str) else set(shown_by or ())
        return not chosen.isdisjoint(self.show_if[1])

    def field_names(self) -> list[str]:
        """The names this question's inputs carry in the form."""
        if self.type == "matrix":
            return [f"{self.id}.{row}" for row, _ in self.rows]
        if self.type == "region":
            return [f"{self.id}.province", f"{self.id}.city"]
        return [self.id]


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    intro: str
    target: int  # valid samples wanted for this topic; the server's assignment balances toward it
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Modules:
    assignment: str  # one of ASSIGNMENTS
    offer: int  # assign_choice: how many of the least-filled topics a respondent may pick from
    topics: tuple[Topic, ...]

    def topic(self, tid: str) -> Topic | None:
        return next((t for t in self.topics if t.id == tid), None)


def form_id(base: str, topic: str) -> str:
    """The id a topic's form is submitted, counted and exported under."""
    return f"{base}.{topic}"


def base_of(form: str) -> str:
    """The questionnaire a form belongs to: device and address limits are kept per base, so hopping topics does
    not multiply anyone's allowance."""
    return form.split(".", 1)[0]


@dataclass(frozen=True)
class Questionnaire:
    id: str
    title: str
    audience: str
    intro: str
    sections: tuple[Section, ...]
    index: Index | None = None  # the satisfaction index over this questionnaire's answers (index.py)
    modules: Modules | None = None  # a base questionnaire's topics; its sections are then the common core
    base: str = ""  # a topic's form: the base questionnaire's id
    topic: Topic | None = None  # a topic's form: its topic
    questions: tuple[Question, ...] = field(init=False)
    _checks: tuple[tuple[Question, Callable[[Any], Any]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        questions = tuple(q for s in self.sections for q in s.questions)
        object.__setattr__(self, "questions", questions)
        object.__setattr__(self, "_checks", tuple((q, _checker(q)) for q in questions))

    def check(self, answers: object) -> dict[str, Any]:
        """The answers, cleaned and in questionnaire order, or Invalid naming every field that is wrong.

        Answers to a question hidden by its show-if condition are dropped, since a form without script shows
        every question and the respondent may have filled one in before changing the earlier answer.
        """
        if not isinstance(answers, Mapping):
            raise Invalid([FieldError("answers", "答案格式不正确")])
        errors: list[FieldError] = []
        clean: dict[str, Any] = {}
        for q, check in self._checks:
            value = answers.get(q.id)
            if not q.shown(clean):
                continue
            if _empty(value):
                if q.required:
                    errors.append(FieldError(f"answers.{q.id}", "此题为必答题"))
                continue
            try:
                clean[q.id] = check(value)
            except Invalid as exc:
                errors.extend(exc.errors)
        known = {q.id for q in self.questions}
        errors.extend(FieldError(f"answers.{k}"[:80], "问卷中没有这道题") for k in answers if k not in known)
        if errors:
            raise Invalid(errors)
        return clean

    def from_form(self, fields: Mapping[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
        """A plain form post's fields as answers (the shape `check` takes), and the field names it did not know."""
        answers: dict[str, Any] = {}
        used: set[str] = set()
        for q in self.questions:
            names = q.field_names()
            used.update(names)
            values = {n: [v for v in fields.get(n, ()) if v != ""] for n in names}
            if q.type == "multi":
                if values[q.id]:
                    answers[q.id] = values[q.id]
            elif q.type == "matrix":
                rows = {n.split(".", 1)[1]: _int(v[-1]) for n, v in values.items() if v}
                if rows:
                    answers[q.id] = rows
            elif q.type == "region":
                province, city = values[f"{q.id}.province"], values[f"{q.id}.city"]
                if province or city:
                    answers[q.id] = {"province": province[-1] if province else "", "city": city[-1] if city else ""}
            elif values[q.id]:
                answers[q.id] = _int(values[q.id][-1]) if q.type == "rating" else values[q.id][-1]
        return answers, [n for n in fields if n not in used]

    @property
    def base_id(self) -> str:
        """The questionnaire this is, or whose topic form this is."""
        return self.base or self.id

    def province_of(self, clean: Mapping[str, Any]) -> str:
        """The respondent's province from checked answers ("" when the questionnaire asks none)."""
        for q in self.questions:
            if q.type == "region" and q.id in clean:
                return clean[q.id]["province"]
        return ""


@dataclass(frozen=True)
class Survey:
    consent: str
    questionnaires: dict[str, Questionnaire]  # base id -> questionnaire (with modules: the core only)
    # What can be submitted: form id -> the core plus one topic, or a questionnaire without modules as it is
    forms: dict[str, Questionnaire] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        forms: dict[str, Questionnaire] = {}
        for qid, qn in self.questionnaires.items():
            if qn.modules is None:
                forms[qid] = qn
            for topic in qn.modules.topics if qn.modules else ():
                forms[form_id(qid, topic.id)] = topic_form(qn, topic)
        object.__setattr__(self, "forms", forms)

    def find(self, qid: str) -> Questionnaire:
        """A questionnaire (with topics: its core) or a topic's form, by id; KeyError when it is neither."""
        return self.questionnaires.get(qid) or self.forms[qid]


def topic_form(base: Questionnaire, topic: Topic) -> Questionnaire:
    """The form of one topic: the base's core then the topic's sections, scored by the base's index. Its title
    names the topic inside the questionnaire's closing parenthesis (网民网络安全感满意度调查（公众网民版·数据安全）),
    so whatever reports on a form says which one it is, and a short title (the part in parentheses) still reads."""
    m = _CLOSING.search(base.title)
    title = (f"{base.title[:m.start()]}（{m.group(1)}·{topic.title}）" if m else f"{base.title}（{topic.title}）")
    return Questionnaire(form_id(base.id, topic.id), title, base.audience, base.intro,
                         base.sections + topic.sections, base.index, base=base.id, topic=topic)


_CLOSING = re.compile(r"（([^（）]+)）\Z")


def _text(value: str) -> str:
    """Folded YAML joins lines with a space, which Chinese text must not have between two characters."""
    return _CJK_GAP.sub("", value.strip())


_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _int(text: str) -> int | str:
    return int(text) if text.isdigit() and len(text) < 3 else text


def _fail(message: str, where: str) -> Invalid:
    return Invalid([FieldError(where, message)])


def _single(q: Question, name: str) -> Callable[[Any], str]:
    allowed = frozenset(o for o, _ in q.options)

    def single(value: Any) -> str:
        if value.__class__ is not str or value not in allowed:
            raise _fail("请选择列出的选项之一", name)
        return value
    return single


def _multi(q: Question, name: str) -> Callable[[Any], list[str]]:
    allowed = frozenset(o for o, _ in q.options)
    order = {o: i for i, (o, _) in enumerate(q.options)}

    def multi(value: Any) -> list[str]:
        if value.__class__ is not list or not all(v.__class__ is str and v in allowed for v in value):
            raise _fail("请选择列出的选项", name)
        chosen = set(value)
        if len(chosen) != len(value):
            raise _fail("同一选项只能选一次", name)
        if len(chosen) < q.min:
            raise _fail(f"请至少选择 {q.min} 项", name)
        if len(chosen) > q.max:
            raise _fail(f"最多选择 {q.max} 项", name)
        return sorted(chosen, key=order.__getitem__)
    return multi


def _rating(q: Question, name: str) -> Callable[[Any], int]:
    def rating(value: Any) -> int:
        if value.__class__ is not int or value not in SCALE:
            raise _fail("请选择 1 到 5 之间的评分", name)
        return value
    return rating


def _matrix(q: Question, name: str) -> Callable[[Any], dict[str, int]]:
    rows = tuple(r for r, _ in q.rows)
    known_rows = frozenset(rows)

    def matrix(value: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            raise _fail("答案格式不正确", name)
        errors = [FieldError(f"{name}.{k}"[:80], "没有这一项") for k in value if k not in known_rows]
        clean = {}
        for row in rows:
            v = value.get(row)
            if v is None or v == "":
                if q.required:
                    errors.append(FieldError(f"{name}.{row}", "请为这一项评分"))
            elif v.__class__ is not int or v not in SCALE:
                errors.append(FieldError(f"{name}.{row}", "请选择 1 到 5 之间的评分"))
            else:
                clean[row] = v
        if errors:
            raise Invalid(errors)
        return clean
    return matrix


def _region(q: Question, name: str) -> Callable[[Any], dict[str, str]]:
    def region(value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or set(value) - {"province", "city"}:
            raise _fail("答案格式不正确", name)
        province, city = value.get("province"), value.get("city")
        if province.__class__ is not str or province not in CITIES:
            raise _fail("请选择省份", f"{name}.province")
        if city.__class__ is not str or city not in CITIES[province]:
            raise _fail(f"请选择{province}下的城市", f"{name}.city")
        return {"province": province, "city": city}
    return region


def _free_text(q: Question, name: str) -> Callable[[Any], str]:
    limit = q.max_length

    def text(value: Any) -> str:
        if value.__class__ is not str:
            raise _fail("请填写文字", name)
        value = value.strip()
        if len(value) > limit:
            raise _fail(f"请不超过 {limit} 字（现有 {len(value)} 字）", name)
        if "\x00" in value:
            raise _fail("包含无法识别的字符", name)
        return value
    return text


# One factory per question type; short and long texts share the text check.
_CHECKERS: dict[str, Callable[[Question, str], Callable[[Any], Any]]] = {
    "single": _single, "multi": _multi, "rating": _rating, "matrix": _matrix, "region": _region}


def _checker(q: Question) -> Callable[[Any], Any]:
    """A function that returns the clean value of one answer or raises Invalid."""
    return _CHECKERS.get(q.type, _free_text)(q, f"answers.{q.id}")


# ---- reading the file -------------------------------------------------------------------------------------------

def load(path: Path = SOURCE) -> Survey:
    """Read and check the questionnaire file (YAML, or the JSON copy the site build publishes beside
    sponsors.json, which the Lambda reads without loading a YAML parser); every problem is reported at once."""
    return parse(read(path), path)


def read(path: Path = SOURCE) -> object:
    if path.suffix == ".json":
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise QuestionnaireError(f"{path}: cannot read: {exc}. Fix: rebuild the site, which writes it") from exc
    import yaml

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionnaireError(f"{path}: cannot read: {exc}. Fix: make it valid YAML in UTF-8") from exc


def dumps(data: object) -> str:
    """Data read from the questionnaire file (and checked by `parse`) as the JSON the site publishes."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def parse(data: object, path: Path) -> Survey:
    problems: list[str] = []
    survey = _survey(data, problems)
    if problems:
        listing = "\n".join(f"  {path}: {p}" for p in problems)
        raise QuestionnaireError(f"{path}: {len(problems)} problem(s):\n{listing}")
    assert survey is not None
    return survey


def _survey(data: object, problems: list[str]) -> Survey | None:
    if not isinstance(data, dict) or not isinstance(data.get("questionnaires"), dict):
        problems.append("the top level needs 'consent' (text) and 'questionnaires' (a mapping of id -> questionnaire)")
        return None
    consent = data.get("consent")
    if not isinstance(consent, str) or not consent.strip():
        problems.append("consent: required text shown above the submit button")
    _unknown(data, {"consent", "questionnaires"}, "top level", problems)
    result = {}
    for qid, body in data["questionnaires"].items():
        where = f"questionnaires.{qid}"
        if not isinstance(qid, str) or not _ID.match(qid):
            problems.append(f"{where}: id must be lowercase letters, digits or '_', starting with a letter")
            continue
        qn = _questionnaire(qid, body, where, problems, frozenset(map(str, data["questionnaires"])))
        if qn:
            result[qid] = qn
    return Survey(_text(str(consent or "")), result)


def _questionnaire(qid: str, body: object, where: str, problems: list[str],
                   ids: frozenset[str] = frozenset()) -> Questionnaire | None:
    if not isinstance(body, dict):
        problems.append(f"{where}: must be a mapping with title, audience, intro and sections")
        return None
    if "min_seconds" in body:  # a validity threshold: it belongs with the other rules
        problems.append(f"{where}.min_seconds: moved to rules.yaml (limits.min_seconds.{qid})")
    _unknown(body, {"title", "audience", "intro", "min_seconds", "sections", "index", "modules"}, where, problems)
    texts = {k: body.get(k) for k in ("title", "audience", "intro")}
    for k, v in texts.items():
        if not isinstance(v, str) or not v.strip():
            problems.append(f"{where}.{k}: required text")
    seen: dict[str, Question] = {}
    sections = _sections(body.get("sections"), where, seen, problems)
    if sections is None:
        return None
    regions = [q for q in seen.values() if q.type == "region"]
    if len(regions) != 1:
        problems.append(f"{where}: needs exactly one question of type 'region' (the respondent's province), "
                        f"found {len(regions)}")
    index = indexes.parse(body["index"], f"{where}.index", seen, problems) if "index" in body else None
    modules = _modules(body["modules"], f"{where}.modules", seen, ids, problems) if "modules" in body else None
    if problems:
        return None
    return Questionnaire(qid, _text(texts["title"]), _text(texts["audience"]), _text(texts["intro"]),
                         tuple(sections), index, modules)


def _sections(raw: object, where: str, seen: dict[str, Question], problems: list[str]) -> list[Section] | None:
    """The sections at `where`; each question read is added to `seen` (the ids a later question may not reuse
    and a later show-if may name)."""
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}.sections: a list of sections, each with a title and questions")
        return None
    sections = []
    for i, sec in enumerate(raw):
        swhere = f"{where}.sections[{i}]"
        if not isinstance(sec, dict) or not isinstance(sec.get("questions"), list):
            problems.append(f"{swhere}: needs 'title' and a list of 'questions'")
            continue
        _unknown(sec, {"title", "questions"}, swhere, problems)
        questions = []
        for j, qbody in enumerate(sec["questions"]):
            q = _question(qbody, f"{swhere}.questions[{j}]", seen, problems)
            if q:
                seen[q.id] = q
                questions.append(q)
        sections.append(Section(str(sec.get("title") or ""), tuple(questions)))
    return sections


_MODULES_KEYS = {"assignment", "offer", "topics"}
_TOPIC_KEYS = {"id", "title", "intro", "target", "sections"}


def _modules(raw: object, where: str, core: dict[str, Question], ids: frozenset[str],
             problems: list[str]) -> Modules | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: a mapping with assignment, offer and topics")
        return None
    _unknown(raw, _MODULES_KEYS, where, problems)
    assignment = raw.get("assignment")
    if assignment not in ASSIGNMENTS:
        problems.append(f"{where}.assignment: one of {', '.join(ASSIGNMENTS)} (the respondent chooses the topic, "
                        "the server assigns one, or the respondent chooses among the least-filled)")
    raw_topics = raw.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        problems.append(f"{where}.topics: a list of topics, each with id, title, intro, target and sections")
        return None
    topics: list[Topic] = []
    for i, body in enumerate(raw_topics):
        topic = _topic(body, f"{where}.topics[{i}]", core, ids, problems)
        if topic is None:
            continue
        if any(t.id == topic.id for t in topics):
            problems.append(f"{where}.topics[{i}].id: '{topic.id}' is used twice; give each topic its own id")
            continue
        topics.append(topic)
    offer = raw.get("offer", min(DEFAULT_OFFER, len(raw_topics)))
    if not isinstance(offer, int) or isinstance(offer, bool) or not 1 <= offer <= len(raw_topics):
        problems.append(f"{where}.offer: a whole number from 1 to {len(raw_topics)} (the number of topics): how many "
                        "of the least-filled topics a respondent may pick from")
    return Modules(str(assignment), offer if isinstance(offer, int) else 0, tuple(topics))


def _topic(body: object, where: str, core: dict[str, Question], ids: frozenset[str],
           problems: list[str]) -> Topic | None:
    if not isinstance(body, dict):
        problems.append(f"{where}: a topic is a mapping with id, title, intro, target and sections")
        return None
    tid = body.get("id")
    if isinstance(tid, str):
        where = f"{where} (id {tid})"
    count = len(problems)
    _unknown(body, _TOPIC_KEYS, where, problems)
    if not isinstance(tid, str) or not _ID.match(tid):
        problems.append(f"{where}.id: lowercase letters, digits or '_', starting with a letter (e.g. ai); "
                        "it names the topic's folder and its form id <questionnaire>.<topic>")
    elif tid in ids:
        problems.append(f"{where}.id: '{tid}' is a questionnaire's id; a topic's folder beside it would clash, "
                        "so give the topic another id")
    texts = {k: body.get(k, "" if k == "intro" else None) for k in ("title", "intro")}
    if not isinstance(texts["title"], str) or not texts["title"].strip():
        problems.append(f"{where}.title: required text, e.g. 智能社会发展与治理挑战")
    if not isinstance(texts["intro"], str):
        problems.append(f"{where}.intro: text (a sentence on what the topic asks)")
    target = body.get("target")
    if not isinstance(target, int) or isinstance(target, bool) or target < 1:
        problems.append(f"{where}.target: a whole number of at least 1, the valid samples wanted for this topic")
    # The core's ids stay taken and nameable by a show-if; the topic's own are added as they are read.
    seen = dict(core)
    sections = _sections(body.get("sections"), where, seen, problems)
    for i, sec in enumerate(_list(body.get("sections"))):
        for j, q in enumerate(_list(sec.get("questions")) if isinstance(sec, dict) else ()):
            if isinstance(q, dict) and q.get("type") == "region":
                problems.append(f"{where}.sections[{i}].questions[{j}].type: a topic may not ask the region; the "
                                "core's region question holds the respondent's province for every topic")
    if sections is None or len(problems) > count:
        return None
    return Topic(str(tid), _text(texts["title"]), _text(texts["intro"]), target, tuple(sections))


_QUESTION_KEYS = {"id", "type", "text", "required", "hint", "options", "rows", "low", "high", "min", "max",
                  "max_length", "show_if"}


def _question(body: object, where: str, seen: dict[str, Question], problems: list[str]) -> Question | None:
    if not isinstance(body, dict):
        problems.append(f"{where}: a question is a mapping with at least id, type and text")
        return None
    qid = body.get("id")
    if isinstance(qid, str):
        where = f"{where} (id {qid})"
    count = len(problems)
    _unknown(body, _QUESTION_KEYS, where, problems)
    if not isinstance(qid, str) or not _ID.match(qid):
        problems.append(f"{where}.id: lowercase letters, digits or '_', starting with a letter (e.g. fraud_loss)")
    elif qid in seen:
        problems.append(f"{where}.id: '{qid}' is used twice in this questionnaire (a topic's questions count with "
                        "its core's); give each question its own id")
    qtype = body.get("type")
    if qtype not in TYPES:
        problems.append(f"{where}.type: must be one of {', '.join(TYPES)}")
        return None
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}.text: the question's wording is required")
    required = body.get("required", True)
    if not isinstance(required, bool):
        problems.append(f"{where}.required: true or false")
    hint = body.get("hint", "")
    if not isinstance(hint, str):
        problems.append(f"{where}.hint: text")
    kwargs: dict[str, Any] = {}
    if qtype in ("single", "multi"):
        kwargs["options"] = _choices(body.get("options"), f"{where}.options", problems)
    if qtype == "matrix":
        kwargs["rows"] = _choices(body.get("rows"), f"{where}.rows", problems)
    if qtype in ("rating", "matrix"):
        for k in ("low", "high"):
            if not isinstance(body.get(k), str) or not body[k].strip():
                problems.append(f"{where}.{k}: the label of {'1' if k == 'low' else '5'} on the scale")
            else:
                kwargs[k] = _text(body[k])
    if qtype == "multi":
        n = len(kwargs["options"])
        lo, hi = body.get("min", 1), body.get("max", n)
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= max(n, 1)):
            problems.append(f"{where}.min/max: whole numbers with 1 ≤ min ≤ max ≤ {n} (the number of options)")
        kwargs["min"], kwargs["max"] = lo, hi
    if qtype in ("text", "textarea"):
        limit = body.get("max_length")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 4000:
            problems.append(f"{where}.max_length: the most characters allowed, 1–4000")
        kwargs["max_length"] = limit
    for k in ("options", "rows", "low", "high", "min", "max", "max_length"):
        if k in body and k not in kwargs:
            problems.append(f"{where}.{k}: does not apply to a '{qtype}' question; remove it")
    show_if = body.get("show_if")
    if show_if is not None:
        kwargs["show_if"] = _show_if(show_if, f"{where}.show_if", seen, problems)
    if qtype == "region" and (qid != "region" or required is not True or show_if is not None):
        problems.append(f"{where}: the region question must have id 'region', be required and always shown")
    if len(problems) > count:
        return None
    return Question(qid, qtype, _text(text), required, _text(hint), **kwargs)


def _choices(value: object, where: str, problems: list[str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not 2 <= len(value) <= 40:
        problems.append(f"{where}: a mapping of id -> label with 2 to 40 entries")
        return ()
    result = []
    for key, label in value.items():
        # YAML reads yes/no/on/off as booleans and bare numbers as ints: the fix is another id.
        if not isinstance(key, str) or not _ID.match(key):
            problems.append(f"{where}: id {key!r} must be lowercase letters, digits or '_', starting with a letter "
                            "(YAML reads yes/no/on/off and numbers as other types: use ids like a1, often, never)")
        elif not isinstance(label, str) or not label.strip():
            problems.append(f"{where}.{key}: the label is required text")
        else:
            result.append((key, _text(label)))
    return tuple(result)


def _show_if(value: object, where: str, seen: dict[str, Question], problems: list[str]) -> tuple[str, tuple[str, ...]] | None:
    if not isinstance(value, dict) or set(value) != {"question", "any"} or not isinstance(value["any"], list):
        problems.append(f"{where}: write {{question: <earlier question id>, any: [<option ids>]}}")
        return None
    target = seen.get(value["question"])
    if target is None or target.type not in ("single", "multi"):
        problems.append(f"{where}.question: must name an earlier single or multi choice question in this questionnaire "
                        "(in a topic: of the core or earlier in the topic)")
        return None
    options = {o for o, _ in target.options}
    wrong = [o for o in value["any"] if o not in options]
    if wrong or not value["any"]:
        problems.append(f"{where}.any: option ids of '{target.id}' ({', '.join(sorted(options))}); wrong: {wrong}")
        return None
    return target.id, tuple(sorted(set(value["any"])))


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _unknown(body: dict, allowed: set[str], where: str, problems: list[str]) -> None:
    for k in body:
        if k not in allowed:
            problems.append(f"{where}: unknown key '{k}'; allowed: {', '.join(sorted(allowed))}")

