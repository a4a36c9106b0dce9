"""Publication tables of the synthesis across studies: one per pair of concepts, and an overview."""

from __future__ import annotations

import pandas as pd

from casemeta.publish.tables import PubTable, caveat_texts, fmt_count, fmt_number, fmt_p, text_or_blank
from casemeta.stats.caveats import column
from casemeta.stats.pooling import METHOD_LABELS
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plan's type only: publish reads no file and imports nothing above it
    from casemeta.synthesis import Synthesis

COLUMNS = ["", "N", "a / b / c / d", "Odds ratio [CI]", "Statistic", "p", "tau²", "I²"]
CELLS_NOTE = ("Cells a / b / c / d: cases with the condition and the outcome / with the condition, without the "
              "outcome / without the condition, with the outcome / with neither.")
METHODS_NOTE = ("Mantel–Haenszel (Robins–Breslow–Greenland variance) and Peto without continuity correction; "
                "inverse-variance methods add 1/2 to every cell of a table with a zero cell; exact conditional "
                "estimate and interval as R's mantelhaen.test(exact = TRUE). Statistic: z of the pooled log odds "
                "ratio; S (the sum of the a cells) for the exact test; chi-square (df) for the tests.")


def _interval(row) -> str:
    if pd.isna(row["odds_ratio"]):
        return ""
    if pd.isna(row["or_ci_low"]):
        return fmt_number(row["odds_ratio"])
    return f"{fmt_number(row['odds_ratio'])} [{fmt_number(row['or_ci_low'])}, {fmt_number(row['or_ci_high'])}]"


def _study_line(row, title: str) -> list[str]:
    if pd.isna(row["n"]):
        return [title, "", "", "", "", "", "", ""]
    counts = " / ".join(fmt_count(row[c]) for c in "abcd")
    return [title, fmt_count(row["n"]), counts, _interval(row), "", "", "", ""]


def _titles(synthesis: Synthesis, names: str) -> str:
    """Studies named in a results cell ("a, b") by their titles, separated by semicolons (a title may hold a comma)."""
    return "; ".join(synthesis.study_title(n.strip()) for n in names.split(",") if n.strip())


def _method_line(row) -> list[str]:
    statistic = fmt_number(row["statistic"])
    if row["method"] in ("cmh_test", "tarone_test") and statistic:
        statistic = f"{statistic} ({fmt_count(row['df'])})"
    i2 = "" if pd.isna(row["i2"]) else f"{100 * row['i2']:.1f}%"
    return [METHOD_LABELS[row["method"]], "", "", _interval(row), statistic, fmt_p(row["p_value"]),
            fmt_number(row["tau2"], 3), i2]


def pair_table(synthesis: Synthesis, condition: str, outcome: str, studies: pd.DataFrame, pooled: pd.DataFrame) -> PubTable:
    lines, notes = [], []
    for (_, row), caveats in zip(studies.iterrows(), column(studies)):
        lines.append(_study_line(row, synthesis.study_title(row["study"])))
        notes.append("; ".join(caveat_texts(caveats, None)))
    if pooled["odds_ratio"].notna().any() or pooled["statistic"].notna().any():
        for (_, row), caveats in zip(pooled.iterrows(), column(pooled)):
            lines.append(_method_line(row))
            notes.append("; ".join(caveat_texts(caveats, None)))
    else:
        lines.append(["Pooled", "", "", "", "", "", "", ""])
        notes.append("; ".join(caveat_texts(column(pooled.iloc[:1])[0], None)))
    title = f"{synthesis.label(condition)} and {synthesis.label(outcome).lower()} across studies"
    table = PubTable(f"pooled_{condition}__{outcome}", title, pd.DataFrame(lines, columns=COLUMNS),
                     [f"Condition: {synthesis.concepts[condition].definition}",
                      f"Outcome: {synthesis.concepts[outcome].definition}",
                      CELLS_NOTE, f"{round(100 * synthesis.level)}% intervals. {METHODS_NOTE}"])
    for i, note in enumerate(notes):
        table.mark(i, 0, note)
    return table


def overview_table(synthesis: Synthesis, pooled: pd.DataFrame) -> PubTable:
    rows = []
    for (condition, outcome), part in pooled.groupby(["condition", "outcome"], sort=False):
        by = part.set_index("method")
        done = by["odds_ratio"].notna().any()
        rows.append([synthesis.label(condition), synthesis.label(outcome), _titles(synthesis, text_or_blank(by["studies"].iloc[0])) or "none",
                     _interval(by.loc["mantel_haenszel"]) if done else "", _interval(by.loc["random_reml"]) if done else "",
                     fmt_p(by.loc["tarone_test", "p_value"]) if done else "",
                     "" if done else "; ".join(caveat_texts(column(part.iloc[:1])[0], None))])
    frame = pd.DataFrame(rows, columns=["Condition", "Outcome", "Studies with cases", "Mantel–Haenszel OR [CI]",
                                        "REML random-effects OR [CI]", "Tarone p", "Not pooled"])
    return PubTable("synthesis_overview", "Pooled odds ratios across studies", frame,
                    ["Each pair of concepts is pooled over the studies that code both and hold cases (at least 2).",
                     "Concepts are defined in data/concepts.yaml."])


def synthesis_tables(synthesis: Synthesis, studies: pd.DataFrame, pooled: pd.DataFrame) -> list[PubTable]:
    tables = [overview_table(synthesis, pooled)]
    for condition, outcome in synthesis.pairs:
        pick = lambda f: f[(f["condition"] == condition) & (f["outcome"] == outcome)]  # noqa: E731
        tables.append(pair_table(synthesis, condition, outcome, pick(studies), pick(pooled)))
    return tables
