"""Publication tables as LaTeX a journal takes as it is.

booktabs rules; text columns left-aligned and wrapping (`p{}`); columns of plain numbers aligned on
the decimal point (siunitx `S`, or right-aligned where siunitx is not installed), other statistics right-aligned; the caption and notes as wide as the
table (threeparttable); a table wider than the portrait page on a landscape page (pdflscape); a table
longer than a page breaking across pages with its header repeated (longtable).

Column widths are worked out here from the text (in em of the table's font), because LaTeX
cannot wrap a column to fit the page by itself without tabularx, which does not break across pages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from casemeta.publish.cells import cells, footnotes, numeric_columns, printed_number, visible_text
from casemeta.publish.tables import PubTable

# Every character LaTeX would not print as itself. The tilde and the backquote are printed as the
# characters they are (not a raised accent, not an opening quote).
LATEX_SPECIALS = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\texttildelow{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "`": r"\textasciigrave{}"}

# Page geometry of latex_document: A4, 2 cm margins. \linewidth of a portrait page (170 mm) and of a
# landscape one (257 mm), in pt; between columns 2 × \tabcolsep = 12 pt.
LINEWIDTH_PT = {False: 483.7, True: 731.2}
SEP_PT = 12
# Tables are set in \small (cmr9: em 9.25 pt, 11 pt lines); one too long for a page in \small is set in
# \footnotesize (cmr8: em 8.5 pt, 9.5 pt lines) and breaks across pages if it is still too long.
# Lines a page holds beside caption, header and notes, by orientation (landscape: True).
SIZES = {"small": (9.25, {False: 52, True: 30}), "footnotesize": (8.5, {False: 62, True: 38})}
# Widths of Computer Modern Roman characters in em (from cmr's metrics, rounded up): lower case
# by letter, digits 0.5, capitals about 0.75; anything else 0.6. A little is added for safety.
_WIDTH = {**dict(zip("abcdefghijklmnopqrstuvwxyz", [.5, .56, .45, .56, .45, .31, .5, .56, .28, .31, .53, .28, .84, .56, .5,
                                                      .56, .53, .4, .4, .39, .56, .53, .73, .53, .53, .45])),
          **{d: .5 for d in "0123456789"}, " ": .34, ".": .28, ",": .28, ";": .28, ":": .28, "'": .28, "(": .39,
          ")": .39, "[": .28, "]": .28, "-": .34, "/": .5, "&": .78, "I": .37, "J": .52, "M": .92, "W": 1.03}


def text_em(text: str) -> float:
    """How wide a text is in the table's font, in em (an estimate that errs on the wide side)."""
    return 1.03 * sum(_WIDTH.get(ch, .75 if ch.isupper() else .6) for ch in text)


def latex_escape(text) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in visible_text(text))


def _sup(letter: str) -> str:
    return rf"\textsuperscript{{{letter}}}"


@dataclass
class Layout:
    widths: list[float]  # em
    decimal: list[bool]  # siunitx S column
    numeric: list[bool]  # right-aligned statistics
    landscape: bool
    long: bool
    size: str = "small"  # the LaTeX font size command of the table


def _widths(natural: list[float], minimum: list[float], available: float) -> list[float]:
    """Each column at its natural width if the table fits, else the widest cut down to one width L
    (never below its longest word), L as large as fits: the fewest columns wrap."""
    if sum(natural) <= available:
        return natural
    low, high = 0.0, max(natural)
    for _ in range(40):  # bisection on L
        cap = (low + high) / 2
        low, high = (cap, high) if sum(max(m, min(n, cap)) for n, m in zip(natural, minimum)) <= available else (low, cap)
    return [max(m, min(n, low)) for n, m in zip(natural, minimum)]


def _texts(table: PubTable, c: int) -> list[str]:
    """A column's body cells as printed, each with its footnote letters (superscripts: about half as wide)."""
    return [visible_text(v) + "ii" * len(table.marker(r, c)) for r, v in enumerate(table.frame.iloc[:, c])]


def layout(table: PubTable) -> Layout:
    """Widths, alignment, orientation and font size of a table: small if it fits a page, else footnotesize."""
    measured = _measure(table)
    spot = _layout(measured, "small")
    return _layout(measured, "footnotesize") if spot.long else spot


@dataclass
class _Measured:
    """What a table's layout needs of its text, in em, measured once for both font sizes."""
    numeric: list[bool]
    decimal: list[bool]
    natural: list[float]
    minimum: list[float]
    cells: list[list[float]]  # each body cell's printed text, row by row


def _measure(table: PubTable) -> _Measured:
    numeric = numeric_columns(table)
    decimal = [n and all(printed_number(visible_text(v)) or not visible_text(v) for v in table.frame.iloc[:, c])
               for c, n in enumerate(numeric)]
    natural, minimum = [], []
    for c, header in enumerate(map(visible_text, table.frame.columns)):
        body = _texts(table, c)
        words = max((text_em(w) for t in [header, *body] for w in t.split()), default=0)
        widest = max(map(text_em, body), default=0)
        if numeric[c]:  # a statistic never wraps; its header wraps to about 7 em
            natural.append(max(widest, words, min(text_em(header), 7.0), 2.0))
            minimum.append(max(widest, words, 2.0))
        else:  # a text cell wraps down to its longest word
            natural.append(max(widest, text_em(header), 2.0))
            minimum.append(max(words, 2.0))
    cells = [[text_em(visible_text(v)) for v in row] for row in table.frame.itertuples(index=False)]
    return _Measured(numeric, decimal, natural, minimum, cells)


def _layout(measured: _Measured, size: str) -> Layout:
    em_pt, page_lines = SIZES[size]
    natural, minimum = measured.natural, measured.minimum
    seps = SEP_PT / em_pt * len(natural)
    landscape = sum(natural) + seps > LINEWIDTH_PT[False] / em_pt
    widths = _widths(natural, minimum, LINEWIDTH_PT[landscape] / em_pt - seps)
    lines = sum(max((math.ceil(em / w) or 1) for em, w in zip(row, widths)) for row in measured.cells)
    return Layout(widths, measured.decimal, measured.numeric, landscape, lines > page_lines[landscape], size)


def _table_format(table: PubTable, c: int) -> str:
    """siunitx's table-format of a column of plain numbers: sign, integer digits and decimals."""
    found = [printed_number(visible_text(v)) for v in table.frame.iloc[:, c] if visible_text(v)]
    digits = max(len(str(int(abs(value)))) for value, _, _ in found)
    decimals = max(d for _, d, _ in found)
    sign = "-" if any(value < 0 for value, _, _ in found) else ""
    return f"{sign}{digits}" + (f".{decimals}" if decimals else "")


def _column_spec(table: PubTable, spot: Layout, c: int) -> str:
    if spot.decimal[c]:
        return f"S[table-format={_table_format(table, c)}]"
    if spot.numeric[c]:
        return "r"
    return rf">{{\raggedright\arraybackslash}}p{{{spot.widths[c]:.1f}em}}"


def _header(table: PubTable, spot: Layout, c: int) -> str:
    text = latex_escape(table.frame.columns[c])
    if not spot.numeric[c]:
        return text
    align = r"\raggedleft" if not spot.decimal[c] else r"\centering"
    return rf"\multicolumn{{1}}{{>{{{align}\arraybackslash}}p{{{spot.widths[c]:.1f}em}}}}{{{text}}}"


def _body(table: PubTable, spot: Layout) -> list[str]:
    """Rows of cells; in a decimal column a number stays bare so siunitx aligns it (S takes commas as
    decimal marks, so grouping commas go; siunitx puts them back)."""
    rows = cells(table, latex_escape, _sup)
    for row in rows:
        for c, cell in enumerate(row):
            if spot.decimal[c]:
                row[c] = cell.replace(",", "") if not cell.startswith(r"\textsuperscript") else cell
            elif spot.numeric[c]:  # a negative statistic gets a minus sign, not a hyphen (siunitx does this in S)
                row[c] = re.sub(r"(?<![\w.])-(?=\d)", r"\\textminus{}", cell)
    return [" & ".join(row) + r" \\" for row in rows]


def _notes(table: PubTable) -> list[str]:
    return [*map(latex_escape, table.notes), *footnotes(table, latex_escape, _sup)]


def to_latex(table: PubTable) -> str:
    """The table as a float (or a longtable for a long one), landscape if it is wide."""
    spot = layout(table)
    columns = "".join(_column_spec(table, spot, c) for c in range(table.frame.shape[1]))
    header = " & ".join(_header(table, spot, c) for c in range(table.frame.shape[1])) + r" \\"
    caption = rf"\caption{{{latex_escape(table.title)}}}\label{{tab:{table.name}}}"
    body = _body(table, spot)
    if spot.long:
        lines = _longtable(table, spot, columns, header, caption, body)
    else:
        notes = "".join(rf"\item[] {n}" + "\n" for n in _notes(table))
        lines = [r"\begin{table}[htbp]", rf"\centering\{spot.size}", r"\begin{threeparttable}", caption,
                 rf"\begin{{tabular}}{{{columns}}}", r"\toprule", header, r"\midrule", *body, r"\bottomrule",
                 r"\end{tabular}"]
        lines += [r"\begin{tablenotes}[flushleft]\footnotesize", notes.rstrip(), r"\end{tablenotes}"] if notes else []
        lines += [r"\end{threeparttable}", r"\end{table}"]
    if spot.landscape:
        lines = [r"\begin{landscape}", *lines, r"\end{landscape}"]
    return "\n".join(lines) + "\n"


def _longtable(table: PubTable, spot: Layout, columns: str, header: str, caption: str, body: list[str]) -> list[str]:
    """A table over several pages: its header repeats, and its notes follow its last row, left-aligned
    with it (the table starts at the left margin) and no wider than it."""
    n = table.frame.shape[1]
    width = sum(spot.widths) + SEP_PT / SIZES[spot.size][0] * n
    notes = "\n".join(rf"\noindent\parbox{{\linewidth}}{{\footnotesize {note}}}\par" for note in _notes(table))
    return [rf"\begingroup\{spot.size}\setlength{{\LTleft}}{{0pt}}\setlength{{\LTright}}{{\fill}}",
            rf"\setlength{{\LTcapwidth}}{{{0.9 * width:.1f}em}}",
            rf"\begin{{longtable}}{{{columns}}}", caption + r" \\", r"\toprule", header, r"\midrule", r"\endfirsthead",
            rf"\multicolumn{{{n}}}{{@{{}}l}}{{\footnotesize\emph{{{latex_escape(table.title)} (continued)}}}} \\",
            r"\toprule", header, r"\midrule", r"\endhead",
            r"\midrule", rf"\multicolumn{{{n}}}{{r@{{}}}}{{\footnotesize\emph{{continued on the next page}}}} \\", r"\endfoot",
            r"\bottomrule", r"\endlastfoot", *body, r"\end{longtable}", notes, r"\endgroup"]


PREAMBLE = [
    r"\documentclass[a4paper,10pt]{article}", r"\usepackage[T1]{fontenc}", r"\usepackage[utf8]{inputenc}",
    r"\usepackage{textcomp}", r"\usepackage{array}", r"\usepackage{booktabs}", r"\usepackage{longtable}",
    r"\usepackage{threeparttable}", r"\usepackage{pdflscape}", r"\usepackage[margin=2cm]{geometry}",
    # siunitx aligns numbers on the decimal point where it is installed (every journal template we know
    # has it); without it, a decimal column (S[table-format=...]) is set right-aligned instead, so that
    # the document compiles on a bare TeX installation too.
    r"\makeatletter",
    r"\IfFileExists{siunitx.sty}{\usepackage{siunitx}"
    r"\sisetup{group-digits=integer, group-minimum-digits=4, group-separator={,}}}"
    r"{\newcolumntype{S}{r}\def\NC@rewrite@S[##1]{\NC@find r}}",
    r"\makeatother",
    r"\DeclareUnicodeCharacter{2212}{\ensuremath{-}}", r"\DeclareUnicodeCharacter{221E}{\ensuremath{\infty}}",
    r"\DeclareUnicodeCharacter{00D7}{\ensuremath{\times}}", r"\DeclareUnicodeCharacter{2264}{\ensuremath{\leq}}",
    r"\DeclareUnicodeCharacter{2013}{--}", r"\DeclareUnicodeCharacter{FFFD}{\textbf{?}}",
    r"\DeclareUnicodeCharacter{00B2}{\textsuperscript{2}}",
]


def latex_document(tables: list[PubTable], title: str) -> str:
    """A complete, standalone document holding every table (not \\input from files beside it, so it compiles
    with pdflatex from any folder); siunitx is used where installed (see PREAMBLE)."""
    body = "\n".join(to_latex(t) for t in tables)
    return "\n".join([*PREAMBLE, rf"\title{{{latex_escape(title)}}}", r"\date{}", r"\begin{document}", r"\maketitle",
                      r"\listoftables", body, r"\end{document}", ""])
