"""Raking: weights that make the sample's margins (province, age group, gender) match the population's.

The margins file is a CSV with the columns dimension, category, share (and optionally questionnaire, for rows that
apply to one questionnaire only; rows without one apply to all). A dimension is an export column: `province` (the
respondent's stated province, named as in lambdas/survey/regions.py) or a single-choice question such as `age` or
`gender`, whose categories are its option ids:

    dimension,category,share
    province,广东省,0.089
    age,age18_24,0.17
    gender,male,0.51

Raking is iterative proportional fitting: each dimension in turn scales the weights so that its weighted shares
equal the targets, until every margin is within the tolerance or the iterations run out. Respondents are collapsed
into cells first (31 provinces × 7 age groups × 2 genders = 434 cells at most), so 3 million respondents cost as
much as a few hundred numbers; each respondent carries the weight of its cell. Weights average 1.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOLERANCE = 1e-6  # the largest difference allowed between a weighted share and its target
MAX_ITERATIONS = 100
SUM_SLACK = 0.01  # a dimension's shares must add up to 1 within this (published margins are rounded)


class MarginsError(ValueError):
    """The margins file is wrong; the message names each problem with its line and the fix."""


@dataclass(frozen=True)
class Margins:
    """Target shares per questionnaire ("" for rows that apply to every questionnaire), dimension and category."""
    path: str
    targets: Mapping[str, Mapping[str, Mapping[str, float]]]  # questionnaire -> dimension -> category -> share

    def for_questionnaire(self, questionnaire: str) -> dict[str, dict[str, float]]:
        """The margins one questionnaire is raked to: its own rows for a dimension where it has any, else the
        rows that apply to all."""
        out = {d: dict(c) for d, c in self.targets.get("", {}).items()}
        out.update({d: dict(c) for d, c in self.targets.get(questionnaire, {}).items()})
        return out


def read_margins(path: Path) -> Margins:
    """Read and check a margins file; every problem is reported at once."""
    problems: list[str] = []
    targets: dict[str, dict[str, dict[str, float]]] = {}
    lines: dict[tuple[str, str], int] = {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = {"dimension", "category", "share"} - set(header)
            if missing:
                raise MarginsError(f"{path}:1: the header needs dimension, category, share (and optionally "
                                   f"questionnaire); missing: {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                qid, dim, cat = row.get("questionnaire", ""), row["dimension"], row["category"]
                if not dim or not cat:
                    problems.append(f"{path}:{line}: dimension and category are required")
                    continue
                try:
                    share = float(row["share"])
                except ValueError:
                    problems.append(f"{path}:{line}: share '{row['share']}' is not a number; write e.g. 0.089")
                    continue
                if not 0 <= share <= 1:
                    problems.append(f"{path}:{line}: share {share:g} must be between 0 and 1 "
                                    "(a share, not a percentage)")
                    continue
                cats = targets.setdefault(qid, {}).setdefault(dim, {})
                if cat in cats:
                    first = lines[(qid + dim, cat)]
                    problems.append(f"{path}:{line}: {dim} {cat} is given twice (first on line {first})")
                    continue
                cats[cat] = share
                lines[(qid + dim, cat)] = line
    except OSError as exc:
        raise MarginsError(f"{path}: cannot read: {exc}") from exc
    for qid, dims in targets.items():
        for dim, cats in dims.items():
            total = sum(cats.values())
            if abs(total - 1) > SUM_SLACK:
                where = f" ({qid})" if qid else ""
                problems.append(f"{path}: the shares of {dim}{where} add up to {total:.4f}; they must add up to 1")
    if problems:
        raise MarginsError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems))
    if not targets:
        raise MarginsError(f"{path}: no margins; write one line per dimension and category")
    return Margins(str(path), targets)


@dataclass(frozen=True)
class Raking:
    weights: np.ndarray  # one per cell, averaging 1 over the respondents
    factors: dict[str, np.ndarray]  # per dimension, one per category: a cell's weight is the product of its factors
    converged: bool
    iterations: int
    max_error: float  # the largest |weighted share − target| over every margin at the end


def rake(counts: Sequence[float], codes: Mapping[str, Sequence[int]], targets: Mapping[str, Sequence[float]],
         tolerance: float = TOLERANCE, max_iterations: int = MAX_ITERATIONS) -> Raking:
    """Iterative proportional fitting over cells.

    counts: respondents per cell; codes[dimension][cell]: the cell's category (an index into targets[dimension]);
    targets[dimension]: the target share of each category, adding up to 1, every category with respondents.
    Each step multiplies the weights of a category's cells by one factor, so a cell's weight is the product of one
    factor per dimension (`Raking.factors`): the weights can be written as that product, with no table of cells.
    """
    n = np.asarray(counts, dtype=float)
    total = n.sum()
    weights = np.ones_like(n)
    dims = [(np.asarray(codes[d], dtype=np.int64), np.asarray(targets[d], dtype=float)) for d in targets]
    factors = {d: np.ones(len(targets[d])) for d in targets}
    error = _error(n, weights, dims, total)
    iterations = 0
    while error > tolerance and iterations < max_iterations:
        iterations += 1
        for d, (code, target) in zip(targets, dims):
            have = np.bincount(code, weights=n * weights, minlength=len(target))
            factor = np.divide(target * total, have, out=np.ones_like(target), where=have > 0)
            weights = weights * factor[code]
            factors[d] = factors[d] * factor
        error = _error(n, weights, dims, total)
    scale = total / (n * weights).sum()
    if factors:
        factors[next(iter(factors))] *= scale
    return Raking(weights * scale, factors, error <= tolerance, iterations, float(error))


def _error(n: np.ndarray, weights: np.ndarray, dims: list[tuple[np.ndarray, np.ndarray]], total: float) -> float:
    worst = 0.0
    weighted = (n * weights).sum() or total
    for code, target in dims:
        have = np.bincount(code, weights=n * weights, minlength=len(target)) / weighted
        worst = max(worst, float(np.abs(have - target).max()))
    return worst


@dataclass(frozen=True)
class Weighting:
    """How one questionnaire was weighted, for the reports to say."""
    questionnaire: str
    applied: bool  # False: the figures are unweighted (no margins, or margins that do not fit; see notes)
    dimensions: tuple[str, ...] = ()
    converged: bool = False
    iterations: int = 0
    max_error: float = 0.0  # the largest |weighted share − target| over the margins at the end
    tolerance: float = TOLERANCE
    n: int = 0  # respondents weighted
    n_effective: float = 0.0  # Kish's effective sample size of the weights
    design_effect: float = 1.0  # n / n_effective: how much the weights widen the intervals (squared)
    min_weight: float = 1.0
    max_weight: float = 1.0
    notes: tuple[str, ...] = ()  # what was adjusted or why the weighting was not applied
