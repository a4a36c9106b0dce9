"""Publication tables of a QCA's robustness (casemeta.stats.qca.robustness): ranges, test sets, robustness fit,
case types and leave-one-case-out, with the codebook's labels. Written by the one writer with the QCA's tables. Their text keeps to characters the LaTeX preamble of
casemeta.publish.latex prints (no Σ or ·: "sum of", "*")."""

from __future__ import annotations

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.publish.qca_tables import SCORE_DIGITS, capped_cases
from casemeta.publish.tables import CASE_LISTING_LIMIT, PubTable, fmt_count, fmt_number, labeller
from casemeta.stats.qca.robustness import CASE_TYPES, INITIAL, RobustnessResult

CASE_TYPE_LABELS = {
    "robust_typical": ("Robust typical", "IS*MinTS > 0.5, Y > 0.5"),
    "robust_deviant": ("Robust deviant", "IS*MinTS > 0.5, Y < 0.5"),
    "shaky_typical": ("Shaky typical", "IS*~MinTS > 0.5, Y > 0.5"),
    "shaky_deviant": ("Shaky deviant", "IS*~MinTS > 0.5, Y < 0.5"),
    "possible_typical": ("Possible typical", "~IS*MaxTS > 0.5, Y > 0.5"),
    "possible_deviant": ("Possible deviant", "~IS*MaxTS > 0.5, Y < 0.5"),
    "extreme_deviant_coverage": ("Extreme deviant coverage", "~IS*~MaxTS > 0.5, Y > 0.5"),
    "irrelevant": ("Irrelevant", "~IS*~MaxTS > 0.5, Y < 0.5"),
}
FIT_LABELS = {
    "RF_cov": "Cov(RC) / Cov(IS): the share of the initial solution's coverage the robust core keeps",
    "RF_cons": "Cons(IS) / Cons(RC): the initial solution's consistency relative to the robust core's",
    "RF_SC_minTS": "sum of min(IS, MinTS) / sum of max(IS, MinTS): how far IS and the smallest test set overlap",
    "RF_SC_maxTS": "sum of min(IS, MaxTS) / sum of max(IS, MaxTS): how far IS and the largest test set overlap",
    "core_inclS": "Consistency of the robust core RC = min(IS, TS1 ... TSk)",
    "core_PRI": "PRI of the robust core",
    "core_covS": "Coverage of the robust core",
    "RCR_typ": "Robust typical cases / (robust + shaky + possible typical cases)",
    "RCR_dev": "Robust deviant cases / (robust + shaky + possible deviant cases)",
    "RCC_Rank": "1: no shaky and no possible case; 2: possible cases only; 3: shaky cases only; 4: both",
}
STATUS_NOTES = {
    "not_reached": "not reached within {runs} steps of {step:g}: the solution holds at least this far",
    "domain_end": "the end of the parameter's range (an inclusion cut of 0 or 1, a frequency cut of 1 or the number "
                  "of cases, or anchors that would fall out of order)",
    "no_qca": "one step further a case's membership is exactly 0.5 (no truth table can be made there)",
}


def _score(x) -> str:
    return fmt_number(x, SCORE_DIGITS)


def _value(x, parameter: str) -> str:
    return fmt_count(x) if parameter == "n_cut" else f"{x:g}"


def parameter_label(parameter: str, set_name: str, anchor: str, codebook: Codebook | None) -> str:
    if parameter == "calibrate":
        return f"{labeller(codebook)(set_name)}: {anchor.replace('_', ' ')} anchor"
    return {"incl_cut": "Inclusion cut", "n_cut": "Frequency cut (n)"}[parameter]


def ranges_table(rob: RobustnessResult, outcome: str, codebook: Codebook | None) -> PubTable:
    rows, statuses = [], []
    for r in rob.ranges:
        rows.append({"Parameter": parameter_label(r.parameter, r.set, r.anchor, codebook),
                     "Threshold": _value(r.threshold, r.parameter), "Step": _value(r.sweep.step, r.parameter),
                     "Lower bound": _value(r.lower.value, r.parameter), "Upper bound": _value(r.upper.value, r.parameter)})
        statuses.append((r.lower, r.upper, r.sweep))
    frame = pd.DataFrame(rows, columns=["Parameter", "Threshold", "Step", "Lower bound", "Upper bound"])
    table = PubTable("robustness_ranges", f"Robustness ranges: {outcome}", frame, notes=[
        f"The {rob.solution} solution's first model, {' + '.join(rob.terms) or '(none)'}, keeps its terms from the lower "
        "to the upper bound: each bound is the last value, in steps of the given size, that keeps them; one step "
        "further they change, unless a note says otherwise."])
    for i, (lower, upper, sweep) in enumerate(statuses):
        for column, bound in ((3, lower), (4, upper)):
            if bound.status != "changed":
                table.mark(i, column, STATUS_NOTES[bound.status].format(runs=sweep.max_runs, step=sweep.step))
    if not rob.ranges:
        table.notes.append("The plan sweeps no threshold (robustness: incl_cut, n_cut or calibration).")
    return table


def test_sets_table(rob: RobustnessResult, outcome: str, codebook: Codebook | None) -> PubTable:
    label = labeller(codebook)
    rows = []
    for _, row in rob.test_sets.iterrows():
        changes = [f"{name} {row[key]:g}" for key, name in (("incl_cut", "inclusion cut"), ("n_cut", "frequency cut"),
                                                             ("pri_cut", "PRI cut")) if pd.notna(row[key])]
        if row["calibrate"]:
            changes += [f"{label(part.split(': ')[0])} anchors {part.split(': ')[1]}" for part in str(row["calibrate"]).split("; ")]
        initial = row["test_set"] == INITIAL
        rows.append({"Test set": "Initial solution (IS)" if initial else row["test_set"],
                     "Thresholds": "the QCA's own" if initial else "; ".join(changes),
                     "Solution (M1)": row["solution"] or "(no solution)",
                     "Same terms": "" if initial else ("yes" if row["same_terms"] else "no"),
                     "inclS": _score(row["inclS"]), "PRI": _score(row["PRI"]), "covS": _score(row["covS"])})
    frame = pd.DataFrame(rows, columns=["Test set", "Thresholds", "Solution (M1)", "Same terms", "inclS", "PRI", "covS"])
    notes = [] if len(rob.test_sets) > 1 else ["The plan declares no test set (robustness: test_sets)."]
    return PubTable("robustness_test_sets", f"Test sets: {outcome}", frame, notes=notes)


def fit_table(rob: RobustnessResult, outcome: str, said: list[str]) -> PubTable:
    frame = pd.DataFrame(columns=["Parameter", "Value", "Meaning"])
    if rob.fit is not None:
        values = {name: getattr(rob.fit, name) for name in FIT_LABELS}
        frame = pd.DataFrame([{"Parameter": name, "Value": str(value) if name == "RCC_Rank" else _score(value),
                               "Meaning": FIT_LABELS[name]} for name, value in values.items()],
                             columns=["Parameter", "Value", "Meaning"])
    notes = ["IS: membership in the initial solution; TS1 ... TSk: in the test sets' solutions; MinTS and MaxTS their "
             "minimum and maximum over every test set (Oana & Schneider 2021)."]
    if rob.fit is None:
        notes.append("No test set, so no robustness fit.")
    return PubTable("robustness_fit", f"Robustness fit: {outcome}", frame, notes=[*notes, *said])


def cases_table(rob: RobustnessResult, outcome: str, case_limit: int | None = CASE_LISTING_LIMIT) -> PubTable:
    types = rob.cases["type"] if len(rob.cases) else pd.Series(dtype=object)
    rows = []
    for kind in CASE_TYPES:
        names = [str(c) for c in rob.cases.loc[types == kind, "case"]] if len(rob.cases) else []
        rows.append({"Case type": CASE_TYPE_LABELS[kind][0], "Where": CASE_TYPE_LABELS[kind][1],
                     "n": str(len(names)), "Cases": capped_cases(", ".join(names), case_limit)})
    frame = pd.DataFrame(rows, columns=["Case type", "Where", "n", "Cases"])
    notes = ["Cut-offs are strict (> 0.5, < 0.5), as SetMethods' rob.cases."]
    boundary = [str(c) for c in rob.cases.loc[types == "", "case"]] if len(rob.cases) else []
    if boundary:
        notes.append(f"On a 0.5 boundary, so of no type: {', '.join(boundary)}.")
    if rob.fit is None:
        notes.append("No test set, so no case types.")
    return PubTable("robustness_cases", f"Case types of robustness: {outcome}", frame, notes=notes)


def leave_one_out_table(rob: RobustnessResult, outcome: str, asked: bool) -> PubTable:
    changed = rob.leave_one_out[rob.leave_one_out["changed"].astype(bool)] if len(rob.leave_one_out) else rob.leave_one_out
    frame = pd.DataFrame({"Case left out": changed["case"].astype(str),
                          "Solution (M1) without it": changed["solution"].map(lambda s: s or "(no solution)")},
                         columns=["Case left out", "Solution (M1) without it"]).reset_index(drop=True)
    if not asked:
        notes = ["Not asked for (robustness: leave_one_out)."]
    elif frame.empty:
        notes = [f"The solution holds without any single case ({len(rob.leave_one_out)} cases left out in turn)."]
    else:
        notes = [f"The cases whose removal changes the {rob.solution} solution's first model, "
                 f"{' + '.join(rob.terms)}; removing any of the other {len(rob.leave_one_out) - len(frame)} case(s) leaves it."]
    return PubTable("leave_one_out", f"Leave one case out: {outcome}", frame, notes=notes)


def robustness_tables(rob: RobustnessResult, outcome: str, codebook: Codebook | None, said: list[str],
                      leave_one_out: bool, case_limit: int | None = CASE_LISTING_LIMIT) -> list[PubTable]:
    """The five tables, in the order casemeta.study lists them (QCA_ROBUSTNESS_TABLES)."""
    return [ranges_table(rob, outcome, codebook), test_sets_table(rob, outcome, codebook), fit_table(rob, outcome, said),
            cases_table(rob, outcome, case_limit), leave_one_out_table(rob, outcome, leave_one_out)]
