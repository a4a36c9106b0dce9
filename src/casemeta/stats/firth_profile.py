"""Firth's penalized likelihood, its constrained maxima, likelihood-ratio tests and profile limits.

firthmodels fits the model and usually gives the penalized likelihood-ratio
(PLR) tests and profile limits too, but its constrained refit gives up (NaN and
a ConvergenceWarning) when a Newton step cannot raise the penalized
log-likelihood in float64, even at the maximum: the endometrial model
`HG ~ NV + EH` loses NV's p-value this way at tolerance 1e-8. No other
maintained Python library computes penalized profiles, so this module does it
itself, as a fallback only: Newton steps on the modified score (Firth 1993)
with the Fisher information, a backtracking line search on the penalized
log-likelihood, warm starts from the full fit, and Brent's root finding on
the profile for the limits. It follows logistf's definitions: the penalty
0.5 log det I(b) always uses the full design, also when a coefficient is held
fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, log_expit

MAX_ITER = 200
MAX_HALVINGS = 40
MAX_STEP = 5.0  # largest change of one coefficient in one Newton step, as in logistf
GTOL = 1e-9  # converged when the largest modified score is below this
FLOAT_FLOOR_GTOL = 1e-5  # ... or below this when float64 can no longer register a gain
MAX_DOUBLINGS = 16  # how far out a profile limit is looked for: 2**16 standard errors


@dataclass(frozen=True)
class Quantities:
    loglik: float  # penalized log-likelihood
    score: np.ndarray  # modified score
    info: np.ndarray  # Fisher information


@dataclass(frozen=True)
class Maximum:
    beta: np.ndarray
    loglik: float
    converged: bool
    reason: str = ""


def quantities(beta: np.ndarray, X: np.ndarray, y: np.ndarray) -> Quantities:
    """Penalized log-likelihood l(b) + 0.5 log det I(b), its gradient and I(b).

    Far out (fitted probabilities of exactly 0 or 1) I(b) is singular: the penalized
    log-likelihood is then -inf, so no step goes there.
    """
    with np.errstate(all="ignore"):
        eta = X @ beta
        p = expit(eta)
        w = p * (1 - p)
        info = X.T @ (X * w[:, None])
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0 or not np.isfinite(logdet):
            return Quantities(-np.inf, np.full(len(beta), np.nan), info)
        loglik = float(np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta)) + 0.5 * logdet)
        hat = w * np.einsum("ij,ji->i", X, np.linalg.solve(info, X.T))
        score = X.T @ (y - p + hat * (0.5 - p))
    if not np.isfinite(loglik) or not np.isfinite(score).all():
        return Quantities(-np.inf, np.full(len(beta), np.nan), info)
    return Quantities(loglik, score, info)


def maximize(X: np.ndarray, y: np.ndarray, start: np.ndarray, fixed: int | None = None) -> Maximum:
    """Maximize the penalized log-likelihood over every coefficient but `fixed` (kept at its start value)."""
    beta = np.asarray(start, dtype=float).copy()
    free = np.ones(len(beta), dtype=bool)
    if fixed is not None:
        free[fixed] = False
    if not free.any():
        return Maximum(beta, quantities(beta, X, y).loglik, True)
    q = quantities(beta, X, y)
    if not np.isfinite(q.loglik):
        return Maximum(beta, q.loglik, False, "the penalized likelihood is not finite at the start")
    for _ in range(MAX_ITER):
        g = q.score[free]
        if np.abs(g).max() < GTOL:
            return Maximum(beta, q.loglik, True)
        try:
            delta = np.linalg.solve(q.info[np.ix_(free, free)], g)
        except np.linalg.LinAlgError:
            return Maximum(beta, q.loglik, False, "the Fisher information is singular")
        if np.abs(delta).max() > MAX_STEP:
            delta *= MAX_STEP / np.abs(delta).max()
        for _ in range(MAX_HALVINGS):
            trial = beta.copy()
            trial[free] += delta
            q_trial = quantities(trial, X, y)
            if _better(q_trial, q, free):
                break
            delta /= 2
        else:
            # no step raises the penalized log-likelihood in float64: a maximum if the score is ~0
            if np.abs(g).max() < FLOAT_FLOOR_GTOL:
                return Maximum(beta, q.loglik, True)
            return Maximum(beta, q.loglik, False, "no step raises the penalized likelihood")
        beta, q = trial, q_trial
    converged = np.abs(q.score[free]).max() < FLOAT_FLOOR_GTOL
    return Maximum(beta, q.loglik, bool(converged), "" if converged else f"not converged in {MAX_ITER} iterations")


def _better(new: Quantities, old: Quantities, free: np.ndarray) -> bool:
    """A step is taken if it raises the penalized log-likelihood, or, where float64 cannot tell
    the two apart (near the maximum), if it shrinks the score."""
    if new.loglik > old.loglik:
        return True
    noise = 8 * np.finfo(float).eps * max(1.0, abs(old.loglik))
    return bool(new.loglik >= old.loglik - noise and np.abs(new.score[free]).max() < np.abs(old.score[free]).max())


def fit(X: np.ndarray, y: np.ndarray) -> Maximum:
    """The Firth estimate, from zero."""
    return maximize(X, y, np.zeros(X.shape[1]))


def _start(beta_hat: np.ndarray, cov: np.ndarray | None, j: int, value: float) -> np.ndarray:
    """Warm start for b_j = value: move the others along their regression on b_j (from the covariance)."""
    start = beta_hat.copy()
    if cov is not None and np.isfinite(cov).all() and cov[j, j] > 0:
        start += (value - beta_hat[j]) * cov[:, j] / cov[j, j]
    start[j] = value
    return start


def profile(X, y, beta_hat, cov, j: int, value: float) -> Maximum:
    """max of the penalized log-likelihood with b_j held at `value`."""
    found = maximize(X, y, _start(beta_hat, cov, j, value), fixed=j)
    if not found.converged:  # a second try from the full estimate itself
        start = beta_hat.copy()
        start[j] = value
        found = maximize(X, y, start, fixed=j)
    return found


def lr_test(X, y, beta_hat, loglik_hat, cov, j: int) -> tuple[float, float, str]:
    """(chi-square, p-value, reason if not computed) of b_j = 0 by penalized likelihood ratio."""
    found = profile(X, y, beta_hat, cov, j, 0.0)
    if not found.converged:
        return np.nan, np.nan, found.reason
    chisq = max(0.0, 2 * (loglik_hat - found.loglik))
    return chisq, float(stats.chi2.sf(chisq, df=1)), ""


def profile_limit(X, y, beta_hat, loglik_hat, cov, j: int, side: int, level: float = 0.95) -> tuple[float, str]:
    """(limit, reason if not found) of the profile penalized-likelihood interval; side -1 lower, +1 upper.

    The limit is where 2 (l*(b_hat) - max l* with b_j fixed) reaches the chi-square(1)
    quantile: bracketed by doubling steps of one standard error, then found by Brent's method.
    """
    crit = stats.chi2.ppf(level, df=1)
    failures = []

    def excess(value: float) -> float:
        found = profile(X, y, beta_hat, cov, j, value)
        if not found.converged:
            failures.append(found.reason)
            return np.nan
        return 2 * (loglik_hat - found.loglik) - crit

    se = np.sqrt(cov[j, j]) if cov is not None and np.isfinite(cov[j, j]) and cov[j, j] > 0 else 1.0
    inner, step = beta_hat[j], se
    for _ in range(MAX_DOUBLINGS):
        outer = beta_hat[j] + side * step
        value = excess(outer)
        if np.isnan(value):
            return np.nan, f"the fit with it held at {outer:.4g} failed: {failures[-1]}"
        if value > 0:
            root = optimize.brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-10, rtol=1e-12)
            if failures:
                return np.nan, f"a fit on the way failed: {failures[-1]}"
            return float(root), ""
        inner, step = outer, 2 * step
    return np.nan, f"the penalized likelihood stays within the {level:.0%} bound beyond {inner:.4g}"
