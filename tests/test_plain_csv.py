"""A CSV with no quote at all is read by pandas' C reader (case_table._plain_rows): the same cells and line
numbers as the csv module gives, and every problem still reported by the csv module's path. Validation
checks each column's distinct values once and reports every row holding a bad one."""

import string

import pytest
from hypothesis import given, strategies as st

from casemeta.coded import case_table
from casemeta.coded.case_table import read_rows, validate_cases
from casemeta.errors import CasemetaError

COLUMNS = ["x", "y", "z"]
# separators, blank lines, whitespace and the characters str.splitlines (but not a CSV) takes for line ends
PIECES = st.sampled_from([",", "\n", "\n\n", " ", "\t", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "é", "a", "1", "#", "NA", "'"])


def by_csv_module(text):
    plain, case_table._plain_rows = case_table._plain_rows, lambda *a: None
    try:
        return read_rows(text, "f.csv", COLUMNS)
    finally:
        case_table._plain_rows = plain


@given(st.lists(PIECES, max_size=30).map("".join))
def test_plain_files_read_as_the_csv_module_reads_them(body):
    text = "x,y,z\n" + body
    plain = case_table._plain_rows(text, case_table.Path("f.csv"), ",")
    if plain is None:  # not plain (quotes, rows of other lengths ...): the csv module reads it
        return
    frame, origins = by_csv_module(text)
    assert plain[0].equals(frame) and plain[0].dtypes.equals(frame.dtypes)
    assert [o.line for o in plain[1]] == [o.line for o in origins]


def test_line_numbers_count_blank_lines():
    frame, origins = read_rows("x,y,z\n\na,b,c\n\n\nd,e,f", "f.csv", COLUMNS)
    assert frame.values.tolist() == [["a", "b", "c"], ["d", "e", "f"]]
    assert [o.line for o in origins] == [3, 6]  # counted by hand
    assert origins + [] == [origins[0], origins[1]] and origins[-1].where("y") == "f.csv: line 6, column 'y'"


@pytest.mark.parametrize("text, why", [
    ("x,y,z\na,b\n", "line 2: 2 cell(s); expected 3"),
    ("x,y,x\na,b,c\n", "column 'x' appears more than once"),
    ("x,y,z\na,\"b\nc\",d\ne,f\n", "line 4: 2 cell(s); expected 3"),  # quoted: the csv module, lines counted
    ("x,y,z\n" + "a" * (case_table.csv.field_size_limit() + 1) + ",b,c\n", "line 2: a cell holds more than"),
], ids=["short row", "repeated column", "quoted", "oversized cell"])
def test_files_that_are_not_plain_get_the_csv_module_errors(text, why):
    with pytest.raises(CasemetaError) as raised:
        read_rows(text, "f.csv", COLUMNS)
    assert why in str(raised.value) + " ".join(raised.value.problems)


def test_a_bad_value_is_reported_on_every_row_that_holds_it(project):
    from casemeta.study import Study

    study = Study(project, "african_clusters")
    lines = study.cases_path.read_text(encoding="utf-8").splitlines()
    growth = lines[0].split(",").index("growth")
    for number in (3, 7):  # file lines 3 and 7: the same bad value twice, and a padded good one on line 5
        cells = lines[number - 1].split(",")
        cells[growth] = "yes"
        lines[number - 1] = ",".join(cells)
    cells = lines[4].split(",")
    cells[growth] = f" {cells[growth]} "
    lines[4] = ",".join(cells)
    frame, origins = read_rows("\n".join(lines) + "\n", study.cases_path, study.codebook().coded_columns)
    with pytest.raises(CasemetaError) as raised:
        validate_cases(frame, study.codebook(), study.cases_path, origins)
    problems = raised.value.problems
    assert len(problems) == 2 and ": line 3 (case " in problems[0] and ": line 7 (case " in problems[1]
    assert all("column 'growth': value 'yes' is not allowed; expected one of 0, 1" in p for p in problems)
    frame.loc[[1, 5], "growth"] = "1"
    typed = validate_cases(frame, study.codebook(), study.cases_path, origins)
    assert str(typed["growth"].dtype) == "Int64" and typed["growth"].iloc[3] == int(lines[4].split(",")[growth].strip())


@given(st.lists(st.one_of(st.none(), st.text(alphabet="az09_A-\n ", max_size=4)), max_size=12))
def test_identifiers_checked_at_once_as_one_by_one(values):
    """not_identifiers joins a column for one regular-expression pass: the same verdict as matching each value
    on its own, with newlines, capitals, blanks and missing values among them."""
    import re

    import pandas as pd

    from casemeta.coded.case_table import not_identifiers
    from casemeta.coded.schema import IDENTIFIER_PATTERN

    column = pd.Series(values, dtype="string")
    expected = [v is None or re.fullmatch(IDENTIFIER_PATTERN, v) is None for v in values]
    assert not_identifiers(column).tolist() == expected
