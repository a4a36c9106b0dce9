"""The analysis plan is checked against the codebook when it is loaded (issue 8, item 4)."""

import shutil

import pytest

from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.plan import load_plan, plan_sections, term_variables


def _edit(project, old, new, study="african_clusters"):
    path = project / "analysis" / f"{study}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_shipped_plans_fit_their_codebooks(root):
    for name in ("african_clusters", "pipkin_fuentes"):
        from casemeta.study import Study
        study = Study(root, name)
        assert load_plan(study.plan_path, study.codebook()).study == name


def test_a_typo_names_the_file_the_key_path_and_the_closest_names(project):
    path = _edit(project, "terms: [sells_internationally,", "terms: [sells_internationaly,")
    from casemeta.study import Study
    study = Study(project, "african_clusters")
    with pytest.raises(CasemetaError) as err:
        load_plan(path, study.codebook())
    text = str(err.value)
    assert str(path) in text
    assert "at models/predictor_sets/together/terms/0: unknown variable 'sells_internationaly'; did you mean sells_internationally" in text


@pytest.mark.parametrize("old, new, expected", [
    # an outcome must be binary: market_orientation is a category
    ("outcomes: [dynamic, growth, upgrading]\n  conditions:", "outcomes: [market_orientation, growth, upgrading]\n  conditions:",
     "at crosstabs/outcomes/0: outcome 'market_orientation' has type category; a outcome must be binary"),
    # a condition cannot be free text
    ("    - market_orientation\n    - sells_internationally\n", "    - cluster\n    - sells_internationally\n",
     "at crosstabs/conditions/0: condition 'cluster' has type text; a condition must be binary or category or integer"),
    ("case_columns: [country, cluster,", "case_columns: [contry, cluster,",
     "at publication/case_columns/0: unknown variable 'contry'; did you mean country"),
    ("rows: {by: market_orientation}", "rows: {by: market_orientaton}",
     "at reproduce/tables/0/rows/by: unknown variable 'market_orientaton'"),
    ("- {variable: ee_labour}", "- {variable: ee_labor}",
     "at reproduce/tables/1/rows/0/variable: unknown variable 'ee_labor'; did you mean ee_labour"),
])
def test_each_role_is_checked(project, old, new, expected):
    from casemeta.study import Study
    study = Study(project, "african_clusters")
    path = _edit(project, old, new)
    with pytest.raises(CasemetaError) as err:
        load_plan(path, study.codebook())
    assert expected in str(err.value)


def test_every_problem_is_reported_at_once(project):
    from casemeta.study import Study
    path = _edit(project, "joint_action: [any_joint_action]", "joint_action: [any_joint_actoin, ja_learnin]")
    with pytest.raises(CasemetaError) as err:
        load_plan(path, Study(project, "african_clusters").codebook())
    assert "'any_joint_actoin'" in str(err.value) and "'ja_learnin'" in str(err.value)


@pytest.mark.parametrize("term, names", [
    ("a", ["a"]), ("a:b", ["a", "b"]), ("a * b", ["a", "b"]), ("a[ref=x]", ["a"]), ("a[ref=x]:b", ["a", "b"]),
    ("region[ref=a:b]", ["region"]), ("a[ref='x*y']*b", ["a", "b"]),  # a level with : or * stays in its brackets
])
def test_variables_of_a_term(term, names):
    assert term_variables(term) == names


def test_a_term_outside_the_formula_grammar_names_no_variable():
    with pytest.raises(CasemetaError, match="is not allowed"):
        term_variables("C(a, ref=x):b")


def test_a_term_outside_the_formula_grammar_is_refused_with_the_plan(project):
    from casemeta.study import Study
    path = _edit(project, "joint_action: [any_joint_action]", "joint_action: ['C(any_joint_action)']")
    with pytest.raises(CasemetaError) as err:
        load_plan(path, Study(project, "african_clusters").codebook())
    assert "models/predictor_sets/joint_action/0" in str(err.value) and "'C(any_joint_action)'" in str(err.value)


def test_each_step_takes_the_plan_sections_it_reads():
    plan = {"study": "s", "crosstabs": {"outcomes": ["y"]}, "models": {"outcomes": ["y"]}, "qca": [{"name": "q"}],
            "publication": {"stars": True}}
    assert plan_sections(plan, "models") == {"crosstabs": {"outcomes": ["y"]}, "models": {"outcomes": ["y"]}}
    assert plan_sections(plan, "qca") == {"qca": [{"name": "q"}]}
    assert plan_sections(plan, "reproduce") == {}
    assert plan_sections(plan, "export") == plan  # the tables show every part of the plan


def test_check_command_exits_non_zero_and_removes_the_study_results(project, capsys):
    _edit(project, "terms: [sells_internationally,", "terms: [sells_internationaly,")
    results = project / "results" / "african_clusters"
    (results / "tables").mkdir(parents=True)
    (results / "tables" / "cases.csv").write_text("from an earlier run")
    (results / "validated_cases.csv").write_text("from an earlier run")
    assert main(["--root", str(project), "check", "--study", "african_clusters", "--invalidate"]) == 1
    assert "did you mean sells_internationally" in capsys.readouterr().err
    assert not (results / "tables").exists() and not (results / "validated_cases.csv").exists()


def test_check_command_passes_on_the_shipped_studies(project, capsys):
    assert main(["--root", str(project), "check", "--study", "pipkin_fuentes"]) == 0
    assert "consistent" in capsys.readouterr().out
    shutil.rmtree(project / "results", ignore_errors=True)


def test_a_step_with_invalidate_removes_later_results_even_when_it_fails(project, capsys):
    results = project / "results" / "african_clusters"
    (results / "tables").mkdir(parents=True)
    (results / "tables" / "cases.csv").write_text("from an earlier run")
    (results / "summary.md").write_text("25 coded case(s)")
    (results / "derived_cases.csv").write_text("kept: models comes after derive")
    code = main(["--root", str(project), "models", "--study", "african_clusters", "--derived", str(project / "missing.csv"),
                 "--models", str(results / "models" / "logistic_models.csv"), "--invalidate"])
    assert code != 0
    assert not (results / "tables").exists() and not (results / "summary.md").exists()
    assert (results / "derived_cases.csv").exists()


def test_a_bug_is_logged_with_its_traceback_in_the_rule_log(project, monkeypatch, tmp_path):
    from casemeta.steps import pipeline

    def broken(*args, **kwargs):
        raise ValueError("This solver needs samples of at least 2 classes in the data")

    monkeypatch.setattr(pipeline, "models_study", broken)
    log = tmp_path / "models.log"
    code = main(["--root", str(project), "--log", str(log), "models", "--study", "african_clusters",
                 "--derived", "x.csv", "--models", str(tmp_path / "logistic_models.csv")])
    assert code == 2
    text = log.read_text()
    assert "internal error in `casemeta models`" in text and "Traceback" in text and "2 classes" in text


def test_a_predictor_set_is_a_list_of_terms_or_a_label_with_terms(project):
    from casemeta.study import Study

    study = Study(project, "african_clusters")
    plan = load_plan(study.plan_path, study.codebook())
    assert plan.model(("dynamic", "together")).label == "All three"  # {label:, terms:}
    assert plan.model(("dynamic", "joint_action")).label == "Joint action"  # a list: its name in words
    assert plan.model(("dynamic", "together")).terms == ("sells_internationally", "any_joint_action", "any_support")
    path = _edit(project, "together: {label: All three, terms:", "together: {label: All three, term:")
    with pytest.raises(CasemetaError, match="the analysis plan does not follow the plan schema") as error:
        load_plan(path, study.codebook())
    assert "at models/predictor_sets/together" in str(error.value)


def test_a_category_predictor_enters_the_formula_with_the_codebooks_reference_level(root):
    from casemeta.plan import plan_from_dict
    from casemeta.stats.formula import parse_formula
    from casemeta.study import Study

    codebook = Study(root, "african_clusters").codebook()
    plan = {"models": {"outcomes": ["growth"], "predictor_sets": {"m": ["market_orientation:any_support", "any_support"]}}}
    # terms in the parser's order (main effects first); the codebook's reference level on the variable's first mention
    formula = plan_from_dict(plan, codebook).models[0].formula
    assert formula == "growth ~ any_support + market_orientation[ref=local_only]:any_support"
    assert parse_formula(formula).references == {"market_orientation": "local_only"}
    # a reference level the plan gives is kept
    plan["models"]["predictor_sets"]["m"] = ["market_orientation:any_support", "market_orientation[ref=domestic]"]
    formula = plan_from_dict(plan, codebook).models[0].formula
    assert formula == "growth ~ market_orientation[ref=domestic] + market_orientation:any_support"
    assert parse_formula(formula).references == {"market_orientation": "domestic"}


@pytest.mark.parametrize("options, expected", [
    ("  tests: [any_joint_actoin]\n", "at models/tests/0: unknown variable 'any_joint_actoin'; did you mean any_joint_action"),
    ("  tests: [any_joint_action + growth]\n", "at models/tests/0: no predictor set has every term of 'any_joint_action + growth'"),
    ("  tests: [\"any_support(1)\"]\n", "at models/tests/0: formula '_ ~ any_support(1)': term 'any_support(1)' is not allowed"),
])
def test_joint_tests_of_the_plan_are_checked(project, options, expected):
    from casemeta.study import Study
    path = _edit(project, "  method: auto\n", "  method: auto\n" + options)
    with pytest.raises(CasemetaError) as err:
        load_plan(path, Study(project, "african_clusters").codebook())
    assert expected in str(err.value)


def test_correction_needs_a_firth_method(project):
    from casemeta.study import Study
    path = _edit(project, "  method: auto\n", "  method: ml\n  correction: flic\n")
    with pytest.raises(CasemetaError, match="at models/correction: flic corrects Firth fits"):
        load_plan(path, Study(project, "african_clusters").codebook())


def test_models_get_the_correction_and_the_tests_they_contain(project):
    from casemeta.study import Study
    path = _edit(project, "  method: auto\n", "  method: firth\n  correction: flac\n  tests: [any_joint_action + any_support]\n")
    plan = load_plan(path, Study(project, "african_clusters").codebook())
    assert plan.model(("growth", "together")).tests == ("any_joint_action + any_support",)
    assert plan.model(("growth", "support")).tests == ()
    assert {m.correction for m in plan.models} == {"flac"}
