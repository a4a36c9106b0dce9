"""Case influence for a reader: the table of influential cases and one sentence per finding, labels from the codebook.

The words of the verdicts are casemeta.stats.case_influence's (VERDICTS, CHANGE_WORDS, CHANGE_LABELS); this
module names the findings as a reader knows them and lays the records out.
"""

from __future__ import annotations

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.plan import Plan
from casemeta.publish.tables import PubTable, caveat_texts, fmt_number, fmt_p, labeller
from casemeta.stats.case_influence import ALPHA, CHANGE_LABELS, sentence
from casemeta.stats.caveats import column as caveat_rows


def finding_subject(row, codebook: Codebook, plan: Plan) -> str:
    """A finding as a reader names it: `Outcome — predictor set: term` for a model, `Outcome by condition` for a test."""
    label = labeller(codebook)
    if row["kind"] == "model":
        sets = {m.name: m.label for m in plan.models}
        return f"{label(row['outcome'])} — {sets.get(row['model'], row['model'])}: {label(row['term'])}"
    return f"{label(row['outcome'])} by {label(row['term'])}"


def influence_sentences(findings: pd.DataFrame, codebook: Codebook, plan: Plan) -> list[str]:
    """One sentence per finding ("holds without any single case", "rests on case X ..."), in the findings' order."""
    return [sentence(row, finding_subject(row, codebook, plan)) for _, row in findings.iterrows()]


def _effect(value, odds: bool) -> str:
    import numpy as np

    if pd.isna(value):
        return ""
    with np.errstate(over="ignore"):
        return fmt_number(float(np.exp(value)) if odds else float(value))


def influence_table(changes: pd.DataFrame, codebook: Codebook, plan: Plan, name: str) -> PubTable:
    """A row per case whose removal changes a finding: the finding, its estimate and p with every case and
    without the case, what changes, the method; the refit's caveats as footnotes."""
    odds = plan.publication.odds
    what = "OR" if odds else "Estimate"
    frame = pd.DataFrame({
        "Case": changes["case"].astype(str),
        "Finding": [finding_subject(row, codebook, plan) for _, row in changes.iterrows()],
        f"{what}, all cases": [_effect(v, odds) for v in changes["estimate_all"]],
        f"{what}, without the case": [_effect(v, odds) for v in changes["estimate_without"]],
        "p, all cases": [fmt_p(p) for p in changes["p_all"]],
        "p, without the case": [fmt_p(p) for p in changes["p_without"]],
        "Change": [CHANGE_LABELS[c] for c in changes["change"]],
        "Method without the case": changes["method"].astype(str),
    }, columns=["Case", "Finding", f"{what}, all cases", f"{what}, without the case", "p, all cases",
                "p, without the case", "Change", "Method without the case"])
    notes = [f"Each model and cross-tab test of the plan refitted without each case in turn; listed are the cases "
             f"whose removal reverses the sign of an estimate, moves its p-value across {ALPHA:g}, or leaves it "
             "not estimable. Cross-tab tests: the odds ratio of 2×2 tables."]
    if not len(frame):
        notes.append("No single case changes any finding.")
    table = PubTable(name, f"{codebook.title}: influential cases", frame, notes)
    for i, caveats in enumerate(caveat_rows(changes)):
        for text in caveat_texts(caveats, codebook):
            table.mark(i, 0, text)
    return table
