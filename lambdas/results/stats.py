"""The statistics behind the results' figures, on plain numbers: a mean with its 95 % confidence interval from the
sums a query returns (weighted or not), Kish's effective sample size, and the chi-square test of independence.

One formula serves weighted and unweighted figures (unweighted is every weight 1):
  mean      m = Σw·x / Σw
  variance  v = Σw·x² / Σw − m²                     (the weighted population variance)
  n_eff       = (Σw)² / Σw²                          (Kish's effective sample size; n when unweighted)
  std. err.   = √(v / (n_eff − 1))                   (s / √n when unweighted)
  95 % CI   m ± 1.96 · std. err.                     (the normal quantile: shown cells have at least min_n
                                                      respondents, 30 by default, where t and normal agree)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054  # the normal distribution's 0.975 quantile
LOW_EXPECTED = 5  # the chi-square approximation is doubtful when an expected count is below this


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95 % confidence interval, as one cell of a table shows it.

    `n` is always given, even when the value is suppressed (fewer than the minimum number of respondents): then
    value, low and high are None and `suppressed` is True. With nobody to average, value is None and not suppressed.
    """
    value: float | None
    low: float | None
    high: float | None
    n: int  # respondents behind the figure
    n_effective: float  # Kish's effective sample size: n when unweighted, less when weights vary
    suppressed: bool = False


def estimate(n: int, sw: float, swx: float, swxx: float, sww: float, min_n: int = 0) -> Estimate:
    """The mean of x and its 95 % interval from n, Σw, Σw·x, Σw·x², Σw² (see the module's docstring); suppressed
    below min_n."""
    n_eff = sw * sw / sww if sww > 0 else 0.0
    if n < min_n:
        return Estimate(None, None, None, n, n_eff, suppressed=True)
    if n == 0 or sw <= 0:
        return Estimate(None, None, None, n, n_eff)
    mean = swx / sw
    if n_eff <= 1:
        return Estimate(mean, None, None, n, n_eff)
    variance = max(swxx / sw - mean * mean, 0.0)
    half = Z95 * math.sqrt(variance / (n_eff - 1))
    return Estimate(mean, mean - half, mean + half, n, n_eff)


def kish(weights: Sequence[float]) -> float:
    """Kish's effective sample size of a set of weights: (Σw)² / Σw²."""
    total = sum(weights)
    squares = sum(w * w for w in weights)
    return total * total / squares if squares else 0.0


@dataclass(frozen=True)
class ChiSquare:
    """Pearson's chi-square test of independence on a table of counts (rows and columns with no count left out)."""
    statistic: float | None  # None when the table has fewer than two non-empty rows or columns
    dof: int
    p_value: float | None
    min_expected: float | None  # the smallest expected count
    low_expected: int  # cells whose expected count is below 5
    cells: int  # cells tested


def chi_square(counts: Sequence[Sequence[float]]) -> ChiSquare:
    from scipy.stats import chi2

    rows = [r for r in counts if sum(r) > 0]
    keep = [j for j in range(len(rows[0]) if rows else 0) if sum(r[j] for r in rows) > 0]
    table = [[r[j] for j in keep] for r in rows]
    if len(table) < 2 or len(keep) < 2:
        return ChiSquare(None, 0, None, None, 0, len(table) * len(keep))
    row_totals = [sum(r) for r in table]
    col_totals = [sum(r[j] for r in table) for j in range(len(keep))]
    total = sum(row_totals)
    statistic, expected_all = 0.0, []
    for i, r in enumerate(table):
        for j, observed in enumerate(r):
            expected = row_totals[i] * col_totals[j] / total
            expected_all.append(expected)
            statistic += (observed - expected) ** 2 / expected
    dof = (len(table) - 1) * (len(keep) - 1)
    return ChiSquare(statistic, dof, float(chi2.sf(statistic, dof)), min(expected_all),
                     sum(1 for e in expected_all if e < LOW_EXPECTED), len(expected_all))
