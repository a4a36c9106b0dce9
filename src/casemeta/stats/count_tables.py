"""Count tables in a paper's own layout: each cell counts the cases in a row and a column.

Rows and columns are subsets of cases: a codebook variable equal to 1, every
category of a codebook variable (`by`), a labelled condition (`where`), or all
cases (`total`). Labels come from the codebook unless the plan gives one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.coded.expressions import evaluate
from casemeta.errors import CasemetaError


def _mask(frame: pd.DataFrame, expr: str, context: str) -> pd.Series:
    """The cases a `where:` condition selects (casemeta.coded.expressions: no code is run)."""
    return evaluate(frame, expr, context)


def lines(spec, frame: pd.DataFrame, codebook: Codebook, context: str) -> list[tuple[str, pd.Series]]:
    """(label, mask) for a row or column specification."""
    if isinstance(spec, Mapping) and "by" in spec:
        var = codebook.variable(spec["by"])
        values = var.allowed_values or sorted(frame[var.name].dropna().astype(str).unique())
        return [(var.value_label(v), frame[var.name].astype("string") == v) for v in values]
    out = []
    for item in spec:
        if "variable" in item:
            var = codebook.variable(item["variable"])
            out.append((item.get("label", var.label), (frame[var.name] == 1).fillna(False).astype(bool)))
        elif "total" in item:
            out.append((item["total"], pd.Series(True, index=frame.index)))
        elif "where" in item and "label" in item:
            out.append((item["label"], _mask(frame, item["where"], context)))
        else:
            raise CasemetaError(f"{context}: a row or column needs `variable`, `by`, `total`, or `label` with `where`: {item}")
    return out


def count_table(frame: pd.DataFrame, spec: dict, codebook: Codebook, context: str = "analysis plan") -> pd.DataFrame:
    """Counts of cases in each (row, column) of a table spec, rows and columns in plan order."""
    context = f"{context}, {spec.get('table', 'table')}"
    rows = lines(spec["rows"], frame, codebook, context)
    columns = lines(spec["columns"], frame, codebook, context)
    counts = {c_label: [int((r_mask & c_mask).sum()) for _, r_mask in rows] for c_label, c_mask in columns}
    table = pd.DataFrame(counts, index=pd.Index([label for label, _ in rows], name=spec.get("table")))
    return table
