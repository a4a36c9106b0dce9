"""Assemble a study's results into publication tables, every label taken from the codebook."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.plan import Plan
from casemeta.stats import caveats as cv
from casemeta.stats.caveats import Caveat


def footnote_letter(i: int) -> str:
    """a, b, ..., z, aa, ab, ... for the i-th footnote (0-based)."""
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


@dataclass
class PubTable:
    name: str  # file stem, e.g. "table_2"
    title: str
    frame: pd.DataFrame  # cells as they are printed (text), first column is the stub
    notes: list[str] = field(default_factory=list)
    # (row, column) position of a cell -> the stated reasons that explain it (a blank statistic, a fallback);
    # every format prints a footnote letter in the cell and the reasons under the table
    marks: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    # typeset formats (Word, LaTeX) print at most this many rows; None: every row
    row_limit: int | None = None

    def mark(self, row: int, column: int, text) -> None:
        text = text_or_blank(text)
        if text and text not in self.marks.setdefault((row, column), []):
            self.marks[(row, column)].append(text)

    def footnotes(self) -> list[str]:
        """Every distinct reason, in reading order (row by row, left to right); footnote i has letter i."""
        return list(dict.fromkeys(t for key in sorted(self.marks) for t in self.marks[key]))

    def marker(self, row: int, column: int) -> str:
        """The footnote letters of a cell, e.g. 'a' or 'a,c'; '' for a cell with no stated reason."""
        if (row, column) not in self.marks:  # most cells: no footnote order to work out (a case listing has none)
            return ""
        order = self.footnotes()
        return ",".join(footnote_letter(order.index(t)) for t in self.marks[(row, column)])

    def row_notes(self, row: int) -> str:
        """The reasons of one row, each after the column it explains (for the CSV's Note column)."""
        columns = self.frame.columns
        return "; ".join(f"{columns[c]}: {t}" if c and str(columns[c]) else t
                         for (r, c) in sorted(self.marks) if r == row for t in self.marks[(r, c)])


def text_or_blank(value) -> str:
    """A results CSV cell (a `note`, a name) as text; a blank cell is ''."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def labeller(codebook: Codebook | None):
    """How a caveat names a variable or term in a publication table: its codebook label, or the name
    itself where the codebook has no such variable (or there is no codebook)."""
    known = set() if codebook is None else {v.name for v in (*codebook.variables, *codebook.derived)}

    def label(name: str) -> str:
        parts = [p.split("[", 1)[0] for p in str(name).split(":")]
        return term_label(name, codebook) if codebook is not None and all(p in known for p in parts) else str(name)
    return label


def caveat_texts(caveats, codebook: Codebook | None) -> list[str]:
    """Caveats in words, variables as the codebook labels them: the one place publication renders them."""
    label = labeller(codebook)
    return [c.message(label) for c in caveats]


def _row_texts(frame: pd.DataFrame, codebook: Codebook | None) -> list[str]:
    """Each results row's caveats in words, joined (a results row has one mark for all its statistics)."""
    return ["; ".join(caveat_texts(c, codebook)) for c in cv.column(frame)]


def _mark_rows(table: PubTable, texts: list[str]) -> None:
    """Row i's caveats mark the row (its first cell)."""
    for i, text in enumerate(texts):
        table.mark(i, 0, text)


def fmt_number(x, digits: int = 2) -> str:
    if x is None or pd.isna(x):
        return ""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def fmt_p(p) -> str:
    if pd.isna(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_count(n) -> str:
    return "" if n is None or pd.isna(n) else str(int(n))


def stars(p) -> str:
    if pd.isna(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


CASE_LISTING_LIMIT = 200  # default of publication.case_listing_limit (casemeta.plan.Publication)


def case_listing(frame: pd.DataFrame, codebook: Codebook, columns: list[str], limit: int | None = CASE_LISTING_LIMIT) -> PubTable:
    """Every coded case; Word and LaTeX print the first `limit` (see typeset_rows)."""
    out = pd.DataFrame({codebook.label(c): [codebook.variable(c).value_label(v) if not pd.isna(v) else "" for v in frame[c]] for c in columns})
    return PubTable("cases", f"Coded cases ({len(frame)})", out, [f"Source: {codebook.source}"] if codebook.source else [],
                    row_limit=limit)


def typeset_rows(table: PubTable, full_list: list[str]) -> PubTable:
    """The table as Word and LaTeX print it: its first row_limit rows, with a note naming where every row is
    (full_list: the files holding them all); the table itself if it is within its limit."""
    if table.row_limit is None or len(table.frame) <= table.row_limit:
        return table
    where = " and ".join(full_list) or "the CSV or Excel export (add csv or xlsx to the export formats)"
    note = f"Only the first {table.row_limit:,} of {len(table.frame):,} rows are listed here; the full list is in {where}."
    marks = {key: reasons for key, reasons in table.marks.items() if key[0] < table.row_limit}
    return PubTable(table.name, table.title, table.frame.iloc[:table.row_limit], [*table.notes, note], marks)


def reproduced_tables(reproduction: pd.DataFrame, titles: dict[str, str] | None = None,
                      case_listing: str | None = None) -> list[PubTable]:
    """Each published count table as we recompute it, with every mismatch noted under it; its
    caption is the published title (from the plan) and says which published table it recomputes.
    The published case listing (`case_listing`, compared cell by cell) is no count table: left out."""
    titles = titles or {}
    tables = []
    for name, part in reproduction.groupby("table", sort=False):
        if name == case_listing or part.empty:
            continue
        ours = part.pivot(index="row", columns="column", values="reproduced")
        ours = ours.loc[list(dict.fromkeys(part["row"])), list(dict.fromkeys(part["column"]))]
        shown = ours.map(lambda v: "" if pd.isna(v) else str(int(float(v)))).reset_index().rename(columns={"row": ""})
        bad = part[~part["match"].astype(str).str.lower().eq("true")]
        notes = ["Recomputed from the coded cases; layout and labels as published."]
        notes += [f"Published {r.published} for {r.row} / {r.column}; recomputed {r.reproduced}." for r in bad.itertuples()]
        title = f"{titles[name]} (published {name}, recomputed)" if titles.get(name) else f"Published {name}, recomputed"
        tables.append(PubTable(name.lower().replace(" ", "_"), title, shown, notes))
    return tables


MISSING_LABEL = "Missing"  # the row of cases with no value of the condition, where the plan shows it


def crosstab_counts(part: pd.DataFrame, with_missing: bool = False) -> pd.DataFrame:
    """One condition's rows of crosstabs.csv as one row per category in file order: its label, `N` (the
    cases in the row), and for each outcome the cases with it (`<outcome>`), the cases in the row
    observed on it (`<outcome>:n`) and those with no value of it (`<outcome>:missing`). A category no
    case uses keeps its row with 0 cases; cases with no value of the condition form a last row (value
    None) only `with_missing`."""
    part = part.assign(count=pd.to_numeric(part["count"], errors="coerce").fillna(0).astype(int))
    value = part["condition_value"].astype("string")
    outcome_value = pd.to_numeric(part["outcome_value"], errors="coerce")
    categories = list(dict.fromkeys(v for v in value if not pd.isna(v)))
    if with_missing and value.isna().any():
        categories.append(None)
    outcomes = list(dict.fromkeys(part["outcome"]))
    labels = dict(zip(value.fillna(""), part["condition_label"].astype("string").fillna("")))
    # the masks as numpy arrays: a frame selection per cell cost the export step a tenth of a second
    count, blank = part["count"].to_numpy(), value.isna().to_numpy()
    texts, outcome_of = value.fillna("").to_numpy(dtype=object), part["outcome"].to_numpy(dtype=object)
    known = outcome_value.to_numpy(dtype=float)
    rows = []
    for c in categories:
        in_row = blank if c is None else ~blank & (texts == c)
        row = {"label": MISSING_LABEL if c is None else (labels.get(c) or c)}
        row["N"] = int(count[in_row & (outcome_of == outcomes[0])].sum())
        for o in outcomes:
            mine = in_row & (outcome_of == o)
            row[o] = int(count[mine & (known == 1)].sum())
            row[f"{o}:n"] = int(count[mine & ((known == 0) | (known == 1))].sum())
            row[f"{o}:missing"] = int(count[mine & np.isnan(known)].sum())
        rows.append(row)
    columns = ["label", "N", *(f"{o}{part}" for o in outcomes for part in ("", ":n", ":missing"))]
    out = pd.DataFrame(rows, columns=columns, index=pd.Index(categories, name="condition_value", dtype=object))
    out.attrs["outcomes"] = outcomes
    out.attrs["missing_condition"] = int(part.loc[value.isna() & (part["outcome"] == outcomes[0]), "count"].sum()) if outcomes else 0
    return out


def share_cell(k: int, n: int) -> str:
    """Cases with the outcome of those observed on it, and the share: "2/4 (50%)"; "0/0" where none is."""
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"


def crosstab_tables(crosstabs: pd.DataFrame, codebook: Codebook, missing: str = "note",
                    conditions: list[str] | None = None, outcomes: list[str] | None = None) -> list[PubTable]:
    """One table per condition: cases in each category (N) and, for each outcome, how many of those
    observed on it have it. Every share divides by its own n: a case with no value of the outcome is
    left out of that outcome's cell (and its footnote says so), one with no value of the condition
    out of every row (a note, or a Missing row where the plan asks). One table per condition of the plan
    (`conditions`; default: those of the results), even one the results hold no row of."""
    tables = []
    for condition in (conditions if conditions is not None else list(dict.fromkeys(crosstabs["condition"]))):
        part = crosstabs[crosstabs["condition"] == condition]
        counts = crosstab_counts(part, with_missing=(missing == "row"))
        outcomes = counts.attrs["outcomes"] or list(outcomes or [])
        for column in (f"{o}{part}" for o in outcomes for part in ("", ":n", ":missing")):
            if column not in counts.columns:  # a condition the results hold no row of
                counts[column] = 0
        out = pd.DataFrame({codebook.label(condition): counts["label"].to_list(), "N": counts["N"].astype(str).to_list()})
        for outcome in outcomes:
            out[codebook.label(outcome)] = [share_cell(k, n) for k, n in zip(counts[outcome], counts[f"{outcome}:n"])]
        notes = ["Cells: cases with the outcome / cases of the row with a known outcome (share); N: cases of the row."]
        total = int(counts["N"].sum()) + (counts.attrs["missing_condition"] if missing != "row" else 0)
        if missing != "row" and counts.attrs["missing_condition"]:
            notes += caveat_texts([Caveat.of("missing", [condition], left_out=counts.attrs["missing_condition"],
                                             total=total)], codebook)
        table = PubTable(f"crosstab_{condition}", f"{codebook.label(condition)} and outcomes (N = {total})", out, notes)
        for r, (_, row) in enumerate(counts.iterrows()):
            for outcome in outcomes:
                if row[f"{outcome}:missing"]:
                    left = Caveat.of("missing", [outcome], left_out=int(row[f"{outcome}:missing"]), total=int(row["N"]))
                    table.mark(r, out.columns.get_loc(codebook.label(outcome)), caveat_texts([left], codebook)[0])
        tables.append(table)
    return tables


def tests_table(tests: pd.DataFrame, codebook: Codebook) -> PubTable:
    out = pd.DataFrame({
        "Outcome": [codebook.label(o) for o in tests["outcome"]],
        "Condition": [codebook.label(c) for c in tests["condition"]],
        "Test": [text_or_blank(t) for t in tests["test"]],
        "p": [fmt_p(p) for p in tests["p_value"]],
        "Odds ratio": [fmt_number(x) for x in tests["odds_ratio"]],
        "Cramér's V": [fmt_number(x) for x in tests["cramers_v"]],
        "N": [fmt_count(n) for n in tests["n"]],
    })
    draws = sorted({int(d) for d in pd.to_numeric(tests["draws"], errors="coerce").dropna() if d > 0})
    notes = ["Fisher's exact test for 2×2 tables (conditional maximum-likelihood odds ratio); exact Fisher–Freeman–Halton for larger tables."]
    if draws:
        notes.append(f"Monte Carlo tests used {', '.join(map(str, draws))} draws.")
    notes.append("N: cases with a value of both the outcome and the condition.")
    table = PubTable("crosstab_tests", "Exact tests of association", out, notes)
    _mark_rows(table, _row_texts(tests, codebook))
    return table


def _factor_label(factor: str, codebook: Codebook) -> str:
    """`x` -> x's label; `x[level]` -> "x's label: the level's label" (a level of a category predictor)."""
    name, _, level = factor.partition("[")
    variable = codebook.variable(name)
    if not level:
        return variable.label
    return f"{variable.label}: {variable.value_label(level.rstrip(']'))}"


def term_label(term: str, codebook: Codebook | None) -> str:
    """A model term as a reader reads it: labels from the codebook, an interaction joined by ×
    (without a codebook, as the data names it)."""
    if term == "Intercept":
        return "(Intercept)"
    if codebook is None:
        return term.replace(":", " × ")
    return " × ".join(_factor_label(part, codebook) for part in term.split(":"))


STAR_NOTE = "p-value not available, so no significance stars can be shown."
NOT_IN_RESULTS = "no results for this model in logistic_models.csv: run the models step again."
PENALIZED = "penalized log-likelihood (Firth); the AIC and BIC of this column are computed from it."
Cells = dict[tuple[str, int], str]
Marks = dict[tuple[str, int], list[str]]


def _penalized(first: pd.Series) -> bool:
    """Whether a model's log-likelihood is the penalized one; older results say so only by their method."""
    kind = text_or_blank(first.get("loglik_kind"))
    return kind == "penalized" if kind else first.get("method") == "firth"


def _method(first: pd.Series) -> str:
    """The estimation method as a reader knows it: ML, Firth, or Firth (FLIC) / Firth (FLAC) where a correction
    made the predicted probabilities unbiased on average (Puhr et al. 2017)."""
    method = {"firth": "Firth", "ml": "ML"}.get(first["method"], text_or_blank(first["method"]))
    correction = text_or_blank(first.get("correction")).lower()
    return f"{method} ({correction.upper()})" if method == "Firth" and correction in ("flic", "flac") else method


def _fit_number(column: str, digits: int = 2):
    return lambda first: fmt_number(first.get(column), digits)


# The rows under the coefficients, in order: (label, the cell from a model's first results row,
# whether a penalized fit marks the cell). More rows (e.g. nested tests) slot in here.
FIT_ROWS: list[tuple[str, object, bool]] = [
    ("N", lambda first: fmt_count(first.get("n")), False),
    ("Events", lambda first: fmt_count(first.get("n_events")), False),
    ("Log-likelihood", _fit_number("loglik"), True),
    ("AIC", _fit_number("aic"), True),
    ("BIC", _fit_number("bic"), True),
    ("Tjur's R²", _fit_number("tjur_r2"), False),
    ("Method", lambda first: _method(first), False),
    ("Separation", lambda first: text_or_blank(first.get("separation_kind")), False),
]
FOOTER = tuple(label for label, _, _ in FIT_ROWS)


def _around(pattern: str, *values) -> str:
    """An interval or standard error in its brackets; blank (no brackets) when none of it was computed."""
    return "" if all(pd.isna(v) for v in values) else pattern.format(*map(fmt_number, values))


def _fit_cells(first: pd.Series) -> tuple[Cells, Marks]:
    cells = {(label, 0): cell(first) for label, cell, _ in FIT_ROWS}
    marks = {(label, 0): [PENALIZED] for label, _, penalized in FIT_ROWS
             if penalized and cells[(label, 0)] and _penalized(first)}
    return cells, marks


def _model_cells(fit: pd.DataFrame, codebook: Codebook | None, odds: bool, with_stars: bool) -> tuple[Cells, Marks]:
    """One model's column: (row, 0) holds a term's estimate, (row, 1) its interval or standard error.

    With the cells come the caveats that explain them: a caveat about the whole model (scope "model")
    marks its Method cell, a term's own caveat (or a blank p-value under `stars`) marks its estimate,
    a joint test's marks its p-value.
    """
    if fit.empty:
        return {("Method", 0): "not run"}, {("Method", 0): [NOT_IN_RESULTS]}
    label = labeller(codebook)
    rows = cv.column(fit)
    model_caveats = cv.merge(*[[c for c in row if c.scope == "model"] for row in rows])
    method_marks = {("Method", 0): [c.message(label) for c in model_caveats]} if model_caveats else {}
    if fit["term"].isna().all():
        return {("Method", 0): "not estimable"}, method_marks
    tested = fit["tested"] if "tested" in fit.columns else pd.Series([None] * len(fit), index=fit.index)
    cells: Cells = {}
    marks: Marks = {}
    for r, caveats, joint in zip(fit.itertuples(), rows, tested):
        own = [c.message(label) for c in caveats if c.scope != "model"]
        if not pd.isna(joint):
            _joint_test_cells(r, caveats, own, codebook, cells, marks)
            continue
        if odds and r.term == "Intercept":
            continue
        term = term_label(r.term, codebook)
        mark = stars(r.p_value) if with_stars else ""
        if odds:
            cells[(term, 0)] = f"{fmt_number(r.odds_ratio)}{mark}"
            cells[(term, 1)] = _around("[{}, {}]", r.or_ci_low, r.or_ci_high)
        else:
            cells[(term, 0)] = f"{fmt_number(r.estimate)}{mark}"
            cells[(term, 1)] = _around("({})", r.std_error)
        reasons = own + ([STAR_NOTE] if with_stars and pd.isna(r.p_value) else [])
        if reasons:
            marks[(term, 0)] = reasons
    fit_cells, fit_marks = _fit_cells(fit.iloc[0])
    return {**cells, **fit_cells}, {**marks, **fit_marks, **method_marks}


def reference_notes(models: pd.DataFrame, predictors: list[str], codebook: Codebook) -> list[str]:
    """The reference level of each category predictor: the one level of the codebook's that no
    estimated term names (a level no case has is not estimated either, so then none is stated)."""
    terms = set(models["term"].dropna()) if "term" in models.columns else set()
    notes = []
    for name in dict.fromkeys(predictors):
        variable = codebook.variable(name)
        if variable.type != "category":
            continue
        left = [c for c in variable.values if not any(f"{name}[{c.value}]" in t.split(":") for t in terms)]
        if len(left) == 1:
            notes.append(f"{variable.label}: compared with {left[0].label} (the reference level).")
    return notes


def _joint_test_cells(r, caveats, own: list[str], codebook: Codebook | None, cells: Cells, marks: Marks) -> None:
    """A joint test's row: its p-value, its terms (the variables of its caveat) labelled from the codebook;
    its caveats (chi-square and df, or why it was not computed) as its mark."""
    tested = next((c.variables for c in caveats if c.code == "joint_test" or c.blank == "joint_test"), ())
    label = "Joint test: " + " + ".join(term_label(t, codebook) for t in tested)
    cells[(label, 0)] = f"p = {fmt_p(r.p_value)}" if not pd.isna(r.p_value) else ""
    if own:
        marks[(label, 0)] = own


def model_tables(models: pd.DataFrame, plan: Plan, codebook: Codebook) -> list[PubTable]:
    """modelsummary-style tables: one per outcome, one column per model, fit statistics beneath."""
    odds, with_stars = plan.publication.odds, plan.publication.stars
    tables = []
    for outcome in dict.fromkeys(m.outcome for m in plan.models):
        chosen = [m for m in plan.models if m.outcome == outcome]
        rows = {m.key: models[(models["outcome"] == m.outcome) & (models["predictor_set"] == m.predictor_set)] for m in chosen}
        columns = {m.label: _model_cells(rows[m.key], codebook, odds, with_stars) for m in chosen}
        used = pd.concat(rows.values()) if rows else models.iloc[:0]
        references = reference_notes(used, [v for m in chosen for v in m.variables], codebook)
        tables.append(_side_by_side(f"models_{outcome}", f"Logistic models of {codebook.label(outcome).lower()}",
                                    columns, odds, with_stars, references))
    return tables


def _side_by_side(name: str, title: str, columns: dict[str, tuple[Cells, Marks]], odds: bool, with_stars: bool,
                  extra_notes: list[str]) -> PubTable:
    """Models as columns: coefficient rows in order of first appearance, then the fit rows any model fills."""
    keys = list(dict.fromkeys(k for cells, _ in columns.values() for k in cells if k[0] not in FOOTER))
    keys += [(row, 0) for row in FOOTER if any(cells.get((row, 0)) for cells, _ in columns.values())]
    out = pd.DataFrame([[label if line == 0 else "", *[cells.get((label, line), "") for cells, _ in columns.values()]]
                        for label, line in keys], columns=["", *columns])
    what = "Odds ratios [95% CI]" if odds else "Log-odds (standard errors)"
    notes = [f"{what}. Firth: penalized likelihood with profile penalized-likelihood intervals; ML: maximum likelihood with Wald intervals.",
             "Separation: whether the cases separate under maximum likelihood; with method auto, Firth is used wherever they do.",
             "AIC = −2 log-likelihood + 2k, BIC = −2 log-likelihood + k ln N (k coefficients); Tjur's R²: mean fitted "
             "probability of the cases with the outcome minus that of the cases without.", *extra_notes]
    if with_stars:
        notes.append("* p < 0.05, ** p < 0.01, *** p < 0.001.")
    table = PubTable(name, title, out, notes)
    for column, (_, marks) in enumerate(columns.values(), start=1):
        for key, reasons in marks.items():
            for reason in reasons:
                table.mark(keys.index(key), column, reason)
    return table


def fit_table(fit: pd.DataFrame, formula: str, odds: bool = True, with_stars: bool = False) -> PubTable:
    """The publication table of one ad-hoc model (`casemeta fit`): its terms as the data names them."""
    outcome = formula.split("~", 1)[0].strip()
    return _side_by_side("model", f"Logistic model of {outcome}: {formula.strip()}",
                         {"(1)": _model_cells(fit, None, odds, with_stars)}, odds, with_stars, [])


def cross_validation_table(cv_rows: pd.DataFrame, codebook: Codebook, plan: Plan) -> PubTable:
    labels = {m.key: (codebook.label(m.outcome), m.label) for m in plan.models}
    named = [labels.get((text_or_blank(o), text_or_blank(p)), (text_or_blank(o), text_or_blank(p)))
             for o, p in zip(cv_rows["outcome"], cv_rows["predictor_set"])]
    cv = cv_rows
    out = pd.DataFrame({
        "Outcome": [outcome for outcome, _ in named],
        "Predictors": [predictors for _, predictors in named],
        "N": [fmt_count(n) for n in cv["n"]],
        "Base rate": [fmt_number(x) for x in cv["base_rate"]],
        "LOO AUC": [fmt_number(x) for x in cv["loo_auc"]],
        "LOO Brier": [fmt_number(x, 3) for x in cv["loo_brier"]],
        "Base-rate Brier": [fmt_number(x, 3) for x in cv["base_rate_brier"]],
    })
    penalties = ", ".join(dict.fromkeys(p for p in map(text_or_blank, cv["penalty"]) if p)) or "C=1"
    notes = [f"L2-penalized logistic regression ({penalties}); a Brier score below the base rate's means the predictors help."]
    schemes = list(dict.fromkeys(s for s in map(text_or_blank, cv.get("scheme", pd.Series(dtype=object))) if s))
    k_fold = [s for s in schemes if s != "leave-one-out"]
    if k_fold:  # the LOO columns then hold K-fold scores for the larger models: the note says which
        notes.append(f"Models with many cases are checked by {' / '.join(k_fold)} cross-validation instead of "
                     f"leave-one-out (the `scheme` column of cross_validation.csv says which, model by model).")
    if cv.empty:
        notes.append("No model was checked out of sample.")
    title = "Out-of-sample check (" + ("leave-one-out or K-fold" if k_fold else "leave-one-out") + ")"
    table = PubTable("cross_validation", title, out, notes)
    _mark_rows(table, _row_texts(cv, codebook))
    return table


def study_tables(derived: pd.DataFrame, results: dict[str, pd.DataFrame], codebook: Codebook, plan: Plan) -> list[PubTable]:
    """Every publication table of the study, in reading order, from its derived cases and its results
    (frames: crosstabs, tests, models, cross_validation, and reproduction where the plan reproduces)."""
    pub = plan.publication
    tables = [case_listing(derived, codebook, list(pub.case_columns), pub.case_listing_limit)]
    if plan.reproduce is not None:
        tables += reproduced_tables(results["reproduction"], plan.reproduce.titles, plan.reproduce.case_listing)
    if plan.crosstabs.outcomes:
        tables += crosstab_tables(results["crosstabs"], codebook, plan.crosstabs.missing, list(plan.crosstabs.conditions),
                                  list(plan.crosstabs.outcomes))
    tables.append(tests_table(results["tests"], codebook))
    tables += model_tables(results["models"], plan, codebook)
    tables.append(cross_validation_table(results["cross_validation"], codebook, plan))
    return tables


def plotted_terms(models: pd.DataFrame) -> pd.DataFrame:
    """The rows a forest plot shows: every estimated term but the intercept."""
    return models[models["term"].notna() & (models["term"] != "Intercept") & models["odds_ratio"].notna()]
