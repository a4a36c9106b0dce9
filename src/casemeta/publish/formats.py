"""Render publication tables as CSV, Markdown, LaTeX (booktabs), HTML, Word and Excel.

Every format keeps cell text intact: LaTeX and HTML escape special characters,
Markdown backslash-escapes punctuation, and spreadsheet formats never let a
cell that starts like a formula run as one.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pandas as pd
from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from casemeta import atomic_io
from casemeta.publish.tables import PubTable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?$")
# CommonMark: backslash-escaped ASCII punctuation shows as itself. Inside a table cell only
# these characters can change what is shown (emphasis, code, links, HTML, cell breaks, math
# and strike-through in common extensions); & only where it would start an entity such as &amp;
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$^]|&(?=#?\w+;))")
LATEX_SPECIALS = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def spreadsheet_safe(value) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice).

    Numbers such as -0.52 stay numbers; only text is neutralised.
    """
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if text.startswith(FORMULA_START) and not NUMBER.match(text):
        return "'" + text
    return text


def latex_escape(text: str) -> str:
    """Escape the characters pandas' Styler escapes in cells, for captions and notes."""
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def markdown_escape(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def to_csv(table: PubTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([spreadsheet_safe(c) for c in table.frame.columns])
    writer.writerows([[spreadsheet_safe(v) for v in row] for row in table.frame.itertuples(index=False)])
    return buffer.getvalue()


def to_markdown(table: PubTable) -> str:
    header = "| " + " | ".join(markdown_escape(c) for c in table.frame.columns) + " |"
    rule = "|" + "|".join(":---" if i == 0 else "---:" for i in range(table.frame.shape[1])) + "|"
    body = ["| " + " | ".join(markdown_escape(v) for v in row) + " |" for row in table.frame.itertuples(index=False)]
    notes = [f"_{markdown_escape(n)}_  " for n in table.notes]
    return "\n".join([f"**{markdown_escape(table.title)}**", "", header, rule, *body, "", *notes, ""])


def to_latex(table: PubTable) -> str:
    """A `table` float with booktabs rules, a caption and notes under the tabular."""
    frame = table.frame.astype(str)
    styler = frame.style.format(escape="latex").format_index(escape="latex", axis=1).hide(axis="index")
    tabular = styler.to_latex(hrules=True, column_format="l" + "r" * (frame.shape[1] - 1))
    notes = "\n".join(rf"\par\footnotesize {latex_escape(n)}" for n in table.notes)
    return "\n".join([r"\begin{table}[htbp]", r"\centering", rf"\caption{{{latex_escape(table.title)}}}",
                      rf"\label{{tab:{table.name}}}", tabular.rstrip(), r"\begin{minipage}{\linewidth}", notes,
                      r"\end{minipage}", r"\end{table}", ""])


def to_html(table: PubTable) -> str:
    body = table.frame.astype(str).to_html(index=False, escape=True, border=0, classes="casemeta-table")
    body = body.replace("<table ", f"<table id=\"{html.escape(table.name)}\" ", 1)
    caption = f"<caption>{html.escape(table.title)}</caption>"
    body = body.replace(">", ">" + caption, 1) if "<table" in body else body
    notes = "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in table.notes)
    return f"<figure>{body}{notes}</figure>\n"


def latex_document(tables: list[PubTable], title: str, table_dir: str = "tables") -> str:
    """A complete document that \\inputs every table; compiles with pdflatex."""
    inputs = "\n".join(rf"\input{{{table_dir}/{t.name}.tex}}" for t in tables)
    return "\n".join([
        r"\documentclass[a4paper,10pt]{article}", r"\usepackage[T1]{fontenc}", r"\usepackage[utf8]{inputenc}",
        r"\usepackage{textcomp}", r"\usepackage{booktabs}", r"\usepackage[margin=2cm,landscape]{geometry}",
        r"\DeclareUnicodeCharacter{2212}{\ensuremath{-}}", r"\DeclareUnicodeCharacter{221E}{\ensuremath{\infty}}",
        r"\DeclareUnicodeCharacter{00D7}{\ensuremath{\times}}", r"\DeclareUnicodeCharacter{2264}{\ensuremath{\leq}}",
        r"\DeclareUnicodeCharacter{2013}{--}",
        rf"\title{{{latex_escape(title)}}}", r"\date{}", r"\begin{document}", r"\maketitle", inputs, r"\end{document}", ""])


def write_docx(tables: list[PubTable], path: Path, title: str) -> None:
    doc = Document()
    doc.add_heading(title, level=1)
    for table in tables:
        doc.add_heading(table.title, level=2)
        grid = doc.add_table(rows=1, cols=table.frame.shape[1])
        grid.style = "Table Grid"
        for cell, name in zip(grid.rows[0].cells, table.frame.columns):
            cell.text = str(name)
            cell.paragraphs[0].runs[0].font.bold = True
        for row in table.frame.itertuples(index=False):
            for cell, value in zip(grid.add_row().cells, row):
                cell.text = str(value)
        for note in table.notes:
            doc.add_paragraph(note).runs[0].font.size = Pt(8)
    atomic_io.atomic_write(path, lambda tmp: doc.save(tmp))


def sheet_name(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
    candidate, i = base, 2
    while candidate.lower() in used:
        candidate = f"{base[:28]}_{i}"
        i += 1
    used.add(candidate.lower())
    return candidate


def write_xlsx(tables: list[PubTable], path: Path) -> None:
    """One sheet per table. Text is stored as text, so nothing starting with '=' becomes a formula."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(sheet_name(table.name, used))
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        rows = [list(map(str, table.frame.columns)), *[[str(v) for v in row] for row in table.frame.itertuples(index=False)]]
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                cell.value = value
                cell.data_type = "s"  # never a formula, whatever the text starts with
                if value.startswith(FORMULA_START):
                    cell.quotePrefix = True  # Excel shows it as text, even after editing
                if r == 2:
                    cell.font = Font(bold=True)
                elif c > 1:
                    cell.alignment = Alignment(horizontal="right")
        for note in table.notes:
            sheet.append([note])
    atomic_io.atomic_write(path, lambda tmp: book.save(tmp))


FORMATS = ("latex", "markdown", "html", "csv", "docx", "xlsx")
RENDERERS = {"csv": (to_csv, "csv"), "markdown": (to_markdown, "md"), "latex": (to_latex, "tex"), "html": (to_html, "html")}
