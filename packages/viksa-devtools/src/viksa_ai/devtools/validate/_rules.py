"""Running every rule: one pass over the endpoints, then the rules on the whole manifest.

Each endpoint's entry and function are read once, by one loop that runs every
per-endpoint check in turn (a name, its path, its module, its references; its function,
decorator, signature and the inputs it reads). The usual, correct case is tested
inline; the generators that word the issues run only when there may be one. Issues are
reported in a fixed order of rules (their ranks, below), within a rule in the order of
the entries: each is collected with its rule's rank, and a stable sort by rank restores
that order whichever loop found it. Nothing is built for a valid agent but the sets the
checks compare: no issue, no message, no list per rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from operator import itemgetter

from viksa_ai.devtools.validate._code_rules import (
    async_generator_issues,
    decorator_issues,
    function_issues,
    missing_function_issue,
    parse_problems,
    read_key_issues,
    reads_unknown,
    undeclared_endpoints,
    undecorated_issue,
    unread_issues,
    unread_suspected,
    unused_inputs,
)
from viksa_ai.devtools.validate._context import MAIN_MODULE, RuleContext
from viksa_ai.devtools.validate._imports import import_issues
from viksa_ai.devtools.validate._issues import Issue
from viksa_ai.devtools.validate._manifest_rules import (
    KEYWORDS,
    MANIFEST_RULES,
    endpoint_module_issue,
    endpoint_name_issue,
    endpoint_path_issue,
    input_specs,
    reference_issues,
)

__all__ = ["run_rules", "too_deep"]

# The rank of each rule's issues in a report (the order of the rules before they shared
# one pass): main_file, file_names, unique_names and endpoints_present (MANIFEST_RULES)
# are 0-3.
(
    _NAMES,  # VX111
    _PATHS,  # VX110, VX115
    _MODULES,  # VX114
    _REFERENCES,  # VX108, VX109, VX112, VX116
    _INPUT_SPECS,  # VX120-VX125
    _PARSE,  # VX201-VX206
    _FUNCTIONS,  # VX210, VX211, VX215, VX216, VX220
    _GENERATORS,  # VX222
    _DECORATORS,  # VX212, then VX211, VX213, VX214, VX217, VX218
    _UNDECLARED,  # VX219
    _READS,  # VX301, VX306, VX307
    _UNREAD,  # VX302, VX304, VX305
    _UNUSED,  # VX303
    _IMPORTS,  # VX221
) = range(len(MANIFEST_RULES), len(MANIFEST_RULES) + 14)
_RANK = itemgetter(0)
_ASYNC_DEF = ast.AsyncFunctionDef

Found = list[tuple[int, Issue]]
"""Issues with the rank of the rule that found each."""


def run_rules(ctx: RuleContext) -> list[Issue]:
    """Every rule's issues for ``ctx``, in the order of the rules, then of the entries."""
    found: Found = []
    append = found.append
    for rank, rule in enumerate(MANIFEST_RULES):
        try:  # _collect, inline: these run on every validation
            for issue in rule(ctx):
                append((rank, issue))
        except (RecursionError, MemoryError):
            append((rank, too_deep()))
    try:
        declared, used, every_usual = _endpoint_pass(ctx, found)
    except (RecursionError, MemoryError):  # pragma: no cover
        # The pass compares strings and reads nodes, nothing nested: only a manifest too
        # large for memory gets here; report it once rather than crash.
        found.append((_NAMES, too_deep()))
        declared, used, every_usual = frozenset(), set(), False
    _collect(found, _INPUT_SPECS, input_specs(ctx))
    if ctx.main is not None and ctx.main.parsed.issues:  # parse_problems, when it has any
        _collect(found, _PARSE, parse_problems(ctx))
    module = ctx.module
    if module is not None:
        if ctx.main is not None and ctx.main.parsed.async_generators:  # rarely any
            _collect(found, _GENERATORS, async_generator_issues(ctx, module))
        # When every function of main.py is an endpoint with the usual decorator and
        # nothing else binds a decorator (no class, no earlier definition), neither rule
        # has anything to report: not calling them saves their (cold) code on every
        # validation of the usual agent.
        if not every_usual or module.redefined or module.classes:
            _collect(found, _DECORATORS, decorator_issues(ctx, module, declared))
            _collect(found, _UNDECLARED, undeclared_endpoints(ctx, module, declared))
    if ctx.view.endpoints.complete and not ctx.view.input_names <= used:  # as unused_inputs
        _collect(found, _UNUSED, unused_inputs(ctx, used))
    if module is not None:
        _collect(found, _IMPORTS, import_issues(ctx, module))
    if not found:
        return []  # a valid agent without warnings: nothing to sort
    found.sort(key=_RANK)
    return [issue for _, issue in found]


def _collect(found: Found, rank: int, issues: Iterable[Issue]) -> None:
    try:
        for issue in issues:
            found.append((rank, issue))
    except (RecursionError, MemoryError):
        # Deeply nested JSON values (an input's default, say) can exhaust the stack
        # in comparisons; report it rather than crash the whole validation.
        found.append((rank, too_deep()))


def _endpoint_pass(ctx: RuleContext, found: Found) -> tuple[frozenset[str], set[str], bool]:
    """Every per-endpoint check, in one loop; returns what the later rules need.

    That is the names of the endpoints of module main with an identifier name, every
    input an endpoint references or its function reads, and whether every function of
    main.py is the async function of exactly one of those endpoints, with one decorator,
    the usual ``@mcp_endpoint(description=...)`` (``DecoratorUse.usual``).
    """
    view = ctx.view
    module = ctx.module
    files = view.files
    file_names = {file.name for _, file in files.items} if files.complete else None
    input_names = view.input_names
    check_inputs, check_outputs = view.inputs.is_list, view.outputs.is_list
    outputs = view.output_names
    first_alias: tuple[str, int] | None = None
    declared: list[str] = []
    used: set[str] = set()
    usual = 0  # endpoints whose function is async with the one, usual decorator
    append = found.append
    for index, endpoint in view.endpoints.items:
        name = endpoint.name
        module_name = endpoint.module
        if not (name.isascii() and name.isidentifier()) or name in KEYWORDS:
            issue = endpoint_name_issue(index, name)
            if issue is not None:
                append((_NAMES, issue))
        path = endpoint.endpoint
        if path and (first_alias is None or path != f"{first_alias[0]}.{module_name}.{name}"):
            issue, first_alias = endpoint_path_issue(index, endpoint, first_alias)
            if issue is not None:
                append((_PATHS, issue))
        is_main = module_name == MAIN_MODULE
        if not is_main and file_names is not None:
            issue = endpoint_module_issue(index, module_name, file_names)
            if issue is not None:
                append((_MODULES, issue))
        refs = [ref.input_ref for ref in endpoint.inputs]
        referenced = frozenset(refs)
        endpoint_outputs = endpoint.outputs
        if not (
            len(referenced) == len(refs)
            and (not check_inputs or referenced <= input_names)
            and (len(endpoint_outputs) < 2 or len(set(endpoint_outputs)) == len(endpoint_outputs))
            and (not check_outputs or outputs.issuperset(endpoint_outputs))
        ):
            for issue in reference_issues(view, index, endpoint):
                append((_REFERENCES, issue))
        used.update(refs)
        if not is_main or not name.isidentifier():
            continue
        declared.append(name)
        if module is None:
            continue
        code = module.endpoint_code(name, input_names)
        if code is None:
            append((_FUNCTIONS, missing_function_issue(index, name)))
            continue
        used |= code.read_names
        function = code.function
        signature = code.signature
        if (
            type(function) is not _ASYNC_DEF
            or name in module.redefined
            or name in module.rebindings
            or signature.style == "none"
            or signature.extra_required
        ):
            for issue in function_issues(ctx, module, code):
                append((_FUNCTIONS, issue))
        uses = module.decorators(function)
        if not uses:
            append((_DECORATORS, undecorated_issue(ctx, index, code)))
        elif len(uses) == 1 and uses[0].usual and type(function) is _ASYNC_DEF:
            usual += 1
        if code.read_names == referenced and not signature.required_params:
            continue  # reads exactly what it references: neither check finds anything
        if check_inputs and reads_unknown(code, referenced):
            for issue in read_key_issues(ctx, index, endpoint, code, referenced):
                append((_READS, issue))
        if unread_suspected(code, referenced):
            for issue in unread_issues(ctx, index, endpoint, code):
                append((_UNREAD, issue))
    names = frozenset(declared)
    # Each endpoint counted had its function, so when they are as many as the distinct
    # names and as the functions, they are every function, once each.
    every_usual = module is not None and usual == len(declared) == len(names) == len(
        module.functions
    )
    return names, used, every_usual


def too_deep() -> Issue:
    """VX004: the manifest is too deeply nested (or too large) to validate."""
    return Issue(
        "VX004",
        "the manifest is nested too deeply (or is too large) to validate: "
        "flatten its deepest values",
    )
