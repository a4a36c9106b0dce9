"""Publication tables of a QCA: the truth table, the solutions (`A*~B + C`) and the necessity table."""

from __future__ import annotations

import pandas as pd

from casemeta.publish.tables import PubTable, fmt_count, fmt_number
from casemeta.stats.qca import MODEL_ROW

SCORE_DIGITS = 3  # R QCA prints parameters of fit to three decimals


def _score(x) -> str:
    return fmt_number(x, SCORE_DIGITS)


def model_expression(solutions: pd.DataFrame, solution: str, model: int) -> str:
    """A model in the notation `A*~B + C` (its terms joined by +)."""
    rows = solutions[(solutions["solution"] == solution) & (solutions["model"] == model) & (solutions["term"] != MODEL_ROW)]
    return " + ".join(rows["term"])


def truth_table_table(name: str, title: str, tt: pd.DataFrame, conditions: list[str], notes: list[str]) -> PubTable:
    frame = pd.DataFrame({
        **{c: tt[c].astype(str) for c in conditions},
        "OUT": tt["OUT"].astype(str), "n": tt["n"].map(fmt_count),
        "incl": tt["incl"].map(_score), "PRI": tt["PRI"].map(_score), "Cases": tt["cases"].astype(str),
    })
    return PubTable(name, title, frame, notes=notes)


def solutions_table(name: str, title: str, solutions: pd.DataFrame, outcome: str, notes: list[str]) -> PubTable:
    """One row per term, then the model itself written out, `A*~B + C -> outcome`, with its fit."""
    rows = []
    for (solution, model), part in solutions.groupby(["solution", "model"], sort=False):
        label = f"{solution} M{model}"
        for _, row in part.iterrows():
            whole = row["term"] == MODEL_ROW
            rows.append({
                "Solution": label,
                "Term": f"{model_expression(solutions, solution, model)} → {outcome}" if whole else row["term"],
                "inclS": _score(row["inclS"]), "PRI": _score(row["PRI"]), "covS": _score(row["covS"]),
                "covU": "" if whole else _score(row["covU"]), "Cases": "" if whole else str(row["cases"]),
            })
    frame = pd.DataFrame(rows, columns=["Solution", "Term", "inclS", "PRI", "covS", "covU", "Cases"])
    return PubTable(name, title, frame, notes=notes)


def necessity_table(name: str, title: str, necessity: pd.DataFrame, notes: list[str]) -> PubTable:
    frame = pd.DataFrame({"Condition": necessity["condition"].astype(str), "inclN": necessity["inclN"].map(_score),
                          "RoN": necessity["RoN"].map(_score), "covN": necessity["covN"].map(_score)})
    return PubTable(name, title, frame, notes=notes)
