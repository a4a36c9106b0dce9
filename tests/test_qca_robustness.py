"""QCA robustness (casemeta.stats.qca.robustness): ranges, test sets, robustness fit, case types, leave one out.

Where the values come from:
- the sweeps on Lipset's data: R QCA 3.23's printed truth tables and solutions (tests/data/reference/qca_lipset_*);
  a range's bounds follow from R's printed inclusion scores and row sizes, worked out in the comments;
- the ranges against `casemeta qca` run at a bound (just inside) and one step beyond it (just outside);
- the robustness parameters and case types: small made-up memberships, every sum done by hand in the comments;
- leave one out and the calibration range: made-up data whose truth tables are worked out in the comments.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casemeta.cli import main
from casemeta.coded.codebook import load_codebook
from casemeta.errors import CasemetaError
from casemeta.plan import plan_from_dict
from casemeta.stats.qca import MODEL_ROW, Cuts, QcaSpec, run_qca
from casemeta.stats.qca.robustness import (Setting, Sweep, TestSet, case_types, leave_one_case_out, qca_robustness,
                                           robustness_fit, solution_terms, threshold_range)
from conftest import REFERENCE, ROOT
from test_qca_reference import CONDITIONS, assert_solution_equal, lipset, r_solution, r_truth_table, sections

R_FUZZY = sections()["fuzzy LF tt incl.cut .8"]
R_CRISP_TT = r_truth_table(sections()['crisp (LC), truthTable(LC, outcome = "SURV", incl.cut = 1, complete = FALSE, show.cases = TRUE)'])
R_CRISP_CONSERVATIVE = r_solution(sections()["conservative"])
R_FUZZY_TT = r_truth_table(R_FUZZY.split("M1:")[0])
R_FUZZY_CONSERVATIVE = r_solution(R_FUZZY.split("M1:")[1])


def spec(incl=1.0, n=1) -> QcaSpec:
    return QcaSpec("SURV", CONDITIONS, Cuts(incl=incl, n=n))


def conservative(result) -> pd.DataFrame:
    return result.solutions[result.solutions["solution"] == "conservative"].reset_index(drop=True)


def grid(low: float, high: float, step: float) -> list[float]:
    return [round(low + i * step, 10) for i in range(int(round((high - low) / step)) + 1)]


# ---------------------------------------------------------------------------------- sweeps against R QCA


def test_fuzzy_inclusion_range_and_every_solution_in_it_equal_r():
    """R's truth table of LF (incl.cut 0.8) has OUT = 1 for rows 22 (FI,IE; incl 0.804) and 32 (BE,CZ,NL,UK;
    0.904); the highest other row is 24 (FR,SE; 0.709). So the conservative solution keeps its terms for every cut
    above 0.709 up to 0.804: in steps of 0.01 from 0.8, down to 0.71 (at 0.70 row 24 joins) and up to 0.80 (at
    0.81 row 22 drops out)."""
    r = threshold_range(lipset("lf"), Setting(spec(0.8), {}), "conservative", "incl_cut", Sweep(0.01, 20))
    assert (r.lower.value, r.lower.status, r.lower.next_value) == (0.71, "changed", 0.70)
    assert (r.upper.value, r.upper.status, r.upper.next_value) == (0.80, "changed", 0.81)
    for cut in grid(0.71, 0.80, 0.01):  # every threshold of the range: R's truth table and R's solution
        result = run_qca(lipset("lf"), spec(cut))
        expected_out = np.where(R_FUZZY_TT["incl"] >= cut, "1", "0")
        assert list(result.truth_table["OUT"]) == list(expected_out), cut
        assert_solution_equal(conservative(result), R_FUZZY_CONSERVATIVE)


def test_crisp_frequency_and_inclusion_ranges_equal_r():
    """R's crisp truth table of LC: the positive rows 22, 24 and 32 hold 2, 2 and 4 cases, every inclusion is 0
    or 1. A frequency cut of 2 makes only rows of one case (6, 23, 31; all negative) remainders, which the
    conservative solution does not use; at 3 rows 22 and 24 become remainders. Any inclusion cut above 0 gives
    R's table; at 0 every row is positive."""
    setting = Setting(spec(1.0), {})
    n = threshold_range(lipset("lc"), setting, "conservative", "n_cut", Sweep(1, 10))
    assert (n.lower.value, n.lower.status) == (1, "domain_end")
    assert (n.upper.value, n.upper.status, n.upper.next_value) == (2, "changed", 3)
    incl = threshold_range(lipset("lc"), setting, "conservative", "incl_cut", Sweep(0.1, 20))
    assert (incl.lower.value, incl.lower.status, incl.lower.next_value) == (0.1, "changed", 0.0)
    assert (incl.upper.value, incl.upper.status) == (1.0, "domain_end")
    for cut, n_cut in [(c, 1) for c in grid(0.1, 1.0, 0.1)] + [(1.0, 2)]:
        result = run_qca(lipset("lc"), spec(cut, n_cut))
        expected_out = np.where(R_CRISP_TT["n"] < n_cut, "?", np.where(R_CRISP_TT["incl"] >= cut, "1", "0"))
        assert list(result.truth_table["OUT"]) == list(expected_out), (cut, n_cut)
        assert_solution_equal(conservative(result), R_CRISP_CONSERVATIVE)


def test_a_bound_not_reached_within_the_run_limit_says_so():
    """Three steps of 0.01 down from 0.8 all keep LF's solution (the change comes at 0.70); nine steps reach 0.71,
    and the tenth, the last allowed, changes it: that is a bound, not "not reached" (SetMethods says NA)."""
    setting = Setting(spec(0.8), {})
    short = threshold_range(lipset("lf"), setting, "conservative", "incl_cut", Sweep(0.01, 3))
    assert (short.lower.value, short.lower.status, short.lower.next_value) == (0.77, "not_reached", None)
    exact = threshold_range(lipset("lf"), setting, "conservative", "incl_cut", Sweep(0.01, 10))
    assert (exact.lower.value, exact.lower.status) == (0.71, "changed")


# Made-up raw data for a calibration range. A is calibrated from X with anchors 0, 5, 10; y is crisp. With the
# crossover c, A's memberships (direct method, log odds ±log 19 at the anchors) and A's inclusion in y are
#   c = 4.0: 0.0990 0.3239 0.7274 0.8769, inclusion (0.7274 + 0.8769) / 2.0272 = 0.791 < 0.8: no solution
#   c = 4.5: 0.0919 0.2726 0.6906 0.8669, inclusion 1.5575 / 1.9220 = 0.810: the solution A
#   c = 5.0: 0.0866 0.2355 0.6431 0.8540, inclusion 1.4971 / 1.8192 = 0.823: A (the QCA's own)
#   c = 5.5: 0.0825 0.2078 0.5811 0.8370, inclusion 0.830: A
#   c = 6.0: the case with X = 6 has membership exactly 0.5: no truth table.
# ~A's inclusion stays far below 0.8 (the cases without A have y = 0), so A is the solution wherever A passes.
RAW = pd.DataFrame({"X": [1.0, 3.0, 6.0, 8.0], "y": [0.0, 0.0, 1.0, 1.0]}, index=["p", "q", "r", "s"])
RAW_SPEC = QcaSpec("y", ["X"], Cuts(incl=0.8))


def test_calibration_range_worked_by_hand():
    setting = Setting(RAW_SPEC, {"X": (0.0, 5.0, 10.0)})
    r = threshold_range(RAW, setting, "conservative", "calibrate", Sweep(0.5, 10), "X", "crossover")
    assert (r.lower.value, r.lower.status, r.lower.next_value) == (4.5, "changed", 4.0)
    assert (r.upper.value, r.upper.status, r.upper.next_value) == (5.5, "no_qca", 6.0)
    result = qca_robustness(RAW, RAW_SPEC, {"X": (0.0, 5.0, 10.0)}, "conservative",
                            {("calibrate", "X", "crossover"): Sweep(0.5, 10)})
    assert [c.code for c in result.caveats] == ["qca_range_no_qca"]
    assert "upper bound of the crossover anchor of X stops at the step before 6" in result.caveats[0].message()


def _casemeta_qca_terms(tmp_path: Path, data: Path, args: list[str], solution: str = "conservative") -> tuple[str, ...]:
    """The terms of M1 of a solution as `casemeta qca` writes them."""
    out = tmp_path / f"run_{len(list(tmp_path.iterdir()))}"
    assert main(["qca", str(data), *args, "--out", str(out)]) == 0
    rows = pd.read_csv(out / "solutions.csv")
    rows = rows[(rows["solution"] == solution) & (rows["model"] == 1) & (rows["term"] != MODEL_ROW)]
    return tuple(rows["term"])


LIPSET_ARGS = ["--outcome", "SURV", "--conditions", ",".join(CONDITIONS)]


@pytest.mark.parametrize("data, fixed, initial, parameter, sweep, side", [
    ("qca_lipset_lf.csv", [], 0.8, "incl_cut", Sweep(0.01, 20), "lower"),
    ("qca_lipset_lf.csv", [], 0.8, "incl_cut", Sweep(0.01, 20), "upper"),
    ("qca_lipset_lc.csv", [], 1, "n_cut", Sweep(1, 10), "upper"),
    ("raw", ["--incl-cut", "0.8"], 5.0, "calibrate", Sweep(0.5, 10), "lower"),
])
def test_ranges_agree_with_casemeta_qca_just_inside_and_just_outside(tmp_path, data, fixed, initial, parameter, sweep, side):
    if data == "raw":
        path = tmp_path / "raw.csv"
        RAW.rename_axis("case").reset_index().to_csv(path, index=False)
        args = ["--outcome", "y", "--conditions", "X", *fixed]
        frame, setting = RAW, Setting(RAW_SPEC, {"X": (0.0, 5.0, 10.0)})
        option = lambda v: ["--calibrate", f"X=0:{v:g}:10"]  # noqa: E731
    else:
        path = REFERENCE / data
        args = LIPSET_ARGS
        frame = lipset(data.split("_")[-1].removesuffix(".csv"))
        setting = Setting(spec(initial) if parameter == "incl_cut" else spec(1.0), {})
        flag = {"incl_cut": "--incl-cut", "n_cut": "--n-cut"}[parameter]
        option = lambda v: [flag, f"{v:g}"]  # noqa: E731
    r = threshold_range(frame, setting, "conservative", parameter, sweep, "X" if data == "raw" else "",
                        "crossover" if data == "raw" else "")
    bound = getattr(r, side)
    assert bound.status == "changed"
    own = _casemeta_qca_terms(tmp_path, path, [*args, *option(initial)])
    assert own
    assert _casemeta_qca_terms(tmp_path, path, [*args, *option(bound.value)]) == own  # just inside
    assert _casemeta_qca_terms(tmp_path, path, [*args, *option(bound.next_value)]) != own  # just outside


def test_casemeta_qca_refuses_the_value_where_a_range_stops_for_a_case_on_the_crossover(tmp_path):
    path = tmp_path / "raw.csv"
    RAW.rename_axis("case").reset_index().to_csv(path, index=False)
    assert main(["qca", str(path), "--outcome", "y", "--conditions", "X", "--incl-cut", "0.8",
                 "--calibrate", "X=0:6:10", "--out", str(tmp_path / "out")]) == 1


# ---------------------------------------------------------------------------------- robustness fit, by hand

# Nine cases: the initial solution IS, three test sets, the outcome Y.
#        IS   TS1  TS2  TS3   Y  | MinTS MaxTS  RC  | type
#   a   0.9  0.8  0.3  0.9  0.8 |  0.3   0.9   0.3 | IS*~MinTS = min(0.9, 0.7) = 0.7, Y > 0.5: shaky typical
#   b   0.7  0.6  0.8  0.7  0.9 |  0.6   0.8   0.6 | IS*MinTS = 0.6: robust typical
#   c   0.6  0.9  0.7  0.6  0.2 |  0.6   0.9   0.6 | IS*MinTS = 0.6, Y < 0.5: robust deviant
#   d   0.2  0.1  0.6  0.3  0.7 |  0.1   0.6   0.1 | ~IS*MaxTS = min(0.8, 0.6) = 0.6: possible typical
#   e   0.1  0.2  0.1  0.3  0.6 |  0.1   0.3   0.1 | ~IS*~MaxTS = min(0.9, 0.7) = 0.7: extreme deviant coverage
#   f   0.3  0.2  0.4  0.1  0.1 |  0.1   0.4   0.1 | ~IS*~MaxTS = min(0.7, 0.6) = 0.6, Y < 0.5: irrelevant
#   g   0.4  0.3  0.2  0.7  0.3 |  0.2   0.7   0.2 | ~IS*MaxTS = min(0.6, 0.7) = 0.6, Y < 0.5: possible deviant
#   h   0.8  0.4  0.9  0.6  0.1 |  0.4   0.9   0.4 | IS*~MinTS = min(0.8, 0.6) = 0.6, Y < 0.5: shaky deviant
#   i   0.5  0.5  0.5  0.5  0.9 |  0.5   0.5   0.5 | every intersection is 0.5, not above it: no type
# ΣIS = 4.5, ΣY = 4.6, Σmin(IS,Y) = .8+.7+.2+.2+.1+.1+.3+.1+.5 = 3.0: Cons(IS) = 3.0/4.5, Cov(IS) = 3.0/4.6
# ΣRC = 2.9, Σmin(RC,Y) = .3+.6+.2+.1+.1+.1+.2+.1+.5 = 2.2: Cons(RC) = 2.2/2.9, Cov(RC) = 2.2/4.6
# RF_cov = Cov(RC)/Cov(IS) = 2.2/3.0; RF_cons = Cons(IS)/Cons(RC) = (3.0·2.9)/(4.5·2.2) = 8.7/9.9
# RF_SC_minTS: IS ≥ MinTS in every case, so Σmin(IS,MinTS)/Σmax(IS,MinTS) = ΣRC/ΣIS = 2.9/4.5
# RF_SC_maxTS: IS ≤ MaxTS in every case, so ΣIS/ΣMaxTS = 4.5/(.9+.8+.9+.6+.3+.4+.7+.9+.5) = 4.5/6.0
# PRI(RC): Σmin(RC,Y,1−Y) = .2+.1+.2+.1+.1+.1+.2+.1+.1 = 1.2, so (2.2 − 1.2)/(2.9 − 1.2) = 1/1.7
# RCR_typ = robust typical / (robust + shaky + possible typical) = 1/3; RCR_dev = 1/3 (c; h; g)
# RCC_Rank 4: shaky cases (a, h) and possible cases (d, g)
IS = np.array([0.9, 0.7, 0.6, 0.2, 0.1, 0.3, 0.4, 0.8, 0.5])
TS1 = np.array([0.8, 0.6, 0.9, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5])
TS2 = np.array([0.3, 0.8, 0.7, 0.6, 0.1, 0.4, 0.2, 0.9, 0.5])
TS3 = np.array([0.9, 0.7, 0.6, 0.3, 0.3, 0.1, 0.7, 0.6, 0.5])
Y = np.array([0.8, 0.9, 0.2, 0.7, 0.6, 0.1, 0.3, 0.1, 0.9])


def test_robustness_parameters_worked_by_hand():
    fit, types = robustness_fit(IS, [TS1, TS2, TS3], Y)
    assert fit.RF_cov == pytest.approx(2.2 / 3.0)
    assert fit.RF_cons == pytest.approx(8.7 / 9.9)
    assert fit.RF_SC_minTS == pytest.approx(2.9 / 4.5)
    assert fit.RF_SC_maxTS == pytest.approx(4.5 / 6.0)
    assert (fit.core_inclS, fit.core_covS, fit.core_PRI) == pytest.approx((2.2 / 2.9, 2.2 / 4.6, 1 / 1.7))
    assert list(types) == ["shaky_typical", "robust_typical", "robust_deviant", "possible_typical",
                           "extreme_deviant_coverage", "irrelevant", "possible_deviant", "shaky_deviant", ""]
    assert (fit.RCR_typ, fit.RCR_dev, fit.RCC_Rank) == (pytest.approx(1 / 3), pytest.approx(1 / 3), 4)


def test_min_and_max_run_over_every_test_set_not_only_the_first_and_last():
    """SetMethods' `for (i in length(test_sol))` would take MinTS = min(TS1, TS3): case a's 0.3 in TS2 would
    be missed and a counted robust typical (min(0.8, 0.9) = 0.8). Over every test set a is shaky."""
    _, every = robustness_fit(IS, [TS1, TS2, TS3], Y)
    _, first_and_last = robustness_fit(IS, [TS1, TS3], Y)
    assert (every[0], first_and_last[0]) == ("shaky_typical", "robust_typical")


@pytest.mark.parametrize("ts, y, rank, rcr_typ, rcr_dev", [
    # IS = (0.9, 0.1). TS = (0.8, 0.2): a robust typical case and an irrelevant one; no deviant case: RCR_dev undefined
    ([0.8, 0.2], [0.9, 0.1], 1, 1.0, math.nan),
    # TS = (0.8, 0.7): the second case, ~IS*MaxTS = min(0.9, 0.7), is possible deviant: rank 2, RCR_dev 0/1
    ([0.8, 0.7], [0.9, 0.1], 2, 1.0, 0.0),
    # TS = (0.2, 0.1): the first case, IS*~MinTS = min(0.9, 0.8), is shaky typical: rank 3, RCR_typ 0/1
    ([0.2, 0.1], [0.9, 0.1], 3, 0.0, math.nan),
])
def test_rcc_rank_and_case_ratios(ts, y, rank, rcr_typ, rcr_dev):
    fit, _ = robustness_fit(np.array([0.9, 0.1]), [np.array(ts)], np.array(y))
    assert fit.RCC_Rank == rank
    assert fit.RCR_typ == pytest.approx(rcr_typ, nan_ok=True) and fit.RCR_dev == pytest.approx(rcr_dev, nan_ok=True)


def test_a_case_with_the_outcome_at_one_half_has_no_type():
    """Strict cut-offs: Y = 0.5 is neither above nor below 0.5."""
    got = case_types(np.array([0.9]), np.array([0.9]), np.array([0.9]), np.array([0.5]))
    assert list(got) == [""]


# ---------------------------------------------------------------------------------- the protocol on a QCA


# Crisp, made up: A*B (c1, c2) and A*~B (c3) have the outcome, ~A*B (c4) and ~A*~B (c5) not. The conservative
# solution (inclusion cut 1) is A*B + A*~B = A. Without c3, A*~B is no longer observed, so the conservative
# solution is A*B; without c1 (or c2) the other still holds A*B up; without c4 or c5 the conservative solution
# (which never uses remainders) stays A.
CRISP = pd.DataFrame({"A": [1, 1, 1, 0, 0], "B": [1, 1, 0, 1, 0], "y": [1, 1, 1, 0, 0]}, dtype=float,
                     index=["c1", "c2", "c3", "c4", "c5"])
CRISP_SPEC = QcaSpec("y", ["A", "B"])


def test_leave_one_case_out_worked_by_hand():
    out = leave_one_case_out(CRISP, Setting(CRISP_SPEC, {}), "conservative", ("A",))
    assert out.set_index("case")["changed"].to_dict() == {"c1": False, "c2": False, "c3": True, "c4": False, "c5": False}
    assert out.set_index("case").loc["c3", "solution"] == "A*B"


def test_the_protocol_on_lipset_with_test_sets():
    """LF at 0.8 with test sets at inclusion 0.75 (R's table: still rows 22 and 32 only, so the same solution) and
    0.7 (row 24, FR,SE, incl 0.709, joins). IS = TS1 in every case, and TS2 ≥ IS where its solution covers more:
    MinTS = IS, so RF_cov = RF_cons = RF_SC_minTS = 1 and the core is IS itself, with R's fit (0.870, 0.843, 0.658)."""
    test_sets = [TestSet("i75", incl_cut=0.75), TestSet("i70", incl_cut=0.7)]
    rob = qca_robustness(lipset("lf"), spec(0.8), {}, "conservative", {}, test_sets)
    assert rob.terms == ("DEV*URB*LIT*IND*STB", "DEV*~URB*LIT*~IND*STB")
    assert list(rob.test_sets["same_terms"]) == [True, True, False]
    assert (rob.fit.RF_cov, rob.fit.RF_cons, rob.fit.RF_SC_minTS) == pytest.approx((1, 1, 1))
    assert (rob.fit.core_inclS, rob.fit.core_PRI, rob.fit.core_covS) == pytest.approx((0.870, 0.843, 0.658), abs=1e-3)
    assert rob.fit.RF_SC_maxTS < 1
    i70 = run_qca(lipset("lf"), spec(0.7))
    assert rob.test_sets.loc[2, "solution"] == " + ".join(solution_terms(i70, spec(0.7), "conservative"))


def test_no_solution_means_no_robustness_and_says_why():
    rob = qca_robustness(CRISP.assign(y=0.0), CRISP_SPEC, {}, "conservative", {("incl_cut", "", ""): Sweep(0.1)})
    assert rob.ranges == () and rob.fit is None and [c.code for c in rob.caveats] == ["qca_robustness_no_solution"]


# ---------------------------------------------------------------------------------- the plan and the files


def _clusters_plan(robustness: dict):
    codebook = load_codebook(ROOT / "data" / "coded" / "african_clusters" / "codebook.yaml")
    entry = {"name": "dyn", "outcome": "dynamic", "conditions": ["sells_internationally", "n_external_economies"],
             "calibrate": {"n_external_economies": [0, 1.5, 4]}, "incl_cut": 0.8, "robustness": robustness}
    return plan_from_dict({"qca": [entry]}, codebook)


def test_the_plan_reads_robustness_into_typed_objects():
    plan = _clusters_plan({"incl_cut": {"step": 0.05}, "calibration": {"n_external_economies": {"step": 0.5, "max_runs": 4}},
                           "test_sets": [{"name": "strict", "calibrate": {"n_external_economies": [0, 2.5, 4]}}],
                           "leave_one_out": True})
    rob = plan.qca[0].robustness
    assert rob.solution == "conservative"  # no dir_exp
    assert dict(rob.sweeps) == {("incl_cut", "", ""): Sweep(0.05, 20),
                                **{("calibrate", "n_external_economies", a): Sweep(0.5, 4)
                                   for a in ("full_out", "crossover", "full_in")}}
    assert rob.test_sets[0].name == "strict" and dict(rob.test_sets[0].calibrate) == {"n_external_economies": (0, 2.5, 4)}
    assert rob.leave_one_out


@pytest.mark.parametrize("robustness, expected", [
    ({"solution": "intermediate"}, "at qca/0/robustness/solution: the intermediate solution needs directional expectations"),
    ({"calibration": {"n_external_economie": {"step": 1}}},
     "at qca/0/robustness/calibration/n_external_economie: unknown calibrated set 'n_external_economie'; did you mean n_external_economies"),
    ({"test_sets": [{"name": "same", "incl_cut": 0.8}]},
     "at qca/0/robustness/test_sets/0: test set 'same' has the QCA's own thresholds"),
    ({"test_sets": [{"name": "bad", "calibrate": {"n_external_economies": [0, 5, 4]}}]},
     "at qca/0/robustness/test_sets/0/calibrate/n_external_economies: anchors 0, 5, 4"),
    ({"incl_cut": {"step": 0}}, "robustness/incl_cut/step"),
    ({"test_sets": [{"name": "nothing"}]}, "robustness/test_sets/0"),
])
def test_the_robustness_section_is_checked(robustness, expected):
    with pytest.raises(CasemetaError) as err:
        _clusters_plan(robustness)
    assert expected in str(err.value)


def test_robustness_files_are_listed_for_the_qca_that_asks_and_written_by_the_step(tmp_path):
    from casemeta.plan import load_plan
    from casemeta.publish.qca_robustness_tables import robustness_tables
    from casemeta.steps.exports import write_formats
    from casemeta.steps.qca_runs import write_robustness
    from casemeta.study import Study, qca_robustness_files

    study = Study(ROOT, "african_clusters")
    files = study.files("qca", load_plan(study.plan_path, study.codebook()))
    assert "dynamism/data/robustness_fit" in files and "dynamism/robustness_xy.png" in files
    assert not any(k.startswith("no_dynamism/") and "robustness" in k for k in files)
    # the step's writers on Lipset's LF write exactly the files casemeta.study lists (the one table writer
    # refuses tables it does not list); Markdown and CSV stand for every format here, to keep the test cheap
    paths = {k: tmp_path / Path(v).relative_to("results/{study}/qca/lf") for k, v in qca_robustness_files("lf").items()}
    rob = qca_robustness(lipset("lf"), spec(0.8), {}, "conservative", {("incl_cut", "", ""): Sweep(0.05, 3)},
                         [TestSet("i70", incl_cut=0.7)], leave_one_out=True)
    written = write_formats(robustness_tables(rob, "SURV", None, [], True), paths, "LF", ["markdown", "csv"])
    written += write_robustness(rob, spec(0.8), paths, None)
    assert sorted(written) == sorted(p for k, p in paths.items() if not k.endswith((".tex", ".html")))
    # FI and IE alone hold DEV*~URB*LIT*~IND*STB (R's cases column): without either the solution changes
    assert "| FI " in (tmp_path / "tables" / "leave_one_out.md").read_text()
    assert pd.read_csv(paths["data/robustness_fit"])["RCC_Rank"].tolist() == [rob.fit.RCC_Rank]
