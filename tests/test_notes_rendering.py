"""Every statistic in a publication table is computed or replaced by its stated reason in the same row:
the `note` of the results CSVs becomes a Note column in CSV and footnote letters (a, b, c, ...) in the
cells it explains in Markdown, LaTeX, HTML, Word and Excel, with the reasons listed under the table.

All results here are SYNTHETIC (tests/synthetic_results.py)."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText

import synthetic_results as syn
from casemeta.publish.formats import latex_escape
from casemeta.publish.tables import PENALIZED, STAR_NOTE, footnote_letter, model_tables, study_tables
from casemeta import atomic_io
from casemeta.plan import plan_from_dict
from casemeta.stats.caveats import attach
from casemeta.steps.exports import export_figures, export_tables

FORMATS = ["csv", "markdown", "latex", "html", "docx", "xlsx"]

# Which body cell (row, column) carries which footnote letters, worked out by hand from the synthetic
# results: letters follow reading order (row by row, left to right), one letter per distinct reason.
# Caveats as a reader sees them: each variable a caveat names (growth, exports) by its codebook label
LEFT_OUT = "1 of 2 case(s) left out: Growth missing"
OR_2X2 = "odds ratio defined for 2×2 tables only (this one is 3×2)"
CONSTANT = f"p-value, odds ratio and Cramér's V not computed: every case has the same value of {syn.HOSTILE_LABEL}"
MONTE_CARLO = "p-value by Monte Carlo (2000 draws, seed 1): too many tables to enumerate"
NOT_ESTIMABLE = "not estimable: outcome Growth is 1 in every case"
REFIT = "penalized LR p-value not computed: the constrained refit failed"
LOO_NOT_ESTIMABLE = "LOO AUC and Brier score not computed: outcome Growth is 1 in every case"
AUC = "LOO AUC and Brier score not computed: every case has the same outcome (1)"
EXPECTED = {
    # "Large": one of its 2 cases has no value of growth, so its growth cell (column 2) says so
    "crosstab_size": ({(1, 2): "a"}, [LEFT_OUT]),
    # one reason per results row, on the row's first cell
    "crosstab_tests": ({(0, 0): "a", (1, 0): "b", (2, 0): "c"}, [OR_2X2, CONSTANT, MONTE_CARLO]),
    # plan order after the YAML round trip: "both" then "one"; rows: exports, its interval, N, Log-lik, Method, Separation
    # (the synthetic results have no events, AIC, BIC or Tjur's R², so those rows are left out)
    # exports' own reason and the blank p-value under `stars`; the Firth fit's penalized log-likelihood;
    # the model that cannot be fitted on its Method cell
    "models_growth": ({(0, 1): "a,b", (3, 1): "c", (4, 2): "d"}, [REFIT, STAR_NOTE, PENALIZED, NOT_ESTIMABLE]),
    "cross_validation": ({(0, 0): "a", (1, 0): "b"}, [LOO_NOT_ESTIMABLE, AUC]),
}
SHEETS = ["cases", "crosstab_size", "crosstab_tests", "models_growth", "cross_validation"]


@pytest.fixture
def exported(tmp_path):
    study = syn.write_project(tmp_path)
    syn.write_results(tmp_path / "results")
    export_tables(study, tmp_path / "results", FORMATS)
    return tmp_path / "results" / "synthetic"


def _markdown_marks(text: str) -> dict:
    body = [line for line in text.splitlines() if line.startswith("| ")][1:]
    cells = [line[2:-2].split(" | ") for line in body]
    return {(r, c): m.group(1) for r, row in enumerate(cells) for c, cell in enumerate(row)
            if (m := re.search(r"<sup>([a-z,]+)</sup>$", cell))}


def _latex_marks(text: str) -> dict:
    body = text.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    cells = [re.split(r"(?<!\\)&", line.rstrip(" \\")) for line in body.splitlines()]
    return {(r, c): m.group(1) for r, row in enumerate(cells) for c, cell in enumerate(row)
            if (m := re.search(r"\\textsuperscript\{([a-z,]+)\}$", cell.strip()))}


def _html_marks(text: str) -> dict:
    rows = re.findall(r"<tr>(.*?)</tr>", text.split("<tbody>", 1)[1], flags=re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in rows]
    return {(r, c): m.group(1) for r, row in enumerate(cells) for c, cell in enumerate(row)
            if (m := re.search(r"<sup>([a-z,]+)</sup>$", cell))}


def _docx_marks(grid) -> dict:
    return {(r - 1, c): "".join(run.text for run in cell.paragraphs[0].runs if run.font.superscript)
            for r, row in enumerate(grid.rows) if r for c, cell in enumerate(row.cells)
            if any(run.font.superscript for run in cell.paragraphs[0].runs)}


def _xlsx_marks(sheet, n_rows: int) -> dict:
    marks = {}
    for r, row in enumerate(sheet.iter_rows(min_row=3, max_row=2 + n_rows)):
        for c, cell in enumerate(row):
            if isinstance(cell.value, CellRichText):
                marks[(r, c)] = "".join(b.text for b in cell.value if not isinstance(b, str) and b.font.vertAlign == "superscript")
            elif isinstance(cell.value, (int, float)) and '"' in cell.number_format:  # a number keeps its letters in its format
                marks[(r, c)] = cell.number_format.split('"')[1]
    return marks


@pytest.mark.parametrize("name", EXPECTED)
def test_every_format_marks_the_same_cells_and_lists_the_reasons(exported, name):
    marks, reasons = EXPECTED[name]
    listed = [(footnote_letter(i), text) for i, text in enumerate(reasons)]
    tables = exported / "tables"
    markdown = (tables / f"{name}.md").read_text(encoding="utf-8")
    assert _markdown_marks(markdown) == marks
    assert all(f"<sup>{x}</sup> {text.replace('_', chr(92) + '_')}  " in markdown for x, text in listed)
    latex = (tables / f"{name}.tex").read_text(encoding="utf-8")
    assert _latex_marks(latex) == marks
    assert all(f"\\textsuperscript{{{x}}} {latex_escape(text)}" in latex for x, text in listed)
    page = (tables / f"{name}.html").read_text(encoding="utf-8")
    assert _html_marks(page) == marks
    assert all(f"<p class=\"note\"><sup>{x}</sup> {text.replace(chr(34), '&quot;').replace(chr(39), '&#x27;')}</p>" in page for x, text in listed)

    doc = Document(exported / "synthetic_tables.docx")
    index = SHEETS.index(name)
    assert _docx_marks(doc.tables[index]) == marks
    paragraphs = [p for p in doc.paragraphs if p.runs and p.runs[0].font.superscript]
    assert all(any(p.runs[0].text == x and p.text == f"{x} {text}" for p in paragraphs) for x, text in listed)

    sheet = load_workbook(exported / "synthetic_tables.xlsx", rich_text=True)[f"Table {index + 1}"]
    n_rows = len(pd.read_csv(tables / f"{name}.csv", dtype=str, keep_default_na=False))
    assert _xlsx_marks(sheet, n_rows) == marks
    column_a = [sheet.cell(row=r, column=1).value for r in range(3 + n_rows, sheet.max_row + 1)]
    assert all(f"{x} {text}" in column_a for x, text in listed)


def test_csv_has_a_note_column_with_each_rows_reasons(exported):
    rows = list(csv.DictReader(io.StringIO((exported / "tables" / "crosstab_tests.csv").read_text(encoding="utf-8"))))
    assert [r["Note"] for r in rows] == [OR_2X2, CONSTANT, MONTE_CARLO]
    assert rows[1]["p"] == "" and rows[1]["Odds ratio"] == "" and rows[1]["Cramér's V"] == ""
    models = list(csv.reader(io.StringIO((exported / "tables" / "models_growth.csv").read_text(encoding="utf-8"))))
    assert models[0] == ["", "Both", "One", "Note"]
    # the Note names the model column it explains; the estimate is ∞ (not a number reader's inf)
    assert models[1][1:] == ["∞", "", f"Both: {REFIT}; Both: {STAR_NOTE}"]
    method = next(r for r in models if r[0] == "Method")
    assert method == ["Method", "Firth", "not estimable", f"One: {NOT_ESTIMABLE}"]
    crosstab = list(csv.reader(io.StringIO((exported / "tables" / "crosstab_size.csv").read_text(encoding="utf-8"))))
    # a category no case uses: 0 cases, and 0 of 0 with growth (no share of nothing)
    assert crosstab[3] == ["Huge", "0", "0/0", ""]
    assert crosstab[1] == ["Small", "3", "2/3 (67%)", ""]
    # a share over the cases with a known outcome: 1 of the 2 large cases has one
    assert crosstab[2] == ["Large", "2", "1/1 (100%)", f"Growth: {LEFT_OUT}"]


def test_a_table_without_stated_reasons_has_no_note_column(exported):
    header = (exported / "tables" / "cases.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "Case,Size"


def test_older_results_without_note_column_still_render(tmp_path):
    study = syn.write_project(tmp_path)
    syn.write_results(tmp_path / "results", without_notes=True)
    export_tables(study, tmp_path / "results", FORMATS)
    tables = tmp_path / "results" / "synthetic" / "tables"
    assert "Note" not in (tables / "crosstab_tests.csv").read_text(encoding="utf-8").splitlines()[0]
    assert _markdown_marks((tables / "crosstab_tests.md").read_text(encoding="utf-8")) == {}
    # the blank p-value under `stars` is still marked: never silently no star
    # and older results say by their method alone that a Firth fit's log-likelihood is penalized
    assert _markdown_marks((tables / "models_growth.md").read_text(encoding="utf-8")) == {(0, 1): "a", (3, 1): "b"}
    assert f"<sup>a</sup> {STAR_NOTE}" in (tables / "models_growth.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("with_stars", [True, False])
def test_blank_p_value_is_marked_only_where_stars_are_shown(tmp_path, with_stars):
    plan = {**syn.PLAN, "publication": {"stars": with_stars}}
    codebook = syn.codebook(tmp_path)
    models = syn.logistic_models().drop(columns=["note", "caveats"])  # no stated reason at all
    table = model_tables(models, plan_from_dict(plan, codebook), codebook)[0]
    assert (STAR_NOTE in table.footnotes()) is with_stars
    assert table.frame["Both"].iloc[0] == "∞"  # no star without a p-value


def _degenerate(kind: str) -> dict[str, pd.DataFrame]:
    """SYNTHETIC results a valid small study produces."""
    models = syn.logistic_models()
    if kind == "one case":
        crosstabs = syn.crosstabs().assign(count=[0, 1, 0, 0, 0, 0, 0])
        derived = syn.derived_cases().iloc[:1]
    else:
        crosstabs, derived = syn.crosstabs(), syn.derived_cases()
    if kind in ("one case", "nothing estimable"):
        models = attach(pd.DataFrame([{"model": f"growth ~ {m}", "outcome": "growth", "predictor_set": m, "predictors": "exports"}
                                      for m in ("one", "both")]), [(syn.NOT_ESTIMABLE,)] * 2).reindex(columns=models.columns)
    if kind == "all intervals blank":
        models = models.assign(or_ci_low=float("nan"), or_ci_high=float("nan"), std_error=float("nan"))
    if kind == "one category":
        crosstabs = crosstabs[crosstabs["condition_value"] == "small"]
    cv = syn.cross_validation().iloc[:0] if kind in ("one case", "nothing estimable") else syn.cross_validation()
    return {"crosstabs.csv": crosstabs, "crosstab_tests.csv": syn.crosstab_tests(), "logistic_models.csv": models,
            "cross_validation.csv": cv, "derived_cases.csv": derived}


@pytest.mark.parametrize("kind", ["one case", "nothing estimable", "all intervals blank", "one category"])
def test_degenerate_results_render_in_every_format_with_figures(tmp_path, kind):
    study = syn.write_project(tmp_path)
    out = tmp_path / "results" / "synthetic"
    for name, frame in _degenerate(kind).items():
        (out / "models").mkdir(parents=True, exist_ok=True)
        atomic_io.write_csv(out / ("" if name == "derived_cases.csv" else "models") / name, frame)
    export_tables(study, tmp_path / "results", FORMATS)
    figures = export_figures(study, tmp_path / "results")
    doc = Document(out / "synthetic_tables.docx")
    book = load_workbook(out / "synthetic_tables.xlsx")
    assert book.sheetnames == ["Tables", *(f"Table {i}" for i in range(1, len(SHEETS) + 1))] and len(doc.tables) == len(SHEETS)
    assert [row[1].value for row in book["Tables"].iter_rows(min_row=2)] == [p.text.split(". ", 1)[1] for p in doc.paragraphs
                                                                             if p.style.name == "Caption"]
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    models = pd.read_csv(out / "tables" / "models_growth.csv", dtype=str, keep_default_na=False, index_col=0)
    cv = pd.read_csv(out / "tables" / "cross_validation.csv", dtype=str, keep_default_na=False)
    has_forest = any(p.name == "forest_odds_ratios.png" for p in figures)
    if kind in ("one case", "nothing estimable"):
        assert models.loc["Method"].tolist()[:2] == ["not estimable", "not estimable"]
        assert cv.empty and "No model was checked out of sample." in (out / "tables" / "cross_validation.md").read_text()
        # the declared figure says there is nothing to plot
        assert has_forest and "forest_odds_ratios.png" in {p.name for p in figures}
    else:
        assert has_forest
    if kind == "all intervals blank":
        assert models.iloc[1].tolist()[:2] == ["", ""]  # no "[, ]" for an interval that was not computed
    if kind == "one category":
        assert pd.read_csv(out / "tables" / "crosstab_size.csv")["Size"].tolist() == ["Small"]
    assert {p.suffix for p in figures} == {".png", ".pdf"}


def test_study_tables_with_no_cases_are_every_declared_table_with_no_row(tmp_path):
    from casemeta.study import study_table_names

    codebook = syn.codebook(tmp_path)
    plan = plan_from_dict(syn.PLAN, codebook)
    empty = {"crosstabs": syn.crosstabs().iloc[:0], "tests": syn.crosstab_tests().iloc[:0],
             "models": syn.logistic_models().iloc[:0], "cross_validation": syn.cross_validation().iloc[:0]}
    tables = study_tables(syn.derived_cases().iloc[:0], empty, codebook, plan)
    assert [t.name for t in tables] == study_table_names(plan)
    assert tables[0].title == "Coded cases (0)" and tables[0].frame.empty
