"""The package README's example runs as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (PACKAGE / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"## Example\n\n```python\n(.*?)```", readme, flags=re.DOTALL)
    payloads = json.loads((Path(__file__).parent / "fixtures" / "wire_payloads.json").read_text())
    (tmp_path / "agent.json").write_text(json.dumps(payloads["AgentGenerationResponse"]))
    monkeypatch.chdir(tmp_path)

    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)

    assert namespace["body"] == {
        "agent_id": "agt_123",
        "agent_type": "cloud",
        "endpoint": "my_agent.main.search",
        "inputs": {"query": "flights to LAX"},
        "task_queue": None,
        "timeout": None,
        "envelope": None,
    }
