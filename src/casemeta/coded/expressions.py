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
"""

from __future__ import annotations

import ast
import difflib
import operator

import pandas as pd

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


class _Evaluator:
    """Walks the parsed tree; every node type not handled below is refused."""

    def __init__(self, frame: pd.DataFrame, expr: str, context: str):
        self.frame, self.expr, self.context = frame, expr, context

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
        if node.id in self.frame.columns:
            return self.frame[node.id]
        close = difflib.get_close_matches(node.id, [str(c) for c in self.frame.columns], n=3)
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
        if isinstance(result, bool) or (isinstance(result, pd.Series) and pd.api.types.is_bool_dtype(result.dtype)):
            return result.astype("boolean") if isinstance(result, pd.Series) else result
        raise self.fail(node, "is not a condition; compare it, e.g. `x == 1`")

    def number(self, node: ast.AST):
        """A number or a numeric column, for arithmetic (so text is never repeated or joined)."""
        result = self.value(node)
        if isinstance(result, pd.Series):
            if pd.api.types.is_numeric_dtype(result.dtype):
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
            step = step.astype("boolean") if isinstance(step, pd.Series) else bool(step)
            result = step if result is True else result & step
            left = right
        return result

    def membership(self, node: ast.Compare, left: ast.AST, right: ast.AST, negate: bool):
        if not isinstance(right, (ast.List, ast.Tuple)):
            raise self.fail(right, "is not allowed after `in`: write a list of literals, e.g. `x in [1, 2]`")
        column = self.value(left)
        if not isinstance(column, pd.Series):
            raise self.fail(left, "is not allowed before `in`: write a column name")
        values = [self.literal(item) for item in right.elts]
        hit = self.apply(node, column.isin, values).astype("boolean")
        return ~hit if negate else hit


def names(expr: str) -> set[str]:
    """The column names an expression reads (none for one that does not parse: its check says why)."""
    try:
        tree = ast.parse(str(expr).strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def evaluate(frame: pd.DataFrame, expr: str, context: str) -> pd.Series:
    """The cases for which the condition holds (a boolean Series on the frame's index; missing is False)."""
    if not isinstance(expr, str):
        raise CasemetaError(f"{context}: expression {expr!r} must be text, e.g. \"x == 1\"")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise CasemetaError(f"{context}: expression {_shown(expr)} is not a valid condition ({exc.msg}, at character {exc.offset}); {ALLOWED}") from None
    except (RecursionError, MemoryError, ValueError) as exc:  # too deeply nested, or a NUL character
        raise CasemetaError(f"{context}: expression {_shown(expr)} cannot be read ({str(exc) or type(exc).__name__}); {ALLOWED}") from None
    evaluator = _Evaluator(frame, expr.strip(), context)
    try:
        result = evaluator.condition(tree.body)
    except RecursionError:
        raise CasemetaError(f"{context}: expression {_shown(expr)} is too deeply nested; split it into simpler conditions") from None
    if not isinstance(result, pd.Series):
        result = pd.Series(result, index=frame.index, dtype="boolean")
    return result.fillna(False).astype(bool)
