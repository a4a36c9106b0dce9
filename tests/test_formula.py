"""Model formulas: a small grammar of column names that never runs code (issue 9, item 2).

Design matrices are checked against ones worked out by hand on small frames.
"""

import ast
import itertools
import builtins
import os
import re
import string
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemeta.errors import CasemetaError
from casemeta.stats.formula import design_frame, parse_formula
from casemeta.stats.logistic_models import design, fit_logistic
from conftest import REFERENCE


@pytest.fixture
def small():
    # six cases: a numeric x, a text column g with levels a, b, c, a text column h with u, v, w
    return pd.DataFrame({
        "y": [0, 1, 0, 1, 1, 0],
        "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "z": [0, 1, 1, 0, 1, 0],
        "g": ["b", "a", "c", "a", "b", "c"],
        "h": ["u", "v", "w", "w", "v", "u"],
    })


def matrix(frame: pd.DataFrame, formula: str) -> tuple[list[str], list[list[float]]]:
    _, X = design_frame(frame, formula)
    return list(X.columns), X.to_numpy().tolist()


def injection(marker) -> str:
    return f"__import__('os').system('touch {marker}')"


# ---------------------------------------------------------------- hand-worked design matrices

def test_main_effects_get_an_intercept_column_of_ones(small):
    names, X = matrix(small, "y ~ x + z")
    assert names == ["Intercept", "x", "z"]
    assert X == [[1, 1, 0], [1, 2, 1], [1, 3, 1], [1, 4, 0], [1, 5, 1], [1, 6, 0]]


def test_text_column_becomes_indicators_with_the_first_sorted_level_as_reference(small):
    # g = b, a, c, a, b, c; reference a (first in sorted order): g[b] = 1 where g is b, g[c] where c
    names, X = matrix(small, "y ~ g")
    assert names == ["Intercept", "g[b]", "g[c]"]
    assert X == [[1, 1, 0], [1, 0, 0], [1, 0, 1], [1, 0, 0], [1, 1, 0], [1, 0, 1]]


def test_ref_chooses_the_reference_level(small):
    # reference c: the remaining levels a, b in sorted order
    names, X = matrix(small, "y ~ g[ref=c]")
    assert names == ["Intercept", "g[a]", "g[b]"]
    assert X == [[1, 0, 1], [1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 0, 0]]
    assert matrix(small, "y ~ g[ref='c']") == (names, X)  # quotes are optional


def test_a_pandas_categorical_keeps_its_own_level_order(small):
    small["g"] = pd.Categorical(small["g"], categories=["c", "b", "a"])
    names, _ = matrix(small, "y ~ g")
    assert names == ["Intercept", "g[b]", "g[a]"]


def test_true_false_column_enters_as_0_1(small):
    small["t"] = small["z"] == 1
    names, X = matrix(small, "y ~ t")
    assert names == ["Intercept", "t"] and [row[1] for row in X] == [0, 1, 1, 0, 1, 0]


def test_interaction_multiplies_the_columns(small):
    # x:z = x where z is 1, else 0
    names, X = matrix(small, "y ~ x:z")
    assert names == ["Intercept", "x:z"]
    assert [row[1] for row in X] == [0, 2, 3, 0, 5, 0]


def test_a_star_b_is_a_plus_b_plus_a_colon_b(small):
    assert matrix(small, "y ~ x*z") == matrix(small, "y ~ x + z + x:z")
    names, X = matrix(small, "y ~ x*z")
    assert names == ["Intercept", "x", "z", "x:z"]
    assert X[1] == [1, 2, 1, 2] and X[3] == [1, 4, 0, 0]


def test_numeric_by_text_interaction_names_each_level(small):
    # x:g[b] = x where g is b (cases 1 and 5), x:g[c] = x where g is c (cases 3 and 6)
    names, X = matrix(small, "y ~ x*g")
    assert names == ["Intercept", "x", "g[b]", "g[c]", "x:g[b]", "x:g[c]"]
    assert [row[4] for row in X] == [1, 0, 0, 0, 5, 0]
    assert [row[5] for row in X] == [0, 0, 3, 0, 0, 6]


def test_text_by_text_interaction_varies_the_first_factor_fastest(small):
    # g (ref a) × h (ref u): b·v, c·v, b·w, c·w; only case 3 (c, w) and case 5 (b, v) are non-zero
    names, X = matrix(small, "y ~ 0 + g:h")
    assert names == ["g[b]:h[v]", "g[c]:h[v]", "g[b]:h[w]", "g[c]:h[w]"]
    assert X == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]


def test_the_outcome_may_also_be_a_predictor(small):
    # found by the property test below: the outcome's column was dropped from the predictors
    assert matrix(small, "x ~ x")[0] == ["Intercept", "x"]


def test_three_way_product_expands_to_every_interaction_by_degree():
    parsed = parse_formula("y ~ a*b*c")
    assert parsed.terms == [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")]


def test_terms_come_by_degree_and_repeats_are_kept_once():
    assert parse_formula("y ~ a:b + c + a + b:a + c").terms == [("c",), ("a",), ("a", "b")]


@pytest.mark.parametrize("formula, intercept", [
    ("y ~ x", True), ("y ~ 1 + x", True), ("y ~ 0 + x", False), ("y ~ x - 1", False), ("y ~ -1 + x", False),
    ("y ~ x + 0", False),
])
def test_intercept_control(formula, intercept):
    assert parse_formula(formula).intercept is intercept


def test_the_endometrial_fit_is_the_same_through_the_new_parser():
    # the reference values themselves are checked in test_logistic_models.py; here: the same columns reach the fit
    data = pd.read_csv(REFERENCE / "endometrial.csv")
    y, X, names, outcome = design(data, "HG ~ NV + PI + EH")
    assert names == ["Intercept", "NV", "PI", "EH"] and outcome == "HG"
    np.testing.assert_array_equal(X[:, 1:], data[["NV", "PI", "EH"]].to_numpy(dtype=float))
    np.testing.assert_array_equal(y, data["HG"].to_numpy(dtype=float))


# ---------------------------------------------------------------- refusals

NOT_ALLOWED = "is not allowed: terms are column names, a:b interactions and a*b"


@pytest.mark.parametrize("formula, message", [
    ("HG ~ np.log(PI)", "term 'np.log(PI)' " + NOT_ALLOWED),
    ("HG ~ log(PI)", "term 'log(PI)' " + NOT_ALLOWED),
    ("HG ~ NV + I(PI + EH)", "term 'I(PI + EH)' " + NOT_ALLOWED),
    ("HG ~ C(NV)", "term 'C(NV)' " + NOT_ALLOWED),
    ("HG ~ .", "term '.' " + NOT_ALLOWED),
    ("HG ~ (NV + PI)**2", "term '(NV + PI)**2' " + NOT_ALLOWED),
    ("HG ~ NV + 2 * PI", "term '2 * PI' " + NOT_ALLOWED),
    ("HG ~ NV / PI", "term 'NV / PI' " + NOT_ALLOWED),
    ("HG ~ NV + `PI`", "term '`PI`' " + NOT_ALLOWED),
    ("HG ~ NV + PI - EH", "term '- EH' is not allowed: only the intercept can be removed"),
    ("HG ~ NV + + PI", "an empty term"),
    ("HG ~ NV +", "an empty term"),
    ("HG ~", "no predictors after '~'"),
    ("HG NV", "expected 'outcome ~ predictor + ...' with one '~'"),
    ("HG ~ NV ~ PI", "expected 'outcome ~ predictor + ...' with one '~'"),
    ("log(HG) ~ NV", "the outcome 'log(HG)' must be one column name"),
    ("HG ~ 0", "no terms and no intercept"),
    ("HG ~ NV[ref=a] + NV[ref=b]", "'NV' is given two reference levels, 'a' and 'b'"),
])
def test_anything_outside_the_grammar_is_refused_naming_the_term(formula, message):
    data = pd.read_csv(REFERENCE / "endometrial.csv")
    with pytest.raises(CasemetaError, match="^" + re.escape(f"data: formula {formula!r}: ")) as err:
        design(data, formula)
    assert message in str(err.value)


def test_log_of_a_column_with_zeros_is_not_allowed_rather_than_collinear():
    # patsy evaluated np.log(0) = -inf and then called the predictors collinear
    data = pd.DataFrame({"y": [0, 1, 0, 1], "x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(CasemetaError, match=r"term 'np.log\(x\)' is not allowed: .*transform the column in the data first"):
        design(data, "y ~ np.log(x)")


def test_an_unknown_column_names_the_closest_ones(small):
    with pytest.raises(CasemetaError, match=r"'gg' names a variable that is not a column; columns are: y, x, z, g, h; closest: g"):
        design(small, "y ~ x + gg")


@pytest.mark.parametrize("formula, message", [
    ("y ~ g[ref=d]", "'d' is not a level of 'g'; levels are: a, b, c"),
    ("y ~ x[ref=1]", "'x' is numeric; [ref=...] applies only to a text or category column"),
])
def test_reference_level_errors(small, formula, message):
    with pytest.raises(CasemetaError) as err:
        design(small, formula)
    assert message in str(err.value)


def test_a_column_that_is_a_multiple_of_an_indicator_is_collinear(small):
    small["x"] = (small["g"] == "b") * 2.0  # x = 2·g[b]
    with pytest.raises(CasemetaError, match="predictors of 'y ~ x \\+ g' are collinear .*: Intercept, x, g\\[b\\], g\\[c\\]"):
        design(small, "y ~ x + g")


def test_a_text_column_with_one_level_is_constant(small):
    small["g"] = "a"
    with pytest.raises(CasemetaError, match=r"predictor 'g' is constant \('a' in every case\)"):
        design(small, "y ~ x + g")


def test_missing_values_only_in_the_used_columns_are_reported(small):
    small.loc[1, "h"] = None  # not in the formula: no matter
    small.loc[4, "x"] = np.nan
    with pytest.raises(CasemetaError, match=r"missing values in rows \[4\]; drop or code them first"):
        design(small, "y ~ x + g")


def test_more_columns_than_cases_is_refused_before_building_them(small):
    # Intercept + x + g[b], g[c] + h[v], h[w] + x:g (2) + x:h (2) + g:h (4) + x:g:h (4) = 18 columns for 6 cases
    with pytest.raises(CasemetaError, match="needs 18 columns for 6 cases; the coefficients cannot all be estimated"):
        design(small, "y ~ x*g*h")


def test_a_product_of_many_factors_is_refused_before_expanding_it(small):
    with pytest.raises(CasemetaError, match="at most 8 factors can be joined by"):
        parse_formula("y ~ " + "*".join(f"x{i}" for i in range(30)))  # 2^30 terms otherwise


def test_no_cases_is_refused(small):
    with pytest.raises(CasemetaError, match="no cases to model"):
        design(small.iloc[:0], "y ~ x")


def test_a_column_named_twice_in_the_data_is_refused(small):
    twice = pd.concat([small, small[["x"]]], axis=1)
    with pytest.raises(CasemetaError, match="column 'x' appears more than once in the data; rename one"):
        design(twice, "y ~ x")


def test_a_text_outcome_is_not_binary(small):
    with pytest.raises(CasemetaError, match="outcome 'h' must be binary 0/1; found values u, v, w"):
        design(small, "h ~ x")


# ---------------------------------------------------------------- nothing is ever executed

def test_a_formula_never_runs_the_python_it_holds(small, tmp_path):
    marker = tmp_path / "marker"
    formula = f"y ~ x + {injection(marker)}"
    with pytest.raises(CasemetaError, match=r"term \"__import__\('os'\)\.system\('touch .*marker'\)\" is not allowed"):
        fit_logistic(small, formula)
    assert not marker.exists()


def test_fit_command_never_runs_the_formula(tmp_path, capsys):
    from casemeta.cli import main

    marker = tmp_path / "marker"
    out = tmp_path / "fit.csv"
    code = main(["fit", str(REFERENCE / "endometrial.csv"), "--formula", f"HG ~ NV + {injection(marker)}", "--out", str(out)])
    assert code == 1
    assert not marker.exists() and not out.exists()
    assert "__import__('os').system" in capsys.readouterr().err


def test_the_plans_predictors_never_run(project, tmp_path, capsys):
    from casemeta.cli import main

    marker = tmp_path / "marker"
    plan_path = project / "analysis" / "african_clusters.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["models"] = {"outcomes": ["dynamic"], "predictor_sets": {"evil": [injection(marker)]}, "method": "auto"}
    plan_path.write_text(yaml.safe_dump(plan))
    cases = project / "data" / "coded" / "african_clusters" / "cases.csv"
    derived, models = tmp_path / "derived.csv", tmp_path / "logistic_models.csv"
    assert main(["--root", str(project), "derive", "--study", "african_clusters", "--cases", str(cases), "--out", str(derived)]) == 0
    code = main(["--root", str(project), "models", "--study", "african_clusters", "--derived", str(derived), "--models", str(models), "--draws", "100"])
    assert not marker.exists()
    # the plan is checked against the codebook when it is loaded: the term is refused before any model
    assert code == 1 and not models.exists()
    err = capsys.readouterr().err
    assert "at models/predictor_sets/evil/0: term \"__import__('os').system" in err and "outside the formula grammar" in err


@contextmanager
def no_code_runs():
    """Record (and stop) every eval, exec and compile, except compile to a syntax tree, which runs nothing.

    Yields the list of calls: it must stay empty, even if a caller swallowed the AssertionError.
    """
    real_compile, calls = builtins.compile, []

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            calls.append(("compile", source))
            raise AssertionError(f"compile() called on {source!r}")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def refuse(name):
        def call(source, *args, **kwargs):
            calls.append((name, source))
            raise AssertionError(f"{name}() called on {source!r}")
        return call

    with mock.patch.object(builtins, "eval", refuse("eval")), mock.patch.object(builtins, "exec", refuse("exec")), \
            mock.patch.object(builtins, "compile", ast_only):
        yield calls


def refused_or_run(run, folder):
    """run() in `folder` with code execution guarded: its result, or None if it raised a CasemetaError.

    Any other exception fails the test, and so does any eval/exec/compile or a 'marker' file in `folder`.
    """
    previous = os.getcwd()
    os.chdir(folder)  # where a fragment's 'touch marker' would land
    try:
        with no_code_runs() as calls:
            try:
                result = run()
            except CasemetaError:
                result = None
    finally:
        os.chdir(previous)
    assert calls == []
    assert not (folder / "marker").exists()
    return result


FRAGMENTS = ["y", "x", "z", "g", "h", "~", "+", "-", "*", ":", "(", ")", "[", "]", "ref=", "1", "0", ".", "**",
             "np.log", "__import__('os')", ".system('touch marker')", " ", "'", "@", "`", "I(", ",", "\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(FRAGMENTS), max_size=15).map("".join)))
def test_any_string_parses_or_is_refused_and_runs_nothing(small, tmp_path, text):
    refused_or_run(lambda: design(small, text), tmp_path)


# ---------------------------------------------------------------- bounded work on any input (issue: bounded work)
# Reading is linear in the formula's length; the speed itself is measured by benchmarks/bounded_benchmark.py,
# not here. These tests pin what the long and adversarial inputs give.

def test_a_reference_bracket_left_open_before_a_run_of_spaces_is_refused_naming_the_term():
    # this took 166 s with a backtracking regular expression: the `+` lies inside the open bracket, so the
    # whole right-hand side is one term, and it is not a factor
    formula = "y ~ txt[ref=" + " " * 4000 + "+ b"
    with pytest.raises(CasemetaError) as err:
        parse_formula(formula)
    assert str(err.value) == f"formula {formula!r}: term {formula[4:]!r} {NOT_ALLOWED} (with x[ref=level] for a text column's " \
                             "reference level, and 0 or - 1 to drop the intercept)"


def test_spaces_inside_a_reference_bracket_are_not_part_of_the_level():
    parsed = parse_formula("y ~ g[" + " " * 5000 + "ref" + " " * 5000 + "=" + " " * 5000 + "'c d'" + " " * 5000 + "] + x")
    assert parsed.terms == [("g",), ("x",)]
    assert parsed.references == {"g": "c d"}


def test_a_level_ends_at_the_first_closing_bracket():
    assert parse_formula("y ~ g[ref=a-b*c:d]").references == {"g": "a-b*c:d"}  # separators inside brackets stay
    with pytest.raises(CasemetaError, match=re.escape("term 'g[ref=a]]' " + NOT_ALLOWED)):
        parse_formula("y ~ g[ref=a]]")


@pytest.mark.parametrize("opening", ["[", "(", "x[", "x[ref=["])
def test_a_hundred_thousand_nested_brackets_are_a_clear_error_not_a_recursion_error(opening):
    formula = "y ~ " + opening * 100_000
    with pytest.raises(CasemetaError) as err:
        parse_formula(formula)
    assert str(err.value).startswith(f"formula {formula!r}: term {formula[4:]!r} is not allowed: ")


def test_a_hundred_thousand_characters_of_terms_are_read_in_full():
    # SYNTHETIC: 17,576 distinct three-letter columns (aaa .. zzz), 105,459 characters; then every one
    # again as an interaction with x, which adds as many two-way terms
    names = ["".join(t) for t in itertools.product(string.ascii_lowercase, repeat=3)]
    formula = "y ~ " + " + ".join(names)
    assert len(formula) > 100_000
    parsed = parse_formula(formula)
    assert parsed.terms == [(n,) for n in names] and parsed.intercept
    parsed = parse_formula("y ~ x + " + "+".join(f"{n}:x" for n in names[:5000]) + " - 1")
    assert parsed.terms == [("x",)] + [(n, "x") for n in names[:5000]] and not parsed.intercept


def test_a_long_product_is_refused_before_it_is_expanded():
    formula = "y ~ " + "*".join(["a"] * 50_000)
    with pytest.raises(CasemetaError, match="at most 8 factors can be joined by \\*"):
        parse_formula(formula)


def test_a_long_run_of_signs_is_an_empty_term():
    with pytest.raises(CasemetaError, match="an empty term \\(two signs in a row, or a sign at the end\\)"):
        parse_formula("y ~ a" + "-" * 100_000)
