"""Assemble a study's results into publication tables, every label taken from the codebook."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.plan import model_specs


@dataclass
class PubTable:
    name: str  # file stem, e.g. "table_2"
    title: str
    frame: pd.DataFrame  # cells as they are printed (text), first column is the stub
    notes: list[str] = field(default_factory=list)


def fmt_number(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
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


def stars(p) -> str:
    if pd.isna(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def case_listing(frame: pd.DataFrame, codebook: Codebook, columns: list[str]) -> PubTable:
    out = pd.DataFrame({codebook.label(c): [codebook.variable(c).value_label(v) if not pd.isna(v) else "" for v in frame[c]] for c in columns})
    return PubTable("cases", f"Coded cases ({len(frame)})", out, [f"Source: {codebook.source}"] if codebook.source else [])


def reproduced_tables(reproduction: pd.DataFrame) -> list[PubTable]:
    """Each published count table as we recompute it, with every mismatch noted under it."""
    tables = []
    for name, part in reproduction.groupby("table", sort=False):
        if name == "Table 1" or part.empty:
            continue
        ours = part.pivot(index="row", columns="column", values="reproduced")
        ours = ours.loc[list(dict.fromkeys(part["row"])), list(dict.fromkeys(part["column"]))]
        shown = ours.map(lambda v: "" if pd.isna(v) else str(int(float(v)))).reset_index().rename(columns={"row": ""})
        bad = part[~part["match"].astype(str).str.lower().eq("true")]
        notes = ["Recomputed from the coded cases; layout and labels as published."]
        notes += [f"Published {r.published} for {r.row} / {r.column}; recomputed {r.reproduced}." for r in bad.itertuples()]
        tables.append(PubTable(name.lower().replace(" ", "_"), f"{name} (reproduced)", shown, notes))
    return tables


def crosstab_tables(crosstabs: pd.DataFrame, codebook: Codebook) -> list[PubTable]:
    """One table per condition: cases in each category and how many of them reach each outcome."""
    tables = []
    for condition, part in crosstabs.groupby("condition", sort=False):
        wide = part.pivot_table(index=["condition_value", "condition_label"], columns=["outcome", "outcome_value"], values="count", aggfunc="sum", sort=False)
        first_outcome = part["outcome"].iloc[0]
        n = wide[first_outcome].sum(axis=1)
        out = pd.DataFrame({codebook.label(condition): [lbl for _, lbl in wide.index], "N": n.astype(int).to_list()})
        for outcome in dict.fromkeys(part["outcome"]):
            yes = wide[(outcome, 1)].astype(int)
            out[codebook.label(outcome)] = [f"{k} ({100 * k / t:.0f}%)" if t else "0" for k, t in zip(yes, n)]
        tables.append(PubTable(f"crosstab_{condition}", f"{codebook.label(condition)} and outcomes", out,
                               ["Cells: cases with the outcome (share of the row's cases)."]))
    return tables


def tests_table(tests: pd.DataFrame, codebook: Codebook) -> PubTable:
    out = pd.DataFrame({
        "Outcome": [codebook.label(o) for o in tests["outcome"]],
        "Condition": [codebook.label(c) for c in tests["condition"]],
        "Test": tests["test"],
        "p": [fmt_p(p) for p in tests["p_value"]],
        "Odds ratio": [fmt_number(x) for x in tests["odds_ratio"]],
        "Cramér's V": [fmt_number(x) for x in tests["cramers_v"]],
        "N": tests["n"].astype(int).astype(str),
    })
    draws = sorted({int(d) for d in tests["draws"] if d})
    notes = ["Fisher's exact test for 2×2 tables (conditional maximum-likelihood odds ratio); exact Fisher–Freeman–Halton for larger tables."]
    if draws:
        notes.append(f"Monte Carlo tests used {', '.join(map(str, draws))} draws.")
    return PubTable("crosstab_tests", "Exact tests of association", out, notes)


def _term_label(term: str, codebook: Codebook) -> str:
    if term == "Intercept":
        return "(Intercept)"
    try:
        return codebook.label(term)
    except Exception:  # a patsy term such as C(x)[T.a] has no codebook entry
        return term


FOOTER = ("N", "Log-likelihood", "Method", "Separation")


def _model_cells(fit: pd.DataFrame, codebook: Codebook, odds: bool, with_stars: bool) -> dict[tuple[str, int], str]:
    """One model's column: (row, 0) holds a term's estimate, (row, 1) its interval or standard error."""
    if fit["term"].isna().all():
        return {("Method", 0): "not estimable"}
    cells = {}
    for r in fit.itertuples():
        if odds and r.term == "Intercept":
            continue
        label = _term_label(r.term, codebook)
        mark = stars(r.p_value) if with_stars else ""
        if odds:
            cells[(label, 0)] = f"{fmt_number(r.odds_ratio)}{mark}"
            cells[(label, 1)] = f"[{fmt_number(r.or_ci_low)}, {fmt_number(r.or_ci_high)}]"
        else:
            cells[(label, 0)] = f"{fmt_number(r.estimate)}{mark}"
            cells[(label, 1)] = f"({fmt_number(r.std_error)})"
    first = fit.iloc[0]
    cells[("N", 0)] = str(int(first["n"]))
    cells[("Log-likelihood", 0)] = fmt_number(first["loglik"])
    cells[("Method", 0)] = "Firth" if first["method"] == "firth" else "ML"
    cells[("Separation", 0)] = str(first["separation"]).split(" (")[0]
    return cells


def model_tables(models: pd.DataFrame, plan: dict, codebook: Codebook) -> list[PubTable]:
    """modelsummary-style tables: one per outcome, one column per model, fit statistics beneath."""
    pub = plan.get("publication", {})
    odds = pub.get("model_display", "odds_ratio") == "odds_ratio"
    with_stars = pub.get("stars", False)
    specs = model_specs(plan)
    tables = []
    for outcome in dict.fromkeys(s["outcome"] for s in specs):
        columns = {
            spec["model"].split(" ~ ", 1)[1].replace("_", " ").capitalize():
                _model_cells(models[models["model"] == spec["model"]], codebook, odds, with_stars)
            for spec in specs if spec["outcome"] == outcome
        }
        keys = list(dict.fromkeys(k for cells in columns.values() for k in cells if k[0] not in FOOTER))
        keys += [(name, 0) for name in FOOTER]
        out = pd.DataFrame([[label if line == 0 else "", *[cells.get((label, line), "") for cells in columns.values()]]
                            for label, line in keys], columns=["", *columns])
        what = "Odds ratios [95% CI]" if odds else "Log-odds (standard errors)"
        notes = [f"{what}. Firth: penalized likelihood with profile penalized-likelihood intervals; ML: maximum likelihood with Wald intervals.",
                 "Separation: whether the cases separate under maximum likelihood; `auto` uses Firth wherever they do."]
        if with_stars:
            notes.append("* p < 0.05, ** p < 0.01, *** p < 0.001.")
        tables.append(PubTable(f"models_{outcome}", f"Logistic models of {codebook.label(outcome).lower()}", out, notes))
    return tables


def cross_validation_table(cv: pd.DataFrame, codebook: Codebook) -> PubTable:
    out = pd.DataFrame({
        "Model": cv["model"],
        "N": cv["n"].astype(int).astype(str),
        "Base rate": [fmt_number(x) for x in cv["base_rate"]],
        "LOO AUC": [fmt_number(x) for x in cv["loo_auc"]],
        "LOO Brier": [fmt_number(x, 3) for x in cv["loo_brier"]],
        "Base-rate Brier": [fmt_number(x, 3) for x in cv["base_rate_brier"]],
    })
    return PubTable("cross_validation", "Out-of-sample check (leave-one-out)", out,
                    [f"L2-penalized logistic regression ({cv['penalty'].iloc[0] if len(cv) else 'C=1'}); a Brier score below the base rate's means the predictors help."])


def study_tables(results: Path, derived: pd.DataFrame, codebook: Codebook, plan: dict) -> list[PubTable]:
    """Every publication table the study's results support, in reading order."""
    results = Path(results)
    tables = []
    pub = plan.get("publication", {})
    if len(derived):
        tables.append(case_listing(derived, codebook, pub.get("case_columns", [codebook.id_column])))
    if (results / "reproduction.csv").is_file():
        tables += reproduced_tables(pd.read_csv(results / "reproduction.csv", dtype={"published": str}))
    models_dir = results / "models"
    if len(derived) and models_dir.is_dir():
        tables += crosstab_tables(pd.read_csv(models_dir / "crosstabs.csv", dtype={"condition_value": str}), codebook)
        tables.append(tests_table(pd.read_csv(models_dir / "crosstab_tests.csv"), codebook))
        tables += model_tables(pd.read_csv(models_dir / "logistic_models.csv"), plan, codebook)
        tables.append(cross_validation_table(pd.read_csv(models_dir / "cross_validation.csv"), codebook))
    return tables
