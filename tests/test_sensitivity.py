"""Sensitivity of the pooled odds ratios: every number of R metafor's leave1out and influence for BCG, and a small
case worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from casemeta.cli import main
from casemeta.stats.sensitivity import (INFLUENCE_COLUMNS, INFLUENCE_STATISTICS, LEAVE1OUT_COLUMNS, LEAVE1OUT_STATISTICS,
                                        influence, influential, leave1out)
from conftest import REFERENCE

pytestmark = pytest.mark.filterwarnings("error")  # a Python warning anywhere fails the test

# metafor's model names in the reference files, and casemeta's
MODELS = {"mh": "mantel_haenszel", "peto": "peto", "fe": "fixed", "dl": "random_dl", "reml": "random_reml"}


def bcg_tables() -> pd.DataFrame:
    """The BCG trials, labelled "author year" as in the reference files (author alone is not unique)."""
    d = pd.read_csv(REFERENCE / "meta_bcg.csv")
    return pd.DataFrame({"stratum": d["author"] + " " + d["year"].astype(str),
                         "a": d["tpos"], "b": d["tneg"], "c": d["cpos"], "d": d["cneg"]})


def reference(name: str, key: str) -> pd.DataFrame:
    ref = pd.read_csv(REFERENCE / name).rename(columns={"study": key})
    assert set(ref["model"]) <= set(MODELS)
    return ref.assign(method=ref["model"].map(MODELS)).set_index(["method", key])


def same(ours: pd.DataFrame, theirs: pd.DataFrame, columns) -> None:
    """Every value to 1e-4, and blank exactly where metafor has NA."""
    assert sorted(ours.index) == sorted(theirs.index)
    ours = ours.loc[theirs.index]
    for column in columns:
        assert (ours[column].isna() == theirs[column].isna()).all(), column
        shown = theirs[column].notna()
        np.testing.assert_allclose(ours.loc[shown, column].astype(float), theirs.loc[shown, column], rtol=0, atol=1e-4,
                                   err_msg=column)


def test_leave1out_reproduces_metafor():
    theirs = reference("meta_bcg_leave1out_metafor.csv", "left_out")
    ours = leave1out(bcg_tables())
    assert list(ours.columns[:len(LEAVE1OUT_COLUMNS)]) == list(LEAVE1OUT_COLUMNS)
    assert set(ours["method"]) == set(theirs.index.get_level_values(0))  # every model metafor has, no other
    same(ours.set_index(["method", "left_out"]), theirs, LEAVE1OUT_STATISTICS)
    # the p-values are tiny: also to 1e-4 of their own size
    mine = ours.set_index(["method", "left_out"]).loc[theirs.index]
    np.testing.assert_allclose(mine["pval"], theirs["pval"], rtol=1e-4)
    np.testing.assert_allclose(mine["Qp"], theirs["Qp"], rtol=1e-4)
    assert (ours["note"] == "").all()


def test_influence_reproduces_metafor():
    theirs = reference("meta_bcg_influence_metafor.csv", "stratum")
    ours = influence(bcg_tables())
    assert list(ours.columns[:len(INFLUENCE_COLUMNS)]) == list(INFLUENCE_COLUMNS)
    # metafor has influence for the inverse-variance models only: so has casemeta
    assert set(ours["method"]) == set(theirs.index.get_level_values(0)) == {"fixed", "random_dl", "random_reml"}
    numbers = [c for c in INFLUENCE_STATISTICS if c != "inf"]
    same(ours.set_index(["method", "stratum"]), theirs, numbers)
    flags = ours.set_index(["method", "stratum"]).loc[theirs.index, "inf"]
    assert list(flags) == list(theirs["inf"].fillna(""))
    assert "*" in set(flags)  # the check can fail: some trials are flagged
    flagged = influential(ours)
    assert flagged == {s: [m for m, s_ in theirs.index[theirs["inf"] == "*"] if s_ == s]
                       for s in dict.fromkeys(s for _, s in theirs.index[theirs["inf"] == "*"])}


# Three strata worked by hand. Their log odds ratios y and variances v (Σ 1/cell):
#   s1 [[2, 1], [1, 2]]: y = log 4, v = 1/2 + 1 + 1 + 1/2 = 3
#   s2 [[1, 1], [1, 1]]: y = 0,     v = 4
#   s3 [[4, 2], [2, 4]]: y = log 4, v = 1/4 + 1/2 + 1/2 + 1/4 = 3/2
# Fixed effect: weights 1/3, 1/4, 2/3 (Σ 5/4); ŷ = (1/3 + 2/3) log 4 / (5/4) = 0.8 log 4, v_ŷ = 4/5.
SMALL = pd.DataFrame({"stratum": ["s1", "s2", "s3"], "a": [2, 1, 4], "b": [1, 1, 2], "c": [1, 1, 2], "d": [2, 1, 4]})
L4 = math.log(4)


def test_small_case_by_hand():
    out = leave1out(SMALL).set_index(["method", "left_out"])
    # without s2: s1 and s3 both have log OR log 4: fixed ŷ = log 4, v = 1/(1/3 + 2/3) = 1, Q = 0
    fixed = out.loc[("fixed", "s2")]
    assert (fixed["estimate"], fixed["se"], fixed["Q"], fixed["I2"], fixed["H2"]) == pytest.approx((L4, 1, 0, 0, 0))
    assert fixed["zval"] == pytest.approx(L4) and fixed["ci.lb"] == pytest.approx(L4 - stats.norm.ppf(0.975))
    assert pd.isna(fixed["tau2"])
    # Mantel–Haenszel without s2: (Σ a·d/n) / (Σ b·c/n) = (4/6 + 16/12) / (1/6 + 4/12) = 2 / (1/2) = 4
    assert out.loc[("mantel_haenszel", "s2"), "estimate"] == pytest.approx(L4)
    # without s1: weights 1/4, 2/3 (Σ 11/12); ŷ = (2/3) log 4 / (11/12) = 8/11 log 4;
    # Q = (1/4)(8/11 log 4)² + (2/3)(3/11 log 4)² = (16/121 + 6/121) log² 4 = 2/11 log² 4 < 1 = df, so τ²_DL = 0
    assert out.loc[("fixed", "s1"), "estimate"] == pytest.approx(8 / 11 * L4)
    assert out.loc[("fixed", "s1"), "Q"] == pytest.approx(2 / 11 * L4**2)
    assert out.loc[("random_dl", "s1"), "tau2"] == 0
    assert out.loc[("random_dl", "s1"), "estimate"] == pytest.approx(8 / 11 * L4)

    inf = influence(SMALL).set_index(["method", "stratum"])
    s2 = inf.loc[("fixed", "s2")]
    # hat = (1/4)/(5/4) = 1/5; rstudent = (0 − log 4)/sqrt(4 + 0 + 1); dffits = (0.8 − 1) log 4 / sqrt(1/5 · 4);
    # Cook = (0.2 log 4)² / (4/5); cov.r = 1 / (4/5)
    assert s2["hat"] == pytest.approx(0.2) and s2["weight"] == pytest.approx(20)
    assert s2["rstudent"] == pytest.approx(-L4 / math.sqrt(5))
    assert s2["dffits"] == pytest.approx(-0.2 * L4 / math.sqrt(0.8))
    assert s2["cook.d"] == pytest.approx((0.2 * L4) ** 2 / 0.8)
    assert (s2["cov.r"], s2["tau2.del"], s2["QE.del"]) == pytest.approx((1.25, 0, 0))
    # |dffits| 0.31 < 3·sqrt(1/2); P(χ²₁ ≤ 0.096) = 0.24 < 0.5; hat 0.2 < 3/3; DFBETAS 0.2 log 4 / 1 = 0.28 < 1
    assert s2["inf"] == ""
    # s3 holds (2/3)/(5/4) = 8/15 of the weight. Without it: weights 1/3, 1/4 (Σ 7/12),
    # ŷ = (1/3) log 4 / (7/12) = 4/7 log 4, v_ŷ = 12/7
    s3 = inf.loc[("fixed", "s3")]
    assert s3["hat"] == pytest.approx(8 / 15)
    assert s3["cov.r"] == pytest.approx((12 / 7) / 0.8)
    assert s3["cook.d"] == pytest.approx(((0.8 - 4 / 7) * L4) ** 2 / 0.8)


def test_too_few_strata_and_uninformative_ones_are_said():
    two = pd.DataFrame({"stratum": ["p", "q", "z"], "a": [3, 4, 0], "b": [1, 2, 0], "c": [2, 1, 0], "d": [5, 6, 0]})
    out = leave1out(two)
    assert list(out["left_out"].unique()) == ["p", "q"]  # z has no cases: never left out in turn
    assert out["note"].str.contains("z: no cases").all()
    # leaving one of 2 out leaves 1: no Q, no random effects
    dl = out[out["method"] == "random_dl"]
    assert dl["estimate"].isna().all() and dl["note"].str.contains("at least 2 informative strata").all()
    inf = influence(two).set_index(["method", "stratum"])
    assert inf.loc["random_reml", "rstudent"].isna().all()
    assert inf.loc["random_reml", "note"].str.contains("at least 2 informative strata").all()
    # the fixed model of 2 strata still has its diagnostics: without p, ŷ is q's own log OR
    assert inf.loc[("fixed", "p"), "QE.del"] == 0
    one = leave1out(two.iloc[[0]])
    assert one["estimate"].isna().all() and one["note"].str.contains("leaving one stratum out needs at least 2").all()
    assert influence(two.iloc[[0]])["note"].str.contains("influence needs at least 2 informative strata").all()


def test_pool_command_writes_the_sensitivity_files(tmp_path, capsys):
    data = tmp_path / "bcg.csv"
    bcg_tables().to_csv(data, index=False)
    out = tmp_path / "pooled.csv"
    assert main(["pool", str(data), "--stratum", "stratum", "--counts", "a,b,c,d", "--out", str(out)]) == 0
    assert not (tmp_path / "pooled_leave1out.csv").exists()  # only when asked
    assert main(["pool", str(data), "--stratum", "stratum", "--counts", "a,b,c,d", "--out", str(out), "--sensitivity"]) == 0
    loo = pd.read_csv(tmp_path / "pooled_leave1out.csv", keep_default_na=False, na_values=[""])
    inf = pd.read_csv(tmp_path / "pooled_influence.csv", keep_default_na=False, na_values=[""])
    assert list(loo.columns) == list(LEAVE1OUT_COLUMNS) and list(inf.columns) == list(INFLUENCE_COLUMNS)
    # the files hold metafor's numbers too, blank where metafor has NA
    same(loo.set_index(["method", "left_out"]), reference("meta_bcg_leave1out_metafor.csv", "left_out"),
         LEAVE1OUT_STATISTICS)
    theirs = reference("meta_bcg_influence_metafor.csv", "stratum")
    same(inf.set_index(["method", "stratum"]), theirs, [c for c in INFLUENCE_STATISTICS if c != "inf"])
    assert list(inf.set_index(["method", "stratum"]).loc[theirs.index, "inf"].fillna("")) == list(theirs["inf"].fillna(""))
    assert "pooled_leave1out.csv" in capsys.readouterr().out


def test_synthesis_writes_each_pooled_pairs_sensitivity_and_names_influential_studies():
    from casemeta.stats.synthesis_tables import pooled_results, sensitivity_results
    from casemeta.steps.synthesis import synthesis_summary
    from casemeta.synthesis import Concept, Synthesis

    # BCG as one pair's study tables, and a second pair held by one study only (not pooled: no rows)
    bcg = bcg_tables().rename(columns={"stratum": "study"})
    pooled_pair = bcg.assign(condition="vaccine", outcome="tb", condition_variable="v", outcome_variable="t",
                             n=bcg[["a", "b", "c", "d"]].sum(axis=1))
    lone = pooled_pair.iloc[:1].assign(condition="other")
    studies = pd.concat([pooled_pair, lone], ignore_index=True)
    loo, inf = sensitivity_results(studies, 0.95)
    assert list(loo.columns[:4]) == ["condition", "outcome", "method", "left_out"]
    assert list(inf.columns[:4]) == ["condition", "outcome", "method", "stratum"]
    assert set(loo["condition"]) == set(inf["condition"]) == {"vaccine"}
    same(loo.set_index(["method", "left_out"]), reference("meta_bcg_leave1out_metafor.csv", "left_out"),
         LEAVE1OUT_STATISTICS)
    same(inf.set_index(["method", "stratum"]), reference("meta_bcg_influence_metafor.csv", "stratum"),
         [c for c in INFLUENCE_STATISTICS if c != "inf"])

    concepts = {c: Concept(c, c.upper(), "") for c in ("vaccine", "tb", "other")}
    synthesis = Synthesis({"pairs": [{"condition": "vaccine", "outcome": "tb"}, {"condition": "other", "outcome": "tb"}]},
                          concepts, {})
    summary = synthesis_summary(synthesis, pooled_results(studies, 0.95), inf)
    line = next(x for x in summary.splitlines() if x.startswith("- VACCINE → TB"))
    # metafor flags these three trials, in the fixed-effect model only
    assert line.endswith("influential studies (Viechtbauer and Cheung 2010): Hart & Sutherland 1977 (fixed effect); "
                         "Stein & Aronson 1953 (fixed effect); TPT Madras 1980 (fixed effect)")
    assert "influential" not in next(x for x in summary.splitlines() if x.startswith("- OTHER → TB"))
    # no pooled pair at all: empty files with their columns
    empty_loo, empty_inf = sensitivity_results(lone, 0.95)
    assert empty_loo.empty and list(empty_loo.columns[:4]) == ["condition", "outcome", "method", "left_out"]
    assert empty_inf.empty
