"""Any valid study, any size: the whole analysis finishes, every output is written, no blank goes unexplained.

Property tests generate SYNTHETIC studies (tests/study_strategies.py) from the shipped codebooks
and from random codebooks, 0 to 60 cases, biased toward small-sample degeneracies; each named
degenerate case is pinned once, with hand-worked values, in tests/test_degenerate_studies.py.
The Hypothesis profile is chosen in tests/conftest.py ("ci", the default: fixed seed, 30 studies
in all; HYPOTHESIS_PROFILE=long for 3,000).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings

from casemeta.coded.codebook import load_codebook
from casemeta.plan import load_plan
from study_strategies import (
    GeneratedStudy, check_results, generated_codebooks, generated_studies, plans_for, run_analysis, shipped_studies,
)



def analyse(generated: GeneratedStudy) -> None:
    """Write the study into a fresh project folder, run every step, check every output."""
    with tempfile.TemporaryDirectory(prefix="casemeta_synthetic_") as folder:
        root = Path(folder)
        study = generated.write(root)
        try:
            written = run_analysis(study, root / "results", encode_figures=False)
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
        assert {m.method for m in load_plan(study.plan_path, loaded).models} <= {"auto", "firth", "ml"}


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
