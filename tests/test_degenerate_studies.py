"""Degenerate studies: every size from 0 cases, one outcome class, separation, collinearity, missing values.

Each named scenario is tested here once, through the whole analysis (validate, derive, cross-tabs,
exact tests, models, leave-one-out, tables in every format, figures) with method `auto`; the other
two methods (`firth`, `ml`) run the models step on the same study. Every frame here is SYNTHETIC,
made up to put the analysis in one corner; none is data. Where a number is computed it is worked out
by hand in a comment; where it cannot be, the note says why. Warnings are errors: no warning may
reach the user's terminal.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from casemeta.stats.caveats import render
from casemeta.stats.cross_validation import loo_check
from casemeta.stats.exact_tests import crosstab_test
from casemeta.steps import pipeline
from study_strategies import (
    DRAWS, SEED, GeneratedStudy, blank_statistics_without_note, case_id, check_results, run_analysis,
)

STUDY = "synthetic_degenerate"
CODEBOOK = {
    "study": STUDY,
    "title": "SYNTHETIC study for degenerate small samples",
    "variables": [
        {"name": "case_id", "label": "Case", "type": "identifier"},
        {"name": "name", "label": "Name", "type": "text"},
        {"name": "y", "label": "Outcome", "type": "binary"},
        {"name": "x", "label": "Condition x", "type": "binary"},
        {"name": "z", "label": "Condition z", "type": "binary"},
        {"name": "w", "label": "Optional condition w", "type": "binary", "missing": "allowed"},
        {"name": "c", "label": "Category c", "type": "category",
         "values": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "never", "label": "Never used"}]},
    ],
    "derived": [{"name": "x_or_z", "label": "Either condition", "type": "binary", "rule": {"kind": "any_of", "of": ["x", "z"]}}],
}
PLAN = {
    "study": STUDY,
    "crosstabs": {"outcomes": ["y"], "conditions": ["x", "c", "x_or_z"]},
    "models": {"outcomes": ["y"], "predictor_sets": {"x": ["x"], "x_z": ["x", "z"], "w": ["w"]}, "method": "auto"},
    "publication": {"case_columns": ["name", "y", "c"], "model_display": "odds_ratio", "stars": True},
}


def synthetic(y, x=None, z=None, w=None, c=None) -> pd.DataFrame:
    """A SYNTHETIC study's cases as text cells (blank = missing): x alternates, z in pairs, w missing, c 'a'."""
    n = len(y)
    columns = {
        "y": y,
        "x": x if x is not None else [i % 2 for i in range(n)],
        "z": z if z is not None else [(i // 2) % 2 for i in range(n)],
        "w": w if w is not None else [None] * n,
        "c": c if c is not None else ["a"] * n,
    }
    return pd.DataFrame({"case_id": [case_id(i) for i in range(n)], "name": [f"Synthetic case {i + 1}" for i in range(n)],
                         **{k: ["" if v is None else str(v) for v in values] for k, values in columns.items()}})


def _read(models: Path) -> dict[str, pd.DataFrame]:
    out = {name: pd.read_csv(models / f"{name}.csv", keep_default_na=False, na_values=[""], dtype={"note": str})
           for name in ("crosstabs", "crosstab_tests", "logistic_models", "cross_validation")}
    for name, table in out.items():
        table["note"] = table["note"].fillna("")
        # every note explains itself: none is a raw Python warning
        assert not table["note"].str.contains("warning ").any(), (name, table["note"].tolist())
    return out


def run(frame: pd.DataFrame, plan: dict = PLAN) -> dict[str, pd.DataFrame]:
    """The whole analysis of the study (method as planned, `auto`; figures drawn in full, their files stand-ins:
    study_strategies.figures_drawn_not_encoded): every output written and checked
    (tests/study_strategies.check_results); then the models step again with `firth` and with `ml`,
    whose results must also give a reason for every blank. Returns the planned method's model results."""
    generated = GeneratedStudy(STUDY, CODEBOOK, plan, frame.to_dict("records"), origin="named degenerate example")
    with tempfile.TemporaryDirectory(prefix="casemeta_synthetic_") as folder:
        root = Path(folder)
        study = generated.write(root)
        try:
            written = run_analysis(study, root / "results", encode_figures=False)  # drawn, not encoded: study_strategies
            check_results(generated, root / "results", written)
            out = _read(root / "results" / STUDY / "models")
            for method in ("firth", "ml") if "models" in plan else ():
                other = {**plan, "models": {**plan["models"], "method": method}}
                study.plan_path.write_text(yaml.safe_dump(other, sort_keys=False), encoding="utf-8")
                models = root / "results" / STUDY / f"models_{method}"
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    pipeline.models_study(study, root / "results" / STUDY / "derived_cases.csv", models, DRAWS, SEED)
                problems = blank_statistics_without_note(models)
                assert not problems, f"method {method}:\n" + "\n".join(problems[:20])
                fitted = set(pd.read_csv(models / "logistic_models.csv")["model"])
                assert fitted == set(out["logistic_models"]["model"]), f"method {method}: models {fitted}"
        except Exception as exc:  # the study that failed, printed with the failure to reproduce it by hand
            exc.add_note(generated.describe())
            raise
    return out


def model(out, name) -> pd.DataFrame:
    return out["logistic_models"][out["logistic_models"]["model"] == f"y ~ {name}"].set_index("term", drop=False)


def test_no_cases():
    out = run(synthetic([]))
    # every cross-tab cell is there, counting 0 cases, including the category never used
    assert len(out["crosstabs"]) == 2 * 2 + 3 * 2 + 2 * 2 and (out["crosstabs"]["count"] == 0).all()
    assert set(out["crosstab_tests"]["note"]) == {"p-value, odds ratio and Cramér's V not computed: no cases"}
    assert out["crosstab_tests"]["p_value"].isna().all()
    assert out["logistic_models"]["note"].tolist() == ["not estimable: no cases"] * 3
    assert set(out["cross_validation"]["note"]) == {"LOO AUC and Brier score not computed: no cases"}
    assert (out["cross_validation"]["n"] == 0).all()


def test_one_case():
    out = run(synthetic([1], x=[1]))
    tests = out["crosstab_tests"].set_index("condition")
    assert tests.at["x", "note"] == "p-value, odds ratio and Cramér's V not computed: every case has the same value of x"
    assert model(out, "x")["note"].tolist() == ["not estimable: outcome y is 1 in every case"]
    assert out["cross_validation"]["note"][0] == "LOO AUC and Brier score not computed: outcome y is 1 in every case"
    assert out["cross_validation"]["base_rate"][0] == 1.0


def test_fewer_cases_than_coefficients():
    out = run(synthetic([0, 1], x=[0, 1], z=[1, 0]))
    assert model(out, "x_z")["note"].tolist() == ["not estimable: only 2 case(s) for at least 3 coefficients"]


def test_two_cases_separate_completely():
    out = run(synthetic([0, 1], x=[0, 1]))
    test = out["crosstab_tests"].set_index("condition").loc["x"]
    # [[1, 0], [0, 1]]: with margins 1, 1 both possible tables have probability 1/2, so p = 1
    assert test["p_value"] == pytest.approx(1.0)
    assert test["odds_ratio"] == np.inf and test["note"] == "odds ratio infinite: a zero cell"
    fit = model(out, "x")
    assert set(fit["method"]) == {"firth"} and fit["separation"].iloc[0].startswith("complete")
    # Firth on a 2×2 table adds 1/2 to each cell: log((1.5/0.5) / (0.5/1.5)) = log 9
    assert fit.at["x", "estimate"] == pytest.approx(np.log(9), abs=1e-6)
    assert fit[["p_value", "ci_low", "ci_high"]].notna().all().all()
    assert "LOO AUC and Brier score not computed: only 2 case(s)" in out["cross_validation"]["note"][0]


def test_outcome_with_one_class_does_not_stop_the_step():
    # the crash of issue 8: 4 cases, every one a success; sklearn refused the leave-one-out folds
    out = run(synthetic([1, 1, 1, 1]))
    tests = out["crosstab_tests"].set_index("condition")
    assert tests.at["x", "note"] == "p-value, odds ratio and Cramér's V not computed: every case has the same value of y"
    assert out["logistic_models"]["note"].tolist() == ["not estimable: outcome y is 1 in every case"] * 2 + [
        "4 of 4 case(s) left out: w missing; not estimable: no case has every variable of the model"]
    checks = out["cross_validation"].set_index("model")
    assert checks.at["y ~ x", "note"] == "LOO AUC and Brier score not computed: outcome y is 1 in every case"
    # leaving any case out, the others' base rate is 1 and the case is 1: Brier 0
    assert checks.at["y ~ x", "base_rate_brier"] == 0.0


def test_one_case_of_the_other_class():
    out = run(synthetic([0, 0, 0, 1], x=[0, 1, 0, 1]))
    test = out["crosstab_tests"].set_index("condition").loc["x"]
    # x=0: 2 failures, 0 successes; x=1: 1 and 1. Margins 2, 2 and 3, 1: the single success is in
    # x=0 or x=1 with probability 1/2 each, so two-sided p = 1; b = 0 makes the odds ratio infinite
    assert test["p_value"] == pytest.approx(1.0)
    assert test["note"] == "odds ratio infinite: a zero cell"
    fit = model(out, "x")
    assert "Firth's penalized likelihood used instead of ML" in fit.at["x", "note"]
    # Firth adds 1/2 to each cell: x=1 odds 1.5/1.5, x=0 odds 0.5/2.5, so the log odds ratio is log 5
    assert fit.at["x", "estimate"] == pytest.approx(np.log(5), abs=1e-6)
    assert fit.at["Intercept", "estimate"] == pytest.approx(np.log(0.2), abs=1e-6)
    assert fit[["p_value", "ci_low", "ci_high"]].notna().all().all()
    check = out["cross_validation"].set_index("model").loc["y ~ x"]
    # leaving out the success, the other three are failures: that fold predicts 0 (its base rate)
    assert check["note"] == ("in 1 fold(s) the other cases all had one outcome: those folds predict that outcome with probability 1; "
                             "AUC from only 1 case(s) of the rarer value of y (fewer than 10): it can swing widely; "
                             "leave-one-out also pulls it down on a small sample (each left-out case shifts the base rate "
                             "against itself: a model with no information scores near 0, not 0.5); read it as a rough "
                             "indication only")
    # base rate left-one-out: each failure gets 1/3 ((1/3)^2 each), the success gets 0 (error 1): (3/9 + 1)/4 = 1/3
    assert check["base_rate_brier"] == pytest.approx(1 / 3)
    assert np.isfinite(check["loo_auc"]) and np.isfinite(check["loo_brier"])


def test_constant_predictor():
    out = run(synthetic([0, 1, 0, 1], x=[1, 1, 1, 1]))
    tests = out["crosstab_tests"].set_index("condition")
    assert tests.at["x", "note"] == "p-value, odds ratio and Cramér's V not computed: every case has the same value of x"
    assert model(out, "x")["note"].tolist() == ["not estimable: predictor x is 1 in every case"]
    checks = out["cross_validation"].set_index("model")
    assert checks.at["y ~ x", "note"] == "LOO AUC and Brier score not computed: predictor x is 1 in every case"
    # the base rate is still there: 2 of 4; left one out, the others' share is 1/3 or 2/3, always 1/3 off: Brier 1/9 * 4 / 4
    assert checks.at["y ~ x", "base_rate"] == 0.5 and checks.at["y ~ x", "base_rate_brier"] == pytest.approx(4 / 9)


def test_category_with_one_value_used():
    plan = {"study": STUDY, "models": {"outcomes": ["y"], "predictor_sets": {"c_x": ["c", "x"]}}}
    out = run(synthetic([0, 1, 1, 0, 1, 0], x=[0, 1, 0, 1, 1, 0]), plan)
    assert out["logistic_models"]["note"].tolist() == ["not estimable: predictor c is 'a' in every case"]
    assert out["cross_validation"]["note"].tolist() == ["LOO AUC and Brier score not computed: predictor c is 'a' in every case"]


def test_complete_separation():
    out = run(synthetic([0, 0, 0, 1, 1, 1], x=[0, 0, 0, 1, 1, 1], z=[0, 1, 0, 1, 0, 1]))
    # [[3, 0], [0, 3]]: each of the two extreme tables has probability 1/C(6,3) = 1/20; two-sided p = 2/20
    assert out["crosstab_tests"].set_index("condition").at["x", "p_value"] == pytest.approx(0.1)
    fit = model(out, "x")
    # by hand: y = 0 wherever x = 0, so the intercept runs to -inf as x's coefficient runs to +inf
    assert fit["separation"].iloc[0] == "complete (+x, -Intercept infinite under ML)"
    # Firth: log((3.5/0.5) / (0.5/3.5)) = log 49
    assert fit.at["x", "estimate"] == pytest.approx(np.log(49), abs=1e-6)
    assert fit[["p_value", "ci_low", "ci_high"]].notna().all().all()


def test_quasi_complete_separation():
    out = run(synthetic([0, 0, 0, 1, 1, 1, 1], x=[0, 0, 0, 0, 1, 1, 1]))
    fit = model(out, "x")
    assert fit["separation"].iloc[0].startswith("quasi-complete")
    # Firth adds 1/2: x=1 odds 3.5/0.5 = 7, x=0 odds 1.5/3.5; log(7 * 3.5 / 1.5) = log(49/3)
    assert fit.at["x", "estimate"] == pytest.approx(np.log(49 / 3), abs=1e-6)
    assert fit[["p_value", "ci_low", "ci_high"]].notna().all().all()
    # x=0: 3 failures, 1 success; x=1: 0, 3. With margins 4, 3 and 3, 4 the failures in x=1 are
    # k = 0..3 with P = C(3,k) C(4,3-k) / 35 = 4, 18, 12, 1 (/35); two-sided p = (4 + 1)/35
    test = out["crosstab_tests"].set_index("condition").loc["x"]
    assert test["p_value"] == pytest.approx(5 / 35)
    assert test["note"] == "odds ratio infinite: a zero cell"


def test_collinear_predictors():
    x = [0, 1, 0, 1, 1, 0]
    out = run(synthetic([0, 1, 1, 0, 1, 0], x=x, z=x))
    note = model(out, "x_z")["note"].iloc[0]
    assert note.startswith("not estimable: ") and "collinear" in note
    assert out["cross_validation"].set_index("model").at["y ~ x_z", "note"].startswith("LOO AUC and Brier score not computed: ")
    # the one-predictor model of the same study is estimated
    assert model(out, "x")["p_value"].notna().all()


def test_every_optional_value_missing():
    out = run(synthetic([0, 1, 1, 0, 1, 0]))
    assert model(out, "w")["note"].tolist() == ["6 of 6 case(s) left out: w missing; not estimable: no case has every variable of the model"]
    assert out["cross_validation"].set_index("model").at["y ~ w", "note"] == (
        "6 of 6 case(s) left out: w missing; LOO AUC and Brier score not computed: no case has every variable of the model")


def test_some_optional_values_missing():
    # w is missing for 2 of 8 cases; the 6 others: w=1 -> y = 1, 1, 0; w=0 -> y = 0, 0, 1
    out = run(synthetic([1, 1, 0, 0, 0, 1, 1, 0], w=[1, 1, 1, 0, 0, 0, None, None]))
    fit = model(out, "w")
    assert set(fit["n"]) == {6}
    assert set(fit["note"]) == {"2 of 8 case(s) left out: w missing"}
    assert fit[["estimate", "std_error", "p_value", "ci_low", "ci_high"]].notna().all().all()
    # ML on the 2×2: log odds ratio = log((2/1) / (1/2)) = log 4
    assert fit.at["w", "estimate"] == pytest.approx(np.log(4), abs=1e-6)


def test_categories_never_used():
    out = run(synthetic([0, 0, 1, 1, 1, 0], c=["a", "a", "b", "b", "b", "a"]))
    rows = out["crosstabs"][out["crosstabs"]["condition"] == "c"]
    assert rows[rows["condition_value"] == "never"]["count"].tolist() == [0, 0]
    test = out["crosstab_tests"].set_index("condition").loc["c"]
    # the unused category is dropped: [[3, 0], [0, 3]] as in test_complete_separation, p = 2/20
    assert test["test"] == "Fisher exact" and test["p_value"] == pytest.approx(0.1)


def test_healthy_study():
    # the reference scenario: 8 cases, every 2×2 table of y against x and z has all four cells filled,
    # w is known for every case, both used categories occur: every statistic is computed
    out = run(synthetic([0, 1, 0, 1, 1, 0, 1, 0], x=[0, 0, 1, 1, 0, 1, 1, 0], z=[1, 0, 0, 1, 1, 0, 0, 1],
                        w=[0, 1, 1, 0, 0, 1, 1, 0], c=["a", "b", "a", "b", "a", "b", "a", "b"]))
    tests = out["crosstab_tests"].set_index("condition")
    assert tests[["p_value", "cramers_v"]].notna().all().all()
    # y against x: [[2, 2], [2, 2]] (x=0: y 0,1,1,0; x=1: y 0,1,1,0), the most probable table: p = 1, V = 0
    assert tests.at["x", "p_value"] == pytest.approx(1.0) and tests.at["x", "cramers_v"] == pytest.approx(0.0)
    models = out["logistic_models"]
    assert (models["note"] == "").all() and models[["estimate", "std_error", "p_value"]].notna().all().all()
    assert set(models["method"]) == {"ml"}  # no separation: auto keeps ML
    # ML on y ~ x: both groups 2 of 4, log odds ratio 0
    assert model(out, "x").at["x", "estimate"] == pytest.approx(0.0, abs=1e-6)
    assert out["cross_validation"][["loo_auc", "loo_brier", "base_rate_brier"]].notna().all().all()


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the dtypes load_derived gives: Int64 binaries (blank = missing)."""
    return frame.assign(**{k: pd.array([None if v == "" else int(v) for v in frame[k]], dtype="Int64") for k in "yxzw"})


def test_loo_check_with_too_few_cases_and_one_class_folds():
    assert render(loo_check(typed(synthetic([0, 1], x=[0, 1])), "y ~ x")["caveats"]).endswith("leaving one out needs at least 3")
    out = loo_check(typed(synthetic([1, 1, 1])), "y ~ x")
    assert np.isnan(out["loo_auc"]) and render(out["caveats"]).endswith("every case has the same outcome (1)")


def test_crosstab_test_at_any_total():
    # a 5×2 table of 1,000,000 cases, every row split evenly: the observed table is the most
    # probable one, so no random table is less probable: p = (draws + 1)/(draws + 1) = 1.
    # scipy's own Monte Carlo fisher_exact fails on it (cannot reshape array of size 10000 into shape (5,2)).
    even = crosstab_test(np.full((5, 2), 100_000), draws=1000, seed=3)
    assert even["p_value"] == 1.0
    assert render(even["caveats"]) == ("odds ratio defined for 2×2 tables only (this one is 5×2); "
                            "p-value by Monte Carlo (1000 draws, seed 3): too many tables to enumerate")
    # every row all in one column: far less probable than any random table, p = 1/(draws + 1)
    split = crosstab_test(np.array([[100_000, 0], [0, 100_000]] * 2 + [[50_000, 50_000]]), draws=1000, seed=3)
    assert split["p_value"] == pytest.approx(1 / 1001)

