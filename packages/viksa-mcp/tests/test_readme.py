"""The guides say what the bridge does: names that import, flags and variables that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import viksa_ai.mcp_bridge
from viksa_ai.mcp_bridge import make_tool_name
from viksa_ai.mcp_bridge.cli import build_parser

PACKAGE_README = Path(__file__).resolve().parents[1] / "README.md"
ROOT_README = Path(__file__).resolve().parents[3] / "README.md"
VARIABLES = [
    "VIKSA_AGENT_ID",
    "VIKSA_AGENT_ALIAS",
    "VIKSA_MCP_ALL_DEPLOYED",
    "VIKSA_MCP_REFRESH_INTERVAL",
]


def test_the_0_2_names_are_public_and_documented() -> None:
    text = PACKAGE_README.read_text(encoding="utf-8")
    for name in [
        "BridgeRegistry",
        "ViksaToolSpec",
        "agent_doc_to_tools",
        "build_registry",
        "load_tool_registry",
        "make_tool_name",
    ]:
        assert name in viksa_ai.mcp_bridge.__all__
        assert getattr(viksa_ai.mcp_bridge, name) is not None
        assert name in text


def test_the_documented_tool_name_is_what_make_tool_name_gives() -> None:
    text = PACKAGE_README.read_text(encoding="utf-8")
    (example,) = re.findall(r'make_tool_name\("([^"]+)", "([^"]+)"\)  # \'(\w+)\'', text)
    assert make_tool_name(example[0], example[1]) == example[2]


@pytest.mark.parametrize("readme", [PACKAGE_README, ROOT_README], ids=["package", "root"])
def test_every_flag_and_variable_shown_exists(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    flags = {flag for action in build_parser()._actions for flag in action.option_strings}
    shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text))
    bridge_lines = [line for line in text.splitlines() if "viksa-mcp-bridge" in line]
    for line in bridge_lines:
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", line):
            assert flag in flags, f"{readme.name}: {flag} in {line!r}"
    assert {"--agent-id", "--agent-alias", "--all-deployed", "--path", "--http"} <= shown
    for variable in VARIABLES:
        assert variable in text
