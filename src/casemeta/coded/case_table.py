"""Read and write a coded-case CSV strictly and validate it, reporting every problem at once.

Every problem names the physical line of the file it is on (counting blank
lines and the lines inside multi-line quoted cells, as an editor does), and
every value that validation accepts is written so that it reads back byte for byte.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from casemeta.coded.codebook import Codebook
from casemeta.coded.schema import CONTROL_CHECK, CONTROL_CHARACTER, IDENTIFIER_PATTERN, cases_schema, pandera
from casemeta.errors import CasemetaError, file_error

HEADER_LINES = 1
# Whitespace trimmed from a cell before it is checked (" 1" from a spreadsheet
# is 1), except the control characters among Python's whitespace, which must
# stay visible to the control-character check: "Foo\r" is refused, not trimmed.
_NOT_TRIMMED = r"\r\x0b\x0c\x1c-\x1f\x85"
_TRIM = re.compile(rf"^[^\S{_NOT_TRIMMED}]+|[^\S{_NOT_TRIMMED}]+$")


@dataclass(frozen=True)
class Origin:
    """Where a row was read: its file and first physical line, or for a YAML template the line of each field,
    or for a workbook its sheet, row (`line`) and the column letter of each variable (`cells`)."""

    path: Path
    line: int | None = None
    field_lines: Mapping[str, int] | None = None
    sheet: str | None = None
    cells: Mapping[str, str] | None = None

    @property
    def noun(self) -> str:
        return "field" if self.field_lines is not None else "column"

    def where(self, column: str | None = None, case: str | None = None) -> str:
        if self.field_lines is not None:  # one case per template: the field's line says it all
            line = self.field_lines.get(column) if column else None
            return f"{self.path}" + (f": line {line}" if line else "") + (f", field {column!r}" if column else "")
        if self.sheet is not None:  # a workbook: the cell a spreadsheet names, e.g. cases!D4
            letter = (self.cells or {}).get(column) if column else None
            cell = f"{self.sheet}!{letter}{self.line}" if letter else f"{self.sheet}!{self.line}:{self.line}"
            return f"{self.path}: {cell}" + (f" (case {case!r})" if case else "") + (f", column {column!r}" if column else "")
        text = f"{self.path}: line {self.line}" + (f" (case {case!r})" if case else "")
        return text + (f", column {column!r}" if column else "")


def read_text(path: str | Path) -> str:
    """The file's text, refusing non-UTF-8 bytes with the line where they are."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CasemetaError(f"{path}: file not found") from None
    except OSError as exc:
        raise file_error(exc, "read", path) from exc
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
    """Parse CSV text already read from `path` (named in every error). Row i (of the RangeIndex) starts on
    physical line `physical_line(frame, i)` of the file, blank lines and multi-line cells counted."""
    frame, origins = read_rows(text, path, expected_columns, delimiter)
    frame.attrs[LINES] = origins.lines.tolist() if isinstance(origins, Lines) else [origin.line for origin in origins]
    return frame


LINES = "casemeta_lines"  # frame.attrs key: the physical line each row of a parsed CSV starts on


def physical_line(frame: pd.DataFrame, index: int) -> int:
    """The line of the file row `index` of a frame from parse_csv starts on (a frame made otherwise: index + 2)."""
    lines = frame.attrs.get(LINES)
    return lines[index] if lines is not None and 0 <= index < len(lines) else index + HEADER_LINES + 1


def _check_header(header_line: str, path: Path, expected_columns: list[str], delimiter: str) -> None:
    if len(expected_columns) > 1 and delimiter not in header_line:
        found = next((d for d in (";", "\t", "|", ",") if d != delimiter and d in header_line), None)
        hint = f"it looks separated by {found!r}" if found else "its header has a single column"
        raise CasemetaError(
            f"{path}: line 1: {hint}; expected {delimiter!r}-separated columns " + ", ".join(expected_columns)
        )


class Lines(Sequence):
    """Where each row of a plain CSV was read: its Origin, made when asked (a million rows need no million
    objects). A list where added to another sequence."""

    def __init__(self, path: Path, lines):
        self.path, self.lines = path, lines

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [Origin(self.path, int(line)) for line in self.lines[index]]
        return Origin(self.path, int(self.lines[index]))

    def __add__(self, other):
        return [*self, *other]

    def __radd__(self, other):
        return [*other, *self]


def _plain_rows(text: str, path: Path, delimiter: str) -> tuple[pd.DataFrame, Lines] | None:
    """The cells of a CSV with no quote, carriage return or NUL anywhere, no line longer than the csv module's
    cell limit, whose every non-blank line has the header's number of cells and whose header names each
    column once; None for any other file.

    Such a file is one row per non-blank line, so pandas' C reader reads it with the csv module's cells and
    the line numbers follow from the blank lines: a study grown to a million cases is read column by column
    instead of row by row in Python. Every other file (quoted cells, problems to report) goes through the
    csv module, which says on which line each record starts."""
    if '"' in text or "\r" in text or "\x00" in text:
        return None
    if len(delimiter) != 1 or not delimiter.isascii():
        return None
    encoded = text.encode("utf-8")
    data = np.frombuffer(encoded, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    if not len(ends) or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data))  # the last line has no line end
    starts = np.concatenate(([0], ends[:-1] + 1))
    header = text.split("\n", 1)[0].split(delimiter)
    # bytes, not characters, against the csv module's limit: a longer line (in characters) goes to the csv module
    if len(header) < 2 or len(set(header)) != len(header) or (ends - starts).max() > csv.field_size_limit():
        return None  # the csv module names what is wrong (an oversized cell among them)
    at = np.flatnonzero(data == ord(delimiter))
    separators = np.searchsorted(at, ends) - np.searchsorted(at, starts)  # on each line
    del at
    counts = np.where(ends > starts, separators, -1)  # -1: a blank line
    kept = counts[1:] >= 0  # a blank line holds no case
    if not (counts[1:][kept] == len(header) - 1).all():
        return None
    numbers = np.flatnonzero(kept) + 2  # line 1 is the header
    if not len(numbers):
        return pd.DataFrame(columns=header, dtype=str), Lines(path, numbers)
    del data
    frame = pd.read_csv(io.BytesIO(encoded), sep=delimiter, encoding="utf-8", header=None, skiprows=1, names=list(range(len(header))),
                        dtype=str, na_filter=False, quoting=csv.QUOTE_NONE, skip_blank_lines=True, engine="c")
    if len(frame) != len(numbers):  # not as counted (a line pandas reads as blank that the csv module would not)
        return None
    frame.columns = header
    return frame, Lines(path, numbers)


def read_rows(
    text: str, path: str | Path, expected_columns: list[str], delimiter: str = ","
) -> tuple[pd.DataFrame, Sequence[Origin]]:
    """Cells as text and, for each row, the physical line it starts on.

    The csv module rather than pandas reads the file because it tells on which
    line each record starts (pandas skips blank lines without saying so) and
    refuses malformed quoting instead of guessing; a file with no quote at all
    is read faster by pandas (_plain_rows), with the same cells and lines.
    """
    path = Path(path)
    if not text.strip():
        raise CasemetaError(
            f"{path}: the file is empty; expected a header line with the columns " + ", ".join(expected_columns)
        )
    _check_header(text.split("\n", 1)[0], path, expected_columns, delimiter)
    plain = _plain_rows(text, path, delimiter)
    if plain is not None:
        return plain
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    rows, origins, problems = [], [], []
    start = 1
    try:
        header = next(reader)
        start = reader.line_num + 1
        for row in reader:
            if row and len(row) != len(header):
                problems.append(
                    f"{path}: line {start}: {len(row)} cell(s); expected {len(header)} as in the header "
                    f"(check the {delimiter!r} separators and quotes on that line)")
            elif row:  # a blank line holds no case
                rows.append(row)
                origins.append(Origin(path, start))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise CasemetaError(
                f"{path}: line {start}: a cell holds more than {csv.field_size_limit():,} characters; expected cells "
                "of ordinary text (an unclosed quote makes the rest of the file one cell: check the quotes on that "
                "line)") from None
        raise CasemetaError(
            f"{path}: line {start}: not a well-formed CSV ({exc}); check the quotes on that line") from None
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems[:0] = [f"{path}: line 1: column {c!r} appears more than once in the header" for c in repeated]
    if problems:
        raise CasemetaError(f"{path}: {len(problems)} line(s) do not fit the table", problems)
    return pd.DataFrame(rows, columns=header, dtype=str), origins


def csv_text(frame: pd.DataFrame, columns: list[str], path: str | Path, header: bool = True) -> str:
    """The rows as CSV text ('\\n' line ends), checked to read back cell for cell.

    The csv module quotes a field only for the delimiter, quotes and the
    characters of its line terminator ("\\n"): a bare "\\r" would be written
    unquoted and read back as a line break, so rows holding one are quoted in full.
    """
    rows = frame[columns].fillna("").astype(str).values.tolist()
    buffer = io.StringIO()
    minimal = csv.writer(buffer, lineterminator="\n")
    quote_all = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    minimal.writerow(columns)
    header_text = buffer.getvalue()
    for row in rows:
        (quote_all if any("\r" in cell for cell in row) else minimal).writerow(row)
    text = buffer.getvalue()
    back = read_rows(text, path, columns)[0]
    for (i, row), read in zip(enumerate(rows), back.values.tolist()):
        for column, cell, again in zip(columns, row, read):
            if cell != again:
                raise CasemetaError(f"{path}: row {i + 1}, column {column!r}: value {cell!r} would not read back "
                                    "the same from the CSV file; nothing was written")
    if len(back) != len(rows):
        raise CasemetaError(f"{path}: {len(rows)} row(s) would read back as {len(back)}; nothing was written")
    return text if header else text[len(header_text):]


def _trim(value: str):
    return _TRIM.sub("", value)


def _header_problem(check: str, column: str, origins: list[Origin], codebook: Codebook, path: Path) -> str:
    first = origins[0] if origins else Origin(path, 1)
    if check == "column_in_dataframe":
        return (f"{path}: {first.noun} {column!r} is missing; the codebook requires it "
                f"({codebook.variable(column).expected()})")
    where = first.where(column) if first.field_lines is not None else f"{path}: line 1, column {column!r}"
    return f"{where}: not in the codebook; expected only " + ", ".join(codebook.coded_columns)


def _describe(row, frame: pd.DataFrame, origins: list[Origin], codebook: Codebook, path: Path) -> str:
    column, check, value = row.column, str(row.check), row.failure_case
    if check in ("column_in_dataframe", "column_in_schema"):
        return _header_problem(check, value, origins, codebook, path)
    index = int(row.index)
    id_col = codebook.id_column
    case = frame.at[index, id_col] if id_col in frame.columns else None
    where = origins[index].where(column, case if isinstance(case, str) and case else None)
    var = codebook.variable(column)
    if check == CONTROL_CHECK:
        char = CONTROL_CHARACTER.search(value).group()
        return (f"{where}: value {value!r} holds the control character U+{ord(char):04X}; expected "
                "text without control characters other than tab and newline (retype the cell)")
    if check == "field_uniqueness":
        return f"{where}: value {value!r} is used by more than one case; expected a unique {column}"
    if check == "not_nullable":
        return f"{where}: the cell is empty; expected {var.expected()}"
    return f"{where}: value {value!r} is not allowed; expected {var.expected()}"


def _failures(cases: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The schema's failure cases in file and codebook order; a cell with a control character is named once, for that."""
    control = cases[cases["check"].astype(str) == CONTROL_CHECK]
    marked = set(zip(control["index"], control["column"]))
    keep = [str(c) == CONTROL_CHECK or (i, col) not in marked
            for i, col, c in zip(cases["index"], cases["column"], cases["check"])]
    cases = cases[keep]
    order = {c: i for i, c in enumerate(codebook.coded_columns)}
    row = pd.to_numeric(cases["index"], errors="coerce")
    # a problem with the header names its column as the failure case
    column = [order.get(col if pd.notna(i) else case, -1) for i, col, case in zip(row, cases["column"], cases["failure_case"])]
    return cases.assign(_row=row, _column=column).sort_values(["_row", "_column"], na_position="first", kind="stable")


def _distinct(column: pd.Series, missing_codes: set) -> tuple[np.ndarray, pd.Series]:
    """The column as codes into its distinct cells, each trimmed, or None for a missing-value code.

    A coded column holds a few distinct values (0 and 1, a handful of categories) however many cases there
    are: trimming and checking each distinct value once, and the cells by a hash lookup (pandas.factorize),
    is what lets a million cases validate in seconds instead of minutes."""
    def clean(cell: str):
        bare = cell.strip()
        return None if bare in missing_codes else cell if bare == cell else _trim(cell)  # nothing to trim: no regex

    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes, pd.Series(uniques, dtype=column.dtype).map(clean)


def _spread(cases: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Failure cases found among a column's distinct values, once for every row holding that value."""
    at = cases["index"]
    if at.isna().all():
        return cases
    rows = [np.flatnonzero(codes == k) if pd.notna(k) else np.array([None]) for k in at]
    spread = cases.iloc[np.repeat(np.arange(len(cases)), [len(r) for r in rows])].copy()
    spread["index"] = np.concatenate(rows) if rows else []
    return spread


def validate_cases(
    frame: pd.DataFrame, codebook: Codebook, source: str | Path, origins: Sequence[Origin] | None = None
) -> pd.DataFrame:
    """Validate text cells against the codebook; return typed columns in codebook order.

    `origins` says where each row was read (default: row i on line i + 2 of `source`).
    """
    pa = pandera()  # here, not at the top: a step that reads validated results does not load pandera

    path = Path(source)
    frame = frame.reset_index(drop=True)
    if origins is None:
        origins = Lines(path, np.arange(len(frame)) + HEADER_LINES + 1)
    missing_codes = set(codebook.missing_values)
    schema = cases_schema(codebook)
    distinct = {column: _distinct(frame[column], missing_codes) for column in frame.columns}
    frame = pd.DataFrame({column: pd.Series(values.array.take(codes)) for column, (codes, values) in distinct.items()},
                         index=frame.index, columns=frame.columns)
    failures = []
    header = pa.DataFrameSchema({name: pa.Column(required=True) for name in schema.columns}, strict=True)
    try:  # the header: every codebook column there, and no other (the cells are checked column by column below)
        header.validate(frame.iloc[:0], lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures.append(exc.failure_cases)
    for column, (codes, values) in distinct.items():
        if column not in schema.columns:
            continue
        whole = schema.columns[column].unique  # identifiers are checked in full: each must be unique
        try:
            pa.DataFrameSchema({column: schema.columns[column]}).validate(
                frame[[column]] if whole else values.to_frame(column), lazy=True)
        except pa.errors.SchemaErrors as exc:
            failures.append(exc.failure_cases if whole else _spread(exc.failure_cases, codes))
    if failures:
        cases = _failures(pd.concat(failures, ignore_index=True), codebook)
        problems = list(dict.fromkeys(_describe(r, frame, origins, codebook, path) for r in cases.itertuples()))
        raise CasemetaError(f"{path}: {len(problems)} problem(s) against the codebook {codebook.path}", problems)
    out = frame[codebook.coded_columns].copy()
    for var in codebook.variables:
        if var.whole_numbers:
            codes, values = distinct[var.name]
            out[var.name] = pd.Series(pd.to_numeric(values).astype("Int64").array.take(codes), index=out.index)
    return out


def read_cases(path: str | Path, codebook: Codebook) -> tuple[pd.DataFrame, list[Origin]]:
    """A coded-case file's cells as text, with where each row starts."""
    return read_rows(read_text(path), path, codebook.coded_columns)


def load_cases(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read and validate a study's coded cases (an empty table with a header is valid)."""
    frame, origins = read_cases(path, codebook)
    return validate_cases(frame, codebook, path, origins)


def read_typed(path: str | Path, codebook: Codebook, derived: bool = False) -> pd.DataFrame:
    """A file casemeta wrote from validated cases (validate's copy, or with `derived` the derived cases), read
    with the codebook's types and not validated cell by cell again: binary and integer columns as Int64,
    others as text.

    pandas' C reader, not the csv module: these files are results, not a coder's typing, so no line numbers
    are needed, and validating them again cost as much as the first validation. A file that is not as that
    step wrote it (edited by hand, cut short, from an older codebook) is refused, by vectorised checks of its
    shape and values, with a pointer to the step that writes it.
    """
    variables = [*codebook.variables, *(codebook.derived if derived else [])]
    names = [v.name for v in variables]
    step = "derive" if derived else "validate"

    def refuse(why: str) -> CasemetaError:
        return CasemetaError(f"{path}: not as `casemeta {step}` writes it ({why}); run that step again")

    try:
        frame = pd.read_csv(path, dtype={v.name: "Int64" if v.whole_numbers else str for v in variables},
                            keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise CasemetaError(f"{path}: file not found; it is written by `casemeta {step}`") from None
    except (ValueError, OverflowError, pd.errors.ParserError) as exc:
        raise refuse(str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise file_error(exc, "read", path) from exc
    if list(frame.columns) != names:
        raise CasemetaError(f"{path}: columns {', '.join(map(str, frame.columns))}; expected those of the codebook "
                            f"{codebook.path}: {', '.join(names)} (run `casemeta {step}` again)")
    if not isinstance(frame.index, pd.RangeIndex):  # more cells than columns: pandas took the first for an index
        raise refuse("its rows have more cells than its header has columns")
    for var in variables:
        problem = _typed_problem(frame, var, codebook, coded=var in codebook.variables)
        if problem:
            raise refuse(problem)
    return frame


def undeclared(values: pd.Series, var) -> pd.Series:
    """Which typed values (missing ones aside) the variable's codebook entry does not allow: not among its
    values (0 and 1 for a binary), or outside its minimum/maximum. Serves derive, for the values it makes,
    and read_typed, for the files the steps pass on."""
    if var.type == "binary":
        bad = ~values.isin([0, 1])
    elif var.allowed_values is not None:
        bad = ~values.isin(var.allowed_values)
    elif var.type == "integer":
        numbers = pd.to_numeric(values, errors="coerce")
        bad = (numbers < var.minimum if var.minimum is not None else False) | \
              (numbers > var.maximum if var.maximum is not None else False)
    else:
        return pd.Series(False, index=values.index)
    return (values.notna() & bad).fillna(False).astype(bool)


# every identifier of a column at once, joined by newlines (which IDENTIFIER_PATTERN does not allow inside one)
_ONE_IDENTIFIER = IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$")
_IDENTIFIER_LINES = re.compile(rf"{_ONE_IDENTIFIER}(?:\n{_ONE_IDENTIFIER})*")


def not_identifiers(column: pd.Series) -> pd.Series:
    """Which values are not identifiers (IDENTIFIER_PATTERN; missing ones count as not). Where all are, as in every
    file a step wrote, one regular-expression pass over the joined column says so: pandas' str.fullmatch calls
    Python once per value (0.5 s per million cases)."""
    present = column.dropna()
    joined = "\n".join(present.astype(str).to_numpy(dtype=object))  # not the Series: iterating it costs 0.8 s per million
    if len(present) == len(column) and joined.count("\n") == len(present) - 1 and _IDENTIFIER_LINES.fullmatch(joined):
        return pd.Series(False, index=column.index)
    return ~column.str.fullmatch(IDENTIFIER_PATTERN).fillna(False).astype(bool)


def _typed_problem(frame: pd.DataFrame, var, codebook: Codebook, coded: bool) -> str:
    """What in a typed column the codebook does not allow (first case only), or ""."""
    column = frame[var.name]
    missing = column.isna()
    bad = undeclared(column, var)
    if coded and not (var.nullable and var.type != "identifier"):
        bad |= missing  # derived values may be missing wherever a code they come from is
    if var.type == "identifier":
        bad |= ~missing & (column.duplicated(keep=False) | not_identifiers(column))
    if not bad.any():
        return ""
    first = int(bad.to_numpy().argmax())
    value = column.iloc[first]
    case = frame[codebook.id_column].iloc[first]
    shown = "an empty cell" if pd.isna(value) else f"value {value!r}" if isinstance(value, str) else f"value {value}"
    return f"case {case!r}, column {var.name!r}: {shown}; expected {var.expected()}"
