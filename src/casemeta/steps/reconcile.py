"""Two or more coders' files into one consensus workbook, and a decided consensus into cases to add.

`casemeta reconcile --study S a.xlsx b.xlsx --out consensus.xlsx`: each coder's
file (a coding form or a CSV) is validated as `add-case` validates it, the cases
are matched by their identifier, and every cell the coders agree on is filled;
each disagreement gets a row with every coder's value and an empty decision
cell. The agreement statistics are those of `casemeta reliability`
(casemeta.stats.reliability) on the same files. Cases only one coder coded are
listed (sheet `one coder only`, and a warning), never dropped silently.

`casemeta reconcile --study S consensus.xlsx --out agreed.csv`: the decisions are
applied and the agreed cases written, with their provenance (`_source`,
`_pages`, `_coder`, `_coded_on`, `_consensus` = yes), ready for `add-case`; or,
while any disputed cell is undecided, nothing is written and every such cell is
named.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from casemeta import atomic_io
from casemeta.coded.case_entry import read_new_cases_with_provenance
from casemeta.coded.case_table import csv_text, validate_cases
from casemeta.coded.codebook import Codebook
from casemeta.coded.coding_forms import CONSENSUS_FIELD, PROVENANCE_NAMES, cell_text, is_workbook, read_cases_sheet, sheet_of
from casemeta.errors import CasemetaError
from casemeta.plan import CONDITION_TYPES
from casemeta.publish.coding_forms import (BLANK_DECISION, DECISION_HEADER, DISAGREEMENTS_SHEET, SINGLE_SHEET,
                                           write_consensus)
from casemeta.stats.reliability import reliability
from casemeta.steps.reliability_files import coder_names

log = logging.getLogger("casemeta")


def _refuse_out(out: Path, inputs: list[Path], suffix: str, what: str) -> None:
    if out.suffix.lower() != suffix:
        raise CasemetaError(f"--out {out}: expected a {suffix} file ({what})")
    real = atomic_io.real_path(out)
    for path in inputs:
        if atomic_io.real_path(path) == real:
            raise CasemetaError(f"--out {out}: it is one of the input files; choose another file (nothing was written)")
    if out.exists():
        raise CasemetaError(f"--out {out}: exists already; choose another file (nothing was overwritten)")


class Coder:
    """One coder's validated cases: text values by case and variable, provenance by case."""

    def __init__(self, name: str, path: Path, codebook: Codebook):
        self.name, self.path = name, path
        frame, origins, provenance, problems = read_new_cases_with_provenance(path, codebook)
        try:
            typed = validate_cases(frame, codebook, path, origins)
        except CasemetaError as exc:
            raise CasemetaError(exc.summary, [*exc.problems, *problems]) from None
        if problems:
            raise CasemetaError(f"{path}: {len(problems)} problem(s)", problems)
        if typed.empty:
            raise CasemetaError(f"{path}: no coded cases (every row is empty)")
        ids = typed[codebook.id_column].astype(str)
        self.typed = typed.set_index(ids)
        self.text = typed.astype(object).where(typed.notna(), "").astype(str).set_index(ids)
        prov = provenance if provenance is not None else pd.DataFrame("", index=range(len(typed)), columns=PROVENANCE_NAMES)
        self.provenance = prov.reindex(columns=PROVENANCE_NAMES).astype(object).fillna("").astype(str).set_index(ids)


def _joined(values) -> str:
    seen = []
    for value in values:
        for part in str(value).split(";"):
            if part.strip() and part.strip() not in seen:
                seen.append(part.strip())
    return "; ".join(seen)


def compare(codebook: Codebook, paths: list[Path], out: Path) -> dict:
    """Validate the coders' files, write the consensus workbook; return what it holds."""
    if len(paths) < 2:
        raise CasemetaError("reconcile needs two or more coders' files (or one consensus workbook to finish)")
    _refuse_out(out, paths, ".xlsx", "the consensus workbook")
    names = coder_names(paths)
    coders, problems = [], []
    for name, path in zip(names, paths):
        try:
            coders.append(Coder(name, Path(path), codebook))
        except CasemetaError as exc:
            problems += exc.problems or [str(exc)]
    if problems:
        raise CasemetaError(f"{len(problems)} problem(s) in the coders' files; nothing was written", problems)
    order = list(dict.fromkeys(case for c in coders for case in c.text.index))
    by_case = {case: [c for c in coders if case in c.text.index] for case in order}
    rows, disputes, single = [], [], []
    for case, who in by_case.items():
        if len(who) < 2:
            single.append({"case_id": case, "coder": who[0].name, "file": who[0].path.name})
            continue
        row = {}
        for var in codebook.variables:
            values = {c.name: c.text.at[case, var.name] for c in who}
            if len(set(values.values())) == 1:
                row[var.name] = next(iter(values.values()))
            else:
                row[var.name] = ""
                disputes.append({"case_id": case, "variable": var.name, "row": len(rows),
                                 **{c.name: values.get(c.name, "(not coded)") for c in coders}})
        row["_source"] = _joined(c.provenance.at[case, "_source"] for c in who)
        row["_pages"] = _joined(c.provenance.at[case, "_pages"] for c in who)
        row["_coder"] = _joined(c.provenance.at[case, "_coder"] or c.name for c in who)
        dates = [c.provenance.at[case, "_coded_on"] for c in who if c.provenance.at[case, "_coded_on"]]
        row["_coded_on"] = max(dates) if dates else ""
        rows.append(row)
    variables = [v.name for v in codebook.variables if v.type in CONDITION_TYPES]
    frames = {c.name: c.typed for c in coders}
    table, _, _ = reliability(frames, variables, codebook.id_column)
    table.insert(1, "label", [codebook.label(v) for v in table["variable"]])
    table = table.drop(columns=["caveats"], errors="ignore")
    dispute_frame = pd.DataFrame(disputes, columns=["case_id", "variable", "row", *names])
    single_frame = pd.DataFrame(single, columns=["case_id", "coder", "file"])
    write_consensus(codebook, out, rows, dispute_frame, names, table, single_frame)
    if single:
        log.warning("%d case(s) coded by one coder only, listed in the sheet %r and not in the consensus: %s", len(single),
                    SINGLE_SHEET, ", ".join(f"{s['case_id']} ({s['coder']})" for s in single))
    return {"cases": len(rows), "disagreements": len(disputes), "single": single}


def is_consensus(path: Path) -> bool:
    if not is_workbook(path):
        return False
    from casemeta.coded.coding_forms import open_workbook

    return DISAGREEMENTS_SHEET in open_workbook(path).sheetnames


def finish(codebook: Codebook, path: Path, out: Path) -> dict:
    """Apply the decisions of a consensus workbook and write the agreed cases, or name every undecided cell."""
    _refuse_out(out, [path], ".csv", "the agreed cases, for `casemeta add-case`")
    sheet = read_cases_sheet(path, codebook)
    ws = sheet_of(sheet.book, DISAGREEMENTS_SHEET, path)
    header = [cell_text(c)[0].strip() for c in ws[1]]
    if DECISION_HEADER not in header or header[:2] != ["Case", "Variable"]:
        raise CasemetaError(f"{path}: {DISAGREEMENTS_SHEET}!1:1: expected the columns Case, Variable, ..., "
                            f"{DECISION_HEADER} as `casemeta reconcile` writes them")
    decision_col = header.index(DECISION_HEADER)
    coders = header[3:decision_col]
    frame = sheet.frame.copy()
    row_of = {case.strip(): i for i, case in enumerate(frame[codebook.id_column])}
    problems = []
    for r in range(2, ws.max_row + 1):
        case, variable = (cell_text(ws.cell(row=r, column=c))[0].strip() for c in (1, 2))
        if not case and not variable:
            break  # the instructions below the table
        decision_cell = ws.cell(row=r, column=decision_col + 1)
        decision, problem = cell_text(decision_cell)
        decision = decision.strip()
        where = f"{path}: {DISAGREEMENTS_SHEET}!{decision_cell.coordinate} (case {case!r}, variable {variable!r})"
        if problem:
            problems.append(f"{where}: the cell {problem}")
            continue
        if case not in row_of or variable not in codebook.coded_columns:
            problems.append(f"{where}: no such case or variable in the sheet {sheet.origins[0].sheet if sheet.origins else 'cases'!r}")
            continue
        i = row_of[case]
        target = sheet.origins[i].where(variable, case)
        typed_there = frame.at[i, variable].strip()
        values = ", ".join(f"{name}: {cell_text(ws.cell(row=r, column=4 + k))[0]!r}" for k, name in enumerate(coders))
        var = codebook.variable(variable)
        if decision == BLANK_DECISION:
            if not var.nullable:
                problems.append(f"{where}: {BLANK_DECISION} is not allowed; {variable!r} may not be missing; expected {var.expected()}")
            decision = ""
            decided = True
        else:
            decided = bool(decision)
        if not decided and typed_there:
            decision, decided = typed_there, True  # decided in the cases sheet itself
        elif decided and typed_there and typed_there != decision:
            problems.append(f"{where}: decision {decision!r} differs from {typed_there!r} typed in {target}; keep one")
            continue
        if not decided:
            problems.append(f"{where}: undecided ({values}); expected the decision, "
                            f"{var.expected()}" + (f", or {BLANK_DECISION}" if var.nullable else ""))
            continue
        if var.allowed_values is not None and decision and decision not in var.allowed_values:
            problems.append(f"{where}: value {decision!r} is not allowed; expected {var.expected()}")
            continue
        frame.at[i, variable] = decision
    if problems:
        raise CasemetaError(f"{path}: {len(problems)} disputed cell(s) not settled; nothing was written", problems)
    validate_cases(frame, codebook, path, sheet.origins)
    provenance = sheet.provenance.reindex(columns=PROVENANCE_NAMES).fillna("")
    agreed = pd.concat([frame.reset_index(drop=True), provenance.reset_index(drop=True)], axis=1)
    agreed[CONSENSUS_FIELD] = "yes"
    columns = [*codebook.coded_columns, *PROVENANCE_NAMES, CONSENSUS_FIELD]
    atomic_io.write_text(out, csv_text(agreed, columns, out))
    single = _single(sheet.book)
    if single:
        log.warning("%d case(s) coded by one coder only are not in %s (listed in the sheet %r): %s", len(single), out,
                    SINGLE_SHEET, ", ".join(single))
    return {"cases": len(agreed), "single": single}


def _single(book) -> list[str]:
    if SINGLE_SHEET not in book.sheetnames:
        return []
    ws = book[SINGLE_SHEET]
    return [f"{cell_text(ws.cell(row=r, column=1))[0]} ({cell_text(ws.cell(row=r, column=2))[0]})"
            for r in range(2, ws.max_row + 1) if cell_text(ws.cell(row=r, column=1))[0]]
