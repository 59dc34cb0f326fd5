"""Random payloads against the real handler: never a 5xx, nothing stored (or counted in an hour) unless the answers
fit."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lambdas.conftest import call, event, items, payload, submissions

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**12) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded",
    "text/plain", "multipart/form-data; boundary=x", "", "APPLICATION/JSON",
])


def _stored_ids(ddb: Any) -> set[str]:
    return {i["id"] for i in submissions(ddb)}


def _in_hours(ddb: Any) -> int:
    """Submissions the hourly details hold."""
    return sum(int(i["received"]["N"]) for i in items(ddb, "H#"))


@SETTINGS
@given(body=st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()), content_type=content_types)
def test_arbitrary_bodies_never_give_a_5xx_or_store_anything(intake, ddb, body, content_type):
    before = _stored_ids(ddb)
    status, _, _ = call(event(body, content_type))
    assert 400 <= status < 500
    assert _stored_ids(ddb) == before


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 10**6))
def test_mutated_valid_payloads_are_either_stored_once_or_refused_with_fields(intake, ddb, data, seed):
    body = payload(intake, seed=seed, qid=data.draw(st.sampled_from(["public", "pro"])))
    rng = random.Random(seed)
    # Replace one answer, one envelope field, or nothing, with an arbitrary value.
    target = data.draw(st.sampled_from(["answer", "envelope", "none"]))
    if target == "answer":
        body["answers"][rng.choice(sorted(body["answers"]))] = data.draw(json_values)
    elif target == "envelope":
        body[data.draw(st.sampled_from(["id", "questionnaire", "sponsor", "channel", "homepage", "device", "proof"]))] = data.draw(json_values)
    before = _stored_ids(ddb)
    status, _, answer = call(event(body))
    assert status < 500
    after = _stored_ids(ddb)
    if status == 200:
        assert after - before <= {body["id"]} and body["id"] in after
    else:
        assert status in (400, 409) and answer["fields"] and after == before
    assert _in_hours(ddb) == len(after)  # every stored submission in its hour, once, whatever was refused
