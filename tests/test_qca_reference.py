"""casemeta's QCA against R QCA 3.23 on Lipset's data (tests/data/reference/qca_lipset_*).

The expected values are read from R's printed output (qca_lipset_R_QCA_3.23.txt), never recomputed:
the truth tables, the terms of each solution with inclS, PRI, covS, covU and cases, and the necessity
table, within 1e-3 (R prints three decimals).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from casemeta.stats.qca import MODEL_ROW, Cuts, QcaSpec, run_qca
from conftest import REFERENCE

CONDITIONS = ["DEV", "URB", "LIT", "IND", "STB"]
ALL_PRESENT = {c: 1 for c in CONDITIONS}  # dir.exp = c(DEV, URB, LIT, IND, STB)
TT_LINE = re.compile(r"^\s*\d+\s+((?:[01]\s+){5})(\d|C|\?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s*$")
# "1  DEV*~URB*LIT*STB  1.000  1.000  0.500  0.250  FI,IE; FR,SE" or "M1  1.000  1.000  1.000"
TERM_LINE = re.compile(r"^\s*(\d+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+|-)\s*(.*?)\s*$")
MODEL_LINE = re.compile(r"^\s*M\d+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")
NEC_LINE = re.compile(r"^\s*\d+\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def sections() -> dict[str, str]:
    text = (REFERENCE / "qca_lipset_R_QCA_3.23.txt").read_text()
    parts = re.split(r"^== (.*)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def r_truth_table(text: str) -> pd.DataFrame:
    rows = []
    for line in text.splitlines():
        if m := TT_LINE.match(line):
            rows.append([*map(int, m[1].split()), m[2], int(m[3]), float(m[4]), float(m[5]), m[6]])
    return pd.DataFrame(rows, columns=[*CONDITIONS, "OUT", "n", "incl", "PRI", "cases"])


def r_solution(text: str) -> pd.DataFrame:
    """One model's rows: its terms, then the (model) row."""
    rows = []
    for line in text.splitlines():
        if m := MODEL_LINE.match(line):
            rows.append([MODEL_ROW, *map(float, m.groups()), None, None])
        elif (m := TERM_LINE.match(line)) and "*" in m[2] or (m and m[2].lstrip("~").isalpha()):
            covu = None if m[6] == "-" else float(m[6])
            rows.append([m[2], float(m[3]), float(m[4]), float(m[5]), covu, m[7] or None])
    return pd.DataFrame(rows, columns=["term", "inclS", "PRI", "covS", "covU", "cases"])


def lipset(kind: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"qca_lipset_{kind}.csv").set_index("case")


def ours(result, solution: str) -> pd.DataFrame:
    rows = result.solutions[result.solutions["solution"] == solution]
    assert set(rows["model"]) == {1}, "R found one model for every solution of Lipset's data"
    return rows.reset_index(drop=True)


def assert_solution_equal(got: pd.DataFrame, expected: pd.DataFrame, with_cases: bool = True):
    assert list(got["term"]) == list(expected["term"])
    for column in ["inclS", "PRI", "covS", "covU"]:
        known = expected[column].notna()  # R prints "-" for the covU of a model's only term, and none for a model
        assert got.loc[known, column].to_numpy() == pytest.approx(expected.loc[known, column].to_numpy(), abs=1e-3), column
    if with_cases:
        terms = expected["cases"].notna()
        assert list(got.loc[terms, "cases"]) == list(expected.loc[terms, "cases"])


def assert_truth_table_equal(got: pd.DataFrame, expected: pd.DataFrame):
    assert got[[*CONDITIONS, "OUT", "n", "cases"]].astype(str).values.tolist() == \
        expected[[*CONDITIONS, "OUT", "n", "cases"]].astype(str).values.tolist()
    assert got[["incl", "PRI"]].to_numpy() == pytest.approx(expected[["incl", "PRI"]].to_numpy(), abs=1e-3)


@pytest.fixture(scope="module")
def crisp():
    return run_qca(lipset("lc"), QcaSpec("SURV", CONDITIONS, Cuts(incl=1), ALL_PRESENT, superset=True))


@pytest.fixture(scope="module")
def fuzzy():
    return run_qca(lipset("lf"), QcaSpec("SURV", CONDITIONS, Cuts(incl=0.8), ALL_PRESENT))


def test_crisp_truth_table_equals_r(crisp):
    assert_truth_table_equal(crisp.truth_table, r_truth_table(sections()["crisp (LC), truthTable(LC, outcome = \"SURV\", incl.cut = 1, complete = FALSE, show.cases = TRUE)"]))
    assert crisp.remainders == 32 - 9


@pytest.mark.parametrize("solution, section", [
    ("conservative", "conservative"),
    ("parsimonious", "parsimonious"),
    ("intermediate", "intermediate (dir.exp all present)"),
])
def test_crisp_solutions_equal_r(crisp, solution, section):
    assert_solution_equal(ours(crisp, solution), r_solution(sections()[section]))


def test_crisp_negated_outcome_parsimonious_equals_r():
    result = run_qca(lipset("lc"), QcaSpec("SURV", CONDITIONS, Cuts(incl=1), negate=True))
    assert_solution_equal(ours(result, "parsimonious"), r_solution(sections()["negated outcome parsimonious"]), with_cases=False)


def test_crisp_superset_necessity_equals_r(crisp):
    expected = [NEC_LINE.match(line).groups() for line in sections()["necessity"].splitlines() if NEC_LINE.match(line)]
    assert list(crisp.necessity["condition"]) == [e[0] for e in expected]
    assert crisp.necessity[["inclN", "RoN", "covN"]].to_numpy() == pytest.approx(np.array([[float(v) for v in e[1:]] for e in expected]), abs=1e-3)


def test_single_condition_necessity_rows_equal_r_superset_rows():
    """The plain necessity table (each condition and its negation) has R's values for DEV, LIT and STB."""
    table = run_qca(lipset("lc"), QcaSpec("SURV", CONDITIONS)).necessity.set_index("condition")
    assert table.loc[["DEV", "LIT", "STB"]].to_numpy() == pytest.approx(np.array([[1, 0.8, 0.8], [1, 0.5, 0.615], [1, 0.7, 0.727]]), abs=1e-3)
    # ~URB by hand: 4 of the 8 surviving democracies (FI, FR, IE, SE) are not urbanised -> inclN 4/8
    assert table.loc["~URB", "inclN"] == pytest.approx(0.5)


def fuzzy_blocks() -> list[str]:
    text = sections()["fuzzy LF tt incl.cut .8"]
    return re.split(r"^M1: .*$", text, flags=re.M)


def test_fuzzy_truth_table_equals_r(fuzzy):
    assert_truth_table_equal(fuzzy.truth_table, r_truth_table(fuzzy_blocks()[0]))


@pytest.mark.parametrize("solution, block", [("conservative", 1), ("parsimonious", 2)])
def test_fuzzy_solutions_equal_r(fuzzy, solution, block):
    assert_solution_equal(ours(fuzzy, solution), r_solution(fuzzy_blocks()[block]))


def test_reference_parser_reads_every_table():
    """Guards the tests above against a parser that silently reads nothing."""
    assert len(r_truth_table(fuzzy_blocks()[0])) == 9
    assert [len(r_solution(fuzzy_blocks()[b])) for b in (1, 2)] == [3, 3]
    assert len(r_solution(sections()["conservative"])) == 3
