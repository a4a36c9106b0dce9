"""Every study is a codebook, its data and a plan; adding one needs no change to the rules."""

import pytest

from casemeta.coded.case_table import load_cases
from casemeta.coded.codebook import load_codebook
from casemeta.steps.exports import export_tables
from casemeta.steps.pipeline import derive_study, models_study, validate_study
from casemeta.plan import load_plan
from casemeta.study import Study, discover_studies


def test_studies_are_found_from_analysis_and_data(root):
    assert discover_studies(root) == ["african_clusters", "pipkin_fuentes"]


@pytest.mark.parametrize("name", ["african_clusters", "pipkin_fuentes"])
def test_every_variable_a_plan_names_is_in_its_codebook(root, name):
    study = Study(root, name)
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    named = set(plan.crosstabs.outcomes) | set(plan.crosstabs.conditions)
    named |= {v for m in plan.models for v in (m.outcome, *m.variables)}
    named |= set(plan.publication.case_columns)
    for name_ in named:
        codebook.variable(name_)  # raises with the codebook's path if unknown


def test_pipkin_fuentes_ships_a_codebook_and_no_invented_cases(root):
    study = Study(root, "pipkin_fuentes")
    codebook = load_codebook(study.codebook_path)
    assert len(load_cases(study.cases_path, codebook)) == 0
    assert study.cases_path.read_text().strip() == ",".join(codebook.coded_columns)
    types = {v.name for v in codebook.variables if v.name.startswith("upgrading_") and v.type == "binary"}
    assert types == {"upgrading_process", "upgrading_product", "upgrading_functional", "upgrading_chain"}
    outcome = codebook.variable("upgrading_outcome")
    assert [c.value for c in outcome.values] == ["treadmilling", "intermediate", "leap_forward"]


def test_a_study_with_no_cases_gives_a_message_not_a_failure(project):
    study = Study(project, "pipkin_fuentes")
    results = project / "results"
    validate_study(study, results / "pipkin_fuentes" / "validated_cases.csv")
    derive_study(study, results / "pipkin_fuentes" / "validated_cases.csv", results / "pipkin_fuentes" / "derived_cases.csv")
    models_study(study, results / "pipkin_fuentes" / "derived_cases.csv", results / "pipkin_fuentes" / "models", 1000, 1)
    export_tables(study, results, ["markdown", "docx", "xlsx", "latex"])
    summary = (results / "pipkin_fuentes" / "summary.md").read_text()
    assert "No coded cases yet in data/coded/pipkin_fuentes/cases.csv" in summary and "casemeta new-case --study pipkin_fuentes" in summary
    assert str(project) not in summary  # no machine-specific path in a file meant for readers
    # every table the plan gives is written, empty: the case listing says 0 cases, the models why none is estimable
    assert "Coded cases (0)" in (results / "pipkin_fuentes" / "tables" / "cases.md").read_text()
    assert "not estimable: no cases" in (results / "pipkin_fuentes" / "tables" / "models_leap_forward.md").read_text()
