"""Exports never hold a formula a spreadsheet would run, never crash on any text, refuse what Excel
would cut, say clearly what is missing before a workflow run, and leave no half-written file.

Results and codebook here are SYNTHETIC (tests/synthetic_results.py)."""

from __future__ import annotations

import csv
import errno
import io
import os

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

import synthetic_results as syn
from casemeta import atomic_io
from casemeta.cli import main
from casemeta.errors import CasemetaError
from casemeta.publish.formats import (
    EXCEL_CELL_LIMIT, spreadsheet_safe, to_csv, to_html, to_latex, to_markdown, write_docx, write_xlsx,
)
from casemeta.publish.tables import PubTable
from casemeta.steps.exports import export_figures, export_tables

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may run as a formula

# What Excel and LibreOffice Calc make of each text typed or opened from a CSV, worked out by hand:
# a plain number stays as it is; anything else starting with = + - @ tab or CR is (or may become) a formula
# (+e5 and -E1 are references to cells E5 and E1, -e9% is E9 as a percentage, -inf is #NAME?).
SPREADSHEET_READS = [
    ("+e5", "'+e5"), ("-E1", "'-E1"), ("-e9%", "'-e9%"), ("+E+5", "'+E+5"), ("-inf", "'-inf"), ("-nan", "'-nan"),
    ("-1+1", "'-1+1"), ("-", "'-"), ("-,5", "'-,5"), ("-1,2", "'-1,2"), ("=1", "'=1"), ("@A1", "'@A1"), ("\t1", "'\t1"),
    ("-0.52", "-0.52"), ("+12%", "+12%"), ("-1e5", "-1e5"), ("-1.5E-3", "-1.5E-3"), ("-.5", "-.5"),
    ("-1,234.5", "-1,234.5"), ("1,234", "1,234"), ("12%", "12%"), ("−0.52", "−0.52"),  # U+2212 minus: plain text
    ("a\x00b", "a\ufffdb"),
]
HOSTILE = ["+e5", "-E1", "-e9%", "=1+1", "@SUM(A1)", "\tx", "\rx", "-cmd", "-0.52", "1,234", "12%", syn.HOSTILE_LABEL]


@pytest.mark.parametrize("text, safe", SPREADSHEET_READS)
def test_spreadsheet_safe_lets_only_plain_numbers_through(text, safe):
    assert spreadsheet_safe(text) == safe


def _plain_number(text: str) -> bool:
    """A number a spreadsheet reads as one (checked independently of the exporter's pattern)."""
    digits = text.lstrip("+-")
    try:
        float(text.replace(",", "").removesuffix("%"))
    except ValueError:
        return False
    return digits[:1].isdigit() or digits[:1] == "."


def _hostile_table() -> PubTable:
    frame = pd.DataFrame({"+e5": HOSTILE, "=cmd()": list(reversed(HOSTILE))})
    table = PubTable("=evil", syn.HOSTILE_LABEL, frame, ["=1+1", "-e9%"])
    table.mark(0, 0, "=HYPERLINK(\"http://x\",\"why\")")  # a reason can start like a formula too
    return table


def test_no_csv_cell_starts_like_a_formula_unless_it_is_a_plain_number():
    rows = list(csv.reader(io.StringIO(to_csv(_hostile_table()), newline="")))
    cells = [c for row in rows for c in row]
    assert rows[0] == ["'+e5", "'=cmd()", "Note"]
    assert rows[1][2] == "'=HYPERLINK(\"http://x\",\"why\")"
    for cell in cells:
        assert not cell.startswith(FORMULA_START) or _plain_number(cell), cell
    # every neutralised cell is the original text after one apostrophe
    assert [r[0] for r in rows[1:]] == [h if h.startswith(("-0", "1", "1,")) or not h.startswith(FORMULA_START) else "'" + h for h in HOSTILE]


def _all_cells(book):
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_excel_titles_notes_headers_and_sheet_names_are_never_formulas(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx([_hostile_table()], path)
    book = load_workbook(path)
    assert book.sheetnames == ["Tables", "Table 1"]
    assert book["Tables"]["B2"].value == syn.HOSTILE_LABEL and book["Tables"]["B2"].quotePrefix  # the index lists the title
    sheet = book["Table 1"]
    assert sheet["A1"].value == syn.HOSTILE_LABEL and sheet["A1"].quotePrefix
    assert [sheet["A2"].value, sheet["B2"].value] == ["+e5", "=cmd()"]
    assert [c.value for c in sheet["A"][2:2 + len(HOSTILE)]] == [HOSTILE[0] + "a", *HOSTILE[1:]]  # + footnote letter
    notes = [c.value for c in sheet["A"][2 + len(HOSTILE):]]
    assert notes == ["=1+1", "-e9%", "a =HYPERLINK(\"http://x\",\"why\")"]
    cells = _all_cells(book)
    assert cells and all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells if str(c.value).startswith(FORMULA_START))


def test_a_codebook_label_starting_with_equals_stays_text_in_every_export(tmp_path):
    study = syn.write_project(tmp_path)
    syn.write_results(tmp_path / "results")
    export_tables(study, tmp_path / "results", ["csv", "xlsx"])
    out = tmp_path / "results" / "synthetic"
    cells = _all_cells(load_workbook(out / "synthetic_tables.xlsx"))
    assert syn.HOSTILE_LABEL in {c.value for c in cells}
    assert all(c.data_type != "f" for c in cells)
    for path in (out / "tables").glob("*.csv"):
        for cell in (c for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")) for c in row):
            assert not cell.startswith(FORMULA_START) or _plain_number(cell), (path.name, cell)


def _long_table(length: int) -> PubTable:
    return PubTable("long", "Long", pd.DataFrame({"Case": ["short", "x" * length], "N": ["1", "2"]}))


def test_excel_keeps_a_cell_of_exactly_its_limit(tmp_path):
    write_xlsx([_long_table(EXCEL_CELL_LIMIT)], tmp_path / "t.xlsx")
    assert len(load_workbook(tmp_path / "t.xlsx")["Table 1"]["A4"].value) == EXCEL_CELL_LIMIT


def test_excel_refuses_a_longer_cell_naming_where_and_writes_nothing(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"the previous export")
    with pytest.raises(CasemetaError) as error:
        write_xlsx([_long_table(EXCEL_CELL_LIMIT + 1)], path)
    assert "table 'long', row 2, column 'Case': 32,768 characters; Excel holds at most 32,767" in str(error.value)
    assert path.read_bytes() == b"the previous export"
    assert os.listdir(tmp_path) == ["t.xlsx"]


def test_excel_refuses_a_longer_cell_in_a_table_with_missing_values(tmp_path):
    """A table with a blank (pd.NA) in a text column of pandas' string type: the check measured that column as NaN,
    which no limit exceeds, and let the too-long cell through."""
    frame = pd.DataFrame({"Case": pd.array(["é" * (EXCEL_CELL_LIMIT + 1), pd.NA], dtype="string"), "N": ["1", "2"]})
    with pytest.raises(CasemetaError, match="table 'blank', row 1, column 'Case': 32,768 characters"):
        write_xlsx([PubTable("blank", "Blank", frame)], tmp_path / "t.xlsx")
    assert os.listdir(tmp_path) == []


def test_export_refuses_an_over_long_cell_before_writing_any_format(tmp_path):
    study = syn.write_project(tmp_path)
    out = syn.write_results(tmp_path / "results")
    derived = syn.derived_cases()
    derived.loc[0, "case_id"] = "c" * (EXCEL_CELL_LIMIT + 1)
    atomic_io.write_csv(out / "derived_cases.csv", derived)
    with pytest.raises(CasemetaError, match="table 'cases', row 1, column 'Case'"):
        export_tables(study, tmp_path / "results", ["csv", "xlsx"])
    assert not (out / "tables").exists() and not (out / "summary.md").exists()


CONTROL = "a\x00b\x01c\x0bd\x1fe\ufffef\ud800g"
SHOWN = "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg"


def _control_table() -> PubTable:
    table = PubTable("ctl", f"Title {CONTROL}", pd.DataFrame({f"Head {CONTROL}": [CONTROL, "tab\tand\nnewline"]}), [CONTROL])
    table.mark(0, 0, CONTROL)
    return table


def test_word_and_excel_show_characters_xml_cannot_hold_as_a_replacement_mark(tmp_path):
    write_docx([_control_table()], tmp_path / "t.docx", f"Doc {CONTROL}")
    doc = Document(tmp_path / "t.docx")
    assert doc.tables[0].cell(1, 0).text == SHOWN + "a"  # the cell, then its footnote letter
    assert doc.tables[0].cell(0, 0).text == f"Head {SHOWN}"
    assert [p.text for p in doc.paragraphs] == [f"Doc {SHOWN}", f"Table 1. Title {SHOWN}", SHOWN, f"a {SHOWN}"]
    write_xlsx([_control_table()], tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx")["Table 1"]
    assert [c.value for c in sheet["A"]] == [f"Title {SHOWN}", f"Head {SHOWN}", SHOWN + "a", "tab\tand\nnewline", SHOWN, f"a {SHOWN}"]


@pytest.mark.parametrize("render", [to_csv, to_markdown, to_latex, to_html])
def test_text_formats_hold_only_characters_xml_allows(render):
    text = render(_control_table())
    assert SHOWN in text
    assert not any(ch in text for ch in "\x00\x01\x0b\x1f\ufffe\ud800")
    text.encode("utf-8")  # no lone surrogate left to fail the write


def test_export_before_any_run_says_what_to_run(tmp_path, capsys, monkeypatch):
    study = syn.write_project(tmp_path)
    (tmp_path / "Snakefile").write_text("# the project's workflow\n")
    with pytest.raises(CasemetaError) as error:
        export_tables(study, tmp_path / "results", ["csv"])
    path = tmp_path / "results" / "synthetic" / "derived_cases.csv"
    assert str(error.value) == (f"{path} not found: run `snakemake --cores 2` first (or `snakemake --cores 2 "
                                f"results/synthetic/derived_cases.csv`, in {tmp_path})")
    # a results folder nested in the project's is none the workflow writes; a results/ that is a link is the project's
    with pytest.raises(CasemetaError, match="is outside the results/ of the project's studies, where the workflow"):
        export_tables(study, tmp_path / "results" / "old" / "results", ["csv"])
    scratch = tmp_path / "scratch"
    scratch.mkdir()  # no results yet: the project's results/ a link to scratch storage
    (tmp_path / "results").symlink_to(scratch, target_is_directory=True)
    with pytest.raises(CasemetaError, match=r"\(or `snakemake --cores 2 results/synthetic/derived_cases.csv`, in "):
        export_tables(study, tmp_path / "results", ["csv"])
    monkeypatch.chdir(tmp_path)  # in the project: the target alone
    with pytest.raises(CasemetaError, match=r"first \(or `snakemake --cores 2 results/synthetic/derived_cases.csv`\)$"):
        export_tables(study, tmp_path / "results", ["csv"])
    assert main(["--root", str(tmp_path), "export", "--study", "synthetic", "--format", "csv", "--results", str(tmp_path / "results")]) == 1
    err = capsys.readouterr().err
    assert "derived_cases.csv not found: run `snakemake --cores 2` first" in err and "Traceback" not in err


def test_a_missing_file_of_a_studys_results_names_its_target_whatever_the_step(tmp_path):
    """Not only the files every study has: a multiverse chunk's (the plan names them), as robustness-gather reads
    them; the same folder nested in another results/ names none (a review found both)."""
    from casemeta.steps.exports import require_results

    syn.write_project(tmp_path)
    (tmp_path / "Snakefile").write_text("# the project's workflow\n")
    chunk = tmp_path / "results" / "synthetic" / "robustness" / "chunks" / "1_of_1" / "universes.csv"
    with pytest.raises(CasemetaError, match=r"\(or `snakemake --cores 2 results/synthetic/robustness/chunks/1_of_1/"
                                            r"universes.csv`, in "):
        require_results([chunk])
    with pytest.raises(CasemetaError, match="outside the results/ of the project's studies"):
        require_results([tmp_path / "results" / "old" / "results" / "synthetic" / "derived_cases.csv"])


def test_export_without_model_results_names_the_missing_files(tmp_path):
    study = syn.write_project(tmp_path)
    (tmp_path / "Snakefile").write_text("# the project's workflow\n")
    out = syn.write_results(tmp_path / "results")
    (out / "models" / "cross_validation.csv").unlink()
    (out / "models" / "crosstabs.csv").unlink()
    with pytest.raises(CasemetaError, match=r"models: crosstabs.csv, cross_validation.csv not found: run `snakemake --cores 2` first"):
        export_tables(study, tmp_path / "results", ["csv"])
    with pytest.raises(CasemetaError, match=r"models/crosstabs.csv not found: run `snakemake --cores 2` first"):
        export_figures(study, tmp_path / "results")  # the figures read the cross-tabs and the models only


def test_a_failed_export_leaves_every_file_as_it_was(tmp_path, monkeypatch):
    study = syn.write_project(tmp_path)
    out = syn.write_results(tmp_path / "results")
    export_tables(study, tmp_path / "results", ["csv", "markdown", "docx", "xlsx"])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "models" / "crosstab_tests.csv").write_text((out / "models" / "crosstab_tests.csv").read_text().replace("0.4", "0.5"))
    before[out / "models" / "crosstab_tests.csv"] = (out / "models" / "crosstab_tests.csv").read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_io.os, "fsync", disk_full)  # every file is written in full, then the disk is full
    with pytest.raises(CasemetaError, match="cannot write it: the disk is full"):  # one clear line, no traceback
        export_tables(study, tmp_path / "results", ["csv", "markdown", "docx", "xlsx"])
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no temporary file left, no file changed


def test_export_removes_tables_and_figures_the_results_no_longer_give(tmp_path):
    study = syn.write_project(tmp_path)
    out = syn.write_results(tmp_path / "results")
    export_tables(study, tmp_path / "results", ["csv", "markdown"])
    export_figures(study, tmp_path / "results")
    assert (out / "figures" / "forest_odds_ratios.png").exists()
    (out / "tables" / "notes.txt").write_text("the researcher's own file")
    # the next run finds no case at all: every declared table and figure says so (none is left describing cases)
    atomic_io.write_csv(out / "derived_cases.csv", syn.derived_cases().iloc[:0])
    for name in ("crosstabs.csv", "logistic_models.csv"):
        atomic_io.write_csv(out / "models" / name, pd.read_csv(out / "models" / name).iloc[:0])
    export_tables(study, tmp_path / "results", ["csv"])
    export_figures(study, tmp_path / "results")
    names = ("cases", "crosstab_size", "crosstab_tests", "models_growth", "cross_validation")
    assert sorted(p.name for p in (out / "tables").iterdir()) == sorted(
        ["notes.txt", *[f"{t}.{ext}" for t in names for ext in ("csv", "md")]])
    assert pd.read_csv(out / "tables" / "cases.csv").empty
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        f"{f}.{ext}" for f in ("crosstab_size", "forest_odds_ratios") for ext in ("png", "pdf"))
