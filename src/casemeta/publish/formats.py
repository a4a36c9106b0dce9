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

import pandas as pd

from casemeta.publish import FORMATS  # noqa: F401 (the formats' one list, re-exported)
from casemeta.publish.cells import FORMULA_START, NOT_XML, NUMBER, REPLACEMENT, numeric_columns, visible_text  # noqa: F401
from casemeta.publish.cells import cells as _cells, footnotes as _footnotes
from casemeta.publish.latex import LATEX_SPECIALS, latex_document, latex_escape, to_latex  # noqa: F401
from casemeta.publish.tables import PubTable

# CommonMark: backslash-escaped ASCII punctuation shows as itself. Inside a table cell only
# these characters can change what is shown (emphasis, code, links, HTML, cell breaks, math
# and strike-through in common extensions); & only where it would start an entity such as &amp;
# Word and Excel writers (python-docx, openpyxl: ~0.3 s to import) load on first use, so that commands
# and steps that write neither start quickly (PEP 562 module __getattr__)
OFFICE_NAMES = frozenset({"EXCEL_CELL_LIMIT", "check_excel", "excel_problems", "sheet_name", "write_docx", "write_xlsx"})


def __getattr__(name: str):
    if name in OFFICE_NAMES:
        from casemeta.publish import office

        return getattr(office, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$^]|&(?=#?\w+;))")


def spreadsheet_safe(value) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice).

    Numbers such as -0.52 stay numbers; only text is neutralised.
    """
    text = visible_text(value)
    if text.startswith(FORMULA_START) and not NUMBER.match(text):
        return "'" + text
    return text


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell (and column name) of a frame made safe to open in a spreadsheet: spreadsheet_safe, and
    what XML cannot hold (NUL and other control characters) shown as U+FFFD; numbers and missing cells stay."""
    def safe(value):
        return value if not isinstance(value, str) else spreadsheet_safe(value)
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe)
    out.columns = [safe(c) for c in out.columns]
    return out


def markdown_escape(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", visible_text(text)).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


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
    rule = "|" + "|".join("---:" if numeric else ":---" for numeric in numeric_columns(table)) + "|"  # text left, numbers right
    body = ["| " + " | ".join(row) + " |" for row in _cells(table, markdown_escape, _md_sup)]
    notes = [f"_{markdown_escape(n)}_  " for n in table.notes] + [f"{n}  " for n in _footnotes(table, markdown_escape, _md_sup)]
    return "\n".join([f"**{markdown_escape(table.title)}**", "", header, rule, *body, "", *notes, ""])


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


RENDERERS = {"csv": (to_csv, "csv"), "markdown": (to_markdown, "md"), "latex": (to_latex, "tex"), "html": (to_html, "html")}
