"""SYNTHETIC results of a made-up study, for rendering tests only: no number here comes from, or
stands for, any publication. Each frame has the columns the models step writes under
results/<study>/models/, with the degenerate cases small samples produce (a category no case
uses, blank statistics each with its stated reason, a model that is not estimable, an infinite
odds ratio with blank limits)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from casemeta import atomic_io
from casemeta.coded.codebook import load_codebook
from casemeta.stats.caveats import Caveat, attach
from casemeta.study import Study

NAN = float("nan")
# A label a spreadsheet would run as a formula if it were written as a value
HOSTILE_LABEL = '=HYPERLINK("http://x","Exports")'

CODEBOOK = f"""# SYNTHETIC codebook for tests
study: synthetic
title: Synthetic study (test data)
variables:
  - {{name: case_id, label: Case, type: identifier}}
  - {{name: growth, label: Growth, type: binary}}
  - {{name: exports, label: '{HOSTILE_LABEL}', type: binary}}
  - name: size
    label: Size
    type: category
    values: [{{value: small, label: Small}}, {{value: large, label: Large}}, {{value: huge, label: Huge}}]
"""

PLAN = {"study": "synthetic", "crosstabs": {"outcomes": ["growth"], "conditions": ["size"]}, "models": {"outcomes": ["growth"], "predictor_sets": {"one": ["exports"], "both": ["exports", "size"]}},
        "publication": {"stars": True, "case_columns": ["case_id", "size"]}}

# caveats, as the statistics step records them, and their words with the data's names (the results' `note`)
LEFT_OUT = Caveat.of("missing", ["growth"], left_out=1, total=2)
OR_2X2 = Caveat.of("or_not_2x2", rows=3, columns=2)
CONSTANT = Caveat.of("same_value", ["exports"], blank="test")
MONTE_CARLO = Caveat.of("monte_carlo", draws=2000, seed=1)
NOT_ESTIMABLE = Caveat.of("constant", ["growth"], scope="model", blank="model", role="outcome", value=1)
REFIT = Caveat.of("error", ["exports"], scope="term", blank="plr_p", reason="the constrained refit failed")
AUC = Caveat.of("same_outcome", ["growth"], blank="loo", value=1)


def _with(frame: pd.DataFrame, caveats: list) -> pd.DataFrame:
    """The frame with the `note` and `caveats` columns the models step writes, from each row's caveats."""
    return attach(frame, [tuple(c) for c in caveats])


def codebook(tmp_path: Path):
    path = tmp_path / "codebook.yaml"
    path.write_text(CODEBOOK, encoding="utf-8")
    return load_codebook(path)


def crosstabs() -> pd.DataFrame:
    # large: one case with growth, one with no value of growth (counted apart: a blank outcome_value)
    rows = [("small", "Small", 0, 1), ("small", "Small", 1, 2), ("large", "Large", 0, 0),
            ("large", "Large", 1, 1), ("large", "Large", None, 1), ("huge", "Huge", 0, 0), ("huge", "Huge", 1, 0)]
    frame = pd.DataFrame([{"outcome": "growth", "condition": "size", "condition_value": v, "condition_label": lbl,
                           "outcome_value": o, "count": k} for v, lbl, o, k in rows])
    frame["outcome_value"] = frame["outcome_value"].astype("Int64")
    return _with(frame, [[LEFT_OUT]] * len(frame))


def crosstab_tests() -> pd.DataFrame:
    return _with(pd.DataFrame([
        {"outcome": "growth", "condition": "size", "test": "Fisher-Freeman-Halton exact", "p_value": 0.4, "draws": 0,
         "odds_ratio": NAN, "cramers_v": 0.3, "n": 4},
        {"outcome": "growth", "condition": "exports", "test": "Fisher exact", "p_value": NAN, "draws": 0,
         "odds_ratio": NAN, "cramers_v": NAN, "n": 4},
        {"outcome": "growth", "condition": "size", "test": "Fisher-Freeman-Halton Monte Carlo", "p_value": 0.03,
         "draws": 2000, "odds_ratio": NAN, "cramers_v": 0.5, "n": 4},
    ]), [[OR_2X2], [CONSTANT], [MONTE_CARLO]])


def logistic_models() -> pd.DataFrame:
    common = {"model": "growth ~ both", "outcome": "growth", "predictor_set": "both", "predictors": "exports + size",
              "method": "firth", "separation": "complete (+exports infinite under ML)", "separation_kind": "complete",
              "interval": "profile penalized likelihood", "p_value_test": "penalized likelihood ratio", "n": 4,
              "loglik": -1.25}
    return _with(pd.DataFrame([
        {"model": "growth ~ one", "outcome": "growth", "predictor_set": "one", "predictors": "exports"},
        {**common, "term": "Intercept", "estimate": 0.5, "std_error": 1.1, "ci_low": -1.6, "ci_high": 2.7,
         "p_value": 0.61, "odds_ratio": 1.65, "or_ci_low": 0.2, "or_ci_high": 14.9},
        {**common, "term": "exports", "estimate": float("inf"), "std_error": NAN, "ci_low": NAN, "ci_high": NAN,
         "p_value": NAN, "odds_ratio": float("inf"), "or_ci_low": NAN, "or_ci_high": NAN},
    ]), [[NOT_ESTIMABLE], [], [REFIT]])


def cross_validation() -> pd.DataFrame:
    return _with(pd.DataFrame([
        {"model": "growth ~ one", "outcome": "growth", "predictor_set": "one", "formula": "growth ~ exports", "n": NAN,
         "base_rate": NAN, "loo_auc": NAN, "loo_brier": NAN, "base_rate_brier": NAN, "penalty": NAN},
        {"model": "growth ~ both", "outcome": "growth", "predictor_set": "both", "formula": "growth ~ exports + size",
         "n": 4, "base_rate": 1.0, "loo_auc": NAN, "loo_brier": 0.01, "base_rate_brier": 0.0, "penalty": "L2, C=1.0"},
    ]), [[NOT_ESTIMABLE.with_(blank="loo", scope="row")], [AUC]])


def derived_cases() -> pd.DataFrame:
    return pd.DataFrame({"case_id": ["c1", "c2", "c3", "c4"], "growth": [0, 1, 1, 1], "exports": [1, 1, 1, 1],
                         "size": ["small", "small", "small", "large"]})


def write_project(root: Path) -> Study:
    """A project holding only the synthetic study's codebook, plan and (empty) cases file."""
    study = Study(root, "synthetic")
    study.coded_dir.mkdir(parents=True)
    study.codebook_path.write_text(CODEBOOK, encoding="utf-8")
    study.cases_path.write_text("case_id,growth,exports,size\n", encoding="utf-8")
    study.plan_path.parent.mkdir(parents=True)
    study.plan_path.write_text(yaml.safe_dump(PLAN), encoding="utf-8")
    return study


def write_results(results: Path, without_notes: bool = False) -> Path:
    """The synthetic study's results/<study>/ as the workflow lays them out (without_notes: as results written
    before notes existed, with neither `note` nor `caveats`)."""
    study = results / "synthetic"
    frames = {"crosstabs.csv": crosstabs(), "crosstab_tests.csv": crosstab_tests(),
              "logistic_models.csv": logistic_models(), "cross_validation.csv": cross_validation()}
    for name, frame in frames.items():
        atomic_io.write_csv(study / "models" / name, frame.drop(columns=["note", "caveats"]) if without_notes else frame)
    atomic_io.write_csv(study / "derived_cases.csv", derived_cases())
    return study
