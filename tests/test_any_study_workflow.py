"""SYNTHETIC studies of every size through the real `snakemake --cores 2` workflow, in one shared run.

One copy of the completed run (conftest.completed_run: the shipped studies already up to date)
receives, beside the shipped studies:

- the shipped `pipkin_fuentes` study's first case, added with `casemeta add-case` to its
  header-only cases.csv as a researcher adds it (its results then go from "no cases" to one case);
- a fixed sample of generated studies, each drawn with a fixed Hypothesis seed (deterministic and
  bounded, unlike @given) and written under its own name.

The same codebook and plan with 2, 3, 4, 5, 8 and 45 SYNTHETIC cases (ids `synthetic_001` ...; values
drawn with a seeded random generator, they describe no real case) run through the same steps in-process
in test_every_size_of_the_pipkin_fuentes_study_is_analysed below.

Then one `snakemake --cores 2`, as a user runs it (every study, the default profile), brings them
all up to date in parallel; each test below reads one study's results. Result paths come from
casemeta.study (Study.result), the one owner of the results layout.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import warnings

import pytest
from hypothesis import Phase, given, seed, settings

from casemeta.steps.qca_runs import qca_study
from casemeta.study import Study
from conftest import snakemake
from study_strategies import (
    PYTHON_WARNING, GeneratedStudy, blank_statistics_without_note, case_id, check_results, generated_studies,
    run_analysis, shipped_codebook, shipped_plan,
)

pytestmark = pytest.mark.workflow
PIPKIN = "pipkin_fuentes"
SIZES = [1, 2, 3, 4, 5, 8, 45]  # 1: the shipped study itself, its first case added by `casemeta add-case`
IN_WORKFLOW = [1]  # the others run in-process (test_every_size_of_the_pipkin_fuentes_study_is_analysed)


def synthetic_cases(count: int, seed: int = 45) -> list[dict[str, str]]:
    """`count` valid SYNTHETIC cases of the pipkin_fuentes codebook, the same on every run (the first
    n of the 45 for every size n)."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        row = {}
        for var in shipped_codebook(PIPKIN)["variables"]:
            if var["type"] == "identifier":
                row[var["name"]] = case_id(i)
            elif var["type"] == "text":
                row[var["name"]] = f"Synthetic {var['name']} {i + 1} (not a real case)"
            elif var["type"] == "binary":
                row[var["name"]] = rng.choice("01")
            else:  # category; an optional one is sometimes left empty
                choices = [c["value"] for c in var["values"]] + ([""] if var.get("missing") == "allowed" else [])
                row[var["name"]] = rng.choice(choices)
        rows.append(row)
    return rows


def pipkin_of_size(size: int) -> GeneratedStudy:
    """The pipkin_fuentes codebook and plan with `size` synthetic cases; size 1 is the shipped study itself."""
    name = PIPKIN if size == 1 else f"synthetic_{PIPKIN}_{size}"
    book, plan = shipped_codebook(PIPKIN), shipped_plan(PIPKIN)
    book["study"] = plan["study"] = name
    return GeneratedStudy(name, book, plan, synthetic_cases(max(SIZES))[:size], origin=f"pipkin_fuentes with {size} case(s)")


def drawn(strategy, seed_value: int, sizes: range, name: str) -> GeneratedStudy:
    """The first study the seeded strategy draws with a number of cases in `sizes`, renamed `name`."""
    found = []

    @settings(max_examples=60, phases=[Phase.generate], database=None, deadline=None, derandomize=False)
    @seed(seed_value)
    @given(strategy)
    def collect(study):
        if len(study.cases) in sizes and not found:
            found.append(study)

    collect()
    assert found, f"seed {seed_value} drew no study with {sizes} cases"
    study = found[0]
    study.codebook["study"] = study.plan["study"] = study.name = name
    return study


# the pipkin_fuentes codebook goes through the workflow as the shipped study with its first case added;
# its other sizes (2 to 45 cases) through the same steps in-process, below. The african_clusters codebook goes
# through the workflow as the shipped study (conftest.completed_run) and, with drawn codings, through the same
# steps in-process (tests/test_any_study.py): a drawn study of it here added 13 s of CPU and no new path.
SAMPLE = {
    "generated_codebook_small": lambda name: drawn(generated_studies(), 3, range(1, 6), name),
    "generated_codebook_large": lambda name: drawn(generated_studies(), 4, range(20, 61), name),
}


@pytest.fixture(scope="module")
def synthetic_run(completed_run, tmp_path_factory):
    """A copy of the completed run with every synthetic study written in, after one `snakemake --cores 2`."""
    project = tmp_path_factory.mktemp("synthetic_run") / "project"
    shutil.copytree(completed_run, project, symlinks=True)  # keeps modification times: the shipped studies stay done
    studies = {f"size_{n}": pipkin_of_size(n) for n in IN_WORKFLOW}
    studies.update({key: make(f"synthetic_{key}") for key, make in SAMPLE.items()})
    first = studies["size_1"]
    shipped = Study(project, PIPKIN)
    assert shipped.cases_path.read_text(encoding="utf-8").count("\n") == 1, \
        "the shipped pipkin_fuentes cases.csv is expected to hold only its header"
    for key, generated in studies.items():
        if generated is not first:
            generated.write(project)
    new = tmp_path_factory.mktemp("first_case") / "first_case.csv"
    new.write_text(first.cases_csv(), encoding="utf-8")
    subprocess.run(["casemeta", "--root", str(project), "add-case", "--study", PIPKIN, str(new)], check=True,
                   capture_output=True, text=True, timeout=300)
    run = snakemake(project)
    return project, run, studies


def test_the_run_succeeds_with_no_python_warning(synthetic_run, completed_run):
    project, run, studies = synthetic_run
    assert run.returncode == 0, run.stderr[-4000:]
    logs = "\n".join(p.read_text(encoding="utf-8") for p in (project / "logs").rglob("*.log"))
    warned = sorted(set(PYTHON_WARNING.findall(logs + run.stderr)))
    assert not warned, f"Python warnings reached the user: {warned}"
    # the other shipped study was up to date: not run again, and its tables are still there
    clusters, before = Study(project, "african_clusters"), Study(completed_run, "african_clusters")
    assert clusters.result("export", "latex").is_file()
    for step, key in (("validate", "validated"), ("models", "models"), ("export", "latex")):
        assert clusters.result(step, key).stat().st_mtime_ns == before.result(step, key).stat().st_mtime_ns, (step, key)


@pytest.mark.parametrize("key", [f"size_{n}" for n in IN_WORKFLOW] + list(SAMPLE))
def test_every_study_is_analysed_through_the_workflow(synthetic_run, key):
    project, run, studies = synthetic_run
    generated = studies[key]
    study = Study(project, generated.name)
    context = f"{run.stderr[-3000:]}\n{generated.describe()}"
    assert study.cases_path.read_text(encoding="utf-8") == generated.cases_csv(), context  # add-case wrote it as given
    results = [study.result(step, name) for step, name in (
        ("export", "summary"), ("export", "latex"), ("export", "docx"), ("export", "xlsx"), ("models", "models"),
        ("models", "tests"), ("models", "cross_validation"), ("qca", "summary"))]
    missing = [str(p.relative_to(project)) for p in results if not p.is_file()]
    assert not missing, f"not written: {missing}\n{context}"
    n = len(generated.cases)
    assert f"{n} coded case(s)" in study.result("export", "summary").read_text(encoding="utf-8"), context
    problems = blank_statistics_without_note(study.result("models", "models").parent)
    assert not problems, "\n".join(problems[:20]) + "\n" + context
    logs = "\n".join(p.read_text(encoding="utf-8") for p in (project / "logs").rglob(f"{generated.name}.log"))
    assert logs, f"no log of {generated.name}"
    warned = sorted(set(PYTHON_WARNING.findall(logs)))
    assert not warned, f"Python warnings reached the user: {warned}\n{context}"


@pytest.mark.parametrize("size", [n for n in SIZES if n not in IN_WORKFLOW])
def test_every_size_of_the_pipkin_fuentes_study_is_analysed(size, tmp_path):
    """The sizes between one case and 45, through the steps the workflow runs (validate, derive, models,
    tables in every format, figures, QCA), in-process with warnings as errors."""
    generated = pipkin_of_size(size)
    study = generated.write(tmp_path)
    try:
        written = run_analysis(study, tmp_path / "results", encode_figures=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            qca_study(study, study.result("derive", "derived"))
        check_results(generated, tmp_path / "results", written)
        assert f"{size} coded case(s)" in study.result("export", "summary").read_text(encoding="utf-8")
        assert study.result("qca", "summary").is_file()
    except Exception as exc:
        exc.add_note(generated.describe())
        raise
