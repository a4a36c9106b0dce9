"""Robustness of a QCA solution: the protocol of Oana & Schneider (2021, Sociological Methods & Research)
as SetMethods 4.1 implements it (rob.inclrange, rob.ncutrange, rob.calibrange, rob.fit, rob.corefit, rob.cases,
rob.xyplot), with qcaERT's leave-one-case-out test (loo.test). Frames in, typed records and frames out; no files.

The solution under test is the first model (M1) of one solution (conservative, parsimonious or intermediate),
as SetMethods reads `solution[[1]]` / `i.sol$C1P1$solution[[1]]`; "the same solution" means the same set of
terms (SetMethods' setequal on the terms).

Ranges (`threshold_range`): from the QCA's own value of the inclusion cut, the frequency cut or one calibration
anchor, the value moves one `step` at a time, at most `max_runs` times each way; each bound is the last value
that keeps the terms of the initial solution. A bound is `changed` where the next step changes the solution,
`not_reached` where `max_runs` steps all kept it (SetMethods returns NA), `domain_end` where the next step
leaves the parameter's domain (an inclusion cut outside 0..1, a frequency cut below 1 or above the number of
cases, anchors out of order), and `no_qca` where the next step puts a case exactly on the crossover, so that no
truth table can be made (SetMethods stops there too: its minimize() call fails).

Fit (`robustness_fit`), with Y the outcome, IS each case's membership in the initial solution and TS1..TSk in
the solutions of the test sets (the same QCA with plan-declared alternative thresholds):
    MinTS = min(TS1..TSk)   MaxTS = max(TS1..TSk)   RC (robust core) = min(IS, TS1..TSk)
    RF_cov = covS(RC) / covS(IS)      RF_cons = inclS(IS) / inclS(RC)
    RF_SC_minTS = Σmin(IS, MinTS) / Σmax(IS, MinTS)      RF_SC_maxTS = Σmin(IS, MaxTS) / Σmax(IS, MaxTS)
and the robust core's own inclS, PRI and covS (rob.corefit). Case types (rob.cases, strict 0.5 cut-offs, so that
a case with a membership of exactly 0.5 in a set it is judged by has no type):
    robust typical     IS*MinTS > 0.5, Y > 0.5       robust deviant     IS*MinTS > 0.5, Y < 0.5
    shaky typical      IS*~MinTS > 0.5, Y > 0.5      shaky deviant      IS*~MinTS > 0.5, Y < 0.5
    possible typical   ~IS*MaxTS > 0.5, Y > 0.5      possible deviant   ~IS*MaxTS > 0.5, Y < 0.5
    extreme deviant coverage  ~IS*~MaxTS > 0.5, Y > 0.5      irrelevant  ~IS*~MaxTS > 0.5, Y < 0.5
    RCR_typ = robust typical / (robust + shaky + possible typical); RCR_dev likewise with the deviant cases;
    RCC_Rank = 1 with no shaky and no possible case (whatever Y), 2 with possible cases only, 3 with shaky
    cases only, 4 with both (rob.case.ratio).

Where this departs from SetMethods 4.1, on purpose:
- MinTS and MaxTS run over EVERY test set. SetMethods' rob.fit, rob.evaluation (so rob.cases), robust.rank
  and rob.xyplot loop `for (i in length(test_sol))`, which runs once, with i = k: their MinTS and MaxTS are
  min/max(TS1, TSk) and ignore TS2..TSk-1 (rob.corefit loops over 2:length and is right). With one or two test
  sets the two agree.
- The ranges test up to and including the domain's ends (an inclusion cut of 1, a frequency cut equal to the
  number of cases); SetMethods stops before an inclusion cut of 1 (`if (incl.cut.tu >= 1) break`), and its
  upper frequency bound checks the lower one by mistake (`if (n.cut.tl == nrow(data))`).
- A bound whose last allowed run still changes the solution is that change, not NA (SetMethods tests the run
  limit after the run and so reports NA even when the solution changed on the last run).
- A calibration range stops where the anchors would fall out of order; SetMethods' crossover range stops at the
  raw data's range, its full-membership and full-non-membership ranges run until calibrate() fails.
- Values are start ± j·step rounded to 10 decimals, not accumulated sums (0.8 + 0.1 + 0.1 is not 1.0 in floats).
- A test set without a solution is the empty set (membership 0 for every case), with a caveat; SetMethods fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from casemeta.errors import CasemetaError
from casemeta.stats.caveats import Caveat, Caveats
from casemeta.stats.qca.analysis import QcaResult, QcaSpec, run_qca
from casemeta.stats.qca.sets import anchors_ordered, calibrated_frame, sufficiency, term_text
from casemeta.stats.qca.settings import ANCHORS, Sweep, TestSet

SOLUTIONS = ("conservative", "parsimonious", "intermediate")
# how a bound was reached (see the module's docstring)
BOUND_STATUSES = ("changed", "not_reached", "domain_end", "no_qca")
CASE_TYPES = ("robust_typical", "robust_deviant", "shaky_typical", "shaky_deviant", "possible_typical",
              "possible_deviant", "extreme_deviant_coverage", "irrelevant")
DIGITS = 10  # sweep values are rounded to this many decimals

RANGE_COLUMNS = ["parameter", "set", "anchor", "threshold", "step", "max_runs", "lower", "lower_status", "lower_next",
                 "upper", "upper_status", "upper_next"]
TEST_SET_COLUMNS = ["test_set", "incl_cut", "n_cut", "pri_cut", "calibrate", "solution", "same_terms", "inclS", "PRI",
                    "covS"]
FIT_COLUMNS = ["RF_cov", "RF_cons", "RF_SC_minTS", "RF_SC_maxTS", "core_inclS", "core_PRI", "core_covS", "RCR_typ",
               "RCR_dev", "RCC_Rank"]
CASE_COLUMNS = ["case", "IS", "MinTS", "MaxTS", "RC", "TS", "outcome", "type"]
LOO_COLUMNS = ["case", "changed", "solution"]
INITIAL = "(initial)"


@dataclass(frozen=True)
class Bound:
    value: float  # the last value that keeps the solution's terms
    status: str  # BOUND_STATUSES
    next_value: float | None = None  # the value that changed the solution, or at which no QCA could be made


@dataclass(frozen=True)
class ThresholdRange:
    parameter: str  # incl_cut, n_cut or calibrate
    set: str  # the calibrated set (calibrate only)
    anchor: str  # full_out, crossover or full_in (calibrate only)
    threshold: float  # the QCA's own value
    sweep: Sweep
    lower: Bound
    upper: Bound


@dataclass(frozen=True)
class RobustnessFit:
    RF_cov: float
    RF_cons: float
    RF_SC_minTS: float
    RF_SC_maxTS: float
    core_inclS: float
    core_PRI: float
    core_covS: float
    RCR_typ: float
    RCR_dev: float
    RCC_Rank: int


@dataclass
class RobustnessResult:
    solution: str
    terms: tuple[str, ...]  # the initial solution's M1
    ranges: tuple[ThresholdRange, ...]
    test_sets: pd.DataFrame  # TEST_SET_COLUMNS: the initial solution, then each test set
    fit: RobustnessFit | None
    cases: pd.DataFrame  # CASE_COLUMNS
    leave_one_out: pd.DataFrame  # LOO_COLUMNS
    caveats: Caveats = ()

    @property
    def ranges_frame(self) -> pd.DataFrame:
        rows = [{"parameter": r.parameter, "set": r.set, "anchor": r.anchor, "threshold": r.threshold,
                 "step": r.sweep.step, "max_runs": r.sweep.max_runs,
                 "lower": r.lower.value, "lower_status": r.lower.status, "lower_next": r.lower.next_value,
                 "upper": r.upper.value, "upper_status": r.upper.status, "upper_next": r.upper.next_value}
                for r in self.ranges]
        return pd.DataFrame(rows, columns=RANGE_COLUMNS)

    @property
    def fit_frame(self) -> pd.DataFrame:
        if self.fit is None:
            return pd.DataFrame(columns=FIT_COLUMNS)
        return pd.DataFrame([{c: getattr(self.fit, c) for c in FIT_COLUMNS}], columns=FIT_COLUMNS)


# ---------------------------------------------------------------------------------------------------- one QCA run


@dataclass(frozen=True)
class Setting:
    """Everything a run of the QCA depends on: the spec (sets, cuts, expectations) and the calibrations."""

    spec: QcaSpec
    calibrations: Mapping[str, tuple[float, float, float]]


def solve(raw: pd.DataFrame, setting: Setting) -> QcaResult:
    """The QCA of `raw` (memberships, and raw values of the calibrated sets) under `setting`."""
    return run_qca(calibrated_frame(raw, setting.calibrations), setting.spec)


def solution_terms(result: QcaResult, spec: QcaSpec, solution: str) -> tuple[str, ...]:
    """The terms of the solution's first model, as written (empty where there is no solution)."""
    return tuple(term_text(t, spec.conditions) for t in result.models.get((solution, 1), []))


def solution_membership(result: QcaResult, solution: str) -> np.ndarray:
    """Each case's membership in the solution's first model (0 everywhere where there is no solution)."""
    if (solution, 1) not in result.models:
        return np.zeros(len(result.outcome) if result.outcome is not None else 0)
    return result.model_membership(solution, 1)


# ---------------------------------------------------------------------------------------------------- ranges


def _walk(start: float, sweep: Sweep, direction: int, in_domain: Callable[[float], bool],
          keeps: Callable[[float], bool | None]) -> Bound:
    """Step from `start` until the solution changes (keeps -> False), no QCA can be made (keeps -> None), the
    domain ends, or max_runs steps all kept the solution."""
    last = start
    for run in range(1, sweep.max_runs + 1):
        value = round(start + direction * run * sweep.step, DIGITS)
        if not in_domain(value):
            return Bound(last, "domain_end")
        kept = keeps(value)
        if kept is None:
            return Bound(last, "no_qca", value)
        if not kept:
            return Bound(last, "changed", value)
        last = value
    return Bound(last, "not_reached")


def threshold_range(raw: pd.DataFrame, setting: Setting, solution: str, parameter: str, sweep: Sweep,
                    set_name: str = "", anchor: str = "", initial: tuple[str, ...] | None = None) -> ThresholdRange:
    """The range of one parameter (incl_cut, n_cut, or calibrate with a set and an anchor) within which the
    solution's M1 keeps its terms (`initial`: those terms, where the caller has them)."""
    if initial is None:
        initial = solution_terms(solve(raw, setting), setting.spec, solution)
    spec = setting.spec
    if parameter == "incl_cut":
        start = spec.cuts.incl
        at = lambda v: replace(setting, spec=replace(spec, cuts=replace(spec.cuts, incl=v)))  # noqa: E731
        in_domain = lambda v: 0 <= v <= 1  # noqa: E731
    elif parameter == "n_cut":
        start = spec.cuts.n
        at = lambda v: replace(setting, spec=replace(spec, cuts=replace(spec.cuts, n=int(v))))  # noqa: E731
        in_domain = lambda v: 1 <= v <= max(len(raw), 1)  # noqa: E731
    elif parameter == "calibrate":
        anchors = tuple(setting.calibrations[set_name])
        index = ANCHORS.index(anchor)
        start = anchors[index]

        def moved(v):
            return tuple(v if i == index else a for i, a in enumerate(anchors))

        at = lambda v: replace(setting, calibrations={**setting.calibrations, set_name: moved(v)})  # noqa: E731
        in_domain = lambda v: anchors_ordered(*moved(v))  # noqa: E731
    else:
        raise ValueError(f"unknown parameter {parameter!r}")

    def keeps(value: float) -> bool | None:
        try:
            result = solve(raw, at(value))
        except CasemetaError:  # a membership of exactly 0.5: no truth table at this value
            return None
        return set(solution_terms(result, spec, solution)) == set(initial)

    return ThresholdRange(parameter, set_name, anchor, start, sweep, _walk(start, sweep, -1, in_domain, keeps),
                          _walk(start, sweep, +1, in_domain, keeps))


# ---------------------------------------------------------------------------------------------------- fit and cases


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def robustness_fit(IS: np.ndarray, TS: Sequence[np.ndarray], y: np.ndarray) -> tuple[RobustnessFit, pd.Series]:
    """The robustness parameters of an initial solution's memberships IS against the test sets' TS (one array
    per test set) and the outcome y; and each case's type (CASE_TYPES, or "" on a 0.5 boundary)."""
    stack = np.vstack([np.asarray(t, dtype=float) for t in TS])
    # every test set, where SetMethods' `for (i in length(test_sol))` takes only the first and the last
    min_ts, max_ts = stack.min(axis=0), stack.max(axis=0)
    core = np.minimum(IS, min_ts)
    initial, robust = sufficiency(IS, y), sufficiency(core, y)
    types = case_types(IS, min_ts, max_ts, y)
    counts = types.value_counts()

    def n(kind: str) -> int:
        return int(counts.get(kind, 0))

    shaky = int((np.minimum(IS, 1 - min_ts) > 0.5).sum())  # whatever the outcome (rob.case.ratio)
    possible = int((np.minimum(1 - IS, max_ts) > 0.5).sum())
    rank = 1 + (possible > 0) + 2 * (shaky > 0)
    fit = RobustnessFit(
        RF_cov=_ratio(robust["covS"], initial["covS"]), RF_cons=_ratio(initial["inclS"], robust["inclS"]),
        RF_SC_minTS=_ratio(np.minimum(IS, min_ts).sum(), np.maximum(IS, min_ts).sum()),
        RF_SC_maxTS=_ratio(np.minimum(IS, max_ts).sum(), np.maximum(IS, max_ts).sum()),
        core_inclS=robust["inclS"], core_PRI=robust["PRI"], core_covS=robust["covS"],
        RCR_typ=_ratio(n("robust_typical"), n("robust_typical") + n("shaky_typical") + n("possible_typical")),
        RCR_dev=_ratio(n("robust_deviant"), n("robust_deviant") + n("shaky_deviant") + n("possible_deviant")),
        RCC_Rank=int(rank))
    return fit, types


def case_types(IS: np.ndarray, min_ts: np.ndarray, max_ts: np.ndarray, y: np.ndarray) -> pd.Series:
    """Each case's type (rob.cases): by IS*MinTS, IS*~MinTS, ~IS*MaxTS, ~IS*~MaxTS above 0.5 and Y above or
    below 0.5, strictly; "" for a case on a 0.5 boundary."""
    pairs = [(np.minimum(IS, min_ts), "robust"), (np.minimum(IS, 1 - min_ts), "shaky"),
             (np.minimum(1 - IS, max_ts), "possible"), (np.minimum(1 - IS, 1 - max_ts), "")]
    names = {("robust", True): "robust_typical", ("robust", False): "robust_deviant",
             ("shaky", True): "shaky_typical", ("shaky", False): "shaky_deviant",
             ("possible", True): "possible_typical", ("possible", False): "possible_deviant",
             ("", True): "extreme_deviant_coverage", ("", False): "irrelevant"}
    out = []
    for i in range(len(IS)):
        kind = next((name for member, name in pairs if member[i] > 0.5), None)
        if kind is None or y[i] == 0.5:
            out.append("")
        else:
            out.append(names[(kind, bool(y[i] > 0.5))])
    return pd.Series(out, dtype=object)


# ---------------------------------------------------------------------------------------------------- the protocol


def alternative_setting(setting: Setting, test_set: TestSet) -> Setting:
    cuts = setting.spec.cuts
    cuts = replace(cuts, incl=cuts.incl if test_set.incl_cut is None else test_set.incl_cut,
                   n=cuts.n if test_set.n_cut is None else test_set.n_cut,
                   pri=cuts.pri if test_set.pri_cut is None else test_set.pri_cut)
    return Setting(replace(setting.spec, cuts=cuts), {**setting.calibrations, **dict(test_set.calibrate)})


def _fit_row(name: str, ts: TestSet | None, terms: tuple[str, ...], same: bool, x: np.ndarray, y: np.ndarray) -> dict:
    calibrate = "" if ts is None else "; ".join(f"{k}: {', '.join(f'{a:g}' for a in v)}" for k, v in ts.calibrate.items())
    return {"test_set": name, "incl_cut": None if ts is None else ts.incl_cut, "n_cut": None if ts is None else ts.n_cut,
            "pri_cut": None if ts is None else ts.pri_cut, "calibrate": calibrate, "solution": " + ".join(terms),
            "same_terms": same, **sufficiency(x, y)}


def qca_robustness(raw: pd.DataFrame, spec: QcaSpec, calibrations: Mapping[str, tuple[float, float, float]],
                   solution: str, sweeps: Mapping[tuple[str, str, str], Sweep] | None = None, test_sets: Sequence[TestSet] = (),
                   leave_one_out: bool = False) -> RobustnessResult:
    """The robustness protocol for one QCA. `raw`: one row per case (indexed by its name), the outcome and
    conditions as memberships or, for the calibrated sets, raw values. `sweeps`: (parameter, set, anchor) ->
    Sweep, e.g. ("incl_cut", "", ""), ("calibrate", "size", "crossover")."""
    setting = Setting(spec, dict(calibrations))
    result = solve(raw, setting)
    if solution == "intermediate" and not spec.expectations:
        raise CasemetaError("the intermediate solution needs directional expectations (dir_exp)")
    terms = solution_terms(result, spec, solution)
    cases = [str(c) for c in raw.index]
    if not terms:
        empty = RobustnessResult(solution, (), (), pd.DataFrame(columns=TEST_SET_COLUMNS), None,
                                 pd.DataFrame(columns=CASE_COLUMNS), pd.DataFrame(columns=LOO_COLUMNS),
                                 (Caveat.of("qca_robustness_no_solution", [spec.outcome], solution=solution),))
        return empty
    caveats: list[Caveat] = []
    ranges = tuple(threshold_range(raw, setting, solution, p, sweep, s, a, terms) for (p, s, a), sweep in (sweeps or {}).items())
    for r in ranges:
        for side, bound in (("lower", r.lower), ("upper", r.upper)):
            if bound.status == "no_qca":
                caveats.append(Caveat.of("qca_range_no_qca", [r.set] if r.set else [], parameter=r.parameter,
                                         anchor=r.anchor, side=side, value=bound.next_value))
    y = result.outcome
    IS = solution_membership(result, solution)
    rows = [_fit_row(INITIAL, None, terms, True, IS, y)]
    fit, cases_frame = None, pd.DataFrame(columns=CASE_COLUMNS)
    if test_sets:
        memberships = []
        for ts in test_sets:
            try:
                ts_result = solve(raw, alternative_setting(setting, ts))
            except CasemetaError as exc:
                raise CasemetaError(f"test set {ts.name!r}: {exc}") from exc
            ts_terms = solution_terms(ts_result, spec, solution)
            if not ts_terms:
                caveats.append(Caveat.of("qca_test_set_no_solution", [spec.outcome], test_set=ts.name, solution=solution))
            memberships.append(solution_membership(ts_result, solution))
            rows.append(_fit_row(ts.name, ts, ts_terms, set(ts_terms) == set(terms), memberships[-1], y))
        fit, types = robustness_fit(IS, memberships, y)
        stack = np.vstack(memberships)
        min_ts, max_ts = stack.min(axis=0), stack.max(axis=0)
        cases_frame = pd.DataFrame({"case": cases, "IS": IS, "MinTS": min_ts, "MaxTS": max_ts,
                                    "RC": np.minimum(IS, min_ts), "TS": np.where(IS > 0.5, min_ts, max_ts),
                                    "outcome": y, "type": types.to_numpy()}, columns=CASE_COLUMNS)
        if np.isnan(fit.RCR_typ) or np.isnan(fit.RCR_dev):
            caveats.append(Caveat.of("qca_rcr_undefined", typ=bool(np.isnan(fit.RCR_typ)), dev=bool(np.isnan(fit.RCR_dev))))
    loo = leave_one_case_out(raw, setting, solution, terms) if leave_one_out else pd.DataFrame(columns=LOO_COLUMNS)
    return RobustnessResult(solution, terms, ranges, pd.DataFrame(rows, columns=TEST_SET_COLUMNS), fit, cases_frame,
                            loo, tuple(caveats))


def leave_one_case_out(raw: pd.DataFrame, setting: Setting, solution: str, terms: tuple[str, ...]) -> pd.DataFrame:
    """The QCA without each case in turn (qcaERT's loo.test): whether the solution's M1 changes, and what it
    becomes. The direct calibration's anchors are fixed numbers, so each case's membership is the same with or
    without the others: qcaERT's calib = "fixed" and "recompute" agree here."""
    rows = []
    calibrated = calibrated_frame(raw, setting.calibrations)  # once: each case's memberships are its own (above)
    for case in raw.index:
        without = solution_terms(run_qca(calibrated.drop(index=case), setting.spec), setting.spec, solution)
        rows.append({"case": str(case), "changed": set(without) != set(terms), "solution": " + ".join(without)})
    return pd.DataFrame(rows, columns=LOO_COLUMNS)
