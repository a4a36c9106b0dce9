"""Sets and their fit: calibration, membership in a conjunction (term), and R QCA's parameters of fit.

A term over k conditions is a pair of bit masks (mask, value): bit k-1-i stands for the i-th
condition (so that a configuration's number, read as a binary number with the first condition
most significant, is R QCA's truth-table row number minus 1); a condition is in the term where
its mask bit is set, present where its value bit is set too, absent (~A) where not.

The parameters follow R QCA's pof() (Dusa 2019, QCA with R, ch. 5), with X the membership in the
term or solution and Y in the outcome:
    inclS = Σmin(X,Y) / ΣX                       covS = Σmin(X,Y) / ΣY
    PRI   = (Σmin(X,Y) − Σmin(X,Y,1−Y)) / (ΣX − Σmin(X,Y,1−Y))
    inclN = Σmin(X,Y) / ΣY                       covN = Σmin(X,Y) / ΣX
    RoN   = Σ(1−X) / Σ(1−min(X,Y))
and a term's unique coverage covU is the solution's covS less the covS of the solution without it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from casemeta.errors import CasemetaError

Term = tuple[int, int]  # (mask, value)
# R QCA calibrate(type = "fuzzy", method = "direct", idm = 0.95): full membership at log odds of 0.95
INCLUSION_DEGREE = 0.95


def calibrate_direct(values: np.ndarray, full_out: float, crossover: float, full_in: float) -> np.ndarray:
    """Ragin's direct method, as R QCA's calibrate(method = "direct", logistic = TRUE): the log odds of
    membership are linear in the distance from the crossover, reaching ±log(0.95/0.05) at the full-in and
    full-out anchors (the anchors may decrease, for a set whose members have low values)."""
    if not anchors_ordered(full_out, crossover, full_in):
        raise CasemetaError(f"calibration anchors {full_out}, {crossover}, {full_in}: the crossover must lie "
                            "strictly between full non-membership and full membership")
    scale = math.log(INCLUSION_DEGREE / (1 - INCLUSION_DEGREE))
    x = np.asarray(values, dtype=float)
    towards_in = (x - crossover) * (full_in - crossover) >= 0
    log_odds = np.where(towards_in, (x - crossover) / (full_in - crossover), (x - crossover) / (crossover - full_out)) * scale
    return 1 / (1 + np.exp(-log_odds))


def anchors_ordered(full_out: float, crossover: float, full_in: float) -> bool:
    """The crossover lies strictly between full non-membership and full membership (either way round)."""
    return full_out < crossover < full_in or full_out > crossover > full_in


def calibrated_frame(frame: pd.DataFrame, calibrations) -> pd.DataFrame:
    """The frame with each calibrated column (name -> (full_out, crossover, full_in)) replaced by its fuzzy
    membership (direct method); a blank stays blank."""
    out = frame.copy()
    for column, (full_out, crossover, full_in) in calibrations.items():
        values = pd.to_numeric(out[column], errors="coerce").astype(float)
        out[column] = calibrate_direct(values.to_numpy(), full_out, crossover, full_in)
    return out


def bit(k: int, i: int) -> int:
    """The bit of the i-th of k conditions."""
    return 1 << (k - 1 - i)


def term_membership(members: np.ndarray, term: Term) -> np.ndarray:
    """Each case's membership in a conjunction: the minimum over its literals (1 for the empty term)."""
    n, k = members.shape
    out = np.ones(n)
    mask, value = term
    for i in range(k):
        if mask & bit(k, i):
            out = np.minimum(out, members[:, i] if value & bit(k, i) else 1 - members[:, i])
    return out


def union_membership(members: np.ndarray, terms: list[Term]) -> np.ndarray:
    """Membership in a disjunction of terms: the maximum (0 for no term)."""
    out = np.zeros(members.shape[0])
    for term in terms:
        out = np.maximum(out, term_membership(members, term))
    return out


def covers(term: Term, configuration: int) -> bool:
    mask, value = term
    return configuration & mask == value


def term_text(term: Term, conditions: list[str]) -> str:
    """`DEV*~URB*LIT`: the term's literals in the order of the conditions."""
    k = len(conditions)
    mask, value = term
    literals = [(c if value & bit(k, i) else f"~{c}") for i, c in enumerate(conditions) if mask & bit(k, i)]
    return "*".join(literals) if literals else "1"


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def sufficiency(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """inclS, PRI and covS of X ⊆ Y (NaN where a denominator is 0, e.g. no case in X)."""
    both = np.minimum(x, y).sum()
    all_three = np.minimum(np.minimum(x, y), 1 - y).sum()
    return {"inclS": _ratio(both, x.sum()), "PRI": _ratio(both - all_three, x.sum() - all_three), "covS": _ratio(both, y.sum())}


def necessity(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """inclN, RoN and covN of Y ⊆ X."""
    both = np.minimum(x, y)
    return {"inclN": _ratio(both.sum(), y.sum()), "RoN": _ratio((1 - x).sum(), (1 - both).sum()), "covN": _ratio(both.sum(), x.sum())}


def unique_coverage(members: np.ndarray, y: np.ndarray, terms: list[Term]) -> list[float]:
    """Each term's covU within the solution `terms`."""
    return unique_coverages(np.array([term_membership(members, t) for t in terms]).reshape(len(terms), -1), y)


def unique_coverages(memberships: np.ndarray, y: np.ndarray) -> list[float]:
    """Each term's covU, from the terms' memberships (terms by cases). The solution without term j has, in
    each case, the largest membership of the others: the second largest of all where j holds the largest,
    else the largest; so every term's covU comes from two maxima (not from a union per term, which made a
    model of T terms cost T² memberships). Maxima are exact, so the sums are the same numbers."""
    t = len(memberships)
    if t == 0:
        return []
    by_case = memberships.T.copy(order="C")  # cases by terms (a copy: its maxima are struck out below)
    rows = np.arange(len(by_case))
    top = by_case.argmax(axis=1)
    first = by_case[rows, top]
    by_case[rows, top] = -np.inf
    second = by_case.max(axis=1) if t > 1 else np.zeros_like(first)
    without = np.where(top[None, :] == np.arange(t)[:, None], second[None, :], first[None, :])  # terms by cases
    total = np.minimum(first, y).sum()
    return [_ratio(total - s, y.sum()) for s in np.minimum(without, y[None, :]).sum(axis=1)]
