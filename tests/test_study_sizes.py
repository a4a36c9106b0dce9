"""The `pipkin_fuentes` study grows case by case: every size on the way runs through `snakemake --cores 2`.

Its cases.csv ships with only a header (the review's case codes were never published). These tests
fill it with 1, 2, 3, 4, 5, 8 and 45 SYNTHETIC cases (ids `synthetic_001` ...; the values are drawn
with a seeded random generator and describe no real case), one size at a time in the same copy of
the project, as a researcher would: the first case through `casemeta add-case`, then the file grows.
"""

from __future__ import annotations

import random
import subprocess

import pytest

from casemeta.study import Study
from study_strategies import (
    PYTHON_WARNING, ROOT, GeneratedStudy, blank_statistics_without_note, case_id, copy_project, shipped_codebook,
)

pytestmark = pytest.mark.workflow
SIZES = [1, 2, 3, 4, 5, 8, 45]
STUDY = "pipkin_fuentes"


def synthetic_cases(count: int, seed: int = 45) -> list[dict[str, str]]:
    """`count` valid SYNTHETIC cases of the pipkin_fuentes codebook, the same on every run."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        row = {}
        for var in shipped_codebook(STUDY)["variables"]:
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


def as_csv(rows: list[dict[str, str]]) -> str:
    return GeneratedStudy(STUDY, shipped_codebook(STUDY), {}, rows).cases_csv()


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    """One copy of the project whose pipkin_fuentes study grows from test to test."""
    assert (ROOT / "data" / "coded" / STUDY / "cases.csv").read_text().count("\n") == 1, \
        "the shipped pipkin_fuentes cases.csv is expected to hold only its header"
    return copy_project(tmp_path_factory.mktemp("growing"))


@pytest.mark.parametrize("size", SIZES)
def test_every_size_of_the_study_runs(growing, size, tmp_path):
    study = Study(growing, STUDY)
    rows = synthetic_cases(max(SIZES))[:size]
    if size == SIZES[0]:  # the first case as a researcher adds it
        new = tmp_path / "first_case.csv"
        new.write_text(as_csv(rows), encoding="utf-8")
        subprocess.run(["casemeta", "--root", str(growing), "add-case", "--study", STUDY, str(new)], check=True,
                       capture_output=True, text=True, timeout=300)
    else:
        study.cases_path.write_text(as_csv(rows), encoding="utf-8")
    assert study.cases_path.read_text(encoding="utf-8") == as_csv(rows)
    run = subprocess.run(["snakemake", "--cores", "2"], cwd=growing, capture_output=True, text=True, timeout=900)
    cases = as_csv(rows)
    assert run.returncode == 0, f"{size} case(s):\n{run.stderr[-4000:]}\ncases.csv:\n{cases}"
    results = growing / "results" / STUDY
    assert f"{size} coded case(s)" in (results / "summary.md").read_text(encoding="utf-8")
    for name in ("tables.tex", f"{STUDY}_tables.docx", f"{STUDY}_tables.xlsx", "models/logistic_models.csv",
                 "models/crosstab_tests.csv", "models/cross_validation.csv"):
        assert (results / name).is_file(), name
    assert (growing / "results" / "african_clusters" / "tables.tex").is_file(), "the other study's tables are missing"
    problems = blank_statistics_without_note(results / "models")
    assert not problems, f"{size} case(s):\n" + "\n".join(problems[:20]) + f"\ncases.csv:\n{cases}"
    logs = "\n".join(p.read_text(encoding="utf-8") for p in (growing / "logs").rglob(f"{STUDY}.log"))
    warned = sorted(set(PYTHON_WARNING.findall(logs + run.stderr)))
    assert not warned, f"{size} case(s): Python warnings reached the user: {warned}"
