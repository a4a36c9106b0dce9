"""Degenerate studies: every size from 0 cases, one outcome class, separation, collinearity, missing values.

Every frame here is SYNTHETIC, made up to put the analysis in one corner; none is data. Where a
number is computed it is worked out by hand in a comment; where it cannot be, the note says why.
Each test runs with warnings turned into errors: no warning may reach the user's terminal.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from casemeta.coded.codebook import Category, Codebook, Variable
from casemeta.stats.cross_validation import loo_check
from casemeta.stats.exact_tests import crosstab_test
from casemeta.stats.logistic_models import fit_logistic
from casemeta.steps.model_runs import run_models

CODEBOOK = Codebook(
    study="synthetic",
    title="Synthetic degenerate study",
    variables=(
        Variable("case_id", "Case", "identifier"),
        Variable("y", "Outcome", "binary"),
        Variable("x", "Condition x", "binary"),
        Variable("z", "Condition z", "binary"),
        Variable("w", "Optional condition w", "binary", missing="allowed"),
        Variable("c", "Category c", "category", values=(Category("a", "A"), Category("b", "B"), Category("never", "Never used"))),
    ),
)
PLAN = {
    "crosstabs": {"outcomes": ["y"], "conditions": ["x", "c"]},
    "models": {"outcomes": ["y"], "predictor_sets": {"x": ["x"], "x_z": ["x", "z"], "w": ["w"]}, "method": "auto"},
}


def synthetic(y, x=None, z=None, w=None, c=None) -> pd.DataFrame:
    """A synthetic study frame with the dtypes load_derived gives: Int64 binaries, string categories."""
    n = len(y)
    frame = pd.DataFrame({
        "case_id": [f"case_{i}" for i in range(n)],
        "y": y,
        "x": x if x is not None else [i % 2 for i in range(n)],
        "z": z if z is not None else [(i // 2) % 2 for i in range(n)],
        "w": w if w is not None else [pd.NA] * n,
    })
    for name in ("y", "x", "z", "w"):
        frame[name] = frame[name].astype("Int64")
    frame["c"] = pd.array(c if c is not None else ["a"] * n, dtype="string")
    return frame


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def run(frame, tmp_path, plan=PLAN) -> dict[str, pd.DataFrame]:
    run_models(frame, plan, CODEBOOK, tmp_path, draws=2000, seed=1)
    out = {name: pd.read_csv(tmp_path / f"{name}.csv", keep_default_na=False, na_values=[""], dtype={"note": str})
           for name in ("crosstabs", "crosstab_tests", "logistic_models", "cross_validation")}
    for name, table in out.items():
        table["note"] = table["note"].fillna("")
        # every note explains itself: none is a raw Python warning
        assert not table["note"].str.contains("warning ").any(), (name, table["note"].tolist())
    return out


def model(out, name) -> pd.DataFrame:
    return out["logistic_models"][out["logistic_models"]["model"] == f"y ~ {name}"].set_index("term", drop=False)


def test_no_cases(tmp_path):
    out = run(synthetic([]), tmp_path)
    # every cross-tab cell is there, counting 0 cases, including the category never used
    assert len(out["crosstabs"]) == 2 * 2 + 3 * 2 and (out["crosstabs"]["count"] == 0).all()
    assert set(out["crosstab_tests"]["note"]) == {"p-value, odds ratio and Cramér's V not computed: no cases"}
    assert out["crosstab_tests"]["p_value"].isna().all()
    assert out["logistic_models"]["note"].tolist() == ["not estimable: no cases"] * 3
    assert set(out["cross_validation"]["note"]) == {"LOO AUC and Brier score not computed: no cases"}
    assert (out["cross_validation"]["n"] == 0).all()


def test_one_case(tmp_path):
    out = run(synthetic([1], x=[1]), tmp_path)
    tests = out["crosstab_tests"].set_index("condition")
    assert tests.at["x", "note"] == "p-value, odds ratio and Cramér's V not computed: every case has the same value of 'x'"
    assert model(out, "x")["note"].tolist() == ["not estimable: outcome 'y' is 1 in every case"]
    assert out["cross_validation"]["note"][0] == "LOO AUC and Brier score not computed: outcome 'y' is 1 in every case"
    assert out["cross_validation"]["base_rate"][0] == 1.0


def test_fewer_cases_than_coefficients(tmp_path):
    out = run(synthetic([0, 1], x=[0, 1], z=[1, 0]), tmp_path)
    assert model(out, "x_z")["note"].tolist() == ["not estimable: only 2 case(s) for at least 3 coefficients"]


def test_two_cases_separate_completely(tmp_path):
    out = run(synthetic([0, 1], x=[0, 1]), tmp_path)
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


def test_outcome_with_one_class_does_not_stop_the_step(tmp_path):
    # the crash of issue 8: 4 cases, every one a success; sklearn refused the leave-one-out folds
    out = run(synthetic([1, 1, 1, 1]), tmp_path)
    tests = out["crosstab_tests"].set_index("condition")
    assert tests.at["x", "note"] == "p-value, odds ratio and Cramér's V not computed: every case has the same value of 'y'"
    assert out["logistic_models"]["note"].tolist() == ["not estimable: outcome 'y' is 1 in every case"] * 2 + [
        "4 of 4 case(s) left out: w missing; not estimable: no case has every variable of the model"]
    checks = out["cross_validation"].set_index("model")
    assert checks.at["y ~ x", "note"] == "LOO AUC and Brier score not computed: outcome 'y' is 1 in every case"
    # leaving any case out, the others' base rate is 1 and the case is 1: Brier 0
    assert checks.at["y ~ x", "base_rate_brier"] == 0.0


def test_one_case_of_the_other_class(tmp_path):
    out = run(synthetic([0, 0, 0, 1], x=[0, 1, 0, 1]), tmp_path)
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
    assert check["note"] == "in 1 fold(s) the other cases all had one outcome: those folds predict that outcome with probability 1"
    # base rate left-one-out: each failure gets 1/3 ((1/3)^2 each), the success gets 0 (error 1): (3/9 + 1)/4 = 1/3
    assert check["base_rate_brier"] == pytest.approx(1 / 3)
    assert np.isfinite(check["loo_auc"]) and np.isfinite(check["loo_brier"])


def test_constant_predictor(tmp_path):
    out = run(synthetic([0, 1, 0, 1], x=[1, 1, 1, 1]), tmp_path)
    tests = out["crosstab_tests"].set_index("condition")
    assert tests.at["x", "note"] == "p-value, odds ratio and Cramér's V not computed: every case has the same value of 'x'"
    assert model(out, "x")["note"].tolist() == ["not estimable: predictor 'x' is 1 in every case"]
    checks = out["cross_validation"].set_index("model")
    assert checks.at["y ~ x", "note"] == "LOO AUC and Brier score not computed: predictor 'x' is 1 in every case"
    # the base rate is still there: 2 of 4; left one out, the others' share is 1/3 or 2/3, always 1/3 off: Brier 1/9 * 4 / 4
    assert checks.at["y ~ x", "base_rate"] == 0.5 and checks.at["y ~ x", "base_rate_brier"] == pytest.approx(4 / 9)


def test_category_with_one_value_used(tmp_path):
    plan = {"models": {"outcomes": ["y"], "predictor_sets": {"c_x": ["c", "x"]}}}
    out = run(synthetic([0, 1, 1, 0, 1, 0], x=[0, 1, 0, 1, 1, 0]), tmp_path, plan)
    assert out["logistic_models"]["note"].tolist() == ["not estimable: predictor 'c' is 'a' in every case"]
    assert out["cross_validation"]["note"].tolist() == ["LOO AUC and Brier score not computed: predictor 'c' is 'a' in every case"]


def test_complete_separation(tmp_path):
    out = run(synthetic([0, 0, 0, 1, 1, 1], x=[0, 0, 0, 1, 1, 1], z=[0, 1, 0, 1, 0, 1]), tmp_path)
    # [[3, 0], [0, 3]]: each of the two extreme tables has probability 1/C(6,3) = 1/20; two-sided p = 2/20
    assert out["crosstab_tests"].set_index("condition").at["x", "p_value"] == pytest.approx(0.1)
    fit = model(out, "x")
    # by hand: y = 0 wherever x = 0, so the intercept runs to -inf as x's coefficient runs to +inf
    assert fit["separation"].iloc[0] == "complete (+x, -Intercept infinite under ML)"
    # Firth: log((3.5/0.5) / (0.5/3.5)) = log 49
    assert fit.at["x", "estimate"] == pytest.approx(np.log(49), abs=1e-6)
    assert fit[["p_value", "ci_low", "ci_high"]].notna().all().all()


def test_quasi_complete_separation():
    data = synthetic([0, 0, 0, 1, 1, 1, 1], x=[0, 0, 0, 0, 1, 1, 1])
    fit = fit_logistic(data, "y ~ x", "auto")
    assert fit.separation.kind == "quasi-complete"
    terms = fit.table().set_index("term")
    # Firth adds 1/2: x=1 odds 3.5/0.5 = 7, x=0 odds 1.5/3.5; log(7 * 3.5 / 1.5) = log(49/3)
    assert terms.at["x", "estimate"] == pytest.approx(np.log(49 / 3), abs=1e-6)
    assert terms[["p_value", "ci_low", "ci_high"]].notna().all().all()
    # x=0: 3 failures, 1 success; x=1: 0, 3. With margins 4, 3 and 3, 4 the failures in x=1 are
    # k = 0..3 with P = C(3,k) C(4,3-k) / 35 = 4, 18, 12, 1 (/35); two-sided p = (4 + 1)/35
    test = crosstab_test([[3, 1], [0, 3]])
    assert test["p_value"] == pytest.approx(5 / 35)
    assert test["note"] == "odds ratio infinite: a zero cell"


def test_collinear_predictors(tmp_path):
    x = [0, 1, 0, 1, 1, 0]
    out = run(synthetic([0, 1, 1, 0, 1, 0], x=x, z=x), tmp_path)
    note = model(out, "x_z")["note"].iloc[0]
    assert note.startswith("not estimable: ") and "collinear" in note
    assert out["cross_validation"].set_index("model").at["y ~ x_z", "note"].startswith("LOO AUC and Brier score not computed: ")
    # the one-predictor model of the same study is estimated
    assert model(out, "x")["p_value"].notna().all()


def test_every_optional_value_missing(tmp_path):
    out = run(synthetic([0, 1, 1, 0, 1, 0]), tmp_path)
    assert model(out, "w")["note"].tolist() == ["6 of 6 case(s) left out: w missing; not estimable: no case has every variable of the model"]
    assert out["cross_validation"].set_index("model").at["y ~ w", "note"] == (
        "6 of 6 case(s) left out: w missing; LOO AUC and Brier score not computed: no case has every variable of the model")


def test_some_optional_values_missing(tmp_path):
    # w is missing for 2 of 8 cases; the 6 others: w=1 -> y = 1, 1, 0; w=0 -> y = 0, 0, 1
    out = run(synthetic([1, 1, 0, 0, 0, 1, 1, 0], w=[1, 1, 1, 0, 0, 0, None, None]), tmp_path)
    fit = model(out, "w")
    assert set(fit["n"]) == {6}
    assert set(fit["note"]) == {"2 of 8 case(s) left out: w missing"}
    assert fit[["estimate", "std_error", "p_value", "ci_low", "ci_high"]].notna().all().all()
    # ML on the 2×2: log odds ratio = log((2/1) / (1/2)) = log 4
    assert fit.at["w", "estimate"] == pytest.approx(np.log(4), abs=1e-6)


def test_categories_never_used(tmp_path):
    out = run(synthetic([0, 0, 1, 1, 1, 0], c=["a", "a", "b", "b", "b", "a"]), tmp_path)
    rows = out["crosstabs"][out["crosstabs"]["condition"] == "c"]
    assert rows[rows["condition_value"] == "never"]["count"].tolist() == [0, 0]
    test = out["crosstab_tests"].set_index("condition").loc["c"]
    # the unused category is dropped: [[3, 0], [0, 3]] as in test_complete_separation, p = 2/20
    assert test["test"] == "Fisher exact" and test["p_value"] == pytest.approx(0.1)


def test_loo_check_with_too_few_cases_and_one_class_folds():
    assert loo_check(synthetic([0, 1], x=[0, 1]), "y ~ x")["note"].endswith("leaving one out needs at least 3")
    out = loo_check(synthetic([1, 1, 1]), "y ~ x")
    assert np.isnan(out["loo_auc"]) and out["note"].endswith("every case has the same outcome (1)")


def test_crosstab_test_at_any_total():
    # a 5×2 table of 1,000,000 cases, every row split evenly: the observed table is the most
    # probable one, so no random table is less probable: p = (draws + 1)/(draws + 1) = 1.
    # scipy's own Monte Carlo fisher_exact fails on it (cannot reshape array of size 10000 into shape (5,2)).
    even = crosstab_test(np.full((5, 2), 100_000), draws=1000, seed=3)
    assert even["p_value"] == 1.0
    assert even["note"] == ("odds ratio defined for 2×2 tables only (this one is 5×2); "
                            "p-value by Monte Carlo (1000 draws, seed 3): too many tables to enumerate")
    # every row all in one column: far less probable than any random table, p = 1/(draws + 1)
    split = crosstab_test(np.array([[100_000, 0], [0, 100_000]] * 2 + [[50_000, 50_000]]), draws=1000, seed=3)
    assert split["p_value"] == pytest.approx(1 / 1001)

