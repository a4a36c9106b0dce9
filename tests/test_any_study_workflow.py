"""A fixed sample of generated SYNTHETIC studies through the real `snakemake --cores 2` workflow.

Each study is drawn with a fixed Hypothesis seed (deterministic and bounded, unlike @given), written
beside the shipped studies in a temporary copy of the project, and run alone with
`--config studies=[name]`.
"""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import Phase, given, seed, settings

from study_strategies import (
    PYTHON_WARNING, GeneratedStudy, blank_statistics_without_note, copy_project, generated_studies, shipped_studies,
)
from test_any_study import DEGENERATE, degenerate_study

pytestmark = pytest.mark.workflow


def drawn(strategy, seed_value: int, sizes: range) -> GeneratedStudy:
    """The first study the seeded strategy draws with a number of cases in `sizes`."""
    found = []

    @settings(max_examples=60, phases=[Phase.generate], database=None, deadline=None, derandomize=False)
    @seed(seed_value)
    @given(strategy)
    def collect(study):
        if len(study.cases) in sizes and not found:
            found.append(study)

    collect()
    assert found, f"seed {seed_value} drew no study with {sizes} cases"
    return found[0]


SAMPLE = {
    "pipkin_fuentes_few_cases": lambda: drawn(shipped_studies("pipkin_fuentes"), 1, range(2, 9)),
    "african_clusters_codebook": lambda: drawn(shipped_studies("african_clusters"), 2, range(9, 40)),
    "generated_codebook_small": lambda: drawn(generated_studies(), 3, range(1, 6)),
    "generated_codebook_large": lambda: drawn(generated_studies(), 4, range(20, 61)),
    "pipkin_fuentes_one_or_two": lambda: drawn(shipped_studies("pipkin_fuentes"), 5, range(1, 3)),
    "one_case_of_the_other_class": lambda: degenerate_study("auto", **DEGENERATE["one_case_of_the_other_class"]),
}


@pytest.mark.parametrize("sample", list(SAMPLE))
def test_generated_study_runs_through_the_workflow(sample, tmp_path):
    generated = SAMPLE[sample]()
    project = copy_project(tmp_path)
    generated.write(project)
    run = subprocess.run(["snakemake", "--cores", "2", "--config", f'studies=["{generated.name}"]'],
                         cwd=project, capture_output=True, text=True, timeout=900)
    context = generated.describe()
    assert run.returncode == 0, run.stderr[-4000:] + "\n" + context
    results = project / "results" / generated.name
    for name in ("summary.md", "tables.tex", f"{generated.name}_tables.docx", f"{generated.name}_tables.xlsx",
                 "models/logistic_models.csv", "models/crosstab_tests.csv", "models/cross_validation.csv"):
        assert (results / name).is_file(), f"{name} not written\n{context}"
    problems = blank_statistics_without_note(results / "models")
    assert not problems, "\n".join(problems[:20]) + "\n" + context
    logs = "\n".join(p.read_text(encoding="utf-8") for p in (project / "logs").rglob("*.log"))
    warned = sorted(set(PYTHON_WARNING.findall(logs + run.stderr)))
    assert not warned, f"Python warnings reached the user: {warned}\n{context}"
