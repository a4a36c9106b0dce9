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
from casemeta.stats.caveats import (Caveat, Caveats, attach, complete_cases, error_caveat, from_warnings, left_out_caveat,
                                    merge, row_fields)
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


def _values(frame: pd.DataFrame, condition: str, codebook: Codebook) -> list[str]:
    """The condition's values as a cross-tab lists them: the codebook's order, else the data's, sorted."""
    var = codebook.variable(condition)
    return [str(v) for v in (var.allowed_values or sorted(frame[condition].dropna().unique()))]


def _cells(frame: pd.DataFrame, outcome: str, condition: str, values: list[str]) -> np.ndarray:
    """How many cases fall in each cell: a row per value (in order), then one for a blank condition; a column
    for the outcome 0, 1, then blank. A case whose condition or outcome is another value is in no cell.
    One code per case and one count (a million cases: no million strings made and compared, nor a mask per
    value), each distinct value made text once, as pandas' "string" dtype writes it (1, "export", 1.5)."""
    codes, distinct = pd.factorize(frame[condition])  # a blank is coded -1: the lookup's last entry
    position = {v: i for i, v in enumerate(values)}
    # the values as numpy holds them (a float32 0.1 is '0.1', as `_values` writes it, not its float64 expansion)
    row = np.array([position.get(str(v), -1) for v in distinct.to_numpy()] + [len(values)], dtype=np.int64)[codes]
    column = frame[outcome]
    out = (column.to_numpy(dtype=float, na_value=np.nan) if pd.api.types.is_numeric_dtype(column.dtype)
           else column.to_numpy(dtype=object, na_value=None))
    col = np.full(len(frame), -1, dtype=np.int64)
    col[np.asarray(out == 0, dtype=bool)] = 0
    col[np.asarray(out == 1, dtype=bool)] = 1
    col[column.isna().to_numpy()] = 2
    counted = (row >= 0) & (col >= 0)
    return np.bincount(row[counted] * 3 + col[counted], minlength=3 * (len(values) + 1)).reshape(len(values) + 1, 3)


def crosstab(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook) -> pd.DataFrame:
    """Counts of each outcome value (0, 1, then blank) within each value of the condition (codebook order,
    then blank), every case counted once. Blank rows appear only where some case is blank."""
    values = _values(frame, condition, codebook)
    return _long(frame, outcome, condition, codebook, values, _cells(frame, outcome, condition, values))


def _long(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook, values: list[str],
          cells: np.ndarray) -> pd.DataFrame:
    """crosstab's rows from its cells (_cells over `values`)."""
    var = codebook.variable(condition)
    blank_condition, blank_outcome = frame[condition].isna().any(), frame[outcome].isna().any()
    rows = []
    for i, value in [*enumerate(values), *([(len(values), None)] if blank_condition else [])]:
        rows += [[value, o, int(cells[i, o])] for o in (0, 1)]
        if blank_outcome:
            rows.append([value, None, int(cells[i, 2])])
    long = pd.DataFrame(rows, columns=["condition_value", "outcome_value", "count"])
    long["outcome_value"] = long["outcome_value"].astype("Int64")
    long.insert(0, "outcome", outcome)
    long.insert(1, "condition", condition)
    long.insert(3, "condition_label", [var.value_label(v) if v is not None else "" for v in long["condition_value"]])
    return long


def crosstab_rows(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook, draws: int,
                  seed: int) -> tuple[pd.DataFrame, dict]:
    """The cross-tab's rows (blanks counted apart) and its test's row, on the cases observed on both (the
    cells counted once for both)."""
    missing = left_out_caveat(frame, [outcome, condition])
    values = _values(frame, condition, codebook)
    cells = _cells(frame, outcome, condition, values)
    long = _long(frame, outcome, condition, codebook, values, cells)
    long = attach(long, [merge(missing)] * len(long))
    return long[CROSSTAB_COLUMNS], _test(cells[:len(values), :2], missing, outcome, condition, draws, seed)


def crosstab_counts(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook) -> np.ndarray:
    """The cross-tab's counts on the cases observed on both: a row per value of the condition (codebook
    order, as `crosstab` lists them), a column per outcome value 0 and 1."""
    values = _values(frame, condition, codebook)
    return _cells(frame, outcome, condition, values)[:len(values), :2].astype(np.int64)


def test_row(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook, draws: int, seed: int) -> dict:
    """The exact test of one cross-tab (crosstabs' test row), on the cases observed on both."""
    return _test(crosstab_counts(frame, outcome, condition, codebook), left_out_caveat(frame, [outcome, condition]),
                 outcome, condition, draws, seed)


def _test(counts: np.ndarray, missing: Caveat | None, outcome: str, condition: str, draws: int, seed: int) -> dict:
    """test_row from the cross-tab's counts (a row per value, a column per outcome 0 and 1) and its caveat."""
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
