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


def _strict_margin(S: np.ndarray) -> float:
    """Largest t with s_i x_i'b >= t for all i (rows of S), |b_j| <= 1 (s_i = +1 for y=1, -1 for y=0).

    t > 0 means a hyperplane puts every case strictly on its own side (complete separation).
    """
    n, p = S.shape
    c = np.r_[np.zeros(p), -1.0]  # maximise t
    A = np.c_[-S, np.ones(n)]  # t - s_i x_i'b <= 0
    res = linprog(c, A_ub=A, b_ub=np.zeros(n), bounds=[(-1, 1)] * p + [(None, 1)], method="highs")
    return float(-res.fun) if res.success else 0.0


def distinct_patterns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of (X, y), in order of first appearance.

    Separation is a property of the set of (x, y) patterns: a repeated case adds the same constraint to each
    linear program below. Coded cases take few distinct patterns (at most two per combination of the
    predictors' codes, however many cases there are), so collapsing them first, by hashing (O(n·p)), keeps
    the programs small and the check linear in the number of cases.
    """
    both = np.column_stack([X, y])
    if len(both) <= SMALL:  # few cases (a refit, a bootstrap draw): numpy's sort is quicker than building a frame
        _, first = np.unique(both, axis=0, return_index=True)
        rows = both[np.sort(first)]
    else:
        rows = pd.DataFrame(both).drop_duplicates().to_numpy()
    return rows[:, :-1], rows[:, -1]


SMALL = 1000


def _no_descent(S: np.ndarray, objective: np.ndarray) -> np.ndarray | None:
    """A direction d with s_i x_i'd >= 0 for every case (rows of S), |d_j| <= 1, maximising objective·d;
    None if the program fails. Along such a d the likelihood never falls."""
    res = linprog(-objective, A_ub=-S, b_ub=np.zeros(len(S)), bounds=[(-1, 1)] * S.shape[1], method="highs")
    return res.x if res.success else None


DIVERGENCE_TOL = 1e-6


def _diverging(S: np.ndarray) -> list[str]:
    """For each coefficient: "+", "-", "±" (the directions it can diverge in) or "" (finite).

    The first program maximises the sum of the rows (Konis's): 0 means no separation, one program in all.
    Otherwise each direction of each coefficient is either witnessed by a solution found so far or asked
    for by its own program (maximise ±d_j), so the answer does not depend on which optimum a solver picks.
    """
    p = S.shape[1]
    first = _no_descent(S, S.sum(axis=0))
    if first is None or S.sum(axis=0) @ first <= DIVERGENCE_TOL:
        return [""] * p
    seen = {(j, sign) for j in range(p) for sign in (1, -1) if sign * first[j] > DIVERGENCE_TOL}
    for j in range(p):
        for sign in (1, -1):
            if (j, sign) in seen:
                continue
            d = _no_descent(S, sign * np.eye(p)[j])
            if d is not None:
                seen |= {(k, t) for k in range(p) for t in (1, -1) if t * d[k] > DIVERGENCE_TOL}
    return ["±" if (j, 1) in seen and (j, -1) in seen else "+" if (j, 1) in seen else "-" if (j, -1) in seen else ""
            for j in range(p)]


def find_separation(X: np.ndarray, y: np.ndarray, names: list[str]) -> Separation:
    """Which kind of separation the design X (intercept column included, if the model has one) and 0/1
    outcome y show, and which ML estimates diverge, in which direction ("±" where both are open).

    Written here rather than taken from firthmodels' detect_separation (Konis's single program): that
    program maximises the sum of its rows, so which coefficients it calls infinite depends on how often
    each case repeats, and where its optimum is not unique on the solver's pick (one design gave `+c[2]`
    on its cases and `+c[2], -b` on the same cases repeated, where all of c[1], c[2] and b diverge).
    Asking for each coefficient, in each direction, whether a direction of no descent moves it gives one
    answer for one set of patterns: at most two small programs per coefficient, on the distinct patterns,
    and a single one where the cases do not separate.
    """
    X, y = distinct_patterns(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    S = np.where(y == 1, 1.0, -1.0)[:, None] * X
    # the answer is one for one set of patterns (see above): refits of the same design (leave-one-out, a
    # multiverse, a bootstrap) meet the same sets again and again, and reuse it
    order = np.lexsort(S.T[::-1])
    key = (tuple(names), S.shape, np.ascontiguousarray(S[order]).tobytes())
    found = _KNOWN.get(key)
    if found is None:
        found = _separation(S, names)
        if len(_KNOWN) >= KNOWN_MAX:
            _KNOWN.pop(next(iter(_KNOWN)))
        _KNOWN[key] = found
    return found


KNOWN_MAX = 4096
_KNOWN: dict = {}


def _separation(S: np.ndarray, names: list[str]) -> Separation:
    signs = _diverging(S)
    if not any(signs):
        return Separation("none", ())
    terms = sorted(zip(names, signs), key=lambda term: term[0] == "Intercept")  # the intercept last
    kind = "complete" if _strict_margin(S) > 1e-9 else "quasi-complete"
    return Separation(kind, tuple(f"{sign}{name}" for name, sign in terms if sign))
