"""Model formulas `outcome ~ terms`, parsed by a small grammar that never runs code.

The grammar (everything else is refused with an error naming the term):

    formula   := outcome "~" terms
    outcome   := NAME
    terms     := ["-"] item (("+" | "-") item)*
    item      := "1" | "0" | product          ("- 1" or "0" drops the intercept, "1" keeps it)
    product   := group ("*" group)*            (a*b = a + b + a:b; a*b*c has all their interactions)
    group     := factor (":" factor)*          (a:b is the interaction of a and b)
    factor    := NAME | NAME "[ref=" LEVEL "]"   (LEVEL: the reference level, quotes optional)
    NAME      := [A-Za-z_][A-Za-z0-9_.]*       (a column of the data)

A numeric (or true/false) column enters as itself. A text or category column
is expanded into one 0/1 indicator per level except the reference level: the
first level (a pandas categorical's own order, else sorted), or the one given
by `x[ref=level]`. An interaction multiplies the columns of its factors.

Term names in the output: `Intercept`; a numeric column by its name `x`; a
level of a text column `x[level]`; an interaction joins its parts with `:`
(`a:b`, `a[level]:b`, `a[l1]:b[l2]`), the first factor varying fastest.
Terms come in order of degree (main effects, then two-way interactions, ...)
and, within a degree, in order of first appearance, as in R and patsy;
a repeated term is kept once.

Written here rather than taken from patsy or formulaic: both evaluate every
term as Python (so a plan could run `__import__('os').system(...)`), and
formulaic has no mode that refuses Python (its issue #17, closed: removing
`eval` "would basically cripple Formulaic"). The grammar is tiny, so a
parser of it is shorter than any sandbox around theirs.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from casemeta.errors import CasemetaError

if TYPE_CHECKING:  # the annotations' names
    import numpy as np
    import pandas as pd

# NumPy and pandas are imported where a design matrix is built, not here: Snakemake's process parses every
# plan's formulas when it reads the workflow, and importing pandas there cost ~0.2 s of every run's start.

NAME = r"[A-Za-z_][A-Za-z0-9_.]*"
_NAME = re.compile(NAME)
# Reading is linear in the formula's length, whatever the input (see _split_top and _scan_factor): a
# regular expression such as `\s*NAME\s*(\[\s*ref\s*=\s*([^\]]*?)\s*\])?\s*` backtracks through
# every way of sharing a run of spaces among its `\s*` and the lazy level, so `x[ref=` and 4,000 spaces
# took minutes. The bracket depth is counted in a loop, never by recursion, so nesting has no limit.
_SPECIAL = {seps: re.compile(rf"[()\[\]{re.escape(seps)}]") for seps in ("+-", "*", ":")}
# a product of plain names (no [ref=...]): each of its characters is a name's, a space or a separator, so
# the match never has two ways to go and never backtracks
_PLAIN_PRODUCT = re.compile(rf"{NAME}(?:\s*[:*]\s*{NAME})*")
_OPEN, _CLOSE = [ord("("), ord("[")], [ord(")"), ord("]")]
_BRACKET = re.compile(r"[()\[\]]")
_SEPARATOR = {seps: re.compile(rf"([{re.escape(seps)}])") for seps in ("+-", "*", ":")}
ALLOWED = "terms are column names, a:b interactions and a*b (with x[ref=level] for a text column's reference level, and 0 or - 1 to drop the intercept)"
MAX_PRODUCT = 8  # factors joined by *: 2^8 - 1 = 255 terms already


def _hint(term: str) -> str:
    if "(" in term:
        return "; transform the column in the data first"
    if term.strip() == ".":
        return "; list the columns by name"
    if "**" in term:
        return "; write the interactions out with : and *"
    return ""


@dataclass
class Formula:
    """A parsed formula: the outcome, whether it has an intercept, and its terms (tuples of column names)."""

    text: str
    outcome: str
    intercept: bool = True
    terms: list[tuple[str, ...]] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)  # column -> reference level given by [ref=...]

    @property
    def predictors(self) -> list[str]:
        """The columns the terms read, in order of appearance."""
        return list(dict.fromkeys(name for term in self.terms for name in term))

    @property
    def columns(self) -> list[str]:
        """Every column the formula reads: the outcome, then the predictors."""
        return list(dict.fromkeys([self.outcome, *self.predictors]))

    def with_references(self, references: dict[str, str]) -> "Formula":
        """The same model with these reference levels added to the columns that have none given, written out
        in this grammar (every term spelled, `[ref=...]` on the first appearance of each such column)."""
        refs = {**{k: v for k, v in references.items() if k in self.predictors}, **self.references}
        shown: set[str] = set()

        def factor(name: str) -> str:
            if name in refs and name not in shown:
                shown.add(name)
                return f"{name}[ref={refs[name]}]"
            return name

        terms = [":".join(factor(n) for n in term) for term in self.terms]
        rhs = " + ".join(terms) if self.intercept else " + ".join(["0", *terms])
        return Formula(f"{self.outcome} ~ {rhs or '1'}", self.outcome, self.intercept, list(self.terms), refs)


def _refuse(formula: str, term: str, why: str = "") -> CasemetaError:
    return CasemetaError(f"formula {formula!r}: term {term.strip()!r} is not allowed: {why or ALLOWED + _hint(term)}")


def _split_top(text: str, separators: str) -> list[tuple[str, str]]:
    """(separator before, piece) at each separator outside brackets, so `x[ref=a-b]` stays whole.
    Brackets ( [ open and ) ] close; a separator counts only where as many have opened as closed. One pass:
    without brackets, a split by a one-character pattern; with them, a loop over those characters only."""
    if not _BRACKET.search(text):
        parts = _SEPARATOR[separators].split(text)  # piece, separator, piece, ...
        return [("", parts[0]), *zip(parts[1::2], parts[2::2])]
    if len(text) > 256:  # long: the depth before each character by a cumulative sum, in numpy's loops
        import numpy as np

        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        step = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE)
        depth = np.cumsum(step) - step
        at = np.flatnonzero(np.isin(codes, [ord(c) for c in separators]) & (depth == 0)).tolist()
        starts, ends = [0, *(i + 1 for i in at)], [*at, len(text)]
        return [(text[s - 1] if s else "", text[s:e]) for s, e in zip(starts, ends)]
    pieces, depth, start, sep = [], 0, 0, ""
    for match in _SPECIAL[separators].finditer(text):
        char = match.group()
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0:
            i = match.start()
            pieces.append((sep, text[start:i]))
            sep, start = char, i + 1
    pieces.append((sep, text[start:]))
    return pieces


def _split_items(formula: str, rhs: str) -> list[tuple[str, str]]:
    """(sign, text) of each +/- separated item of the right-hand side."""
    if not rhs.strip():
        raise CasemetaError(f"formula {formula!r}: no predictors after '~'; expected 'outcome ~ predictor + ...'")
    items = [(sign or "+", text) for sign, text in _split_top(rhs, "+-")]
    if not items[0][1].strip() and len(items) > 1:
        items = items[1:]  # a leading sign: "- 1 + x" or "+ x"
    if any(not text.strip() for _, text in items):
        raise CasemetaError(f"formula {formula!r}: an empty term (two signs in a row, or a sign at the end); {ALLOWED}")
    return items


def _scan_factor(text: str) -> tuple[str, str | None] | None:
    """(name, reference level or None) of `NAME` or `NAME[ref=LEVEL]`, spaces allowed around each part and
    quotes kept (the level is the text up to the first `]`, stripped), or None if the text is neither.
    A hand-written scanner rather than a regular expression: each step is one str method, so it is linear
    however the spaces and brackets fall (see _SPECIAL)."""
    body = text.strip()
    name = _NAME.match(body)
    if name is None:
        return None
    rest = body[name.end():].lstrip()
    if not rest:
        return name.group(), None
    if not (rest.startswith("[") and rest.endswith("]")):
        return None
    inner = rest[1:-1].lstrip()  # the first `]` must be the last: the level holds none
    if "]" in inner or not inner.startswith("ref"):
        return None
    after = inner[3:].lstrip()
    if not after.startswith("="):
        return None
    return name.group(), after[1:].strip()


def _factor(formula: str, item: str, text: str, references: dict[str, str]) -> str:
    scanned = _scan_factor(text)
    if scanned is None:
        raise _refuse(formula, item)
    name, level = scanned
    if level is not None:
        level = level.strip("'\"")
        if references.setdefault(name, level) != level:
            raise _refuse(formula, item, f"{name!r} is given two reference levels, {references[name]!r} and {level!r}")
    return name


def _expand(formula: str, item: str, references: dict[str, str]) -> list[tuple[str, ...]]:
    """The terms of one product: every non-empty combination of its `*` groups."""
    if "*" not in item and ":" not in item:  # one factor, the usual term
        return [(_factor(formula, item, item, references),)]
    if _PLAIN_PRODUCT.fullmatch(item):  # names only: split by str methods, nothing to check factor by factor
        if item.count("*") >= MAX_PRODUCT:  # refused before splitting a long product
            raise _refuse(formula, item, f"at most {MAX_PRODUCT} factors can be joined by *; write the interactions wanted with :")
        groups = [tuple(dict.fromkeys(map(str.strip, g.split(":")))) for g in item.split("*")]
        if len(groups) == 1:  # an interaction a:b:c
            return groups
    else:
        groups = []
        for _, group_text in _split_top(item, "*"):
            factors = tuple(dict.fromkeys(_factor(formula, item, f, references) for _, f in _split_top(group_text, ":")))
            groups.append(factors)
    if len(groups) > MAX_PRODUCT:
        raise _refuse(formula, item, f"at most {MAX_PRODUCT} factors can be joined by *; write the interactions wanted with :")
    terms = []
    for size in range(1, len(groups) + 1):
        for combo in itertools.combinations(groups, size):
            terms.append(tuple(dict.fromkeys(name for group in combo for name in group)))
    return terms


def parse_formula(formula: str) -> Formula:
    """The formula's outcome, intercept and terms, or a CasemetaError naming what is not allowed."""
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise CasemetaError(f"formula {formula!r}: expected 'outcome ~ predictor + ...' with one '~'")
    lhs, rhs = formula.split("~")
    outcome = lhs.strip()
    if not _NAME.fullmatch(outcome):
        raise CasemetaError(f"formula {formula!r}: the outcome {outcome!r} must be one column name")
    parsed = Formula(formula, outcome)
    terms: list[tuple[str, ...]] = []
    expanded: dict[str, list[tuple[str, ...]]] = {}  # a repeated item expands as it did the first time
    for sign, text in _split_items(formula, rhs):
        item = text.strip()
        if item in ("0", "1"):
            parsed.intercept = (item == "1") == (sign == "+")
        elif sign == "-":
            raise _refuse(formula, f"- {item}", "only the intercept can be removed ('- 1'); leave the term out instead")
        elif _NAME.fullmatch(item):  # one column, the usual term
            terms.append((item,))
        else:
            found = expanded.get(item)
            if found is None:
                found = expanded[item] = _expand(formula, item, parsed.references)
            terms.extend(found)
    unique: dict[tuple[str] | frozenset, tuple[str, ...]] = {}
    for term in terms:  # a:b and b:a are one term; keep its first spelling, in order of first appearance
        unique.setdefault(term if len(term) == 1 else frozenset(term), term)  # a main effect is its own key
    parsed.terms = sorted(unique.values(), key=len)  # stable: by degree, then appearance
    if not parsed.terms and not parsed.intercept:
        raise CasemetaError(f"formula {formula!r}: no terms and no intercept; nothing to model")
    return parsed


def _check_columns(parsed: Formula, data: pd.DataFrame, source: str) -> None:
    known = [str(c) for c in data.columns]
    for name in parsed.columns:
        if name not in data.columns:
            close = difflib.get_close_matches(name, known, n=3)
            maybe = f"; closest: {', '.join(close)}" if close else ""
            raise CasemetaError(
                f"{source}: formula {parsed.text!r}: {name!r} names a variable that is not a column; columns are: {', '.join(known)}{maybe}"
            )
    twice = [name for name in parsed.columns if list(data.columns).count(name) > 1]
    if twice:
        raise CasemetaError(f"{source}: formula {parsed.text!r}: column {twice[0]!r} appears more than once in the data; rename one")
    missing = data[parsed.columns].isna().any(axis=1)
    if missing.any():
        rows = data.index[missing].tolist()
        raise CasemetaError(f"{source}: formula {parsed.text!r}: missing values in rows {rows[:10]}; drop or code them first")


def _levels(column: pd.Series) -> list:
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        return [level for level in column.cat.categories if (column == level).any()]
    return sorted(column.unique(), key=str)


def _factor_columns(parsed: Formula, data: pd.DataFrame, name: str, source: str) -> dict[str, np.ndarray]:
    """The columns one factor contributes: itself if numeric, else an indicator per non-reference level."""
    import pandas as pd

    column = data[name]
    if pd.api.types.is_numeric_dtype(column.dtype):
        if name in parsed.references:
            raise CasemetaError(f"{source}: formula {parsed.text!r}: {name!r} is numeric; [ref=...] applies only to a text or category column")
        return {name: column.to_numpy(dtype=float)}
    levels = _levels(column)
    ref = parsed.references.get(name)
    if ref is not None:
        match = [level for level in levels if str(level) == ref]
        if not match:
            raise CasemetaError(f"{source}: formula {parsed.text!r}: {ref!r} is not a level of {name!r}; levels are: {', '.join(map(str, levels))}")
        levels = match + [level for level in levels if str(level) != ref]
    if len(levels) < 2:
        raise CasemetaError(f"{source}: predictor {name!r} is constant ({levels[0]!r} in every case); it cannot be estimated")
    return {f"{name}[{level}]": (column == level).to_numpy(dtype=float) for level in levels[1:]}


def design_frame(data: pd.DataFrame, formula: str, source: str = "data") -> tuple[pd.Series, pd.DataFrame]:
    """The outcome column and the design matrix (one named column per term) of a formula on a data frame."""
    import numpy as np
    import pandas as pd

    try:
        parsed = parse_formula(formula)
    except CasemetaError as exc:
        raise CasemetaError(f"{source}: {exc.summary}") from None
    _check_columns(parsed, data, source)
    factors = {name: _factor_columns(parsed, data, name, source) for name in parsed.predictors}
    if len(data) == 0:
        raise CasemetaError(f"{source}: formula {formula!r}: no cases to model")
    width = parsed.intercept + sum(np.prod([len(factors[name]) for name in term]) for term in parsed.terms)
    if width > len(data):
        raise CasemetaError(f"{source}: formula {formula!r} needs {width} columns for {len(data)} cases; "
                            "the coefficients cannot all be estimated: use fewer terms or levels")
    columns = {"Intercept": np.ones(len(data))} if parsed.intercept else {}
    for term in parsed.terms:
        # the first factor varies fastest, as in R and patsy
        for combo in itertools.product(*(factors[name].items() for name in reversed(term))):
            parts = list(reversed(combo))
            columns[":".join(label for label, _ in parts)] = np.prod([values for _, values in parts], axis=0)
    return data[parsed.outcome], pd.DataFrame(columns, index=data.index)


def tested_columns(formula: str, tested: str, names: list[str]) -> list[int]:
    """Indices, among the design columns `names` of `formula`, of the columns of the terms in `tested`
    (a term set such as "vic + vicl" or "a:b"), for a joint test; an error names a term the model lacks."""
    model = parse_formula(formula)
    try:
        wanted = parse_formula(f"{model.outcome} ~ {tested}")
    except CasemetaError as exc:
        raise CasemetaError(f"term set {tested!r}: {exc.summary}") from None
    in_model = {frozenset(term) for term in model.terms}
    for term in wanted.terms:
        if frozenset(term) not in in_model:
            raise CasemetaError(f"term set {tested!r}: {':'.join(term)!r} is not a term of {formula!r}")
    sets = {frozenset(term) for term in wanted.terms}
    # a design column's term: the names of its ':' parts, each `name` or `name[level]`
    return [i for i, name in enumerate(names)
            if frozenset(_NAME.match(part.strip())[0] for _, part in _split_top(name, ":")) in sets and name != "Intercept"]
