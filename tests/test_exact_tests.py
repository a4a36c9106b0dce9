"""Exact tests of cross-tabs, checked by hand and against SciPy."""

import numpy as np
import pytest
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
