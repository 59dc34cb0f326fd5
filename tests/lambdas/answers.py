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
