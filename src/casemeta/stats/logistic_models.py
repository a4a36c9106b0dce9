"""Logistic regression that stays honest under separation: ML, Firth, or `auto`.

Maximum likelihood (statsmodels) is used where the data do not separate;
Firth's penalized likelihood (firthmodels) gives finite estimates where they
do, with profile penalized-likelihood intervals and penalized likelihood-ratio
tests. Separation is always looked for and always reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from firthmodels import FirthLogisticRegression
from scipy import stats

from casemeta.errors import CasemetaError
from casemeta.stats import firth_profile
from casemeta.stats.formula import design_frame
from casemeta.stats.notes import join_notes
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
    note: str = ""  # about the whole model
    term_notes: dict[str, str] = field(default_factory=dict)  # about one term's statistics
    tjur_r2: float = float("nan")  # mean fitted probability of the cases with the outcome minus of those without

    def table(self) -> pd.DataFrame:
        """One row per term, with the method and separation on every row."""
        out = self.terms.copy()
        out["method"] = self.method
        out["separation"] = self.separation.describe()
        out["interval"] = self.interval
        out["p_value_test"] = self.p_value_test
        out["n"] = self.n
        out["loglik"] = self.loglik
        out["note"] = [join_notes(self.note, self.term_notes.get(term, "")) for term in out["term"]]
        for column, value in fit_statistics(self).items():
            out[column] = value
        return out


FIT_COLUMNS = ["n_events", "loglik_kind", "aic", "bic", "tjur_r2"]


def fit_statistics(fit: ModelFit) -> dict:
    """What a model table shows under the coefficients, beside N and the log-likelihood.

    AIC = -2 loglik + 2k and BIC = -2 loglik + k ln(n), k the number of coefficients (R's AIC() and
    BIC() of a glm). For a Firth fit the log-likelihood is the penalized one, so its AIC and BIC are
    too (loglik_kind says which): they compare Firth fits with each other, not with ML fits.
    """
    k = len(fit.terms)
    return {"n_events": fit.n_events, "loglik_kind": "penalized" if fit.method == "firth" else "ordinary",
            "aic": -2 * fit.loglik + 2 * k, "bic": -2 * fit.loglik + k * np.log(fit.n), "tjur_r2": fit.tjur_r2}


def tjur_r2(y: np.ndarray, X: np.ndarray, beta) -> float:
    """Tjur's (2009) coefficient of discrimination: mean fitted probability among the cases with the
    outcome minus the mean among those without."""
    with np.errstate(over="ignore"):  # a diverging ML estimate gives probabilities of exactly 0 or 1
        fitted = 1 / (1 + np.exp(-(X @ np.asarray(beta, dtype=float))))
    return float(fitted[y == 1].mean() - fitted[y == 0].mean())


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


def fit_ml(y, X, names) -> tuple[pd.DataFrame, float, dict[str, str]]:
    """Maximum likelihood (statsmodels), Wald intervals; notes name any term without a standard error."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # separation is detected and reported by us; a singular information matrix shows as NaN below
        warnings.simplefilter("ignore")
        try:
            result = sm.Logit(y, X).fit(disp=0, maxiter=200, method="newton")
        except (np.linalg.LinAlgError, ValueError) as exc:  # statsmodels' errors for a singular or separated fit
            raise CasemetaError(f"the ML fit failed ({exc}); use method firth or auto") from None
        ci = np.asarray(result.conf_int(0.05))
        se, p = np.asarray(result.bse), np.asarray(result.pvalues)
    notes = {name: "standard error, interval and p-value not computed: the ML information matrix cannot be inverted"
             for name, s in zip(names, se) if not np.isfinite(s)}
    return _terms(names, result.params, se, ci[:, 0], ci[:, 1], p), float(result.llf), notes


@dataclass
class _Firth:
    """A Firth estimate with whatever firthmodels gave; NaN where it gave nothing."""
    beta: np.ndarray
    loglik: float
    p_value: np.ndarray
    limits: np.ndarray  # (k, 2)
    by: str  # who computed the estimate


def _firth_library(X, y) -> _Firth | None:
    """firthmodels' fit, penalized LR tests and profile limits; None if its fit fails."""
    model = FirthLogisticRegression(fit_intercept=False, gtol=TOLERANCE, xtol=TOLERANCE, max_iter=200)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # every failure it warns about leaves NaN or converged_ False, which the caller handles and notes
        warnings.simplefilter("ignore")
        try:
            model.fit(X, y)
            if not model.converged_:
                return None
            model.lrt()
            limits = model.conf_int(alpha=0.05, method="pl", tol=TOLERANCE)
        except (ValueError, np.linalg.LinAlgError):
            return None
    return _Firth(model.coef_, float(model.loglik_), model.lrt_pvalues_.copy(), np.array(limits, dtype=float), "firthmodels")


def fit_firth(y, X, names) -> tuple[pd.DataFrame, float, dict[str, str]]:
    """Firth fit, PLR p-values and profile limits; casemeta's own computation wherever firthmodels gives none."""
    found = _firth_library(X, y)
    if found is None:
        own = firth_profile.fit(X, y)
        if not own.converged:
            raise CasemetaError(f"Firth fit did not converge ({own.reason})")
        k = len(names)
        found = _Firth(own.beta, own.loglik, np.full(k, np.nan), np.full((k, 2), np.nan), "casemeta")
    beta = found.beta
    # Wald standard errors from the inverse Fisher information at the Firth estimate,
    # as brglm2 and Heinze & Schemper (2002) report them.
    try:
        cov = np.linalg.inv(firth_profile.quantities(beta, X, y).info)
        se = np.sqrt(np.diag(cov))
    except np.linalg.LinAlgError:
        cov, se = None, np.full(len(beta), np.nan)
    chisq = stats.chi2.isf(found.p_value, df=1)
    notes = {}
    for j, name in enumerate(names):
        filled, failed = [], []
        if np.isnan(found.p_value[j]):
            chisq[j], found.p_value[j], why = firth_profile.lr_test(X, y, beta, found.loglik, cov, j)
            (failed if why else filled).append(("penalized LR p-value", why))
        for col, word in ((0, "lower"), (1, "upper")):
            if np.isnan(found.limits[j, col]):
                found.limits[j, col], why = firth_profile.profile_limit(X, y, beta, found.loglik, cov, j, 2 * col - 1)
                (failed if why else filled).append((f"{word} profile limit", why))
        notes[name] = _firth_note(found.by, filled, failed, cov is None)
    terms = _terms(names, beta, se, found.limits[:, 0], found.limits[:, 1], found.p_value)
    terms["plr_chisq"] = chisq
    with np.errstate(all="ignore"):
        terms["wald_p_value"] = 2 * stats.norm.sf(np.abs(beta / se))
    return terms, found.loglik, {name: note for name, note in notes.items() if note}


def _firth_note(by: str, filled: list[tuple[str, str]], failed: list[tuple[str, str]], singular: bool) -> str:
    """Which of a term's statistics casemeta computed itself, and which none could compute, and why."""
    what = " and ".join(w for w, _ in filled)
    if by == "casemeta":
        done = f"Firth estimate{', ' + what if what else ''} by casemeta's own fit (firthmodels' fit did not converge)"
    else:
        done = f"{what} by casemeta's own constrained refit (firthmodels gave none)" if what else ""
    return join_notes(
        done,
        *(f"{w} not computed: {why}" for w, why in failed),
        "standard error and Wald p-value not computed: the Fisher information is singular at the estimate" if singular else "",
    )


def fit_logistic(data: pd.DataFrame, formula: str, method: str = "auto", source: str = "data") -> ModelFit:
    """Fit `outcome ~ predictors` by ML, Firth, or `auto` (Firth where separation is found)."""
    if method not in ("ml", "firth", "auto"):
        raise CasemetaError(f"method {method!r}: expected ml, firth or auto")
    if len(data) == 0:
        raise CasemetaError(f"{source}: no cases to fit {formula!r} to")
    y, X, names, _ = design(data, formula, source)
    separation = find_separation(X, y, names)
    use = "firth" if method == "firth" or (method == "auto" and separation.found) else "ml"
    note = ""
    if method == "auto" and separation.found:
        note = f"separation found ({separation.describe()}): Firth's penalized likelihood used instead of ML"
    elif method == "ml" and separation.found:
        note = f"WARNING: {separation.describe()}; ML estimates of the separated terms are not finite and must not be reported"
    if use == "firth":
        terms, loglik, term_notes = fit_firth(y, X, names)
        interval, test = "profile penalized likelihood", "penalized likelihood ratio"
    else:
        terms, loglik, term_notes = fit_ml(y, X, names)
        interval, test = "Wald", "Wald"
    return ModelFit(formula, use, method, separation, len(y), int(y.sum()), loglik, terms, interval, test, note, term_notes,
                    tjur_r2(y, X, terms["estimate"]))
