"""Conditions of `when:` (derived variables) and `where:` (table rows) run no code (issue 9, item 2).

Masks are checked against ones worked out by hand on a small frame with missing values.
"""

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemeta.coded.codebook import load_codebook
from casemeta.coded.case_table import load_cases
from casemeta.coded.derive import derive
from casemeta.coded.expressions import evaluate
from casemeta.errors import CasemetaError
from casemeta.stats.count_tables import count_table
from test_formula import injection, refused_or_run


@pytest.fixture
def frame():
    # four cases; a is missing in case 3, s in case 4
    return pd.DataFrame({
        "a": pd.array([1, 0, None, 1], dtype="Int64"),
        "b": pd.array([0, 0, 1, 1], dtype="Int64"),
        "n": pd.array([0, 1, 2, 3], dtype="Int64"),
        "s": pd.array(["x", "y", "x", None], dtype="object"),
    })


def mask(frame, expr):
    return evaluate(frame, expr, "test").tolist()


@pytest.mark.parametrize("expr, expected", [
    ("a == 1", [True, False, False, True]),  # missing a: false
    ("a != 1", [False, True, False, False]),  # missing a: false too, as frame.eval(...).fillna(False) gave
    ("a == 1 and b == 1", [False, False, False, True]),
    ("a == 1 or b == 1", [True, False, True, True]),  # case 3: missing or true is true
    ("(a == 1) & (b == 0)", [True, False, False, False]),
    ("(a == 1) | (b == 1)", [True, False, True, True]),
    ("not a == 1", [False, True, False, False]),  # not missing is missing: false
    ("~(b == 1)", [True, True, False, False]),
    ("a + b == 1", [True, False, False, False]),  # 1+0, 0+0, missing, 1+1
    ("n - b * 2 >= 1", [False, True, False, True]),  # 0, 1, 0, 1
    ("n / 2 < 1", [True, True, False, False]),
    ("1 <= n < 3", [False, True, True, False]),
    ("n > -1", [True, True, True, True]),
    ("n in [0, 3]", [True, False, False, True]),
    ("n not in (0, 3)", [False, True, True, False]),
    ("s == 'x'", [True, False, True, False]),
    ('s in ["y"]', [False, True, False, False]),
    ("s != 'x'", [False, True, False, True]),  # a missing text is not 'x', as with frame.eval
    ("True", [True, True, True, True]),
    ("b == 1 and False", [False, False, False, False]),
])
def test_conditions_give_hand_worked_masks(frame, expr, expected):
    assert mask(frame, expr) == expected


@pytest.mark.parametrize("expr, piece, why", [
    ("a.__class__ == 1", "'a.__class__'", "is not allowed"),
    ("a.values.sum() > 0", "'a.values.sum()'", "is not allowed"),
    ("len(s) == 1", "'len(s)'", "is not allowed"),
    ("s.str.len() == 1", "'s.str.len()'", "is not allowed"),
    ("a[0] == 1", "'a[0]'", "is not allowed"),
    ("(lambda: 1)() == 1", "'(lambda: 1)()'", "is not allowed"),
    ("a == 1 if b else 0", "'a == 1 if b else 0'", "is not allowed"),
    ("a ** 2 == 1", "'a ** 2'", "is not allowed"),
    ("a % 2 == 1", "'a % 2'", "is not allowed"),
    ("a == None", "'None'", "is not allowed: only numbers, quoted text, True and False are literals"),
    ("n in [b]", "'b'", "is not allowed in a list: only literals"),
    ("n in b", "'b'", "is not allowed after `in`"),
    ("'x' in ['x']", "\"'x'\"", "is not allowed before `in`: write a column name"),
    ("a", "'a'", "is not a condition; compare it, e.g. `x == 1`"),
    ("a and b == 1", "'a'", "is not a condition"),
    ("s * 100 == 'x'", "'s'", "is not a number"),
    ("'x' * 1000000000 == s", "\"'x'\"", "is not a number"),
    ("aa == 1", "'aa'", "is not a column; closest: a"),
    ("s < 1", "'s < 1'", "cannot be evaluated"),
])
def test_anything_else_is_refused_naming_the_piece(frame, expr, piece, why):
    with pytest.raises(CasemetaError) as err:
        evaluate(frame, expr, "codebook.yaml: derived 'v'")
    assert str(err.value).startswith(f"codebook.yaml: derived 'v': expression {expr!r}: {piece} {why}")


@pytest.mark.parametrize("expr, why", [
    ("a == @x", "is not a valid condition (invalid syntax, at character 6)"),
    ("`a` == 1", "is not a valid condition"),
    ("a == 1 and", "is not a valid condition"),
    pytest.param("(" * 300 + "a == 1" + ")" * 300, "is not a valid condition (too many nested parentheses", id="300 parentheses"),
    pytest.param("not " * 100_000 + "a == 1", "cannot be read", id="100000 nots"),
])
def test_unreadable_expressions_are_refused(frame, expr, why):
    with pytest.raises(CasemetaError, match="^test: expression ") as err:
        evaluate(frame, expr, "test")
    assert why in str(err.value)
    assert len(str(err.value)) < 500  # a long expression is cut in the message


def test_an_injection_in_a_condition_does_not_run(frame, tmp_path):
    marker = tmp_path / "marker"
    with pytest.raises(CasemetaError, match="is not allowed"):
        evaluate(frame, f"{injection(marker)} == 0", "test")
    assert not marker.exists()


@pytest.fixture
def codebook_with(tmp_path, clusters):
    """The clusters' codebook with the first `when:` of market_orientation replaced."""
    def write(when: str):
        book = yaml.safe_load(clusters.codebook_path.read_text())
        rule = next(v for v in book["derived"] if v["name"] == "market_orientation")["rule"]
        rule["cases"][0]["when"] = when
        path = tmp_path / "codebook.yaml"
        path.write_text(yaml.safe_dump(book, sort_keys=False))
        return load_codebook(path)
    return write


def test_a_codebook_when_never_runs_code(codebook_with, clusters, tmp_path):
    marker = tmp_path / "marker"
    codebook = codebook_with(f"{injection(marker)} == 0")
    cases = load_cases(clusters.cases_path, clusters.codebook())
    with pytest.raises(CasemetaError, match=r"codebook.yaml: derived 'market_orientation': expression .*: \"__import__\('os'\)\.system\(.*\)\" is not allowed"):
        derive(cases, codebook)
    assert not marker.exists()


def test_a_codebook_when_cannot_reach_attributes(codebook_with, clusters):
    # DataFrame.eval accepted this (a Series' class is never 0, so no case matched)
    codebook = codebook_with("market_local.__class__ == 0")
    with pytest.raises(CasemetaError, match=r"'market_local.__class__' is not allowed"):
        derive(load_cases(clusters.cases_path, clusters.codebook()), codebook)


def test_a_plan_where_never_runs_code(clusters, tmp_path):
    marker = tmp_path / "marker"
    codebook = clusters.codebook()
    frame = derive(load_cases(clusters.cases_path, codebook), codebook)
    spec = {"table": "T", "rows": [{"label": "evil", "where": f"{injection(marker)} == 0"}], "columns": [{"total": "N"}]}
    with pytest.raises(CasemetaError, match=r"^plan, T: expression .* is not allowed"):
        count_table(frame, spec, codebook, "plan")
    assert not marker.exists()


def test_a_plan_where_cannot_read_local_variables(clusters):
    # DataFrame.eval resolved @name from the caller's variables
    codebook = clusters.codebook()
    frame = derive(load_cases(clusters.cases_path, codebook), codebook)
    spec = {"table": "T", "rows": [{"label": "x", "where": "n_joint_actions == @codebook"}], "columns": [{"total": "N"}]}
    with pytest.raises(CasemetaError, match=r"^plan, T: expression 'n_joint_actions == @codebook' is not a valid condition"):
        count_table(frame, spec, codebook, "plan")


TOKENS = ["a", "b", "n", "s", "==", "!=", "<", ">=", "and", "or", "not", "&", "|", "~", "(", ")", "[", "]", ",", " ",
          "in", "1", "-2", "'x'", "+", "*", "/", ".", "__class__", "@", "__import__('os')", ".system('touch marker')"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)))
def test_any_string_is_a_mask_or_a_clear_error_and_runs_nothing(frame, tmp_path, text):
    result = refused_or_run(lambda: evaluate(frame, text, "test"), tmp_path)
    assert result is None or (result.dtype == bool and result.index.equals(frame.index))


# ---------------------------------------------------------------- `check`: the same walk over the columns' kinds

KINDS = {"a": "number", "n": "number", "s": "text"}


@pytest.fixture
def typed():
    """Cases typed as the steps type them (binary and integer variables Int64, the others pandas' string type)."""
    return pd.DataFrame({"a": pd.array([1, 0, None, 1], dtype="Int64"), "n": pd.array([0, 1, 2, 3], dtype="Int64"),
                         "s": pd.array(["x", "y", "x", None], dtype="string")})


@pytest.mark.parametrize("expr, why", [
    ("nn == 1", "'nn' is not a column; closest: n"),
    ("s + 1 == 2", "'s' is not a number"),
    ("-s == 1", "'s' is not a number"),
    ("n", "'n' is not a condition"),
    ("s < 3", "cannot be evaluated: text can be put in order only with text"),
    ("3 <= s", "cannot be evaluated: text can be put in order only with text"),
    ("n > 'x'", "cannot be evaluated: text can be put in order only with text"),
    ("(n == 1) < s", "cannot be evaluated: text can be put in order only with text"),
    ("1 in [1, 2]", "'1' is not allowed before `in`"),
    ("n in s", "'s' is not allowed after `in`"),
    ("n.real == 1", "is not allowed"),
    ("n == 1 and", "is not a valid condition"),
    ("n + 100000000000000000000 > 3", "cannot be evaluated: Python int too large to convert to C long"),
])
def test_check_refuses_what_no_frame_of_these_kinds_could_evaluate(typed, expr, why):
    """Worked out by hand; each is refused by `evaluate` on cases of these kinds too (pandas refuses text put in
    order with a number on any case, though not on none)."""
    from casemeta.coded.expressions import check

    with pytest.raises(CasemetaError, match="expression") as caught:
        check(KINDS, expr, "ctx")
    assert why in str(caught.value)
    with pytest.raises(CasemetaError):
        evaluate(typed, expr, "ctx")


@pytest.mark.parametrize("expr", ["s == 3", "n == 'x'", "s > 'w'", "n / 0 > 1", "(n == 1) < 2", "s in [1, 'x']",
                                  "not (a == 1) or ~(s != 'x')", "-n + 2 * a >= 1 > 0"])
def test_check_lets_through_what_evaluates(typed, expr):
    from casemeta.coded.expressions import check

    evaluate(typed, expr, "ctx")
    check(KINDS, expr, "ctx")


def _expressions():
    """Expressions of the grammar and beyond it, over the columns of KINDS (and one that is none)."""
    atoms = st.sampled_from(["a", "n", "s", "c", "1", "0", "2.5", "'x'", "'y'", "True", "False", "-1", str(2**63),
                             str(-2**63)])
    binary = st.sampled_from(["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or", "&", "|"])
    lists = st.lists(st.sampled_from(["1", "'x'", "True", "n"]), max_size=3).map(lambda xs: f"[{', '.join(xs)}]")

    def extend(inner):
        return st.one_of(st.tuples(inner, binary, inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
                         st.tuples(st.sampled_from(["not ", "~", "-"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
                         st.tuples(inner, st.sampled_from([" in ", " not in "]), lists).map("".join))
    return st.recursive(atoms, extend, max_leaves=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=_expressions())
def test_check_refuses_only_what_evaluation_refuses_and_says_it_alike(typed, expr):
    """SYNTHETIC expressions: `check` (kinds, no frame) never refuses one that `evaluate` computes on cases of those
    kinds; where it refuses, evaluation does too, with the same words unless pandas refused an operation first."""
    from casemeta.coded.expressions import check

    try:
        evaluate(typed, expr, "ctx")
        evaluated = None
    except CasemetaError as exc:
        evaluated = str(exc)
    try:
        check(KINDS, expr, "ctx")
    except CasemetaError as exc:
        assert evaluated is not None, f"check refused what evaluates: {exc}"
        if "cannot be evaluated" not in evaluated + str(exc):
            assert str(exc) == evaluated
