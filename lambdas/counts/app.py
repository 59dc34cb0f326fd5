"""The counts function: GET /api/counts/... serves the campaign's numbers from counter items alone.

It reads the counters of each day of the window with queries (never a scan of submissions, so its cost stays flat
as submissions grow to millions), keeps them for a few seconds per container (counts.Source, the caching policy),
and answers with Cache-Control so CloudFront absorbs the load of dashboards left open on thousands of screens.

Received counts are public as they happen; valid counts only as the secretariat's policy says (SURVEY_PUBLIC_VALID,
see counts.POLICIES): where they are not published, responses leave `valid` out and say when it will appear. Only
the parameters `day`, `kind` and `province` are read; any other leaves the answer unchanged.

GET /api/assign?questionnaire=<base> answers which topic modules a respondent is offered (survey/balance.py), from
the valid counts of each topic's form in the same cached rows. It is never cached (each request draws anew) and
says only topic ids, never a count.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from lambdas.survey import balance, counts, questionnaire
from lambdas.survey import catalog as catalogs
from lambdas.survey.catalog import KINDS
from lambdas.survey.counts import FRESH_SECONDS, Source  # noqa: F401 (FRESH_SECONDS: read by the browser tests)
from lambdas.survey.regions import PROVINCES
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store, Unavailable

OPENAPI = Path(__file__).resolve().parent.parent / "openapi.json"
CACHE = "public, max-age=60, stale-while-revalidate=300"
NO_STORE = "no-store"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")

logger = Logger(service="counts")
app = APIGatewayHttpResolver()


def public_valid_policy(env: Mapping[str, str] | None = None) -> str:
    """SURVEY_PUBLIC_VALID from the function's environment: what the public sees of the valid counts."""
    value = (os.environ if env is None else env).get("SURVEY_PUBLIC_VALID")
    return counts.policy_setting("SURVEY_PUBLIC_VALID", value, counts.DEFAULT_POLICY)


source: Source | None = None
survey: questionnaire.Survey | None = None  # the questionnaires the site's forms were built from
rng = random.Random()  # draws the topics; a test may put a seeded one here


def configure(new: Source | None, questionnaires: questionnaire.Survey | None = None) -> None:
    global source, survey
    source, survey = new, questionnaires


def _source() -> Source:
    global source
    if source is None:
        settings = Settings.from_env()
        policy = public_valid_policy()  # checked before any request is answered
        cat = catalogs.load(settings.catalog)
        source = Source(Store(boto3.client("dynamodb"), settings.table, settings.shards), cat, policy=policy)
    return source


def _survey() -> questionnaire.Survey:
    global survey
    if survey is None:
        survey = questionnaire.load(Settings.from_env().questionnaires)
    return survey


class BadRequest(Exception):
    def __init__(self, status: int, error: str, field: str, message: str, cache: str = CACHE) -> None:
        super().__init__(message)
        self.status, self.error, self.field, self.message, self.cache = status, error, field, message, cache


def _json(status: int, body: dict[str, Any], cache: str = CACHE) -> Response:
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False), {"Cache-Control": cache})


@app.exception_handler(BadRequest)
def _bad(exc: BadRequest) -> Response:
    return _json(exc.status, {"error": exc.error, "fields": [{"field": exc.field, "message": exc.message}]},
                 exc.cache)


@app.exception_handler(Unavailable)
def _unavailable(exc: Unavailable) -> Response:
    logger.warning("counters unavailable", extra={"error": str(exc)})
    return Response(503, "application/json", '{"error":"unavailable","message":"服务繁忙，请稍后重试"}',
                    {"Cache-Control": "no-store", "Retry-After": "5"})


def _day(src: Source) -> str | None:
    day = app.current_event.get_query_string_value("day")
    if day is None:
        return None
    if not _DAY.match(day):
        raise BadRequest(400, "bad_day", "day", "日期格式应为 YYYY-MM-DD（北京时间）")
    days = src.catalog.days()
    if day not in days:
        raise BadRequest(400, "bad_day", "day", f"日期应在调查期内：{days[0]} 至 {days[-1]}")
    return day


def _rows(src: Source, day: str | None, shown: counts.Disclosure) -> list[counts.Row]:
    """The rows of one day or of the whole window, with what the policy does not publish taken out."""
    def make() -> list[counts.Row]:
        rows = [r for r in src.rows() if r.day == day] if day else src.rows()
        return counts.public_rows(rows, shown)

    return src.view(("rows", day, shown), make)


def _public(src: Source, key: tuple, shown: counts.Disclosure, make: Callable[[], Any]) -> Any:
    """A view as the public may see it, computed once per refresh and per disclosure."""
    return src.view((*key, shown), lambda: counts.redact(make(), shown))


@app.get("/api/counts")
def campaign() -> Response:
    src = _source()
    day = _day(src)
    shown = src.disclosure(day)

    def make() -> dict[str, Any]:
        rows = _rows(src, day, shown)
        return {**counts.campaign(rows, src.catalog.days()), "unattributed": counts.unattributed(rows)}

    view = _public(src, ("campaign", day), shown, make)
    return _json(200, {"updated": src.updated, "opens": src.catalog.opens.isoformat(),
                       "closes": src.catalog.closes.isoformat(), **shown.fields(), **view})


@app.get("/api/counts/sponsors")
def sponsors() -> Response:
    src = _source()
    kind = app.current_event.get_query_string_value("kind")
    province = app.current_event.get_query_string_value("province")
    if kind is not None and kind not in KINDS:
        raise BadRequest(400, "bad_kind", "kind", f"应为 {', '.join(KINDS)} 之一")
    if province is not None and province not in PROVINCES:
        raise BadRequest(400, "bad_province", "province", "应为省级行政区全称，如 浙江省")
    day = _day(src)
    shown = src.disclosure(day)
    rank_by = "valid" if shown.shown else "received"
    board = _public(src, ("board", day, kind, province), shown,
                    lambda: counts.leaderboard(_rows(src, day, shown), src.catalog, kind, province, rank_by))
    return _json(200, {"updated": src.updated, **shown.fields(), "ranked_by": rank_by, "sponsors": board})


@app.get("/api/counts/sponsors/<slug>")
def one_sponsor(slug: str) -> Response:
    src = _source()
    current = src.catalog.aliases.get(slug, slug)
    if current not in src.catalog.sponsors:
        raise BadRequest(404, "unknown_sponsor", "slug", f"没有这家单位：{slug[:64]}")
    day = _day(src)
    shown = src.disclosure(day)
    view = _public(src, ("sponsor", day, current), shown,
                   lambda: counts.sponsor(_rows(src, day, shown), src.catalog, current, src.catalog.days()))
    return _json(200, {"updated": src.updated, **shown.fields(), **view})


@app.get("/api/counts/provinces")
def provinces() -> Response:
    src = _source()
    day = _day(src)
    shown = src.disclosure(day)
    view = _public(src, ("provinces", day), shown, lambda: counts.provinces(_rows(src, day, shown)))
    return _json(200, {"updated": src.updated, **shown.fields(), "provinces": view})


@app.get("/api/assign")
def assign() -> Response:
    src, surveyed = _source(), _survey()
    base = app.current_event.get_query_string_value("questionnaire") or ""
    qn = surveyed.questionnaires.get(base)
    if qn is None or qn.modules is None:
        with_topics = [qid for qid, q in surveyed.questionnaires.items() if q.modules]
        known = f"应为 {' 或 '.join(with_topics)}" if with_topics else "本次调查的问卷没有专题"
        said = f"问卷 {base[:40]} 没有专题；" if qn is not None else ""
        raise BadRequest(400, "bad_questionnaire", "questionnaire", said + known, NO_STORE)
    modules = qn.modules
    targets = {t.id: t.target for t in modules.topics}
    # The valid counts the policy may keep from the public steer the draw but are never in the answer, which names
    # topics only, drawn anew each time: one submission cannot be seen to move it.
    valid = src.view(("assign", base), lambda: topic_counts(src.rows(), base, targets))
    topics = balance.offer(modules.assignment, targets, valid, modules.offer, rng)
    return _json(200, {"questionnaire": base, "assignment": modules.assignment, "topics": topics}, NO_STORE)


def topic_counts(rows: list[counts.Row], base: str, topics: Mapping[str, int]) -> dict[str, int]:
    """Valid samples per topic of `base`: the rows of each topic's form, over every day, sponsor and channel."""
    forms = {questionnaire.form_id(base, t): t for t in topics}
    valid = dict.fromkeys(topics, 0)
    for row in rows:
        topic = forms.get(row.questionnaire)
        if topic is not None:
            valid[topic] += row.valid
    return valid


@app.get("/api/openapi.json")
def openapi() -> Response:
    return Response(200, "application/json", OPENAPI.read_text(encoding="utf-8"), {"Cache-Control": CACHE})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
