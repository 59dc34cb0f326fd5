"""Which topic modules a respondent is offered, so that each topic's valid samples approach its target.

Plain functions on plain data: the targets (topic -> valid samples wanted, in the questionnaire file's order), the
valid counts per topic as the counts function last read them, and a `random.Random` the caller gives (seeded in the
simulation test, tests/lambdas/test_balance.py). The counts are always somewhat stale: every container re-reads
them at most every counts.FRESH_SECONDS, CloudFront is not in front of this answer but thousands of respondents
arrive between two reads, and a respondent counts only once their answers are in, minutes after being sent to a
topic. So the server never sends everyone to the one topic that looked emptiest at the last read (all of them would
land there, overshoot it, and the next read would send all of them to another); it draws.

- choose: every topic, in file order; the respondent picks.
- assign: one topic, drawn at random with weights = what each topic still lacks. Requests served from the same
  counts spread over the lagging topics in proportion to their gap, so the gaps close together.
- assign_choice: the `offer` least-filled topics (valid count / target), ties in random order; the respondent picks
  among them. The choice keeps respondents who would abandon a topic they did not want.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from .questionnaire import ASSIGNMENTS


def _checked(targets: Mapping[str, int]) -> None:
    if not targets:
        raise ValueError("no topics to offer")
    if any(t <= 0 for t in targets.values()):
        raise ValueError("every topic's target must be positive")


def fill(targets: Mapping[str, int], counts: Mapping[str, int]) -> dict[str, float]:
    """Each topic's valid count as a share of its target (1.0: reached)."""
    return {topic: counts.get(topic, 0) / target for topic, target in targets.items()}


def deficits(targets: Mapping[str, int], counts: Mapping[str, int]) -> dict[str, float]:
    """What each topic lacks. Until one topic reaches its target, the target itself; past that, the targets are
    scaled up to the fullest topic, so a campaign that outgrows its targets keeps their proportions."""
    level = max(1.0, *fill(targets, counts).values())
    return {topic: max(target * level - counts.get(topic, 0), 0.0) for topic, target in targets.items()}


def draw(targets: Mapping[str, int], counts: Mapping[str, int], rng: random.Random) -> str:
    """One topic, with probability proportional to its deficit (to its target where no topic lacks anything)."""
    _checked(targets)
    lack = deficits(targets, counts)
    weights = list(lack.values()) if any(lack.values()) else list(targets.values())
    return rng.choices(list(targets), weights=weights)[0]


def least_filled(targets: Mapping[str, int], counts: Mapping[str, int], n: int, rng: random.Random) -> list[str]:
    """The `n` topics least filled, the least first; equally filled topics in random order (at the start every
    topic is at zero, and file order would favour the first ones)."""
    _checked(targets)
    shares = fill(targets, counts)
    topics = list(targets)
    rng.shuffle(topics)
    topics.sort(key=shares.__getitem__)  # stable: the shuffle orders the ties
    return topics[:n]


def offer(assignment: str, targets: Mapping[str, int], counts: Mapping[str, int], offer_n: int,
          rng: random.Random) -> list[str]:
    """The topics to offer one respondent under `assignment` (one of ASSIGNMENTS); `offer_n` is read by
    assign_choice only."""
    _checked(targets)
    if assignment == "choose":
        return list(targets)
    if assignment == "assign":
        return [draw(targets, counts, rng)]
    if assignment == "assign_choice":
        if offer_n < 1:
            raise ValueError("assign_choice needs an offer of at least one topic")
        return least_filled(targets, counts, offer_n, rng)
    raise ValueError(f"unknown assignment {assignment!r}: one of {', '.join(ASSIGNMENTS)}")
