"""Run every cross-tab test, logistic model and out-of-sample check in a study's plan.

Any codebook-valid study gives every row of every table, from 0 cases up: a
statistic that cannot be computed is blank and the row's `note` says why; a
statistic computed by a fallback says which; cases with a missing value are
left out of what needs that value, and the note says how many. Python warnings
are caught here and turned into notes, so none reaches the terminal.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.plan import model_specs
from casemeta.stats.cross_validation import LOO_MAX_CASES, loo_check, loo_not_computed
from casemeta.stats.exact_tests import crosstab_test
from casemeta.stats.logistic_models import FIT_COLUMNS, TERM_COLUMNS, fit_logistic
from casemeta.stats.notes import complete_cases, join_notes, reason

log = logging.getLogger("casemeta")

CROSSTAB_COLUMNS = ["outcome", "condition", "condition_value", "condition_label", "outcome_value", "count", "note"]
TEST_COLUMNS = ["outcome", "condition", "test", "p_value", "draws", "odds_ratio", "cramers_v", "n", "note"]
MODEL_COLUMNS = ["model", "outcome", "predictors", *TERM_COLUMNS, "method", "correction", "separation", "interval",
                 "p_value_test", "n", "loglik", *FIT_COLUMNS, "note"]
CV_COLUMNS = ["model", "formula", "n", "base_rate", "loo_auc", "loo_brier", "base_rate_brier", "penalty", "scheme", "note"]
# what the numerical libraries raise for data they cannot fit; turned into a "not estimable" note
FIT_ERRORS = (CasemetaError, ValueError, ArithmeticError, np.linalg.LinAlgError)


def quietly(compute, *args, **kwargs) -> tuple[object, str]:
    """compute(*args, **kwargs) with every Python warning caught; what escaped the callee's own handling
    becomes a note rather than terminal output."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        result = compute(*args, **kwargs)
    messages = dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught)
    return result, join_notes(*(f"warning {m}" for m in messages))


def crosstab(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook) -> pd.DataFrame:
    """Counts of outcome values within each value of the condition, in codebook order (cases with both)."""
    var = codebook.variable(condition)
    values = [str(v) for v in (var.allowed_values or sorted(frame[condition].dropna().unique()))]
    cond = frame[condition].astype("string")
    counts = [[v, o, int(((cond == v) & (frame[outcome] == o)).fillna(False).sum())] for v in values for o in (0, 1)]
    long = pd.DataFrame(counts, columns=["condition_value", "outcome_value", "count"])
    long.insert(0, "outcome", outcome)
    long.insert(1, "condition", condition)
    long.insert(3, "condition_label", long["condition_value"].map(var.value_label))
    long["note"] = ""
    return long[CROSSTAB_COLUMNS]


def crosstab_rows(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook, draws: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """The cross-tab's rows and its test's row, each noting cases left out for a missing value."""
    cases, missing = complete_cases(frame, [outcome, condition])
    long = crosstab(cases, outcome, condition, codebook)
    long["note"] = missing
    counts = long.pivot(index="condition_value", columns="outcome_value", values="count").reindex(long["condition_value"].unique())
    test, warned = quietly(crosstab_test, counts.to_numpy(), draws, seed, rows=f"value of {condition!r}", columns=f"value of {outcome!r}")
    test["note"] = join_notes(missing, test["note"], warned)
    return long, {"outcome": outcome, "condition": condition, **test}


def not_estimable(frame: pd.DataFrame, cases: pd.DataFrame, m: dict) -> str:
    """Why the model cannot be fitted to these cases, checked before fitting; "" if it may be."""
    if len(cases) == 0:
        return "no cases" if len(frame) == 0 else "no case has every variable of the model"
    for name in (m["outcome"], *m["predictors"]):
        if cases[name].nunique() == 1:
            role = "outcome" if name == m["outcome"] else "predictor"
            value = cases[name].iloc[0]
            return f"{role} {name!r} is {repr(value) if isinstance(value, str) else value} in every case"
    if len(cases) < 1 + len(m["predictors"]):
        return f"only {len(cases)} case(s) for at least {1 + len(m['predictors'])} coefficients"
    return ""


def _attempt(compute, data: pd.DataFrame, m: dict, source: str, **kwargs) -> tuple[object, str]:
    """quietly(compute(data, formula, ..., source=source)), or (None, the error's reason) where the data cannot be fitted."""
    try:
        return quietly(compute, data, m["formula"], source=source, **kwargs)
    except FIT_ERRORS as exc:
        return None, reason(exc, source)


def model_rows(frame: pd.DataFrame, m: dict, source: str, loo_max_cases: int = LOO_MAX_CASES,
               seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """One model's term rows (or one "not estimable" row) and its out-of-sample row (leave-one-out up to
    loo_max_cases cases, seeded K-fold above).

    What stops a model also stops its check, with the same words in both notes.
    """
    cases, missing = complete_cases(frame, [m["outcome"], *m["predictors"]])
    head = {"model": m["model"], "outcome": m["outcome"], "predictors": " + ".join(m["predictors"])}
    problem = not_estimable(frame, cases, m)
    options = {"method": m["method"], "correction": m.get("correction", "none"), "tests": m.get("tests", ())}
    fit, fit_note = (None, problem) if problem else _attempt(fit_logistic, cases, m, source, **options)
    check, check_note = (None, problem) if problem else _attempt(loo_check, cases, m, source,
                                                                 loo_max_cases=loo_max_cases, seed=seed)
    if check is None:
        check, check_note = loo_not_computed(cases, m["formula"], check_note), ""
    check = {"model": m["model"], **check, "note": join_notes(missing, check["note"], check_note)}
    if fit is None:
        return pd.DataFrame([{**head, "n": len(cases), "note": join_notes(missing, f"not estimable: {fit_note}")}]), check
    table = fit.table()
    for column, value in reversed(head.items()):
        table.insert(0, column, value)
    table["note"] = [join_notes(missing, note, fit_note) for note in table["note"]]
    return table, check


def run_models(frame: pd.DataFrame, plan: dict, codebook: Codebook, out_dir: Path, draws: int, seed: int) -> None:
    """Write crosstabs, exact tests, logistic models and LOO checks under out_dir, a row for each."""
    out_dir = Path(out_dir)
    tabs, tests, models, checks = [], [], [], []
    if len(frame) == 0:
        log.warning("%s: no coded cases yet; every test and model says so in its note", codebook.study)
    spec = plan.get("crosstabs") or {}
    pairs = [(o, c) for o in spec.get("outcomes", []) for c in spec.get("conditions", [])]
    for i, (outcome, condition) in enumerate(pairs, 1):
        log.info("cross-tab %d of %d: %s by %s, with its exact test", i, len(pairs), outcome, condition)
        long, test = crosstab_rows(frame, outcome, condition, codebook, draws, seed)
        tabs.append(long)
        tests.append(test)
    loo_max_cases = (plan.get("models") or {}).get("loo_max_cases", LOO_MAX_CASES)
    specs = model_specs(plan, codebook)
    for i, m in enumerate(specs, 1):
        log.info("model %d of %d: %s (%s case(s))", i, len(specs), m["formula"], f"{len(frame):,}")
        table, check = model_rows(frame, m, codebook.study, loo_max_cases, seed)
        models.append(table)
        checks.append(check)
    files = {
        "crosstabs.csv": pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame(columns=CROSSTAB_COLUMNS),
        "crosstab_tests.csv": pd.DataFrame(tests, columns=TEST_COLUMNS),
        "logistic_models.csv": pd.concat(models, ignore_index=True).reindex(columns=MODEL_COLUMNS) if models else pd.DataFrame(columns=MODEL_COLUMNS),
        "cross_validation.csv": pd.DataFrame(checks, columns=CV_COLUMNS),
    }
    for name, table in files.items():
        atomic_io.write_csv(out_dir / name, table)
