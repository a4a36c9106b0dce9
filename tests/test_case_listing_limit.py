"""Case listings that scale: Word and LaTeX print the first cases up to the plan's limit and say where the rest are."""

import docx
import pandas as pd

from casemeta.publish.tables import CASE_LISTING_LIMIT, case_listing
from casemeta.steps.exports import files_in_folder, write_formats


def _codebook():
    from casemeta.study import Study
    from conftest import ROOT

    return Study(ROOT, "african_clusters").codebook()


def _listing(n: int, limit: int):
    codebook = _codebook()
    frame = pd.DataFrame({codebook.id_column: [f"synthetic_{i:03d}" for i in range(n)]})  # synthetic case ids
    return case_listing(frame, codebook, [codebook.id_column], limit)


def test_one_case_over_the_limit_is_left_out_of_word_and_latex_only(tmp_path):
    limit = 5
    table = _listing(limit + 1, limit)
    written = write_formats([table], files_in_folder(tmp_path, "s", ["cases"]), "S", ["csv", "latex", "docx", "xlsx"])
    assert tmp_path / "s_tables.docx" in written
    word = docx.Document(tmp_path / "s_tables.docx")
    assert len(word.tables[0].rows) == 1 + limit  # header + the first 5 cases
    text = "\n".join(p.text for p in word.paragraphs)
    note = "Only the first 5 of 6 rows are listed here; the full list is in tables/cases.csv and s_tables.xlsx."
    assert note in text
    latex = (tmp_path / "tables" / "cases.tex").read_text()
    assert "synthetic\\_004" in latex and "synthetic\\_005" not in latex
    assert "tables/cases.csv and s\\_tables.xlsx" in latex
    assert "synthetic\\_005" not in (tmp_path / "tables.tex").read_text()
    csv = pd.read_csv(tmp_path / "tables" / "cases.csv")
    assert len(csv) == limit + 1  # the CSV keeps every case


def test_at_the_limit_every_case_is_listed_without_a_note(tmp_path):
    table = _listing(5, 5)
    write_formats([table], files_in_folder(tmp_path, "s", ["cases"]), "S", ["latex"])
    latex = (tmp_path / "tables" / "cases.tex").read_text()
    assert "synthetic\\_004" in latex and "Only the first" not in latex


def test_without_csv_or_xlsx_the_note_says_how_to_get_the_full_list(tmp_path):
    write_formats([_listing(3, 2)], files_in_folder(tmp_path, "s", ["cases"]), "S", ["latex"])
    assert "add csv or xlsx to the export formats" in (tmp_path / "tables" / "cases.tex").read_text()


def test_the_plan_sets_the_limit_and_the_default_is_200():
    from casemeta.plan import _schema

    assert CASE_LISTING_LIMIT == 200
    assert _schema()["properties"]["publication"]["properties"]["case_listing_limit"] == {"type": "integer", "minimum": 1}


def test_a_qca_cell_lists_cases_up_to_the_limit_and_counts_the_rest():
    from casemeta.publish.qca_tables import capped_cases

    assert capped_cases("a,b,c", 3) == "a,b,c"
    assert capped_cases("a,b,c,d", 3) == "a,b,c … and 1 more"
    assert capped_cases("a,b; c,d,e", 2) == "a,b … and 3 more"  # a solution's cases: configurations apart by "; "
    assert capped_cases("", 1) == "" and capped_cases("a,b", None) == "a,b"


def test_qca_tables_of_many_cases_fit_every_format_and_point_to_the_csv(tmp_path):
    """1,000 synthetic cases in one configuration: 8,000+ characters of ids in the truth table's `Cases` cell,
    cut to the limit in every format (Excel holds 32,767 characters a cell), with a note naming the CSV."""
    from casemeta.publish.qca_tables import solutions_table, truth_table_table
    from casemeta.stats.qca import MODEL_ROW

    ids = ",".join(f"synthetic_{i:04d}" for i in range(1000))
    tt = pd.DataFrame({"A": [1], "OUT": ["1"], "n": [1000], "incl": [1.0], "PRI": [1.0], "cases": [ids]})
    sol = pd.DataFrame({"solution": ["C", "C"], "model": [1, 1], "term": ["A", MODEL_ROW], "inclS": [1.0, 1.0],
                        "PRI": [1.0, 1.0], "covS": [1.0, 1.0], "covU": [1.0, float("nan")], "cases": [ids, ""]})
    tables = [truth_table_table("truth_table", "T", tt, ["A"], [], case_limit=4),
              solutions_table("solutions", "S", sol, "Y", [], case_limit=4)]
    assert tables[0].frame.at[0, "Cases"] == "synthetic_0000,synthetic_0001,synthetic_0002,synthetic_0003 … and 996 more"
    assert tables[1].frame.at[0, "Cases"] == tables[0].frame.at[0, "Cases"]
    assert tables[0].notes == ["A cell lists at most 4 cases; every case is in the analysis's truth_table.csv."]
    assert tables[1].notes == ["Notation: * joins conditions (and), + separates alternative paths (or), ~ marks a condition's "
                               "absence.", "A cell lists at most 4 cases; every case is in the analysis's solutions.csv."]
    write_formats(tables, files_in_folder(tmp_path, "q", [t.name for t in tables]), "Q", ["csv", "latex", "docx", "xlsx"])  # no cell too long for Excel
    assert "… and 996 more" in (tmp_path / "tables" / "truth_table.tex").read_text()
    # at the default limit, 200 ids stay well under Excel's cell limit
    assert len(truth_table_table("t", "T", tt, ["A"], []).frame.at[0, "Cases"]) < 32767 // 4
