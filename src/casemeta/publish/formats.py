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
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Font

from casemeta import atomic_io
from casemeta.errors import CasemetaError
from casemeta.publish.tables import PubTable, footnote_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list of what a spreadsheet may run as a formula
# What may stay unprefixed after a leading + or -: a plain number as Excel and LibreOffice read it
# (-0.52, -1,234, +12%, -1.5e3), digits required before any exponent, so "-E1" or "+e5" (a cell
# reference, a formula) never passes. Grouping commas only in threes, as both read them.
NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?%?$|^[+-]?\.\d+([eE][+-]?\d+)?%?$")
# Characters XML 1.0 cannot hold (its Char production): C0 controls other than tab, LF and CR, lone
# surrogates, U+FFFE and U+FFFF. Word and Excel files are XML, so such a character would make
# python-docx and openpyxl refuse the whole file; every format shows U+FFFD in its place instead.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"
EXCEL_CELL_LIMIT = 32767  # characters Excel keeps in one cell; it silently cuts the rest
# CommonMark: backslash-escaped ASCII punctuation shows as itself. Inside a table cell only
# these characters can change what is shown (emphasis, code, links, HTML, cell breaks, math
# and strike-through in common extensions); & only where it would start an entity such as &amp;
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$^]|&(?=#?\w+;))")
LATEX_SPECIALS = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def visible_text(value) -> str:
    """Any cell, title or note as text every format can hold: blank for missing, U+FFFD for what XML cannot hold."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return NOT_XML.sub(REPLACEMENT, text)


def spreadsheet_safe(value) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice).

    Numbers such as -0.52 stay numbers; only text is neutralised.
    """
    text = visible_text(value)
    if text.startswith(FORMULA_START) and not NUMBER.match(text):
        return "'" + text
    return text


def latex_escape(text: str) -> str:
    """Escape the characters pandas' Styler escapes in cells, for captions and notes."""
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in visible_text(text))


def markdown_escape(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", visible_text(text)).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _cells(table: PubTable, escape, sup) -> list[list[str]]:
    """Every body cell escaped for a format, followed by its footnote letters as that format writes them."""
    return [[escape(v) + (sup(table.marker(r, c)) if (r, c) in table.marks else "") for c, v in enumerate(row)]
            for r, row in enumerate(table.frame.itertuples(index=False))]


def _footnotes(table: PubTable, escape, sup) -> list[str]:
    return [sup(footnote_letter(i)) + " " + escape(text) for i, text in enumerate(table.footnotes())]


def to_csv(table: PubTable) -> str:
    """Cells as printed; where a row has stated reasons, a Note column gives them in words."""
    header = list(map(str, table.frame.columns))
    rows = [list(row) for row in table.frame.itertuples(index=False)]
    if table.marks:
        header.append("Note")
        rows = [[*row, table.row_notes(r)] for r, row in enumerate(rows)]
    buffer = io.StringIO()
    # Python's csv module quotes a field holding "\r" only if "\r" is in the line terminator; a bare "\r"
    # would read back as a line break, so a row holding one is written with every field quoted.
    minimal = csv.writer(buffer, lineterminator="\n")
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in [header, *rows]:
        safe = [spreadsheet_safe(v) for v in row]
        (quoted if any("\r" in v for v in safe) else minimal).writerow(safe)
    return buffer.getvalue()


def _md_sup(letter: str) -> str:
    return f"<sup>{letter}</sup>"


def to_markdown(table: PubTable) -> str:
    header = "| " + " | ".join(markdown_escape(c) for c in table.frame.columns) + " |"
    rule = "|" + "|".join(":---" if i == 0 else "---:" for i in range(table.frame.shape[1])) + "|"
    body = ["| " + " | ".join(row) + " |" for row in _cells(table, markdown_escape, _md_sup)]
    notes = [f"_{markdown_escape(n)}_  " for n in table.notes] + [f"{n}  " for n in _footnotes(table, markdown_escape, _md_sup)]
    return "\n".join([f"**{markdown_escape(table.title)}**", "", header, rule, *body, "", *notes, ""])


def _latex_sup(letter: str) -> str:
    return rf"\textsuperscript{{{letter}}}"


def to_latex(table: PubTable) -> str:
    """A `table` float with booktabs rules, a caption and notes under the tabular.

    Cells are escaped here (not by the Styler) so that footnote letters can follow them as LaTeX.
    """
    frame = pd.DataFrame(_cells(table, latex_escape, _latex_sup), columns=[latex_escape(c) for c in table.frame.columns])
    tabular = frame.style.hide(axis="index").to_latex(hrules=True, column_format="l" + "r" * (frame.shape[1] - 1))
    notes = "\n".join(rf"\par\footnotesize {n}" for n in [*map(latex_escape, table.notes), *_footnotes(table, latex_escape, _latex_sup)])
    return "\n".join([r"\begin{table}[htbp]", r"\centering", rf"\caption{{{latex_escape(table.title)}}}",
                      rf"\label{{tab:{table.name}}}", tabular.rstrip(), r"\begin{minipage}{\linewidth}", notes,
                      r"\end{minipage}", r"\end{table}", ""])


def _html_escape(value) -> str:
    return html.escape(visible_text(value))


def to_html(table: PubTable) -> str:
    """Cells escaped here (not by pandas) so that footnote letters can follow them as <sup>."""
    frame = pd.DataFrame(_cells(table, _html_escape, _md_sup), columns=[_html_escape(c) for c in table.frame.columns])
    body = frame.to_html(index=False, escape=False, border=0, classes="casemeta-table")
    body = body.replace("<table ", f"<table id=\"{_html_escape(table.name)}\" ", 1)
    caption = f"<caption>{_html_escape(table.title)}</caption>"
    body = body.replace(">", ">" + caption, 1) if "<table" in body else body
    notes = "".join(f"<p class=\"note\">{n}</p>" for n in [*map(_html_escape, table.notes), *_footnotes(table, _html_escape, _md_sup)])
    return f"<figure>{body}{notes}</figure>\n"


def latex_document(tables: list[PubTable], title: str, table_dir: str = "tables") -> str:
    """A complete document that \\inputs every table; compiles with pdflatex."""
    inputs = "\n".join(rf"\input{{{table_dir}/{t.name}.tex}}" for t in tables)
    return "\n".join([
        r"\documentclass[a4paper,10pt]{article}", r"\usepackage[T1]{fontenc}", r"\usepackage[utf8]{inputenc}",
        r"\usepackage{textcomp}", r"\usepackage{booktabs}", r"\usepackage[margin=2cm,landscape]{geometry}",
        r"\DeclareUnicodeCharacter{2212}{\ensuremath{-}}", r"\DeclareUnicodeCharacter{221E}{\ensuremath{\infty}}",
        r"\DeclareUnicodeCharacter{00D7}{\ensuremath{\times}}", r"\DeclareUnicodeCharacter{2264}{\ensuremath{\leq}}",
        r"\DeclareUnicodeCharacter{2013}{--}", r"\DeclareUnicodeCharacter{FFFD}{\textbf{?}}",
        rf"\title{{{latex_escape(title)}}}", r"\date{}", r"\begin{document}", r"\maketitle", inputs, r"\end{document}", ""])


def _docx_note(doc, text: str, letter: str = "") -> None:
    paragraph = doc.add_paragraph()
    if letter:
        run = paragraph.add_run(letter)
        run.font.superscript = True
        run.font.size = Pt(8)
    paragraph.add_run((" " if letter else "") + visible_text(text)).font.size = Pt(8)


def write_docx(tables: list[PubTable], path: Path, title: str) -> None:
    doc = Document()
    doc.add_heading(visible_text(title), level=1)
    for table in tables:
        doc.add_heading(visible_text(table.title), level=2)
        grid = doc.add_table(rows=1, cols=table.frame.shape[1])
        grid.style = "Table Grid"
        for cell, name in zip(grid.rows[0].cells, table.frame.columns):
            cell.paragraphs[0].add_run(visible_text(name)).font.bold = True
        for r, row in enumerate(table.frame.itertuples(index=False)):
            for c, (cell, value) in enumerate(zip(grid.add_row().cells, row)):
                cell.text = visible_text(value)
                if (r, c) in table.marks:
                    cell.paragraphs[0].add_run(table.marker(r, c)).font.superscript = True
        for note in table.notes:
            _docx_note(doc, note)
        for i, text in enumerate(table.footnotes()):
            _docx_note(doc, text, footnote_letter(i))
    atomic_io.atomic_write(path, lambda tmp: doc.save(tmp))


def sheet_name(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\ (nor what XML cannot hold), unique,
    not starting like a formula and not starting or ending with an apostrophe (Excel refuses those)."""
    base = NOT_XML.sub("_", re.sub(r"[\[\]:*?/\\]", "_", visible_text(name)))
    if base.startswith((*FORMULA_START, "'")):
        base = "_" + base
    base = (base[:31].rstrip("'") or "Sheet")
    candidate, i = base, 2
    while candidate.lower() in used:
        candidate = f"{base[:28]}_{i}"
        i += 1
    used.add(candidate.lower())
    return candidate


def _sheet_rows(table: PubTable) -> list[tuple[str, list[tuple[str, str]], bool]]:
    """What one sheet holds, row by row: (what the row is, its cells as (text, footnote letters), bold?)."""
    rows = [("title", [(table.title, "")], True), ("header", [(str(c), "") for c in table.frame.columns], True)]
    rows += [(f"row {r + 1}", [(v, table.marker(r, c)) for c, v in enumerate(row)], False)
             for r, row in enumerate(table.frame.itertuples(index=False))]
    rows += [("note", [(n, "")], False) for n in table.notes]
    rows += [("note", [(f"{footnote_letter(i)} {t}", "")], False) for i, t in enumerate(table.footnotes())]
    return rows


def excel_problems(tables: list[PubTable]) -> list[str]:
    """Every cell longer than Excel holds. Such a cell is refused rather than split or cut: Excel would
    silently drop the rest, and a split cell would make the Excel table differ from every other format."""
    problems = []
    for table in tables:
        for kind, cells, _ in _sheet_rows(table):
            for c, (text, marker) in enumerate(cells):
                length = len(visible_text(text)) + len(marker)
                if length > EXCEL_CELL_LIMIT:
                    where = f"{kind}, column {table.frame.columns[c]!r}" if kind.startswith("row") else kind
                    problems.append(f"table {table.name!r}, {where}: {length:,} characters; Excel holds at most "
                                    f"{EXCEL_CELL_LIMIT:,} in a cell (shorten the value, or export other formats)")
    return problems


def check_excel(tables: list[PubTable]) -> None:
    problems = excel_problems(tables)
    if problems:
        raise CasemetaError("cannot write the Excel tables: a cell is too long for Excel", problems)


def _excel_cell(sheet, row: int, column: int, text: str, marker: str, bold: bool):
    """A text cell that no spreadsheet runs as a formula, footnote letters as superscript rich text."""
    text = visible_text(text)
    cell = sheet.cell(row=row, column=column)
    if marker:
        cell.value = CellRichText([text, TextBlock(InlineFont(vertAlign="superscript", b=bold), marker)])
    else:
        cell.value = text
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True  # Excel shows it as text, even after editing
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(tables: list[PubTable], path: Path) -> None:
    """One sheet per table: title, header, rows, notes, every cell stored as text, never a formula."""
    check_excel(tables)
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(sheet_name(table.name, used))
        for r, (kind, cells, bold) in enumerate(_sheet_rows(table), start=1):
            for c, (text, marker) in enumerate(cells, start=1):
                cell = _excel_cell(sheet, r, c, text, marker, bold)
                if kind.startswith("row") and c > 1:
                    cell.alignment = Alignment(horizontal="right")
    atomic_io.atomic_write(path, lambda tmp: book.save(tmp))


FORMATS = ("latex", "markdown", "html", "csv", "docx", "xlsx")
RENDERERS = {"csv": (to_csv, "csv"), "markdown": (to_markdown, "md"), "latex": (to_latex, "tex"), "html": (to_html, "html")}
