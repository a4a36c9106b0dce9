"""Exact tests and effect sizes for cross-tabs of small case samples."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from casemeta.stats.caveats import Caveat, merge

MAX_ENUMERATED_TABLES = 2_000_000


CHUNK_TABLES = 50_000  # tables whose probabilities are computed at once (bounds the memory used; larger is no faster)


def _r_by_2_first_columns(row_sums: np.ndarray, first_col: int) -> np.ndarray:
    """Every first column of an r×2 table with these row sums and first-column total, one per row.

    Built row of the table by row, as arrays: each partial column is extended by every count its
    row can still take (at least what the later rows cannot hold, at most its row sum or what is left).
    """
    row_sums = np.asarray(row_sums, dtype=np.int64)
    columns, left = np.zeros((1, 0), dtype=np.int64), np.array([first_col], dtype=np.int64)
    for i, row_sum in enumerate(row_sums):
        low = np.maximum(0, left - row_sums[i + 1:].sum())
        counts = np.maximum(np.minimum(row_sum, left) - low + 1, 0)
        parent = np.repeat(np.arange(len(columns)), counts)
        x = low[parent] + np.arange(len(parent)) - np.repeat(np.cumsum(counts) - counts, counts)
        columns, left = np.column_stack([columns[parent], x]), left[parent] - x
    return columns


def freeman_halton_r_by_2(table: np.ndarray) -> float:
    """Exact Fisher–Freeman–Halton p-value of an r×2 table by full enumeration.

    SciPy tests only 2×2 tables exactly (larger ones by Monte Carlo), and no
    maintained Python library enumerates r×c tables; an r×2 table with fixed
    margins has few enough tables to list, and scipy's `random_table` gives
    their exact probabilities (in one call per chunk of tables, not one per table).
    """
    row_sums, col_sums = table.sum(axis=1), table.sum(axis=0)
    dist = stats.random_table(row_sums, col_sums)
    observed = dist.pmf(table)
    firsts = _r_by_2_first_columns(row_sums, int(col_sums[0]))
    total = 0.0
    for start in range(0, len(firsts), CHUNK_TABLES):
        first = firsts[start:start + CHUNK_TABLES]
        p = dist.pmf(np.stack([first, row_sums - first], axis=-1))
        total += float(p[p <= observed * (1 + 1e-7)].sum())
    return float(min(total, 1.0))


def _count_r_by_2(row_sums, first_col) -> int:
    return math.prod(int(r) + 1 for r in row_sums) if len(row_sums) else 0


def monte_carlo_fisher(table: np.ndarray, draws: int, seed: int) -> float:
    """Seeded Monte Carlo Fisher–Freeman–Halton p-value of an r×c table, at any total count.

    The same test as scipy's `fisher_exact(table, method=MonteCarloMethod(...))`, whose
    statistic (SciPy 1.17) tells a batch of tables from one table by `size > total count`,
    wrong once the total reaches the batch's size:
        stats.fisher_exact(np.full((5, 2), 100_000), method=stats.MonteCarloMethod(n_resamples=1000))
        -> ValueError: cannot reshape array of size 10000 into shape (5,2)
    Here the batch is told by the number of dimensions instead.
    """
    dist = stats.random_table(table.sum(axis=1), table.sum(axis=0), seed=np.random.default_rng(seed))

    def rvs(size):
        return dist.rvs(size=size[0]).reshape(size)

    def statistic(flat, axis):
        return dist.pmf(flat.reshape(table.shape) if flat.ndim == 1 else flat.reshape((-1, *table.shape)))

    # tables no more probable than the observed one are at least as extreme
    return float(stats.monte_carlo_test(table.ravel(), rvs, statistic, alternative="less", n_resamples=draws).pvalue)


def _not_testable(t: np.ndarray, rows: str, columns: str) -> Caveat:
    if t.sum() == 0:
        return Caveat.of("no_cases", blank="test")
    return Caveat.of("same_value", [rows if t.shape[0] < 2 else columns], blank="test")


def _odds_ratio_caveat(t: np.ndarray, odds_ratio: float) -> Caveat | None:
    if t.shape != (2, 2):
        return Caveat.of("or_not_2x2", rows=int(t.shape[0]), columns=int(t.shape[1]))
    if np.isinf(odds_ratio):
        return Caveat.of("or_infinite")
    if odds_ratio == 0:
        return Caveat.of("or_zero")
    return None


def crosstab_test(table, draws: int = 100_000, seed: int = 0, rows: str = "row", columns: str = "column") -> dict:
    """Fisher's exact test (2×2), exact Freeman–Halton (r×2), or a seeded Monte Carlo one (r×c).

    Rows or columns with no cases are dropped first: they carry no information.
    `rows` and `columns` name the variables the rows and columns hold, for the caveats: none where
    every statistic was computed, otherwise which one is missing and why, or which fallback computed it.
    """
    t = np.asarray(table, dtype=np.int64).reshape(len(table), -1) if len(table) else np.zeros((0, 0), dtype=np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    out = {"test": "", "p_value": np.nan, "draws": 0, "odds_ratio": np.nan, "cramers_v": np.nan, "n": int(t.sum()), "caveats": ()}
    if min(t.shape) < 2:
        out.update(test="not testable", caveats=(_not_testable(t, rows, columns),))
        return out
    out["cramers_v"] = float(stats.contingency.association(t, method="cramer"))
    if t.shape == (2, 2):
        odds_ratio = float(stats.contingency.odds_ratio(t).statistic)
        out.update(test="Fisher exact", p_value=float(stats.fisher_exact(t).pvalue), odds_ratio=odds_ratio,
                   caveats=merge(_odds_ratio_caveat(t, odds_ratio)))
        return out
    out["caveats"] = merge(_odds_ratio_caveat(t, np.nan))
    if t.shape[1] != 2 and t.shape[0] == 2:
        t = t.T
    if t.shape[1] == 2 and _count_r_by_2(t.sum(axis=1), t[:, 0].sum()) <= MAX_ENUMERATED_TABLES:
        out.update(test="Fisher-Freeman-Halton exact", p_value=freeman_halton_r_by_2(t))
        return out
    out.update(test=f"Fisher-Freeman-Halton Monte Carlo (seed {seed})", p_value=monte_carlo_fisher(t, draws, seed), draws=draws)
    out["caveats"] = merge(out["caveats"], Caveat.of("monte_carlo", draws=draws, seed=seed))
    return out
