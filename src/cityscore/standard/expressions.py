"""The small expression language of the catalog's measures: which records are in scope, which meet the condition,
what quantity is aggregated.

An expression is one line in a Python-like syntax, parsed (never evaluated) and checked against a whitelist, so a
catalog can say what a KPI counts without code::

    present(sla_due_at) and category == "roads"
    answered and answer_seconds <= param.answer_within_seconds
    minutes(arrived_at, call_at) <= param.arrival_within_minutes
    type in ["fire", "road_accident"] and fill(major, False)

Names are columns of the measure's raw table; ``param.NAME`` is a formula parameter of the KPI (its value for the
settlement's category, a range resolved by the scoring policy); ``as_of`` is the instant the data is judged at (the
end of the period computed, or ``--as-of``). Operators: ``and or not``, ``== != < <= > >=``, ``in`` / ``not in`` a
list of literals, ``+ - * /``. Functions:

============================ ========================================================================================
``present(x)``, ``missing(x)`` x has a value / has none
``fill(x, v)``               x, or the literal v where x has no value
``seconds(a, b)``            a − b in seconds (two timestamps; ``minutes``, ``hours`` likewise)
``between(x, lo, hi)``       lo ≤ x ≤ hi
============================ ========================================================================================

A comparison with a missing value is unknown, and an unknown condition counts as not met (as SQL's ``FILTER``).
This module only parses and inspects; :mod:`cityscore.measures` compiles expressions to Ibis.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

FUNCTIONS: dict[str, int] = {"present": 1, "missing": 1, "fill": 2, "seconds": 2, "minutes": 2, "hours": 2,
                             "between": 3}
TIME_FUNCTIONS = ("seconds", "minutes", "hours")
RESERVED = ("param", "as_of")
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class ExpressionError(ValueError):
    """An expression that is not valid in the measure language (the message says what and where)."""


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression and the names it uses."""

    text: str
    tree: ast.expr
    columns: frozenset[str]
    params: frozenset[str]
    uses_as_of: bool


@lru_cache(maxsize=512)
def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` naming the offending part."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression ({exc.msg} at column {exc.offset})") from None
    columns: set[str] = set()
    params: set[str] = set()
    uses_as_of = [False]

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp):
            if not isinstance(node.op, ast.And | ast.Or):
                raise ExpressionError("only 'and' and 'or' combine conditions")
            for value in node.values:
                check(value)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.Not | ast.USub):
                raise ExpressionError(f"the operator '{ast.unparse(node)}' is not allowed")
            check(node.operand)
        elif isinstance(node, ast.Compare):
            check(node.left)
            for op, right in zip(node.ops, node.comparators, strict=True):
                if not isinstance(op, _COMPARE):
                    raise ExpressionError(f"the comparison in '{ast.unparse(node)}' is not allowed")
                if isinstance(op, ast.In | ast.NotIn):
                    if not isinstance(right, ast.List | ast.Tuple) or not all(
                            isinstance(e, ast.Constant) for e in right.elts):
                        raise ExpressionError(f"'in' needs a list of literals: {ast.unparse(node)}")
                else:
                    check(right)
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _ARITH):
                raise ExpressionError(f"the operator in '{ast.unparse(node)}' is not allowed (use + - * /)")
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            if name not in FUNCTIONS:
                raise ExpressionError(f"unknown function '{name}' (use one of: {', '.join(FUNCTIONS)})")
            if node.keywords or len(node.args) != FUNCTIONS[name]:
                raise ExpressionError(f"{name}() takes {FUNCTIONS[name]} argument(s): {ast.unparse(node)}")
            if name == "fill" and not isinstance(node.args[1], ast.Constant):
                raise ExpressionError(f"the second argument of fill() must be a literal: {ast.unparse(node)}")
            for arg in node.args:
                check(arg)
        elif isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name) or node.value.id != "param":
                raise ExpressionError(f"'{ast.unparse(node)}': only param.NAME may use a dot")
            params.add(node.attr)
        elif isinstance(node, ast.Name):
            if node.id == "as_of":
                uses_as_of[0] = True
            elif node.id == "param":
                raise ExpressionError("'param' needs a name: param.NAME")
            else:
                columns.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, bool | int | float | str):
                raise ExpressionError(f"the literal {node.value!r} is not allowed")
        else:
            raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in a measure expression")

    check(tree)
    return Expression(text, tree, frozenset(columns), frozenset(params), uses_as_of[0])
