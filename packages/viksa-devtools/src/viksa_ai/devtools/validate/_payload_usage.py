"""Which keys an endpoint function reads from its payload dict, found in its syntax tree.

Recognised reads of a dict parameter ``payload`` (any name): ``payload.get("k")``
(also ``.pop`` / ``.setdefault``), ``payload["k"]`` and ``"k" in payload`` /
``"k" not in payload``. Any other use of the name (passing the dict on, iterating it,
``payload.keys()``, a computed key, rebinding it) makes the usage *opaque*: the keys
read cannot all be known, so "required input never read" is not claimed for it.

Reads after the name is bound again (``payload = {...}``, a ``for``/``with``/``except``/
``match``/``:=`` target, ``nonlocal`` from a nested function...) read another dict, and
reads of a key after the code writes it (``payload["k"] = v``) or after
``payload.update(...)`` read what the code put there: neither is a read of an input, so
neither is reported as one. A comprehension or nested scope with its own variable of
that name is not the payload either.
"""

from __future__ import annotations

import ast
import sys
from typing import Any, NamedTuple, TypeAlias

__all__ = ["KeyRead", "PayloadUsage", "scan_payload_usage"]

_READ_METHODS = frozenset({"get", "pop", "setdefault"})
# Methods that put keys the code chose into the dict: later reads may read those.
_WRITE_METHODS = frozenset({"update", "__setitem__", "__ior__"})
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# Nested scopes that may have their own variable of the name (a parameter, a
# comprehension target): their bodies then use that variable, not ours.
_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, *_COMPREHENSIONS})
# Nodes that bind a name given as a string, not as a Name node.
_STRING_BINDERS = frozenset(
    {ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.Import, ast.ImportFrom}
    | {ast.Global, ast.Nonlocal, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef}
)
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
    # Where the name is bound again (or the dict's keys replaced), and where each key is
    # written: reads after those do not read the call's inputs (see the module doc).
    # Each is (None, node) for a rebinding, (key, node) for a write; None until the
    # first (most functions have neither: no list is made for them).
    changes: list[tuple[str | None, ast.AST]] | None = None
    found = accounted = 0
    limit = _NO_LIMIT if max_mentions is None else max_mentions
    # Most functions start with `x = payload.get("k")` / `x = payload["k"]` statements,
    # often holding every mention of the name: those are read here, without the walk
    # (which would find the same reads, in the same order).
    start = 0
    for statement in body:
        if found >= limit or type(statement) is not _ASSIGN:
            break
        targets = statement.targets
        if len(targets) != 1 or type(targets[0]) is not _NAME or targets[0].id == name:
            break
        read: Any = statement.value  # its class is tested exactly, as in the walk
        kind = type(read)
        if kind is _CALL:
            func = read.func
            if not (
                type(func) is _ATTRIBUTE
                and func.attr in _READ_METHODS
                and type(func.value) is _NAME
                and func.value.id == name
                and not read.keywords
                # The key, and maybe a literal default: `payload.get("k", "")`.
                and (
                    len(read.args) == 1 or (len(read.args) == 2 and type(read.args[1]) is _CONSTANT)
                )
            ):
                break
            key = read.args[0]
        elif kind is _SUBSCRIPT:
            if type(read.value) is not _NAME or read.value.id != name:
                break
            key = read.slice
        else:
            break
        if type(key) is not _CONSTANT or type(key.value) is not str:
            break
        found += 1
        accounted += 1
        reads.append((key.value, read))
        start += 1
    if found >= limit:  # every mention read: nothing opaque, nothing rebound
        return tuple.__new__(PayloadUsage, (tuple(reads), False))
    stack: list[Any] = body[::-1]
    if start:
        del stack[-start:]
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
                if type(node.ctx) is not _LOAD:
                    changes = [] if changes is None else changes
                    changes.append((None, node))
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
            elif (
                type(func) is _ATTRIBUTE
                and func.attr in _WRITE_METHODS
                and type(func.value) is _NAME
                and func.value.id == name
            ):
                changes = [] if changes is None else changes
                changes.append((None, node))  # then counted as an opaque use, below
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
                else:
                    changes = [] if changes is None else changes
                    changes.append((key.value, node))
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
        elif kind in _SCOPES and _binds(node, name):
            # A nested function, lambda or comprehension with its own variable of that
            # name: its body uses that variable, not ours.
            extend(_outer_parts(node))
            continue
        elif kind in _STRING_BINDERS and _binds_by_string(node, name):
            changes = [] if changes is None else changes
            changes.append((None, node))
        fields = _CODE_FIELDS.get(kind)
        if fields is None:
            continue  # not a node: a None key of a dict display
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                extend(value[::-1])
            elif value is not None:
                push(value)
    opaque = found != accounted
    if changes is not None:
        rebound = [node for key, node in changes if key is None]
        written = [(key, node) for key, node in changes if key is not None]
        reads = _input_reads(body, reads, rebound, written)
        # Once the name is bound again, what the parameter was used for is not followed.
        opaque = opaque or bool(rebound)
    # PayloadUsage's __new__ is a Python function around this (once per endpoint).
    return tuple.__new__(PayloadUsage, (tuple(reads), opaque))


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _input_reads(
    body: list[ast.stmt],
    reads: list[KeyRead],
    rebound: list[ast.AST],
    written: list[tuple[str, ast.AST]],
) -> list[KeyRead]:
    """The reads that read the call's inputs: those before the name is bound again, and
    of each key, those before the code writes it.

    A binding by assignment takes effect once its value is computed, so it is placed at
    the end of the assignment: ``payload["k"] = payload["k"].strip()`` reads the input.
    """
    ends: dict[int, tuple[int, int]] = {}
    targets = {id(node) for node in rebound} | {id(node) for _, node in written}
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Assign):
            assigned: list[ast.expr] = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            assigned = [node.target]
        else:
            continue
        end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
        for target in assigned:
            for part in ast.walk(target):
                if id(part) in targets:
                    ends[id(part)] = end

    def effective(node: ast.AST) -> tuple[int, int]:
        return ends.get(id(node)) or _position(node)

    first_rebound = min(map(effective, rebound), default=(sys.maxsize, 0))
    first_written: dict[str, tuple[int, int]] = {}
    for key, node in written:
        position = effective(node)
        if position < first_written.get(key, (sys.maxsize, 0)):
            first_written[key] = position
    return [
        (key, node)
        for key, node in reads
        if _position(node) < min(first_rebound, first_written.get(key, first_rebound))
    ]


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


def _binds(node: ast.AST, name: str) -> bool:
    """Whether the nested scope ``node`` has its own parameter or comprehension target ``name``."""
    if isinstance(node, _COMPREHENSIONS):
        return any(
            type(target) is ast.Name and target.id == name and type(target.ctx) is ast.Store
            for generator in node.generators
            for target in ast.walk(generator.target)
        )
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every.extend(arg for arg in (args.vararg, args.kwarg) if arg is not None)
    return any(arg.arg == name for arg in every)


def _binds_by_string(node: ast.AST, name: str) -> bool:
    """Whether ``node`` binds ``name`` spelled as a string (``except E as name``...)."""
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return name in node.names
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((alias.asname or alias.name.split(".", 1)[0]) == name for alias in node.names)
    if isinstance(node, ast.MatchMapping):
        return node.rest == name
    return getattr(node, "name", None) == name


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """What a nested scope evaluates in the enclosing one: decorators, defaults,
    annotations; a comprehension, its first iterable."""
    if isinstance(node, _COMPREHENSIONS):
        return [node.generators[0].iter]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
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
