"""Detect complete and quasi-complete separation before trusting a maximum-likelihood fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from firthmodels import detect_separation
from scipy.optimize import linprog


@dataclass(frozen=True)
class Separation:
    kind: str  # "none", "quasi-complete" or "complete"
    infinite_terms: tuple[str, ...]  # terms whose ML estimate diverges, with the sign: "+NV"

    @property
    def found(self) -> bool:
        return self.kind != "none"

    def describe(self) -> str:
        if not self.found:
            return "none"
        return f"{self.kind} ({', '.join(self.infinite_terms)} infinite under ML)"


def _strict_margin(X: np.ndarray, y: np.ndarray) -> float:
    """Largest t with s_i * x_i'b >= t for all i, |b_j| <= 1 (s_i = +1 for y=1, -1 for y=0).

    t > 0 means a hyperplane puts every case strictly on its own side
    (complete separation). firthmodels (Konis's LP) tells whether separation
    exists and which coefficients diverge, but not whether it is complete, so
    this one small LP is written here.
    """
    s = np.where(y == 1, 1.0, -1.0)
    n, p = X.shape
    c = np.r_[np.zeros(p), -1.0]  # maximise t
    A = np.c_[-(s[:, None] * X), np.ones(n)]  # t - s_i x_i'b <= 0
    res = linprog(c, A_ub=A, b_ub=np.zeros(n), bounds=[(-1, 1)] * p + [(None, 1)], method="highs")
    return float(-res.fun) if res.success else 0.0


def distinct_patterns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of (X, y), in order of first appearance.

    Separation is a property of the set of (x, y) patterns: a repeated case adds the same constraint to
    every linear program below. Coded cases take few distinct patterns (at most two per combination of
    the predictors' codes, however many cases there are), so collapsing them first, by hashing (O(n·p)),
    keeps the programs small and the check linear in the number of cases.
    """
    rows = pd.DataFrame(np.column_stack([X, y])).drop_duplicates().to_numpy()
    return rows[:, :-1], rows[:, -1]


def find_separation(X: np.ndarray, y: np.ndarray, names: list[str]) -> Separation:
    """Which kind of separation the design X (with intercept column) and 0/1 outcome y show."""
    X, y = distinct_patterns(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    # firthmodels adds its own intercept; pass the design without a constant column
    const = np.all(X == X[0], axis=0)
    result = detect_separation(X[:, ~const], y)
    if not result.separation:
        return Separation("none", ())
    inner = [n for n, c in zip(names, const) if not c]
    signs = {1: "+", -1: "-"}
    infinite = tuple(f"{signs[int(d)]}{n}" for n, d in zip(inner, result.directions[: len(inner)]) if d != 0)
    if not result.is_finite[-1]:
        infinite += (f"{signs[int(result.directions[-1])]}Intercept",)
    kind = "complete" if _strict_margin(X, y) > 1e-9 else "quasi-complete"
    return Separation(kind, infinite)
