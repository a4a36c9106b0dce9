"""Publication tables as Word and Excel files a journal or a reader takes as they are.

Word: A4, a caption paragraph (style Caption, numbered by a SEQ Table field so Word lists and
cross-references the tables) above each table, booktabs-like rules (above and below the header,
below the table) instead of a grid, wide tables on landscape pages, notes in a smaller font.
Excel: an index sheet, then one sheet per table ("Table 1", ... as numbered in Word and LaTeX);
numbers stored as numbers in the format of the table's rounding; header styled and frozen; columns
wide enough; notes under the table. No cell is ever a formula.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from casemeta import atomic_io
from casemeta.errors import CasemetaError
from casemeta.publish.cells import FORMULA_START, NOT_XML, numeric_columns, printed_number, visible_text
from casemeta.publish.latex import layout
from casemeta.publish.reproducible import save_docx, save_xlsx
from casemeta.publish.tables import PubTable, footnote_letter

EXCEL_CELL_LIMIT = 32767  # characters Excel keeps in one cell; it silently cuts the rest
INDEX_SHEET = "Tables"
# Word tables in 9 pt where LaTeX sets them in \small, 8 pt where \footnotesize: a little smaller than
# LaTeX's em (9.25 and 8.5 pt), so the widths LaTeX's layout gives fit Word's page too.
TABLE_PT = {"small": 9, "footnotesize": 8}
CELL_MARGINS_PT = 12  # Word's default cell margins, 0.08 inch on each side
RULE = {"val": "single", "sz": "8", "space": "0", "color": "000000"}  # 1 pt, in eighths of a point
THIN = {**RULE, "sz": "4"}


# ---------------------------------------------------------------- Word

# What may follow w:tblBorders in w:tblPr, and w:tcBorders in w:tcPr (the order OOXML's schema fixes;
# Word refuses a file whose elements are out of it)
AFTER = {"w:tblBorders": ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription"),
         "w:tcBorders": ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")}


def _border(parent, tag: str, edges: dict[str, dict]) -> None:
    """w:tblBorders or w:tcBorders with the given edges (python-docx has no API for borders), in its
    place among the properties."""
    borders = OxmlElement(tag)
    for edge, attrs in edges.items():
        element = OxmlElement(f"w:{edge}")
        for key, value in attrs.items():
            element.set(qn(f"w:{key}"), value)
        borders.append(element)
    later = [child for child in parent if child.tag in {qn(t) for t in AFTER[tag]}]
    if later:
        later[0].addprevious(borders)
    else:
        parent.append(borders)


def _rules(grid) -> None:
    """booktabs in Word: a rule above the table, one under its header row, one under its last row."""
    none = {"val": "nil"}
    _border(grid._tbl.tblPr, "w:tblBorders", {"top": RULE, "left": none, "bottom": RULE, "right": none,
                                               "insideH": none, "insideV": none})
    for cell in grid.rows[0].cells:
        _border(cell._tc.get_or_add_tcPr(), "w:tcBorders", {"bottom": THIN})
    header = grid.rows[0]._tr.get_or_add_trPr()
    header.append(OxmlElement("w:tblHeader"))  # repeated at the top of each page


def _field(paragraph, instruction: str, result: str) -> None:
    """A Word field (begin, instruction, separate, its current result, end), e.g. SEQ Table."""
    def char(kind: str):
        run = OxmlElement("w:r")
        mark = OxmlElement("w:fldChar")
        mark.set(qn("w:fldCharType"), kind)
        run.append(mark)
        paragraph._p.append(run)

    char("begin")
    run = OxmlElement("w:r")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run.append(text)
    paragraph._p.append(run)
    char("separate")
    paragraph.add_run(result)
    char("end")


def _caption(doc, number: int, title: str) -> None:
    paragraph = doc.add_paragraph(style="Caption")
    paragraph.add_run("Table ")
    _field(paragraph, r"SEQ Table \* ARABIC", str(number))
    paragraph.add_run(". " + visible_text(title))
    paragraph.paragraph_format.keep_with_next = True


def _docx_note(doc, text: str, letter: str = "") -> None:
    paragraph = doc.add_paragraph()
    if letter:
        run = paragraph.add_run(letter)
        run.font.superscript = True
        run.font.size = Pt(8)
    paragraph.add_run((" " if letter else "") + visible_text(text)).font.size = Pt(8)
    paragraph.paragraph_format.space_after = Pt(0)


def _orient(doc, landscape: bool) -> None:
    """A new section in the orientation a table needs, unless the current one has it."""
    section = doc.sections[-1]
    if (section.orientation == WD_ORIENT.LANDSCAPE) == landscape:
        return
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))


def _format_cells(cells, widths, right, size) -> None:
    """Width, alignment and font size of a row's cells, through python-docx."""
    for cell, width, numeric in zip(cells, widths, right):
        cell.width = width
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT
            for run in paragraph.runs:
                run.font.size = size


def _docx_table(doc, table: PubTable, spot) -> None:
    numeric = numeric_columns(table)
    columns = table.frame.shape[1]
    size = Pt(TABLE_PT[spot.size])
    widths = [Pt(TABLE_PT[spot.size] * width + CELL_MARGINS_PT) for width in spot.widths]
    grid = doc.add_table(rows=1, cols=columns)
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for cell, name in zip(grid.rows[0].cells, table.frame.columns):
        cell.paragraphs[0].add_run(visible_text(name)).font.bold = True
    _format_cells(grid.rows[0].cells, widths, numeric, size)
    # Body rows are copies of one prototype row, made and formatted through python-docx (an empty run in
    # each cell, and one footnote-letter run), with each cell's text set on its run: the same XML as
    # formatting every cell through python-docx, which cost the Word writer most of its time (lxml copies
    # a row in C; python-docx adds each property element of each cell in Python).
    prototype = grid.add_row()
    for cell in prototype.cells:
        cell.text = ""
    prototype.cells[0].paragraphs[0].add_run("").font.superscript = True
    _format_cells(prototype.cells, widths, numeric, size)
    row_xml = prototype._tr
    grid._tbl.remove(row_xml)
    letter = row_xml.find(qn("w:tc")).find(qn("w:p")).findall(qn("w:r"))[1]
    letter.getparent().remove(letter)
    for r, row in enumerate(table.frame.itertuples(index=False)):
        tr = copy.deepcopy(row_xml)
        for c, (tc, value) in enumerate(zip(tr.iterchildren(qn("w:tc")), row)):
            paragraph = tc.find(qn("w:p"))
            paragraph.find(qn("w:r")).text = visible_text(value)  # python-docx's run text: tabs, breaks as Word's
            if (r, c) in table.marks:
                marker = copy.deepcopy(letter)
                marker.text = table.marker(r, c)
                paragraph.append(marker)
        grid._tbl.append(tr)
    for column, width in zip(grid.columns, widths):
        column.width = width
    _rules(grid)


def write_docx(tables: list[PubTable], path: Path, title: str) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4, not the template's US Letter
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    caption = doc.styles["Caption"].font  # the template's is small, bold and blue: a journal's is plain black
    caption.size, caption.bold, caption.color.rgb = Pt(10), False, RGBColor(0, 0, 0)
    doc.add_heading(visible_text(title), level=1)
    for number, table in enumerate(tables, start=1):
        spot = layout(table)
        _orient(doc, spot.landscape)
        _caption(doc, number, table.title)
        _docx_table(doc, table, spot)
        for note in table.notes:
            _docx_note(doc, note)
        for i, text in enumerate(table.footnotes()):
            _docx_note(doc, text, footnote_letter(i))
    atomic_io.atomic_write(path, lambda tmp: save_docx(doc, tmp))  # dated by the build date: same inputs, same bytes


# ---------------------------------------------------------------- Excel

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


def _sheet_rows(table: PubTable, body: bool = True) -> list[tuple[str, list[tuple[str, str]], bool]]:
    """What one sheet holds, row by row: (what the row is, its cells as (text, footnote letters), bold?);
    without the body rows if `body` is false."""
    rows = [("title", [(table.title, "")], True), ("header", [(str(c), "") for c in table.frame.columns], True)]
    rows += [(f"row {r + 1}", [(v, table.marker(r, c)) for c, v in enumerate(row)], False)
             for r, row in enumerate(table.frame.itertuples(index=False))] if body else []
    rows += [("note", [(n, "")], False) for n in table.notes]
    rows += [("note", [(f"{footnote_letter(i)} {t}", "")], False) for i, t in enumerate(table.footnotes())]
    return rows


def excel_problems(tables: list[PubTable]) -> list[str]:
    """Every cell longer than Excel holds. Such a cell is refused rather than split or cut: Excel would
    silently drop the rest, and a split cell would make the Excel table differ from every other format."""
    problems = []
    for table in tables:
        # a cell's visible text is as long as its text (see visible_text): only cells that could be too long are
        # looked at, so that checking a case listing of 10^5 rows costs one pass over its cells. The pass is
        # map() over the values: pandas' .str.len() on text is a Python loop too, and a frame's column-wise
        # apply cost ~3 ms per small table (the Excel check of the shipped studies' 110 tables took 0.15 s)
        longest = max(map(len, map(str, table.frame.to_numpy().ravel())), default=0)
        suspect = longest + len(",".join(footnote_letter(i) for i in range(len(table.footnotes())))) > EXCEL_CELL_LIMIT
        for kind, cells, _ in _sheet_rows(table, body=suspect):
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


def number_format(decimals: int, grouped: bool, marker: str = "") -> str:
    """Excel's format for a number printed with these decimals (and thousands commas); a footnote
    letter follows as literal text of the format, so the cell stays a number."""
    shape = ("#,##0" if grouped else "0") + ("." + "0" * decimals if decimals else "")
    return shape + (f'"{marker}"' if marker else "")


def _excel_text(cell, text: str, marker: str, bold: bool) -> None:
    """A text cell that no spreadsheet runs as a formula, footnote letters as superscript rich text."""
    if marker:
        cell.value = CellRichText([text, TextBlock(InlineFont(vertAlign="superscript", b=bold), marker)])
    else:
        cell.value = text
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True  # Excel shows it as text, even after editing


def _excel_cell(sheet, row: int, column: int, text: str, marker: str, bold: bool, number: bool = False,
                style: str | None = None):
    """A number printed as one (in a body row) is stored as a number in its printed format; anything else as text.
    `style`: a named style, applied first (it replaces the cell's whole style)."""
    text = visible_text(text)
    cell = sheet.cell(row=row, column=column)
    if style:
        cell.style = style
    found = printed_number(text) if number else None
    if found:
        value, decimals, grouped = found
        cell.value = int(value) if decimals == 0 else value
        cell.number_format = number_format(decimals, grouped, marker)
    else:
        _excel_text(cell, text, marker, bold)
    if bold:
        cell.font = Font(bold=True)
    return cell


def _fit_columns(sheet, table: PubTable) -> None:
    """Column widths from the longest header or cell, in characters (capped: long text wraps)."""
    for c, column in enumerate(table.frame.columns, start=1):
        lengths = [len(visible_text(column))] + [len(visible_text(v)) + 1 for v in table.frame.iloc[:, c - 1]]
        sheet.column_dimensions[get_column_letter(c)].width = min(max(lengths) + 2, 50)


def _body_style(book, numeric: bool) -> str:
    """The named cell style of a body cell: statistics right-aligned, text left-aligned and wrapped; top-aligned.

    A named style, because openpyxl hashes a style object each time one is set on a cell, which made
    a 10^5-row case listing spend most of its time there; a named style is copied in."""
    name = f"casemeta body, {'statistic' if numeric else 'text'}"
    if name not in book.named_styles:
        book.add_named_style(NamedStyle(name, alignment=Alignment(horizontal="right" if numeric else "left",
                                                                  wrap_text=not numeric, vertical="top")))
    return name


def _table_sheet(sheet, table: PubTable) -> None:
    numeric = numeric_columns(table)
    # numbers are stored as numbers in a column of statistics, and in any column that holds only numbers
    # (a count as a category, such as 0 to 3 joint actions)
    stored = [n or all(printed_number(visible_text(v)) for v in table.frame.iloc[:, c] if visible_text(v))
              for c, n in enumerate(numeric)]
    header_rule = Border(top=Side(style="thin"), bottom=Side(style="thin"))
    header_align = [Alignment(horizontal="right" if n else "left", wrap_text=True, vertical="bottom") for n in numeric]
    body_style = [_body_style(sheet.parent, n) for n in numeric]
    for r, (kind, cells, bold) in enumerate(_sheet_rows(table), start=1):
        body = kind.startswith("row")
        for c, (text, marker) in enumerate(cells, start=1):
            cell = _excel_cell(sheet, r, c, text, marker, bold, number=body and stored[c - 1],
                               style=body_style[c - 1] if body else None)
            if kind == "header":
                cell.border = header_rule
                cell.alignment = header_align[c - 1]
    sheet.freeze_panes = "B3"  # title and header stay in view, and so does the stub column
    _fit_columns(sheet, table)


def _index_sheet(book, tables: list[PubTable], names: list[str]) -> None:
    sheet = book.create_sheet(INDEX_SHEET, 0)
    for c, text in enumerate(("Sheet", "Title"), start=1):
        _excel_cell(sheet, 1, c, text, "", True)
    for r, (table, name) in enumerate(zip(tables, names), start=2):
        link = _excel_cell(sheet, r, 1, name, "", False)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1")  # a link within the workbook
        link.style = "Hyperlink"
        _excel_cell(sheet, r, 2, table.title, "", False)
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = min(max((len(visible_text(t.title)) for t in tables), default=10) + 2, 100)
    sheet.freeze_panes = "A2"


def write_xlsx(tables: list[PubTable], path: Path) -> None:
    """An index sheet, then one sheet per table: title, header, rows, notes; never a formula."""
    check_excel(tables)
    book = Workbook()
    book.remove(book.active)
    used: set[str] = {INDEX_SHEET.lower()}
    names = [sheet_name(f"Table {number}", used) for number in range(1, len(tables) + 1)]
    for table, name in zip(tables, names):
        _table_sheet(book.create_sheet(name), table)
    _index_sheet(book, tables, names)
    book.active = 0
    atomic_io.atomic_write(path, lambda tmp: save_xlsx(book, tmp))  # dated by the build date: same inputs, same bytes
