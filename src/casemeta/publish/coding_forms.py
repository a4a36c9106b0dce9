"""Coding forms and consensus workbooks, written with openpyxl from the codebook (never by hand).

A coding form's `cases` sheet has one column per coded variable (row 1 its
label, row 2 its name, which is what `add-case` reads), a drop-down list of
exactly the codebook's values on every binary and category column, a
whole-number range on every integer column, an input message with the
variable's description on every column, required columns shaded, header rows
and the case column frozen, then the provenance columns (source, pages, coder,
date coded). The `codebook` sheet lists every variable with its values and
definitions (the coding rules of data/raw and other internal notes are left
out). A consensus workbook has the same `cases` sheet holding the coders'
agreed values, a `disagreements` sheet with each coder's value and an empty
decision cell with the variable's drop-down, the agreement statistics of
`casemeta reliability`, and the cases only one coder coded.

Excel refuses (with a repair prompt) an input message longer than 255
characters, a title longer than 32 and an inline list longer than 255: each
is kept within its limit here, a long list put on a hidden `lists` sheet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink

from casemeta import atomic_io
from casemeta.coded.codebook import Codebook, Variable
from casemeta.coded.coding_forms import (CASES_SHEET, CODEBOOK_SHEET, FIRST_ROW, LABEL_ROW, NAME_ROW, PROVENANCE_FIELDS,
                                         ProvenanceField)
from casemeta.publish.cells import visible_text
from casemeta.publish.office import _excel_text
from casemeta.publish.reproducible import save_xlsx

DISAGREEMENTS_SHEET = "disagreements"
AGREEMENT_SHEET = "agreement"
SINGLE_SHEET = "one coder only"
LISTS_SHEET = "lists"
BLANK_DECISION = "(blank)"  # the decision that a variable whose codebook allows it is left empty
DECISION_HEADER = "Decision"
PROMPT_LIMIT, TITLE_LIMIT, ERROR_LIMIT, INLINE_LIST_LIMIT = 255, 32, 225, 255
WHOLE_LIMIT = 999_999_999_999_999  # Excel keeps 15 significant digits
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
OPTIONAL_FILL = PatternFill("solid", fgColor="EDEDED")
PROVENANCE_FILL = PatternFill("solid", fgColor="DDEBF7")
DISPUTED_FILL = PatternFill("solid", fgColor="FFEB9C")
HEADER_FONT = Font(bold=True)
NAME_FONT = Font(italic=True, color="595959", size=9)


def _cut(text: str, limit: int) -> str:
    text = visible_text(text).replace("\r", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(ws, row: int, column: int, value, bold: bool = False):
    cell = ws.cell(row=row, column=column)
    _excel_text(cell, visible_text(value), "", bold)
    if bold:
        cell.font = HEADER_FONT
    return cell


def required(var: Variable) -> bool:
    return not var.nullable or var.type == "identifier"


def _list_formula(book, values: Sequence[str], key: str) -> str:
    """An inline list ("0,1") where Excel can hold it, else a range of the hidden `lists` sheet."""
    inline = ",".join(values)
    if len(inline) + 2 <= INLINE_LIST_LIMIT and not any(c in v for v in values for c in ',"'):
        return f'"{inline}"'
    sheet = book[LISTS_SHEET] if LISTS_SHEET in book.sheetnames else book.create_sheet(LISTS_SHEET)
    sheet.sheet_state = "hidden"
    column = sheet.max_column + 1 if sheet.max_row > 1 or sheet["A1"].value is not None else 1
    _text(sheet, 1, column, key)
    for r, value in enumerate(values, start=2):
        _text(sheet, r, column, value)
    letter = get_column_letter(column)
    return f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"


def variable_validation(book, var: Variable, extra: Sequence[str] = ()) -> DataValidation:
    """The validation of a variable's cells: its drop-down or range, and its description as input message."""
    values = [*(var.allowed_values or ()), *extra]
    if var.allowed_values is not None:
        dv = DataValidation(type="list", formula1=_list_formula(book, values, var.name), allow_blank=True)
    elif var.type == "integer":
        low = var.minimum if var.minimum is not None else -WHOLE_LIMIT
        high = var.maximum if var.maximum is not None else WHOLE_LIMIT
        dv = DataValidation(type="whole", operator="between", formula1=str(low), formula2=str(high), allow_blank=True)
    else:
        dv = DataValidation(allow_blank=True)  # any value: the input message only
    prompt = ("Required. " if required(var) else "May be left empty. ") + (var.description or "").strip()
    if var.values:
        prompt += " Values: " + "; ".join(f"{c.value} = {c.label}" for c in var.values) + "."
    elif var.type == "binary":
        prompt += " Values: 1 = yes, 0 = no."
    dv.promptTitle, dv.prompt, dv.showInputMessage = _cut(var.label, TITLE_LIMIT), _cut(prompt, PROMPT_LIMIT), True
    if dv.type is not None:
        dv.errorTitle, dv.errorStyle, dv.showErrorMessage = _cut(var.label, TITLE_LIMIT), "stop", True
        dv.error = _cut(f"Expected {var.expected()}" + (f" or {', '.join(extra)}" if extra else "")
                        + ". See the codebook sheet.", ERROR_LIMIT)
    return dv


def _provenance_validation(field: ProvenanceField) -> DataValidation:
    if field.name == "_coded_on":
        dv = DataValidation(type="date", operator="between", formula1="1", formula2="2958465", allow_blank=True)
        dv.errorTitle, dv.error, dv.errorStyle, dv.showErrorMessage = "Date coded", "Expected a date, YYYY-MM-DD.", "stop", True
    else:
        dv = DataValidation(allow_blank=True)
    prompt = ("Required. " if field.required else "") + field.description
    dv.promptTitle, dv.prompt, dv.showInputMessage = _cut(field.label, TITLE_LIMIT), _cut(prompt, PROMPT_LIMIT), True
    return dv


def cases_sheet(book, codebook: Codebook, rows: list[dict[str, str]], blank_rows: int, coder: str = "",
                disputed: dict[tuple[int, str], str] | None = None):
    """The `cases` sheet: labels, names, `rows` (text by column name) and `blank_rows` empty ones to fill.
    `disputed`: the (row index, variable) cells left empty for a decision, shaded. Returns the sheet and the
    column letter of each column."""
    ws = book.create_sheet(CASES_SHEET, 0)
    columns: list[tuple[str, str, bool, PatternFill, DataValidation, str]] = []
    for var in codebook.variables:
        fmt = "General" if var.type == "integer" else "@"  # typed text stays text: 007 is not 7
        columns.append((var.name, var.label, required(var), REQUIRED_FILL if required(var) else OPTIONAL_FILL,
                        variable_validation(book, var), fmt))
    for field in PROVENANCE_FIELDS:
        columns.append((field.name, field.label, field.required, PROVENANCE_FILL, _provenance_validation(field),
                        "yyyy-mm-dd" if field.name == "_coded_on" else "@"))
    last = max(FIRST_ROW - 1 + len(rows) + blank_rows, FIRST_ROW)
    letters = {}
    for c, (name, label, needed, fill, dv, fmt) in enumerate(columns, start=1):
        letter = get_column_letter(c)
        letters[name] = letter
        head = _text(ws, LABEL_ROW, c, label, bold=needed)
        head.fill, head.alignment = fill, Alignment(wrap_text=True, vertical="bottom")
        _text(ws, NAME_ROW, c, name).font = NAME_FONT
        dv.add(f"{letter}{FIRST_ROW}:{letter}{last}")
        ws.add_data_validation(dv)
        ws.column_dimensions[letter].width = min(max(len(label), len(name), 10) + 2, 32)
        for r in range(FIRST_ROW, last + 1):
            ws.cell(row=r, column=c).number_format = fmt
    for i, row in enumerate(rows):
        r = FIRST_ROW + i
        for name, value in row.items():
            if name not in letters or value in (None, ""):
                continue
            cell = ws[f"{letters[name]}{r}"]
            if name == "_coded_on" and _date(value):
                cell.value = _date(value)
            elif name in codebook.coded_columns and codebook.variable(name).type == "integer":
                cell.value = int(value)
            else:
                _excel_text(cell, visible_text(value), "", False)
        for (index, name), _ in (disputed or {}).items():
            if index == i:
                ws[f"{letters[name]}{r}"].fill = DISPUTED_FILL
    if coder:
        for r in range(FIRST_ROW + len(rows), last + 1):
            _text(ws, r, len(codebook.variables) + [f.name for f in PROVENANCE_FIELDS].index("_coder") + 1, coder)
    ws.row_dimensions[LABEL_ROW].height = 32
    ws.freeze_panes = f"B{FIRST_ROW}"  # header rows and the case column stay in view
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{LABEL_ROW}:{NAME_ROW}"
    return ws, letters


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def codebook_sheet(book, codebook: Codebook) -> None:
    """Every variable with its label, type, whether required, what it takes, its values and definitions."""
    ws = book.create_sheet(CODEBOOK_SHEET)
    header = ["Variable", "Label", "Type", "Required", "Expected", "Values", "Description"]
    for c, text in enumerate(header, start=1):
        _text(ws, 1, c, text, bold=True)
    r = 1
    for var in codebook.variables:
        r += 1
        if var.values:
            values = "\n".join(f"{c.value} = {c.label}" + (f": {c.description}" if c.description else "") for c in var.values)
        else:
            values = "0 = no, 1 = yes" if var.type == "binary" else ""
        for c, text in enumerate([var.name, var.label, var.type, "yes" if required(var) else "no", var.expected(),
                                  values, " ".join((var.description or "").split())], start=1):
            _text(ws, r, c, text).alignment = Alignment(wrap_text=True, vertical="top")
    for field in PROVENANCE_FIELDS:
        r += 1
        for c, text in enumerate([field.name, field.label, "provenance", "yes" if field.required else "no",
                                  "a date, YYYY-MM-DD" if field.name == "_coded_on" else "text", "", field.description], start=1):
            _text(ws, r, c, text).alignment = Alignment(wrap_text=True, vertical="top")
    _text(ws, r + 2, 1, f"Study {codebook.study}: {codebook.title}. Generated from its codebook by casemeta; "
                        "the drop-downs of the cases sheet hold exactly these values.")
    for letter, width in zip("ABCDEFG", (24, 28, 11, 9, 30, 40, 60)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "B2"


def _book(codebook: Codebook, coder: str = "") -> Workbook:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = _cut(f"Coding form: {codebook.title}", 200)
    book.properties.creator = _cut(coder or "casemeta", 60)
    return book


def _save(book: Workbook, path: Path) -> Path:
    book.active = 0
    return atomic_io.atomic_write(path, lambda tmp: save_xlsx(book, tmp))


def write_form(codebook: Codebook, path: str | Path, n_cases: int = 10, coder: str = "") -> Path:
    """A blank coding form with `n_cases` rows to fill (the coder's name already in each, if given)."""
    book = _book(codebook, coder)
    cases_sheet(book, codebook, [], n_cases, coder)
    codebook_sheet(book, codebook)
    return _save(book, Path(path))


def write_consensus(codebook: Codebook, path: str | Path, rows: list[dict[str, str]],
                    disputes: pd.DataFrame, coders: list[str], agreement: pd.DataFrame, single: pd.DataFrame) -> Path:
    """The consensus workbook: agreed values in `cases` (disputed cells empty and shaded), one row per dispute
    with each coder's value and an empty decision cell in `disagreements`, the agreement statistics, and the
    cases only one coder coded.

    `disputes`: columns case_id, variable, row (index into `rows`) and one per coder."""
    book = _book(codebook)
    disputed = {(int(d.row), d.variable): "" for d in disputes.itertuples()}
    _, letters = cases_sheet(book, codebook, rows, 0, disputed=disputed)
    ws = book.create_sheet(DISAGREEMENTS_SHEET)
    header = ["Case", "Variable", "Label", *coders, DECISION_HEADER, "Cell"]
    for c, text in enumerate(header, start=1):
        _text(ws, 1, c, text, bold=True)
    decision_col = len(header) - 1
    decision_letter = get_column_letter(decision_col)
    validations: dict[str, DataValidation] = {}
    for r, (_, d) in enumerate(disputes.iterrows(), start=2):
        var = codebook.variable(d["variable"])
        values = [d["case_id"], var.name, var.label, *(d[c] for c in coders)]
        for c, text in enumerate(values, start=1):
            _text(ws, r, c, text)
        decision = ws.cell(row=r, column=decision_col)
        decision.fill, decision.number_format = DISPUTED_FILL, "General" if var.type == "integer" else "@"
        if var.name not in validations:
            validations[var.name] = variable_validation(book, var, [BLANK_DECISION] if not required(var) else [])
            ws.add_data_validation(validations[var.name])
        validations[var.name].add(decision.coordinate)
        target = f"{letters[var.name]}{FIRST_ROW + int(d['row'])}"
        link = _text(ws, r, decision_col + 1, f"{CASES_SHEET}!{target}")
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{CASES_SHEET}!{target}")  # within the workbook
        link.style = "Hyperlink"
    for c, text in enumerate(header, start=1):
        longest = max([len(str(text)), *(len(str(ws.cell(row=r, column=c).value or "")) for r in range(2, len(disputes) + 2))])
        ws.column_dimensions[get_column_letter(c)].width = min(max(longest + 2, 10), 32)
    ws.freeze_panes = "B2"
    _text(ws, len(disputes) + 3, 1, (f"Type each decision in column {decision_letter} (its drop-down holds the codebook's values"
                                     f"; {BLANK_DECISION} leaves a variable that may be missing empty), then: casemeta "
                                     f"reconcile --study {codebook.study} THIS_FILE --out agreed.csv"))
    _frame_sheet(book, AGREEMENT_SHEET, agreement)
    _frame_sheet(book, SINGLE_SHEET, single)
    codebook_sheet(book, codebook)
    return _save(book, Path(path))


def _frame_sheet(book, name: str, frame: pd.DataFrame) -> None:
    """A table as a sheet: header bold and frozen, numbers as numbers, text as text."""
    ws = book.create_sheet(name)
    for c, column in enumerate(frame.columns, start=1):
        _text(ws, 1, c, column, bold=True)
        ws.column_dimensions[get_column_letter(c)].width = max(12, min(len(str(column)) + 2, 40))
    for r, row in enumerate(frame.itertuples(index=False), start=2):
        for c, value in enumerate(row, start=1):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if pd.notna(value):
                    ws.cell(row=r, column=c).value = float(value) if isinstance(value, float) else int(value)
                    ws.cell(row=r, column=c).number_format = "0.000" if isinstance(value, float) else "0"
            else:
                _text(ws, r, c, value)
    ws.freeze_panes = "B2"
