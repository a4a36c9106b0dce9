"""FLIC, FLAC and joint (nested) penalized likelihood-ratio tests, against R logistf 1.26.1
(tests/data/reference/endometrial_flic_flac_logistf.txt and the sex2 test of issue 13)."""


import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.stats.logistic_models import design, fit_logistic
from conftest import REFERENCE

FORMULA = "HG ~ NV + PI + EH"
SEX2 = "case ~ age + oc + vic + vicl + vis + dia"


def logistf_section(title: str) -> pd.DataFrame:
    """One block of the logistf output: coef, lo, hi, p per term."""
    text = (REFERENCE / "endometrial_flic_flac_logistf.txt").read_text()
    block = text.split(f"== endometrial {title}")[1].split("pred mean")[0]
    rows = [line.split() for line in block.strip().splitlines()[1:]]
    frame = pd.DataFrame(rows, columns=["term", "coef", "lo", "hi", "p"]).set_index("term")
    return frame.rename(index={"(Intercept)": "Intercept"}).astype(float)


@pytest.fixture(scope="module")
def endometrial():
    return pd.read_csv(REFERENCE / "endometrial.csv")


def _mean_prediction(data, fit):
    y, X, names, _ = design(data, FORMULA)
    beta = fit.terms.set_index("term").loc[names, "estimate"].to_numpy(float)
    return float(expit(X @ beta).mean()), float(y.mean())


@pytest.mark.parametrize("correction, title", [("flic", "FLIC"), ("flac", "FLAC")])
def test_flic_and_flac_equal_logistf(endometrial, correction, title):
    ref = logistf_section(title)
    table = fit_logistic(endometrial, FORMULA, "firth", correction=correction).table().set_index("term")
    for term in ref.index:
        assert table.at[term, "estimate"] == pytest.approx(ref.at[term, "coef"], abs=1e-4), term
        assert table.at[term, "ci_low"] == pytest.approx(ref.at[term, "lo"], abs=1e-4), term
        assert table.at[term, "ci_high"] == pytest.approx(ref.at[term, "hi"], abs=1e-4), term
        if not (correction == "flic" and term == "Intercept"):  # logistf's FLIC intercept p: see below
            assert table.at[term, "p_value"] == pytest.approx(ref.at[term, "p"], rel=1e-4), term
    assert (table["correction"] == correction).all()


def test_flic_intercept_p_value_is_the_wald_p_of_its_own_interval(endometrial):
    # logistf prints the p-value of the intercept-only glm with the slopes as offset (4e-33), which ignores
    # the slopes' uncertainty; casemeta gives the Wald p-value that goes with the interval it shares with logistf
    row = fit_logistic(endometrial, FORMULA, "firth", correction="flic").table().set_index("term").loc["Intercept"]
    z = row["estimate"] / row["std_error"]
    assert row["ci_high"] - row["estimate"] == pytest.approx(1.959964 * row["std_error"], rel=1e-6)
    # two-sided normal tail: P(|Z| > |z|) = erfc(|z| / sqrt 2)
    assert row["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    assert "FLIC intercept" in row["note"]


@pytest.mark.parametrize("correction", ["flic", "flac"])
def test_mean_predicted_probability_equals_the_event_rate(endometrial, correction):
    mean, rate = _mean_prediction(endometrial, fit_logistic(endometrial, FORMULA, "firth", correction=correction))
    assert rate == pytest.approx(0.3797468, abs=1e-7)  # 30 of 79, as logistf prints it
    assert mean == pytest.approx(rate, abs=1e-9)


def test_plain_firth_misses_the_event_rate_as_logistf_does(endometrial):
    mean, rate = _mean_prediction(endometrial, fit_logistic(endometrial, FORMULA, "firth"))
    assert mean == pytest.approx(0.3782866, abs=1e-6)  # logistf's "pred mean" of the Firth fit
    assert abs(mean - rate) > 1e-3


def test_joint_penalized_lr_test_equals_logistf_on_sex2():
    # issue 13: logistf's anova of case ~ age + oc + vic + vicl + vis + dia against case ~ age + oc + dia
    data = pd.read_csv(REFERENCE / "sex2.csv")
    fit = fit_logistic(data, SEX2, "firth", tests=["vic + vicl + vis"])
    row = fit.table().set_index("term").loc["joint test: vic + vicl + vis"]
    assert row["plr_chisq"] == pytest.approx(36.29755, abs=1e-5)
    assert "on 3 df" in row["note"]
    # chi-square(3) tail in closed form: P(chi2_3 > x) = erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2);
    # at x = 36.29755: 1.69377e-9 + 4.807051 · 1.312463e-8 = 6.47845e-8
    assert row["p_value"] == pytest.approx(6.478454e-08, rel=1e-5)
    assert np.isnan(row["estimate"])


def test_joint_ml_lr_test_is_the_deviance_difference():
    # ML: the test equals the difference of the two models' log-likelihoods, each fitted on its own
    data = pd.read_csv(REFERENCE / "sex2.csv")
    fit = fit_logistic(data, "case ~ age + oc + vic + vicl + vis", "ml", tests=["vic + vicl"])
    reduced = fit_logistic(data, "case ~ age + oc + vis", "ml")
    row = fit.table().set_index("term").loc["joint test: vic + vicl"]
    assert row["plr_chisq"] == pytest.approx(2 * (fit.loglik - reduced.loglik), abs=1e-7)


def test_a_term_set_outside_the_model_is_refused():
    data = pd.read_csv(REFERENCE / "sex2.csv")
    with pytest.raises(CasemetaError, match=r"term set 'vic \+ age:oc': 'age:oc' is not a term of"):
        fit_logistic(data, SEX2, "firth", tests=["vic + age:oc"])
    with pytest.raises(CasemetaError, match="FLIC and FLAC correct Firth fits"):
        fit_logistic(data, SEX2, "ml", correction="flic")


def test_wald_interval_option(endometrial):
    table = fit_logistic(endometrial, FORMULA, "firth", interval="wald").table().set_index("term")
    assert (table["interval"] == "Wald").all()
    assert table.at["EH", "ci_low"] == pytest.approx(table.at["EH", "estimate"] - 1.959964 * table.at["EH", "std_error"], rel=1e-6)
    # the p-values stay penalized likelihood-ratio ones (Heinze and Schemper's EH: 2.506867e-05 in logistf)
    assert table.at["EH", "p_value"] == pytest.approx(2.506867e-05, rel=1e-5)


def test_fit_command_takes_correction_tests_and_interval(tmp_path):
    out = tmp_path / "fit.csv"
    args = ["fit", str(REFERENCE / "sex2.csv"), "--formula", SEX2, "--method", "firth", "--correction", "flac",
            "--test", "vic + vicl + vis", "--test", "dia", "--interval", "wald", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out)
    assert table["term"].tolist()[-2:] == ["joint test: vic + vicl + vis", "joint test: dia"]
    assert table.loc[table["term"] == "joint test: vic + vicl + vis", "plr_chisq"].iloc[0] == pytest.approx(36.29755, abs=1e-5)
    assert set(table["correction"]) == {"flac"}


@pytest.mark.parametrize("correction, shown", [("flic", "Firth (FLIC)"), ("flac", "Firth (FLAC)"), ("none", "Firth")])
def test_fit_table_names_the_correction_in_the_method_row(tmp_path, correction, shown):
    """Issue 20: `fit --correction flic --table` labelled the model only "Firth"."""
    table = tmp_path / "model.md"
    args = ["fit", str(REFERENCE / "endometrial.csv"), "--formula", FORMULA, "--method", "firth", "--correction", correction,
            "--interval", "wald", "--out", str(tmp_path / "fit.csv"), "--table", str(table)]
    assert main(args) == 0
    rows = [line for line in table.read_text().splitlines() if line.startswith("| Method |")]
    assert rows == [f"| Method | {shown} |"], rows


def test_plan_models_write_joint_tests_and_the_model_table_shows_them(clusters):
    from casemeta.coded.case_table import load_cases
    from casemeta.coded.derive import derive
    from casemeta.plan import plan_from_dict
    from casemeta.publish.tables import model_tables
    from casemeta.stats.study_analysis import MODEL_COLUMNS, model_rows

    codebook = clusters.codebook()
    frame = derive(load_cases(clusters.cases_path, codebook), codebook)
    plan = {"models": {"outcomes": ["upgrading"], "method": "firth", "correction": "flic",
                       "predictor_sets": {"together": ["sells_internationally", "any_joint_action", "any_support"]},
                       "tests": ["any_joint_action + any_support"]}}
    plan = plan_from_dict(plan, codebook)
    (spec,) = plan.models
    table, _ = model_rows(frame, spec, clusters.name)
    table = table.reindex(columns=MODEL_COLUMNS)
    joint = table[table["term"] == "joint test: any_joint_action + any_support"].iloc[0]
    assert joint["model"] == "upgrading ~ together" and joint["correction"] == "flic"
    assert 0 < joint["p_value"] < 1 and "on 2 df" in joint["note"]
    (pub,) = model_tables(table, plan, codebook)
    rows = pub.frame.iloc[:, 0].tolist()
    label = next(r for r in rows if r.startswith("Joint test: "))
    cell = pub.frame.loc[rows.index(label)].iloc[1]
    assert cell.startswith("p = ")
    assert any("on 2 df" in note for note in pub.footnotes())
