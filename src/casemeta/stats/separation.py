"""Detect complete and quasi-complete separation before trusting a maximum-likelihood fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
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

    Separation is a property of the set of (x, y) patterns: a repeated case adds the same constraint to each
    linear program below. Coded cases take few distinct patterns (at most two per combination of the
    predictors' codes, however many cases there are), so collapsing them first, by hashing (O(n·p)), keeps
    the programs small and the check linear in the number of cases.
    """
    rows = pd.DataFrame(np.column_stack([X, y])).drop_duplicates().to_numpy()
    return rows[:, :-1], rows[:, -1]


def _divergence(S: np.ndarray, j: int, sign: int) -> bool:
    """Whether some direction d with s_i x_i'd >= 0 for every case (rows of S) has sign * d_j > 0: the
    likelihood never falls along d, so coefficient j can grow without bound that way."""
    c = np.zeros(S.shape[1])
    c[j] = -sign  # linprog minimises: maximise sign * d_j
    res = linprog(c, A_ub=-S, b_ub=np.zeros(len(S)), bounds=[(-1, 1)] * S.shape[1], method="highs")
    return bool(res.success and -res.fun > DIVERGENCE_TOL)


DIVERGENCE_TOL = 1e-6


def find_separation(X: np.ndarray, y: np.ndarray, names: list[str]) -> Separation:
    """Which kind of separation the design X (intercept column included, if the model has one) and 0/1
    outcome y show, and which ML estimates diverge, in which direction ("±" where both are open).

    Written here rather than taken from firthmodels' detect_separation (Konis's single program): that
    program maximises the sum of its rows, so which coefficients it calls infinite depends on how often
    each case repeats, and where its optimum is not unique on the solver's pick (one design gave `+c[2]`
    on its cases and `+c[2], -b` on the same cases repeated, where all of c[1], c[2] and b diverge).
    Asking for each coefficient, in each direction, whether a direction of no descent moves it gives one
    answer for one set of patterns: two small programs per coefficient, on the distinct patterns.
    """
    X, y = distinct_patterns(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    S = np.where(y == 1, 1.0, -1.0)[:, None] * X
    signs = []
    for j in range(X.shape[1]):
        up, down = _divergence(S, j, 1), _divergence(S, j, -1)
        signs.append("±" if up and down else "+" if up else "-" if down else "")
    if not any(signs):
        return Separation("none", ())
    terms = sorted(zip(names, signs), key=lambda term: term[0] == "Intercept")  # the intercept last
    kind = "complete" if _strict_margin(X, y) > 1e-9 else "quasi-complete"
    return Separation(kind, tuple(f"{sign}{name}" for name, sign in terms if sign))
