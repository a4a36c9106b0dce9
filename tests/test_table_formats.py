"""Publication formats keep every cell's text intact, and spreadsheets never run a cell as a formula."""

import csv
import io
import re
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

from casemeta.publish.tables import PubTable
from conftest import latex_missing
from casemeta.publish.formats import (
    LATEX_SPECIALS, latex_document, spreadsheet_safe, to_csv, to_html, to_latex, to_markdown, write_docx, write_xlsx,
)

HOSTILE = "Cape Clothing & Textile"
EVERY_SPECIAL = r"A&B 100% my_name #1 $5 {x} ~y ^z back\slash"
FORMULA = "=HYPERLINK(\"http://x\",\"click\")"
NAMES = [HOSTILE, EVERY_SPECIAL, FORMULA, "@SUM(A1)", "-cmd", "+1+1"]


@pytest.fixture
def table():
    frame = pd.DataFrame({"Cluster": NAMES, "Estimate": ["1.50", "-0.52", "2", "3", "4", "5"]})
    return PubTable("special", "Names & 100% of $pecial_chars", frame, ["Note: ~ and ^ and \\ survive."])


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._in, self._buf = True, ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._in:
            self.cells.append(self._buf)
            self._in = False

    def handle_data(self, data):
        if self._in:
            self._buf += data


def html_cells(markup: str) -> list[str]:
    parser = _Cells()
    parser.feed(markup)
    return parser.cells


def test_csv_neutralises_formulas_and_keeps_everything_else(table):
    rows = list(csv.reader(io.StringIO(to_csv(table))))
    names = [r[0] for r in rows[1:]]
    assert names[0] == HOSTILE and names[1] == EVERY_SPECIAL
    assert names[2] == "'" + FORMULA
    assert names[3:] == ["'@SUM(A1)", "'-cmd", "'+1+1"]
    assert [r[1] for r in rows[1:3]] == ["1.50", "-0.52"]  # numbers are not text: untouched
    # a reader removing the one apostrophe we add gets every name back
    assert [n[1:] if n.startswith("'") else n for n in names] == NAMES


@pytest.mark.parametrize("value, safe", [("=1+1", "'=1+1"), ("-0.52", "-0.52"), ("-x", "'-x"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("12%", "12%"), ("1,234", "1,234"), ("plain", "plain")])
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe


def test_markdown_renders_every_name_unharmed(table):
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py renders the Markdown as a reader sees it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(to_markdown(table))
    cells = html_cells(rendered)
    assert cells[0:2] == ["Cluster", "Estimate"]
    assert cells[2::2] == NAMES


def test_html_escapes_and_keeps_every_name(table):
    markup = to_html(table)
    assert "Cape Clothing &amp; Textile" in markup
    assert html_cells(markup)[2::2] == NAMES
    assert "<caption>Names &amp; 100% of $pecial_chars</caption>" in markup


def _unescape_latex(text: str) -> str:
    inverse = {v.replace("{}", ""): k for k, v in LATEX_SPECIALS.items()}
    pattern = re.compile("|".join(re.escape(k) + (r"(?:\{\}| )?" if k[1:].isalpha() else "") for k in sorted(inverse, key=len, reverse=True)))
    return pattern.sub(lambda m: inverse[m.group(0).rstrip(" {}") if m.group(0)[1:2].isalpha() else m.group(0)], text)


def test_latex_escapes_every_special_character_and_round_trips(table):
    tex = to_latex(table)
    assert r"Cape Clothing \& Textile" in tex
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\caption{Names \& 100\% of \$pecial\_chars}" in tex
    body = [line for line in tex.splitlines() if line.endswith(r"\\") and "&" in line][1:]
    names = [_unescape_latex(re.split(r"(?<!\\)&", line)[0].strip()) for line in body]
    assert names == NAMES


@pytest.mark.skipif(bool(latex_missing()), reason=latex_missing() or "LaTeX is installed")
@pytest.mark.parametrize("siunitx", [True, False], ids=["with-siunitx", "without-siunitx"])
def test_latex_document_is_standalone_and_compiles_from_any_folder(table, tmp_path, siunitx):
    """tables.tex holds every table itself (no \\input of files beside it) and compiles from another folder;
    without siunitx (simulated: its check asks for a file that does not exist) the S columns are right-aligned."""
    doc = latex_document([table], "Test & check")
    assert "\\input" not in doc and "Cape Clothing \\& Textile" in doc
    assert "S[table-format=" in doc  # the table has a decimal column: the fallback is exercised
    if not siunitx:
        doc = doc.replace("\\IfFileExists{siunitx.sty}", "\\IfFileExists{siunitx-not-installed.sty}")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "doc.tex").write_text(doc, encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "../results/doc.tex"],
                         cwd=tmp_path / "elsewhere", capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "elsewhere" / "doc.log").read_text(encoding="latin-1")
    assert ("siunitx.sty" in log) == siunitx
    assert (tmp_path / "elsewhere" / "doc.pdf").stat().st_size > 1000


def test_word_document_keeps_every_name(table, tmp_path):
    path = tmp_path / "t.docx"
    write_docx([table], path, "Tables")
    doc = Document(path)
    assert [row.cells[0].text for row in doc.tables[0].rows] == ["Cluster", *NAMES]


def test_excel_stores_names_as_text_never_formulas(table, tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx([table, table], path)
    book = load_workbook(path)
    assert book.sheetnames == ["Tables", "Table 1", "Table 2"]  # an index, then the tables as Word and LaTeX number them
    sheet = book["Table 1"]
    names = [sheet.cell(row=r, column=1) for r in range(3, 3 + len(NAMES))]
    assert [c.value for c in names] == NAMES
    assert all(c.data_type == "s" for c in names)
    assert names[2].quotePrefix
