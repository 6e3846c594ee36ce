"""The agent-folder backend (``--path``): what it tells the person running it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from viksa_ai.devtools.runner import sandbox_status
from viksa_ai.mcp_bridge._local import LocalBackend


@pytest.mark.parametrize("bwrap", ["missing", "found"])
def test_the_folder_backend_says_whether_agent_code_is_sandboxed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, bwrap: str
) -> None:
    if bwrap == "missing":
        monkeypatch.setenv("VIKSA_BWRAP", str(tmp_path / "no-such-bwrap"))
        monkeypatch.setenv("VIKSA_UNSHARE", str(tmp_path / "no-such-unshare"))
    with caplog.at_level(logging.INFO, logger="viksa_ai.mcp_bridge"):
        LocalBackend(tmp_path, {})
    # The same line as `viksa dev`'s banner and `viksa run`, never "on" when it is not.
    assert f"agent code runs with sandbox {sandbox_status()[1]}" in caplog.text
    if bwrap == "missing":
        assert "agents run unsandboxed" in caplog.text
