"""What ``viksa dev`` adds around the server: a ``local`` profile, and ``--watch``.

With ``--watch PATH...`` the agent folders are deployed when the server starts and
redeployed when their files change (watchfiles), through ``viksa_ai.client`` like
``viksa deploy``: one log line per redeploy; an invalid edit prints the validator's
lines and the last good revision keeps serving.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = ["dev_session"]

_IGNORED_PARTS = frozenset({"__pycache__", ".git", ".venv", "node_modules", ".pytest_cache"})


def dev_session(
    *,
    watch: Sequence[Path],
    profile: str | None,
    out: TextIO = sys.stdout,
) -> Callable[[str, Any], Callable[[], None]]:
    """The ``on_ready`` hook of ``serve``: save ``profile`` and start watching ``watch``."""

    def on_ready(base_url: str, credentials: Any) -> Callable[[], None]:
        if profile is not None:
            _save_profile(profile, base_url, credentials, out)
        if not watch:
            return lambda: None
        watcher = _Watcher(base_url, credentials, list(watch), out)
        watcher.start()
        return watcher.stop

    return on_ready


def _save_profile(name: str, base_url: str, credentials: Any, out: TextIO) -> None:
    from viksa_ai.devtools._profiles import ProfileError, config_dir, save_profile

    values = {
        "base_url": base_url,
        "api_key": credentials.api_key,
        "org_id": credentials.org_id,
        "project_id": credentials.project_id,
    }
    try:
        save_profile(name, values)
    except ProfileError as exc:
        out.write(f"viksa dev: the {name} profile was not saved: {exc}\n")
        return
    out.write(
        f"# Profile {name!r} saved in {config_dir()}: viksa deploy and viksa call use it "
        "when no VIKSA_* variable or flag says otherwise.\n"
    )
    out.flush()


class _Watcher:
    """A thread deploying the watched agents at start and after each change."""

    def __init__(self, base_url: str, credentials: Any, paths: list[Path], out: TextIO) -> None:
        from viksa_ai.devtools._cli_validate import agent_paths

        self._base_url = base_url
        self._credentials = credentials
        self._agents = [Path(p).resolve() for p in agent_paths([str(p) for p in paths])]
        self._out = out
        self._stop = threading.Event()
        self._serving: dict[Path, int] = {}
        self._failed: dict[Path, str] = {}
        """The last failure logged per agent: one save can raise several change events."""
        self._thread = threading.Thread(target=self._run, name="viksa-dev-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _log(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self._out.write("".join(f"{stamp} {line}\n" for line in text.splitlines()))
        self._out.flush()

    def _run(self) -> None:
        import watchfiles

        from viksa_ai.client import ViksaSyncClient

        credentials = self._credentials
        with ViksaSyncClient(
            api_key=credentials.api_key,
            org_id=credentials.org_id,
            project_id=credentials.project_id,
            base_url=self._base_url,
            timeout=120,
        ) as client:
            for agent in self._agents:
                self._deploy(client, agent, first=True)
            shown = ", ".join(_shown(agent) for agent in self._agents)
            self._log(f"watching {shown} (Ctrl-C stops)")
            for changes in watchfiles.watch(
                *self._agents,
                watch_filter=_relevant,
                stop_event=self._stop,
                raise_interrupt=False,
            ):
                touched = {
                    agent
                    for _, changed in changes
                    for agent in self._agents
                    if Path(changed).resolve().is_relative_to(agent)
                }
                for agent in sorted(touched):
                    self._deploy(client, agent, first=False)

    def _deploy(self, client: Any, agent: Path, *, first: bool) -> None:
        from viksa_ai.devtools._cli_deploy import describe
        from viksa_ai.devtools._deploy import DeployError, deploy_agent

        try:
            # Shown as given (relative to the working folder): the validator's lines too.
            result = deploy_agent(client, Path(_shown(agent)))
        except DeployError as exc:
            serving = self._serving.get(agent)
            what = "invalid" if exc.lines else f"not deployed ({exc})"
            still = f"revision {serving} keeps serving" if serving is not None else "not serving"
            self._fail(agent, [*exc.lines, f"{_shown(agent)}: {what}; {still}; fix and save"])
            return
        except Exception as exc:  # a watcher outlives one failed deploy, and says why
            self._fail(agent, [f"{_shown(agent)}: deploy failed ({type(exc).__name__}: {exc})"])
            return
        was_failing = self._failed.pop(agent, None) is not None
        self._serving[agent] = result.revision
        if result.action == "unchanged" and not first and not was_failing:
            return
        lines = describe(result)
        # The validator's warnings first, as an invalid folder's report comes first.
        self._log("\n".join([*result.warnings, *(lines if first else lines[:1])]))

    def _fail(self, agent: Path, lines: list[str]) -> None:
        text = "\n".join(lines)
        if self._failed.get(agent) != text:
            self._failed[agent] = text
            self._log(text)


def _shown(agent: Path) -> str:
    try:
        return str(agent.relative_to(Path.cwd()))
    except ValueError:
        return str(agent)


def _relevant(change: Any, path: str) -> bool:
    parts = Path(path).parts
    if any(part in _IGNORED_PARTS for part in parts):
        return False
    name = parts[-1] if parts else ""
    return name == "agent.json" or (name.endswith(".py") and not name.startswith("test_"))
