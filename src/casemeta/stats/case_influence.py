"""Case influence: every model and cross-tab test of a plan refitted without each case in turn.

Frames in, frames out (no file I/O). The refits are the main run's own functions
(`study_analysis.fit_rows` for a model, `study_analysis.test_row`, crosstab_rows' test row, for a test),
with the plan's method, correction, joint tests, Monte Carlo draws and seed, so a refit is exactly what the models
step would give on the data without that case; with `auto`, a refit whose cases separate is a Firth
fit, as the main run's would be (its `method` column and caveats say so).

Definitions (one finding is a model term other than the intercept, a model's joint test, or a
cross-tab test; a model's intercept is the baseline odds, not a finding):

- estimate: a term's log-odds coefficient; for a cross-tab test, the log of its odds ratio (2×2
  tables only: larger tables have none, so only their significance is assessed).
- sign: the direction of the estimate; an estimate within ZERO of 0 has none. The sign *changes*
  when the estimate with every case and the one without the case point in opposite directions
  (an estimate of exactly 0, as Firth gives for a balanced table, moving away from 0 is no change).
- significance: p < ALPHA (0.05). It *changes* when p with every case and p without the case lie on
  different sides of ALPHA (p = 0.05 counts as not significant).
- not_estimable: the main run computed the estimate or the p-value and the refit cannot (the
  model cannot be fitted, a predictor or the outcome is constant, the table has one row left);
  the refit's caveats say why.
- change: "sign", "significance", "both" or "not_estimable"; a case whose removal changes nothing
  is not listed. A statistic the main run could not compute is not assessed.

A finding *holds without any single case* when no case is listed for it, and *rests on* the cases
listed otherwise. Cases with the same values on every variable of a model (or test) leave the same
data when left out: one refit, on the data without the first of them, serves them all.

The words of the verdicts live here only (VERDICTS, CHANGE_WORDS), rendered from the records by
`sentence`, with the names or labels the caller passes, as caveats are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.stats.caveats import Caveat, merge, row_fields
from casemeta.stats.caveats import column as caveat_rows
from casemeta.stats.study_analysis import fit_rows, test_row

ALPHA = 0.05
ZERO = 1e-8  # the fits' tolerance: an estimate this close to 0 has no direction
INTERCEPT = "Intercept"

CHANGE_COLUMNS = ["case", "kind", "model", "outcome", "term", "estimate_all", "estimate_without", "p_all", "p_without",
                  "change", "method_all", "method", "n_all", "n_without", "note", "caveats"]
FINDING_COLUMNS = ["kind", "model", "outcome", "term", "estimate_all", "p_all", "method_all", "n_all", "cases_left_out",
                   "verdict", "changes"]

# how each change reads in a sentence (by whether p < ALPHA with every case), and each verdict: the one place
# they are worded
CHANGE_WORDS = {
    "sign": lambda was: "the sign reverses",
    "significance": lambda was: f"p rises to {ALPHA:g} or above" if was else f"p falls below {ALPHA:g}",
    "both": lambda was: (f"the sign reverses and p {'rises to' if was else 'falls below'} {ALPHA:g}"
                         + (" or above" if was else "")),
    "not_estimable": lambda was: "it cannot be estimated",
}

# what a table's Change column shows for each change
CHANGE_LABELS = {"sign": "sign", "significance": f"significance at {ALPHA:g}", "both": f"sign and significance at {ALPHA:g}",
                 "not_estimable": "not estimable"}


def _rests_on(subject: str, x, case) -> str:
    """`subject: rests on case A (without it, ...)`, or cases grouped by what leaving each out changes."""
    was = significant(x["p_all"])
    groups: dict[str, list[str]] = {}
    for c, what in x["changes"]:
        groups.setdefault(what, []).append(case(c))
    parts = [f"{', '.join(cases)} (without {'it' if len(cases) == 1 else 'any one of them'}, {CHANGE_WORDS[what](was)})"
             for what, cases in groups.items()]
    plural = "s" if len(x["changes"]) > 1 else ""
    return f"{subject}: rests on case{plural} {'; '.join(parts)}."


VERDICTS = {
    "holds": lambda subject, x, case: (f"{subject}: holds without any single case ({x['cases_left_out']} case(s) left out "
                                       f"in turn: no sign reverses, no p-value crosses {ALPHA:g})."),
    "rests_on": _rests_on,
    "not_assessed": lambda subject, x, case: f"{subject}: not assessed (not estimable with every case).",
}


def sentence(finding, subject: str, case=str) -> str:
    """One finding's verdict in words: `subject` names the finding (as the caller labels it), `case` renders a
    case's identifier."""
    return VERDICTS[finding["verdict"]](subject, finding, case)


def direction(value: float) -> int:
    """+1, -1, or 0 for an estimate within ZERO of 0 or not computed."""
    if value is None or np.isnan(value) or abs(value) <= ZERO:
        return 0
    return 1 if value > 0 else -1


def significant(p: float) -> bool:
    return bool(p < ALPHA)


def change(estimate_all: float, estimate_without: float, p_all: float, p_without: float) -> str | None:
    """What leaving a case out changes (see the module's definitions), or None."""
    if (not np.isnan(estimate_all) and np.isnan(estimate_without)) or (not np.isnan(p_all) and np.isnan(p_without)):
        return "not_estimable"
    sign = direction(estimate_all) * direction(estimate_without) < 0
    significance = not np.isnan(p_all) and significant(p_all) != significant(p_without)
    return "both" if sign and significance else "sign" if sign else "significance" if significance else None


def _num(value) -> float:
    return float(value) if value is not None and not pd.isna(value) else float("nan")


def _model_statistics(table: pd.DataFrame) -> dict[str, dict]:
    """term -> its estimate, p-value, method, n and caveats, from fit_rows' table (a not estimable model has none)."""
    out = {}
    if "term" not in table.columns:  # fit_rows' one "not estimable" row
        return out
    for (_, row), caveats in zip(table.iterrows(), caveat_rows(table)):
        if isinstance(row["term"], str) and row["term"] != INTERCEPT:
            out[row["term"]] = {"estimate": _num(row["estimate"]), "p": _num(row["p_value"]), "method": row["method"],
                                "n": int(row["n"]), "caveats": caveats}
    return out


def _test_statistics(row: dict) -> dict[str, dict]:
    with np.errstate(divide="ignore"):  # an odds ratio of 0 has a log-odds of -inf, of inf +inf: directions still
        estimate = float(np.log(row["odds_ratio"])) if not pd.isna(row["odds_ratio"]) else float("nan")
    return {row["condition"]: {"estimate": estimate, "p": _num(row["p_value"]), "method": row["test"],
                               "n": int(row["n"]), "caveats": tuple(row["caveats"])}}


def _patterns(frame: pd.DataFrame, columns: list[str]) -> dict[int, int]:
    """Each case's position -> the position of the first case with the same values on `columns` (blanks alike)."""
    first: dict[tuple, int] = {}
    out = {}
    for i, key in enumerate(zip(*(frame[c].astype(object).where(frame[c].notna(), None) for c in columns))):
        out[i] = first.setdefault(key, i)
    return out


def _leave_each_out(frame: pd.DataFrame, ids: list[str], columns: list[str], statistics) -> list[tuple[str, dict]]:
    """(case, statistics without it) for every case, by one refit per distinct pattern of `columns`."""
    refits: dict[int, dict] = {}
    out = []
    # a refit reads only `columns` (the model's or test's variables): copying them alone, by position (frame has
    # a RangeIndex: the same rows and labels as frame.drop), costs a fraction of copying every column
    data, every = frame[list(dict.fromkeys(columns))], np.arange(len(frame))
    for i, first in _patterns(frame, columns).items():
        if first not in refits:
            refits[first] = statistics(data.take(np.delete(every, first)))
        out.append((ids[i], refits[first]))
    return out


def _compare(kind: str, model: str, outcome: str, full: dict[str, dict], without: list[tuple[str, dict]],
             missing_terms: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    """Change rows and finding rows of one model (or test): each term of the main run against each refit."""
    changes, findings = [], []
    for term, a in full.items():
        listed = []
        for case, stats in without:
            b = stats.get(term)
            est_b, p_b = (b["estimate"], b["p"]) if b else (float("nan"), float("nan"))
            what = change(a["estimate"], est_b, a["p"], p_b)
            if what is None:
                continue
            caveats = b["caveats"] if b else stats.get(None, {}).get("caveats", ())
            if b and b["method"] != a["method"]:
                caveats = merge(caveats, Caveat.of("influence_method", [term], method=b["method"], method_all=a["method"]))
            changes.append({"case": case, "kind": kind, "model": model, "outcome": outcome, "term": term,
                            "estimate_all": a["estimate"], "estimate_without": est_b, "p_all": a["p"], "p_without": p_b,
                            "change": what, "method_all": a["method"], "method": b["method"] if b else "",
                            "n_all": a["n"], "n_without": b["n"] if b else stats.get(None, {}).get("n", np.nan),
                            **row_fields(caveats)})
            listed.append((case, what))
        assessed = not (np.isnan(a["estimate"]) and np.isnan(a["p"]))
        verdict = "not_assessed" if not assessed else "rests_on" if listed else "holds"
        findings.append({"kind": kind, "model": model, "outcome": outcome, "term": term, "estimate_all": a["estimate"],
                         "p_all": a["p"], "method_all": a["method"], "n_all": a["n"], "cases_left_out": len(without),
                         "verdict": verdict, "changes": tuple(listed)})
    for term in missing_terms or ():
        findings.append({"kind": kind, "model": model, "outcome": outcome, "term": term, "estimate_all": np.nan,
                         "p_all": np.nan, "method_all": "", "n_all": 0, "cases_left_out": len(without),
                         "verdict": "not_assessed", "changes": ()})
    return changes, findings


def _unfitted(table: pd.DataFrame) -> dict:
    """What a refit that gave no term says: its caveats and n, under the key None."""
    caveats = caveat_rows(table)
    return {None: {"caveats": caveats[0] if caveats else (), "n": int(table["n"].iloc[0]) if len(table) else 0}}


def case_influence(frame: pd.DataFrame, plan, codebook: Codebook, draws: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every model of the plan and every cross-tab test refitted without each case in turn.

    Returns (changes, findings): `changes` has a row (CHANGE_COLUMNS) for each case whose removal changes a
    finding's sign or 5% significance, or leaves it not estimable; `findings` a row (FINDING_COLUMNS) for each
    finding, with its verdict and its (case, change) pairs. Cases are named by the codebook's identifier."""
    frame = frame.reset_index(drop=True)
    ids = frame[codebook.id_column].astype(str).str.strip().tolist()
    changes, findings = [], []
    for m in plan.models:
        def statistics(data, m=m):
            table = fit_rows(data, m, codebook.study, interval="wald")
            return {**_unfitted(table), **_model_statistics(table)}
        full = statistics(frame)
        terms = {k: v for k, v in full.items() if k is not None}
        without = _leave_each_out(frame, ids, [m.outcome, *m.variables], statistics)
        # a model not estimable with every case: its terms, as the plan writes them, are not assessed
        part = _compare("model", m.name, m.outcome, terms, without, [] if terms else list(m.terms))
        changes += part[0]
        findings += part[1]
    for outcome, condition in plan.crosstabs.pairs:
        def statistics(data, outcome=outcome, condition=condition):
            row = test_row(data, outcome, condition, codebook, draws, seed)  # crosstab_rows' test row, without its counts
            return {**_test_statistics(row), None: {"caveats": tuple(row["caveats"]), "n": int(row["n"])}}
        full = statistics(frame)
        without = _leave_each_out(frame, ids, [outcome, condition], statistics)
        part = _compare("test", "", outcome, {condition: full[condition]}, without)
        changes += part[0]
        findings += part[1]
    return (pd.DataFrame(changes, columns=CHANGE_COLUMNS),
            pd.DataFrame(findings, columns=FINDING_COLUMNS))

