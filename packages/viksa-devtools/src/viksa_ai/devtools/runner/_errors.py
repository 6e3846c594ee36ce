"""The errors of the local runner, each with a stable ``kind`` and a CLI exit code.

Every error renders to a JSON-ready dict (:meth:`RunnerError.to_dict`), which is what
``viksa run`` prints. Messages and tracebacks have the call's secret values redacted
before they reach an error, so printing or logging one never shows a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from viksa_ai.devtools.validate._issues import Issue

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
    "AuthNotConfiguredError",
    "CpuLimitError",
    "DiskLimitError",
    "EndpointError",
    "EndpointNotFoundError",
    "EndpointTimeoutError",
    "InvalidInputError",
    "MemoryLimitError",
    "OutputLimitError",
    "ProcessLimitError",
    "ResourceLimitError",
    "ResultLimitError",
    "RunnerError",
    "WorkerClosedError",
    "WorkerCrashedError",
]

EXIT_USAGE = 2
EXIT_INVALID_INPUT = 3
EXIT_AUTH_NOT_CONFIGURED = 4
EXIT_ENDPOINT_ERROR = 5
EXIT_TIMEOUT = 6
EXIT_WORKER_CRASHED = 7
EXIT_RESOURCE_LIMIT = 8


class RunnerError(Exception):
    """Base of every runner error.

    ``kind`` is a stable machine-readable name, ``exit_code`` what ``viksa run`` exits
    with, ``a2a_status`` the A2A response status a platform answers for it.
    """

    kind = "runner_error"
    exit_code = EXIT_USAGE
    a2a_status = "internal_error"

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: ``kind``, ``message``, ``endpoint`` and the details."""
        data: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.endpoint is not None:
            data["endpoint"] = self.endpoint
        data.update(self._details())
        return data

    def _details(self) -> dict[str, Any]:
        return {}


class AgentLoadError(RunnerError):
    """The agent directory or manifest cannot be loaded or run (exit 2)."""

    kind = "invalid_agent"


class EndpointNotFoundError(RunnerError):
    """No endpoint of that name or path in the manifest, or no such function (exit 2)."""

    kind = "endpoint_not_found"
    a2a_status = "not_found"

    def __init__(
        self, message: str, *, endpoint: str | None = None, available: Sequence[str] = ()
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.available = list(available)

    def _details(self) -> dict[str, Any]:
        return {"available": self.available}


class InvalidInputError(RunnerError):
    """The inputs do not meet the manifest; no agent code ran (exit 3).

    ``issues`` are the validator's :class:`~viksa_ai.devtools.validate._issues.Issue` objects,
    each naming its ``input``; messages never quote the values checked.
    """

    kind = "invalid_input"
    exit_code = EXIT_INVALID_INPUT
    a2a_status = "invalid_payload"

    def __init__(self, issues: Sequence[Issue], *, endpoint: str | None = None) -> None:
        self.issues = list(issues)
        lines = "; ".join(issue.message for issue in self.issues)
        super().__init__(f"invalid inputs: {lines}", endpoint=endpoint)

    def _details(self) -> dict[str, Any]:
        return {"issues": [issue.to_dict() for issue in self.issues]}


class _AgentCodeError(RunnerError):
    """An error raised by agent code in the child: carries its type, traceback and output."""

    def __init__(
        self,
        message: str,
        *,
        exception_type: str | None,
        traceback: str | None,
        output: str | None = None,
        duration_ms: float | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.exception_type = exception_type
        self.traceback = traceback
        self.output = output
        self.duration_ms = duration_ms

    def _details(self) -> dict[str, Any]:
        return {
            "exception_type": self.exception_type,
            "traceback": self.traceback,
            "output": self.output,
            "duration_ms": self.duration_ms,
        }


class AgentImportError(_AgentCodeError, AgentLoadError):
    """Importing the agent's module raised: ``traceback`` holds the agent's frames (exit 2)."""

    kind = "agent_import_error"


class AuthNotConfiguredError(_AgentCodeError):
    """The endpoint raised ``ViksaAuthError``: an auth param it needs was not given (exit 4).

    ``method_id`` and ``param_name`` name what is missing, when the error said so.
    """

    kind = "auth_not_configured"
    exit_code = EXIT_AUTH_NOT_CONFIGURED
    a2a_status = "unauthorized"

    def __init__(
        self,
        message: str,
        *,
        method_id: str | None = None,
        param_name: str | None = None,
        exception_type: str | None,
        traceback: str | None,
        output: str | None = None,
        duration_ms: float | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(
            message,
            exception_type=exception_type,
            traceback=traceback,
            output=output,
            duration_ms=duration_ms,
            endpoint=endpoint,
        )
        self.method_id = method_id
        self.param_name = param_name

    def _details(self) -> dict[str, Any]:
        return {"method_id": self.method_id, "param_name": self.param_name, **super()._details()}


class EndpointError(_AgentCodeError):
    """The endpoint raised (or returned a value that is not JSON); see ``traceback`` (exit 5)."""

    kind = "endpoint_error"
    exit_code = EXIT_ENDPOINT_ERROR


class EndpointTimeoutError(RunnerError):
    """The call ran past its timeout; the child running it was killed (exit 6).

    ``stage`` is ``"import"`` when the time ran out while the child was still importing
    the agent's modules (module-level code hung or was slow), else ``"call"``.
    """

    kind = "timeout"
    exit_code = EXIT_TIMEOUT
    a2a_status = "deadline_exceeded"

    def __init__(self, timeout: float, *, endpoint: str | None = None, stage: str = "call"):
        if stage == "import":
            message = (
                f"importing the agent's modules did not finish within the call's {timeout:g} s "
                "and was stopped: the import hung or is slow; move slow work out of module "
                "level (into the endpoint), or raise execution_config.timeout_seconds"
            )
        else:
            message = (
                f"the endpoint did not finish within {timeout:g} s and was stopped: raise "
                "execution_config.timeout_seconds in agent.json or pass a longer timeout"
            )
        super().__init__(message, endpoint=endpoint)
        self.timeout = timeout
        self.stage = stage

    def _details(self) -> dict[str, Any]:
        return {"timeout_seconds": self.timeout, "stage": self.stage}


class ResourceLimitError(RunnerError):
    """The call went past one of its :class:`Limits` and was ended (exit 8).

    ``limit`` is the limit's value (bytes or seconds); subclasses name which one.
    """

    kind = "resource_limit"
    exit_code = EXIT_RESOURCE_LIMIT
    _what = "a resource limit"

    def __init__(
        self,
        message: str | None = None,
        *,
        limit: float | None,
        output: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        shown = "" if limit is None else f" ({limit:g})"
        super().__init__(
            message or f"the call went past {self._what}{shown} and was stopped",
            endpoint=endpoint,
        )
        self.limit = limit
        self.output = output

    def _details(self) -> dict[str, Any]:
        return {"limit": self.limit, "output": self.output}


class MemoryLimitError(ResourceLimitError):
    """Agent code ran out of its address space (``Limits.memory_bytes``)."""

    kind = "memory_limit"
    _what = "its memory limit in bytes"


class CpuLimitError(ResourceLimitError):
    """The call used more CPU time than ``Limits.cpu_seconds``; its child was ended."""

    kind = "cpu_limit"
    _what = "its CPU time limit in seconds"


class OutputLimitError(ResourceLimitError):
    """The call printed more than ``Limits.output_bytes`` (captured output)."""

    kind = "output_limit"
    _what = "its output limit in bytes"


class ResultLimitError(ResourceLimitError):
    """The endpoint returned more JSON than ``Limits.result_bytes``."""

    kind = "result_limit"
    _what = "its result size limit in bytes"


class ProcessLimitError(ResourceLimitError):
    """The call's worker ran more tasks (processes and threads) than ``Limits.processes``
    (a fork bomb); every process of the call was ended."""

    kind = "process_limit"
    _what = "its limit of processes and threads"


class DiskLimitError(ResourceLimitError):
    """Agent code wrote past ``Limits.disk_bytes`` (one file that large, or a full
    private ``/tmp`` or working directory in the sandbox, by size or by number of files;
    written through ``mmap``, the worker dies of ``SIGBUS`` and the next call starts a
    new one)."""

    kind = "disk_limit"
    _what = "its disk write limit in bytes"


class WorkerClosedError(RuntimeError):
    """A call or start on a worker after its ``close()``: nothing ran; create a new worker.

    A ``RuntimeError`` (what a closed worker raised before it had a class of its own),
    not a :class:`RunnerError`: it is a mistake of the calling code, not an outcome of
    the agent, and has no exit code.
    """

    def __init__(self, message: str = "this worker is closed: create a new one") -> None:
        super().__init__(message)


class WorkerCrashedError(RunnerError):
    """The child process died or broke the channel (exit 7); a warm worker restarts it."""

    kind = "worker_crashed"
    exit_code = EXIT_WORKER_CRASHED

    def __init__(self, message: str, *, returncode: int | None, endpoint: str | None = None):
        super().__init__(message, endpoint=endpoint)
        self.returncode = returncode

    def _details(self) -> dict[str, Any]:
        return {"returncode": self.returncode}
