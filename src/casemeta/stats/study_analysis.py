"""Every cross-tab, exact test, logistic model and out-of-sample check of a study's plan: frames in, frames out.

Any codebook-valid study gives every row of every table, from 0 cases up: a statistic that cannot be
computed is blank and the row's caveats say why; a statistic computed by a fallback says which. Each
statistic uses the cases observed on the variables it involves and states its n; a caveat counts the
cases left out and names the variables they miss. Python warnings are caught and become caveats, so
none reaches the terminal.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.stats.caveats import Caveat, Caveats, attach, complete_cases, error_caveat, from_warnings, merge, row_fields
from casemeta.stats.caveats import column as caveat_rows
from casemeta.stats.cross_validation import LOO_MAX_CASES, loo_check, loo_not_computed
from casemeta.stats.exact_tests import crosstab_test
from casemeta.stats.logistic_models import FIT_COLUMNS, TERM_COLUMNS, fit_logistic

# crosstabs.csv: one row per (outcome, condition, condition value, outcome value); a blank condition_value
# counts the cases with no value of the condition, a blank outcome_value those with no value of the outcome
CROSSTAB_COLUMNS = ["outcome", "condition", "condition_value", "condition_label", "outcome_value", "count", "note", "caveats"]
TEST_COLUMNS = ["outcome", "condition", "test", "p_value", "draws", "odds_ratio", "cramers_v", "n", "note", "caveats"]
MODEL_COLUMNS = ["model", "outcome", "predictor_set", "predictors", *TERM_COLUMNS, "method", "correction", "separation",
                 "separation_kind", "interval", "p_value_test", "n", "loglik", *FIT_COLUMNS, "tested", "note", "caveats"]
CV_COLUMNS = ["model", "outcome", "predictor_set", "formula", "n", "base_rate", "loo_auc", "loo_brier", "base_rate_brier",
              "penalty", "scheme", "note", "caveats"]
# what the numerical libraries raise for data they cannot fit; turned into a "not estimable" caveat
FIT_ERRORS = (CasemetaError, ValueError, ArithmeticError, np.linalg.LinAlgError)


def quietly(compute, *args, **kwargs) -> tuple[object, Caveats]:
    """compute(*args, **kwargs) with every Python warning caught; what escaped the callee's own handling
    becomes a caveat rather than terminal output."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        result = compute(*args, **kwargs)
    return result, from_warnings((w.category.__name__, str(w.message).splitlines()[0]) for w in caught)


def crosstab(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook) -> pd.DataFrame:
    """Counts of each outcome value (0, 1, then blank) within each value of the condition (codebook order,
    then blank), every case counted once. Blank rows appear only where some case is blank."""
    var = codebook.variable(condition)
    values = [str(v) for v in (var.allowed_values or sorted(frame[condition].dropna().unique()))]
    # each distinct value of the condition as text once, the cases by their code (a million cases: no
    # million strings to make and compare)
    codes, distinct = pd.factorize(frame[condition])
    texts = pd.Series(distinct, dtype=frame[condition].dtype).astype("string").to_numpy(dtype=object)
    out_values = frame[outcome]
    cond_missing, out_missing = pd.Series(codes == -1, index=frame.index), out_values.isna()
    rows = []
    for value, in_row in [*((v, pd.Series(np.isin(codes, np.flatnonzero(texts == v)), index=frame.index)) for v in values),
                          *([(None, cond_missing)] if cond_missing.any() else [])]:
        for o in (0, 1):
            rows.append([value, o, int((in_row & (out_values == o).fillna(False)).sum())])
        if out_missing.any():
            rows.append([value, None, int((in_row & out_missing).sum())])
    long = pd.DataFrame(rows, columns=["condition_value", "outcome_value", "count"])
    long["outcome_value"] = long["outcome_value"].astype("Int64")
    long.insert(0, "outcome", outcome)
    long.insert(1, "condition", condition)
    long.insert(3, "condition_label", [var.value_label(v) if v is not None else "" for v in long["condition_value"]])
    return long


def crosstab_rows(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook, draws: int,
                  seed: int) -> tuple[pd.DataFrame, dict]:
    """The cross-tab's rows (blanks counted apart) and its test's row, on the cases observed on both."""
    _, missing = complete_cases(frame, [outcome, condition])
    long = crosstab(frame, outcome, condition, codebook)
    long = attach(long, [merge(missing)] * len(long))
    return long[CROSSTAB_COLUMNS], test_row(frame, outcome, condition, codebook, draws, seed)


def crosstab_counts(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook) -> np.ndarray:
    """The cross-tab's counts on the cases observed on both: a row per value of the condition (codebook
    order, as `crosstab` lists them), a column per outcome value 0 and 1."""
    var = codebook.variable(condition)
    values = [str(v) for v in (var.allowed_values or sorted(frame[condition].dropna().unique()))]
    # numpy on the columns (no frame per value: a multiverse tests thousands of small cross-tabs); each distinct
    # value of the condition made text once, as `crosstab` does (a million cases: no million strings to make
    # and compare, which took 5 of the models step's 70 s)
    codes, distinct = pd.factorize(frame[condition])  # distinct: no blank (factorize codes it -1)
    position = {v: i for i, v in enumerate(values)}
    texts = [str(v) for v in distinct]  # as pandas' "string" dtype writes a code (1, "export", 1.5)
    # each case's row (-1: blank, or a value not listed; the last entry serves factorize's -1 for a blank)
    row = np.array([position.get(t, -1) for t in texts] + [-1], dtype=np.int64)[codes]
    column = frame[outcome]
    out = (column.to_numpy(dtype=float, na_value=np.nan) if pd.api.types.is_numeric_dtype(column.dtype)
           else column.to_numpy(dtype=object, na_value=None))  # a blank equals neither 0 nor 1
    one, zero = np.asarray(out == 1, dtype=bool), np.asarray(out == 0, dtype=bool)
    counted = (row >= 0) & (one | zero)
    return np.bincount(row[counted] * 2 + one[counted], minlength=2 * len(values)).astype(np.int64).reshape(len(values), 2)


def test_row(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook, draws: int, seed: int) -> dict:
    """The exact test of one cross-tab (crosstabs' test row), on the cases observed on both."""
    _, missing = complete_cases(frame, [outcome, condition])
    counts = crosstab_counts(frame, outcome, condition, codebook)
    test, warned = quietly(crosstab_test, counts, draws, seed, rows=condition, columns=outcome)
    caveats = merge(missing, test.pop("caveats"), warned)
    return {"outcome": outcome, "condition": condition, **test, **row_fields(caveats)}


def not_estimable(frame: pd.DataFrame, cases: pd.DataFrame, m) -> Caveat | None:
    """Why the model cannot be fitted to these cases, checked before fitting; None if it may be."""
    if len(cases) == 0:
        return Caveat.of("no_cases") if len(frame) == 0 else Caveat.of("no_complete_case")
    for name in (m.outcome, *m.variables):
        if cases[name].nunique() == 1:
            role = "outcome" if name == m.outcome else "predictor"
            value = cases[name].iloc[0]
            return Caveat.of("constant", [name], role=role, value=repr(value) if isinstance(value, str) else value)
    if len(cases) < 1 + len(m.variables):
        return Caveat.of("too_few_coefficients", n=len(cases), k=1 + len(m.variables))
    return None


def _attempt(compute, data: pd.DataFrame, m, source: str, **kwargs) -> tuple[object, Caveats | Caveat]:
    """quietly(compute(data, formula, ..., source=source)), or (None, an error caveat) where the data cannot be fitted."""
    try:
        return quietly(compute, data, m.formula, source=source, **kwargs)
    except FIT_ERRORS as exc:
        return None, error_caveat(exc, source)


def model_rows(frame: pd.DataFrame, m, source: str, loo_max_cases: int = LOO_MAX_CASES,
               seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """One model's term rows (or one "not estimable" row) and its out-of-sample row (leave-one-out up to
    loo_max_cases cases, seeded K-fold above), on the cases observed on every variable of the model.

    What stops a model also stops its check, with the same caveat in both rows."""
    cases, missing = complete_cases(frame, [m.outcome, *m.variables])
    problem = not_estimable(frame, cases, m)
    check, check_caveats = (None, problem) if problem else _attempt(loo_check, cases, m, source,
                                                                    loo_max_cases=loo_max_cases, seed=seed)
    if check is None:
        check, check_caveats = loo_not_computed(cases, m.formula, check_caveats), ()
    caveats = merge(missing, check.pop("caveats"), check_caveats)
    check_row = {"model": m.name, "outcome": m.outcome, "predictor_set": m.predictor_set, **check,
                 **row_fields(caveats)}
    return fit_rows(frame, m, source), check_row


def fit_table(fit, fit_caveats, m, cases: pd.DataFrame, missing) -> pd.DataFrame:
    """A model's rows in logistic_models.csv: its terms (or one "not estimable" row), with their caveats."""
    head = {"model": m.name, "outcome": m.outcome, "predictor_set": m.predictor_set, "predictors": " + ".join(m.terms)}
    if fit is None:
        blank = fit_caveats.with_(blank="model", scope="model")
        table = pd.DataFrame([{**head, "n": len(cases)}])
        return attach(table, [merge(missing, blank)])
    table = fit.table()
    for column, value in reversed(head.items()):
        table.insert(0, column, value)
    model_missing = missing.with_(scope="model") if missing is not None else None
    return attach(table, [merge(model_missing, c, fit_caveats) for c in caveat_rows(table)])


def model_fit(frame: pd.DataFrame, m, source: str, interval: str = "profile", firth_fits: dict | None = None):
    """One model's fit as model_rows makes it, without the out-of-sample check: (its rows, the fit or None,
    the cases it used). What the multiverse refits in every universe (`firth_fits`: see fit_logistic)."""
    cases, missing = complete_cases(frame, [m.outcome, *m.variables])
    problem = not_estimable(frame, cases, m)
    options = {"method": m.method, "correction": m.correction, "tests": m.tests, "interval": interval,
               "firth_fits": firth_fits}
    fit, fit_caveats = (None, problem) if problem else _attempt(fit_logistic, cases, m, source, **options)
    return fit_table(fit, fit_caveats, m, cases, missing), fit, cases


def fit_rows(frame: pd.DataFrame, m, source: str, interval: str = "profile") -> pd.DataFrame:
    """One model's term rows (or one "not estimable" row), on the cases observed on every variable of the
    model: the main run's fit, which case influence repeats without each case (`interval` "wald" there:
    estimates and p-values do not depend on how the interval is computed)."""
    return model_fit(frame, m, source, interval)[0]


def study_models(frame: pd.DataFrame, plan, codebook: Codebook, draws: int, seed: int, log=None) -> dict[str, pd.DataFrame]:
    """Every cross-tab and test, model and check of the plan: {"crosstabs", "tests", "models", "cross_validation"}."""
    tabs, tests, models, checks = [], [], [], []
    pairs = plan.crosstabs.pairs
    for i, (outcome, condition) in enumerate(pairs, 1):
        if log:
            log.info("cross-tab %d of %d: %s by %s, with its exact test", i, len(pairs), outcome, condition)
        long, test = crosstab_rows(frame, outcome, condition, codebook, draws, seed)
        tabs.append(long)
        tests.append(test)
    loo_max_cases = plan.loo_max_cases if plan.loo_max_cases is not None else LOO_MAX_CASES
    for i, m in enumerate(plan.models, 1):
        if log:
            log.info("model %d of %d: %s (%s case(s))", i, len(plan.models), m.formula, f"{len(frame):,}")
        table, check = model_rows(frame, m, codebook.study, loo_max_cases, seed)
        models.append(table)
        checks.append(check)
    return {
        "crosstabs": pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame(columns=CROSSTAB_COLUMNS),
        "tests": pd.DataFrame(tests, columns=TEST_COLUMNS),
        "models": pd.concat(models, ignore_index=True).reindex(columns=MODEL_COLUMNS) if models else pd.DataFrame(columns=MODEL_COLUMNS),
        "cross_validation": pd.DataFrame(checks, columns=CV_COLUMNS),
    }
