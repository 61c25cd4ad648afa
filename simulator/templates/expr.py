"""Arithmetic over a template's parameters: numbers, names, + - * / **, parentheses and
sin/cos/asin/atan/sqrt/min/max (angles in degrees). Parsed once, evaluated safely (no other Python)."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}
_FUNCTIONS = {
    "sin": lambda d: math.sin(math.radians(d)),
    "cos": lambda d: math.cos(math.radians(d)),
    "asin": lambda x: math.degrees(math.asin(x)),
    "atan": lambda x: math.degrees(math.atan(x)),
    "sqrt": math.sqrt,
    "min": min,
    "max": max,
}
_CONSTANTS = {"pi": math.pi}


class ExprError(ValueError):
    """An expression that is not plain arithmetic over known names."""


def compile_expr(text: str | float | int) -> ast.AST:
    """The checked syntax tree of `text` (a number is its own expression)."""
    tree = ast.parse(str(text), mode="eval").body
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS) or node.keywords:
                raise ExprError(f"{text!r}: only {', '.join(_FUNCTIONS)} may be called")
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
                                   ast.USub, ast.UAdd, *_BINARY)):
            raise ExprError(f"{text!r}: {type(node).__name__} is not arithmetic")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ExprError(f"{text!r}: only numbers are allowed")
    return tree


def names_in(tree: ast.AST) -> set[str]:
    """The parameter names an expression reads."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in _FUNCTIONS} - set(_CONSTANTS)


def evaluate(tree: ast.AST, values: Mapping[str, float]) -> float:
    """The value of a compiled expression with `values` for its names."""
    if isinstance(tree, ast.Constant):
        return float(tree.value)
    if isinstance(tree, ast.Name):
        if tree.id in _CONSTANTS:
            return _CONSTANTS[tree.id]
        if tree.id not in values:
            raise ExprError(f"unknown name {tree.id!r}; known: {', '.join(sorted(values))}")
        return float(values[tree.id])
    if isinstance(tree, ast.UnaryOp):
        v = evaluate(tree.operand, values)
        return -v if isinstance(tree.op, ast.USub) else v
    if isinstance(tree, ast.BinOp):
        return float(_BINARY[type(tree.op)](evaluate(tree.left, values), evaluate(tree.right, values)))
    if isinstance(tree, ast.Call):
        return float(_FUNCTIONS[tree.func.id](*(evaluate(a, values) for a in tree.args)))
    raise ExprError(f"cannot evaluate {ast.dump(tree)}")
