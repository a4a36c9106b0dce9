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


def distinct_patterns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of (X, y), in order of first appearance, and how many cases each stands for.

    Coded cases take few distinct patterns (at most two per combination of the predictors' codes, however
    many cases there are), so the linear programs below are solved on the patterns, collapsed by hashing
    (O(n·p)): the check stays linear in the number of cases.
    """
    frame = pd.DataFrame(np.column_stack([X, y]))
    counts = frame.groupby(list(frame.columns), sort=False).size()
    rows = np.array(counts.index.tolist(), dtype=float).reshape(len(counts), frame.shape[1])
    return rows[:, :-1], rows[:, -1], counts.to_numpy()


def find_separation(X: np.ndarray, y: np.ndarray, names: list[str]) -> Separation:
    """Which kind of separation the design X (intercept column included, if the model has one) and 0/1
    outcome y show, and which ML estimates diverge."""
    X, y, counts = distinct_patterns(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    # Konis's program (firthmodels) maximises the sum of its constraint rows s_i x_i'b subject to each being
    # >= 0: a pattern's row scaled by its count keeps its constraint and restores its weight in that sum, so
    # the program is the one of every case, and so is its answer. The design goes in as it is (intercept
    # column included, scaled like the rest): firthmodels must not add its own.
    result = detect_separation(X * counts[:, None], y, fit_intercept=False)
    if not result.separation:
        return Separation("none", ())
    signs = {1: "+", -1: "-"}
    terms = sorted(zip(names, result.directions), key=lambda term: term[0] == "Intercept")  # the intercept last
    infinite = tuple(f"{signs[int(d)]}{n}" for n, d in terms if d != 0)
    kind = "complete" if _strict_margin(X, y) > 1e-9 else "quasi-complete"
    return Separation(kind, infinite)
