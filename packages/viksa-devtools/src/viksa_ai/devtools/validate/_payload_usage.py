"""Which keys an endpoint function reads from its payload dict, found in its syntax tree.

Recognised reads of a dict parameter ``payload`` (any name): ``payload.get("k")``
(also ``.pop`` / ``.setdefault``), ``payload["k"]`` and ``"k" in payload`` /
``"k" not in payload``. Any other use of the name (passing the dict on, iterating it,
``payload.keys()``, a computed key, rebinding it) makes the usage *opaque*: the keys
read cannot all be known, so "required input never read" is not claimed for it.
"""

from __future__ import annotations

import ast
import sys
from typing import Any, NamedTuple, TypeAlias

__all__ = ["KeyRead", "PayloadUsage", "scan_payload_usage"]

_READ_METHODS = frozenset({"get", "pop", "setdefault"})
_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda})
# Fields that hold identifiers, operators, flags or literal values, never code.
_NOT_CODE = frozenset(
    {
        "ctx",
        "id",
        "attr",
        "name",
        "names",
        "module",
        "level",
        "arg",
        "asname",
        "type_comment",
        "kind",
        "conversion",
        "is_async",
        "simple",
        "op",
        "ops",
        "kwd_attrs",
    }
)


def _code_fields() -> dict[type, tuple[str, ...]]:
    fields: dict[type, tuple[str, ...]] = {}
    for value in vars(ast).values():
        if isinstance(value, type) and issubclass(value, ast.AST):
            fields[value] = tuple(name for name in value._fields if name not in _NOT_CODE)
    # A Constant's (or MatchSingleton's) value is a Python literal, not a node.
    fields[ast.Constant] = ()
    fields[ast.MatchSingleton] = ()
    return fields


_CODE_FIELDS = _code_fields()
_NAME, _CONSTANT, _ATTRIBUTE, _CALL = ast.Name, ast.Constant, ast.Attribute, ast.Call
_SUBSCRIPT, _COMPARE, _ASSIGN, _LOAD = ast.Subscript, ast.Compare, ast.Assign, ast.Load
_VALUE_NODES = (ast.Expr, ast.Return)
_NO_LIMIT = sys.maxsize


KeyRead: TypeAlias = tuple[str, ast.expr]
"""A read of a key: the key and the expression that reads it (its position locates issues)."""


class PayloadUsage(NamedTuple):
    """The keys read from a payload dict, and whether other uses hide further reads."""

    reads: tuple[KeyRead, ...]
    opaque: bool


def scan_payload_usage(
    body: list[ast.stmt], name: str, max_mentions: int | None = None
) -> PayloadUsage:
    """Scan ``body`` (a function's statements) for uses of the dict named ``name``.

    ``max_mentions`` is an upper bound on the ``Name`` nodes spelling ``name`` in
    ``body`` (for example, the count of ``name`` in the body's text); the scan stops
    once that many are found. The walk is iterative, so deep code cannot overflow the
    stack, and it visits statements in source order.
    """
    reads: list[KeyRead] = []
    found = accounted = 0
    limit = _NO_LIMIT if max_mentions is None else max_mentions
    stack: list[Any] = body[::-1]
    pop, push, extend = stack.pop, stack.append, stack.extend
    # This loop runs once per node of every endpoint function: the most frequent kinds
    # are tested first and the usual statements have fast paths (each pushes its fields
    # as the generic loop at the end would, to keep source order). Node classes are
    # module constants (a global lookup is as fast as a local one, without the copies).
    while stack and found < limit:
        node = pop()
        kind = type(node)
        if kind is _NAME:
            if node.id == name:
                found += 1
            continue
        if kind is _CONSTANT:
            continue
        if kind is _ATTRIBUTE:
            push(node.value)  # attr is an identifier and ctx a flag: no code there
            continue
        if kind is _ASSIGN:
            extend(node.targets[::-1])
            push(node.value)
            continue
        if kind in _VALUE_NODES:
            if node.value is not None:
                push(node.value)
            continue
        if kind is _CALL:
            func, args = node.func, node.args
            if (
                type(func) is _ATTRIBUTE
                and func.attr in _READ_METHODS
                and type(func.value) is _NAME
                and func.value.id == name
                and args
            ):
                key = args[0]
                if type(key) is _CONSTANT and type(key.value) is str:
                    found += 1
                    accounted += 1
                    reads.append((key.value, node))
                    if len(args) > 1:
                        extend(args[1:])
                    if node.keywords:
                        extend([keyword.value for keyword in node.keywords])
                    continue
        elif kind is _SUBSCRIPT:
            target, key = node.value, node.slice
            if (
                type(target) is _NAME
                and target.id == name
                and type(key) is _CONSTANT
                and type(key.value) is str
            ):
                found += 1
                accounted += 1
                if type(node.ctx) is _LOAD:
                    reads.append((key.value, node))
                continue
        elif kind is _COMPARE:
            matched = _membership_reads(node, name)
            if matched:
                found += len(matched)
                accounted += len(matched)
                reads.extend((key, node) for key in matched.values())
                operands = [node.left, *node.comparators]
                extend([op for i, op in enumerate(operands) if i not in matched])
                continue
        elif kind in _SCOPES and _binds(node.args, name):
            # A nested function or lambda with its own parameter of that name:
            # its body uses that parameter, not ours.
            extend(_outer_parts(node))
            continue
        fields = _CODE_FIELDS.get(kind)
        if fields is None:
            continue  # not a node: a None key of a dict display
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                extend(value[::-1])
            elif value is not None:
                push(value)
    return PayloadUsage(tuple(reads), found != accounted)


def _str_constant(node: ast.AST) -> str | None:
    if type(node) is ast.Constant and isinstance(node.value, str):
        return node.value
    return None


def _membership_reads(node: ast.Compare, name: str) -> dict[int, str]:
    """Operand index of each ``name`` on the right of ``"k" in name``, mapped to k."""
    operands = [node.left, *node.comparators]
    matched: dict[int, str] = {}
    for i, op in enumerate(node.ops):
        right = operands[i + 1]
        if type(op) in (ast.In, ast.NotIn) and type(right) is ast.Name and right.id == name:
            key = _str_constant(operands[i])
            if key is not None:
                matched[i + 1] = key
    return matched


def _binds(args: ast.arguments, name: str) -> bool:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every.extend(arg for arg in (args.vararg, args.kwarg) if arg is not None)
    return any(arg.arg == name for arg in every)


def _outer_parts(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.AST]:
    """What a nested scope evaluates in the enclosing one: decorators, defaults, annotations."""
    args = node.args
    parts: list[ast.AST] = [*args.defaults]
    parts.extend(default for default in args.kw_defaults if default is not None)
    if not isinstance(node, ast.Lambda):
        parts.extend(node.decorator_list)
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        parts.extend(arg.annotation for arg in every if arg is not None and arg.annotation)
        if node.returns is not None:
            parts.append(node.returns)
    return parts
