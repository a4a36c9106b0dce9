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
from statsmodels.discrete.discrete_model import Logit  # not statsmodels.api, which loads every model (~0.2 s more)
from firthmodels import FirthLogisticRegression
from scipy import optimize, stats
from scipy.special import expit

from casemeta.errors import CasemetaError
from casemeta.stats import firth_profile
from casemeta.stats.formula import design_frame, tested_columns
from casemeta.stats.caveats import Caveat, Caveats, merge, render
from casemeta.stats.separation import Separation, find_separation

TERM_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "odds_ratio", "or_ci_low", "or_ci_high"]
TOLERANCE = 1e-8
JOINT_TEST = "joint test: "  # the `term` of a joint test's row: this, then the term set ("joint test: a + b")


@dataclass
class ModelFit:
    formula: str
    method: str  # the method actually used: "ml" or "firth"
    separation: Separation
    n: int
    n_events: int
    loglik: float
    terms: pd.DataFrame  # TERM_COLUMNS
    interval: str  # how ci_low/ci_high were computed
    p_value_test: str
    caveats: Caveats = ()  # about the whole model
    term_caveats: dict[str, Caveats] = field(default_factory=dict)  # about one term's statistics
    tjur_r2: float = float("nan")  # mean fitted probability of the cases with the outcome minus of those without
    correction: str = "none"  # Firth only: none, flic or flac
    tests: list[dict] = field(default_factory=list)  # joint tests of term sets, as rows after the terms

    def table(self) -> pd.DataFrame:
        """One row per term, with the method and separation on every row."""
        out = self.terms.copy()
        out["method"] = self.method
        out["separation"] = self.separation.describe()
        out["separation_kind"] = self.separation.kind
        out["interval"] = self.interval
        out["p_value_test"] = self.p_value_test
        out["n"] = self.n
        out["loglik"] = self.loglik
        row_caveats = [merge(self.caveats, self.term_caveats.get(term, ())) for term in out["term"]]
        for column, value in fit_statistics(self).items():
            out[column] = value
        out["correction"] = self.correction
        if self.tests:
            tests = pd.DataFrame(self.tests)
            row_caveats += [merge(self.caveats, c) for c in tests.pop("caveats")]
            out = pd.concat([out, tests.assign(**{c: out[c].iloc[0] for c in WHOLE_MODEL})], ignore_index=True)
        out["note"] = [render(c) for c in row_caveats]
        out["caveats"] = pd.Series([tuple(c) for c in row_caveats], index=out.index, dtype=object)
        return out


WHOLE_MODEL = ["method", "separation", "separation_kind", "interval", "p_value_test", "n", "loglik", "correction"]
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
    """Maximum likelihood (statsmodels), Wald intervals; caveats name any term without a standard error."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # separation is detected and reported by us; a singular information matrix shows as NaN below
        warnings.simplefilter("ignore")
        try:
            result = Logit(y, X).fit(disp=0, maxiter=200, method="newton")
        except (np.linalg.LinAlgError, ValueError) as exc:  # statsmodels' errors for a singular or separated fit
            raise CasemetaError(f"the ML fit failed ({exc}); use method firth or auto") from None
        ci = np.asarray(result.conf_int(0.05))
        se, p = np.asarray(result.bse), np.asarray(result.pvalues)
    caveats = {name: (Caveat.of("ml_singular", [name], scope="term", blank="se"),)
               for name, s in zip(names, se) if not np.isfinite(s)}
    return _terms(names, result.params, se, ci[:, 0], ci[:, 1], p), float(result.llf), caveats


def _firth_estimate(X, y) -> tuple[np.ndarray, float, str]:
    """(estimate, penalized log-likelihood, who computed it): firthmodels' fit, casemeta's own where it fails."""
    model = FirthLogisticRegression(fit_intercept=False, gtol=TOLERANCE, xtol=TOLERANCE, max_iter=200)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # every failure it warns about leaves converged_ False, and casemeta's own fit is tried
        warnings.simplefilter("ignore")
        try:
            model.fit(X, y)
            if model.converged_:
                return np.asarray(model.coef_, dtype=float), float(model.loglik_), "firthmodels"
        except (ValueError, np.linalg.LinAlgError):
            pass
    own = firth_profile.fit(X, y)
    if not own.converged:
        raise CasemetaError(f"Firth fit did not converge ({own.reason})")
    return own.beta, own.loglik, "casemeta"


def _covariance(info: np.ndarray) -> np.ndarray | None:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None


@dataclass
class _Inference:
    """What one fit's inference needs: data, estimate, its log-likelihood and quantities there."""
    X: np.ndarray
    y: np.ndarray
    beta: np.ndarray
    loglik: float
    at_hat: firth_profile.Quantities
    cov: np.ndarray | None
    weights: np.ndarray | None = None
    firth: bool = True

    @classmethod
    def at(cls, X, y, beta, loglik, weights=None, firth=True) -> "_Inference":
        at_hat = firth_profile.quantities(beta, X, y, weights, firth)
        return cls(X, y, beta, loglik, at_hat, _covariance(at_hat.info), weights, firth)

    def se(self) -> np.ndarray:
        """Wald standard errors from the inverse Fisher information at the estimate, as brglm2 and
        Heinze & Schemper (2002) report them."""
        return np.sqrt(np.diag(self.cov)) if self.cov is not None else np.full(len(self.beta), np.nan)

    def together(self, tests=(), limits=()) -> tuple[list[tuple[float, float, str]], list[tuple[float, str]]]:
        """test() of every set in `tests` and limit() of every (j, side) in `limits`, computed together (faster)."""
        return firth_profile.inference(self.X, self.y, self.beta, self.loglik, self.cov, tests, limits,
                                       weights=self.weights, firth=self.firth, at_hat=self.at_hat)


def _term_statistics(inf: _Inference, names, interval: str, skip=()) -> tuple[pd.DataFrame, dict[str, list]]:
    """Each term's LR test and interval (profile or Wald); failures by term. Terms in `skip` get neither."""
    k = len(names)  # FLAC's indicator of the added copies comes after the reported coefficients
    beta, se = inf.beta[:k], inf.se()[:k]
    chisq, p, limits = np.full(k, np.nan), np.full(k, np.nan), np.full((k, 2), np.nan)
    failed: dict[str, list] = {}
    z = stats.norm.ppf(0.975)
    wanted = [j for j, name in enumerate(names) if name not in skip]
    sides = [(j, side) for j in wanted for side in (-1, 1)] if interval != "wald" else []
    tested, found = inf.together(wanted, sides)
    for j, (chisq_j, p_j, why) in zip(wanted, tested):
        chisq[j], p[j] = chisq_j, p_j
        failed[names[j]] = [("plr_p" if inf.firth else "lr_p", why)] if why else []
        if interval == "wald":
            limits[j] = beta[j] - z * se[j], beta[j] + z * se[j]
    for (j, side), (limit, why) in zip(sides, found):
        limits[j, 0 if side < 0 else 1] = limit
        if why:
            failed[names[j]].append(("lower" if side < 0 else "upper", why))
    terms = _terms(names, beta, se, limits[:, 0], limits[:, 1], p)
    terms["plr_chisq"] = chisq
    with np.errstate(all="ignore"):
        terms["wald_p_value"] = 2 * stats.norm.sf(np.abs(beta / se))
    return terms, failed


def fit_firth(y, X, names, interval: str = "profile", correction: str = "none") -> tuple[pd.DataFrame, float, dict[str, Caveats], _Inference]:
    """Firth fit (with FLIC or FLAC if asked), PLR p-values and profile (or Wald) limits, by casemeta's own
    fast inference (firth_profile); caveats say what could not be computed and why. Also returns the
    (uncorrected) Firth inference, for joint tests."""
    beta, loglik, by = _firth_estimate(X, y)
    inf = _Inference.at(X, y, beta, loglik)
    reported = _flac(inf) if correction == "flac" else inf
    skip = ("Intercept",) if correction == "flic" else ()
    terms, failed = _term_statistics(reported, names, interval, skip)
    if correction == "flic":
        _flic_intercept(inf, names, terms)
    singular = reported.cov is None
    caveats = {name: _firth_caveats(name, by, failed.get(name, []), singular) for name in names}
    if correction == "flic" and "Intercept" in names:
        caveats["Intercept"] = merge(caveats["Intercept"], Caveat.of("flic_intercept", ["Intercept"], scope="term"))
    return terms, loglik, {name: c for name, c in caveats.items() if c}, inf


def _flic_intercept(inf: _Inference, names, terms: pd.DataFrame) -> None:
    """FLIC (Puhr et al. 2017): keep Firth's slopes, re-estimate the intercept by ML so that the mean
    predicted probability equals the event rate; its standard error from the Fisher information of the
    full design at the FLIC fit, as logistf's flic() computes it."""
    if "Intercept" not in names:
        raise CasemetaError("FLIC re-estimates the intercept: the model has none")
    j = names.index("Intercept")
    offset = inf.X @ inf.beta - inf.beta[j]
    # the event rate is reached where sum(y - expit(a + offset)) = 0: monotone in a, one root
    rate_gap = lambda a: float(np.sum(inf.y - expit(a + offset)))  # noqa: E731
    low, high = inf.beta[j] - 1.0, inf.beta[j] + 1.0
    while rate_gap(low) < 0:
        low -= 2 * (high - low)
    while rate_gap(high) > 0:
        high += 2 * (high - low)
    a = optimize.brentq(rate_gap, low, high, xtol=1e-14, rtol=1e-15)
    beta = inf.beta.copy()
    beta[j] = a
    se = np.sqrt(np.linalg.inv(firth_profile.quantities(beta, inf.X, inf.y, firth=False).info)[j, j])
    z = stats.norm.ppf(0.975)
    terms.loc[j, ["estimate", "std_error", "ci_low", "ci_high", "p_value"]] = [a, se, a - z * se, a + z * se, 2 * stats.norm.sf(abs(a / se))]
    terms.loc[j, ["odds_ratio", "or_ci_low", "or_ci_high"]] = np.exp(terms.loc[j, ["estimate", "ci_low", "ci_high"]].to_numpy(float))
    terms.loc[j, "wald_p_value"] = terms.loc[j, "p_value"]


def _flac(firth: _Inference) -> _Inference:
    """FLAC (Puhr et al. 2017, as logistf's flac()): ML on the data augmented by two weighted copies of every
    case (outcomes y and 1 - y, weights h/2 with h the Firth hat values) and an indicator of the copies;
    the indicator is dropped from what is reported. Its inference is ordinary (weighted) likelihood."""
    n, k = firth.X.shape
    X = np.vstack([np.c_[firth.X, np.zeros(n)], np.c_[firth.X, np.ones(n)], np.c_[firth.X, np.ones(n)]])
    y = np.concatenate([firth.y, firth.y, 1 - firth.y])
    weights = np.concatenate([np.ones(n), firth.at_hat.hat / 2, firth.at_hat.hat / 2])
    found = firth_profile.maximize(X, y, np.r_[firth.beta, 0.0], weights=weights, firth=False)
    if not found.converged:
        raise CasemetaError(f"FLAC fit did not converge ({found.reason})")
    return _Inference.at(X, y, found.beta, found.loglik, weights, firth=False)


def _firth_caveats(name: str, by: str, failed: list[tuple[str, str]], singular: bool) -> Caveats:
    """Whose estimate it is if not firthmodels', which statistics none could compute and why."""
    return merge(
        Caveat.of("firth_own_fit", [name], scope="term") if by == "casemeta" else None,
        [Caveat.of("error", [name], scope="term", blank=blank, reason=why) for blank, why in failed],
        Caveat.of("firth_singular", [name], scope="term", blank="se_wald") if singular else None,
    )


def joint_tests(inf: _Inference, formula: str, names: list[str], term_sets) -> list[dict]:
    """A (penalized) likelihood-ratio test of each term set's coefficients all being 0: the nested model
    without them against the full one. Penalized tests keep the full design's penalty, as logistf's do."""
    kind = "penalized likelihood-ratio" if inf.firth else "likelihood-ratio"
    rows = []
    columns = [tested_columns(formula, tested, names) for tested in term_sets]
    for tested, fixed, (chisq, p, why) in zip(term_sets, columns, inf.together(columns)[0]):
        terms = [t.strip() for t in tested.split("+")]
        caveat = (Caveat.of("joint_test", terms, kind=kind, df=len(fixed), chisq=float(chisq)) if not why
                  else Caveat.of("error", terms, blank="joint_test", reason=why))
        rows.append({"term": f"{JOINT_TEST}{tested}", "tested": tested, "p_value": p, "plr_chisq": chisq, "caveats": (caveat,)})
    return rows


def fit_logistic(data: pd.DataFrame, formula: str, method: str = "auto", source: str = "data", correction: str = "none",
                 tests=(), interval: str = "profile", firth_fits: dict | None = None) -> ModelFit:
    """Fit `outcome ~ predictors` by ML, Firth, or `auto` (Firth where separation is found).

    Firth fits take a `correction` (flic or flac: predicted probabilities unbiased on average) and an
    `interval` (profile, or wald for speed at large n); `tests` are term sets ("a + b") to test jointly.
    `firth_fits`, where given, keeps each Firth fit by its exact data and settings and reuses it (the fit is
    read, never changed, by what follows): a caller fitting many similar data sets (the multiverse) fits each
    once.
    """
    if method not in ("ml", "firth", "auto"):
        raise CasemetaError(f"method {method!r}: expected ml, firth or auto")
    if correction not in CORRECTIONS or interval not in ("profile", "wald"):
        raise CasemetaError(f"correction {correction!r}, interval {interval!r}: expected {', '.join(CORRECTIONS)}; profile or wald")
    if method == "ml" and correction != "none":
        raise CasemetaError(f"correction {correction}: FLIC and FLAC correct Firth fits; use method firth or auto")
    if len(data) == 0:
        raise CasemetaError(f"{source}: no cases to fit {formula!r} to")
    y, X, names, _ = design(data, formula, source)
    separation = find_separation(X, y, names)
    use = "firth" if method == "firth" or (method == "auto" and separation.found) else "ml"
    caveats: Caveats = ()
    if separation.found and method in ("auto", "ml"):
        caveats = (Caveat.of("separation_firth" if method == "auto" else "separation_ml",
                             [t[1:] for t in separation.infinite_terms], scope="model", kind=separation.kind,
                             signs=[t[0] for t in separation.infinite_terms]),)
    for tested in tests:  # a bad term set stops before any fitting
        tested_columns(formula, tested, names)
    if use == "firth":
        if firth_fits is None:
            fitted = fit_firth(y, X, names, interval, correction)
        else:
            key = (y.tobytes(), X.tobytes(), X.shape, tuple(names), interval, correction)
            if key not in firth_fits:
                firth_fits[key] = fit_firth(y, X, names, interval, correction)
            fitted = firth_fits[key]
        terms, loglik, term_caveats, inf = fitted
        shown = "Wald" if interval == "wald" else "profile penalized likelihood"
        if correction == "flac":  # FLAC is ML on augmented data: its intervals and tests are ordinary likelihood ones
            shown, test = ("Wald" if interval == "wald" else "profile likelihood") + " (FLAC's augmented data)", "likelihood ratio (FLAC's augmented data)"
        else:
            test = "penalized likelihood ratio"
    else:
        terms, loglik, term_caveats = fit_ml(y, X, names)
        shown, test = "Wald", "Wald"
        if correction != "none":
            caveats = merge(caveats, Caveat.of("correction_not_applied", scope="model", correction=correction))
            correction = "none"
        inf = _Inference.at(X, y, terms["estimate"].to_numpy(float), loglik, firth=False) if tests else None
    rows = joint_tests(inf, formula, names, tests) if tests else []  # on Firth's (uncorrected) penalized likelihood
    return ModelFit(formula, use, separation, len(y), int(y.sum()), loglik, terms, shown, test, caveats, term_caveats,
                    tjur_r2(y, X, terms["estimate"]), correction, rows)


CORRECTIONS = ("none", "flic", "flac")
