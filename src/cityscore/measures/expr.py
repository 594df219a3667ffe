"""Compile an expression of the catalog's measure language (:mod:`cityscore.standard.expressions`) to Ibis."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from datetime import datetime
from functools import reduce
from typing import Any

import ibis

from ..standard.expressions import Expression

_SECONDS_PER = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}


class ExpressionCompileError(ValueError):
    """An expression that names something the table or the KPI does not have."""


def to_ibis(expr: Expression, table: Any, *, params: Mapping[str, str], as_of: datetime) -> Any:
    """The Ibis expression of ``expr`` over ``table``. ``params`` maps a formula parameter's name to the column of
    the joined settlement parameters holding it; ``as_of`` is the (UTC) instant the data is judged at."""

    def column(name: str) -> Any:
        if name not in table.columns:
            raise ExpressionCompileError(f"«{expr.text}»: the table has no column '{name}'")
        return table[name]

    def build(node: ast.AST) -> Any:
        if isinstance(node, ast.BoolOp):
            parts = [build(v) for v in node.values]
            return reduce(lambda a, b: a & b, parts) if isinstance(node.op, ast.And) else reduce(
                lambda a, b: a | b, parts)
        if isinstance(node, ast.UnaryOp):
            operand = build(node.operand)
            return ~operand if isinstance(node.op, ast.Not) else -operand
        if isinstance(node, ast.Compare):
            left = build(node.left)
            terms = []
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    values = [e.value for e in right_node.elts]  # type: ignore[attr-defined]
                    term = left.isin(values)
                    terms.append(~term if isinstance(op, ast.NotIn) else term)
                    continue
                right = build(right_node)
                terms.append(_compare(op, left, right))
                left = right
            return reduce(lambda a, b: a & b, terms)
        if isinstance(node, ast.BinOp):
            left, right = build(node.left), build(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left / right
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]
            args = node.args
            if name == "present":
                return build(args[0]).notnull()
            if name == "missing":
                return build(args[0]).isnull()
            if name == "fill":
                return build(args[0]).fill_null(args[1].value)  # type: ignore[attr-defined]
            if name == "between":
                return build(args[0]).between(build(args[1]), build(args[2]))
            later, earlier = build(args[0]), build(args[1])
            seconds = later.epoch_seconds() - earlier.epoch_seconds()
            return seconds if name == "seconds" else seconds / _SECONDS_PER[name]
        if isinstance(node, ast.Attribute):
            if node.attr not in params:
                raise ExpressionCompileError(f"«{expr.text}»: the KPI has no parameter '{node.attr}'")
            return table[params[node.attr]]
        if isinstance(node, ast.Name):
            return ibis.timestamp(as_of) if node.id == "as_of" else column(node.id)
        if isinstance(node, ast.Constant):
            return node.value
        raise ExpressionCompileError(f"«{expr.text}»: '{ast.unparse(node)}' cannot be compiled")

    result = build(expr.tree)
    return result if hasattr(result, "op") else ibis.literal(result)


def _compare(op: ast.cmpop, left: Any, right: Any) -> Any:
    if isinstance(op, ast.Eq):
        return left == right
    if isinstance(op, ast.NotEq):
        return left != right
    if isinstance(op, ast.Lt):
        return left < right
    if isinstance(op, ast.LtE):
        return left <= right
    if isinstance(op, ast.Gt):
        return left > right
    return left >= right
