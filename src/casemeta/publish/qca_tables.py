"""Publication tables of a QCA: the truth table, the solutions (`A*~B + C`) and the necessity table.

Conditions and the outcome are shown by their codebook labels where a `name` function gives them
(`Sells internationally * ~Joint action in learning`); the results CSVs keep the variable names.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from casemeta.publish.tables import CASE_LISTING_LIMIT, PubTable, fmt_count, fmt_number
from casemeta.stats.qca import MODEL_ROW

SCORE_DIGITS = 3  # R QCA prints parameters of fit to three decimals
Name = Callable[[str], str]  # a variable's name -> what a reader sees (its codebook label)
NOTATION_NOTE = "Notation: * joins conditions (and), + separates alternative paths (or), ~ marks a condition's absence."


def _as_is(name: str) -> str:
    return name


def literal_label(literal: str, name: Name = _as_is) -> str:
    """`~A` as `~<label of A>`."""
    return f"~{name(literal[1:])}" if literal.startswith("~") else name(literal)


def term_label(term: str, name: Name = _as_is) -> str:
    """A term `A*~B` (as the results CSVs write it) with each condition's label: `Label A * ~Label B`; `1` stays."""
    if name is _as_is or term == "1":
        return term
    return " * ".join(literal_label(lit, name) for lit in term.split("*"))


def _score(x) -> str:
    return fmt_number(x, SCORE_DIGITS)


_SEPARATOR = re.compile(r"[,;] ?")  # between case ids: `FI,IE; FR,SE`


def capped_cases(text: str, limit: int | None) -> str:
    """The case ids of a cell, the first `limit` of them and how many more (a large study lists thousands)."""
    if limit is None or not text:
        return text
    separators = list(_SEPARATOR.finditer(text))
    if len(separators) < limit:
        return text
    return f"{text[:separators[limit - 1].start()]} … and {len(separators) + 1 - limit:,} more"


def capped_note(cells: pd.Series, limit: int | None, where: str) -> list[str]:
    """The note a table needs when one of its cells lists only some of its cases."""
    if limit is None or not any(capped_cases(text, limit) != text for text in cells.astype(str)):
        return []
    return [f"A cell lists at most {limit:,} cases; every case is in {where}."]


def model_expression(solutions: pd.DataFrame, solution: str, model: int, name: Name = _as_is) -> str:
    """A model in the notation `A*~B + C` (its terms joined by +), with labels where `name` gives them."""
    rows = solutions[(solutions["solution"] == solution) & (solutions["model"] == model) & (solutions["term"] != MODEL_ROW)]
    return " + ".join(term_label(t, name) for t in rows["term"])


def truth_table_table(name: str, title: str, tt: pd.DataFrame, conditions: list[str], notes: list[str],
                      case_limit: int | None = CASE_LISTING_LIMIT, label: Name = _as_is) -> PubTable:
    """One row per configuration, a column per condition headed by its label; its `Cases` cell lists at most
    case_limit cases (all are in truth_table.csv)."""
    cases = tt["cases"].astype(str)
    frame = pd.DataFrame({
        **{label(c): tt[c].astype(str) for c in conditions},
        "OUT": tt["OUT"].astype(str), "n": tt["n"].map(fmt_count),
        "incl": tt["incl"].map(_score), "PRI": tt["PRI"].map(_score),
        "Cases": cases.map(lambda text: capped_cases(text, case_limit)),
    })
    return PubTable(name, title, frame, notes=[*notes, *capped_note(cases, case_limit, "the analysis's truth_table.csv")])


def solutions_table(name: str, title: str, solutions: pd.DataFrame, outcome: str, notes: list[str],
                    case_limit: int | None = CASE_LISTING_LIMIT, label: Name = _as_is) -> PubTable:
    """One row per term, then the model itself written out, `A*~B + C -> outcome`, with its fit; a term's `Cases`
    cell lists at most case_limit cases (all are in solutions.csv)."""
    rows = []
    for (solution, model), part in solutions.groupby(["solution", "model"], sort=False):
        which = f"{solution} M{model}"
        for _, row in part.iterrows():
            whole = row["term"] == MODEL_ROW
            rows.append({
                "Solution": which,
                "Term": f"{model_expression(solutions, solution, model, label)} → {outcome}" if whole
                        else term_label(row["term"], label),
                "inclS": _score(row["inclS"]), "PRI": _score(row["PRI"]), "covS": _score(row["covS"]),
                "covU": "" if whole else _score(row["covU"]), "Cases": "" if whole else capped_cases(str(row["cases"]), case_limit),
            })
    frame = pd.DataFrame(rows, columns=["Solution", "Term", "inclS", "PRI", "covS", "covU", "Cases"])
    listed = solutions.loc[solutions["term"] != MODEL_ROW, "cases"] if len(solutions) else pd.Series(dtype=str)
    return PubTable(name, title, frame, notes=[*notes, NOTATION_NOTE,
                                               *capped_note(listed, case_limit, "the analysis's solutions.csv")])


def necessity_table(name: str, title: str, necessity: pd.DataFrame, notes: list[str], label: Name = _as_is) -> PubTable:
    frame = pd.DataFrame({"Condition": necessity["condition"].astype(str).map(lambda t: term_label(t, label)), "inclN": necessity["inclN"].map(_score),
                          "RoN": necessity["RoN"].map(_score), "covN": necessity["covN"].map(_score)})
    return PubTable(name, title, frame, notes=notes)
