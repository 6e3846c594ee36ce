"""The files ``viksa init`` writes: a small agent that validates, runs and tests as is."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SCHEMA_URL", "Scaffold", "alias_for", "scaffold", "without_dot_dot"]

SCHEMA_URL = "https://api.viksaai.com/schemas/agent.schema.json"
"""The ``$schema`` that ``viksa init`` writes; ``viksa schema`` prints that document."""

_NOT_ALIAS = re.compile(r"[^A-Za-z0-9_]+")

_MAIN = '''\
"""{name}: a Viksa AI agent.

Each endpoint is a module-level ``async def`` decorated with ``@mcp_endpoint``; it reads
its inputs (declared in agent.json) from ``payload`` and returns a JSON-ready value.
"""

from typing import Any, Dict

from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="Greet someone by name")
async def greet(payload: Dict[str, Any]) -> Dict[str, Any]:
    ending = "!" if payload.get("excited", False) else "."
    return {{"greeting": f"Hello, {{payload['name']}}{{ending}}"}}
'''

_PYTEST_INI = """\
[pytest]
# pytest-asyncio (installed with viksa-ai[dev]) asks every project to choose the event
# loop scope of async fixtures; "function" is the one its future versions default to.
asyncio_default_fixture_loop_scope = function
"""

_TEST = '''\
"""Tests of {alias}: deployed to a local platform inside the test process.

The fixtures come from the viksa pytest plugin (installed with viksa-devtools[server]).
Run them with: pytest {test_path}
"""

from pathlib import Path

AGENT = Path(__file__).parent


def test_greet(viksa_deploy, viksa_sync_client):
    agent = viksa_deploy(AGENT)
    answer = viksa_sync_client.pulse.execute(
        {{
            "agent_id": agent["id"],
            "agent_type": "cloud",
            "endpoint": "{alias}.main.greet",
            "inputs": {{"name": "Ada", "excited": True}},
        }}
    )
    assert answer.status == "completed", answer.error
    assert answer.response == {{"greeting": "Hello, Ada!"}}
'''


@dataclass(frozen=True)
class Scaffold:
    """What ``scaffold`` wrote."""

    directory: Path
    alias: str
    files: tuple[Path, ...]


def alias_for(text: str) -> str:
    """An agent alias made of ``text``: letters, digits and ``_``, starting with a letter."""
    alias = _NOT_ALIAS.sub("_", text).strip("_").lower()
    if not alias:
        return "my_agent"
    return alias if alias[0].isalpha() else f"agent_{alias}"


def without_dot_dot(directory: Path) -> Path:
    """``directory`` without ``..`` steps, naming the folder the system would.

    ``mkdir(parents=True)`` makes every step before a ``..``: ``x/../y`` made an empty
    ``x`` beside ``y``. The lexical form is kept (it prints as typed, relative) unless a
    symbolic link before the ``..`` makes it name another folder; the resolved one then.
    """
    if ".." not in directory.parts:
        return directory
    lexical = Path(os.path.normpath(directory))
    real = directory.resolve()
    return lexical if lexical.resolve() == real else real


def _manifest(alias: str, name: str) -> str:
    manifest = {
        "$schema": SCHEMA_URL,
        "agent_alias": alias,
        "agent_name": name,
        "agent_description": "Greets someone by name.",
        "agent_type": "cloud",
        "files": [],
        "requirements": [],
        "inputs": [
            {
                "name": "name",
                "type": "string",
                "description": "Who to greet",
                "min_length": 1,
                "max_length": 100,
            },
            {
                "name": "excited",
                "type": "boolean",
                "description": "End the greeting with an exclamation mark",
                "default": False,
            },
        ],
        "outputs": [{"name": "greeting", "type": "string", "description": "The greeting"}],
        "agent_endpoints": [
            {
                "name": "greet",
                "module": "main",
                "endpoint": f"{alias}.main.greet",
                "description": "Greet someone by name",
                "inputs": [
                    {"input_ref": "name", "required": True},
                    {"input_ref": "excited", "required": False},
                ],
                "outputs": ["greeting"],
                "execution_config": {"timeout_seconds": 10},
            }
        ],
    }
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def scaffold(directory: Path, name: str | None = None) -> Scaffold:
    """Write agent.json, main.py, test_agent.py and pytest.ini into ``directory`` (made if needed).

    Raises ``FileExistsError`` naming the first file that already exists (nothing is
    written then) and ``OSError`` when the directory cannot be written. Nothing but
    ``directory`` and its missing parents is made (see ``without_dot_dot``).
    """
    directory = without_dot_dot(directory)
    alias = alias_for(directory.resolve().name)
    title = name or alias.replace("_", " ").title()
    shown_test = directory / "test_agent.py"
    contents = {
        "agent.json": _manifest(alias, title),
        "main.py": _MAIN.format(name=title),
        "test_agent.py": _TEST.format(alias=alias, test_path=shown_test.as_posix()),
        "pytest.ini": _PYTEST_INI,
    }
    targets = [directory / file_name for file_name in contents]
    for target in targets:
        if target.exists() or target.is_symlink():
            raise FileExistsError(target)
    directory.mkdir(parents=True, exist_ok=True)
    for target, text in zip(targets, contents.values(), strict=True):
        # "x": never overwrite, even a file created since the check above.
        with target.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return Scaffold(directory, alias, tuple(targets))
