"""Publication tables of a study's multiverse: each model term and each cross-tab test across the universes,
and the specification-curve inference; and the report section (robustness.md)."""

from __future__ import annotations

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.publish.tables import PubTable, fmt_number, fmt_p


def _share(value) -> str:
    return "" if pd.isna(value) else f"{100 * value:.0f}%"


def _p(p) -> str:
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _range(row) -> str:
    if pd.isna(row["odds_ratio_median"]):
        return ""
    return f"{fmt_number(row['odds_ratio_median'])} [{fmt_number(row['odds_ratio_min'])}, {fmt_number(row['odds_ratio_max'])}]"


def _label(codebook: Codebook, name: str) -> str:
    try:
        return codebook.label(name)
    except Exception:  # a design column of a category ("x[level]") or an interaction: shown as it is
        return name


def _decision_label(decisions: dict[str, str], name) -> str:
    return decisions.get(name, "") if isinstance(name, str) else ""


def _definitions(n: int) -> list[str]:
    return [f"{n} universes: every combination of one option per decision; universe 1 is the study's own coding.",
            "Same sign: share of the universes with an estimate whose sign is that of the study's own coding. "
            "p < 0.05: share of the universes with a p-value. Odds ratio: median [minimum, maximum] over the universes.",
            "Moved most by: the decision whose options' median estimates (log-odds; for a test, p-values) lie "
            "furthest apart."]


def robustness_tables(summary: pd.DataFrame, inference: pd.DataFrame, crosstab_summary: pd.DataFrame,
                      codebook: Codebook, decisions: dict[str, str], n_universes: int, draws: int, seed: int) -> list[PubTable]:
    """robustness_models, robustness_inference, robustness_crosstabs (casemeta.study.ROBUSTNESS_TABLES)."""
    models = pd.DataFrame(
        [[row["model"], _label(codebook, row["term"]), f"{int(row['estimated'])}/{int(row['universes'])}",
          fmt_number(row["own_odds_ratio"]), _share(row["share_same_sign"]), _share(row["share_significant"]),
          _range(row), _decision_label(decisions, row["moves_most"])] for _, row in summary.iterrows()],
        columns=["Model", "Term", "Estimated", "Own OR", "Same sign", "p < 0.05", "OR median [range]", "Moved most by"])
    curves = pd.DataFrame(
        [[row["model"], _label(codebook, row["term"]), fmt_number(row["median"]), fmt_p(row["share_median"]),
          f"{int(row['n_positive_significant'])}/{int(row['specifications'])}", fmt_p(row["share_positive"]),
          f"{int(row['n_negative_significant'])}/{int(row['specifications'])}", fmt_p(row["share_negative"])]
         for _, row in inference.iterrows()],
        columns=["Model", "Term", "Median estimate", "p (median)", "Significant positive", "p (positive)",
                 "Significant negative", "p (negative)"])
    tests = pd.DataFrame(
        [[_label(codebook, row["outcome"]), _label(codebook, row["condition"]), f"{int(row['tested'])}/{int(row['universes'])}",
          fmt_p(row["own_p_value"]), _share(row["share_same_sign"]), _share(row["share_significant"]), _range(row),
          _decision_label(decisions, row["moves_most"])] for _, row in crosstab_summary.iterrows()],
        columns=["Outcome", "Condition", "Tested", "Own p", "Same sign", "p < 0.05", "OR median [range]", "Moved most by"])
    inference_note = (f"Specification-curve inference (Simonsohn, Simmons & Nelson 2020): p is the share of {draws} "
                      f"curves drawn under the null (seed {seed}) at least as extreme as the observed one; estimates "
                      "are log-odds." if draws else "No curves were drawn under the null (the plan's inference draws are 0).")
    return [PubTable("robustness_models", "Model terms across the multiverse", models, _definitions(n_universes)),
            PubTable("robustness_inference", "Specification-curve inference", curves, [inference_note]),
            PubTable("robustness_crosstabs", "Cross-tab tests across the multiverse", tests, _definitions(n_universes))]


def report(title: str, summary: pd.DataFrame, inference: pd.DataFrame, crosstab_summary: pd.DataFrame,
           codebook: Codebook, decisions: dict[str, str], universes: pd.DataFrame) -> str:
    """robustness.md: what the multiverse holds, and a sentence per model term and per test."""
    lines = [f"# {title}: robustness across {len(universes)} universes", "",
             "Decisions: " + "; ".join(f"{label} ({name})" for name, label in decisions.items()) + ".", "",
             "## Model terms", ""]
    curves = inference.set_index(["model", "term"]) if len(inference) else None
    for _, row in summary.iterrows():
        sentence = (f"- {row['model']}, {_label(codebook, row['term'])}: estimated in {int(row['estimated'])} of "
                    f"{int(row['universes'])} universes; " + (f"the sign of the study's own coding in {_share(row['share_same_sign'])}, "
                    if pd.notna(row["share_same_sign"]) else "no sign in the study's own coding (estimate 0), ") +
                    f"p < 0.05 in {_share(row['share_significant']) or 'none'}; odds ratio {_range(row) or 'not estimated'}")
        if isinstance(row["moves_most"], str) and row["moves_most"]:
            sentence += f"; moved most by {decisions[row['moves_most']].lower()}"
        if curves is not None and (row["model"], row["term"]) in curves.index:
            c = curves.loc[(row["model"], row["term"])]
            if pd.notna(c["share_median"]):
                sentence += (f"; curve median {fmt_number(c['median'])} ({_p(c['share_median'])}), "
                             f"{int(c['n_positive_significant'])} significant positive ({_p(c['share_positive'])}), "
                             f"{int(c['n_negative_significant'])} significant negative ({_p(c['share_negative'])})")
        lines.append(sentence + ".")
    lines += ["", "## Cross-tab tests", ""]
    for _, row in crosstab_summary.iterrows():
        lines.append(f"- {_label(codebook, row['outcome'])} by {_label(codebook, row['condition'])}: tested in "
                     f"{int(row['tested'])} of {int(row['universes'])} universes; p < 0.05 in "
                     f"{_share(row['share_significant']) or 'none'}" + (
                         f"; moved most by {decisions[row['moves_most']].lower()}" if isinstance(row["moves_most"], str)
                         and row["moves_most"] else "") + ".")
    lines += ["", "Tables: `robustness/tables/`; every universe's estimates: `robustness/specifications.csv`; the "
              "specification curve of every model term (estimates sorted, the options of each universe beneath): "
              "`robustness/specification_curves.pdf`.", ""]
    return "\n".join(lines)
