"""Firth's penalized likelihood, its constrained maxima, likelihood-ratio tests and profile limits.

firthmodels fits the model; this module gives its inference, fast: penalized
likelihood-ratio (PLR) tests of one coefficient or of a set of coefficients, and
profile penalized-likelihood limits. No other maintained Python library is fast
enough at large n (firthmodels runs a full constrained optimisation per profile
point, and its refit gives up, NaN, where a Newton step cannot raise the
penalized log-likelihood in float64: `HG ~ NV + EH` on endometrial loses NV's
p-value that way), so casemeta does it itself:

- constrained maxima by Newton steps on the modified score (Firth 1993) with the
  Fisher information, warm-started from the full fit moved along the
  coefficients' regression on the fixed ones, and stopped once the Newton
  decrement shows the maximum is reached (no confirming evaluation);
- each profile limit solved for directly (Venzon and Moolgavkar 1988, Applied
  Statistics 37:87): every step jumps to the extreme of b_j on the target
  contour of the local quadratic model, one likelihood evaluation per step;
  where that does not converge, bracketing and Brent's root finding on the
  profile, as before;
- the hat values from a Cholesky factor of the k x k information (no n x n
  matrix is ever formed).

It follows logistf's definitions: the penalty 0.5 log det I(b) always uses the
full design, also when coefficients are held fixed. With `firth=False` the same
code gives ordinary (weighted) likelihood inference, which FLAC needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, stats
from scipy.special import expit, log_expit

MAX_ITER = 200
MAX_HALVINGS = 40
MAX_STEP = 5.0  # largest change of one coefficient in one Newton step, as in logistf
GTOL = 1e-9  # converged when the largest modified score is below this
DECREMENT_TOL = 1e-20  # ... or when a Newton step would raise the log-likelihood by less than this
LOGLIK_DECREMENT_TOL = 1e-9  # the same where only the maximum's log-likelihood is wanted (tests): its error
# after that last step is a small fraction of this (Newton with the Fisher information converges fast)
FLOAT_FLOOR_GTOL = 1e-5  # ... or below this when float64 can no longer register a gain
MAX_DOUBLINGS = 16  # how far out a profile limit is looked for: 2**16 standard errors
VM_MAX_ITER = 40  # steps of the direct (Venzon-Moolgavkar) solution before falling back to bracketing
VM_XTOL = 1e-9  # a limit is reached when the next direct step moves no coefficient more than this


@dataclass(frozen=True)
class Quantities:
    loglik: float  # penalized log-likelihood
    score: np.ndarray  # modified score
    info: np.ndarray  # Fisher information
    hat: np.ndarray | None = None  # diagonal of the hat matrix (Firth only)


@dataclass(frozen=True)
class Maximum:
    beta: np.ndarray
    loglik: float
    converged: bool
    reason: str = ""


def _failed(info: np.ndarray, k: int) -> Quantities:
    return Quantities(-np.inf, np.full(k, np.nan), info)


def quantities(beta: np.ndarray, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
               firth: bool = True) -> Quantities:
    """Penalized log-likelihood l(b) + 0.5 log det I(b), its gradient and I(b); with weights, each
    case's contribution weighted; with firth=False the plain log-likelihood.

    Far out (fitted probabilities of exactly 0 or 1) I(b) is singular: the penalized
    log-likelihood is then -inf, so no step goes there.
    """
    k = len(beta)
    with np.errstate(all="ignore"):
        eta = X @ beta
        p = expit(eta)
        resid = y - p
        var = p * (1 - p)
        contrib = log_expit(np.where(y > 0.5, eta, -eta))  # y is 0/1
        if weights is not None:
            var, resid, contrib = var * weights, resid * weights, contrib * weights
        Xs = X * np.sqrt(var)[:, None]
        info = Xs.T @ Xs
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            return _failed(info, k)
        loglik = float(np.sum(contrib))
        hat = None
        if firth:
            loglik += float(np.sum(np.log(np.diag(chol))))  # 0.5 log det I
            half = linalg.solve_triangular(chol, Xs.T, lower=True, check_finite=False)
            hat = np.einsum("ij,ij->j", half, half)
            resid = resid + hat * (0.5 - p)
        score = X.T @ resid
    if not np.isfinite(loglik) or not np.isfinite(score).all():
        return _failed(info, k)
    return Quantities(loglik, score, info, hat)


def _fixed_mask(k: int, fixed) -> np.ndarray:
    free = np.ones(k, dtype=bool)
    if fixed is not None:
        free[np.atleast_1d(fixed)] = False
    return free


def maximize(X: np.ndarray, y: np.ndarray, start: np.ndarray, fixed=None, weights=None, firth: bool = True,
             loglik_only: bool = False) -> Maximum:
    """Maximize the (penalized) log-likelihood over every coefficient but `fixed` (an index or a
    list of indices, kept at their start values). `loglik_only`: only the maximum's value is wanted
    (a likelihood-ratio test), which allows stopping sooner."""
    decrement_tol = LOGLIK_DECREMENT_TOL if loglik_only else DECREMENT_TOL
    beta = np.asarray(start, dtype=float).copy()
    free = _fixed_mask(len(beta), fixed)
    q = quantities(beta, X, y, weights, firth)
    if not free.any():
        return Maximum(beta, q.loglik, bool(np.isfinite(q.loglik)))
    if not np.isfinite(q.loglik):
        return Maximum(beta, q.loglik, False, "the penalized likelihood is not finite at the start")
    previous = np.inf
    for _ in range(MAX_ITER):
        g = q.score[free]
        try:
            delta = linalg.cho_solve(linalg.cho_factor(q.info[np.ix_(free, free)]), g)
        except (np.linalg.LinAlgError, linalg.LinAlgError):
            return Maximum(beta, q.loglik, False, "the Fisher information is singular")
        decrement = float(g @ delta)
        # Newton's decrement falls at least linearly, fast near the maximum: the next one is about
        # decrement^2 / previous. Once that (or this one) is below the tolerance, the last step is
        # taken without evaluating again, and its gain, decrement / 2, added.
        if np.abs(g).max() < GTOL or decrement < decrement_tol or (loglik_only and _next_below(decrement, previous, decrement_tol)):
            done = beta.copy()
            done[free] += delta
            return Maximum(done, q.loglik + decrement / 2, True)
        previous = decrement
        if np.abs(delta).max() > MAX_STEP:
            delta *= MAX_STEP / np.abs(delta).max()
        for _ in range(MAX_HALVINGS):
            trial = beta.copy()
            trial[free] += delta
            q_trial = quantities(trial, X, y, weights, firth)
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


def _next_below(size: float, previous: float, tol: float) -> bool:
    """Whether the next of a fast-shrinking sequence (..., previous, size) is predicted below tol: at
    least tenfold shrinking, and size^2 / previous (its size at that rate) below tol."""
    return bool(np.isfinite(previous) and size < previous / 10 and size * size < tol * previous)


def _better(new: Quantities, old: Quantities, free: np.ndarray) -> bool:
    """A step is taken if it raises the penalized log-likelihood, or, where float64 cannot tell
    the two apart (near the maximum), if it shrinks the score."""
    if new.loglik > old.loglik:
        return True
    noise = 8 * np.finfo(float).eps * max(1.0, abs(old.loglik))
    return bool(new.loglik >= old.loglik - noise and np.abs(new.score[free]).max() < np.abs(old.score[free]).max())


def fit(X: np.ndarray, y: np.ndarray, weights=None, firth: bool = True) -> Maximum:
    """The Firth (or, firth=False, the ML) estimate, from zero."""
    return maximize(X, y, np.zeros(X.shape[1]), weights=weights, firth=firth)


def _start(beta_hat: np.ndarray, cov: np.ndarray | None, fixed, values) -> np.ndarray:
    """Warm start for b[fixed] = values: move the others along their regression on b[fixed] (from the covariance)."""
    fixed = np.atleast_1d(fixed)
    shift = np.broadcast_to(np.asarray(values, dtype=float), fixed.shape) - beta_hat[fixed]
    start = beta_hat.copy()
    if cov is not None and np.isfinite(cov).all():
        try:
            start += cov[:, fixed] @ np.linalg.solve(cov[np.ix_(fixed, fixed)], shift)
        except np.linalg.LinAlgError:
            pass
    start[fixed] = beta_hat[fixed] + shift
    return start


def profile(X, y, beta_hat, cov, fixed, value, weights=None, firth: bool = True) -> Maximum:
    """max of the (penalized) log-likelihood with b[fixed] held at `value` (its log-likelihood exact,
    the coefficients within about 1e-6 standard errors)."""
    found = maximize(X, y, _start(beta_hat, cov, fixed, value), fixed, weights, firth, loglik_only=True)
    if not found.converged:  # a second try from the full estimate itself
        start = beta_hat.copy()
        start[np.atleast_1d(fixed)] = value
        found = maximize(X, y, start, fixed, weights, firth, loglik_only=True)
    return found


def lr_test(X, y, beta_hat, loglik_hat, cov, fixed, weights=None, firth: bool = True) -> tuple[float, float, str]:
    """(chi-square, p-value, reason if not computed) of b[fixed] = 0 by (penalized) likelihood ratio;
    `fixed` is one index or a list of them (df = their number)."""
    found = profile(X, y, beta_hat, cov, fixed, 0.0, weights, firth)
    if not found.converged:
        return np.nan, np.nan, found.reason
    chisq = max(0.0, 2 * (loglik_hat - found.loglik))
    return chisq, float(stats.chi2.sf(chisq, df=np.atleast_1d(fixed).size)), ""


def profile_limit(X, y, beta_hat, loglik_hat, cov, j: int, side: int, level: float = 0.95,
                  weights=None, firth: bool = True, at_hat: Quantities | None = None) -> tuple[float, str]:
    """(limit, reason if not found) of the profile (penalized) likelihood interval; side -1 lower, +1 upper.

    The limit is where 2 (l*(b_hat) - max l* with b_j fixed) reaches the chi-square(1)
    quantile. Solved for directly (Venzon-Moolgavkar); where that does not converge,
    bracketed by doubling steps of one standard error and found by Brent's method.
    `at_hat` (the quantities at b_hat) saves one evaluation when several limits are wanted.
    """
    crit = stats.chi2.ppf(level, df=1)
    direct = _direct_limit(X, y, beta_hat, loglik_hat - crit / 2, j, side, weights, firth, at_hat)
    if direct is not None:
        return direct, ""
    return _bracketed_limit(X, y, beta_hat, loglik_hat, cov, j, side, crit, level, weights, firth)


def _direct_limit(X, y, beta_hat, target, j, side, weights, firth, at_hat) -> float | None:
    """Venzon and Moolgavkar's iteration: each step goes to the point of the local quadratic model
    (score g, information A) on the contour l* = target where b_j is extreme,
    b + A^-1 g + side * sqrt((2 (l* - target) + g'A^-1 g) / (A^-1)_jj) * A^-1 e_j.
    Its fixed points have a zero score in every other coefficient and l* = target: the limit.
    None where it does not converge (the caller then brackets)."""
    beta = beta_hat.copy()
    q = at_hat if at_hat is not None else quantities(beta, X, y, weights, firth)
    unit = np.zeros(len(beta))
    unit[j] = 1.0
    tol, previous = VM_XTOL * max(1.0, np.abs(beta_hat).max()), np.inf
    for _ in range(VM_MAX_ITER):
        if not np.isfinite(q.loglik):
            return None
        try:
            factor = linalg.cho_factor(q.info)
        except (np.linalg.LinAlgError, linalg.LinAlgError):
            return None
        newton, column = linalg.cho_solve(factor, q.score), linalg.cho_solve(factor, unit)
        radicand = (2 * (q.loglik - target) + q.score @ newton) / column[j]
        if not radicand >= 0:
            return None
        step = newton + side * np.sqrt(radicand) * column
        size = np.abs(step).max()
        # the steps shrink at least linearly, fast near the limit: the next is about size^2 / previous;
        # once that (or this one) is below the tolerance, this last step is taken without evaluating again
        if size < tol or _next_below(size, previous, tol):
            limit = beta[j] + step[j]
            return float(limit) if side * (limit - beta_hat[j]) > 0 else None
        previous = size
        if np.abs(step).max() > MAX_STEP:
            step *= MAX_STEP / np.abs(step).max()
        beta = beta + step
        q = quantities(beta, X, y, weights, firth)
    return None


def _bracketed_limit(X, y, beta_hat, loglik_hat, cov, j, side, crit, level, weights, firth) -> tuple[float, str]:
    """The limit by doubling steps of one standard error, then Brent's method on the profile."""
    failures = []

    def excess(value: float) -> float:
        found = profile(X, y, beta_hat, cov, j, value, weights, firth)
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
