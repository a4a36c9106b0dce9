"""Exact tests and effect sizes for cross-tabs of small case samples."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

MAX_ENUMERATED_TABLES = 2_000_000


def _r_by_2_tables(row_sums: np.ndarray, first_col: int):
    """Every r×2 table with these row sums and first-column total (margins fixed)."""
    def fill(i, remaining):
        if i == len(row_sums) - 1:
            if 0 <= remaining <= row_sums[i]:
                yield (remaining,)
            return
        for x in range(max(0, remaining - int(row_sums[i + 1:].sum())), min(int(row_sums[i]), remaining) + 1):
            for rest in fill(i + 1, remaining - x):
                yield (x, *rest)
    for first in fill(0, first_col):
        first = np.array(first)
        yield np.c_[first, row_sums - first]


def freeman_halton_r_by_2(table: np.ndarray) -> float:
    """Exact Fisher–Freeman–Halton p-value of an r×2 table by full enumeration.

    SciPy tests only 2×2 tables exactly (larger ones by Monte Carlo), and no
    maintained Python library enumerates r×c tables; an r×2 table with fixed
    margins has few enough tables to list, and scipy's `random_table` gives
    each one's exact probability.
    """
    row_sums, col_sums = table.sum(axis=1), table.sum(axis=0)
    dist = stats.random_table(row_sums, col_sums)
    observed = dist.pmf(table)
    total = sum(p for t in _r_by_2_tables(row_sums, int(col_sums[0])) if (p := dist.pmf(t)) <= observed * (1 + 1e-7))
    return float(min(total, 1.0))


def _count_r_by_2(row_sums, first_col) -> int:
    return math.prod(int(r) + 1 for r in row_sums) if len(row_sums) else 0


def crosstab_test(table, draws: int = 100_000, seed: int = 0) -> dict:
    """Fisher's exact test (2×2), exact Freeman–Halton (r×2), or a seeded Monte Carlo one (r×c).

    Rows or columns with no cases are dropped first: they carry no information.
    """
    t = np.asarray(table, dtype=np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    out = {"test": "", "p_value": np.nan, "draws": 0, "odds_ratio": np.nan, "cramers_v": np.nan, "n": int(t.sum())}
    if t.ndim != 2 or min(t.shape) < 2:
        out["test"] = "not testable: one row or column holds every case"
        return out
    out["cramers_v"] = float(stats.contingency.association(t, method="cramer"))
    if t.shape == (2, 2):
        res = stats.fisher_exact(t)
        out.update(test="Fisher exact", p_value=float(res.pvalue), odds_ratio=float(stats.contingency.odds_ratio(t).statistic))
        return out
    if t.shape[1] != 2 and t.shape[0] == 2:
        t = t.T
    if t.shape[1] == 2 and _count_r_by_2(t.sum(axis=1), t[:, 0].sum()) <= MAX_ENUMERATED_TABLES:
        out.update(test="Fisher-Freeman-Halton exact", p_value=freeman_halton_r_by_2(t))
        return out
    method = stats.MonteCarloMethod(n_resamples=draws, rng=np.random.default_rng(seed))
    out.update(test=f"Fisher-Freeman-Halton Monte Carlo (seed {seed})", p_value=float(stats.fisher_exact(t, method=method).pvalue), draws=draws)
    return out


