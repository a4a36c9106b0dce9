"""Blanks in the coded data: every count, share, test and model uses the cases observed on the variables
it involves, states its n, and says how many cases it left out for which variable.

The frame is SYNTHETIC (8 made-up cases placing blanks in the outcome, the condition, both, and every
case of a row); every expected number is worked out by hand in the comments.

    case  x   y          row x=1: cases 1-3, y known for 1, 2 -> 1 of 2 have y (50%), not 1 of 3
    1     1   1          row x=0: cases 4-6 -> 1 of 3 have y (33%)
    2     1   0          no x:    cases 7, 8 (8 has no y either)
    3     1   .          cases with x and y: 1, 2, 4, 5, 6 -> n = 5; left out: 3 (y), 7 (x), 8 (both) = 3 of 8
    4     0   1
    5     0   0
    6     0   0
    7     .   1
    8     .   .
"""

from __future__ import annotations

import pandas as pd
import pytest

from casemeta.coded.codebook import Category, Codebook, Variable
from casemeta.plan import plan_from_dict
from casemeta.publish import figures
from casemeta.publish.formats import to_csv, to_markdown
from casemeta.publish.tables import crosstab_counts, crosstab_tables
from casemeta.publish.tables import tests_table as exact_tests_table
from casemeta.stats.caveats import column
from casemeta.stats.study_analysis import crosstab_rows, study_models

CODEBOOK = Codebook(
    study="synthetic_blanks",
    title="Synthetic study with blanks",
    variables=(
        Variable("case_id", "Case", "identifier"),
        Variable("y", "Outcome Y", "binary", missing="allowed"),
        Variable("x", "Condition X", "binary", missing="allowed"),
        Variable("c", "Category C", "category", missing="allowed",
                 values=(Category("a", "Alpha"), Category("b", "Beta"))),
    ),
)


def frame(x=(1, 1, 1, 0, 0, 0, None, None), y=(1, 0, None, 1, 0, 0, 1, None), c=None) -> pd.DataFrame:
    n = len(x)
    out = pd.DataFrame({"case_id": [f"synthetic_{i}" for i in range(1, n + 1)],
                        "x": pd.array(x, dtype="Int64"), "y": pd.array(y, dtype="Int64")})
    out["c"] = pd.array(c if c is not None else ["a"] * n, dtype="string")
    return out


def counts_of(data: pd.DataFrame, condition: str = "x") -> pd.DataFrame:
    long, _ = crosstab_rows(data, "y", condition, CODEBOOK, draws=1000, seed=1)
    return long


def test_crosstab_counts_blanks_apart_and_divides_by_the_observed_cases():
    counts = crosstab_counts(counts_of(frame()), with_missing=True)
    # rows in codebook order (0, 1), then the cases with no x
    assert counts["label"].tolist() == ["No", "Yes", "Missing"]
    assert counts["N"].tolist() == [3, 3, 2]
    assert counts["y"].tolist() == [1, 1, 1]          # cases with y = 1: case 4; case 1; case 7
    assert counts["y:n"].tolist() == [3, 2, 1]        # cases with a known y: 4-6; 1-2; 7
    assert counts["y:missing"].tolist() == [0, 1, 1]  # case 3; case 8


@pytest.mark.parametrize("missing, rows", [("note", ["No", "Yes"]), ("row", ["No", "Yes", "Missing"])])
def test_published_crosstab_shows_each_cell_with_its_own_n(missing, rows):
    table = crosstab_tables(counts_of(frame()), CODEBOOK, missing)[0]
    assert table.frame["Condition X"].tolist() == rows
    expected = {"No": ("3", "1/3 (33%)"), "Yes": ("3", "1/2 (50%)"), "Missing": ("2", "1/1 (100%)")}
    for r, label in enumerate(rows):
        assert (table.frame.iloc[r]["N"], table.frame.iloc[r]["Outcome Y"]) == expected[label]
    assert table.title.endswith("(N = 8)")
    # the Yes row's cell says which case it left out and why; so does the Missing row's
    yes = table.frame.columns.get_loc("Outcome Y")
    assert table.marks[(1, yes)] == ["1 of 3 case(s) left out: Outcome Y missing"]
    if missing == "note":
        assert "2 of 8 case(s) left out: Condition X missing" in table.notes
    else:
        assert table.marks[(2, yes)] == ["1 of 2 case(s) left out: Outcome Y missing"]
    # every format carries the same cells
    assert "1/2 (50%)" in to_csv(table) and "1/2 (50%)" in to_markdown(table)
    assert "1 of 3 case(s) left out: Outcome Y missing" in to_csv(table)


def test_a_row_whose_every_outcome_is_blank_shows_0_of_0():
    data = frame(x=(1, 1, 0, 0), y=(None, None, 1, 0))
    table = crosstab_tables(counts_of(data), CODEBOOK)[0]
    assert table.frame["Outcome Y"].tolist() == ["1/2 (50%)", "0/0"]
    assert table.marks[(1, 2)] == ["2 of 2 case(s) left out: Outcome Y missing"]


def test_exact_test_and_model_use_the_cases_observed_on_both():
    plan = plan_from_dict({"crosstabs": {"outcomes": ["y"], "conditions": ["x"]},
                           "models": {"outcomes": ["y"], "predictor_sets": {"x": ["x"]}}}, CODEBOOK)
    found = study_models(frame(), plan, CODEBOOK, draws=1000, seed=1)
    test = found["tests"].iloc[0]
    # observed: x=0 -> y 1,0,0; x=1 -> y 1,0. Fisher: row x=1 (2 cases) holds X of the 2 y=1 cases:
    # P(X=0) = C(2,0)C(3,2)/C(5,2) = 3/10, P(1) = 6/10, P(2) = 1/10; observed X = 1 (0.6): two-sided p = 1
    assert test["n"] == 5 and test["p_value"] == pytest.approx(1.0)
    assert test["note"] == "3 of 8 case(s) left out: y, x missing"
    (caveat,) = column(found["tests"])[0]
    assert (caveat.code, caveat.variables, caveat.value) == ("missing", ("y", "x"), {"left_out": 3, "total": 8})
    model = found["models"]
    assert set(model["n"]) == {5}
    assert all(n.startswith("3 of 8 case(s) left out: y, x missing") for n in model["note"])
    assert found["cross_validation"]["n"].tolist() == [5]


def test_tests_table_names_its_n_and_footnotes_the_left_out_cases():
    plan = plan_from_dict({"crosstabs": {"outcomes": ["y"], "conditions": ["x"]}}, CODEBOOK)
    found = study_models(frame(), plan, CODEBOOK, draws=1000, seed=1)
    table = exact_tests_table(found["tests"], CODEBOOK)
    assert table.frame["N"].tolist() == ["5"]
    assert table.marks[(0, 0)] == ["3 of 8 case(s) left out: Outcome Y, Condition X missing"]


def test_a_category_condition_with_blanks_counts_them_apart():
    # c: a, a, b, blank; y: 1, blank, 0, 1 -> row a: 1 of 1 known (case 2 left out), b: 0 of 1, missing: 1 of 1
    data = frame(x=(1, 0, 1, 0), y=(1, None, 0, 1), c=["a", "a", "b", None])
    counts = crosstab_counts(counts_of(data, "c"), with_missing=True)
    assert counts["label"].tolist() == ["Alpha", "Beta", "Missing"]
    assert list(zip(counts["N"], counts["y"], counts["y:n"])) == [(2, 1, 1), (1, 0, 1), (1, 1, 1)]


def test_heat_map_writes_and_shades_k_of_the_observed_n(monkeypatch):
    drawn = {}

    def keep(fig, stem):
        drawn["fig"] = fig
        return []
    monkeypatch.setattr(figures, "_save", keep)
    figures.crosstab_heatmap(counts_of(frame()), CODEBOOK, None, "x")
    ax = drawn["fig"].axes[0]
    assert [t.get_text() for t in ax.texts] == ["1/3", "1/2"]  # rows No, Yes: the blank-condition cases are not a row
    shares = ax.images[0].get_array()
    assert float(shares[0, 0]) == pytest.approx(1 / 3) and float(shares[1, 0]) == pytest.approx(1 / 2)
    assert "(N = 6)" in ax.get_title()  # the 6 cases with a value of x


# ---- every cell against an independent count: generated frames with blanks, and the shipped studies' tables

from hypothesis import given, strategies as st  # noqa: E402

CODES = st.sampled_from([0, 1, None])


def _by_hand(x: list, y: list, value: str) -> tuple[int, int, int]:
    """(N, k, n) of the row x == value, counted case by case in plain Python: N cases in the row, n of them
    with a known y, k of those with y = 1."""
    rows = [(xi, yi) for xi, yi in zip(x, y) if xi is not None and str(xi) == value]
    known = [yi for _, yi in rows if yi is not None]
    return len(rows), sum(1 for yi in known if yi == 1), len(known)


@given(st.lists(st.tuples(CODES, CODES), min_size=0, max_size=12))
def test_every_cell_of_a_generated_crosstab_with_blanks_is_k_of_its_observed_n(pairs):
    # SYNTHETIC cases: every mix of blanks in the condition and the outcome, 0 to 12 cases
    x, y = [p[0] for p in pairs], [p[1] for p in pairs]
    table = crosstab_tables(counts_of(frame(x=x, y=y, c=["a"] * len(x))), CODEBOOK, "row")[0]
    for r, (label, value) in enumerate((("No", "0"), ("Yes", "1"))):
        n_row, k, n = _by_hand(x, y, value)
        assert table.frame.iloc[r].tolist() == [label, str(n_row), f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"]
    blank_x = [yi for xi, yi in zip(x, y) if xi is None]
    if blank_x:  # the Missing row: the cases with no x, shares over those with a known y
        known = [v for v in blank_x if v is not None]
        k, n = sum(1 for v in known if v == 1), len(known)
        assert table.frame.iloc[2].tolist() == ["Missing", str(len(blank_x)), f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"]
    else:
        assert len(table.frame) == 2
    assert table.title.endswith(f"(N = {len(pairs)})")


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "z", None]), CODES), min_size=0, max_size=12))
def test_the_exact_tests_counts_are_the_cases_observed_on_both(pairs):
    """stats.study_analysis.crosstab_counts (what the exact test and the multiverse test): a row per codebook
    value of the category (a, b; a value the codebook does not list, z, and blanks are in no row), a column per
    outcome 0 and 1, cases with a blank outcome left out; against a count case by case. SYNTHETIC cases."""
    from casemeta.stats.study_analysis import crosstab_counts

    c, y = [p[0] for p in pairs], [p[1] for p in pairs]
    data = frame(x=[0] * len(c), y=y, c=c)
    expected = [[sum(1 for ci, yi in zip(c, y) if ci == value and yi == outcome) for outcome in (0, 1)]
                for value in ("a", "b")]
    assert crosstab_counts(data, "y", "c", CODEBOOK).tolist() == expected


def test_complete_cases_of_a_frame_with_two_columns_of_one_name():
    """A frame holding two columns named x (SYNTHETIC): a case is left out if either is blank; never a row twice."""
    from casemeta.stats.caveats import complete_cases, left_out_caveat

    data = pd.DataFrame([[1, None, 3], [None, 2, 3], [1, 2, 3]], columns=["x", "x", "z"])
    kept, caveat = complete_cases(data, ["x", "z"])
    assert kept.index.tolist() == [2]
    assert caveat == left_out_caveat(data, ["x"]) and dict(caveat.values) == {"left_out": 2, "total": 3}
    assert caveat.variables == ("x",)


def test_an_integer_condition_held_as_float32_is_counted_under_its_values():
    """A float32 column (no codebook `values`; SYNTHETIC): rows 0.1 and 0.2, as the sorted values are written."""
    import numpy as np

    from casemeta.stats.study_analysis import crosstab_counts

    book = Codebook(study="s", title="s", variables=(Variable("case_id", "Case", "identifier"),
                                                     Variable("y", "Y", "binary"), Variable("n", "N", "integer")))
    data = pd.DataFrame({"y": [0, 1, 1], "n": np.array([0.1, 0.2, 0.1], dtype=np.float32)})
    assert crosstab_counts(data, "y", "n", book).tolist() == [[1, 1], [0, 1]]


def test_the_shipped_studies_crosstab_cells_equal_a_count_of_the_derived_cases(completed_run):
    import csv as csv_module

    from casemeta.coded.case_table import read_typed
    from casemeta.plan import load_plan
    from casemeta.study import Study

    for name in ("african_clusters", "pipkin_fuentes"):
        study = Study(completed_run, name)
        codebook = study.codebook()
        plan = load_plan(study.plan_path, codebook)
        derived = read_typed(study.result("derive", "derived"), codebook, derived=True)
        files = study.files("export", plan)
        for condition in plan.crosstabs.conditions:
            variable = codebook.variable(condition)
            text = files[f"crosstab_{condition}.csv"].read_text(encoding="utf-8")
            rows = list(csv_module.reader(text.splitlines()))
            assert rows[0][:2] == [variable.label, "N"]
            values = list(variable.allowed_values or sorted(derived[condition].dropna().astype(str).unique()))
            assert [r[0] for r in rows[1:]] == [variable.value_label(v) for v in values]
            for r, value in zip(rows[1:], values):
                in_row = derived[derived[condition].astype("string") == value]
                assert r[1] == str(len(in_row))
                for j, outcome in enumerate(plan.crosstabs.outcomes, start=2):
                    known = in_row[outcome].dropna()
                    k, n = int((known == 1).sum()), len(known)
                    assert r[j] == (f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"), (name, condition, value, outcome)
            # the Markdown table holds the same cells
            markdown = files[f"crosstab_{condition}.md"].read_text(encoding="utf-8")
            assert all(cell in markdown for r in rows[1:] for cell in r[2:2 + len(plan.crosstabs.outcomes)])
