"""An agent folder before it is deployed: tools from its agent.json, calls in a warm worker.

Runs with the local runner of viksa-devtools (:class:`AsyncAgentWorker`), the way a
platform worker runs the agent; the folder is watched by polling file times and sizes
(no extra dependency), and a change reloads the agent and its tools.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viksa_ai.mcp_bridge._errors import BridgeConfigError, ToolCallError
from viksa_ai.mcp_bridge._registry import BridgeRegistry, ViksaToolSpec, build_registry

if TYPE_CHECKING:
    from viksa_ai.devtools.runner import AsyncAgentWorker

__all__ = ["LocalBackend", "folder_snapshot", "read_secrets"]

_log = logging.getLogger("viksa_ai.mcp_bridge")
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".venv"})
_DEVTOOLS_MISSING = (
    "serving an agent folder (--path) needs viksa-devtools: "
    'pip install "viksa-ai[mcp]" (or pip install viksa-devtools)'
)


def _runner() -> Any:
    try:
        import viksa_ai.devtools.runner as runner
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("viksa_ai.devtools"):
            raise BridgeConfigError(_DEVTOOLS_MISSING) from None
        raise
    return runner


def read_secrets(assignments: list[str], secrets_file: str | None) -> dict[str, str]:
    """Auth params from a secrets file, then ``METHOD.PARAM=VALUE`` items (later ones win)."""
    runner = _runner()
    secrets: dict[str, str] = {}
    try:
        if secrets_file:
            try:
                text = Path(secrets_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise BridgeConfigError(
                    f"--secrets-file {secrets_file}: {exc.strerror or exc}"
                ) from None
            secrets.update(runner.parse_secrets_text(text))
        for item in assignments:
            name, value = runner.parse_secret_assignment(item)
            secrets[name] = value
    except runner.SecretsError as exc:
        # The runner's messages name the setting, never its value.
        raise BridgeConfigError(f"secrets: {exc}") from None
    return secrets


def folder_snapshot(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file of ``folder`` with its modification time and size (hidden ones left out)."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.endswith((".pyc", ".swp", "~")):
                continue
            path = os.path.join(root, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue  # removed while we looked: the next look sees it gone
            found.append((os.path.relpath(path, folder), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class LocalBackend:
    """Serves one agent folder through a warm worker, reloaded when the folder changes."""

    def __init__(self, folder: str | os.PathLike[str], secrets: Mapping[str, str]) -> None:
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise BridgeConfigError(f"--path {folder}: not a directory holding an agent")
        self._runner = _runner()
        # As `viksa dev` and `viksa run` do: say whether agent code is isolated.
        _log.info("agent code runs with sandbox %s", self._runner.sandbox_status()[1])
        self._secrets = dict(secrets)
        self._worker: AsyncAgentWorker | None = None
        self._snapshot: tuple[tuple[str, int, int], ...] | None = None
        self._registry = BridgeRegistry()

    def describe(self) -> str:
        """What is served, for logs."""
        return f"the agent folder {self.folder}"

    def changed(self) -> bool:
        """Whether the folder changed since the last :meth:`load`."""
        return folder_snapshot(self.folder) != self._snapshot

    async def load(self) -> BridgeRegistry:
        """The folder's tools, reloading the agent when its files changed.

        A folder that does not load (a half-saved agent.json) keeps the tools and worker
        of the last good load; the error goes to the log, and the next change retries.
        """
        snapshot = folder_snapshot(self.folder)
        if snapshot == self._snapshot:
            return self._registry
        self._snapshot = snapshot
        try:
            agent = self._runner.load_agent(self.folder)
        except self._runner.AgentLoadError as exc:
            if self._worker is None:
                raise BridgeConfigError(str(exc)) from None
            _log.error("the agent folder does not load, keeping the previous tools: %s", exc)
            return self._registry
        alias = self.folder.name
        doc = {
            **agent.manifest.model_dump(mode="json", exclude_none=True),
            "id": f"local-{alias}",
            "agent_alias": alias,
        }
        old, self._worker = (
            self._worker,
            self._runner.AsyncAgentWorker(agent, secrets=self._secrets, capture_output=True),
        )
        if old is not None:
            await old.close()
        self._registry = build_registry([doc])
        return self._registry

    async def call(self, spec: ViksaToolSpec, arguments: dict[str, Any]) -> Any:
        """Run the endpoint in the warm worker; its result or :class:`ToolCallError`."""
        worker = self._worker
        if worker is None:
            raise ToolCallError(f"{spec.name}: the agent folder is not loaded")
        runner = self._runner
        try:
            result = await worker.call(spec.endpoint_name, arguments)
        except runner.EndpointTimeoutError as exc:
            raise ToolCallError(f"{spec.name}: timed out: {exc}") from None
        except runner.AuthNotConfiguredError as exc:
            raise ToolCallError(
                f"{spec.name}: {exc} (give it with --secret METHOD.PARAM=VALUE or --secrets-file)"
            ) from None
        except runner.RunnerError as exc:
            # The runner redacts the worker's secret values from its messages.
            raise ToolCallError(f"{spec.name}: {exc}") from None
        except runner.WorkerClosedError:
            if worker is self._worker:
                raise
            # The folder changed while the call waited for the worker: nothing was sent.
            raise ToolCallError(
                f"{spec.name}: the agent folder was reloaded before the call ran; nothing "
                "was run: list the tools again and call it again"
            ) from None
        if result.output:
            _log.info("%s printed:\n%s", spec.name, result.output.rstrip())
        return result.value

    async def close(self) -> None:
        """Stop the worker."""
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.close()
