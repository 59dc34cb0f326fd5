"""Answers that fit a questionnaire, drawn at random: for tests, the load test and benchmarks."""

from __future__ import annotations

import random
from typing import Any

from lambdas.survey.questionnaire import Questionnaire
from lambdas.survey.regions import CITIES


def valid_answers(qn: Questionnaire, rng: random.Random | None = None, province: str | None = None) -> dict[str, Any]:
    rng = rng or random.Random(1)
    out: dict[str, Any] = {}
    for q in qn.questions:
        if not q.shown(out):
            continue
        if q.type == "single":
            out[q.id] = rng.choice(q.options)[0]
        elif q.type == "multi":
            picked = {o for o, _ in rng.sample(q.options, rng.randint(q.min, q.max))}
            out[q.id] = [o for o, _ in q.options if o in picked]
        elif q.type == "rating":
            out[q.id] = rng.randint(1, 5)
        elif q.type == "matrix":
            out[q.id] = {r: rng.randint(1, 5) for r, _ in q.rows}
        elif q.type == "region":
            p = province or rng.choice(sorted(CITIES))
            out[q.id] = {"province": p, "city": rng.choice(CITIES[p])}
        elif q.type in ("text", "textarea") and (q.required or rng.random() < 0.5):
            out[q.id] = "希望加强个人信息保护"[: q.max_length]
    return out


def form_fields(answers: dict[str, Any], qn: Questionnaire) -> list[tuple[str, str]]:
    """Answers as a plain form post (no script) sends them: one field per control, named as the form names it."""
    fields: list[tuple[str, str]] = []
    for q in qn.questions:
        value = answers.get(q.id)
        if value is None:
            continue
        if q.type == "multi":
            fields += [(q.id, v) for v in value]
        elif q.type == "matrix":
            fields += [(f"{q.id}.{r}", str(v)) for r, v in value.items()]
        elif q.type == "region":
            fields += [(f"{q.id}.province", value["province"]), (f"{q.id}.city", value["city"])]
        else:
            fields.append((q.id, str(value)))
    return fields
