"""Generate the pandera schema of a study's coded cases from its codebook.

Cells are validated as the text a coder typed (before any type conversion),
so an error can quote the exact value that is wrong.
"""

from __future__ import annotations

import re

import pandas as pd

from casemeta.coded.codebook import Codebook, Variable

IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
# at most 18 digits: every such number fits the 64-bit integers the later steps compute with (a longer one
# would overflow when typed, after validation had passed it)
INTEGER_PATTERN = r"^-?[0-9]{1,18}$"
# Control characters other than tab and newline (C0, DEL, C1) and the two
# non-characters U+FFFE/U+FFFF: invisible in a spreadsheet, a carriage return
# is read as a line break by CSV readers and none of them is allowed in the XML
# of a Word or Excel file. Refused in every column so that nothing stored in
# data/coded/ can break a later step.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
CONTROL_CHECK = "no_control_characters"


def _in_range(var: Variable):
    def check(series: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(series, errors="coerce")
        ok = series.str.fullmatch(INTEGER_PATTERN).fillna(False).astype(bool)  # not "3.5", "1e3" or "inf"
        if var.minimum is not None:
            ok &= numbers >= var.minimum
        if var.maximum is not None:
            ok &= numbers <= var.maximum
        return ok

    return check


def pandera():
    """pandera.pandas, loaded without hypothesis where nothing has loaded hypothesis yet.

    pandera imports hypothesis whenever it is installed (the test suite needs it), only to offer strategies
    that generate data, which casemeta never asks for; that import was more than half of loading pandera
    (about 0.5 of 0.85 s in every job that validates). Hidden while pandera loads, then visible again: a
    program that imports hypothesis later gets hypothesis as usual, but not pandera's strategies (schema.example()
    fails), which stay as loaded without it; the warm process of a run loads pandera so for every job
    (casemeta.forkserver.PRELOAD)."""
    import importlib
    import sys

    if "pandera.pandas" not in sys.modules and "hypothesis" not in sys.modules:
        sys.modules["hypothesis"] = None  # `import hypothesis` raises ImportError: pandera does without
        try:  # its strategies too, which it loads on first use (when a check is made)
            importlib.import_module("pandera.strategies.pandas_strategies")
            return importlib.import_module("pandera.pandas")
        finally:
            del sys.modules["hypothesis"]
    return importlib.import_module("pandera.pandas")


def _no_control_characters(series: pd.Series) -> pd.Series:
    return ~series.str.contains(CONTROL_CHARACTER, regex=True)


def _checks(var: Variable) -> list:
    pa = pandera()  # here, not at the top: a step that does not validate does not load pandera

    control = pa.Check(_no_control_characters, name=CONTROL_CHECK)
    if var.allowed_values is not None:
        return [pa.Check.isin(list(var.allowed_values)), control]
    if var.type == "identifier":
        return [pa.Check.str_matches(IDENTIFIER_PATTERN), control]
    if var.type == "integer":
        return [pa.Check(_in_range(var), name="integer_in_range"), control]
    return [pa.Check.str_length(min_value=1), control]


def column_schema(var: Variable):
    pa = pandera()

    return pa.Column(
        str,
        checks=_checks(var),
        nullable=var.nullable and var.type != "identifier",
        unique=var.type == "identifier",
        required=True,
        description=var.description or None,
        title=var.label,
    )


def cases_schema(codebook: Codebook):
    """Schema of data/coded/<study>/cases.csv (a pandera DataFrameSchema): exactly the codebook's coded variables."""
    pa = pandera()

    return pa.DataFrameSchema(
        {v.name: column_schema(v) for v in codebook.variables},
        strict=True,
        name=f"{codebook.study} coded cases",
    )
