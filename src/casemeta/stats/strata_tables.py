"""2×2 tables by stratum (columns stratum, a, b, c, d), from counts or from cases: frames in, frames out.

a = condition 1 & outcome 1, b = condition 1 & outcome 0, c = condition 0 & outcome 1,
d = condition 0 & outcome 0. Bad input is a CasemetaError naming the file, line, column and value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casemeta.coded.case_table import physical_line
from casemeta.errors import CasemetaError

COUNTS = ("a", "b", "c", "d")
CELLS = {"a": (1, 1), "b": (1, 0), "c": (0, 1), "d": (0, 0)}  # cell -> (condition, outcome)


# the largest count held exactly: every whole number up to 2^53 is a float64 (the methods compute in floats),
# and four of them summed stay far inside int64 (1e20 would wrap around to a negative count)
MAX_COUNT = 2 ** 53


def too_large(frame: pd.DataFrame, strata: pd.Series, source: str) -> None:
    """A CasemetaError naming the first stratum, column and count over MAX_COUNT (counts already numeric)."""
    for column in COUNTS:
        over = np.flatnonzero(pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) > MAX_COUNT)
        if len(over):
            i = int(over[0])
            raise CasemetaError(f"{source}stratum {strata.iloc[i]!r}, column {column}: {frame[column].iloc[i]} is too large "
                                f"a count to hold exactly (at most 2^53 = {MAX_COUNT:,}); check the data, or pool rates "
                                "rather than counts")


def not_counts(values: pd.Series) -> pd.Series:
    """Which values are not counts (whole numbers 0 or more); `values` already numeric or NaN."""
    return values.isna() | (values < 0) | (values % 1 != 0)


def _require(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CasemetaError(f"{source}: no column {', '.join(map(repr, missing))}; "
                            f"the file's columns are {', '.join(map(str, frame.columns))}")


def _strata(frame: pd.DataFrame, stratum: str, source: str) -> pd.Series:
    """The stratum of each row, spaces around it aside; a blank one is refused (it would become a stratum '')."""
    names = frame[stratum].astype(str).str.strip()
    blank = np.flatnonzero((names == "").to_numpy())
    if len(blank):
        lines = ", ".join(str(physical_line(frame, int(i))) for i in blank[:10])
        raise CasemetaError(f"{source}, line(s) {lines}, column {stratum}: the stratum is blank; expected a name "
                            "for every row's stratum (the study it comes from)")
    return names


def _bad(frame: pd.DataFrame, column: str, values: pd.Series, bad: pd.Series, source: str, expected: str):
    i = int(np.flatnonzero(bad.to_numpy())[0])
    raise CasemetaError(f"{source}, line {physical_line(frame, i)}, column {column}: {frame[column].iloc[i]!r} is not {expected}")


def tables_from_counts(frame: pd.DataFrame, stratum: str, counts: list[str], source: str) -> pd.DataFrame:
    """One table per stratum from four count columns, one row per stratum (a name on two rows is refused)."""
    if len(counts) != 4:
        raise CasemetaError(f"--counts needs four columns A,B,C,D (a = condition 1 & outcome 1, b = condition 1 & "
                            f"outcome 0, c = condition 0 & outcome 1, d = condition 0 & outcome 0); got {len(counts)}")
    _require(frame, [stratum, *counts], source)
    names = _strata(frame, stratum, source)
    repeated = names[names.duplicated(keep=False)]
    if len(repeated):  # one row per stratum: two rows of one name are two studies keyed by a shared value, or a typo
        problems = [f"{name!r} on lines {', '.join(str(physical_line(frame, int(i))) for i in np.flatnonzero((names == name).to_numpy()))}"
                    for name in dict.fromkeys(repeated)]
        raise CasemetaError(f"{source}, column {stratum}: {len(problems)} stratum name(s) are on more than one row; "
                            "with --counts each row is one stratum: give each its own name (or key the rows by a "
                            "column that is unique)", problems)
    out = pd.DataFrame({"stratum": names})
    for cell, column in zip(COUNTS, counts):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = not_counts(values)
        if bad.any():
            _bad(frame, column, values, bad, source, "a count (a whole number 0 or more)")
        out[cell] = values
    too_large(out, out["stratum"], f"{source}: ")
    out = out.astype({cell: np.int64 for cell in COUNTS})
    summed = out.groupby("stratum", sort=False, as_index=False)[list(COUNTS)].sum()
    too_large(summed, summed["stratum"], f"{source}: rows added up, ")
    return summed


def tables_from_cases(frame: pd.DataFrame, stratum: str, condition: str, outcome: str, source: str) -> pd.DataFrame:
    """One table per stratum from 0/1 condition and outcome columns of cases; blank cells leave the case out."""
    _require(frame, [stratum, condition, outcome], source)
    coded = {}
    for column in (condition, outcome):
        text = frame[column].astype("string").str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & (text != "") & ~values.isin([0, 1])
        if bad.any():
            _bad(frame, column, values, bad, source, "0 or 1 (or blank when missing)")
        coded[column] = values
    names = _strata(frame, stratum, source)
    cases = pd.DataFrame({"stratum": names, "x": coded[condition], "y": coded[outcome]}).dropna()
    strata = list(dict.fromkeys(names))
    return pd.DataFrame({"stratum": strata, **{
        cell: [int(((cases["stratum"] == s) & (cases["x"] == x) & (cases["y"] == y)).sum()) for s in strata]
        for cell, (x, y) in CELLS.items()}})
