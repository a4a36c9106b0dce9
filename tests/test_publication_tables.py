"""Model tables as readers expect from modelsummary or stargazer."""

import pandas as pd
import pytest

from casemeta.coded.case_table import load_cases
from casemeta.coded.derive import derive
from casemeta.steps.model_runs import run_models
from casemeta.plan import load_plan
from casemeta.publish.tables import fmt_number, fmt_p, model_tables, stars


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from casemeta.study import Study
    from conftest import ROOT

    study = Study(ROOT, "african_clusters")
    codebook = study.codebook()
    plan = load_plan(study.plan_path, codebook)
    out = tmp_path_factory.mktemp("models")
    run_models(derive(load_cases(study.cases_path, codebook), codebook), plan, codebook, out, 1000, 1)
    return pd.read_csv(out / "logistic_models.csv"), plan, codebook


def test_odds_ratio_table_without_stars(fitted):
    models, plan, codebook = fitted
    table = model_tables(models, plan, codebook)[0]
    assert table.name == "models_dynamic"
    assert list(table.frame.columns) == ["", "Market", "Joint action", "Support", "Together"]
    rows = table.frame.set_index(table.frame.columns[0])
    # Firth odds ratio of a 2×2 with half added to each cell: (8.5/0.5) / (8.5/9.5) = 19
    assert table.frame.iloc[0].tolist() == ["Sells internationally", "19.00", "", "", "14.38"]
    assert rows.loc["Method"].tolist() == ["Firth", "ML", "ML", "Firth"]
    assert rows.loc["N"].tolist() == ["25"] * 4
    assert "*" not in "".join(table.frame.iloc[:, 1:].to_numpy().ravel())


def test_log_odds_with_standard_errors_and_stars(fitted):
    models, plan, codebook = fitted
    plan = {**plan, "publication": {"model_display": "estimate", "stars": True}}
    table = model_tables(models, plan, codebook)[0]
    fit = models[(models["model"] == "dynamic ~ market") & (models["term"] == "sells_internationally")].iloc[0]
    row = table.frame[table.frame.iloc[:, 0] == "Sells internationally"].index[0]
    assert table.frame.iloc[row, 1] == f"{fit['estimate']:.2f}" + stars(fit["p_value"])
    assert stars(fit["p_value"]) == "**"  # penalized LR p = 0.009
    assert table.frame.iloc[row + 1, 1] == f"({fit['std_error']:.2f})"
    assert table.frame.iloc[0, 0] == "(Intercept)"
    assert "* p < 0.05, ** p < 0.01, *** p < 0.001." in table.notes


@pytest.mark.parametrize("p, mark", [(0.0004, "***"), (0.009, "**"), (0.049, "*"), (0.05, ""), (float("nan"), "")])
def test_star_thresholds(p, mark):
    assert stars(p) == mark


def test_number_formats():
    assert fmt_number(2597.3) == "2,597" and fmt_number(0.774) == "0.77" and fmt_number(float("inf")) == "∞"
    assert fmt_p(0.0002) == "<0.001" and fmt_p(0.0216) == "0.022"
