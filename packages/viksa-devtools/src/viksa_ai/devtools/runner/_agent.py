"""Loading an agent for the runner: its manifest, its files and its auth declaration.

An agent comes as a directory holding ``agent.json`` (``main.py`` embedded in
``files[]``, or beside ``agent.json`` on disk when ``files[]`` lacks it), as the path
of a JSON manifest, as a manifest dict, or as an ``AgentGenerationResponse``.

Auth methods are declared by the optional top-level ``auth_methods`` key of the
manifest (the wire format keeps unknown keys): an object mapping each method id to
the list of its param names, or to an object whose keys are its param names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from pydantic import ValidationError

from viksa_ai.devtools.runner._envkeys import METHOD_ID, PARAM_NAME
from viksa_ai.devtools.runner._errors import AgentLoadError, EndpointNotFoundError
from viksa_ai.devtools.validate._agent_source import AgentSourceError, read_manifest_source
from viksa_ai.devtools.validate._file_names import (
    RUNTIME_FILE,
    file_name_problem,
    normalized_file_name,
    runtime_shadowing,
)
from viksa_ai.devtools.validate._structure import issues_from_validation_error
from viksa_ai.models.agent import AgentEndpoint, AgentGenerationResponse, AgentInput

__all__ = [
    "AUTH_METHODS_KEY",
    "DEFAULT_TIMEOUT_SECONDS",
    "INJECTED_FILE",
    "AgentSource",
    "LoadedAgent",
    "load_agent",
    "write_working_dir",
]

INJECTED_FILE = RUNTIME_FILE
AUTH_METHODS_KEY = "auth_methods"
DEFAULT_TIMEOUT_SECONDS = 30.0

AgentSource = Union[str, "os.PathLike[str]", Mapping[str, Any], AgentGenerationResponse]
"""What the runner accepts as an agent: a directory or JSON path, a dict or a model."""


@dataclass(frozen=True)
class LoadedAgent:
    """An agent ready to run: its manifest, its files by name and its auth declaration."""

    manifest: AgentGenerationResponse
    files: dict[str, str]
    auth_methods: dict[str, tuple[str, ...]]
    origin: str
    inputs: dict[str, AgentInput] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", {i.name: i for i in self.manifest.inputs})

    def find_endpoint(self, name: str) -> AgentEndpoint:
        """The endpoint called ``name``, or with that ``alias.module.function`` path.

        ``module.function`` and any ``alias.module.function`` whose last two parts
        match an endpoint also resolve, so the alias need not be known locally.
        """
        endpoints = self.manifest.agent_endpoints
        for endpoint in endpoints:
            if name in (endpoint.name, endpoint.endpoint):
                return endpoint
        parts = name.split(".")
        if len(parts) >= 2:
            module, function = ".".join(parts[-2:-1]), parts[-1]
            for endpoint in endpoints:
                if (endpoint.module, endpoint.name) == (module, function):
                    return endpoint
        from viksa_ai.devtools._suggest import did_you_mean

        available = [endpoint.name for endpoint in endpoints]
        raise EndpointNotFoundError(
            f"the agent has no endpoint {name!r}{did_you_mean(name, available)}: "
            f"use one of {', '.join(available) or '(none)'}",
            endpoint=name,
            available=available,
        )

    def timeout_of(self, endpoint: AgentEndpoint) -> float:
        """The endpoint's ``execution_config.timeout_seconds`` (30 when not set)."""
        config = endpoint.execution_config
        return float(config.timeout_seconds) if config is not None else DEFAULT_TIMEOUT_SECONDS

    @property
    def modules(self) -> list[str]:
        """The modules the endpoints live in, in manifest order (``main`` first when used)."""
        return list(dict.fromkeys(endpoint.module for endpoint in self.manifest.agent_endpoints))


def load_agent(agent: AgentSource) -> LoadedAgent:
    """Load ``agent`` for running; raises :class:`AgentLoadError` with what to fix."""
    if isinstance(agent, AgentGenerationResponse):
        return _from_model(agent, "<manifest>")
    if isinstance(agent, Mapping):
        return _from_dict(dict(agent), "<manifest>")
    if isinstance(agent, (str, os.PathLike)):
        return _from_path(Path(agent))
    raise AgentLoadError(
        f"cannot load an agent from a {type(agent).__name__}: pass a directory holding "
        "agent.json, a JSON file, a manifest dict or an AgentGenerationResponse"
    )


def _from_path(path: Path) -> LoadedAgent:
    # The validator's reader: the same rules for finding agent.json and main.py.
    try:
        source = read_manifest_source(path)
    except AgentSourceError as exc:
        raise AgentLoadError(str(exc)) from None
    return _from_dict(source.manifest, str(source.manifest_path))


def _from_dict(data: dict[str, Any], origin: str) -> LoadedAgent:
    try:
        manifest = AgentGenerationResponse.model_validate(data)
    except ValidationError as exc:
        # The validator's wording and paths (agent_endpoints[0].module), one per problem.
        issues = issues_from_validation_error(exc, main_py=True)
        problems = "; ".join(str(issue) for issue in issues)
        raise AgentLoadError(
            f"{origin} is not a valid agent manifest: {problems} "
            "(run `viksa validate` for every issue)"
        ) from None
    return _from_model(manifest, origin)


def _from_model(manifest: AgentGenerationResponse, origin: str) -> LoadedAgent:
    files: dict[str, str] = {}
    for agent_file in manifest.files:
        files[_safe_file_name(agent_file.name, origin)] = agent_file.content
    extra = manifest.model_extra or {}
    declared = _auth_methods(extra.get(AUTH_METHODS_KEY), origin)
    return LoadedAgent(manifest=manifest, files=files, auth_methods=declared, origin=origin)


def _safe_file_name(name: str, origin: str) -> str:
    """A relative POSIX path that stays inside the working directory and leaves
    ``import ViksaAI`` to the runtime, or an error."""
    problem = file_name_problem(name)
    if problem is not None:
        raise AgentLoadError(
            f"{origin}: file name {name!r} {problem}: use a relative path of a file "
            "inside the agent (run `viksa validate` for every issue)"
        )
    shadowing = runtime_shadowing(normalized_file_name(name))
    if shadowing is not None:
        raise AgentLoadError(
            f"{origin}: file name {name!r} {shadowing} (run `viksa validate` for every issue)"
        )
    return normalized_file_name(name)


def _auth_methods(value: object, origin: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    hint = (
        f"{origin}: {AUTH_METHODS_KEY} maps each lower-case method id to the list of its "
        'param names, e.g. {"aviationstack_api": ["api_key"]}'
    )
    if not isinstance(value, Mapping):
        raise AgentLoadError(hint)
    declared: dict[str, tuple[str, ...]] = {}
    for method, params in value.items():
        names: Sequence[object]
        if isinstance(params, Mapping):
            names = list(params)
        elif isinstance(params, list):
            names = params
        else:
            raise AgentLoadError(hint)
        if not (isinstance(method, str) and METHOD_ID.fullmatch(method)):
            raise AgentLoadError(hint)
        if not all(isinstance(n, str) and PARAM_NAME.fullmatch(n) for n in names):
            raise AgentLoadError(hint)
        declared[method] = tuple(str(n) for n in names)
    return declared


def write_working_dir(agent: LoadedAgent, directory: Path, runtime_source: str) -> None:
    """Write the agent's files and ``ViksaAI.py`` into ``directory``, as a worker does."""
    for name, content in agent.files.items():
        target = directory / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        except (OSError, ValueError) as exc:
            # e.g. "a" and "a/b" both files, or content with a lone surrogate.
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise AgentLoadError(
                f"{agent.origin}: cannot write the agent's file {name!r}: {reason}: give "
                "each file a name no other file uses as a directory"
            ) from None
    # The platform's copy of the runtime wins over any ViksaAI.py the agent ships.
    try:
        (directory / INJECTED_FILE).write_text(runtime_source, encoding="utf-8")
    except OSError as exc:  # an agent's file uses the name as a folder ("ViksaAI.py/x")
        raise AgentLoadError(
            f"{agent.origin}: cannot write the runtime {INJECTED_FILE}: {exc.strerror}: "
            f"no file of the agent may be inside a folder named {INJECTED_FILE}"
        ) from None
