"""Out-of-sample check: leave-one-out (or, for many cases, K-fold) AUC and Brier score of a penalized logistic model.

Next to the base rate, this shows a reader how much the predictors add beyond
guessing the share of successes. Any sample size gives a row: where a score
cannot be computed, the row's caveats say why, and where a fold needed a
fallback, which one. Leave-one-out refits the model once per case, so above
`loo_max_cases` (set in the plan) the check uses stratified, seeded K-fold
cross-validation instead, and the row's `scheme` says which was used.
"""

# scikit-learn is imported inside the functions that use it: importing it costs a job about 2 s of CPU, and
# most jobs that import this module (case influence, the multiverse's chunks) never call them.
from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd

from casemeta.errors import CasemetaError
from casemeta.stats.logistic_models import design
from casemeta.stats.caveats import Caveat, error_caveat, merge

MIN_CASES = 3  # leaving one of two cases out leaves a single case to learn from
# Below this many cases of the rarer outcome, the AUC gets a caveat (loo_auc_tiny_sample). Two reasons:
# - it rests on few pairs and swings widely: with 5 events and 5 non-events an AUC of 0.5 has a standard
#   error of about 0.19 (Hanley and McNeil 1982), with 10 of each about 0.13 (about the size of the
#   difference between a useless and a fair model);
# - leave-one-out biases it downwards on small samples: leaving a case out shifts the base rate the model
#   learns against that case, so a model with no information scores near 0, not 0.5 (Parker et al. 2007;
#   Airola et al. 2011). An AUC of 0.00 on 6 cases is that artefact, not a perfectly wrong model.
# Ten per outcome is also the usual floor of events per variable for a logistic model (Peduzzi et al. 1996).
AUC_MIN_PER_OUTCOME = 10
LOO_MAX_CASES = 200  # default: above this many cases, K folds instead of n refits
FOLDS = 10
LOO = "leave-one-out"


def brier(y: np.ndarray, predicted: np.ndarray) -> float:
    """The Brier score: the mean squared difference between the 0/1 outcome and its predicted probability.
    (scikit-learn's brier_score_loss computes the same mean after checking the labels, which sorts the outcome
    once per call: 1.4 s of the models step at 10⁶ cases.)"""
    return float(np.mean((y - predicted) ** 2))


def auc(y: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve of 0/1 outcomes `y` ranked by `scores`: the chance that a random event case scores
    above a random non-event case, a tie counting half (Mann and Whitney's U over n₁n₀, which is the trapezoidal
    area under the ROC curve that scikit-learn's roc_auc_score computes). Counted per distinct score, so one sort of
    the scores is the whole cost (roc_auc_score builds the curve and checks its input: 0.17 s a call at 10⁶ cases,
    against about a third of that here)."""
    values, where = np.unique(scores, return_inverse=True)
    events = np.bincount(where, weights=y, minlength=len(values))
    non_events = np.bincount(where, minlength=len(values)) - events
    n_events, n_non = events.sum(), non_events.sum()
    if n_events == 0 or n_non == 0:
        raise CasemetaError("the AUC needs cases of both outcomes")
    below = np.cumsum(non_events) - non_events  # non-event cases scoring lower than each distinct score
    return float(np.sum(events * (below + non_events / 2)) / (n_events * n_non))


def _base_rate_scores(y: np.ndarray) -> dict:
    """The base rate, and the Brier score of guessing it left-one-out (the share of events among the other cases)."""
    out = {"base_rate": float(y.mean()) if len(y) else np.nan, "base_rate_brier": np.nan}
    if len(y) >= 2:
        out["base_rate_brier"] = brier(y, (y.sum() - y) / (len(y) - 1))
    return out


def _folds(y: np.ndarray, loo_max_cases: int, seed: int) -> tuple[list[np.ndarray], str]:
    """The left-out cases of each fold (their positions: together a partition of the cases; each fold's training
    cases are all the others) and the scheme's name: leave-one-out up to loo_max_cases, else stratified K-fold.

    K is 10, or the number of cases of the rarer outcome where that is smaller (each fold holds one at least).
    """
    if len(y) <= loo_max_cases:
        return [np.array([i]) for i in range(len(y))], LOO
    k = max(2, min(FOLDS, int(np.bincount(y.astype(int), minlength=2).min())))
    return list(_stratified_folds(y, k, seed)), f"{k}-fold stratified, seed {seed}"


_FOLDS_MEMO: dict[tuple, tuple[tuple[np.ndarray, ...], list[warnings.WarningMessage]]] = {}


def _stratified_folds(y: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, ...]:
    """scikit-learn's StratifiedKFold (shuffled, seeded) test folds of outcome `y` (known by its digest), kept for
    the rest of the process: the folds depend on the outcome alone, and the models of one outcome share them (at 10⁶
    cases each call built 10 training index arrays of 900,000 cases, about 0.12 s a model). Only the test folds are
    kept (8 MB at 10⁶ cases; the training cases are the rest), for the last few outcomes. What scikit-learn warned
    while making them (a class with fewer cases than folds) is warned again at every call, as each model's row
    says it."""
    digest = hashlib.blake2b(np.ascontiguousarray(y, dtype=float).tobytes(), digest_size=16).digest()
    key = (digest, len(y), k, seed)
    if key not in _FOLDS_MEMO:
        from sklearn.model_selection import StratifiedKFold

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
            tests = tuple(test for _, test in folds)
        while len(_FOLDS_MEMO) >= 4:
            _FOLDS_MEMO.pop(next(iter(_FOLDS_MEMO)))
        _FOLDS_MEMO[key] = (tests, caught)
    tests, caught = _FOLDS_MEMO[key]
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return tests


def _base_rate_brier(y: np.ndarray, folds: list[np.ndarray]) -> float:
    """The Brier score of predicting each left-out case by the share of events among the training cases: every
    event less the left-out ones, over every case less the left-out ones (the same exact integer count and the same
    division as the training outcomes' mean, without gathering them: 900,000 per fold at 10⁶ cases)."""
    guess = np.empty(len(y))
    events = y.sum()
    for test in folds:
        guess[test] = (events - y[test].sum()) / (len(y) - len(test))
    return brier(y, guess)


def _loo_predictions(X: np.ndarray, y: np.ndarray, C: float, folds: list[np.ndarray] | None = None) -> tuple[np.ndarray, int, int]:
    """Left-out probabilities (leave-one-out unless other folds are given); how many folds had one outcome only,
    how many fits stopped early.

    A fold whose other cases all have one outcome cannot train a classifier; it
    predicts their base rate (0 or 1), which is what the fitted intercept tends to.
    """
    if folds is None or (len(folds) == len(y) and all(len(test) == 1 for test in folds)):
        return _leave_one_out(X, y, C)
    from sklearn import config_context

    # the design holds finite numbers and the options are fixed here: scikit-learn's checks of both, on each of
    # the folds' fits, cost more CPU than the fits (skipping them changes no number)
    with config_context(assume_finite=True, skip_parameter_validation=True):
        return _fits(X, y, C, folds)


def _leave_one_out(X: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, int, int]:
    """Leave-one-out's left-out probabilities, one penalized fit per distinct (x, y) row, all fitted at once.

    Leaving out either of two cases with the same row leaves the same training cases, so one fit serves every case
    of a row, and equal rows get exactly equal probabilities (an exact tie in the AUC, as it should be: fitted one
    by one, they could differ in the last digits). The fits are the penalized optimum scikit-learn's
    LogisticRegression(C) finds (L2 on the slopes, not the intercept), solved here by Newton's method on every fold
    together (_penalized_newton): scikit-learn fits one fold per call, and its per-call overhead was ~60% of the
    models step of the shipped studies (n fits of a few dozen cases each)."""
    from scipy.special import expit

    rows, which = _distinct_rows(np.column_stack([X, y]))
    counts = np.bincount(which, minlength=len(rows)).astype(float)
    design = np.column_stack([np.ones(len(rows)), rows[:, :-1]])
    outcome = rows[:, -1]
    weights = counts[None, :] - np.eye(len(rows))  # fold r: every case but one of row r
    events, cases = weights @ outcome, weights.sum(axis=1)
    one_class = (events == 0) | (events == cases)  # the other cases have one outcome: predicted as it
    predicted = np.where(events == cases, 1.0, 0.0)
    not_converged = np.zeros(len(rows), dtype=bool)
    if (~one_class).any():
        beta, converged = _penalized_newton(design, outcome, weights[~one_class], C)
        predicted[~one_class] = expit(np.einsum("fq,fq->f", design[~one_class], beta))
        not_converged[~one_class] = ~converged
    return predicted[which], int(counts[one_class].sum()), int(counts[not_converged].sum())


def _penalized_newton(design: np.ndarray, outcome: np.ndarray, weights: np.ndarray, C: float,
                      tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """For each row of `weights` (a fold: a weight per case), the coefficients minimising
    C * sum(weight * logistic loss) + ||slopes||^2 / 2 (scikit-learn's LogisticRegression objective; the first
    column of `design` is the unpenalized intercept), by Newton steps halved where the objective would rise. The
    objective is strictly convex, so Newton's method converges; (coefficients, converged) per fold, converged
    meaning the last full step moved no coefficient by tol or more."""
    from scipy.special import expit

    folds, q = len(weights), design.shape[1]
    penalty = np.r_[0.0, np.ones(q - 1)]

    def objective(beta):
        eta = beta @ design.T
        return C * np.sum(weights * (np.logaddexp(0, eta) - outcome * eta), axis=1) + 0.5 * beta**2 @ penalty

    beta, value = np.zeros((folds, q)), objective(np.zeros((folds, q)))
    converged = np.zeros(folds, dtype=bool)
    for _ in range(max_iter):
        mu = expit(beta @ design.T)
        gradient = C * (weights * (mu - outcome)) @ design + beta * penalty
        hessian = C * np.einsum("fm,mi,mj->fij", weights * mu * (1 - mu), design, design) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        size = np.ones(folds)
        for _halving in range(40):
            new = beta - size[:, None] * step
            new_value = objective(new)
            worse = new_value > value + 1e-12 * np.abs(value)
            if not worse.any():
                break
            size[worse] /= 2
        converged = (np.abs(step).max(axis=1) < tol) & (size == 1)
        beta, value = new, new_value
        if converged.all():
            break
    return beta, converged


def _distinct_rows(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-D array (in lexicographic order of their values) and, for each row of `data`,
    the index of its distinct row: np.unique(data, axis=0, return_inverse=True), without its sort of the rows as
    raw bytes (half a second per call at a million rows; 25 of the models step's 70 s). Each column is coded by
    its own sorted distinct values, and the codes combined into one integer per row (_row_codes)."""
    key = _row_codes(data) if data.size else None
    if key is None:  # nothing to code, or too many combinations for one integer: numpy's own, slower, way
        rows, which = np.unique(data, axis=0, return_inverse=True)
        return rows, which.ravel()
    which, keys = _ranks(key)
    first = np.empty(len(keys), dtype=np.intp)
    first[which[::-1]] = np.arange(len(key) - 1, -1, -1)  # the last write wins: each key's first row
    return data[first], which


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's rank among the sorted distinct values, and those values: np.unique(values,
    return_inverse=True) reversed, by hashing (pandas' factorize) and sorting the few distinct values only, where
    np.unique sorts all of them (40 ms for a million; a model's check codes each of its columns)."""
    import pandas as pd

    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    distinct = np.asarray(distinct)
    order = np.argsort(distinct, kind="stable")
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[codes], distinct[order]


def _row_codes(data: np.ndarray) -> np.ndarray | None:
    """One integer per row, equal for equal rows and ordered as the rows are lexicographically (each column's
    code among its sorted distinct values, in mixed radix); None where the combinations overflow 2**62."""
    key, span = np.zeros(len(data), dtype=np.int64), 1
    for column in data.T:
        code, values = _ranks(column)
        span *= len(values)
        if span >= 2**62:
            return None
        key = key * len(values) + code
    return key


def _fits(X: np.ndarray, y: np.ndarray, C: float, folds: list[np.ndarray]) -> tuple[np.ndarray, int, int]:
    """_loo_predictions' K-fold fits, one per fold, each on the distinct (x, y) rows of its training cases weighted
    by their counts: the same penalized likelihood as a fit on every case, so the same fit (to the solver's
    tolerance), but on a few dozen rows instead of a million. A left-out case's probability is its distinct row's,
    and the training counts are every case's less the left-out ones': per fold, work on the left-out cases only."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    predicted = np.empty(len(y))
    one_class = not_converged = 0
    rows, which = _distinct_rows(np.column_stack([X, y]))
    every = np.bincount(which, minlength=len(rows))
    for test in folds:  # the training cases are all the others
        weight = (every - np.bincount(which[test], minlength=len(rows))).astype(float)
        events = weight @ rows[:, -1]
        if events == 0 or events == weight.sum():  # one outcome only (y is 0/1, no blank): predicted as it
            predicted[test] = 1.0 if events else 0.0
            one_class += 1
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # Newton-Cholesky to a tight tolerance: the penalized optimum itself (ranks of near-ties
            # depend on it), and ~20× faster than lbfgs when BLAS threads compete for the cores
            model = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(
                rows[weight > 0, :-1], rows[weight > 0, -1], sample_weight=weight[weight > 0])
        not_converged += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        for w in caught:  # anything else is not ours to interpret: passed on to the caller
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn(w.message, w.category, stacklevel=2)
        predicted[test] = model.predict_proba(rows[:, :-1])[:, 1][which[test]]
    return predicted, one_class, not_converged


def loo_not_computed(data: pd.DataFrame, formula: str, why: Caveat | None, C: float = 1.0) -> dict:
    """The row of a check that cannot be run: base-rate scores where the outcome allows, and why (a caveat,
    whose blank statistic becomes the LOO scores)."""
    outcome = formula.split("~", 1)[0].strip()
    out = {"formula": formula, "n": len(data), "base_rate": np.nan, "loo_auc": np.nan, "loo_brier": np.nan,
           "base_rate_brier": np.nan, "penalty": f"L2, C={C}", "scheme": "",
           "caveats": (why.with_(blank="loo", scope="row"),) if why is not None else ()}
    if outcome in data and data[outcome].notna().all():
        out.update(_base_rate_scores(data[outcome].to_numpy(dtype=float)))
    return out


def loo_check(data: pd.DataFrame, formula: str, C: float = 1.0, source: str = "data",
              loo_max_cases: int = LOO_MAX_CASES, seed: int = 1) -> dict:
    """Left-out predicted probabilities of an L2-penalized logistic model, scored, with a note: leave-one-out
    up to loo_max_cases cases, stratified K-fold (seeded) above; `scheme` says which."""
    outcome = formula.split("~", 1)[0].strip()
    if len(data) < MIN_CASES:
        cases = f"only {len(data)} case(s)" if len(data) else "no cases"
        return loo_not_computed(data, formula, Caveat.of("too_few_to_leave_out", cases=cases, minimum=MIN_CASES), C)
    if outcome in data and data[outcome].nunique(dropna=True) == 1:
        value = data[outcome].dropna().iloc[0]
        return loo_not_computed(data, formula, Caveat.of("same_outcome", [outcome], value=value), C)
    try:
        y, X, names, _ = design(data, formula, source)
    except CasemetaError as exc:
        return loo_not_computed(data, formula, error_caveat(exc, source), C)
    out = loo_not_computed(data, formula, None, C)
    folds, scheme = _folds(y, loo_max_cases, seed)
    predicted, one_class, not_converged = _loo_predictions(X[:, [n != "Intercept" for n in names]], y, C, folds)
    out.update(loo_auc=auc(y, predicted), loo_brier=brier(y, predicted),
               base_rate_brier=_base_rate_brier(y, folds), scheme=scheme)
    fewer = int(min(np.sum(y == 1), np.sum(y == 0)))
    out["caveats"] = merge(Caveat.of("one_class_folds", folds=one_class) if one_class else None,
                           Caveat.of("not_converged_folds", folds=not_converged) if not_converged else None,
                           Caveat.of("loo_auc_tiny_sample", [outcome], fewer=fewer, minimum=AUC_MIN_PER_OUTCOME,
                                     loo=scheme == LOO) if fewer < AUC_MIN_PER_OUTCOME else None)
    return out
