"""What every format needs to know about a publication table's cells: text it can hold, which
columns hold numbers (aligned right or on the decimal point), and how wide a column wants to be."""

from __future__ import annotations

import re

import pandas as pd

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

# A number as the tables print it (tables.fmt_number, fmt_count): optional minus, digits grouped by
# commas in threes, optional decimals; no leading zero before another digit (that is an identifier
# such as "007", which must stay text).
PRINTED_NUMBER = re.compile(r"^-?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)(?:\.(\d+))?$")
# A statistic as the tables print it: a number with significance stars, a p-value bound, an
# infinite odds ratio, an interval [a, b], a standard error (x), or a count with its share k (p%).
_N = r"-?[\d,]*\.?\d+"
STATISTIC = re.compile(rf"^(?:{_N}\**|<0\.001|−?∞\**|\[(?:{_N}|−?∞), (?:{_N}|−?∞)\]|\({_N}\)|\d+ \(\d+%\)|\d+/\d+(?: \(\d+%\))?)$")


def visible_text(value) -> str:
    """Any cell, title or note as text every format can hold: blank for missing, U+FFFD for what XML cannot hold."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return NOT_XML.sub(REPLACEMENT, text)


def printed_number(text: str) -> tuple[float, int, bool] | None:
    """A cell printed as a plain number: (its value, its decimals, whether it groups thousands); else None."""
    match = PRINTED_NUMBER.match(text)
    if not match:
        return None
    return float(text.replace(",", "")), len(match.group(1) or ""), "," in text


def numeric_columns(table: PubTable) -> list[bool]:
    """Which columns hold statistics (right- or decimal-aligned): most of their filled cells are
    statistics (a model column's Method and Separation rows are words under its numbers). The first
    column (the stub) is always text."""
    kinds = []
    for c in range(table.frame.shape[1]):
        filled = [visible_text(v) for v in table.frame.iloc[:, c] if visible_text(v)]
        numbers = sum(bool(STATISTIC.match(v)) for v in filled)
        kinds.append(c > 0 and 2 * numbers > len(filled))
    return kinds


def cells(table: PubTable, escape, sup) -> list[list[str]]:
    """Every body cell escaped for a format, followed by its footnote letters as that format writes them."""
    return [[escape(v) + (sup(table.marker(r, c)) if (r, c) in table.marks else "") for c, v in enumerate(row)]
            for r, row in enumerate(table.frame.itertuples(index=False))]


def footnotes(table: PubTable, escape, sup) -> list[str]:
    return [sup(footnote_letter(i)) + " " + escape(text) for i, text in enumerate(table.footnotes())]
