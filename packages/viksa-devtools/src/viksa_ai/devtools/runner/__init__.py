"""The local agent runner: run an agent's endpoints the way a platform worker does.

Agent code runs in a child process, in a temporary working directory holding the
agent's files and ``ViksaAI.py`` (from ``to_module_source()``), with auth params in
its environment, the A2A envelope stripped from the inputs and set for
``context()``, and the endpoint's timeout enforced.

- :func:`run_endpoint` / :func:`arun_endpoint`: one call in a fresh child.
- :class:`AgentWorker` / :class:`AsyncAgentWorker`: a warm child serving many calls.
- :func:`parse_secret_assignment` / :func:`parse_secrets_text`: read auth params given
  as ``METHOD.PARAM=VALUE`` (``--secret``) or a secrets file (JSON or such lines).
- :func:`prepare_call`: check a call's inputs against the manifest and strip its A2A
  envelope without running anything; the worker's ``call_prepared`` runs the result.
- :class:`Limits`: per-call memory, CPU, output, result, process, disk and open-file
  limits.
- :func:`sandbox_available`, :func:`sandbox_status`: whether agents run sandboxed here
  (Linux, bubblewrap), and a line saying so.
- :func:`remove_stale_workdirs`: delete working directories a killed runner left.

Names are imported on first use, so the child process (which imports this package)
and ``import viksa_ai.devtools`` stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.devtools.runner._agent import AgentSource, LoadedAgent, load_agent
    from viksa_ai.devtools.runner._auth import (
        SecretsError,
        parse_secret_assignment,
        parse_secrets_text,
    )
    from viksa_ai.devtools.runner._call import PreparedCall, prepare_call
    from viksa_ai.devtools.runner._errors import (
        EXIT_AUTH_NOT_CONFIGURED,
        EXIT_ENDPOINT_ERROR,
        EXIT_INVALID_INPUT,
        EXIT_RESOURCE_LIMIT,
        EXIT_TIMEOUT,
        EXIT_USAGE,
        EXIT_WORKER_CRASHED,
        AgentImportError,
        AgentLoadError,
        AuthNotConfiguredError,
        CpuLimitError,
        DiskLimitError,
        EndpointError,
        EndpointNotFoundError,
        EndpointTimeoutError,
        InvalidInputError,
        MemoryLimitError,
        OutputLimitError,
        ProcessLimitError,
        ResourceLimitError,
        ResultLimitError,
        RunnerError,
        WorkerClosedError,
        WorkerCrashedError,
    )
    from viksa_ai.devtools.runner._limits import Limits
    from viksa_ai.devtools.runner._result import RunResult
    from viksa_ai.devtools.runner._sandbox import sandbox_available, sandbox_status
    from viksa_ai.devtools.runner._sync import AgentWorker, arun_endpoint, run_endpoint
    from viksa_ai.devtools.runner._workdir import remove_stale_workdirs
    from viksa_ai.devtools.runner._worker import AsyncAgentWorker

_EXPORTS = {
    "AgentSource": "_agent",
    "LoadedAgent": "_agent",
    "load_agent": "_agent",
    "SecretsError": "_auth",
    "parse_secret_assignment": "_auth",
    "parse_secrets_text": "_auth",
    "PreparedCall": "_call",
    "prepare_call": "_call",
    "EXIT_AUTH_NOT_CONFIGURED": "_errors",
    "EXIT_ENDPOINT_ERROR": "_errors",
    "EXIT_INVALID_INPUT": "_errors",
    "EXIT_RESOURCE_LIMIT": "_errors",
    "EXIT_TIMEOUT": "_errors",
    "EXIT_USAGE": "_errors",
    "EXIT_WORKER_CRASHED": "_errors",
    "AgentImportError": "_errors",
    "AgentLoadError": "_errors",
    "AuthNotConfiguredError": "_errors",
    "CpuLimitError": "_errors",
    "DiskLimitError": "_errors",
    "MemoryLimitError": "_errors",
    "OutputLimitError": "_errors",
    "ProcessLimitError": "_errors",
    "ResourceLimitError": "_errors",
    "ResultLimitError": "_errors",
    "Limits": "_limits",
    "sandbox_available": "_sandbox",
    "sandbox_status": "_sandbox",
    "remove_stale_workdirs": "_workdir",
    "EndpointError": "_errors",
    "EndpointNotFoundError": "_errors",
    "EndpointTimeoutError": "_errors",
    "InvalidInputError": "_errors",
    "RunnerError": "_errors",
    "WorkerClosedError": "_errors",
    "WorkerCrashedError": "_errors",
    "RunResult": "_result",
    "AgentWorker": "_sync",
    "arun_endpoint": "_sync",
    "run_endpoint": "_sync",
    "AsyncAgentWorker": "_worker",
}

__all__ = [
    "EXIT_AUTH_NOT_CONFIGURED",
    "EXIT_ENDPOINT_ERROR",
    "EXIT_INVALID_INPUT",
    "EXIT_RESOURCE_LIMIT",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "EXIT_WORKER_CRASHED",
    "AgentImportError",
    "AgentLoadError",
    "AgentSource",
    "AgentWorker",
    "AsyncAgentWorker",
    "AuthNotConfiguredError",
    "CpuLimitError",
    "DiskLimitError",
    "EndpointError",
    "EndpointNotFoundError",
    "EndpointTimeoutError",
    "InvalidInputError",
    "Limits",
    "LoadedAgent",
    "MemoryLimitError",
    "OutputLimitError",
    "PreparedCall",
    "ProcessLimitError",
    "ResourceLimitError",
    "ResultLimitError",
    "RunResult",
    "RunnerError",
    "SecretsError",
    "WorkerClosedError",
    "WorkerCrashedError",
    "arun_endpoint",
    "load_agent",
    "parse_secret_assignment",
    "parse_secrets_text",
    "prepare_call",
    "remove_stale_workdirs",
    "run_endpoint",
    "sandbox_available",
    "sandbox_status",
]


# Hidden from type checkers: they see the imports above, so a misspelt name is an error.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
