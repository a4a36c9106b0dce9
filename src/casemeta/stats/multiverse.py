"""A study's findings across a multiverse of coding and analysis decisions: frames in, frames out.

Every combination of one option per decision of the plan's `robustness:` section is a universe. Each
universe's data (built by casemeta.coded.universes) are analysed by the functions of the main run
(study_analysis.test_row, the test of crosstab_rows, for the cross-tab tests; study_analysis.model_fit, i.e. fit_logistic, for every
model of the plan), and each model term and each test becomes one row per universe: its specification.

Definitions (README "Robustness" states them for readers):

- universe 1 is the study's own coding (the first option of every decision); universes are numbered in the
  order of itertools.product over the decisions (the last decision varies fastest);
- a model term's rows are its design columns other than the intercept (joint tests are left out);
- `share_same_sign`: among the universes where the term (test) has an estimate (an odds ratio), the share
  whose estimate has the sign of universe 1's (the log odds ratio's sign, for a test); blank where
  universe 1 has none or it is 0 (|estimate| < 1e-8: a balanced term's Firth estimate is 0 up to rounding);
- `share_significant`: among the universes with a p-value, the share with p < 0.05;
- odds-ratio median and range: over the universes with an estimate (exp of the log-odds estimate; a
  test's own odds ratio, 2 x 2 tables only);
- the decision that `moves` a finding most: for each decision, the median of the term's estimate (for a
  test: of its p-value, which every test has) over the universes taking each of its options; the decision
  whose option medians lie furthest apart (largest max - min) moves it most, the first in plan order on a
  tie (distances within 1e-8 tie); `moved_by` is that distance (log-odds, or p-value). A decision with one
  option moves nothing; where no distance exceeds 1e-8 (rounding), `moves_most` is blank and `moved_by` 0.

Specification-curve inference (Simonsohn, Simmons & Nelson 2020, Nature Human Behaviour 4:1208; as specr's
boot_null and its summary): for each model term the curve's median estimate and its numbers of significant
(p < 0.05) positive and negative estimates, each with the share of curves drawn under the null that are at
least as extreme (median: at least as far from 0 on the observed side; counts: at least as many). specr
removes the effect from a linear model's outcome (y - b x) and resamples cases. A binary outcome cannot be
shifted, so the null data are drawn from the model itself (a parametric bootstrap): in each universe the
model is refitted with the term held at 0 (the same likelihood, ML or Firth's penalized one, as the fit
that estimated it), and each draw's outcome is y* = 1[u < p0], p0 the fitted probabilities of that null fit
and u a uniform per case and draw shared by every universe (common random numbers: as specr's one bootstrap
sample per draw for all specifications, it keeps the universes' dependence). The predictors stay as coded.
Each draw refits the model as the universe's method does (`refit`: Firth where asked or where `auto` finds
separation, with its penalized likelihood-ratio p-value; else ML with its Wald p-value); only the estimate
and the p-value are needed. A draw whose refit fails (a constant outcome, no convergence) counts as neither
significant nor in the median. Under FLIC or FLAC the null and the draws use the uncorrected Firth fit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from casemeta.coded.codebook import Codebook, dependents
from casemeta.stats.caveats import column as caveat_rows

# The fitting modules (study_analysis, logistic_models, firth_profile: statsmodels, scikit-learn, SciPy's
# statistics) are imported inside the functions that fit, which only the chunk jobs run: the gathering job
# only summarizes, and importing them cost it about 2 s of CPU.

ALPHA = 0.05
SPEC_FIELDS = ["model", "outcome", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "method", "n", "notes"]
CROSSTAB_FIELDS = ["outcome", "condition", "test", "p_value", "odds_ratio", "cramers_v", "n", "notes"]
NULL_FIELDS = ["model", "term", "draw", "estimate", "p_value"]
SUMMARY_COLUMNS = ["model", "outcome", "term", "universes", "estimated", "own_estimate", "own_odds_ratio", "own_p_value",
                   "share_same_sign", "share_significant", "odds_ratio_median", "odds_ratio_min", "odds_ratio_max",
                   "moves_most", "moved_by"]
INFERENCE_COLUMNS = ["model", "term", "specifications", "median", "share_median", "n_positive_significant",
                     "share_positive", "n_negative_significant", "share_negative", "draws", "seed"]
CROSSTAB_SUMMARY_COLUMNS = ["outcome", "condition", "universes", "tested", "own_p_value", "own_odds_ratio",
                            "share_same_sign", "share_significant", "odds_ratio_median", "odds_ratio_min",
                            "odds_ratio_max", "moves_most", "moved_by"]


@dataclass(frozen=True)
class Universe:
    number: int  # 1 is the study's own coding
    options: tuple  # one plan.Option per decision

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)


def universes(robustness) -> list[Universe]:
    """Every combination of one option per decision, universe 1 the first options (the study's own coding)."""
    combos = itertools.product(*(d.options for d in robustness.decisions))
    return [Universe(i, tuple(c)) for i, c in enumerate(combos, 1)]


def chunk(items: list, index: int, chunks: int) -> list:
    """Part `index` (1-based) of `chunks` contiguous, nearly equal parts (of chunk_order's universes, the
    chunks share as few fits as the decisions allow)."""
    if not 1 <= index <= chunks:
        raise ValueError(f"chunk {index} of {chunks}")
    bounds = np.linspace(0, len(items), chunks + 1).round().astype(int)
    return items[bounds[index - 1]:bounds[index]]


def _fits_moved(option, plan, codebook: Codebook) -> set[tuple]:
    """The plan's fits (models and cross-tab tests) whose data or settings the option may change."""
    models = {("model", m.name): {m.outcome, *m.variables} for m in plan.models}
    tests = {("crosstab", o, c): {o, c} for o, c in plan.crosstabs.pairs}
    if option.exclude:  # cases left out: every fit's data
        return {*models, *tests}
    changed = dependents(codebook, {*option.derived, *option.coded})
    moved = {fit for fit, names in {**models, **tests}.items() if names & changed}
    return moved | set(models) if option.models else moved


def chunk_order(plan, codebook: Codebook) -> list[Universe]:
    """The universes in the order chunk() splits them: the decision whose options change the most fits varies
    slowest, so that chunks differ there and share few fits (a chunk reuses fits only within itself). Split
    on the first decision of the 25 clusters' benchmark (what counts as dynamic, which 8 of its 12 models do not
    read), both chunks fitted those 8 models in every universe; split on a case left out, they share none.
    Ties keep plan order; the universes keep their numbers (the gather job sorts by them). The reach is read from
    the codebook's own rules (not the rules other options put in their place): it decides only how the work
    is split, never a result."""
    decisions = plan.robustness.decisions
    reach = [len(set().union(*(_fits_moved(o, plan, codebook) for o in d.options))) for d in decisions]
    order = sorted(range(len(decisions)), key=lambda i: -reach[i])  # stable: ties in plan order
    position = [{id(o): j for j, o in enumerate(d.options)} for d in decisions]
    return sorted(universes(plan.robustness),
                  key=lambda u: tuple(position[i][id(u.options[i])] for i in order))


def merged(universe: Universe) -> dict:
    """The universe's replaced rules, exclusions and model settings, from all its options."""
    out = {"derived": {}, "coded": {}, "exclude": [], "models": {}}
    for option in universe.options:
        out["derived"].update(option.derived)
        out["coded"].update(option.coded)
        out["models"].update(option.models)
        if option.exclude:
            out["exclude"].append(option.exclude)
    return out


def universe_models(plan, universe: Universe) -> list:
    """The plan's models with the universe's method and correction."""
    settings = merged(universe)["models"]
    return [replace(m, **settings) for m in plan.models] if settings else list(plan.models)


def _key(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """The data of these columns, row by row and in order (NA kept), as bytes: what a fit depends on, to
    the last bit (a fit of the same rows in another order may differ there)."""
    parts = [len(frame).to_bytes(8, "little")]
    for c in columns:
        values = frame[c]
        if pd.api.types.is_numeric_dtype(values.dtype):
            parts.append(values.to_numpy(dtype=float, na_value=np.nan).tobytes())
        else:
            parts.append("\x1f".join("\x00" if pd.isna(v) else str(v) for v in values).encode())
    return b"\x1e".join(parts)


def _counts(frame: pd.DataFrame, outcome: str, condition: str) -> tuple:
    """How many cases take each (condition, outcome) pair, blanks included: all a cross-tab and its test
    (and the caveats about blanks) depend on."""
    from collections import Counter

    pairs = zip(frame[condition].to_numpy(dtype=object, na_value=None), frame[outcome].to_numpy(dtype=object, na_value=None))
    return tuple(sorted(Counter((None if c is None else str(c), None if o is None else str(o))
                                for c, o in pairs).items(), key=repr))


class Memo(dict):
    """Results already computed in this process, keyed by everything they depend on (the function's settings
    and the exact data of the columns it reads): a universe whose data for a test or model are those of an
    earlier one reuses its result instead of recomputing the same numbers. Universes often share them (a
    decision about one variable leaves every model without it as it was).

    `firth` holds the Firth fits by their exact data (fit_logistic's `firth_fits`): a model fitted by Firth
    because its cases separate (method auto) and the same model with method firth are the same fit, though
    their rows differ in what they say about separation."""

    def __init__(self):
        super().__init__()
        self.firth: dict = {}

    def get_or(self, key, compute):
        if key not in self:
            self[key] = compute()
        return self[key]


def notes(caveats) -> str:
    """A row's caveat codes, each once, in order ("; "-joined)."""
    return "; ".join(dict.fromkeys(c.code for c in caveats))


def model_specifications(frame: pd.DataFrame, models, source: str, memo: Memo) -> tuple[pd.DataFrame, dict]:
    """One row per model term (its estimate, interval, p-value, method, n, caveat codes) of every model on the
    universe's data; and each model's fit and cases, for the null draws."""
    rows, fits = [], {}
    for m in models:
        key = ("model", m.name, m.formula, m.method, m.correction, m.tests, _key(frame, [m.outcome, *m.variables]))
        # the fit and its specification rows, made once per model and data (a universe that reuses a fit
        # reuses its rows too: building them was a fifth of a reused model's cost)
        spec_rows, fit, cases = memo.get_or(key, lambda: _fit_and_rows(frame, m, source, memo.firth))
        fits[m.name] = (m, fit, cases)
        rows += spec_rows
    return pd.DataFrame(rows, columns=SPEC_FIELDS), fits


def _fit_and_rows(frame: pd.DataFrame, m, source: str, firth_fits: dict | None = None) -> tuple[list[dict], object, pd.DataFrame]:
    """One model's specification rows (its terms, without the intercept and joint tests), its fit and cases."""
    from casemeta.stats.logistic_models import JOINT_TEST
    from casemeta.stats.study_analysis import model_fit

    table, fit, cases = model_fit(frame, m, source, firth_fits=firth_fits)
    codes = [notes(c) for c in caveat_rows(table)]
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        term = getattr(row, "term", None)
        if isinstance(term, str) and (term == "Intercept" or term.startswith(JOINT_TEST)):
            continue
        rows.append({"model": m.name, "outcome": m.outcome, "term": term if isinstance(term, str) else "",
                     **{c: getattr(row, c, np.nan) for c in ("estimate", "std_error", "ci_low", "ci_high", "p_value")},
                     "method": getattr(row, "method", "") if fit is not None else "", "n": row.n, "notes": codes[i]})
    return rows, fit, cases


def crosstab_specifications(frame: pd.DataFrame, plan, codebook: Codebook, draws: int, seed: int, memo: Memo) -> pd.DataFrame:
    """One row per cross-tab test of the plan on the universe's data (crosstab_rows, as the main run)."""
    from casemeta.stats.study_analysis import test_row

    rows = []
    for outcome, condition in plan.crosstabs.pairs:
        key = ("crosstab", outcome, condition, draws, seed, _counts(frame, outcome, condition))
        test = memo.get_or(key, lambda: test_row(frame, outcome, condition, codebook, draws, seed))
        rows.append({**{c: test[c] for c in CROSSTAB_FIELDS if c in test}, "notes": notes(test["caveats"])})
    return pd.DataFrame(rows, columns=CROSSTAB_FIELDS)


def case_uniforms(case_ids: list[str], draws: int, seed: int) -> dict[str, np.ndarray]:
    """Each case's uniform for each draw: draw b's are numpy's PCG64 from SeedSequence([seed, b]), in the
    order of the sorted case ids, so a case has the same uniforms in every universe and every chunk."""
    ordered = sorted(case_ids)
    table = np.array([np.random.default_rng([seed, b]).random(len(ordered)) for b in range(draws)]).reshape(draws, len(ordered))
    return {case: table[:, i] for i, case in enumerate(ordered)}


def _null_probabilities(m, fit, cases: pd.DataFrame, term: str, source: str) -> np.ndarray | None:
    """Fitted probabilities of the model refitted with `term` held at 0 (the fit's own likelihood), or None."""
    from scipy.special import expit

    from casemeta.stats import firth_profile
    from casemeta.stats.logistic_models import design

    y, X, names, _ = design(cases, m.formula, source)
    if term not in names:
        return None
    j = names.index(term)
    beta = fit.terms["estimate"].to_numpy(float)
    if not np.isfinite(beta).all():
        return None
    start = beta.copy()
    start[j] = 0.0
    found = firth_profile.maximize(X, y, start, fixed=j, firth=fit.method == "firth")
    return expit(X @ found.beta) if found.converged else None


def null_draws(fits: dict, id_column: str, uniforms: dict[str, np.ndarray], source: str, memo: Memo) -> pd.DataFrame:
    """Every model term of one universe refitted on each draw of its null data: (model, term, draw,
    estimate, p_value); a failed refit gives blanks."""
    from casemeta.stats.logistic_models import design
    from casemeta.stats.separation import find_separation

    frames = []
    for name, (m, fit, cases) in fits.items():
        if fit is None:
            continue
        u = np.column_stack([uniforms[c] for c in cases[id_column]])  # draws x cases
        data_key = _key(cases, [m.outcome, *m.variables])
        _, X, names, _ = design(cases, m.formula, source)
        for term in fit.terms["term"]:
            if term == "Intercept" or term not in names:
                continue
            j = names.index(term)
            p0 = memo.get_or(("null", m.formula, fit.method, term, data_key),
                             lambda: _quiet_null(m, fit, cases, term, source))
            draws = np.arange(1, u.shape[0] + 1)
            if p0 is None:
                estimate = p_value = np.full(len(draws), np.nan)
            else:
                Y = (u < p0).astype(float)
                firth = np.full(len(Y), m.method == "firth")
                if m.method == "auto":  # as fit_logistic: Firth where the draw's cases separate
                    firth = np.array([y.min() != y.max() and find_separation(X, y, names).found for y in Y])
                key = ("draws", m.formula, term, data_key, np.packbits(Y.astype(bool)).tobytes(), firth.tobytes())
                estimate, p_value = memo.get_or(key, lambda: refit_draws(X, Y, j, firth))
            frames.append(pd.DataFrame({"model": name, "term": term, "draw": draws, "estimate": estimate, "p_value": p_value}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=NULL_FIELDS)


def _quiet_null(m, fit, cases, term, source):
    from casemeta.stats.study_analysis import FIT_ERRORS, quietly

    try:
        return quietly(_null_probabilities, m, fit, cases, term, source)[0]
    except FIT_ERRORS:
        return None


MAX_ITER, MAX_HALVINGS, MAX_STEP, GTOL, DECREMENT_TOL = 200, 40, 5.0, 1e-9, 1e-20  # as firth_profile's


def _batch_quantities(beta: np.ndarray, X: np.ndarray, Y: np.ndarray, firth: np.ndarray):
    """firth_profile.quantities for a batch: (log-likelihood, score, information) of each row of beta (B x k)
    with outcome Y (B x n); Firth's penalty where `firth` (B) is true. -inf where the information is singular."""
    from scipy.special import expit, log_expit

    with np.errstate(all="ignore"):
        eta = beta @ X.T
        p = expit(eta)
        w = p * (1 - p)
        info = np.einsum("bn,ni,nj->bij", w, X, X)
        loglik = np.sum(np.where(Y > 0.5, log_expit(eta), log_expit(-eta)), axis=1)
        resid = Y - p
        ok = np.ones(len(Y), bool)
        try:
            chol = np.linalg.cholesky(info)
        except np.linalg.LinAlgError:  # some draw's information is singular: factor one by one
            chol = np.zeros_like(info)
            for b in range(len(info)):
                try:
                    chol[b] = np.linalg.cholesky(info[b])
                except np.linalg.LinAlgError:
                    ok[b] = False
                    chol[b] = np.eye(info.shape[1])
        if firth.any():
            half = np.linalg.solve(chol, (X * 1.0)[None].transpose(0, 2, 1) * np.sqrt(w)[:, None, :])
            hat = np.einsum("bkn,bkn->bn", half, half)
            penalty = np.sum(np.log(np.abs(np.diagonal(chol, axis1=1, axis2=2))), axis=1)
            loglik = loglik + np.where(firth, penalty, 0.0)
            resid = resid + np.where(firth[:, None], hat * (0.5 - p), 0.0)
        score = resid @ X
    bad = ~ok | ~np.isfinite(loglik) | ~np.isfinite(score).all(axis=1)
    return np.where(bad, -np.inf, loglik), score, info, bad


def batch_maximize(X: np.ndarray, Y: np.ndarray, firth: np.ndarray, fixed: int | None = None):
    """firth_profile.maximize for a batch of outcomes on one design, each from 0 (coefficient `fixed` held at
    0): Newton steps with the Fisher information, steps capped at MAX_STEP and halved until the (penalized)
    log-likelihood rises, stopped by the same tests. Written here because the null draws of a universe are
    hundreds of fits of one small design: one array operation per step for all of them, instead of a Python
    loop of small ones per fit. Returns (beta B x k, log-likelihood B, converged B)."""
    B, k = len(Y), X.shape[1]
    free = np.ones(k, bool)
    if fixed is not None:
        free[fixed] = False
    beta = np.zeros((B, k))
    loglik, score, info, bad = _batch_quantities(beta, X, Y, firth)
    active = ~bad
    converged = np.zeros(B, bool)
    for _ in range(MAX_ITER):
        if not active.any():
            break
        g = score[:, free]
        try:
            delta = np.linalg.solve(info[np.ix_(np.arange(B), free, free)], g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            delta = np.stack([np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(info[:, free][:, :, free], g)])
        decrement = np.einsum("bk,bk->b", g, delta)
        done = active & ((np.abs(g).max(axis=1) < GTOL) | (decrement < DECREMENT_TOL))
        beta[np.ix_(done, free)] += delta[done]
        loglik = np.where(done, loglik + decrement / 2, loglik)
        converged |= done
        active &= ~done
        if not active.any():
            break
        biggest = np.abs(delta).max(axis=1)
        delta *= np.where(biggest > MAX_STEP, MAX_STEP / np.maximum(biggest, 1e-300), 1.0)[:, None]
        pending = active.copy()
        new_beta, new = beta.copy(), [loglik.copy(), score.copy(), info.copy()]
        for _ in range(MAX_HALVINGS):
            if not pending.any():
                break
            trial = beta[pending].copy()
            trial[:, free] += delta[pending]
            ll, sc, inf, _ = _batch_quantities(trial, X, Y[pending], firth[pending])
            # as firth_profile._better: a rise, or where float64 cannot tell them apart, a smaller score
            old = loglik[pending]
            noise = 8 * np.finfo(float).eps * np.maximum(1.0, np.abs(old))
            better = (ll > old) | ((ll >= old - noise) & (np.abs(sc[:, free]).max(axis=1) < np.abs(score[pending][:, free]).max(axis=1)))
            rows = np.flatnonzero(pending)[better]
            new_beta[rows], new[0][rows], new[1][rows], new[2][rows] = trial[better], ll[better], sc[better], inf[better]
            pending[rows] = False
            delta[pending] /= 2
        # no step raised it: a maximum if the score is about 0 (float64 cannot register a gain), else a failure
        stuck = np.flatnonzero(pending)
        floor = np.abs(score[stuck][:, free]).max(axis=1) < 1e-5
        converged[stuck[floor]] = True
        active[stuck] = False
        beta, (loglik, score, info) = new_beta, new
    return beta, loglik, converged


def refit_draws(X: np.ndarray, Y: np.ndarray, j: int, firth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(estimates, p-values) of coefficient j refitted to each draw's outcome (rows of Y) as fit_logistic fits
    and tests it: Firth where `firth` (with its penalized likelihood-ratio test, the penalty of the full
    design held also under b_j = 0, as logistf), else maximum likelihood with its Wald test. The same
    likelihoods and optimum as fit_logistic's fits (firthmodels, statsmodels), to their tolerances; only the
    estimate and the p-value, no profile limits. Blanks where the outcome is constant or a fit fails."""
    from scipy import stats

    constant = Y.min(axis=1) == Y.max(axis=1)
    beta, loglik, ok = batch_maximize(X, Y, firth)
    estimate = np.where(ok & ~constant, beta[:, j], np.nan)
    p_value = np.full(len(Y), np.nan)
    if firth.any():
        _, null_loglik, null_ok = batch_maximize(X, Y, firth, fixed=j)
        chisq = np.maximum(0.0, 2 * (loglik - null_loglik))
        p_value = np.where(firth & null_ok, stats.chi2.sf(chisq, df=1), p_value)
    if (~firth).any():
        _, _, info, _ = _batch_quantities(beta, X, Y, np.zeros(len(Y), bool))
        with np.errstate(all="ignore"):
            variance = np.array([np.linalg.pinv(a)[j, j] if np.isfinite(a).all() else np.nan for a in info])
            wald = 2 * stats.norm.sf(np.abs(beta[:, j]) / np.sqrt(variance))
        p_value = np.where(~firth, wald, p_value)
    return estimate, np.where(ok & ~constant, p_value, np.nan)


ZERO = 1e-8  # an estimate this close to 0 has no sign (a Firth estimate of a balanced term is 0 up to rounding, ~1e-16)


def _sign(values: pd.Series) -> pd.Series:
    return np.sign(values).where(values.abs() >= ZERO, 0.0)


def _share(hits: pd.Series, among: pd.Series) -> float:
    return float(hits[among].mean()) if among.any() else np.nan


def _moves_most(frame: pd.DataFrame, decisions: list[str], value: str) -> tuple[str, float]:
    """The decision whose options' medians of `value` lie furthest apart, and that distance (see the module doc).
    Distances within ZERO of each other tie (the first decision wins); none above ZERO: no decision moves it."""
    spreads = {}
    for d in decisions:
        medians = frame.groupby(d, sort=False)[value].median().dropna()
        if len(medians) >= 2:
            spreads[d] = float(medians.max() - medians.min())
    top = max(spreads.values(), default=np.nan)
    if not top > ZERO:  # also nan: no decision with two options
        return "", (0.0 if spreads else np.nan)
    best = next(d for d, s in spreads.items() if s >= top - ZERO)
    return best, spreads[best]


def _finding(part: pd.DataFrame, estimate: pd.Series, decisions: list[str], moved: str) -> dict:
    """The summary of one model term or test across the universes (rows of `part`, universe 1 first if present)."""
    own = part[part["universe"] == 1]
    has = estimate.notna()  # an infinite odds ratio (a zero cell) has an estimate: its sign, and the range's end
    own_value = float(estimate[own.index[0]]) if len(own) else np.nan
    sign = _sign(pd.Series([own_value])).iloc[0]
    sign = sign if sign != 0 else np.nan
    p = part["p_value"]
    odds = np.exp(estimate[has])
    name, distance = _moves_most(part.assign(_value=part[moved] if moved != "_estimate" else estimate), decisions, "_value")
    return {"universes": int(part["universe"].nunique()), "share_same_sign": _share(_sign(estimate) == sign, has) if np.isfinite(sign) else np.nan,
            "share_significant": _share(p < ALPHA, p.notna()), "odds_ratio_median": float(odds.median()) if len(odds) else np.nan,
            "odds_ratio_min": float(odds.min()) if len(odds) else np.nan, "odds_ratio_max": float(odds.max()) if len(odds) else np.nan,
            "moves_most": name, "moved_by": distance, "_own": own_value, "_own_p": float(own["p_value"].iloc[0]) if len(own) else np.nan,
            "_estimated": int(has.sum())}


def summarize(specifications: pd.DataFrame, decisions: list[str]) -> pd.DataFrame:
    """One row per model term: see the module doc for each column."""
    rows = []
    specs = specifications[specifications["term"].fillna("") != ""]
    for (model, term), part in specs.groupby(["model", "term"], sort=False):
        found = _finding(part, part["estimate"].astype(float), decisions, "_estimate")
        rows.append({"model": model, "outcome": part["outcome"].iloc[0], "term": term, **found,
                     "estimated": found["_estimated"], "own_estimate": found["_own"],
                     "own_odds_ratio": float(np.exp(found["_own"])), "own_p_value": found["_own_p"]})
    return pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)


def summarize_crosstabs(specifications: pd.DataFrame, decisions: list[str]) -> pd.DataFrame:
    """One row per cross-tab test: see the module doc; the sign is that of the log odds ratio (2 x 2 tables)."""
    rows = []
    for (outcome, condition), part in specifications.groupby(["outcome", "condition"], sort=False):
        with np.errstate(divide="ignore"):
            log_or = np.log(part["odds_ratio"].astype(float))
        found = _finding(part, log_or, decisions, "p_value")
        own_or = float(np.exp(found["_own"]))
        rows.append({"outcome": outcome, "condition": condition, **found, "tested": int(part["p_value"].notna().sum()),
                     "own_p_value": found["_own_p"], "own_odds_ratio": own_or})
    return pd.DataFrame(rows).reindex(columns=CROSSTAB_SUMMARY_COLUMNS)


def _curve(estimates: pd.Series, p: pd.Series) -> tuple[float, int, int]:
    significant = p < ALPHA
    return (float(estimates.median()) if estimates.notna().any() else np.nan,
            int((significant & (estimates > 0)).sum()), int((significant & (estimates < 0)).sum()))


def curve_inference(specifications: pd.DataFrame, nulls: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """Per model term: the observed curve's median and counts of significant positive and negative estimates,
    each with the share of null curves at least as extreme (specr's summary of boot_null)."""
    rows = []
    specs = specifications[specifications["term"].fillna("") != ""]
    grouped = dict(iter(nulls.groupby(["model", "term"], sort=False))) if len(nulls) else {}
    for (model, term), part in specs.groupby(["model", "term"], sort=False):
        median, positive, negative = _curve(part["estimate"].astype(float), part["p_value"].astype(float))
        row = {"model": model, "term": term, "specifications": len(part), "median": median,
               "n_positive_significant": positive, "n_negative_significant": negative, "draws": draws, "seed": seed,
               "share_median": np.nan, "share_positive": np.nan, "share_negative": np.nan}
        null = grouped.get((model, term))
        if draws and null is not None and len(null):
            curves = np.array([_curve(d["estimate"], d["p_value"]) for _, d in null.groupby("draw", sort=True)])
            if np.isfinite(median):
                extreme = curves[:, 0] >= median if median > 0 else curves[:, 0] <= median if median < 0 else np.ones(len(curves), bool)
                row["share_median"] = float(np.mean(extreme & np.isfinite(curves[:, 0]) | (median == 0)))
            row["share_positive"] = float(np.mean(curves[:, 1] >= positive))
            row["share_negative"] = float(np.mean(curves[:, 2] >= negative))
        rows.append(row)
    return pd.DataFrame(rows, columns=INFERENCE_COLUMNS)
