"""Exact conditional pooling stays bounded on large counts (issue: bounded work): each stratum's density
from the ratios of its terms and cut where float64 holds nothing of it; past MAX_DENSITY or MAX_WORK the
normal limit, and a caveat says so; counts too large to hold exactly are refused.

Speed is measured by benchmarks/bounded_benchmark.py, not here. Expected values are worked by hand
(math.comb, Woolf's interval, Mantel–Haenszel's ratio written out); large inputs are SYNTHETIC.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from casemeta.errors import CasemetaError
from casemeta.stats.conditional_odds import ConditionalDistribution, NormalLimit, hypergeometric_shape
from casemeta.stats.pooling import pool
from casemeta.stats.strata_tables import tables_from_counts
from test_pooling import conditional_mle, enumerated_distribution


def test_hypergeometric_shape_worked_by_hand():
    # 10 cases, 4 with the outcome, 5 drawn: C(4, x) C(6, 5 − x) = 1·6, 4·15, 6·20, 4·15, 1·6 for x = 0..4
    expected = [6 / 120, 60 / 120, 1.0, 60 / 120, 6 / 120]
    assert hypergeometric_shape(10, 4, 5, 0, 4) == pytest.approx(expected, rel=1e-14)


def test_a_stratum_of_thousands_is_still_exact_and_agrees_with_math_comb():
    # one table [[1030, 1000], [1000, 1000]]: its support 0..2030, of which the densities below 1e-300 of the
    # mode are cut; the estimate and p-value are those of the distribution written out with math.comb
    tables = pd.DataFrame({"stratum": ["s"], "a": [1030], "b": [1000], "c": [1000], "d": [1000]})
    dist = {s: p for s, p in enumerated_distribution(tables).items() if p > 0}
    row = pool(tables).set_index("method").loc["exact_conditional"]
    assert "normal limit" not in row.note
    assert row.odds_ratio == pytest.approx(conditional_mle(dist, 1030), rel=1e-9)
    s, total = 1030, sum(dist.values())
    assert row.p_value == pytest.approx(sum(p for p in dist.values() if p <= dist[s] * (1 + 1e-7)) / total, rel=1e-9)


def test_the_normal_limit_of_a_balanced_table_worked_by_hand():
    # SYNTHETIC a = b = c = d = 10^6: E(S) = r c / n = 10^6 = S, so the estimate is 1 and p = 1; the variance
    # 1/(4/10^6) = 250,000 (sd 500), and the lower limit solves (S − 1/2 − μ(ψ))/σ(ψ) = 1.96, close to Woolf's
    # exp(−1.96 · √(4/10^6)) (to the continuity correction and the change of σ with ψ, both under 1e-5).
    # One stratum still fits the exact computation (40,000 points), which must give the same; the normal
    # limit itself is checked directly
    limit = NormalLimit.of(np.array([[10**6] * 4]))
    assert limit.estimate() == pytest.approx(1.0, abs=1e-12) and limit.p_value() == pytest.approx(1.0)
    woolf = 1.959964 * math.sqrt(4 / 10**6)
    assert limit.interval(0.95) == pytest.approx((math.exp(-woolf), math.exp(woolf)), abs=1e-5)
    n = 10**6
    out = pool(pd.DataFrame({"stratum": ["s"], "a": [n], "b": [n], "c": [n], "d": [n]})).set_index("method")
    row = out.loc["exact_conditional"]
    assert row.odds_ratio == pytest.approx(1.0, abs=1e-9) and row.p_value == pytest.approx(1.0)
    assert row.or_ci_low == pytest.approx(math.exp(-woolf), abs=1e-5)
    assert row.or_ci_high == pytest.approx(math.exp(woolf), abs=1e-5)


def test_the_normal_limit_agrees_with_the_exact_distribution_where_both_can_be_computed():
    # SYNTHETIC two strata of a few thousand: the exact answer, and its normal limit, within 1e-3
    tables = np.array([[2100, 2000, 1900, 2050], [3000, 2800, 2900, 3100]])
    exact, limit = ConditionalDistribution.of(tables), NormalLimit.of(tables)
    assert limit.estimate() == pytest.approx(exact.estimate(), rel=1e-4)
    for got, want in zip(limit.interval(0.95), exact.interval(0.95)):
        assert got == pytest.approx(want, rel=1e-4)
    assert limit.p_value() == pytest.approx(exact.p_value(), rel=0.05)  # 4e-6, far in the tail


def test_a_million_cases_per_cell_pool_to_the_mantel_haenszel_ratio():
    # SYNTHETIC: 5 strata of 10^6 cases per cell with a raised a and d; for counts this large the conditional
    # MLE and Mantel–Haenszel's Σ(ad/n)/Σ(bc/n) (written out here) agree to 1e-6
    rng = np.random.default_rng(7)
    n = 10**6
    a, d = n + rng.integers(0, 20_000, 5), n + rng.integers(0, 20_000, 5)
    tables = pd.DataFrame({"stratum": [f"s{i}" for i in range(5)], "a": a, "b": n, "c": n, "d": d})
    row = pool(tables).set_index("method").loc["exact_conditional"]
    total = a + 2 * n + d
    mh = (a * d / total).sum() / (n * n / total).sum()
    assert row.odds_ratio == pytest.approx(mh, rel=1e-6)
    assert row.or_ci_low < row.odds_ratio < row.or_ci_high
    assert "counts too large for the exact conditional distribution: its normal limit" in row.note


@pytest.mark.parametrize("value", [1e20, "100000000000000000000", 2**53 + 2])
def test_a_count_too_large_to_hold_exactly_is_refused_naming_stratum_column_and_value(value):
    tables = pd.DataFrame({"stratum": ["s1", "s2"], "a": [1, 2], "b": [3, 4], "c": [5, 6], "d": [7, value]})
    with pytest.raises(CasemetaError, match=r"^stratum 's2', column d: .* is too large a count to hold exactly "
                                            r"\(at most 2\^53 = 9,007,199,254,740,992\)"):
        pool(tables)


def test_counts_of_one_stratum_on_two_rows_are_refused_before_they_could_add_up_past_the_limit():
    half = 2**52 + 1  # each row holds exactly; added up, the two rows of stratum x would pass 2^53
    frame = pd.DataFrame({"study": ["x", "x"], "A": [half, half], "B": [1, 1], "C": [1, 1], "D": [1, 1]})
    with pytest.raises(CasemetaError, match=r"^counts.csv, column study: 1 stratum name\(s\) are on more than one row"):
        tables_from_counts(frame, "study", ["A", "B", "C", "D"], "counts.csv")
