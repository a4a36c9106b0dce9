"""Read a coded-case CSV strictly and validate it, reporting every problem at once."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from casemeta.coded.codebook import Codebook
from casemeta.errors import CasemetaError
from casemeta.coded.schema import cases_schema

HEADER_LINES = 1


def read_text(path: str | Path) -> str:
    """The file's text, refusing non-UTF-8 bytes with the line where they are."""
    path = Path(path)
    if not path.is_file():
        raise CasemetaError(f"{path}: file not found")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.end].hex(" ")
        raise CasemetaError(
            f"{path}: line {line}: bytes {bad} are not UTF-8; expected a UTF-8 encoded CSV "
            "(re-save the file as 'CSV UTF-8')"
        ) from exc


def read_csv_strict(path: str | Path, expected_columns: list[str], delimiter: str = ",") -> pd.DataFrame:
    """Every cell as text (nothing converted, nothing guessed), or a clear error."""
    return parse_csv(read_text(path), path, expected_columns, delimiter)


def parse_csv(text: str, path: str | Path, expected_columns: list[str], delimiter: str = ",") -> pd.DataFrame:
    """Parse CSV text already read from `path` (named in every error)."""
    path = Path(path)
    if not text.strip():
        raise CasemetaError(
            f"{path}: the file is empty; expected a header line with the columns "
            + ", ".join(expected_columns)
        )
    header = text.splitlines()[0]
    if len(expected_columns) > 1 and delimiter not in header:
        found = next((d for d in (";", "\t", "|", ",") if d != delimiter and d in header), None)
        hint = f"it looks separated by {found!r}" if found else "its header has a single column"
        raise CasemetaError(
            f"{path}: line 1: {hint}; expected {delimiter!r}-separated columns "
            + ", ".join(expected_columns)
        )
    try:
        return pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise CasemetaError(f"{path}: not a well-formed CSV: {exc}") from exc


def _describe(row, frame: pd.DataFrame, codebook: Codebook, path: Path) -> str:
    column, check, value, index = row.column, str(row.check), row.failure_case, row.index
    if check == "column_in_dataframe":
        return f"{path}: column {value!r} is missing; the codebook requires it ({codebook.variable(value).expected()})"
    if check == "column_in_schema":
        return f"{path}: column {value!r} is not in the codebook; expected only " + ", ".join(codebook.coded_columns)
    line = int(index) + HEADER_LINES + 1
    id_col = codebook.id_column
    case = frame.at[index, id_col] if id_col in frame.columns else None
    where = f"{path}: line {line}" + (f" (case {case!r})" if isinstance(case, str) and case else "")
    var = codebook.variable(column)
    if check == "field_uniqueness":
        return f"{where}, column {column!r}: value {value!r} is used by more than one case; expected a unique {column}"
    if check == "not_nullable":
        return f"{where}, column {column!r}: the cell is empty; expected {var.expected()}"
    return f"{where}, column {column!r}: value {value!r} is not allowed; expected {var.expected()}"


def _typed(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    out = frame[codebook.coded_columns].copy()
    for var in codebook.variables:
        if var.type in ("binary", "integer"):
            out[var.name] = pd.to_numeric(out[var.name]).astype("Int64")
    return out


def validate_cases(frame: pd.DataFrame, codebook: Codebook, source: str | Path) -> pd.DataFrame:
    """Validate text cells against the codebook; return typed columns in codebook order."""
    path = Path(source)
    frame = frame.copy()
    missing_codes = set(codebook.missing_values)
    for column in frame.columns:
        frame[column] = frame[column].map(lambda x: None if x.strip() in missing_codes else x.strip())
    try:
        cases_schema(codebook).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.sort_values("index", key=lambda s: pd.to_numeric(s, errors="coerce"), na_position="first")
        problems = list(dict.fromkeys(_describe(r, frame, codebook, path) for r in cases.itertuples()))
        raise CasemetaError(f"{path}: {len(problems)} problem(s) against the codebook {codebook.path}", problems) from None
    return _typed(frame, codebook)


def load_cases(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read and validate a study's coded cases (an empty table with a header is valid)."""
    return validate_cases(read_csv_strict(path, codebook.coded_columns), codebook, path)
