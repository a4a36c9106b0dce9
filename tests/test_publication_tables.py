"""Model tables as readers expect from modelsummary or stargazer."""

import pandas as pd
import pytest

from casemeta.coded.case_table import load_cases
from casemeta.coded.derive import derive
from casemeta.steps.model_runs import run_models
from casemeta.plan import load_plan, plan_from_dict, read_plan
from casemeta.publish.tables import PENALIZED, fmt_number, fmt_p, model_tables, stars


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
    assert list(table.frame.columns) == ["", "Market", "Joint action", "Support", "All three"]  # the plan's predictor-set labels
    rows = table.frame.set_index(table.frame.columns[0])
    # Firth odds ratio of a 2×2 with half added to each cell: (8.5/0.5) / (8.5/9.5) = 19
    assert table.frame.iloc[0].tolist() == ["Sells internationally", "19.00", "", "", "14.38"]
    assert rows.loc["Method"].tolist() == ["Firth", "ML", "ML", "Firth"]
    assert rows.loc["N"].tolist() == ["25"] * 4
    assert "*" not in "".join(table.frame.iloc[:, 1:].to_numpy().ravel())


def test_log_odds_with_standard_errors_and_stars(fitted):
    models, plan, codebook = fitted
    plan = plan_from_dict({**read_plan(plan.path), "publication": {"model_display": "estimate", "stars": True}}, codebook)
    table = model_tables(models, plan, codebook)[0]
    fit = models[(models["model"] == "dynamic ~ market") & (models["term"] == "sells_internationally")].iloc[0]
    row = table.frame[table.frame.iloc[:, 0] == "Sells internationally"].index[0]
    # Firth on the 2×2 (all 8 international sellers dynamic, 8 of 17 others) adds 1/2 to each cell:
    # ln((8.5/0.5) / (8.5/9.5)) = ln 19 = 2.944; its penalized LR p (0.009) is below 0.01 and not
    # below 0.001: two stars (the thresholds are held to fixed p-values in test_star_thresholds)
    assert 0.001 <= fit["p_value"] < 0.01
    assert table.frame.iloc[row, 1] == "2.94**"
    # the standard error from the Fisher information at the Firth estimate: fitted shares 8.5/9 among
    # the 8 sellers, 8.5/18 among the 17 others; var = 1/(8 · 8.5/9 · 0.5/9) + 1/(17 · 8.5/18 · 9.5/18)
    # = 81/34 + 324/1372.75 = 2.382353 + 0.236022 = 2.618375, se = 1.618139
    assert table.frame.iloc[row + 1, 1] == "(1.62)"
    assert table.frame.iloc[0, 0] == "(Intercept)"
    assert "* p < 0.05, ** p < 0.01, *** p < 0.001." in table.notes


@pytest.mark.parametrize("p, mark", [(0.0004, "***"), (0.009, "**"), (0.049, "*"), (0.05, ""), (float("nan"), "")])
def test_star_thresholds(p, mark):
    assert stars(p) == mark


def test_number_formats():
    assert fmt_number(2597.3) == "2,597" and fmt_number(0.774) == "0.77" and fmt_number(float("inf")) == "∞"
    assert fmt_p(0.0002) == "<0.001" and fmt_p(0.0216) == "0.022"


def test_a_category_predictor_uses_the_codebooks_reference_level_and_labels_every_level(tmp_path):
    from casemeta.study import Study
    from conftest import ROOT

    study = Study(ROOT, "african_clusters")
    codebook = study.codebook()
    plan = plan_from_dict({**read_plan(study.plan_path), "models": {
        "outcomes": ["dynamic"], "predictor_sets": {"orientation": {"label": "Market orientation", "terms": ["market_orientation"]}}}},
        codebook)
    run_models(derive(load_cases(study.cases_path, codebook), codebook), plan, codebook, tmp_path, 1000, 1)
    models = pd.read_csv(tmp_path / "logistic_models.csv")
    # sorted order would make `domestic` the reference; the codebook declares local_only
    assert [t for t in models["term"] if t != "Intercept"] == [
        "market_orientation[domestic]", "market_orientation[domestic_international]",
        "market_orientation[domestic_regional]", "market_orientation[international_only]"]
    table = model_tables(models, plan, codebook)[0]
    assert list(table.frame.columns) == ["", "Market orientation"]
    assert table.frame.iloc[0, 0] == "Market orientation: Domestic (Local and National)"
    assert "Market orientation: compared with Local only (the reference level)." in table.notes


def test_fit_rows_under_the_coefficients(fitted):
    models, plan, codebook = fitted
    table = model_tables(models, plan, codebook)[0]
    rows = table.frame.set_index(table.frame.columns[0])
    stub = list(table.frame.iloc[:, 0])
    assert stub[-8:] == ["N", "Events", "Log-likelihood", "AIC", "BIC", "Tjur's R²", "Method", "Separation"]
    assert rows.loc["Events"].tolist() == ["16"] * 4  # 16 of the 25 rows of cases.csv have growth or upgrading = 1
    # the Firth columns' log-likelihood, AIC and BIC carry the footnote saying they are penalized; ML's do not
    row = stub.index("Log-likelihood")
    assert [table.marks.get((row, c)) for c in range(1, 5)] == [[PENALIZED], None, None, [PENALIZED]]
    ml = models[models["model"] == "dynamic ~ joint_action"].iloc[0]
    assert rows.loc["AIC", "Joint action"] == f"{-2 * ml['loglik'] + 2 * 2:.2f}"


HAND = "y,x\n1,0\n0,0\n0,0\n0,0\n1,1\n1,1\n1,1\n0,1\n"  # x = 0: 1 of 4 with y; x = 1: 3 of 4


def test_fit_command_writes_a_formatted_table_beside_the_csv(tmp_path):
    from openpyxl import load_workbook

    from casemeta.cli import main

    data = tmp_path / "d.csv"
    data.write_text(HAND)
    for suffix in ("xlsx", "md"):
        assert main(["fit", str(data), "--formula", "y ~ x", "--method", "ml", "--out", str(tmp_path / "fit.csv"),
                     "--table", str(tmp_path / f"fit.{suffix}")]) == 0
    sheet = load_workbook(tmp_path / "fit.xlsx")["Table 1"]
    rows = {row[0].value: row[1] for row in sheet.iter_rows(min_row=3) if row[0].value and len(row) > 1}
    # odds ratio of x: (3/1) / (1/3) = 9; AIC = -2 (2 ln 0.25 ... ) worked out in test_logistic_models: 12.997 -> 13.00
    assert rows["x"].value == 9 and rows["x"].number_format == "0.00"
    assert rows["AIC"].value == 13.0 and rows["N"].value == 8 and rows["Events"].value == 4
    markdown = (tmp_path / "fit.md").read_text()
    assert "| AIC | 13.00 |" in markdown and "**Logistic model of y: y \\~ x**" in markdown


def test_fit_command_refuses_a_table_format_it_cannot_write_before_writing_anything(tmp_path, capsys):
    from casemeta.cli import main

    data = tmp_path / "d.csv"
    data.write_text(HAND)
    assert main(["fit", str(data), "--formula", "y ~ x", "--out", str(tmp_path / "fit.csv"), "--table", str(tmp_path / "fit.pdf")]) == 1
    assert "fit.pdf: a table file must end in one of .tex, .md, .html, .csv, .docx, .xlsx" in capsys.readouterr().err
    assert not (tmp_path / "fit.csv").exists()
