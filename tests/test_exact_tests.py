"""Exact tests of cross-tabs, checked by hand and against SciPy."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from casemeta.stats.exact_tests import crosstab_test, freeman_halton_r_by_2


def test_2x2_is_fishers_exact_test():
    # international sellers: 8 of 8 dynamic; others: 8 of 17
    out = crosstab_test([[9, 8], [0, 8]])
    assert out["test"] == "Fisher exact"
    # two-sided p: tables at least as extreme as 0 non-dynamic sellers = P(X=0)+P(X>=8...) by hand
    assert out["p_value"] == pytest.approx(stats.fisher_exact([[9, 8], [0, 8]]).pvalue)
    assert out["p_value"] == pytest.approx(0.02176, abs=1e-5)
    assert out["odds_ratio"] == np.inf


def test_r_by_2_enumeration_equals_fisher_on_a_2x2():
    table = np.array([[6, 1], [4, 2]])
    assert freeman_halton_r_by_2(table) == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-10)


def test_r_by_2_worked_by_hand():
    # row sums 2, 2, 2 and columns 3, 3: first columns (x1, x2, x3) with each x_i in 0..2 summing to 3.
    # P(x) = C(2,x1) C(2,x2) C(2,x3) / C(6,3): the six orders of (2, 1, 0) have 2/20 each, (1, 1, 1) 8/20.
    assert freeman_halton_r_by_2(np.array([[2, 0], [1, 1], [0, 2]])) == pytest.approx(6 * 2 / 20, rel=1e-12)
    assert freeman_halton_r_by_2(np.array([[1, 1], [1, 1], [1, 1]])) == pytest.approx(1.0, rel=1e-12)
    # row sums 1, 2, 1 and columns 3, 1: P(x) = C(1,x1) C(2,x2) C(1,x3) / C(4,3); (1,2,0) and (0,2,1) have
    # 1/4 each, (1,1,1) 2/4: the p-value of (1,2,0) is 1/4 + 1/4
    assert freeman_halton_r_by_2(np.array([[1, 0], [2, 0], [0, 1]])) == pytest.approx(0.5, rel=1e-12)


def _p_by_definition(table: np.ndarray) -> float:
    """The exact p-value from its definition, in exact fractions: every first column with the table's
    margins, each with probability prod C(row_i, x_i) / C(N, first-column total)."""
    rows, first = [int(r) for r in table.sum(axis=1)], int(table[:, 0].sum())
    denominator = math.comb(sum(rows), first)
    def probability(column):
        return Fraction(math.prod(math.comb(r, x) for r, x in zip(rows, column)), denominator)
    observed = probability(table[:, 0])
    tables = [c for c in itertools.product(*(range(r + 1) for r in rows)) if sum(c) == first]
    return float(sum(p for c in tables if (p := probability(c)) <= observed))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=5)
       .filter(lambda rows: all(a + b > 0 for a, b in rows) and sum(a for a, _ in rows) > 0 and sum(b for _, b in rows) > 0))
def test_r_by_2_equals_its_definition(rows):
    table = np.array(rows)
    assert freeman_halton_r_by_2(table) == pytest.approx(_p_by_definition(table), rel=1e-9, abs=1e-12)


def test_r_by_2_exact_agrees_with_a_large_monte_carlo():
    table = np.array([[1, 7], [2, 4], [3, 1], [5, 0], [3, 0]])
    exact = freeman_halton_r_by_2(table)
    mc = stats.fisher_exact(table, method=stats.MonteCarloMethod(n_resamples=200_000, rng=np.random.default_rng(0))).pvalue
    assert exact == pytest.approx(mc, abs=0.001)


def test_large_r_by_c_uses_seeded_monte_carlo_and_reports_draws():
    table = [[3, 1, 2], [1, 3, 0], [0, 2, 5]]
    a = crosstab_test(table, draws=5000, seed=7)
    b = crosstab_test(table, draws=5000, seed=7)
    assert a["test"] == "Fisher-Freeman-Halton Monte Carlo (seed 7)"
    assert a["draws"] == 5000
    assert a["p_value"] == b["p_value"]  # reproducible


def test_cramers_v_by_hand():
    # 2×2 [[10, 0], [0, 10]]: perfect association, V = 1
    assert crosstab_test([[10, 0], [0, 10]])["cramers_v"] == pytest.approx(1.0)


def test_empty_rows_are_dropped_and_a_single_row_is_not_testable():
    assert crosstab_test([[3, 2], [0, 0]])["test"].startswith("not testable")
