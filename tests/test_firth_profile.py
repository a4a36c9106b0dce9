"""casemeta's own penalized-likelihood refits, the fallback where firthmodels gives no PLR p-value or profile limit.

Checked against tests/data/reference (R logistf 1.26.1 and the independent profile computation of
endometrial_firth_profile_ci.csv), never against firthmodels itself.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from casemeta.stats import firth_profile
from casemeta.stats.logistic_models import fit_firth, fit_logistic
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
    # all together in lockstep (what fit_firth uses) and one at a time: both equal the reference
    tests, limits = firth_profile.inference(X, y, found.beta, found.loglik, cov, range(4), [(j, s) for j in range(4) for s in (-1, 1)])
    for j in range(4):
        one_by_one = [firth_profile.lr_test(X, y, found.beta, found.loglik, cov, j),
                      firth_profile.profile_limit(X, y, found.beta, found.loglik, cov, j, -1),
                      firth_profile.profile_limit(X, y, found.beta, found.loglik, cov, j, +1)]
        for (chisq, p, why), (low, why_low), (high, why_high) in (one_by_one, (tests[j], limits[2 * j], limits[2 * j + 1])):
            assert why == why_low == why_high == ""
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


# --- casemeta's fast inference against a slow, straightforward one --------------------------------------
# The definitions, written as plainly as possible and solved by generic SciPy routines: the penalized
# log-likelihood with the full n x n hat matrix, each constrained maximum by BFGS over the free
# coefficients, each profile limit by brentq on the profile itself (in a bracket of -+1e-4 around
# casemeta's limit, to keep the test quick), each test by the constrained maximum at 0 (logistf's PLR
# test: the others refitted with the full design's Firth penalty).

def _slow_loglik_and_score(beta, X, y, weights=None):
    """Firth's penalized log-likelihood and its gradient; with weights, the weighted plain log-likelihood (FLAC's)."""
    p = 1 / (1 + np.exp(-(X @ beta)))
    if weights is not None:
        return np.sum(weights * (y * np.log(p) + (1 - y) * np.log(1 - p))), X.T @ (weights * (y - p))
    W = np.diag(p * (1 - p))
    info = X.T @ W @ X
    hat = np.diag(np.sqrt(W) @ X @ np.linalg.inv(info) @ X.T @ np.sqrt(W))
    loglik = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * np.linalg.slogdet(info)[1]
    return loglik, X.T @ (y - p + hat * (0.5 - p))


def _slow_max(X, y, fixed=(), values=(), start=None, weights=None):
    """max of the penalized log-likelihood with b[fixed] = values, by BFGS over the others (from `start`)."""
    free = [j for j in range(X.shape[1]) if j not in fixed]

    def full(b_free):
        beta = np.zeros(X.shape[1])
        beta[free], beta[list(fixed)] = b_free, values
        return beta

    def minus(b_free):
        loglik, score = _slow_loglik_and_score(full(b_free), X, y, weights)
        return -loglik, -score[free]

    begin = np.zeros(len(free)) if start is None else start[free]
    found = optimize.minimize(minus, begin, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 1000})
    return full(found.x), -found.fun


def _slow_limit(X, y, beta_hat, loglik_hat, j, near, weights=None):
    """The profile limit nearest `near`: brentq on the profile between near -+ 1e-4 (`near` only narrows
    the search; if the limit is not within 1e-4 of it, there is no sign change and the test fails)."""
    crit = stats.chi2.ppf(0.95, 1)
    last = [beta_hat]

    def excess(value):
        last[0], loglik = _slow_max(X, y, (j,), (value,), last[0], weights)  # from the last solution, which is close
        return 2 * (loglik_hat - loglik) - crit

    low, high = near - 1e-4, near + 1e-4
    assert np.sign(excess(low)) != np.sign(excess(high)), f"no profile limit of b{j} within 1e-4 of {near}"
    return optimize.brentq(excess, low, high, xtol=1e-10)


def _synthetic_design(seed: int, n: int, k: int, separated: bool):
    """SYNTHETIC: an intercept and k - 1 normal predictors; `separated`: the last one is a 0/1 indicator
    with no case of y = 0 where it is 1 (quasi-complete separation, where Firth's penalty matters most)."""
    rng = np.random.default_rng(seed)
    X = np.c_[np.ones(n), rng.normal(size=(n, k - 1))]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ rng.normal(scale=0.8, size=k))))).astype(float)
    if separated:
        X[:, -1] = (rng.random(n) < 0.2) * y
    return X, y


@pytest.mark.parametrize("seed, n, k, separated", [(2, 80, 4, False), (3, 60, 3, True)])
def test_fast_inference_equals_the_slow_definitions_on_synthetic_designs(seed, n, k, separated):
    X, y = _synthetic_design(seed, n, k, separated)
    names = [f"b{j}" for j in range(k)]
    terms, loglik, caveats, _ = fit_firth(y, X, names)
    beta_slow, loglik_slow = _slow_max(X, y)
    np.testing.assert_allclose(terms["estimate"], beta_slow, atol=1e-6)
    assert loglik == pytest.approx(loglik_slow, abs=1e-9)
    for j in range(k):
        chisq = 2 * (loglik_slow - _slow_max(X, y, (j,), (0.0,), beta_slow)[1])
        assert terms["plr_chisq"][j] == pytest.approx(chisq, abs=1e-6)
        assert terms["p_value"][j] == pytest.approx(stats.chi2.sf(chisq, 1), abs=1e-6, rel=1e-6)
        for column in ("ci_low", "ci_high"):
            limit = _slow_limit(X, y, beta_slow, loglik_slow, j, terms[column][j])
            assert terms[column][j] == pytest.approx(limit, abs=1e-6), (names[j], column)
    assert not caveats


def test_fast_joint_test_equals_the_slow_definition():
    X, y = _synthetic_design(2, 80, 4, False)  # SYNTHETIC
    beta, loglik = _slow_max(X, y)
    cov = np.linalg.inv(firth_profile.quantities(beta, X, y).info)
    (chisq, p, why), = firth_profile.inference(X, y, beta, loglik, cov, tests=[[1, 3]])[0]
    slow = 2 * (loglik - _slow_max(X, y, (1, 3), (0.0, 0.0), beta)[1])
    assert why == ""
    assert chisq == pytest.approx(slow, abs=1e-6)
    assert p == pytest.approx(stats.chi2.sf(slow, 2), abs=1e-6, rel=1e-6)


def test_fast_weighted_ml_inference_equals_the_slow_definitions():
    # FLAC's inference is weighted ML (firth=False): the same lockstep code without the penalty
    X, y = _synthetic_design(4, 60, 3, False)  # SYNTHETIC, with synthetic weights
    weights = np.random.default_rng(4).uniform(0.2, 1.5, size=len(y))
    beta, loglik = _slow_max(X, y, weights=weights)
    cov = np.linalg.inv(firth_profile.quantities(beta, X, y, weights, firth=False).info)
    sides = [(j, s) for j in range(3) for s in (-1, 1)]
    tests, limits = firth_profile.inference(X, y, beta, loglik, cov, range(3), sides, weights=weights, firth=False)
    for j in range(3):
        chisq = 2 * (loglik - _slow_max(X, y, (j,), (0.0,), beta, weights)[1])
        assert tests[j][0] == pytest.approx(chisq, abs=1e-6)
        assert tests[j][1] == pytest.approx(stats.chi2.sf(chisq, 1), abs=1e-6, rel=1e-6)
    for (j, _), (limit, why) in zip(sides, limits):
        assert why == ""
        assert limit == pytest.approx(_slow_limit(X, y, beta, loglik, j, limit, weights), abs=1e-6)
