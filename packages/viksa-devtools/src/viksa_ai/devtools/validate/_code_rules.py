"""Rules on main.py: endpoint functions, their decorator and signature, the inputs they read.

The checks of one endpoint's function are run by the pass over the endpoints (see
``_rules``), which tests the usual, correct case inline and calls these generators only
when there may be something to report; the rest run once over the whole module. They
read the one tree parsed for main.py and never run it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from viksa_ai.devtools._suggest import did_you_mean
from viksa_ai.devtools.validate._code_index import (
    DECORATOR,
    WRAPS,
    DecoratorUse,
    EndpointCode,
    FunctionNode,
    ModuleIndex,
    Rebinding,
)
from viksa_ai.devtools.validate._context import MAIN_FILE, MAIN_MODULE, RuleContext
from viksa_ai.devtools.validate._issues import Issue, join_path
from viksa_ai.runtime import A2A_PAYLOAD_KEY

if TYPE_CHECKING:
    from viksa_ai.models.agent import AgentEndpoint

__all__ = [
    "async_generator_issues",
    "decorator_issues",
    "function_issues",
    "missing_function_issue",
    "parse_problems",
    "read_key_issues",
    "reads_unknown",
    "undeclared_endpoints",
    "undecorated_issue",
    "unread_issues",
    "unread_suspected",
    "unused_inputs",
]

_DEFINE_HINT = "@mcp_endpoint(description=...) above `async def {name}(payload: Dict[str, Any])`"


def parse_problems(ctx: RuleContext) -> Iterator[Issue]:
    """VX201-VX206: main.py does not parse or compile, or Python warns about it."""
    if ctx.main is not None:
        yield from ctx.main.parsed.issues


def missing_function_issue(index: int, name: str) -> Issue:
    """VX210: main.py has no top-level function for the endpoint ``name``."""
    return Issue(
        "VX210",
        f"main.py has no top-level function {name!r} for this endpoint: define "
        + _DEFINE_HINT.format(name=name),
        path=join_path("agent_endpoints", index),
    )


def function_issues(ctx: RuleContext, module: ModuleIndex, code: EndpointCode) -> Iterator[Issue]:
    """VX215 defined twice, VX220 rebound after its def, VX211 not async, VX216 bad
    signature: the issues of an endpoint's function.

    Callers skip the usual case: an async function whose name nothing else binds, with
    a signature that takes the payload.
    """
    function = code.function
    name = function.name
    if name in module.redefined:
        for earlier in module.redefined[name][:-1]:
            yield ctx.code_issue(
                "VX215",
                f"function {name!r} is defined again on line {function.lineno}; only "
                "the last definition is the endpoint: remove or rename this one",
                earlier,
                severity="warning",
            )
    rebindings = module.rebindings.get(name)
    if rebindings:
        yield from _rebinding_issues(ctx, function, rebindings)
    if type(function) is not ast.AsyncFunctionDef:
        yield ctx.code_issue(
            "VX211",
            f"endpoint function {name!r} is not async: define it with `async def` "
            "(the platform awaits every endpoint)",
            function,
        )
    signature = code.signature
    if signature.style == "none" or signature.extra_required:
        yield from _signature_issues(ctx, code)


def _rebinding_issues(
    ctx: RuleContext, function: FunctionNode, rebindings: list[Rebinding]
) -> Iterator[Issue]:
    """VX220 for each binding of an endpoint's name that runs after its (last) def."""
    name = function.name
    # Anything inside the def statement (a `:=` in a default) runs before the def binds.
    end = (function.end_lineno or function.lineno, function.end_col_offset or 0)
    for rebinding in rebindings:
        if rebinding.how == WRAPS:
            continue  # `name = wrapper(name)`: the function is kept, as by a decorator
        node = rebinding.node
        line = getattr(node, "lineno", 0)
        if (line, getattr(node, "col_offset", 0)) >= end:
            yield ctx.code_issue(
                "VX220",
                f"line {line} {rebinding.how} {name!r} after the endpoint function "
                f"{name!r} is defined (line {function.lineno}): once main.py is imported, "
                f"{name!r} no longer names that function, so the platform cannot call it: "
                "remove this binding or rename one of them",
                node,
            )


def _signature_issues(ctx: RuleContext, code: EndpointCode) -> Iterator[Issue]:
    name = code.function.name
    signature = code.signature
    if signature.style == "none":
        yield ctx.code_issue(
            "VX216",
            f"endpoint function {name!r} has no parameter to receive the call's inputs: "
            f"define it as `async def {name}(payload: Dict[str, Any])`",
            code.function,
        )
    for arg in signature.extra_required:
        yield ctx.code_issue("VX216", _unfilled_message(code, arg), arg)


def _unfilled_message(code: EndpointCode, arg: ast.arg) -> str:
    """Why the call cannot fill ``arg``, one of the signature's ``extra_required``."""
    name = code.function.name
    args = code.function.args
    signature = code.signature
    if signature.style == "named":
        return (
            f"parameter {arg.arg!r} of {name!r} is positional-only (before `/`), but the "
            "platform passes the inputs as keyword arguments, so it never receives one: "
            "remove the `/`"
        )
    if arg.arg != signature.payload_param:
        return (
            f"parameter {arg.arg!r} of {name!r} has no default, but the platform passes "
            "only the payload: give it a default or read the value from the payload"
        )
    if arg is args.vararg or arg is args.kwarg:
        how = f"`{'*' if arg is args.vararg else '**'}{arg.arg}` does not receive it as a dict"
    elif any(arg is other for other in args.kwonlyargs):
        how = f"{arg.arg!r} is keyword-only"
    else:
        first = [*args.posonlyargs, *args.args][0].arg
        how = f"it reaches {first!r}, not {arg.arg!r}"
    return (
        f"the platform passes the inputs dict to {name!r} as its first positional "
        f"argument, and {how}: define it as `async def {name}(payload: Dict[str, Any])`"
    )


def async_generator_issues(ctx: RuleContext, module: ModuleIndex) -> Iterator[Issue]:
    """VX222: an endpoint function of module main is an async generator (it yields)."""
    generators = ctx.main.parsed.async_generators if ctx.main is not None else frozenset()
    if not generators:
        return  # the usual case: main.py defines no async generator at all
    seen: set[str] = set()
    for _, endpoint in ctx.view.endpoints.items:
        name = endpoint.name
        function = module.functions.get(name)
        if endpoint.module != MAIN_MODULE or function is None or name in seen:
            continue
        seen.add(name)
        first = function.decorator_list[0].lineno if function.decorator_list else function.lineno
        if type(function) is ast.AsyncFunctionDef and (name, first) in generators:
            yield ctx.code_issue(
                "VX222",
                f"endpoint function {name!r} is an async generator (it uses `yield`), "
                "so calling it returns no awaitable result and the platform cannot run "
                "it: `return` the result instead of yielding it",
                function,
            )


def undecorated_issue(ctx: RuleContext, index: int, code: EndpointCode) -> Issue:
    """VX212: the endpoint's function has no ``@mcp_endpoint`` (callers check that)."""
    return ctx.code_issue(
        "VX212",
        f"endpoint function {code.function.name!r} is not decorated with @mcp_endpoint: "
        f'add @mcp_endpoint(description="...") above it '
        f"(declared by {join_path('agent_endpoints', index)})",
        code.function,
    )


def decorator_issues(
    ctx: RuleContext, module: ModuleIndex, declared: frozenset[str]
) -> Iterator[Issue]:
    """VX213 bare, VX214 no description, VX217 not imported, VX218 foreign.

    Also VX211 for a decorated sync function, method or class: the platform awaits every
    endpoint (the runtime only warns, as 0.2 accepted them). Classes are checked where
    their bodies run at import (module level, nested in those), with their methods; so
    are the earlier definitions of a redefined function (their decorators run too).
    ``declared`` holds the names of the endpoints of module main (VX212, an endpoint
    without the decorator, is :func:`undecorated_issue`).
    """
    async_def = ast.AsyncFunctionDef
    for function in module.functions.values():
        for use in module.decorators(function):
            if use.usual and type(function) is async_def:
                continue  # the usual, correct use (checked inline: every endpoint has one)
            yield from _use_issues(ctx, module, function, use, function.name not in declared)
    for definitions in module.redefined.values():
        for earlier in definitions[:-1]:  # replaced, so never awaited: no VX211
            for use in module.decorators(earlier):
                yield from _use_issues(ctx, module, earlier, use, False)
    for cls in module.classes:
        for use in module.decorators(cls):
            yield from _use_issues(ctx, module, cls, use, True)
        for method in module.methods[id(cls)]:
            for use in module.decorators(method):
                yield from _use_issues(ctx, module, method, use, True, method_of=cls.name)


def _use_issues(
    ctx: RuleContext,
    module: ModuleIndex,
    owner: FunctionNode | ast.ClassDef,
    use: DecoratorUse,
    check_async: bool,
    *,
    method_of: str | None = None,
) -> Iterator[Issue]:
    """The issues of one ``@mcp_endpoint`` on ``owner``, a function, method or class.

    ``check_async``: report a sync ``owner`` (VX211); endpoints have their own VX211.
    """
    spelled = use.spelled
    root = spelled.split(".", 1)[0]
    bound_at = module.first_bound.get(root)
    if bound_at is not None and bound_at > use.node.lineno:
        # Decorators run when the def does: a name bound further down is not there yet.
        yield ctx.code_issue(
            "VX217",
            f"{root!r} is not bound until line {bound_at}, after this use, so "
            "importing main.py fails with NameError: import it above line "
            f"{use.node.lineno}",
            use.node,
        )
    if use.origin == "runtime" and use.called and use.problem is None:
        if isinstance(owner, ast.ClassDef):
            yield ctx.code_issue(
                "VX211",
                f"class {owner.name!r} is not an async function, so the platform worker "
                f"cannot await it as an endpoint (@{spelled}(...) only warns when main.py "
                "is imported): decorate a module-level `async def` instead",
                owner,
            )
        elif (
            check_async and type(owner) is ast.FunctionDef and owner.decorator_list[-1] is use.node
        ):
            what = f"method {method_of}.{owner.name}" if method_of else f"function {owner.name!r}"
            yield ctx.code_issue(
                "VX211",
                f"{what} is not async, so the platform worker cannot await it as an "
                f"endpoint (@{spelled}(...) only warns when main.py is imported): define "
                "it with `async def`, or remove the decorator",
                owner,
            )
        return  # otherwise the usual, correct use
    if use.origin == "unbound":
        yield ctx.code_issue(
            "VX217",
            f"{root!r} is not imported, so importing main.py fails: add "
            f"`from ViksaAI import {DECORATOR}` (or import it from viksa_ai.runtime)",
            use.node,
        )
    elif use.origin == "other":
        yield ctx.code_issue(
            "VX218",
            f"@{spelled} does not come from ViksaAI or viksa_ai.runtime: import "
            f"{DECORATOR} from one of them",
            use.node,
            severity="warning",
        )
        return  # its own signature, not the runtime's: what its arguments do is unknown
    if not use.called:
        yield ctx.code_issue(
            "VX213",
            f"@{spelled} is used bare, so the endpoint has no description (the runtime "
            f'only warns): write @{spelled}(description="what {owner.name} does")',
            use.node,
        )
    elif use.problem is not None:
        consequence = (
            "fails when main.py is imported"
            if use.raises
            else "gives the endpoint no usable description (the runtime only warns)"
        )
        yield ctx.code_issue(
            "VX214",
            f"@{spelled}(...) {consequence}: {use.problem}; pass "
            f'one non-blank string, description="what {owner.name} does"',
            use.node,
        )


def undeclared_endpoints(
    ctx: RuleContext, module: ModuleIndex, declared: frozenset[str]
) -> Iterator[Issue]:
    """VX219 a decorated function that agent_endpoints does not list."""
    functions = module.functions
    if not ctx.view.endpoints.complete or functions.keys() <= declared:
        return  # (the usual agent: every function is an endpoint)
    for name, function in functions.items():
        if name not in declared and module.decorators(function):
            yield ctx.code_issue(
                "VX219",
                f"function {name!r} is decorated with @{DECORATOR} but agent_endpoints does "
                f'not list it: add an endpoint named {name!r} with module "main", or '
                "remove the decorator",
                function,
                severity="warning",
            )


def read_key_issues(
    ctx: RuleContext,
    index: int,
    endpoint: AgentEndpoint,
    code: EndpointCode,
    referenced: frozenset[str],
) -> Iterator[Issue]:
    """VX301 undeclared key or parameter, VX306 not referenced here, VX307 reserved key.

    ``referenced``: the inputs the endpoint references. Callers skip an endpoint that
    reads only those, and every endpoint when ``inputs`` is not a list.
    """
    view = ctx.view
    here = join_path("agent_endpoints", index)
    seen: set[str] = set()
    for key, at, what in _reads(code):
        if key in seen or key in referenced:
            continue
        seen.add(key)
        if key == A2A_PAYLOAD_KEY:
            yield ctx.code_issue(
                "VX307",
                f"the worker removes {A2A_PAYLOAD_KEY!r} from the payload before the "
                "endpoint runs: read the call's envelope with context() instead",
                at,
                severity="warning",
            )
        elif key in view.input_names:
            yield ctx.code_issue(
                "VX306",
                f"{endpoint.name!r} reads {what} {key!r}, an agent input that {here} "
                f'does not reference: add {{"input_ref": "{key}"}} to its inputs',
                at,
                severity="warning",
                input=key,
            )
        else:
            yield ctx.code_issue(
                "VX301",
                f"{endpoint.name!r} reads {what} {key!r}, which is not a declared "
                f"input{did_you_mean(key, view.input_names)}: declare it in inputs and "
                f"reference it from {here}.inputs, or stop reading it",
                at,
                input=key,
            )


def reads_unknown(code: EndpointCode, referenced: frozenset[str]) -> bool:
    """Whether the function reads an input its endpoint does not reference (VX301...)."""
    return not code.read_names <= referenced


def unread_suspected(code: EndpointCode, referenced: frozenset[str]) -> bool:
    """Whether :func:`unread_issues` may find something: a referenced input the function
    may not read, or a parameter without a default (the payload used in ways the
    validator cannot follow, or no parameter at all (VX216), tells nothing)."""
    usage = code.usage
    if usage is not None and usage.opaque:
        return False
    signature = code.signature
    return not (referenced <= code.read_names and not signature.required_params) and (
        signature.style != "none"
    )


def unread_issues(
    ctx: RuleContext, index: int, endpoint: AgentEndpoint, code: EndpointCode
) -> Iterator[Issue]:
    """VX302 required input never read, VX304 optional never read, VX305 no default.

    Callers check :func:`unread_suspected` first.
    """
    keys = code.read_names
    line = code.function.lineno
    for ref_index, ref in enumerate(endpoint.inputs):
        name = ref.input_ref
        if name not in keys:
            where = join_path("agent_endpoints", index, "inputs", ref_index)
            how = "read it from the payload" if code.usage is not None else "add a parameter"
            if ref.required:
                yield Issue(
                    "VX302",
                    f"function {endpoint.name!r} ({MAIN_FILE} line {line}) never reads "
                    f"required input {name!r}: {how}, or remove the reference",
                    path=where,
                    input=name,
                )
            else:
                yield Issue(
                    "VX304",
                    f"function {endpoint.name!r} ({MAIN_FILE} line {line}) never reads "
                    f"optional input {name!r}: {how}, or remove the reference",
                    path=where,
                    severity="warning",
                    input=name,
                )
        elif not ref.required and name in code.signature.required_params:
            yield ctx.code_issue(
                "VX305",
                f"parameter {name!r} has no default but input {name!r} is optional: "
                f"give it a default (e.g. {name}=None)",
                next(arg for arg in code.signature.params if arg.arg == name),
                severity="warning",
                input=name,
            )


def unused_inputs(ctx: RuleContext, used: set[str]) -> Iterator[Issue]:
    """VX303 an agent input no endpoint references or reads.

    ``used``: every input an endpoint references, or its function reads.
    """
    view = ctx.view
    if not view.endpoints.complete or view.input_names <= used:
        return  # an invalid endpoint might be the one using it; or every input is used
    for index, spec in view.inputs.items:
        if spec.name not in used:
            yield Issue(
                "VX303",
                f"no endpoint references or reads input {spec.name!r}: reference it from "
                "an endpoint's inputs, or remove it",
                path=join_path("inputs", index),
                severity="warning",
                input=spec.name,
            )


def _reads(code: EndpointCode) -> Iterator[tuple[str, ast.AST, str]]:
    """(key, where, "payload key" | "parameter") for each input the function reads."""
    for arg in code.signature.params:
        yield arg.arg, arg, "parameter"
    if code.usage is not None:
        for key, node in code.usage.reads:
            yield key, node, "payload key"
