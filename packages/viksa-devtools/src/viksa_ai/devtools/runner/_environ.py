"""The environment an agent's child process starts with: built, never inherited.

A platform worker gives agent code a small, fixed environment; the runner does the same,
so nothing of the server's or the developer's environment (API keys, database URLs,
tokens of other tools) reaches an agent. Exactly these variables are set:

- ``PATH``: the interpreter's own ``bin`` directory, then the system directories;
- ``LANG`` and ``LC_ALL``: ``C.UTF-8``;
- ``HOME``: the agent's working directory; ``TMPDIR``: ``/tmp`` (POSIX);
- ``PYTHONPATH``: the directories holding ``viksa_ai.runtime`` and
  ``viksa_ai.devtools`` (the child imports both; the agent's directory, holding
  ``ViksaAI.py``, is put first on ``sys.path`` by the child itself);
- ``PYTHONNOUSERSITE=1``, ``PYTHONDONTWRITEBYTECODE=1``: no user site-packages (the
  home is not the developer's), no bytecode written next to the agent's files;
- the call's auth params (``{method_id}.{param}``, ``VIKSA_AUTH_ENABLED_METHODS``,
  ``VIKSA_AUTH_CONFIGURED_METHODS``).

On Windows the variables the C runtime needs to start a process at all
(``SYSTEMROOT``, ``WINDIR``, ``COMSPEC``, ``PATHEXT``, ``TEMP``, ``TMP``) are copied.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["SYSTEM_PATH", "child_environment", "import_roots"]

SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_LOCALE = "C.UTF-8"
_WINDOWS_KEPT = ("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP")


def import_roots() -> list[str]:
    """The ``sys.path`` directories the child needs for ``viksa_ai.runtime`` and the runner."""
    import viksa_ai.devtools
    import viksa_ai.runtime

    roots: list[str] = []
    for module in (viksa_ai.runtime, viksa_ai.devtools):
        # .../<root>/viksa_ai/<part>/__init__.py: the root is three levels up.
        root = str(Path(str(module.__file__)).resolve().parent.parent.parent)
        if root not in roots:
            roots.append(root)
    return roots


def child_environment(workdir: Path, auth: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of an agent's child process working in ``workdir``."""
    if os.name != "posix":
        env = {k: v for k in _WINDOWS_KEPT if (v := os.environ.get(k)) is not None}
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("SYSTEMROOT", "")])
    else:
        env = {
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), *SYSTEM_PATH]),
            "TMPDIR": "/tmp",  # noqa: S108 - a private tmpfs in the sandbox
        }
    env.update(
        {
            "LANG": _LOCALE,
            "LC_ALL": _LOCALE,
            "HOME": str(workdir),
            "PYTHONPATH": os.pathsep.join(import_roots()),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(auth)
    return env
