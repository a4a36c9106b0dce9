"""casemeta's own penalized-likelihood refits, the fallback where firthmodels gives no PLR p-value or profile limit.

Checked against tests/data/reference (R logistf 1.26.1 and the independent profile computation of
endometrial_firth_profile_ci.csv), never against firthmodels itself.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from casemeta.stats import firth_profile
from casemeta.stats.logistic_models import fit_logistic
from conftest import REFERENCE

# R logistf 1.26.1, HG ~ NV + EH on endometrial.csv: NV's penalized likelihood-ratio p-value
LOGISTF_NV_P = 0.01056162


def _own_fit(data, columns):
    X = np.c_[np.ones(len(data)), data[columns].to_numpy(float)]
    y = data["HG"].to_numpy(float)
    found = firth_profile.fit(X, y)
    cov = np.linalg.inv(firth_profile.quantities(found.beta, X, y).info)
    return X, y, found, cov


def test_own_refit_matches_every_reference_limit_and_test():
    data = pd.read_csv(REFERENCE / "endometrial.csv")
    ref = pd.read_csv(REFERENCE / "endometrial_firth_profile_ci.csv")
    X, y, found, cov = _own_fit(data, ["NV", "PI", "EH"])
    assert found.converged
    np.testing.assert_allclose(found.beta, ref["estimate"], atol=2e-6)
    for j in range(4):
        chisq, p, why = firth_profile.lr_test(X, y, found.beta, found.loglik, cov, j)
        low, _ = firth_profile.profile_limit(X, y, found.beta, found.loglik, cov, j, -1)
        high, _ = firth_profile.profile_limit(X, y, found.beta, found.loglik, cov, j, +1)
        assert why == ""
        # the reference prints 6 decimals (and p to 6 significant digits)
        assert chisq == pytest.approx(ref["plr_chisq"][j], abs=2e-6)
        assert p == pytest.approx(ref["plr_p_value"][j], rel=2e-5)
        assert low == pytest.approx(ref["ci_low"][j], abs=2e-6)
        assert high == pytest.approx(ref["ci_high"][j], abs=2e-6)


def test_own_refit_gives_logistfs_nv_p_value():
    data = pd.read_csv(REFERENCE / "endometrial.csv")
    X, y, found, cov = _own_fit(data, ["NV", "EH"])
    _, p, why = firth_profile.lr_test(X, y, found.beta, found.loglik, cov, 1)
    assert why == ""
    assert p == pytest.approx(LOGISTF_NV_P, abs=1e-8)


def test_fit_logistic_gives_the_p_value_firthmodels_leaves_blank():
    # firthmodels 0.8.2's constrained refit of NV = 0 stops in step halving (ConvergenceWarning, NaN);
    # casemeta's own inference (used for every term since issue 13) computes it, so no note is needed
    data = pd.read_csv(REFERENCE / "endometrial.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_logistic(data, "HG ~ NV + EH", "firth")
    table = fit.table().set_index("term")
    assert table.at["NV", "p_value"] == pytest.approx(LOGISTF_NV_P, abs=1e-8)
    assert table.at["NV", "note"] == ""
    assert table["p_value"].notna().all() and table["ci_low"].notna().all() and table["ci_high"].notna().all()
    assert table.at["EH", "note"] == ""


def test_profile_limit_of_a_two_case_complete_separation():
    # synthetic: two cases, y = x. Firth's estimate of the slope is log 9 (1/2 added to each cell of
    # [[1, 0], [0, 1]]: (1.5/0.5)/(0.5/1.5) = 9); both profile limits are finite and bracket it.
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0])
    found = firth_profile.fit(X, y)
    assert found.beta[1] == pytest.approx(np.log(9), abs=1e-8)
    cov = np.linalg.inv(firth_profile.quantities(found.beta, X, y).info)
    low, why_low = firth_profile.profile_limit(X, y, found.beta, found.loglik, cov, 1, -1)
    high, why_high = firth_profile.profile_limit(X, y, found.beta, found.loglik, cov, 1, +1)
    assert why_low == why_high == ""
    assert low < np.log(9) < high


def test_one_more_african_case_keeps_every_joint_action_p_value(clusters):
    from casemeta.coded.case_table import load_cases
    from casemeta.coded.derive import derive

    columns = ["upgrading", "sells_internationally", "any_joint_action", "any_support"]
    frame = derive(load_cases(clusters.cases_path, clusters.codebook()), clusters.codebook())[columns].astype(int)
    # SYNTHETIC 26th case (not in the paper): no upgrading, domestic seller, with joint action and support.
    # firthmodels' refit of any_joint_action = 0 then stops in step halving and leaves the p-value blank.
    frame = pd.concat([frame, pd.DataFrame([[0, 0, 1, 1]], columns=columns)], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_logistic(frame, "upgrading ~ sells_internationally + any_joint_action + any_support", "auto")
    table = fit.table().set_index("term")
    assert table[["p_value", "ci_low", "ci_high"]].notna().all().all()
    # the statistic is the penalized likelihood ratio: its p-value is the chi-square(1) tail of it,
    # P(chi2_1 > x) = P(|Z| > sqrt x) = erfc(sqrt(x / 2))
    chisq = table.at["any_joint_action", "plr_chisq"]
    assert table.at["any_joint_action", "p_value"] == pytest.approx(math.erfc(math.sqrt(chisq / 2)), rel=1e-9)


def test_fit_command_writes_the_p_value_and_its_note_and_no_warning(tmp_path, capfd):
    from casemeta.cli import main

    out = tmp_path / "fit.csv"
    args = ["fit", str(REFERENCE / "endometrial.csv"), "--formula", "HG ~ NV + EH", "--method", "firth", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out).set_index("term")
    assert table.at["NV", "p_value"] == pytest.approx(LOGISTF_NV_P, abs=1e-8)
    assert "Warning" not in capfd.readouterr().err
