"""The strictly typed user script (``typed_usage.py``) runs against the local platform.

``scripts/typecheck.sh`` type-checks it with ``--disallow-any-expr``; this test keeps
it honest at run time, and keeps that check in the script.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from viksa_ai.client import ViksaClient

HERE = Path(__file__).resolve().parent
MAIN = """
from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Echo the text")
async def echo(payload: Dict[str, Any]):
    return {"text": payload.get("text")}
"""
MANIFEST: dict[str, object] = {
    "agent_name": "Echo agent",
    "agent_alias": "echo",
    "agent_description": "Echoes its text",
    "files": [{"name": "main.py", "content": MAIN, "mime_type": "python"}],
    "inputs": [{"name": "text", "type": "string"}],
    "agent_endpoints": [
        {"name": "echo", "module": "main", "description": "echo", "inputs": [{"input_ref": "text"}]}
    ],
}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("typed_usage", HERE / "typed_usage.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_typed_script_runs_against_the_local_platform(viksa_client: ViksaClient) -> None:
    seen = await _script().exercise(viksa_client, MANIFEST)
    assert seen[0] == "dev@viksa.local"
    assert "Echo agent" in seen
    assert "typed" in seen  # the endpoint's answer, narrowed from JSONValue
    assert "completed" in seen  # the execution list, walked page by page
    assert seen[-1] == "True"


def test_typecheck_runs_the_script_with_disallow_any_expr() -> None:
    script = (HERE.parent / "scripts" / "typecheck.sh").read_text(encoding="utf-8")
    assert "--disallow-any-expr tests-integration/typed_usage.py" in script
