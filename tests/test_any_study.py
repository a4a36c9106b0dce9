"""Any valid study, any size: the whole analysis finishes, every output is written, no blank goes unexplained.

Property tests generate SYNTHETIC studies (tests/study_strategies.py) from the shipped codebooks
and from random codebooks, 0 to 60 cases, biased toward small-sample degeneracies; named tests
below pin each degenerate case. The Hypothesis profile is chosen in tests/conftest.py
("ci": fixed seed, 150 studies per property test; HYPOTHESIS_PROFILE=long for ten times more).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from casemeta.coded.codebook import load_codebook
from casemeta.plan import load_plan
from study_strategies import (
    GeneratedStudy, case_id, check_results, generated_codebooks, generated_studies, plans_for, run_analysis,
    shipped_studies,
)



def analyse(generated: GeneratedStudy) -> None:
    """Write the study into a fresh project folder, run every step, check every output."""
    with tempfile.TemporaryDirectory(prefix="casemeta_synthetic_") as folder:
        root = Path(folder)
        study = generated.write(root)
        try:
            written = run_analysis(study, root / "results")
            check_results(generated, root / "results", written)
        except Exception as exc:  # the study that failed, printed with the failure to reproduce it by hand
            exc.add_note(generated.describe())
            raise


@given(generated_codebooks().flatmap(lambda book: plans_for(book).map(lambda plan: (book, plan))))
def test_generated_codebooks_and_plans_are_valid(book_and_plan):
    """The generator's own check: every codebook and plan it writes is accepted as written."""
    book, plan = book_and_plan
    with tempfile.TemporaryDirectory() as folder:
        study = GeneratedStudy(book["study"], book, plan).write(Path(folder))
        loaded = load_codebook(study.codebook_path)
        assert [v.name for v in loaded.variables] == [v["name"] for v in book["variables"]]
        assert load_plan(study.plan_path, loaded)["models"]["method"] in ("auto", "firth", "ml")


# The profile's examples per test, shared unevenly: a shipped codebook's study costs about twice
# as much (the african_clusters plan fits 12 models), so it gets a third of the 2 × max_examples.
EXAMPLES = 2 * settings.default.max_examples


@settings(max_examples=EXAMPLES // 3)
@given(shipped_studies())
def test_any_study_of_a_shipped_codebook_is_analysed(generated):
    analyse(generated)


@settings(max_examples=EXAMPLES - EXAMPLES // 3)
@given(generated_studies())
def test_any_study_of_a_generated_codebook_is_analysed(generated):
    analyse(generated)


# ---------------------------------------------------------------- named degenerate cases

DEGENERATE_CODEBOOK = {
    "study": "synthetic_degenerate",
    "title": "SYNTHETIC study for degenerate small samples",
    "variables": [
        {"name": "case_id", "label": "Case", "type": "identifier"},
        {"name": "name", "label": "Name", "type": "text"},
        {"name": "y", "label": "Outcome", "type": "binary"},
        {"name": "x1", "label": "Condition one", "type": "binary"},
        {"name": "x2", "label": "Condition two", "type": "binary"},
        {"name": "c", "label": "Kind", "type": "category",
         "values": [{"value": "a", "label": "Kind A"}, {"value": "b", "label": "Kind B"}, {"value": "c", "label": "Kind C"}]},
        {"name": "opt_b", "label": "Optional flag", "type": "binary", "missing": "allowed"},
        {"name": "opt_c", "label": "Optional kind", "type": "category", "missing": "allowed",
         "values": [{"value": "p", "label": "P"}, {"value": "q", "label": "Q"}]},
    ],
    "derived": [{"name": "any_x", "label": "Either condition", "type": "binary", "rule": {"kind": "any_of", "of": ["x1", "x2"]}}],
}

# Eight cases with no degeneracy: every 2×2 table of y against x1 and against x2 has all four cells
# filled, x1 and x2 differ, every kind and every optional value occurs.
HEALTHY = {
    "y":     "01011010",
    "x1":    "00110110",
    "x2":    "10011001",
    "c":     "abcabcab",
    "opt_b": "01100110",
    "opt_c": "pqpqqppq",
}


def degenerate_plan(method: str) -> dict:
    return {
        "study": "synthetic_degenerate",
        "crosstabs": {"outcomes": ["y"], "conditions": ["x1", "x2", "c", "opt_b", "opt_c", "any_x"]},
        "models": {"outcomes": ["y"], "method": method,
                   "predictor_sets": {"first": ["x1"], "both": ["x1", "x2"], "kind": ["c"], "optional": ["opt_b", "opt_c"]}},
        "publication": {"case_columns": ["name", "y", "c", "opt_c"], "model_display": "odds_ratio", "stars": True},
    }


def degenerate_study(method: str, n: int = 8, **columns: str) -> GeneratedStudy:
    """The healthy eight cases (or the first n), with some columns replaced (one character per case)."""
    data = {**{k: v[:n] for k, v in HEALTHY.items()}, **columns}
    rows = [{"case_id": case_id(i), "name": f"Synthetic case {i + 1}",
             **{k: ("" if v[i] == "-" else v[i]) for k, v in data.items()}} for i in range(n)]
    return GeneratedStudy("synthetic_degenerate", DEGENERATE_CODEBOOK, degenerate_plan(method), rows, origin="named example")


DEGENERATE = {
    "healthy": dict(),
    "no_cases": dict(n=0),
    "one_case": dict(n=1),
    "two_cases": dict(n=2),
    "outcome_with_one_class": dict(y="11111111"),
    "one_case_of_the_other_class": dict(y="11111110"),
    "constant_condition": dict(x1="00000000"),
    "complete_separation": dict(x1=HEALTHY["y"]),
    # x1 = 1 only where y = 1 (cases 2, 4, 5), y mixed where x1 = 0
    "quasi_complete_separation": dict(x1="01011000"),
    "collinear_predictors": dict(x2=HEALTHY["x1"]),
    "every_optional_value_missing": dict(opt_b="--------", opt_c="--------"),
    "categories_never_used": dict(c="aaaaaaaa", opt_c="pppppppp"),
}


@pytest.mark.parametrize("method", ["auto", "firth", "ml"])
@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_study_is_analysed(case, method):
    analyse(degenerate_study(method, **DEGENERATE[case]))
