"""Logistic regression that stays honest under separation: ML, Firth, or `auto`.

Maximum likelihood (statsmodels) is used where the data do not separate;
Firth's penalized likelihood (firthmodels) gives finite estimates where they
do, with profile penalized-likelihood intervals and penalized likelihood-ratio
tests. Separation is always looked for and always reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from firthmodels import FirthLogisticRegression
from scipy import stats

from casemeta.errors import CasemetaError
from casemeta.stats.formula import design_frame
from casemeta.stats.separation import Separation, find_separation

TERM_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "odds_ratio", "or_ci_low", "or_ci_high"]
TOLERANCE = 1e-8


@dataclass
class ModelFit:
    formula: str
    method: str  # the method actually used: "ml" or "firth"
    requested: str
    separation: Separation
    n: int
    n_events: int
    loglik: float
    terms: pd.DataFrame  # TERM_COLUMNS
    interval: str  # how ci_low/ci_high were computed
    p_value_test: str
    note: str = ""

    def table(self) -> pd.DataFrame:
        """One row per term, with the method and separation on every row."""
        out = self.terms.copy()
        out["method"] = self.method
        out["separation"] = self.separation.describe()
        out["interval"] = self.interval
        out["p_value_test"] = self.p_value_test
        out["n"] = self.n
        out["loglik"] = self.loglik
        return out


def design(data: pd.DataFrame, formula: str, source: str = "data") -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Outcome, design matrix, term names and outcome name, or a clear error.

    The formula is parsed by casemeta.stats.formula, which evaluates no Python.
    """
    y_column, X_frame = design_frame(data, formula, source)
    outcome = str(y_column.name)
    values = set(pd.unique(y_column))
    if not pd.api.types.is_numeric_dtype(y_column.dtype) or not values <= {0, 1}:
        shown = sorted(map(str, values))[:10]
        raise CasemetaError(f"{source}: outcome {outcome!r} must be binary 0/1; found values {', '.join(shown)}")
    X = X_frame.to_numpy(dtype=float)
    names = list(X_frame.columns)
    for j, name in enumerate(names):
        if name != "Intercept" and np.all(X[:, j] == X[0, j]):
            raise CasemetaError(f"{source}: predictor {name!r} is constant ({X[0, j]:g} in every case); it cannot be estimated")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise CasemetaError(f"{source}: predictors of {formula!r} are collinear (one is a combination of others): {', '.join(names)}")
    y = y_column.to_numpy(dtype=float)
    if y.min() == y.max():
        raise CasemetaError(f"{source}: outcome {outcome!r} is {int(y[0])} in every case; nothing to model")
    return y, X, names, outcome


def _terms(names, est, se, low, high, p) -> pd.DataFrame:
    frame = pd.DataFrame({"term": names, "estimate": est, "std_error": se, "ci_low": low, "ci_high": high, "p_value": p})
    with np.errstate(over="ignore"):  # a diverging ML estimate has an infinite odds ratio, honestly
        frame["odds_ratio"] = np.exp(frame["estimate"])
        frame["or_ci_low"] = np.exp(frame["ci_low"])
        frame["or_ci_high"] = np.exp(frame["ci_high"])
    return frame[TERM_COLUMNS]


def fit_ml(y, X, names) -> tuple[pd.DataFrame, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation is detected and reported by us, not by a warning
        result = sm.Logit(y, X).fit(disp=0, maxiter=200, method="newton")
    ci = np.asarray(result.conf_int(0.05))
    return _terms(names, result.params, result.bse, ci[:, 0], ci[:, 1], result.pvalues), float(result.llf)


def fit_firth(y, X, names) -> tuple[pd.DataFrame, float]:
    model = FirthLogisticRegression(fit_intercept=False, gtol=TOLERANCE, xtol=TOLERANCE, max_iter=200)
    model.fit(X, y)
    if not model.converged_:
        raise CasemetaError("Firth fit did not converge")
    beta = model.coef_
    # Wald standard errors from the inverse Fisher information at the Firth estimate,
    # as brglm2 and Heinze & Schemper (2002) report them.
    p = 1.0 / (1.0 + np.exp(-X @ beta))
    cov = np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))
    se = np.sqrt(np.diag(cov))
    profile = model.conf_int(alpha=0.05, method="pl", tol=TOLERANCE)
    model.lrt()
    terms = _terms(names, beta, se, profile[:, 0], profile[:, 1], model.lrt_pvalues_)
    terms["plr_chisq"] = stats.chi2.isf(model.lrt_pvalues_, df=1)
    terms["wald_p_value"] = 2 * stats.norm.sf(np.abs(beta / se))
    return terms, float(model.loglik_)


def fit_logistic(data: pd.DataFrame, formula: str, method: str = "auto", source: str = "data") -> ModelFit:
    """Fit `outcome ~ predictors` by ML, Firth, or `auto` (Firth where separation is found)."""
    if method not in ("ml", "firth", "auto"):
        raise CasemetaError(f"method {method!r}: expected ml, firth or auto")
    y, X, names, _ = design(data, formula, source)
    separation = find_separation(X, y, names)
    use = "firth" if method == "firth" or (method == "auto" and separation.found) else "ml"
    note = ""
    if method == "auto" and separation.found:
        note = f"separation found ({separation.describe()}): Firth's penalized likelihood used instead of ML"
    elif method == "ml" and separation.found:
        note = f"WARNING: {separation.describe()}; ML estimates of the separated terms are not finite and must not be reported"
    if use == "firth":
        terms, loglik = fit_firth(y, X, names)
        interval, test = "profile penalized likelihood", "penalized likelihood ratio"
    else:
        terms, loglik = fit_ml(y, X, names)
        interval, test = "Wald", "Wald"
    return ModelFit(formula, use, method, separation, len(y), int(y.sum()), loglik, terms, interval, test, note)
