"""Exact tests of cross-tabs, checked by hand and against the test's definition in exact fractions.

casemeta's exact tests call SciPy (`fisher_exact` for 2×2, `random_table` for r×2 and Monte Carlo),
so no expected value here comes from SciPy: each is worked out by hand or counted from the
definition with `math.comb` and `fractions`."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casemeta.stats.exact_tests import crosstab_test, freeman_halton_r_by_2, monte_carlo_fisher


def test_2x2_is_fishers_exact_test():
    # international sellers: 8 of 8 dynamic; others: 8 of 17
    out = crosstab_test([[9, 8], [0, 8]])
    assert out["test"] == "Fisher exact"
    # by hand: rows 17 and 8, first column 9, N = 25; x = the second row's first cell, 0..8, has
    # P(x) = C(8, x) C(17, 9 - x) / C(25, 9), C(25, 9) = 2,042,975; numerators for x = 0..8:
    # 24310, 194480, 544544, 693056, 433160, 133280, 19040, 1088, 17. Observed x = 0 (24310); no more
    # probable: x = 0, 6, 7, 8. Two-sided p = (24310 + 19040 + 1088 + 17) / 2042975 = 44455 / 2042975
    assert out["p_value"] == pytest.approx(44455 / 2042975, rel=1e-9)
    assert out["p_value"] == pytest.approx(0.02176, abs=1e-5)
    assert out["odds_ratio"] == np.inf


def test_r_by_2_enumeration_on_a_2x2_worked_by_hand():
    # rows 7 and 6, first column 10, N = 13; x = the first row's first cell, 4..7, has
    # P(x) = C(7, x) C(6, 10 - x) / C(13, 10) = 35, 126, 105, 20 (/286). Observed x = 6 (105):
    # two-sided p = (35 + 105 + 20) / 286 = 80/143 (Fisher's exact test of the same 2×2)
    table = np.array([[6, 1], [4, 2]])
    assert freeman_halton_r_by_2(table) == pytest.approx(80 / 143, rel=1e-10)
    assert crosstab_test(table)["p_value"] == pytest.approx(80 / 143, rel=1e-10)


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


def test_r_by_2_exact_and_seeded_monte_carlo_agree_with_the_definition():
    # a 5×2 table with 7,560 first columns to list: casemeta's enumeration equals the definition in
    # exact fractions, and its own Monte Carlo (200,000 draws) lands within 0.003 of it
    # (the standard error of a Monte Carlo p near 0.01 is sqrt(0.01 · 0.99 / 200,000) = 0.0002)
    table = np.array([[1, 7], [2, 4], [3, 1], [5, 0], [3, 0]])
    exact = _p_by_definition(table)
    assert freeman_halton_r_by_2(table) == pytest.approx(exact, rel=1e-9)
    assert monte_carlo_fisher(table, draws=200_000, seed=0) == pytest.approx(exact, abs=0.003)


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
