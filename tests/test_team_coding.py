"""Coding as teams do it: spreadsheet forms from the codebook, two coders reconciled, provenance kept.

Every case here is SYNTHETIC (ids synthetic_1, ...), typed into forms in a
temporary copy of the project; none is a real cluster or case study.
"""

import shutil
import subprocess

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from casemeta.coded.provenance import read_provenance
from casemeta.study import Study
from team_forms import SYNTHETIC, cluster, fill, new_form, run, two_coders  # noqa: F401

STUDIES = ["african_clusters", "pipkin_fuentes"]


def list_values(book, dv):
    """The values of a list validation: inline ("0,1") or a range of the hidden lists sheet."""
    formula = dv.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, cells = formula.split("!")
    ws = book[sheet.strip("'")]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


def validations_by_column(ws):
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            found[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    return found


@pytest.mark.parametrize("name", STUDIES)
def test_every_column_of_the_form_carries_the_codebooks_values_and_description(project, tmp_path, name):
    form = new_form(project, tmp_path / "form.xlsx", name)
    codebook = Study(project, name).codebook()
    book = load_workbook(form)
    ws = book["cases"]
    by_column = validations_by_column(ws)
    names = [ws.cell(row=2, column=c).value for c in range(1, ws.max_column + 1)]
    assert names[: len(codebook.variables)] == codebook.coded_columns
    assert names[len(codebook.variables):] == ["_source", "_pages", "_coder", "_coded_on"]
    assert ws.freeze_panes == "B3"
    for c, var in enumerate(codebook.variables, start=1):
        letter = ws.cell(row=2, column=c).column_letter
        assert ws.cell(row=1, column=c).value == var.label
        dv = by_column[letter]
        assert dv.showInputMessage and dv.prompt and len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32
        assert str(dv.sqref) == f"{letter}3:{letter}7"
        if var.type in ("binary", "category"):
            assert dv.type == "list" and list_values(book, dv) == list(var.allowed_values)
            assert dv.showErrorMessage and dv.errorStyle == "stop"
        else:
            assert dv.type is None
        required = var.type == "identifier" or not var.nullable
        assert ws.cell(row=1, column=c).font.b == required  # required columns marked
        assert dv.prompt.startswith("Required." if required else "May be left empty.")
    sheet = book["codebook"]
    listed = [sheet.cell(row=r, column=1).value for r in range(2, 2 + len(codebook.variables))]
    assert listed == codebook.coded_columns
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "has_term" not in text and "fill_down" not in text and "concept" not in text  # no internal notes
    if name == "pipkin_fuentes":
        assert "primary_product = Primary product" in text


def add_integer_variable(project):
    """A numeric variable in the copy's pipkin_fuentes codebook (the shipped studies have none)."""
    path = project / "data/coded/pipkin_fuentes/codebook.yaml"
    book = yaml.safe_load(path.read_text())
    book["variables"].append({"name": "n_firms", "label": "Firms studied", "type": "integer", "minimum": 1,
                              "maximum": 500, "description": "How many firms the case study observed."})
    path.write_text(yaml.safe_dump(book, sort_keys=False))
    cases = project / "data/coded/pipkin_fuentes/cases.csv"
    cases.write_text(cases.read_text().rstrip("\n") + ",n_firms\n")


def test_a_numeric_column_gets_a_whole_number_range(project, tmp_path):
    add_integer_variable(project)
    form = new_form(project, tmp_path / "form.xlsx", "pipkin_fuentes")
    ws = load_workbook(form)["cases"]
    letter = fill(form, [])["n_firms"]
    dv = validations_by_column(ws)[letter]
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("whole", "between", "1", "500")
    assert "Firms studied" == dv.promptTitle and "How many firms" in dv.prompt


def test_a_filled_form_adds_exactly_its_filled_rows_with_their_provenance(project, tmp_path, capsys):
    study = Study(project, "african_clusters")
    form = new_form(project, tmp_path / "form.xlsx")
    fill(form, [cluster(1), cluster(2, growth=0, _coded_on="2026-12-01")])  # rows 3 to 5 stay empty (coder name only)
    before = study.cases_path.read_bytes()
    form_bytes = form.read_bytes()
    assert run(project, "add-case", "--study", "african_clusters", form) == 0
    assert "added 2 case(s)" in capsys.readouterr().out
    assert form.read_bytes() == form_bytes  # the workbook is only read
    after = study.cases_path.read_bytes()
    assert after.startswith(before)
    assert after[len(before):].decode().splitlines() == [
        "synthetic_1,Synthetica,SYNTHETIC cluster (not real),1,0,0,1,1,0,1,1,0,0,1,0,0,0,1,0",
        "synthetic_2,Synthetica,SYNTHETIC cluster (not real),1,0,0,1,0,0,1,1,0,0,1,0,0,0,1,0"]
    record = read_provenance(project / "data/coded/african_clusters/provenance.csv")
    assert record["case_id"].tolist() == ["synthetic_1", "synthetic_2"]
    assert record["source"].tolist() == [SYNTHETIC["_source"]] * 2
    assert record["coded_on"].tolist() == ["", "2026-12-01"] and set(record["consensus"]) == {"no"}
    assert set(record["added_from"]) == {"form.xlsx"}
    assert run(project, "cases", "--study", "african_clusters", "--provenance") == 0
    listing = capsys.readouterr().out
    assert "27 case(s)" in listing and "SYNTHETIC source" in listing


@pytest.mark.parametrize("study_name, change, cell, message", [
    ("african_clusters", {"growth": "yes"}, "H", "value 'yes' is not allowed; expected one of 0, 1"),  # binary
    ("african_clusters", {"case_id": "Synthetic 1"}, "A", "expected a unique identifier"),  # identifier
    ("african_clusters", {"country": None}, "B", "the cell is empty; expected non-empty text"),  # text
    ("african_clusters", {"_source": None}, "T", "the cell is empty; expected source (citation)"),  # provenance
    ("african_clusters", {"_coded_on": "yesterday"}, "W", "is not a date; expected YYYY-MM-DD"),
    ("pipkin_fuentes", {"sector": "heavy_industry"}, "E", "value 'heavy_industry' is not allowed; expected one of "
                                                          "primary_product, light_manufacturing"),  # category
    ("pipkin_fuentes", {"n_firms": 3.5}, "U", "value '3.5' is not allowed; expected a whole number >= 1 and <= 500"),
    ("pipkin_fuentes", {"n_firms": 0}, "U", "value '0' is not allowed; expected a whole number >= 1 and <= 500"),
])
def test_one_invalid_value_refuses_the_whole_form_naming_its_cell(project, tmp_path, capsys, study_name, change, cell, message):
    if study_name == "pipkin_fuentes":
        add_integer_variable(project)
        good = {"case_study": "SYNTHETIC case study", "country": "Synthetica", "industry": "SYNTHETIC widgets",
                "sector": "primary_product", "trigger_buyer_demand": 1, "trigger_market_shock": 0, "shock_source": "none",
                "trigger_other": 0, "initiator": "state", "learning_state_agency": 1, "learning_business_association": 0,
                "learning_buyers": 0, "learning_other": 0, "upgrading_outcome": "intermediate",
                "upgrading_process": 1, "upgrading_product": 0, "upgrading_functional": 0, "upgrading_chain": 0,
                "n_firms": 12, "_source": "SYNTHETIC source", "_coder": "alice"}
        rows = [{"case_id": "synthetic_1", **good}, {"case_id": "synthetic_2", **good, **change}]
    else:
        rows = [cluster(1), cluster(2, **change)]
    study = Study(project, study_name)
    form = new_form(project, tmp_path / "form.xlsx", study_name)
    letters = fill(form, rows)
    name = next(iter(change))
    assert letters[name] == cell
    before, form_bytes = study.cases_path.read_bytes(), form.read_bytes()
    assert run(project, "add-case", "--study", study_name, form) == 1
    err = capsys.readouterr().err
    assert f"form.xlsx: cases!{cell}4" in err and f"column {name!r}" in err and message in err, err
    assert "cases!" not in err.replace(f"cases!{cell}4", "")  # the valid row is not blamed
    assert study.cases_path.read_bytes() == before and form.read_bytes() == form_bytes
    assert not (project / f"data/coded/{study_name}/provenance.csv").exists()


def test_an_empty_form_and_a_formula_are_refused(project, tmp_path, capsys):
    study = Study(project, "african_clusters")
    before = study.cases_path.read_bytes()
    form = new_form(project, tmp_path / "form.xlsx")
    assert run(project, "add-case", "--study", "african_clusters", form) == 1
    assert "no cases to add (every row of the form is empty)" in capsys.readouterr().err
    fill(form, [cluster(1, growth="=1+0")])
    assert run(project, "add-case", "--study", "african_clusters", form) == 1
    assert "cases!H3, column 'growth': the cell holds a formula" in capsys.readouterr().err
    assert study.cases_path.read_bytes() == before


def test_two_coders_reconcile_into_exactly_their_disagreements_and_the_consensus_is_added(project, tmp_path, capsys):
    a, b = two_coders(project, tmp_path)
    consensus = tmp_path / "consensus.xlsx"
    assert run(project, "reconcile", "--study", "african_clusters", a, b, "--out", consensus) == 0
    captured = capsys.readouterr()
    assert "3 case(s) coded by two or more coders, 3 disagreement(s)" in captured.out
    assert "synthetic_4 (coder_a)" in captured.err  # listed, not dropped
    book = load_workbook(consensus)
    sheet = book["disagreements"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=4)]
    assert rows[0] == ["Case", "Variable", "Label", "coder_a", "coder_b", "Decision", "Cell"]
    assert [r[:6] for r in rows[1:]] == [["synthetic_1", "growth", "Growth", "1", "0", None],
                                         ["synthetic_3", "ja_learning", "Learning", "1", "0", None],
                                         ["synthetic_3", "support_external", "External", "0", "1", None]]
    assert sheet.cell(row=5, column=1).value is None or "Type each decision" in sheet.cell(row=6, column=1).value
    decisions = {c: dv for dv in sheet.data_validations.dataValidation for c in str(dv.sqref).split()}
    assert set(decisions) == {"F2", "F3", "F4"} and all(list_values(book, dv) == ["0", "1"] for dv in decisions.values())
    cases = book["cases"]
    blanks = [(r, c) for r in range(3, cases.max_row + 1) for c in range(1, 20) if cases.cell(row=r, column=c).value is None]
    assert blanks == [(3, 8), (5, 14), (5, 19)] and cases.max_row == 5
    assert cases.cell(row=4, column=21).value == "1-2; 2" and cases.cell(row=3, column=22).value == "alice; bob"
    agreement = book["agreement"]
    header = [c.value for c in agreement[1]]
    assert header[:4] == ["variable", "label", "n", "percent_agreement"]
    growth = next(r for r in agreement.iter_rows(min_row=2, values_only=True) if r[0] == "growth")
    assert growth[2] == 3 and growth[3] == pytest.approx(200 / 3)
    assert [c.value for c in book["one coder only"][2]] == ["synthetic_4", "coder_a", "coder_a.xlsx"]

    agreed = tmp_path / "agreed.csv"
    assert run(project, "reconcile", "--study", "african_clusters", consensus, "--out", agreed) == 1
    err = capsys.readouterr().err
    assert "3 disputed cell(s) not settled" in err and not agreed.exists()
    for cell in ("disagreements!F2 (case 'synthetic_1', variable 'growth'): undecided (coder_a: '1', coder_b: '0')",
                 "disagreements!F3", "disagreements!F4"):
        assert cell in err
    book = load_workbook(consensus)
    for r, value in ((2, "0"), (3, "1"), (4, "1")):
        book["disagreements"].cell(row=r, column=6).value = value
    book.save(consensus)
    assert run(project, "reconcile", "--study", "african_clusters", consensus, "--out", agreed) == 0
    assert "3 agreed case(s)" in capsys.readouterr().out
    study = Study(project, "african_clusters")
    before = study.cases_path.read_bytes()
    assert run(project, "add-case", "--study", "african_clusters", agreed) == 0
    added = study.cases_path.read_bytes()[len(before):].decode().splitlines()
    assert [line.split(",")[0] for line in added] == ["synthetic_1", "synthetic_2", "synthetic_3"]
    assert added[0].split(",")[7] == "0" and added[2].split(",")[13] == "1" and added[2].split(",")[18] == "1"
    record = read_provenance(project / "data/coded/african_clusters/provenance.csv")
    assert set(record["consensus"]) == {"yes"} and set(record["coders"]) == {"alice; bob"}


def test_reconcile_never_writes_over_an_input_and_validates_every_coder(project, tmp_path, capsys):
    a, b = two_coders(project, tmp_path)
    before = b.read_bytes()
    assert run(project, "reconcile", "--study", "african_clusters", a, b, "--out", b) == 1
    assert "a command never writes over what it reads" in capsys.readouterr().err and b.read_bytes() == before
    fill(b, [cluster(1, growth="maybe", _coder="bob")])
    assert run(project, "reconcile", "--study", "african_clusters", a, b, "--out", tmp_path / "c.xlsx") == 1
    assert "coder_b.xlsx: cases!H3 (case 'synthetic_1'), column 'growth': value 'maybe' is not allowed" in capsys.readouterr().err
    assert not (tmp_path / "c.xlsx").exists()


def test_a_csv_coder_and_a_form_coder_reconcile(project, tmp_path, capsys):
    a, _ = two_coders(project, tmp_path)
    columns = Study(project, "african_clusters").codebook().coded_columns
    b = tmp_path / "coder_b.csv"
    b.write_text(",".join(columns) + "\n" + ",".join(str(cluster(1)[c]) for c in columns) + "\n")
    assert run(project, "reconcile", "--study", "african_clusters", a, b, "--out", tmp_path / "c.xlsx") == 0
    assert "1 case(s) coded by two or more coders, 0 disagreement(s) to decide, 3 case(s) coded by one coder only" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("libreoffice") is None and shutil.which("soffice") is None,
                    reason="LibreOffice is not installed (Debian: libreoffice-calc)")
@pytest.mark.parametrize("name", STUDIES)
def test_libreoffice_opens_the_form_and_the_consensus(project, tmp_path, name):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    files = [new_form(project, tmp_path / f"{name}.xlsx", name)]
    if name == "african_clusters":
        a, b = two_coders(project, tmp_path)
        assert run(project, "reconcile", "--study", name, a, b, "--out", tmp_path / "consensus.xlsx") == 0
        files.append(tmp_path / "consensus.xlsx")
    out = tmp_path / "converted"
    for path in files:
        done = subprocess.run([office, f"-env:UserInstallation=file://{tmp_path}/lo_profile", "--headless",
                               "--convert-to", "csv", "--outdir", str(out), str(path)],
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        lines = (out / f"{path.stem}.csv").read_text(encoding="utf-8", errors="replace").splitlines()
        codebook = Study(project, name).codebook()
        assert lines[1].split(",")[: len(codebook.variables)] == codebook.coded_columns


def test_a_decision_typed_in_the_cases_sheet_counts_and_a_contradicting_one_is_refused(project, tmp_path, capsys):
    a, b = two_coders(project, tmp_path)
    consensus = tmp_path / "consensus.xlsx"
    assert run(project, "reconcile", "--study", "african_clusters", a, b, "--out", consensus) == 0
    book = load_workbook(consensus)
    book["cases"]["H3"].value = "0"  # synthetic_1's growth, decided where it shows
    book["disagreements"]["F3"].value = "1"
    book["disagreements"]["F4"].value = "1"
    book["cases"]["S5"].value = "0"  # contradicts F4
    book.save(consensus)
    agreed = tmp_path / "agreed.csv"
    assert run(project, "reconcile", "--study", "african_clusters", consensus, "--out", agreed) == 1
    err = capsys.readouterr().err
    assert "1 disputed cell(s) not settled" in err
    assert "disagreements!F4 (case 'synthetic_3', variable 'support_external'): decision '1' differs from '0' typed in " in err
    assert "consensus.xlsx: cases!S5 (case 'synthetic_3'), column 'support_external'; keep one" in err and not agreed.exists()
    book["cases"]["S5"].value = None
    book.save(consensus)
    assert run(project, "reconcile", "--study", "african_clusters", consensus, "--out", agreed) == 0
    lines = agreed.read_text().splitlines()
    assert lines[0].endswith(",_source,_pages,_coder,_coded_on,_consensus")
    assert lines[1].split(",")[7] == "0" and lines[1].endswith(",yes")
    assert run(project, "reconcile", "--study", "african_clusters", consensus, "--out", agreed) == 1  # never overwritten
    assert "exists already" in capsys.readouterr().err


def test_the_added_consensus_updates_every_table_of_the_workflow(updated_run):
    """The round trip ends in the tables: two coders' SYNTHETIC cases reconciled, decided, added (in the shared
    updated run, conftest.updated_run, beside one case typed in a YAML template), and the next `snakemake` run
    brings every table of the study up to date (25 published clusters + 1 typed + 3 agreed cases)."""
    from casemeta.plan import load_plan

    project = updated_run
    study = Study(project, "african_clusters")
    files = study.files("export", load_plan(study.plan_path, study.codebook()))
    listing = pd.read_csv(files["cases.csv"])
    assert len(listing) == 29 and (listing["Cluster"] == SYNTHETIC["cluster"]).sum() == 3  # the three agreed SYNTHETIC cases
    agreed = pd.read_csv(study.cases_path, dtype=str).set_index("case_id").loc[["synthetic_1", "synthetic_3"]]
    assert agreed[["growth", "ja_learning", "support_external"]].values.tolist() == [["0", "1", "0"], ["1", "1", "1"]]  # the decisions
    for name, path in files.items():
        if name.startswith("crosstab_") and name.endswith(".md") and name != "crosstab_tests.md":
            assert "(N = 29)" in path.read_text(encoding="utf-8"), name  # every cross-tab counts the new cases
    models = pd.read_csv(files["models_dynamic.csv"], dtype=str, keep_default_na=False)
    assert models.loc[models.iloc[:, 0] == "N"].iloc[0, 1:].tolist() == ["29"] * 4  # every model fitted to the 29 cases
