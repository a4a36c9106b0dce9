"""Conditions over the cases (`when:` of derived variables, `where:` of table rows), evaluated without running code.

An expression is parsed by Python's `ast` module and evaluated by walking a
whitelist of node types, vectorised over the columns of a data frame:

- names are columns; literals are numbers, text in quotes, True and False;
- arithmetic `+ - * /` (e.g. `market_local + market_national == 0`);
- comparisons `== != < <= > >=` (chains such as `1 <= n < 3` too);
- `x in [1, 2]` and `x not in ('a', 'b')`, with a list or tuple of literals;
- `and`, `or`, `not`, and their element-wise spellings `&`, `|`, `~`;
- parentheses.

Anything else (function calls, attributes such as `a.__class__`, subscripts,
`@local` variables, lambdas, ...) is refused with a CasemetaError naming the
expression and the offending piece. Missing values count as false in the
result, as `frame.eval(expr).fillna(False)` did: `and`/`or` follow pandas'
three-valued logic, so `NA or True` is true and `NA and True` is false.

Written here rather than with `pandas.eval`/`DataFrame.eval`, which allow
attribute access and `@` lookups of the caller's variables, and rather than
a general "safe eval" package: the grammar is a dozen node types.

`check` walks an expression the same way over the columns' kinds (number,
text) instead of a frame: the grammar, the names, what must be a condition or
a number, and order comparisons of numbers with text. A plan's conditions
are checked so when the plan is read, in Snakemake's process too, which then
does not import pandas (~0.2 s of every run's start); whatever else a frame
could refuse is found when the condition is evaluated.
"""

from __future__ import annotations

import ast
import difflib
import operator
from typing import Mapping

from casemeta.errors import CasemetaError

ALLOWED = ("allowed are column names, numbers, quoted text, + - * /, comparisons (== != < <= > >=), "
           "x in [..] / x not in [..] with literals, and/or/not (& | ~) and parentheses")
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}
_LOGIC = {ast.And: operator.and_, ast.Or: operator.or_, ast.BitAnd: operator.and_, ast.BitOr: operator.or_}


def _shown(expr: str) -> str:
    """The expression as quoted in a message: whole if short, else its start."""
    return repr(expr if len(expr) <= 120 else expr[:100] + "...")


class _Walker:
    """Walks the parsed tree; every node type not handled below is refused. What a column is, and what an operation
    on columns gives, are the subclass's: _Evaluator's are a frame's, _Checker's their kinds."""

    def __init__(self, context: str):
        self.expr, self.context = "", context  # the expression: set by _condition, which parses it

    def columns(self) -> list[str]:
        raise NotImplementedError

    def column(self, name: str):
        raise NotImplementedError

    def is_column(self, value) -> bool:
        raise NotImplementedError

    def is_condition_column(self, value) -> bool:
        raise NotImplementedError

    def is_number_column(self, value) -> bool:
        raise NotImplementedError

    def boolean(self, value):
        """A column of conditions as the nullable boolean type (and/or/not follow its three-valued logic)."""
        raise NotImplementedError

    def isin(self, node: ast.AST, column, values: list):
        raise NotImplementedError

    def fail(self, node: ast.AST | None, why: str) -> CasemetaError:
        piece = ast.get_source_segment(self.expr, node) if node is not None else None
        where = f": {_shown(piece)}" if piece else ""
        return CasemetaError(f"{self.context}: expression {_shown(self.expr)}{where} {why}")

    def value(self, node: ast.AST):
        """The value of a node of an allowed type (a column, a scalar); any other type is refused."""
        handlers = {ast.Name: self._name, ast.Constant: self._constant, ast.BoolOp: self._bool_op,
                    ast.UnaryOp: self._unary_op, ast.BinOp: self._bin_op, ast.Compare: self._compare}
        handler = handlers.get(type(node))
        if handler is None:
            raise self.fail(node, f"is not allowed; {ALLOWED}")
        return handler(node)

    def _name(self, node: ast.Name):
        if node.id in self.columns():
            return self.column(node.id)
        close = difflib.get_close_matches(node.id, [str(c) for c in self.columns()], n=3)
        maybe = f"; closest: {', '.join(close)}" if close else ""
        raise self.fail(node, f"is not a column{maybe}")

    def _constant(self, node: ast.Constant):
        if isinstance(node.value, (bool, int, float, str)):
            return node.value
        raise self.fail(node, f"is not allowed: only numbers, quoted text, True and False are literals; {ALLOWED}")

    def literal(self, node: ast.AST):
        """A literal of a list after `in`: a number (possibly negative), text, True or False."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            value = self._constant(node.operand)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
        if isinstance(node, ast.Constant):
            return self._constant(node)
        raise self.fail(node, "is not allowed in a list: only literals (numbers, quoted text, True, False)")

    def condition(self, node: ast.AST):
        """A true/false value (a scalar or a boolean column) for and/or/not."""
        result = self.value(node)
        if isinstance(result, bool) or (self.is_column(result) and self.is_condition_column(result)):
            return self.boolean(result) if self.is_column(result) else result
        raise self.fail(node, "is not a condition; compare it, e.g. `x == 1`")

    def number(self, node: ast.AST):
        """A number or a numeric column, for arithmetic (so text is never repeated or joined)."""
        result = self.value(node)
        if self.is_column(result):
            if self.is_number_column(result):
                return result
        elif isinstance(result, (int, float)):
            return result
        raise self.fail(node, "is not a number; + - * / apply to numbers and numeric columns only")

    def apply(self, node: ast.AST, op, *args):
        try:
            return op(*args)
        except Exception as exc:  # pandas raises TypeError, ValueError, ... for mismatched types
            raise self.fail(node, f"cannot be evaluated: {exc}") from None

    def _bool_op(self, node: ast.BoolOp):
        values = [self.condition(v) for v in node.values]
        result = values[0]
        for v in values[1:]:
            result = self.apply(node, _LOGIC[type(node.op)], result, v)
        return result

    def _unary_op(self, node: ast.UnaryOp):
        if isinstance(node.op, (ast.Not, ast.Invert)):
            value = self.condition(node.operand)
            return (not value) if isinstance(value, bool) else ~value
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return self.apply(node, operator.mul, sign, self.number(node.operand))
        raise self.fail(node, f"is not allowed; {ALLOWED}")

    def _bin_op(self, node: ast.BinOp):
        op = type(node.op)
        if op in (ast.BitAnd, ast.BitOr):
            return self.apply(node, _LOGIC[op], self.condition(node.left), self.condition(node.right))
        if op in _ARITHMETIC:
            return self.apply(node, _ARITHMETIC[op], self.number(node.left), self.number(node.right))
        raise self.fail(node, f"is not allowed; {ALLOWED}")

    def _compare(self, node: ast.Compare):
        result, left = True, node.left
        for op, right in zip(node.ops, node.comparators):
            if type(op) in _COMPARE:
                step = self.apply(node, _COMPARE[type(op)], self.value(left), self.value(right))
            elif isinstance(op, (ast.In, ast.NotIn)):
                step = self.membership(node, left, right, negate=isinstance(op, ast.NotIn))
            else:
                raise self.fail(node, f"is not allowed; {ALLOWED}")
            step = self.boolean(step) if self.is_column(step) else bool(step)
            result = step if result is True else result & step
            left = right
        return result

    def membership(self, node: ast.Compare, left: ast.AST, right: ast.AST, negate: bool):
        if not isinstance(right, (ast.List, ast.Tuple)):
            raise self.fail(right, "is not allowed after `in`: write a list of literals, e.g. `x in [1, 2]`")
        column = self.value(left)
        if not self.is_column(column):
            raise self.fail(left, "is not allowed before `in`: write a column name")
        values = [self.literal(item) for item in right.elts]
        hit = self.isin(node, column, values)
        return ~hit if negate else hit


class _Evaluator(_Walker):
    """The expression's value on a data frame."""

    def __init__(self, frame, context: str):
        import pandas as pd

        super().__init__(context)
        self.frame, self.pd = frame, pd

    def columns(self):
        return self.frame.columns

    def column(self, name: str):
        return self.frame[name]

    def is_column(self, value) -> bool:
        return isinstance(value, self.pd.Series)

    def is_condition_column(self, value) -> bool:
        return self.pd.api.types.is_bool_dtype(value.dtype)

    def is_number_column(self, value) -> bool:
        return self.pd.api.types.is_numeric_dtype(value.dtype)

    def boolean(self, value):
        return value.astype("boolean")

    def isin(self, node: ast.AST, column, values: list):
        return self.boolean(self.apply(node, column.isin, values))


class _Kind:
    """A column's kind where _Checker walks an expression: number, text or condition. An operation gives the kind of
    its result; an order comparison of text with anything but text is refused, as pandas refuses it on any case."""

    def __init__(self, kind: str):
        self.kind = kind

    def _arithmetic(operation: str):
        """Numbers give a number; conditions alone (pandas counts them as numbers) a condition by + and *, while
        pandas refuses - and / on them."""
        def apply(self, other):
            _fits_a_column(other)
            if {self.kind, _kind_of(other)} != {"condition"}:
                return _Kind("number")
            if operation in "+*":
                return _Kind("condition")
            raise TypeError(f"{operation} does not apply to conditions alone")
        return apply

    __add__ = __radd__ = _arithmetic("+")
    __mul__ = __rmul__ = _arithmetic("*")
    __sub__ = __rsub__ = _arithmetic("-")
    __truediv__ = __rtruediv__ = _arithmetic("/")

    def _logic(self, other):
        return _Kind("condition")

    __and__ = __rand__ = __or__ = __ror__ = _logic

    def __invert__(self):
        return _Kind("condition")

    def __eq__(self, other):  # noqa: D105 (element-wise, as a column's)
        if self.kind == "condition":
            _fits_a_column(other)
        return _Kind("condition")

    __ne__ = __eq__
    __hash__ = None

    def _order(self, other):
        kinds = {self.kind, _kind_of(other)}
        if "text" in kinds and len(kinds) == 2:
            raise TypeError("text can be put in order only with text")
        return _Kind("condition")

    __lt__ = __le__ = __gt__ = __ge__ = _order


def _fits_a_column(value) -> None:
    """pandas refuses a whole number beyond 64 bits in arithmetic with a column (and in comparing conditions with it)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        raise OverflowError("Python int too large to convert to C long")


def _kind_of(value) -> str:
    if isinstance(value, _Kind):
        return value.kind
    if isinstance(value, str):
        return "text"
    return "condition" if isinstance(value, bool) else "number"


class _Checker(_Walker):
    """The expression walked over the columns' kinds: refuses what _Evaluator would refuse on cases of these kinds
    (a text column with no value at all lets pandas compare it with anything; a plan's condition is checked for the
    cases to come)."""

    def __init__(self, kinds: Mapping[str, str], context: str):
        super().__init__(context)
        self.kinds = kinds

    def columns(self):
        return list(self.kinds)

    def column(self, name: str):
        return _Kind(self.kinds[name])

    def is_column(self, value) -> bool:
        return isinstance(value, _Kind)

    def is_condition_column(self, value) -> bool:
        return value.kind == "condition"

    def is_number_column(self, value) -> bool:
        return value.kind in ("number", "condition")  # pandas counts a boolean column as numeric

    def boolean(self, value):
        return value

    def isin(self, node: ast.AST, column, values: list):
        return _Kind("condition")


def names(expr: str) -> set[str]:
    """The column names an expression reads (none for one that does not parse: its check says why)."""
    try:
        tree = ast.parse(str(expr).strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _condition(walker: _Walker, expr: str):
    """The condition's value as `walker` walks it (a scalar True/False, or a column of the walker's)."""
    context = walker.context
    if not isinstance(expr, str):
        raise CasemetaError(f"{context}: expression {expr!r} must be text, e.g. \"x == 1\"")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise CasemetaError(f"{context}: expression {_shown(expr)} is not a valid condition ({exc.msg}, at character {exc.offset}); {ALLOWED}") from None
    except (RecursionError, MemoryError, ValueError) as exc:  # too deeply nested, or a NUL character
        raise CasemetaError(f"{context}: expression {_shown(expr)} cannot be read ({str(exc) or type(exc).__name__}); {ALLOWED}") from None
    walker.expr = expr.strip()
    try:
        return walker.condition(tree.body)
    except RecursionError:
        raise CasemetaError(f"{context}: expression {_shown(expr)} is too deeply nested; split it into simpler conditions") from None


def evaluate(frame, expr: str, context: str):
    """The cases for which the condition holds (a boolean Series on the frame's index; missing is False)."""
    evaluator = _Evaluator(frame, context)
    result = _condition(evaluator, expr)
    if not evaluator.is_column(result):
        result = evaluator.pd.Series(result, index=frame.index, dtype="boolean")
    return result.fillna(False).astype(bool)


def check(kinds: Mapping[str, str], expr: str, context: str) -> None:
    """Refuse (CasemetaError, as `evaluate` says it) a condition that could not be evaluated on cases whose columns
    are these: name -> "number" or "text" (_Checker says where pandas lets more through). Without pandas."""
    _condition(_Checker(kinds, context), expr)


def expression_problem(codebook, expr: str, context: str) -> str | None:
    """Why a condition cannot be evaluated on the study's cases (its coded and derived variables, typed as the steps
    read them: binary and integer variables are numbers, the others text), or None."""
    kinds = {v.name: "number" if v.whole_numbers else "text"
             for v in (*codebook.variables, *codebook.derived)}
    try:
        check(kinds, expr, context)
    except CasemetaError as exc:
        return exc.summary
    return None
