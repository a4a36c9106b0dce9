"""Compare published numbers with our recomputation, and check each published table's own arithmetic.

Frames in, frames out: the published numbers are read by casemeta.coded.raw_coding.load_published.
A mismatch is a finding to report; nothing here ever changes the coding.
"""

from __future__ import annotations

import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.coded.raw_coding import split_terms, term_variables

REPRODUCTION_COLUMNS = ["table", "row", "column", "published", "reproduced", "match"]


def compare_tables(published: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per published number of the count tables, with our number beside it."""
    rows = []
    for r in published.itertuples(index=False):
        table = tables.get(r.table)
        reproduced = pd.NA
        if table is not None and r.row in table.index and r.column in table.columns:
            reproduced = int(table.at[r.row, r.column])
        rows.append((r.table, r.row, r.column, r.published, reproduced, bool(reproduced is not pd.NA and reproduced == r.published)))
    out = pd.DataFrame(rows, columns=REPRODUCTION_COLUMNS)
    out["reproduced"] = out["reproduced"].astype("Int64")
    return out


def _same_terms(a: str, b: str, sep: str, none_terms: list[str]) -> bool:
    return sorted(t.lower() for t in split_terms(a, sep, none_terms)) == sorted(t.lower() for t in split_terms(b, sep, none_terms))


def compare_case_listing(raw: pd.DataFrame, raw_ids: pd.Series, cases: pd.DataFrame, codebook: Codebook, table: str) -> pd.DataFrame:
    """Re-render the published case listing (e.g. Table 1) from the codes, cell by cell.

    `raw_ids` gives each raw row's case_id (as the coding rules assign it), so
    rows are matched by identifier, never by a name two cases might share; a
    row is labelled by its first copied column (e.g. the cluster's name).
    Terms are compared as sets, ignoring case and order, because the paper
    prints the same terms in varying order ('Learning, Marketing' and
    'Marketing, Learning').
    """
    sep = codebook.raw.get("term_separator", ",")
    none_terms = codebook.raw.get("none_terms", [])
    name_var = next(v for v in codebook.variables if v.rule and v.rule["kind"] == "copy")
    by_id = cases.set_index(codebook.id_column)
    rows = []
    for (_, raw_row), case_id in zip(raw.iterrows(), raw_ids):
        name = raw_row[name_var.rule["from"]].strip()
        coded = by_id.loc[case_id] if case_id in by_id.index else None
        for column, variables in term_variables(codebook).items():
            published = raw_row[column]
            if coded is None:
                rows.append((table, name, column, published, pd.NA, False))
                continue
            terms = [v.rule["term"] for v in variables if coded[v.name] == 1]
            rendered = ", ".join(terms) if terms else (none_terms[0] if none_terms else "")
            rows.append((table, name, column, published, rendered, _same_terms(published, rendered, sep, none_terms)))
    return pd.DataFrame(rows, columns=REPRODUCTION_COLUMNS)


def _weighted(table: pd.DataFrame, column: str, weights: dict) -> tuple[int, str]:
    total = sum(w * int(table.at[r, column]) for r, w in weights.items())
    terms = " + ".join((f"{w}×" if w != 1 else "") + f"{int(table.at[r, column])} ({r})" for r, w in weights.items())
    return total, terms


SUMS_EQUAL_LABEL = "weighted sums of rows equal"


def check_table(table: pd.DataFrame, name: str, checks: list[dict], n_cases: int) -> list[tuple]:
    """Internal-consistency checks of one table; a row per check and row, with whether it holds.

    A check's `label` (from the plan) names it in the results; without one, a name made from its kind.
    """
    out = []
    for check in checks:
        kind = check["kind"]
        if kind == "row_le":
            left, right = check["left"], check["right"]
            label = check.get("label", f"{left} ≤ {right}")
            for row in table.index:
                a, b = table.at[row, left], table.at[row, right]
                if pd.isna(a) or pd.isna(b):
                    continue
                out.append((name, label, row, f"{int(a)} ≤ {int(b)}", bool(a <= b)))
        elif kind == "sums_equal":
            lsum, lterms = _weighted(table, check["column"], check["left"])
            rsum, rterms = _weighted(table, check["column"], check["right"])
            out.append((name, check.get("label", SUMS_EQUAL_LABEL), check["column"],
                        f"{lterms} = {lsum}; {rterms} = {rsum}", lsum == rsum))
        else:
            rows = list(check.get("rows", table.index))
            total = int(table.loc[rows, check["column"]].sum())
            holds = total <= n_cases if kind == "sum_at_most_cases" else total == n_cases
            op = "≤" if kind == "sum_at_most_cases" else "="
            out.append((name, check.get("label", f"sum {op} number of cases"), check["column"], f"{total} {op} {n_cases}", holds))
    return out


def published_as_tables(published: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The published numbers laid out as tables (rows and columns in published order)."""
    tables = {}
    for name, part in published.groupby("table", sort=False):
        wide = part.pivot(index="row", columns="column", values="published")
        tables[name] = wide.loc[list(dict.fromkeys(part["row"])), list(dict.fromkeys(part["column"]))]
    return tables


def consistency(published: pd.DataFrame, specs: list[dict], n_cases: int) -> pd.DataFrame:
    """Every declared check on every published table."""
    tables = published_as_tables(published)
    rows = []
    for spec in specs:
        if spec["table"] in tables and spec.get("checks"):
            rows += check_table(tables[spec["table"]], spec["table"], spec["checks"], n_cases)
    return pd.DataFrame(rows, columns=["table", "check", "where", "numbers", "holds"])
