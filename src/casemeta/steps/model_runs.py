"""Run every cross-tab test, logistic model and out-of-sample check in a study's plan."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook
from casemeta.stats.cross_validation import loo_check
from casemeta.errors import CasemetaError
from casemeta.stats.exact_tests import crosstab_test
from casemeta.stats.logistic_models import TERM_COLUMNS, fit_logistic
from casemeta.plan import model_specs

log = logging.getLogger("casemeta")

CROSSTAB_COLUMNS = ["outcome", "condition", "condition_value", "condition_label", "outcome_value", "count"]
TEST_COLUMNS = ["outcome", "condition", "test", "p_value", "draws", "odds_ratio", "cramers_v", "n"]
MODEL_COLUMNS = ["model", "outcome", "predictors", *TERM_COLUMNS, "method", "separation", "interval", "p_value_test", "n", "loglik", "note"]
CV_COLUMNS = ["model", "formula", "n", "base_rate", "loo_auc", "loo_brier", "base_rate_brier", "penalty"]


def crosstab(frame: pd.DataFrame, outcome: str, condition: str, codebook: Codebook) -> pd.DataFrame:
    """Counts of outcome values within each value of the condition, in codebook order."""
    var = codebook.variable(condition)
    values = list(var.allowed_values or sorted(frame[condition].dropna().unique()))
    table = pd.crosstab(frame[condition].astype(str), frame[outcome]).reindex(index=[str(v) for v in values], columns=[0, 1], fill_value=0)
    long = table.stack().rename("count").reset_index()
    long.columns = ["condition_value", "outcome_value", "count"]
    long.insert(0, "outcome", outcome)
    long.insert(1, "condition", condition)
    long.insert(3, "condition_label", long["condition_value"].map(var.value_label))
    return long[CROSSTAB_COLUMNS]


def run_models(frame: pd.DataFrame, plan: dict, codebook: Codebook, out_dir: Path, draws: int, seed: int) -> None:
    """Write crosstabs, exact tests, logistic models and LOO checks under out_dir."""
    out_dir = Path(out_dir)
    tabs, tests, models, checks = [], [], [], []
    if len(frame) == 0:
        log.warning("%s: no coded cases yet; the model tables are empty", codebook.study)
    else:
        spec = plan.get("crosstabs") or {}
        for outcome in spec.get("outcomes", []):
            for condition in spec.get("conditions", []):
                long = crosstab(frame, outcome, condition, codebook)
                tabs.append(long)
                counts = long.pivot(index="condition_value", columns="outcome_value", values="count").to_numpy()
                tests.append({"outcome": outcome, "condition": condition, **crosstab_test(counts, draws, seed)})
        for i, m in enumerate(model_specs(plan), 1):
            log.info("model %d: %s", i, m["formula"])
            try:
                fit = fit_logistic(frame, m["formula"], m["method"], source=codebook.study)
            except CasemetaError as exc:
                models.append(pd.DataFrame([{"model": m["model"], "outcome": m["outcome"], "predictors": " + ".join(m["predictors"]), "note": f"not estimable: {exc}"}]))
                continue
            table = fit.table()
            table.insert(0, "model", m["model"])
            table.insert(1, "outcome", m["outcome"])
            table.insert(2, "predictors", " + ".join(m["predictors"]))
            table["note"] = fit.note
            models.append(table)
            checks.append({"model": m["model"], **loo_check(frame, m["formula"], source=codebook.study)})
    files = {
        "crosstabs.csv": pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame(columns=CROSSTAB_COLUMNS),
        "crosstab_tests.csv": pd.DataFrame(tests, columns=TEST_COLUMNS),
        "logistic_models.csv": pd.concat(models, ignore_index=True).reindex(columns=MODEL_COLUMNS) if models else pd.DataFrame(columns=MODEL_COLUMNS),
        "cross_validation.csv": pd.DataFrame(checks, columns=CV_COLUMNS),
    }
    for name, table in files.items():
        atomic_io.write_csv(out_dir / name, table)
