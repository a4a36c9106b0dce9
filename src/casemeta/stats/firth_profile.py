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
- all the tests and limits of a fit advanced together (`inference`): each is a
  generator of the points where it needs the penalized likelihood, and each
  round's points (33 for 10 predictors) are evaluated in one pass over the data,
  the information matrices and hat values of all of them as matrix products of
  the cases' pairwise products x_a x_b (`_evaluate_many`), in blocks of cases;
- the hat values of a single evaluation from the inverse of a Cholesky factor
  of the k x k information (no n x n matrix is ever formed).

It follows logistf's definitions: the penalty 0.5 log det I(b) always uses the
full design, also when coefficients are held fixed. With `firth=False` the same
code gives ordinary (weighted) likelihood inference, which FLAC needs.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy import linalg, optimize, stats
from scipy.linalg.lapack import dpotrf, dpotrs
from scipy.special import expit, log_expit
from threadpoolctl import ThreadpoolController

T = TypeVar("T")

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


def _cho_factor(a: np.ndarray, lower: bool = False, check_finite: bool = True) -> tuple[np.ndarray, bool]:
    """scipy.linalg.cho_factor(a, lower), by the LAPACK routine it calls (dpotrf, same arguments: the same
    numbers), without SciPy's per-call wrapping (batching, argument checks: about 50 µs a call, most of the time
    for the 2x2 to 5x5 informations of a case study, which the profile limits factor tens of thousands of
    times). Raises what cho_factor raises: ValueError for a non-finite entry (if checked), LinAlgError where a
    is not positive definite."""
    if check_finite and not np.isfinite(a).all():
        raise ValueError("array must not contain infs or NaNs")
    c, info = dpotrf(a, lower=lower, clean=False)
    if info > 0:
        raise linalg.LinAlgError(f"{info}-th leading minor of the array is not positive definite")
    if info < 0:
        raise ValueError(f'LAPACK reported an illegal value in {-info}-th argument on entry to "POTRF".')
    return c, lower


def _cho_solve(factor: tuple[np.ndarray, bool], b: np.ndarray, check_finite: bool = True) -> np.ndarray:
    """scipy.linalg.cho_solve(factor, b) by its LAPACK routine (dpotrs), as _cho_factor."""
    c, lower = factor
    if check_finite and not np.isfinite(b).all():
        raise ValueError("array must not contain infs or NaNs")
    x, info = dpotrs(c, b, lower=lower)
    if info != 0:
        raise ValueError(f"illegal value in {-info}th argument of internal potrs")
    return x


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
        sign = 2 * y - 1
        q, miss, var, contrib = _cases(sign * (X @ beta), weights)
        loglik = float(np.sum(contrib))
        Xs = X * np.sqrt(var)[:, None]
        info = Xs.T @ Xs
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            return _failed(info, k)
        hat = None
        resid = miss
        if firth:
            loglik += float(np.sum(np.log(np.diag(chol))))  # 0.5 log det I
            # h_i = |L^-1 xs_i|^2 with L L' = I: one n x k product by the k x k inverse of L (a triangular
            # solve with n right-hand sides is three times slower), no n x n matrix
            half = Xs @ linalg.solve_triangular(chol, np.eye(k), lower=True, check_finite=False).T
            hat = np.einsum("ij,ij->i", half, half)
            resid = miss + hat * (0.5 - q)
        score = X.T @ (sign * resid)
    if not np.isfinite(loglik) or not np.isfinite(score).all():
        return _failed(info, k)
    return Quantities(loglik, score, info, hat)


def _cases(t: np.ndarray, weights: np.ndarray | None):
    """Per case (and point, if t has columns), from t = s eta with s = 2y - 1 (y is 0/1):
    q = P(Y = y) = expit(t), (y - p) / s = 1 - q, p (1 - p) = q (1 - q) and the log-likelihood term
    log q, weighted where there are weights; and 0.5 - p = s (0.5 - q). One expit and one log per case
    (log_expit is four times slower) at the same absolute precision, about 1e-16 per case; log_expit
    only where q underflows to 0 (t below -745)."""
    q = expit(t)
    contrib = np.log(q) if q.all() else log_expit(t)
    miss = 1 - q
    var = q * miss
    if weights is not None:
        w = weights if t.ndim == 1 else weights[:, None]
        miss, var, contrib = miss * w, var * w, contrib * w
    return q, miss, var, contrib


BATCH_MIN = 4  # from this many points on, one shared pass (_evaluate_many) is faster than one quantities() each
BLOCK_ELEMENTS = 2**18  # rows x columns of a block's temporaries: a few MiB, so they stay in cache
BATCH_ELEMENTS = 2**25  # cases x points in one pass: bounds its memory (256 MiB of float64 at most)


def _evaluate_many(points: list[np.ndarray], X, y, weights, firth: bool, columns: np.ndarray | None = None) -> list[Quantities]:
    """quantities() at every point, in one pass over the data (two with the Firth penalty).

    The information at all points is one matrix product: with z_i the products x_ia x_ib (a <= b)
    of case i, the packed information is Z' V for V the cases' weights p (1 - p) at each point; the
    hat values likewise are (Z C) * V with C the packed inverse informations (h_i = v_i x_i' I^-1 x_i).
    Rows go in blocks so that z is never formed for all cases at once. No hat values are returned.
    `columns` is X' (C order) if the caller has it.
    """
    n, k = X.shape
    m = len(points)
    if m < BATCH_MIN:
        return [quantities(point, X, y, weights, firth) for point in points]
    columns = np.ascontiguousarray(X.T) if columns is None else columns  # z' of a block is gathered from
    # whole rows of X' (30 times faster than from X's columns)
    size = max(BATCH_MIN, -(-m // -(-m * n // BATCH_ELEMENTS)))  # points per pass, as many in each
    if size < m:
        return [q for at in range(0, m, size) for q in _evaluate_many(points[at:at + size], X, y, weights, firth, columns)]
    B = np.column_stack(points)
    sign = (2 * y - 1)[:, None]
    row, col = np.triu_indices(k)
    rows = max(64, BLOCK_ELEMENTS // max(len(row), m))
    blocks = [slice(at, min(at + rows, n)) for at in range(0, n, rows)]
    loglik, packed, score = np.zeros(m), np.zeros((len(row), m)), np.zeros((k, m))
    fitted = np.empty((n, m)) if firth else None  # q, kept for the second pass
    with np.errstate(all="ignore"):
        for block in blocks:
            Xb, sb = X[block], sign[block]
            q, miss, var, contrib = _cases(sb * (Xb @ B), None if weights is None else weights[block])
            loglik += contrib.sum(axis=0)
            packed += _pairs(columns[:, block], row, col) @ var
            if firth:
                fitted[block] = q
            else:
                score += Xb.T @ (sb * miss)
        infos, inverses, failed = np.zeros((m, k, k)), np.zeros((len(row), m)), np.zeros(m, dtype=bool)
        infos[:, row, col] = packed.T
        infos[:, col, row] = packed.T
        off_diagonal = np.where(row == col, 1.0, 2.0)  # x' A x counts each a < b pair twice
        for c in range(m):
            try:
                chol = _cho_factor(infos[c], lower=True, check_finite=False)
            except (np.linalg.LinAlgError, linalg.LinAlgError):
                failed[c] = True
                continue
            if firth:
                loglik[c] += np.sum(np.log(np.diag(chol[0])))  # 0.5 log det I
                inverses[:, c] = _cho_solve(chol, np.eye(k), check_finite=False)[row, col] * off_diagonal
        if firth:
            for block in blocks:
                Xb, sb, q = X[block], sign[block], fitted[block]
                w = 1.0 if weights is None else weights[block, None]
                miss = (1 - q) * w
                hat = (_pairs(columns[:, block], row, col).T @ inverses) * (q * miss)
                score += Xb.T @ (sb * (miss + hat * (0.5 - q)))
    return [_failed(infos[c], k) if failed[c] or not np.isfinite(loglik[c]) or not np.isfinite(score[:, c]).all()
            else Quantities(float(loglik[c]), score[:, c].copy(), infos[c]) for c in range(m)]


def _pairs(columns: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Z' for a block of cases given as X' (k x cases): the products x_a x_b of every pair a <= b, one row each."""
    return columns[row] * columns[col]


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
    return _run(_newton(start, fixed, loglik_only), X, y, weights, firth)


# Each iterative solution below is written once, as a generator of the points where it needs the
# quantities (it yields a point, is sent back the quantities there, and returns its result). _run
# evaluates them one at a time; _run_all advances many solutions in lockstep and evaluates each round's
# points together (_evaluate_many), which is where full inference saves most of its time.
Steps = Generator[np.ndarray, Quantities, T]


def _run(steps: Steps, X, y, weights, firth: bool) -> T:
    try:
        point = next(steps)
        while True:
            point = steps.send(quantities(point, X, y, weights, firth))
    except StopIteration as done:
        return done.value


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's BLAS libraries, found once: `threadpool_limits()` searches the loaded libraries on every
    call (about 5 ms), which cost a multiverse chunk 2 of its 8 CPU-seconds when called per round."""
    return ThreadpoolController()


def _run_all(all_steps: list[Steps], X, y, weights, firth: bool) -> list:
    """The results of several independent solutions, advanced in lockstep: every round evaluates the
    points all the unfinished ones ask for at once."""
    results: list = [None] * len(all_steps)
    columns = np.ascontiguousarray(X.T)
    pending: dict[int, np.ndarray] = {}
    for i, steps in enumerate(all_steps):
        try:
            pending[i] = next(steps)
        except StopIteration as done:
            results[i] = done.value
    while pending:
        asked = list(pending)
        # one BLAS thread: the products per block of cases are small, and threads waiting for each other at
        # every one of them cost far more than they gain, worst where other processes share the cores
        with _blas().limit(limits=1, user_api="blas"):
            evaluated = _evaluate_many([pending[i] for i in asked], X, y, weights, firth, columns)
        for i, q in zip(asked, evaluated):
            try:
                pending[i] = all_steps[i].send(q)
            except StopIteration as done:
                results[i] = done.value
                del pending[i]
    return results


def _newton(start: np.ndarray, fixed, loglik_only: bool) -> Steps[Maximum]:
    """Newton steps with step halving on the free coefficients, from `start` (see maximize)."""
    decrement_tol = LOGLIK_DECREMENT_TOL if loglik_only else DECREMENT_TOL
    beta = np.asarray(start, dtype=float).copy()
    free = _fixed_mask(len(beta), fixed)
    q = yield beta
    if not free.any():
        return Maximum(beta, q.loglik, bool(np.isfinite(q.loglik)))
    if not np.isfinite(q.loglik):
        return Maximum(beta, q.loglik, False, "the penalized likelihood is not finite at the start")
    previous = np.inf
    for _ in range(MAX_ITER):
        g = q.score[free]
        try:
            delta = _cho_solve(_cho_factor(q.info[np.ix_(free, free)]), g)
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
            q_trial = yield trial
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
    return _run(_profile(beta_hat, cov, fixed, value), X, y, weights, firth)


def _profile(beta_hat, cov, fixed, value) -> Steps[Maximum]:
    found = yield from _newton(_start(beta_hat, cov, fixed, value), fixed, loglik_only=True)
    if not found.converged:  # a second try from the full estimate itself
        start = beta_hat.copy()
        start[np.atleast_1d(fixed)] = value
        found = yield from _newton(start, fixed, loglik_only=True)
    return found


def lr_test(X, y, beta_hat, loglik_hat, cov, fixed, weights=None, firth: bool = True) -> tuple[float, float, str]:
    """(chi-square, p-value, reason if not computed) of b[fixed] = 0 by (penalized) likelihood ratio;
    `fixed` is one index or a list of them (df = their number)."""
    return _run(_lr_test(beta_hat, loglik_hat, cov, fixed), X, y, weights, firth)


def _lr_test(beta_hat, loglik_hat, cov, fixed) -> Steps[tuple[float, float, str]]:
    found = yield from _profile(beta_hat, cov, fixed, 0.0)
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
    return _run(_limit(X, y, beta_hat, loglik_hat, cov, j, side, level, weights, firth, at_hat), X, y, weights, firth)


def _limit(X, y, beta_hat, loglik_hat, cov, j, side, level, weights, firth, at_hat) -> Steps[tuple[float, str]]:
    crit = stats.chi2.ppf(level, df=1)
    direct = yield from _direct_limit(beta_hat, loglik_hat - crit / 2, j, side, at_hat)
    if direct is not None:
        return direct, ""
    # rare: evaluated one point at a time, outside any lockstep
    return _bracketed_limit(X, y, beta_hat, loglik_hat, cov, j, side, crit, level, weights, firth)


def inference(X, y, beta_hat, loglik_hat, cov, tests=(), limits=(), level: float = 0.95, weights=None,
              firth: bool = True, at_hat: Quantities | None = None) -> tuple[list[tuple[float, float, str]], list[tuple[float, str]]]:
    """lr_test of every set in `tests` and profile_limit of every (j, side) in `limits`, the same
    numbers as those functions give one by one, computed together: each round of their iterations
    evaluates all the points they ask for in one pass over the data (_evaluate_many)."""
    tests, limits = list(tests), list(limits)
    steps = [_lr_test(beta_hat, loglik_hat, cov, fixed) for fixed in tests]
    steps += [_limit(X, y, beta_hat, loglik_hat, cov, j, side, level, weights, firth, at_hat) for j, side in limits]
    results = _run_all(steps, X, y, weights, firth)
    return results[:len(tests)], results[len(tests):]


def _direct_limit(beta_hat, target, j, side, at_hat) -> Steps[float | None]:
    """Venzon and Moolgavkar's iteration: each step goes to the point of the local quadratic model
    (score g, information A) on the contour l* = target where b_j is extreme,
    b + A^-1 g + side * sqrt((2 (l* - target) + g'A^-1 g) / (A^-1)_jj) * A^-1 e_j.
    Its fixed points have a zero score in every other coefficient and l* = target: the limit.
    None where it does not converge (the caller then brackets)."""
    beta = beta_hat.copy()
    q = at_hat if at_hat is not None else (yield beta)
    unit = np.zeros(len(beta))
    unit[j] = 1.0
    tol, previous = VM_XTOL * max(1.0, np.abs(beta_hat).max()), np.inf
    for _ in range(VM_MAX_ITER):
        if not np.isfinite(q.loglik):
            return None
        try:
            factor = _cho_factor(q.info)
        except (np.linalg.LinAlgError, linalg.LinAlgError):
            return None
        newton, column = _cho_solve(factor, q.score), _cho_solve(factor, unit)
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
        q = yield beta
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
