"""Derived variables (groups, counts, combinations), computed from validated cases.

They are recomputed on every run and never stored in data/coded/, so a coder
cannot make a derived value disagree with the codes it comes from.
"""

from __future__ import annotations

import pandas as pd

from casemeta.coded.case_table import undeclared
from casemeta.coded.codebook import Codebook, Variable
from casemeta.coded.expressions import evaluate
from casemeta.errors import CasemetaError

_PANDAS_MAJOR = int(pd.__version__.split(".", 1)[0])


def _indicator(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    return frame[names].astype("Int64")


def _apply(var: Variable, frame: pd.DataFrame, codebook: Codebook) -> pd.Series:
    rule = var.rule
    kind = rule["kind"]
    if kind in ("any_of", "all_of", "count_of"):
        block = _indicator(frame, rule["of"])
        incomplete = block.isna().any(axis=1)
        ones = (block == 1).sum(axis=1).astype("Int64")
        if kind == "count_of":
            result = ones
        elif kind == "any_of":
            result = (ones > 0).astype("Int64")
        else:
            result = (ones == len(rule["of"])).astype("Int64")
        return result.mask(incomplete)
    if kind == "is_in":
        source = frame[rule["variable"]]
        return source.astype("string").isin([str(v) for v in rule["values"]]).astype("Int64").mask(source.isna())
    if kind == "combination":
        block = _indicator(frame, rule["of"])
        joined = pd.Series("", index=frame.index, dtype="object")
        for name in rule["of"]:  # column by column, so it stays linear in the number of cases
            present = block[name].eq(1).fillna(False).astype(bool)
            joined = joined.mask(present, joined.where(joined.eq(""), joined + "+") + name)
        return joined.mask(joined.eq(""), "none").where(~block.isna().any(axis=1)).astype("object")
    # first_match: ordered conditions, the first that holds gives the value
    result = pd.Series(pd.NA, index=frame.index, dtype="object")
    for case in rule["cases"]:
        hit = evaluate(frame, case["when"], f"{codebook.path}: derived {var.name!r}")
        result = result.mask(result.isna() & hit, case["value"])
    return result


def derive(cases: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The validated cases with every derived variable of the codebook appended, in order; `cases` is left as it was."""
    # with pandas' copy-on-write (always on from pandas 3) a shallow copy: appending columns to it leaves `cases` as
    # it was without copying its data (~220 MB of codes at 10⁶ cases, most of derive's peak memory), and a caller
    # that changes the result later changes only the result. Before pandas 3 the two would share their columns.
    frame = cases.copy(deep=_PANDAS_MAJOR < 3)
    for var in codebook.derived:
        frame[var.name] = _apply(var, frame, codebook)
        _check_declared(frame, var, codebook)
        if var.whole_numbers and frame[var.name].dtype == object:  # a first_match's values
            frame[var.name] = _whole_numbers(frame[var.name], var, codebook)
    return frame


def _whole_numbers(values: pd.Series, var: Variable, codebook: Codebook) -> pd.Series:
    """A binary or integer variable's values typed as the steps read them back from the derived file (Int64): a
    multiverse's universes, derived in memory, must see the column the main run sees (a numeric predictor, not one
    indicator per level)."""
    try:
        return values.astype("Int64")
    except (TypeError, ValueError):
        stray = sorted({repr(v) for v in values.dropna() if not (isinstance(v, int) and not isinstance(v, bool))})
        raise CasemetaError(f"{codebook.path}: derived {var.name!r} ({var.type}) gives values that are not whole "
                            f"numbers: {', '.join(stray[:5])}") from None


def _check_declared(frame: pd.DataFrame, var: Variable, codebook: Codebook) -> None:
    """Refuse derived values the variable's own codebook entry does not allow (its `values`, or its
    `minimum`/`maximum`): later steps check the derived file against the codebook too, and a value written
    here that they refuse would fail every run the same way."""
    stray = undeclared(frame[var.name], var)
    why = "outside its `minimum`/`maximum`" if var.type == "integer" else "its `values` do not declare"
    if stray.any():
        rows = frame.loc[stray, [codebook.id_column, var.name]]
        raise CasemetaError(
            f"{codebook.path}: derived {var.name!r} gives values {why}",
            [f"case {r[0]!r}: {repr(r[1]) if isinstance(r[1], str) else r[1]}; expected {var.expected()}"
             for r in rows.itertuples(index=False)],
        )
