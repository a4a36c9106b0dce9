"""Case listings that scale: Word and LaTeX print the first cases up to the plan's limit and say where the rest are."""

import docx
import pandas as pd

from casemeta.publish.tables import CASE_LISTING_LIMIT, case_listing
from casemeta.steps.exports import write_formats


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
    written = write_formats([table], tmp_path, "s", "S", ["csv", "latex", "docx", "xlsx"])
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
    write_formats([table], tmp_path, "s", "S", ["latex"])
    latex = (tmp_path / "tables" / "cases.tex").read_text()
    assert "synthetic\\_004" in latex and "Only the first" not in latex


def test_without_csv_or_xlsx_the_note_says_how_to_get_the_full_list(tmp_path):
    write_formats([_listing(3, 2)], tmp_path, "s", "S", ["latex"])
    assert "add csv or xlsx to the export formats" in (tmp_path / "tables" / "cases.tex").read_text()


def test_the_plan_sets_the_limit_and_the_default_is_200():
    from casemeta.plan import _schema

    assert CASE_LISTING_LIMIT == 200
    assert _schema()["properties"]["publication"]["properties"]["case_listing_limit"] == {"type": "integer", "minimum": 1}
