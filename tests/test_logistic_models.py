"""Logistic models that stay honest under separation, checked against tests/data/reference (from ../shared/reference).

ML fits are computed by statsmodels' Logit, so they are held against hand-worked values and against
the definition of the ML estimate (the score equations, the inverse Fisher information), never
against Logit itself."""

import math

import numpy as np
import pandas as pd
import pytest

from casemeta.stats.caveats import render

from casemeta.errors import CasemetaError
from casemeta.stats.logistic_models import fit_logistic
from conftest import REFERENCE

REF = REFERENCE


@pytest.fixture
def endometrial():
    return pd.read_csv(REF / "endometrial.csv")


@pytest.fixture
def firth_fit(endometrial):
    """The Firth fit of HG ~ NV + PI + EH, and its terms in the reference files' order."""
    fit = fit_logistic(endometrial, "HG ~ NV + PI + EH", "firth")
    return fit, fit.terms.set_index("term").loc[["Intercept", "NV", "PI", "EH"]]


def test_firth_matches_brglm2_estimates_and_standard_errors(firth_fit):
    _, ours = firth_fit
    ref = pd.read_csv(REF / "endometrial_firth_brglm2.csv")
    np.testing.assert_allclose(ours["estimate"], ref["estimate"], atol=1e-4)
    np.testing.assert_allclose(ours["std_error"], ref["std_error"], atol=1e-4)
    np.testing.assert_allclose(ours["wald_p_value"], ref["p_value"], atol=1e-4)


def test_firth_profile_limits_and_penalized_lr_tests_match_reference(firth_fit):
    fit, ours = firth_fit
    ref = pd.read_csv(REF / "endometrial_firth_profile_ci.csv")
    np.testing.assert_allclose(ours["ci_low"], ref["ci_low"], atol=1e-4)
    np.testing.assert_allclose(ours["ci_high"], ref["ci_high"], atol=1e-4)
    np.testing.assert_allclose(ours["plr_chisq"], ref["plr_chisq"], atol=1e-4)
    np.testing.assert_allclose(ours["p_value"], ref["plr_p_value"], atol=1e-4)
    assert fit.interval == "profile penalized likelihood"


def test_auto_finds_the_quasi_complete_separation_of_nv_and_uses_firth(endometrial):
    fit = fit_logistic(endometrial, "HG ~ NV + PI + EH", "auto")
    assert fit.method == "firth"
    assert fit.separation.kind == "quasi-complete"
    assert fit.separation.infinite_terms == ("+NV",)
    assert "Firth's penalized likelihood used instead of ML" in render(fit.caveats)
    assert [(c.code, c.variables, c.value["signs"]) for c in fit.caveats] == [("separation_firth", ("NV",), ("+",))]
    assert set(fit.table()["separation"]) == {"quasi-complete (+NV infinite under ML)"}


def _ml_definition(data: pd.DataFrame, outcome: str, predictors: list[str], beta):
    """At coefficients `beta` (intercept first): the score X'(y - p), the Wald standard errors
    sqrt(diag((X'WX)^-1)) with W = diag(p(1 - p)), and the log-likelihood Σ y ln p + (1 - y) ln(1 - p),
    written out with numpy: the definitions an ML fit must satisfy."""
    X = np.column_stack([np.ones(len(data)), data[predictors].to_numpy(float)])
    y = data[outcome].to_numpy(float)
    p = 1 / (1 + np.exp(-X @ np.asarray(beta, float)))
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))))
    return X.T @ (y - p), se, float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_ml_solves_the_likelihood_equations_where_there_is_no_separation(endometrial):
    fit = fit_logistic(endometrial, "HG ~ PI + EH", "auto")
    assert fit.method == "ml" and not fit.separation.found
    terms = fit.terms.set_index("term").loc[["Intercept", "PI", "EH"]]
    score, se, loglik = _ml_definition(endometrial, "HG", ["PI", "EH"], terms["estimate"])
    # the estimate zeroes the score (each component is a sum over 79 patients of values up to |x| ~ 50)
    np.testing.assert_allclose(score, 0, atol=1e-6)
    np.testing.assert_allclose(terms["std_error"], se, rtol=1e-6)
    # Wald p = P(|Z| > |b / se|) = erfc(|z| / sqrt 2)
    wald = [math.erfc(abs(b / s) / math.sqrt(2)) for b, s in zip(terms["estimate"], terms["std_error"])]
    np.testing.assert_allclose(terms["p_value"], wald, rtol=1e-8)
    assert fit.loglik == pytest.approx(loglik, rel=1e-9)


def test_ml_estimates_worked_out_by_hand():
    # x = 0: 1 of 4 cases with y; x = 1: 3 of 4 (SYNTHETIC). ML fits each group's share:
    # Intercept = ln(1/3) = -1.098612, x = ln((3/1) / (1/3)) = ln 9 = 2.197225.
    # Woolf: se(x) = sqrt(1/1 + 1/3 + 1/3 + 1/1) = sqrt(8/3) = 1.632993, se(Intercept) = sqrt(1 + 1/3)
    # = 1.154701; z(x) = 2.197225 / 1.632993 = 1.345520, Wald p = erfc(1.345520 / sqrt 2) = 0.178457
    data = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1, 1, 0], "x": [0, 0, 0, 0, 1, 1, 1, 1]})
    terms = fit_logistic(data, "y ~ x", "ml").terms.set_index("term")
    np.testing.assert_allclose(terms["estimate"], [math.log(1 / 3), math.log(9)], atol=1e-7)
    np.testing.assert_allclose(terms["std_error"], [math.sqrt(4 / 3), math.sqrt(8 / 3)], rtol=1e-6)
    assert terms.at["x", "p_value"] == pytest.approx(math.erfc(math.log(9) / math.sqrt(8 / 3) / math.sqrt(2)), rel=1e-6)
    assert terms.at["x", "p_value"] == pytest.approx(0.178457, abs=1e-6)
    # Wald interval: ln 9 ± 1.959964 · 1.632993 = (-1.003383, 5.397832)
    assert (terms.at["x", "ci_low"], terms.at["x", "ci_high"]) == pytest.approx((-1.003383, 5.397832), abs=1e-5)


def test_sex2_dia_separates_quasi_completely():
    data = pd.read_csv(REF / "sex2.csv")
    fit = fit_logistic(data, "case ~ age + oc + vic + vicl + vis + dia", "auto")
    assert fit.method == "firth"
    assert fit.separation.infinite_terms == ("+dia",)
    assert np.isfinite(fit.terms["estimate"]).all()


def test_complete_separation_is_named_and_firth_stays_finite():
    # synthetic: x = 1 exactly when y = 1
    data = pd.DataFrame({"y": [0, 0, 0, 1, 1, 1], "x": [0, 0, 0, 1, 1, 1]})
    fit = fit_logistic(data, "y ~ x", "auto")
    assert fit.separation.kind == "complete"
    assert fit.method == "firth"
    # Firth on a 2×2 table adds 1/2 to each cell: log((3.5/0.5) / (0.5/3.5)) = log 49
    assert fit.terms.set_index("term").at["x", "estimate"] == pytest.approx(np.log(49), abs=1e-6)


def test_ml_on_separated_data_says_it_must_not_be_reported():
    data = pd.DataFrame({"y": [0, 0, 0, 1, 1, 1, 1], "x": [0, 0, 0, 0, 1, 1, 1]})
    fit = fit_logistic(data, "y ~ x", "ml")
    assert fit.method == "ml"
    assert fit.separation.kind == "quasi-complete"
    assert render(fit.caveats).startswith("WARNING: quasi-complete (+x infinite under ML)")


def test_the_25_clusters_international_sellers_separate(clusters):
    from casemeta.coded.case_table import load_cases
    from casemeta.coded.derive import derive

    frame = derive(load_cases(clusters.cases_path, clusters.codebook()), clusters.codebook())
    ml = fit_logistic(frame, "dynamic ~ sells_internationally", "ml")
    # plain ML runs off towards infinity (statsmodels stops near 24.6 with a huge standard error)
    assert ml.terms.set_index("term").at["sells_internationally", "std_error"] > 1000
    fit = fit_logistic(frame, "dynamic ~ sells_internationally", "auto")
    assert fit.method == "firth" and fit.separation.kind == "quasi-complete"
    # all 8 international sellers dynamic, 8 of 17 others: Firth = log((8.5/0.5) / (8.5/9.5))
    est = fit.terms.set_index("term")
    assert est.at["sells_internationally", "estimate"] == pytest.approx(np.log((8.5 / 0.5) / (8.5 / 9.5)), abs=1e-6)
    assert est.at["Intercept", "estimate"] == pytest.approx(np.log(8.5 / 9.5), abs=1e-6)
    assert est.at["sells_internationally", "odds_ratio"] == pytest.approx(19.0, abs=1e-4)


@pytest.mark.parametrize(
    "data, formula, message",
    [
        (pd.DataFrame({"y": [0, 1, None, 1], "x": [0, 1, 1, 0]}), "y ~ x", "missing values in rows [2]"),
        (pd.DataFrame({"y": [0, 1, 2, 1], "x": [0, 1, 1, 0]}), "y ~ x", "outcome 'y' must be binary 0/1; found values 0, 1, 2"),
        (pd.DataFrame({"y": [0, 1, 0, 1], "x": [1, 1, 1, 1]}), "y ~ x", "predictor 'x' is constant"),
        (pd.DataFrame({"y": [0, 1, 0, 1], "x": [0, 1, 1, 0], "z": [0, 2, 2, 0]}), "y ~ x + z", "are collinear"),
        (pd.DataFrame({"y": [0, 1, 0, 1], "x": [0, 1, 1, 0]}), "y ~ w", "names a variable that is not a column; columns are: y, x"),
    ],
)
def test_bad_model_input_gets_a_clear_error(data, formula, message):
    with pytest.raises(CasemetaError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fit_logistic(data, formula, "auto")


def test_fit_command_writes_one_row_per_term(tmp_path, capsys):
    from casemeta.cli import main

    out = tmp_path / "fit.csv"
    assert main(["fit", str(REF / "endometrial.csv"), "--formula", "HG ~ NV + PI + EH", "--method", "auto", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns[:7]) == ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "odds_ratio"]
    assert table["term"].tolist() == ["Intercept", "NV", "PI", "EH"]
    assert set(table["method"]) == {"firth"}
    assert table.set_index("term").at["NV", "ci_low"] == pytest.approx(0.609724, abs=1e-4)
    assert "separation found" in capsys.readouterr().err


def test_fit_command_refuses_an_unknown_variable_and_writes_nothing(tmp_path, capsys):
    from casemeta.cli import main

    data = tmp_path / "d.csv"
    data.write_text("y,x\n0,1\n1,0\n0,0\n1,1\n")
    out = tmp_path / "fit.csv"
    assert main(["fit", str(data), "--formula", "y ~ nope", "--out", str(out)]) == 1
    assert "names a variable that is not a column; columns are: y, x" in capsys.readouterr().err
    assert not out.exists()


def test_aic_and_bic_of_an_ml_model_follow_their_definitions(endometrial):
    fit = fit_logistic(endometrial, "HG ~ PI + EH", "ml")
    row = fit.table().iloc[0]
    assert row["loglik_kind"] == "ordinary"
    _, _, loglik = _ml_definition(endometrial, "HG", ["PI", "EH"], fit.terms["estimate"])
    # AIC = -2 l + 2k, BIC = -2 l + k ln n, with k = 3 coefficients and n = 79 patients
    np.testing.assert_allclose([row["aic"], row["bic"]], [-2 * loglik + 2 * 3, -2 * loglik + 3 * math.log(79)], rtol=1e-8)
    assert row["n_events"] == int(endometrial["HG"].sum()) == 30  # 30 of 79, as logistf prints the event rate


def test_fit_statistics_worked_out_by_hand():
    # x = 0: 1 of 4 cases with the outcome; x = 1: 3 of 4. ML fits each group's share: 0.25 and 0.75.
    # log-likelihood = 2 (ln 0.25 + 3 ln 0.75) = -4.498681; k = 2 coefficients, n = 8:
    # AIC = 8.997362 + 4 = 12.997362, BIC = 8.997362 + 2 ln 8 = 13.156245.
    # Tjur: events have fitted 0.25 once and 0.75 three times (mean 0.625); non-events 0.25 three
    # times and 0.75 once (mean 0.375): R² = 0.25.
    data = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1, 1, 0], "x": [0, 0, 0, 0, 1, 1, 1, 1]})
    row = fit_logistic(data, "y ~ x", "ml").table().iloc[0]
    np.testing.assert_allclose([row["loglik"], row["aic"], row["bic"], row["tjur_r2"]],
                               [-4.498681, 12.997362, 13.156245, 0.25], atol=1e-6)
    assert row["n_events"] == 4


def test_a_firth_fit_says_its_log_likelihood_is_penalized(endometrial):
    row = fit_logistic(endometrial, "HG ~ NV + PI + EH", "firth").table().iloc[0]
    assert row["loglik_kind"] == "penalized"
    assert row["aic"] == pytest.approx(-2 * row["loglik"] + 2 * 4)
