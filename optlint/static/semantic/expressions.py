"""What an expression says by itself, before any name is resolved: dotted names, method calls,
arguments by position or keyword, literals."""

from __future__ import annotations

import libcst as cst


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        head = dotted(expr.value)
        return f"{head}.{expr.attr.value}" if head else None
    return None


def terminal_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def call_method(call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
    """For `x.m(...)`: (x, "m")."""
    if isinstance(call.func, cst.Attribute):
        return call.func.value, call.func.attr.value
    return None


def argument(call: cst.Call, position: int | None, keyword: str | None) -> cst.BaseExpression | None:
    """The expression given for a parameter, by position or keyword."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if keyword is not None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
    if position is not None and position < len(positional):
        if any(a.star for a in call.args[: call.args.index(positional[position])]):
            return None  # *args before it: positions are unknown
        return positional[position].value
    return None


def summarised_argument(call: cst.Call, callee: dict, name: str) -> cst.BaseExpression | None:
    """What a call gives parameter `name` of a function another module's summary describes (its
    `positional` names, project/summary.py)."""
    positional = callee["positional"]
    return argument(call, positional.index(name) if name in positional else None, name)


def number_literal(expr: cst.BaseExpression | None) -> float | None:
    """The value of a number literal (`1e-2`, `-3`), None for anything else."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return float(expr.evaluated_value)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = number_literal(expr.expression)
        return -inner if inner is not None else None
    return None


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def bool_literal(expr: cst.BaseExpression | None) -> bool | None:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None
