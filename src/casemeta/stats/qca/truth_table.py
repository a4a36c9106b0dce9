"""The truth table, as R QCA's truthTable(complete = FALSE, show.cases = TRUE).

Each case belongs to the one configuration (corner of the property space) in which its membership
is above 0.5; a row's inclusion and PRI are those of the configuration's membership (the minimum over
its literals, for every case, not only the row's own) in the outcome. OUT is 1 where inclusion reaches
the inclusion cut (and PRI the PRI cut), "C" (contradiction) where inclusion lies between the exclusion
cut and the inclusion cut, 0 below, and "?" (remainder) where fewer than n-cut cases are in the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from casemeta.errors import CasemetaError
from casemeta.stats.qca.sets import bit, sufficiency, term_membership

# a cut is met by a score equal to it up to rounding (R compares incl >= incl.cut the same way)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Cuts:
    incl: float = 1.0
    n: int = 1
    pri: float = 0.0
    excl: float | None = None  # inclusion below which OUT is 0 (default: the inclusion cut; no contradictions)


@dataclass(frozen=True)
class TruthTable:
    conditions: list[str]
    rows: pd.DataFrame  # one row per observed configuration, indexed by its number (R's row number − 1)

    @property
    def k(self) -> int:
        return len(self.conditions)

    def configurations(self, out: str) -> set[int]:
        return set(self.rows.index[self.rows["OUT"] == out])

    @property
    def positive(self) -> set[int]:
        return self.configurations("1")

    @property
    def remainders(self) -> set[int]:
        """Unobserved configurations and those with fewer cases than the frequency cut."""
        return (set(range(2 ** self.k)) - set(self.rows.index)) | self.configurations("?")


def corners(members: np.ndarray, cases: list[str], conditions: list[str]) -> np.ndarray:
    """Each case's configuration number; a membership of exactly 0.5 places a case in no corner."""
    half = np.argwhere(members == 0.5)
    if len(half):
        problems = [f"case {cases[r]}: {conditions[c]} = 0.5" for r, c in half]
        raise CasemetaError("a membership of exactly 0.5 puts a case in no truth-table row; calibrate so that no case "
                            "sits on the crossover", problems)
    k = len(conditions)
    return ((members > 0.5) * np.array([bit(k, i) for i in range(k)])).sum(axis=1)


def truth_table(members: np.ndarray, y: np.ndarray, cases: list[str], conditions: list[str], cuts: Cuts) -> TruthTable:
    k = len(conditions)
    corner = corners(members, cases, conditions)
    full = 2 ** k - 1
    records = []
    in_rows: dict[int, list[str]] = {}  # the cases of each configuration, in the data's order: one pass
    for c, r in zip(cases, corner.tolist()):
        in_rows.setdefault(r, []).append(c)
    for config in sorted(in_rows):
        fit = sufficiency(term_membership(members, (full, config)), y)
        in_row = in_rows[config]
        records.append({
            **{c: int(bool(config & bit(k, i))) for i, c in enumerate(conditions)},
            "OUT": output_value(len(in_row), fit["inclS"], fit["PRI"], cuts),
            "n": len(in_row), "incl": fit["inclS"], "PRI": fit["PRI"], "cases": ",".join(in_row), "config": config,
        })
    columns = [*conditions, "OUT", "n", "incl", "PRI", "cases"]
    rows = pd.DataFrame(records, columns=[*columns, "config"]).set_index("config")
    rows.index = rows.index.astype(int)
    return TruthTable(conditions, rows)


def output_value(n: int, incl: float, pri: float, cuts: Cuts) -> str:
    if n < cuts.n:
        return "?"
    excl = cuts.incl if cuts.excl is None else cuts.excl
    if incl >= cuts.incl - TOLERANCE and pri >= cuts.pri - TOLERANCE:
        return "1"
    if incl >= excl - TOLERANCE and excl < cuts.incl:
        return "C"
    return "0"
