"""Spreadsheet coding forms: their layout, and reading a filled one back as text cells.

The form is written by casemeta.publish.coding_forms from the codebook; this
module is the reading side, in the coded layer so that `add-case` reads a
workbook with exactly the checks it gives a CSV. Every cell is read as the text
it shows (1 typed in a cell is "1", never 1.0), and every problem names the
sheet and cell (`cases!D4`). The workbook is only ever read.

Layout of the `cases` sheet: row 1 the codebook labels, row 2 the variable
names (what the reader goes by), cases from row 3; the variables' columns, then
the provenance columns, whose names start with `_` so that no codebook variable
(names start with a letter) can take them.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from casemeta.coded.case_table import Origin
from casemeta.coded.codebook import Codebook
from casemeta.coded.schema import CONTROL_CHARACTER
from casemeta.errors import CasemetaError, file_error

CASES_SHEET = "cases"
CODEBOOK_SHEET = "codebook"
LABEL_ROW, NAME_ROW, FIRST_ROW = 1, 2, 3
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class ProvenanceField:
    name: str  # in row 2 of the form and in a reconciled CSV's header
    label: str
    description: str
    required: bool = False


PROVENANCE_FIELDS = (
    ProvenanceField("_source", "Source (citation)", "The publication the case was coded from: authors, year, title.", True),
    ProvenanceField("_pages", "Pages", "Pages (or table, section) of the source the codes rest on, e.g. 12-15."),
    ProvenanceField("_coder", "Coder", "Who coded this case (several, separated by ';', for a consensus).", True),
    ProvenanceField("_coded_on", "Date coded", "The day the case was coded, as YYYY-MM-DD."),
)
CONSENSUS_FIELD = "_consensus"  # only in a reconciled file: "yes" where the row is the coders' consensus
PROVENANCE_NAMES = [f.name for f in PROVENANCE_FIELDS]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_workbook(path: str | Path) -> bool:
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def open_workbook(path: str | Path):
    """The workbook, read only into memory (the file is never written), or a clear error."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if not path.is_file():
        raise CasemetaError(f"{path}: file not found")
    try:
        return load_workbook(path, data_only=False)
    except OSError as exc:
        raise file_error(exc, "read", path) from exc
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError) as exc:
        raise CasemetaError(f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc}); save it again "
                            "as an Excel workbook (.xlsx)") from None


def sheet_of(book, name: str, path: Path):
    if name not in book.sheetnames:
        raise CasemetaError(f"{path}: no sheet {name!r} (sheets: {', '.join(book.sheetnames)}); expected a coding form "
                            "as `casemeta new-case --format xlsx` writes it")
    return book[name]


def cell_text(cell) -> tuple[str, str | None]:
    """(the text a cell shows, or a problem with it). Whole numbers read as whole numbers; a date as YYYY-MM-DD."""
    value = cell.value
    if cell.data_type == "f":
        return "", f"holds a formula ({value}); expected the value itself, typed"
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)), None
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")), None
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat(), None
    return str(value), None


@dataclass
class SheetRows:
    """The filled rows of a form's `cases` sheet: the codebook columns and provenance columns as text, where each
    row is, and the workbook itself (for other sheets)."""
    frame: pd.DataFrame
    origins: list[Origin]
    provenance: pd.DataFrame
    letters: dict[str, str]
    book: object


def read_cases_sheet(path: str | Path, codebook: Codebook, sheet: str = CASES_SHEET, keep_empty: bool = False,
                     extra: tuple[str, ...] = ()) -> SheetRows:
    """The `cases` sheet's rows as text, every codebook column present. Rows with no code in any variable's column
    are template rows not filled in: left out (unless `keep_empty`). Problems of the sheet's shape (a variable's
    column missing, an unknown name in row 2, a formula) are all reported at once, each with its cell."""
    from openpyxl.utils import get_column_letter

    path = Path(path)
    book = open_workbook(path)
    ws = sheet_of(book, sheet, path)
    known = {*codebook.coded_columns, *PROVENANCE_NAMES, CONSENSUS_FIELD, *extra}
    letters: dict[str, str] = {}
    problems = []
    for col in range(1, ws.max_column + 1):
        letter = get_column_letter(col)
        name, problem = cell_text(ws.cell(row=NAME_ROW, column=col))
        name = name.strip()
        if problem:
            problems.append(f"{path}: {sheet}!{letter}{NAME_ROW}: {problem}")
        elif not name:
            continue
        elif name not in known:
            problems.append(f"{path}: {sheet}!{letter}{NAME_ROW}: {name!r} is not a variable of the codebook "
                            f"{codebook.path}; row {NAME_ROW} holds the variable names: expected only "
                            + ", ".join([*codebook.coded_columns, *PROVENANCE_NAMES]))
        elif name in letters:
            problems.append(f"{path}: {sheet}!{letter}{NAME_ROW}: {name!r} appears twice in row {NAME_ROW} "
                            f"(first in {sheet}!{letters[name]}{NAME_ROW}); keep one")
        else:
            letters[name] = letter
    for name in codebook.coded_columns:
        if name not in letters:
            problems.append(f"{path}: {sheet}!{NAME_ROW}:{NAME_ROW}: no column named {name!r} in row {NAME_ROW}; the "
                            f"codebook requires it ({codebook.variable(name).expected()})")
    if problems:
        raise CasemetaError(f"{path}: {len(problems)} problem(s) with the sheet {sheet!r}", problems)
    columns = {name: ws[letter] for name, letter in letters.items()}  # whole columns, header rows included
    rows, origins = [], []
    for r in range(FIRST_ROW, ws.max_row + 1):
        row = {}
        for name, letter in letters.items():
            cells = columns[name]
            cell = cells[r - 1] if r - 1 < len(cells) else None
            text, problem = cell_text(cell) if cell is not None else ("", None)
            if problem:
                problems.append(f"{path}: {sheet}!{letter}{r}, column {name!r}: the cell {problem}")
            row[name] = text
        if keep_empty or any(row[n].strip() for n in codebook.coded_columns):
            rows.append(row)
            origins.append(Origin(path, r, sheet=sheet, cells=dict(letters)))
    if problems:
        raise CasemetaError(f"{path}: {len(problems)} problem(s) with the sheet {sheet!r}", problems)
    frame = pd.DataFrame(rows, columns=list(letters), dtype=str)
    coded = frame[codebook.coded_columns] if len(frame) else pd.DataFrame(columns=codebook.coded_columns, dtype=str)
    prov_cols = [n for n in letters if n not in codebook.coded_columns]
    return SheetRows(coded.reset_index(drop=True), origins, frame[prov_cols].reset_index(drop=True), letters, book)


def provenance_problems(provenance: pd.DataFrame, origins: list[Origin], cases: pd.Series,
                        required: bool = True) -> list[str]:
    """What is wrong with the provenance cells of the rows: a required one empty, a date not YYYY-MM-DD, a
    control character; each named by its cell."""
    problems = []
    for i, origin in enumerate(origins):
        case = cases.iloc[i].strip() or None
        for field in PROVENANCE_FIELDS:
            if field.name not in provenance.columns:
                if required and field.required and i == 0:
                    problems.append(f"{origin.path}: no column named {field.name!r} ({field.label}); a coding form "
                                    "records the source and the coder of every case")
                continue
            value = provenance.at[i, field.name].strip()
            where = origin.where(field.name, case)
            if required and field.required and not value:
                problems.append(f"{where}: the cell is empty; expected {field.label.lower()}: {field.description}")
            elif CONTROL_CHARACTER.search(value):
                char = CONTROL_CHARACTER.search(value).group()
                problems.append(f"{where}: value {value!r} holds the control character U+{ord(char):04X}; expected "
                                "text without control characters other than tab and newline (retype the cell)")
            elif field.name == "_coded_on" and value and not _is_date(value):
                problems.append(f"{where}: value {value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-12-07")
    return problems


def _is_date(text: str) -> bool:
    if not DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
