"""Generate the pandera schema of a study's coded cases from its codebook.

Cells are validated as the text a coder typed (before any type conversion),
so an error can quote the exact value that is wrong.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from casemeta.coded.codebook import Codebook, Variable

IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
INTEGER_PATTERN = r"^-?[0-9]+$"


def _in_range(var: Variable):
    def check(series: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(series, errors="coerce")
        ok = numbers.notna()
        if var.minimum is not None:
            ok &= numbers >= var.minimum
        if var.maximum is not None:
            ok &= numbers <= var.maximum
        return ok

    return check


def _checks(var: Variable) -> list[pa.Check]:
    if var.allowed_values is not None:
        return [pa.Check.isin(list(var.allowed_values))]
    if var.type == "identifier":
        return [pa.Check.str_matches(IDENTIFIER_PATTERN)]
    if var.type == "integer":
        return [pa.Check(_in_range(var), name="integer_in_range")]
    return [pa.Check.str_length(min_value=1)]


def column_schema(var: Variable) -> pa.Column:
    return pa.Column(
        str,
        checks=_checks(var),
        nullable=var.nullable and var.type != "identifier",
        unique=var.type == "identifier",
        required=True,
        description=var.description or None,
        title=var.label,
    )


def cases_schema(codebook: Codebook) -> pa.DataFrameSchema:
    """Schema of data/coded/<study>/cases.csv: exactly the codebook's coded variables."""
    return pa.DataFrameSchema(
        {v.name: column_schema(v) for v in codebook.variables},
        strict=True,
        name=f"{codebook.study} coded cases",
    )
