"""What the rules need to know about a parsed agent module, computed once and shared.

Built from the tree of one ``ast.parse``: the module-level functions, the names its
imports bind (to resolve ``@mcp_endpoint`` however it was imported), each endpoint's
decorator, signature and payload usage. Nothing here imports or runs agent code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from operator import itemgetter
from typing import Literal, NamedTuple

from viksa_ai.devtools.validate._payload_usage import PayloadUsage, scan_payload_usage
from viksa_ai.devtools.validate._source import SourceText

__all__ = [
    "DECORATOR",
    "TRY_STATEMENTS",
    "WRAPS",
    "DecoratorUse",
    "EndpointCode",
    "FunctionNode",
    "ModuleIndex",
    "Origin",
    "Rebinding",
    "Signature",
    "is_type_checking",
    "never_on_import",
]

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

DECORATOR = "mcp_endpoint"
_RUNTIME_MODULES = ("ViksaAI", "viksa_ai.runtime", "viksa_ai", "viksa_ai.runtime._viksa")
_DECORATOR_PATHS = frozenset(f"{module}.{DECORATOR}" for module in _RUNTIME_MODULES)
# Module-level statements whose blocks still define module attributes.
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
_TRY_STAR = getattr(ast, "TryStar", None)  # Python 3.11+
TRY_STATEMENTS = (ast.Try,) if _TRY_STAR is None else (ast.Try, _TRY_STAR)
"""The ``try`` statements of this Python (``try``, and ``try``/``except*`` on 3.11+)."""
_NESTING = frozenset([*_BLOCKS, *TRY_STATEMENTS, ast.Match])
_KEY = itemgetter(0)  # the key of a KeyRead
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# The regular expression engine finds ":=" faster than `in` (":" is frequent in code).
_WALRUS = re.compile(":=")
# A NamedTuple's own __new__ is a Python function around this call: the hot paths (once
# per endpoint) build theirs directly, with every field given in order.
_new_tuple = tuple.__new__


Origin = Literal["runtime", "other", "unbound"]


class DecoratorUse(NamedTuple):
    """One ``@mcp_endpoint`` (or look-alike) on a function, method or class.

    ``origin`` is ``"runtime"`` when it resolves to the runtime's decorator,
    ``"other"`` when the name is bound elsewhere (another module, or main.py itself),
    ``"unbound"`` when nothing binds it (a NameError on import).
    """

    node: ast.expr
    spelled: str
    called: bool
    origin: Origin
    problem: str | None
    """What is wrong with the call's arguments (none, blank description...), else None."""
    raises: bool = False
    """Whether ``problem`` makes the call itself raise ``TypeError`` when main.py is
    imported (no description, or other arguments); a bad description value only warns."""
    usual: bool = False
    """The runtime's decorator, called with a usable description, bound above its use:
    nothing to report about the decorator itself (the rules still check what it is on)."""


class Rebinding(NamedTuple):
    """A module-level statement (or expression) that binds or deletes a name without ``def``.

    ``how`` says what it does, for messages: ``"assigns"``, ``"deletes"``,
    ``"imports"``, ``"defines a class named"``... (``WRAPS``: ``name = wrap(name)``,
    which keeps the function, as a decorator would).
    """

    node: ast.AST
    how: str


class Signature(NamedTuple):
    """How an endpoint function takes its inputs.

    ``payload``: one dict parameter (``payload_param``) read with ``.get`` / ``[...]``.
    ``named``: parameters named after inputs (``params``), plus an optional ``**kwargs``
    dict (``payload_param``). ``none``: no parameter at all.
    """

    style: Literal["payload", "named", "none"]
    payload_param: str | None
    params: tuple[ast.arg, ...]
    required_params: frozenset[str]
    extra_required: tuple[ast.arg, ...]
    """Parameters the call cannot fill: payload style, further parameters without a
    default, and ``payload`` itself when it is not the first positional parameter (the
    dict goes there); named style, positional-only parameters that are required or
    named after an input (inputs come as keywords)."""


WRAPS = "wraps"
"""``Rebinding.how`` of ``name = wrapper(name)`` after ``def name``: a late decorator."""

_PAYLOAD_ONLY = Signature("payload", "payload", (), frozenset(), ())
_NO_PARAMETER = Signature("none", None, (), frozenset(), ())


class EndpointCode(NamedTuple):
    """An endpoint's function with its signature and how it reads its payload."""

    function: FunctionNode
    signature: Signature
    usage: PayloadUsage | None
    """Reads through the payload dict (or ``**kwargs``); None when there is none."""
    read_names: frozenset[str]
    """Every input the function reads: parameter names and payload keys."""


class ModuleIndex:
    """An index of one parsed module: functions, import bindings, endpoint analyses."""

    def __init__(self, source: SourceText, tree: ast.Module) -> None:
        self.source = source
        self.functions: dict[str, FunctionNode] = {}
        # Classes whose bodies run at import (module-level ones and the classes nested in
        # their bodies): a decorator on one, or on its methods, runs then.
        self.classes: list[ast.ClassDef] = []
        # Class -> the functions its body defines, including inside if/try/with blocks.
        self.methods: dict[int, list[FunctionNode]] = {}
        self.redefined: dict[str, list[FunctionNode]] = {}
        self.bindings: dict[str, str] = {}
        self.local_names: set[str] = set()
        # A `from other import *` may bind any name, the decorator included.
        self.star_import = False
        # Name -> line of its first module-level binding (import, def, class, assignment,
        # for or with target).
        self.first_bound: dict[str, int] = {}
        # Name -> every module-level binding of it other than a def, in source order
        # (assignments of any kind, del, imports, classes, except/match captures): one
        # after an endpoint's def replaces the function the platform would look up.
        self.rebindings: dict[str, list[Rebinding]] = {}
        # Module-level imports (outside `if TYPE_CHECKING:`), in source order.
        self.imports: list[ast.Import | ast.ImportFrom] = []
        self._decorators: dict[int, tuple[DecoratorUse, ...]] = {}
        # Function (by id) -> what `name = wrapper(name)` statements after its def apply
        # to it (each `wrapper`), in source order: decorators written as assignments.
        self._wrappers: dict[int, list[ast.expr]] = {}
        # Name -> the runtime decorator's call it was assigned (`d = mcp_endpoint(...)`,
        # then `@d`): a use of that name is a use of the call.
        self._made: dict[str, ast.Call] = {}
        # Spelling -> origin (None: not the decorator); every function repeats the same one.
        # ... with the line of the first binding of its root name (0 when none).
        self._origins: dict[str, tuple[Origin | None, int]] = {}
        self._index(tree)

    def position(self, node: ast.AST) -> tuple[int, int]:
        """1-based (line, character column) of ``node``."""
        line = getattr(node, "lineno", 1)
        return line, self.source.char_column(line, getattr(node, "col_offset", 0))

    def decorators(self, function: FunctionNode | ast.ClassDef) -> tuple[DecoratorUse, ...]:
        """The ``mcp_endpoint`` decorators of ``function`` (or class; normally one at most)."""
        key = id(function)  # the tree keeps every function alive, so ids stay unique
        found = self._decorators.get(key)
        if found is None:
            found = ()
            for node in function.decorator_list:
                use = self._decorator_use(node)
                if use is not None:
                    found += (use,)
            wrappers = self._wrappers.get(key) if self._wrappers else None
            if wrappers is not None:
                for node in wrappers:
                    use = self._decorator_use(node)
                    if use is not None:
                        found += (use,)
            self._decorators[key] = found
        return found

    def endpoint_code(self, name: str, input_names: frozenset[str]) -> EndpointCode | None:
        """Analysis of the module-level function ``name`` (None when there is none).

        ``input_names`` (every input the agent declares) tells a lone parameter named
        after an input (named style) from a payload dict under another name.
        """
        function = self.functions.get(name)
        if function is None:
            return None
        signature = _signature(function, input_names)
        param = signature.payload_param
        if param is None:
            usage = None
            names: frozenset[str] = frozenset()
        else:
            body = function.body
            # Every Name node spelling `param` in the body is an occurrence of it in the
            # body's lines, so their count bounds the scan (it may stop early); None when
            # the lines are not ASCII, where NFKC lets a name be spelled differently.
            bound = self.source.count_in_lines(
                param, body[0].lineno, function.end_lineno or body[-1].lineno
            )
            usage = scan_payload_usage(body, param, bound)
            names = frozenset(map(_KEY, usage.reads))
        if signature.params:
            names = names.union(arg.arg for arg in signature.params)
        return _new_tuple(EndpointCode, (function, signature, usage, names))

    def _index(self, tree: ast.Module) -> None:
        # `:=` may bind a module-level name from any expression; without it in the text
        # (a C-level scan) no expression needs a look.
        walrus = _WALRUS.search(self.source.text) is not None
        functions = self.functions
        local_names, first_bound = self.local_names, self.first_bound
        for statement in _module_statements(tree.body):
            if isinstance(statement, _FUNCTIONS):  # most: inline
                defined = statement.name
                previous = functions.get(defined)
                if previous is not None and not _is_overload(previous):
                    self.redefined.setdefault(defined, [previous]).append(statement)
                functions[defined] = statement
                local_names.add(defined)  # _bind_local, inline
                first_bound.setdefault(defined, statement.lineno)
            elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                self.imports.append(statement)
                self._index_import(statement)
            elif isinstance(statement, ast.ClassDef):
                self._index_class(statement)
                self._bind_local(statement.name, statement.lineno)
                self._rebound(statement.name, statement, "defines a class named")
            elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                self._index_assignment(statement)
            elif isinstance(statement, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                # Bound to something the validator cannot follow (not "unbound").
                if isinstance(statement, (ast.For, ast.AsyncFor)):
                    targets, how = [statement.target], "assigns (as a loop target)"
                else:
                    targets = [item.optional_vars for item in statement.items if item.optional_vars]
                    how = "assigns (with ... as)"
                for target in targets:
                    self._bind_targets(target, statement, how)
            elif isinstance(statement, ast.Delete):
                for target in statement.targets:
                    for name in _stored_names(target):
                        self._rebound(name.id, statement, "deletes")
            elif isinstance(statement, TRY_STATEMENTS):
                for handler in statement.handlers:
                    if handler.name:
                        # Bound to the exception, then deleted at the end of the handler.
                        self._rebound(handler.name, handler, "binds (and then deletes)")
            elif isinstance(statement, ast.Match):
                for case in statement.cases:
                    for node in ast.walk(case.pattern):
                        captured = getattr(node, "name", None) or getattr(node, "rest", None)
                        if isinstance(captured, str):
                            self._bind_local(captured, statement.lineno)
                            self._rebound(captured, node, "assigns (as a match capture)")
            if walrus:
                for name in _walrus_targets(statement):
                    self._bind_local(name.id, name.lineno)
                    self._rebound(name.id, name, "assigns (with :=)")

    def _index_import(self, statement: ast.Import | ast.ImportFrom) -> None:
        line = statement.lineno
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    self._bind(alias.asname, alias.name, line)
                    self._rebound(alias.asname, statement, "imports")
                else:
                    root = alias.name.split(".", 1)[0]
                    self._bind(root, root, line)
                    self._rebound(root, statement, "imports")
            return
        module = "." * statement.level + (statement.module or "")
        for alias in statement.names:
            if alias.name == "*":
                if module in _RUNTIME_MODULES:
                    self._bind(DECORATOR, f"{module}.{DECORATOR}", line)
                else:
                    self.star_import = True
            else:
                name = alias.asname or alias.name
                self._bind(name, f"{module}.{alias.name}", line)
                self._rebound(name, statement, "imports")

    def _index_assignment(self, statement: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        runtime_path = self._runtime_alias(statement)
        # `ep: int` alone only annotates: nothing is bound when it runs.
        binds = not (isinstance(statement, ast.AnnAssign) and statement.value is None)
        made = self._made_decorator(statement) if runtime_path is None else None
        for target in targets:
            if isinstance(target, ast.Name):
                if runtime_path is not None:
                    self._bind(target.id, runtime_path, statement.lineno)
                else:
                    self._bind_local(target.id, statement.lineno)
                if made is not None:
                    self._made[target.id] = made
                elif self._made:
                    self._made.pop(target.id, None)
                if binds:
                    wrapper = self._wrapper(target.id, statement)
                    self._rebound(target.id, statement, "assigns" if wrapper is None else WRAPS)
            elif binds:
                self._bind_targets(target, statement, "assigns (by unpacking)")

    def _bind_targets(self, target: ast.expr, statement: ast.stmt, how: str) -> None:
        for name in _stored_names(target):
            self._bind_local(name.id, statement.lineno)
            self._rebound(name.id, statement, how)

    def _wrapper(
        self, name: str, statement: ast.Assign | ast.AnnAssign | ast.AugAssign
    ) -> ast.expr | None:
        """``wrapper`` when ``statement`` is ``name = wrapper(name)`` after ``def name``.

        The function is passed on, as to a decorator (``greet = retry(greet)``,
        ``greet = mcp_endpoint(description=...)(greet)``): recorded as one of its
        decorators rather than reported as a rebinding.
        """
        value = statement.value
        function = self.functions.get(name)
        if (
            function is None
            or isinstance(statement, ast.AugAssign)
            or type(value) is not ast.Call
            or not any(type(arg) is ast.Name and arg.id == name for arg in value.args)
        ):
            return None
        self._wrappers.setdefault(id(function), []).append(value.func)
        return value.func

    def _rebound(self, name: str, node: ast.AST, how: str) -> None:
        self.rebindings.setdefault(name, []).append(Rebinding(node, how))

    def _index_class(self, cls: ast.ClassDef) -> None:
        classes = [cls]
        while classes:  # bounded by the tree
            current = classes.pop()
            self.classes.append(current)
            methods = self.methods[id(current)] = []
            for statement in _module_statements(current.body):
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    methods.append(statement)
                elif isinstance(statement, ast.ClassDef):
                    classes.append(statement)

    def _runtime_alias(self, statement: ast.Assign | ast.AnnAssign | ast.AugAssign) -> str | None:
        """The runtime path ``ep = ViksaAI.mcp_endpoint`` (or ``rt = ViksaAI``) assigns."""
        if isinstance(statement, ast.AugAssign) or statement.value is None:
            return None
        spelled = _dotted(statement.value)
        if spelled is None:
            return None
        root, _, rest = spelled.partition(".")
        bound = self.bindings.get(root)
        resolved = f"{bound}.{rest}" if bound and rest else bound
        if resolved in _DECORATOR_PATHS or resolved in _RUNTIME_MODULES:
            return resolved
        return None

    def _made_decorator(
        self, statement: ast.Assign | ast.AnnAssign | ast.AugAssign
    ) -> ast.Call | None:
        """The call ``d = mcp_endpoint(description=...)`` assigns, made by the runtime's
        decorator (resolved as at a ``@``), else None."""
        value = statement.value
        if isinstance(statement, ast.AugAssign) or type(value) is not ast.Call:
            return None
        spelled = _dotted(value.func)
        if spelled is None or spelled.rsplit(".", 1)[-1] != DECORATOR:
            return None
        return value if self._origin(spelled) == "runtime" else None

    def _bind(self, name: str, target: str, line: int) -> None:
        self.bindings[name] = target
        self.first_bound.setdefault(name, line)

    def _bind_local(self, name: str, line: int) -> None:
        self.local_names.add(name)
        self.first_bound.setdefault(name, line)

    def _decorator_use(self, node: ast.expr) -> DecoratorUse | None:
        if self._made and type(node) is ast.Name and node.id in self._made:
            call = self._made[node.id]
            problem, raises = _description_problem(call)
            usual = problem is None and self.first_bound.get(node.id, 0) <= node.lineno
            return DecoratorUse(node, node.id, True, "runtime", problem, raises, usual)
        called = type(node) is ast.Call
        target = node.func if isinstance(node, ast.Call) else node
        spelled = target.id if type(target) is ast.Name else _dotted(target)
        if spelled is None:
            return None
        try:
            origin, bound_at = self._origins[spelled]
        except KeyError:
            bound_at = self.first_bound.get(spelled.split(".", 1)[0], 0)
            origin, _ = self._origins[spelled] = (self._origin(spelled), bound_at)
        if origin is None:
            return None
        if not isinstance(node, ast.Call):
            return DecoratorUse(node, spelled, called, origin, None)
        problem, raises = _description_problem(node)
        usual = origin == "runtime" and problem is None and bound_at <= node.lineno
        return _new_tuple(DecoratorUse, (node, spelled, called, origin, problem, raises, usual))

    def _origin(self, spelled: str) -> Origin | None:
        """Where the decorator spelled ``spelled`` comes from; None if it is not one."""
        root, _, rest = spelled.partition(".")
        bound = self.bindings.get(root)
        resolved = f"{bound}.{rest}" if bound and rest else bound
        if resolved in _DECORATOR_PATHS:
            return "runtime"
        if spelled.rsplit(".", 1)[-1] != DECORATOR:
            return None
        if bound is not None or root in self.local_names or self.star_import:
            return "other"
        return "unbound"


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements in source order, including those inside if/try/with blocks."""
    stack: list[ast.stmt] = body[::-1]
    while stack:
        statement = stack.pop()
        yield statement
        if type(statement) not in _NESTING:
            continue  # most statements hold none (the parser builds these exact classes)
        if isinstance(statement, ast.If) and never_on_import(statement.test):
            stack.extend(reversed(statement.orelse))  # the body never runs
        elif isinstance(statement, _BLOCKS) or (
            _TRY_STAR is not None and isinstance(statement, _TRY_STAR)
        ):
            nested: list[ast.stmt] = []
            for name in ("body", "orelse", "finalbody"):
                nested.extend(getattr(statement, name, ()))
            for handler in getattr(statement, "handlers", ()):
                nested.extend(handler.body)
            stack.extend(reversed(nested))
        elif isinstance(statement, ast.Match):
            for case in reversed(statement.cases):
                stack.extend(reversed(case.body))


def _stored_names(target: ast.expr) -> Iterator[ast.Name]:
    """The names an assignment target binds (``a``, ``a, *b``), not those it reads (``a.x``)."""
    for node in ast.walk(target):
        if type(node) is ast.Name and type(node.ctx) is not ast.Load:
            yield node


def _walrus_targets(statement: ast.stmt) -> Iterator[ast.Name]:
    """Names bound with ``:=`` by the module-level parts of ``statement``.

    Nested statements are statements of their own (see :func:`_module_statements`);
    function, lambda and class bodies have their own scope, but decorators, defaults,
    annotations and bases run at module level, and comprehensions bind ``:=`` targets
    in the enclosing scope.
    """
    stack: list[ast.AST] = []
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        stack.extend(statement.decorator_list)
        stack.append(statement.args)
        if statement.returns is not None:
            stack.append(statement.returns)
    elif isinstance(statement, ast.ClassDef):
        stack.extend([*statement.decorator_list, *statement.bases, *statement.keywords])
    else:
        for _, value in ast.iter_fields(statement):
            items = value if isinstance(value, list) else [value]
            stack.extend(item for item in items if isinstance(item, ast.expr))
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            stack.extend(item.context_expr for item in statement.items)
        elif isinstance(statement, TRY_STATEMENTS):
            handlers = statement.handlers
            stack.extend(handler.type for handler in handlers if handler.type is not None)
        elif isinstance(statement, ast.Match):
            stack.extend(case.guard for case in statement.cases if case.guard is not None)
    while stack:
        node = stack.pop()
        if type(node) is ast.NamedExpr:
            assert isinstance(node.target, ast.Name)
            yield node.target
        if type(node) is ast.Lambda:
            stack.append(node.args)  # its body has its own scope
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_overload(function: FunctionNode) -> bool:
    """Whether ``function`` is a ``@typing.overload`` stub: for type checkers, replaced
    by the definition that follows (not a redefinition to report)."""
    for decorator in function.decorator_list:
        spelled = _dotted(decorator)
        if spelled is not None and spelled.rsplit(".", 1)[-1] == "overload":
            return True
    return False


def never_on_import(test: ast.expr) -> bool:
    """Whether an ``if`` with this test skips its body when the platform imports main.py.

    ``TYPE_CHECKING`` (or ``typing.TYPE_CHECKING``), ``__name__ == "__main__"`` (the
    module is imported, not run as a script) and a false constant (``if False:``).
    """
    if type(test) is ast.Constant:
        return not test.value
    if type(test) is ast.Compare:
        if len(test.ops) != 1 or type(test.ops[0]) is not ast.Eq:
            return False
        sides = (test.left, test.comparators[0])
        return any(type(side) is ast.Name and side.id == "__name__" for side in sides) and any(
            type(side) is ast.Constant and side.value == "__main__" for side in sides
        )
    return is_type_checking(test)


def is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``: false when the module runs."""
    spelled = _dotted(test)
    return spelled is not None and spelled.rsplit(".", 1)[-1] == "TYPE_CHECKING"


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None (iterative: chains can be long)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _description_problem(call: ast.Call) -> tuple[str | None, bool]:
    """What is wrong with the decorator's arguments, and whether the call raises for it."""
    keywords = call.keywords
    if not call.args and len(keywords) == 1 and keywords[0].arg == "description":
        value = keywords[0].value  # the usual spelling, checked first
    else:
        if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
            keyword.arg is None for keyword in keywords
        ):
            return None, False  # *args / **kwargs: cannot be checked without running the code
        others = [keyword.arg for keyword in keywords if keyword.arg != "description"]
        if others:
            return f"it takes only a description, not {others[0]!r}", True
        given = [*call.args, *(keyword.value for keyword in keywords)]
        if not given:
            return "it has no description", True
        if len(given) > 1:
            return "it takes exactly one description", True
        value = given[0]
    if isinstance(value, ast.Constant):
        if not isinstance(value.value, str):
            return "its description is not a string", False
        if not value.value.strip():
            return "its description is blank", False
    return None, False


def _signature(function: FunctionNode, input_names: frozenset[str]) -> Signature:
    """How the worker calls ``function`` (the rule of the local runner, as on the platform).

    A parameter named ``payload`` gets the inputs dict; otherwise, a ``**kwargs`` or a
    parameter named after an input means the inputs are passed as keyword arguments;
    otherwise the first positional parameter gets the dict.
    """
    args = function.args
    if (
        len(args.args) == 1
        and args.args[0].arg == "payload"
        and not (args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg)
    ):
        return _PAYLOAD_ONLY  # the convention, by far the most common signature
    positional = [*args.posonlyargs, *args.args]
    keyword_only = list(args.kwonlyargs)
    named = [*positional, *keyword_only]
    if not named and args.vararg is None and args.kwarg is None:
        return _NO_PARAMETER
    defaults_from = len(positional) - len(args.defaults)
    required = {arg.arg for i, arg in enumerate(positional) if i < defaults_from}
    required.update(
        arg.arg
        for arg, default in zip(keyword_only, args.kw_defaults, strict=False)
        if default is None
    )
    names = {arg.arg for arg in named}
    starred = {arg.arg for arg in (args.vararg, args.kwarg) if arg is not None}
    if "payload" not in names | starred and (
        args.kwarg is not None or not names.isdisjoint(input_names)
    ):
        kwarg = args.kwarg.arg if args.kwarg is not None else None
        unfilled = tuple(
            arg for arg in args.posonlyargs if arg.arg in required or arg.arg in input_names
        )
        return Signature("named", kwarg, tuple(named), frozenset(required), unfilled)
    misplaced: tuple[ast.arg, ...] = ()
    if "payload" in names | starred:
        dict_param = "payload"
        # The worker passes the dict positionally, so it reaches the first positional
        # parameter, whatever its name.
        if not positional or positional[0].arg != dict_param:
            every = [*named, *(arg for arg in (args.vararg, args.kwarg) if arg is not None)]
            misplaced = tuple(arg for arg in every if arg.arg == dict_param)
    elif positional:
        dict_param = positional[0].arg
    else:
        return _NO_PARAMETER
    extra = tuple(arg for arg in named if arg.arg in required and arg.arg != dict_param)
    return Signature("payload", dict_param, (), frozenset(), extra + misplaced)
