"""The local platform's deterministic stand-ins for the routes that need a language model.

No model runs locally: ``indent_finder`` runs an endpoint when the message names one
(``alias.module.function``, optionally followed by a JSON object of inputs) and
otherwise lists what it can run; ``generate_agent`` fills a fixed template from the
prompt; ``fix_agent`` reports the validator's issues. Every answer says so.
"""

from __future__ import annotations

import json
import re
from typing import Any

from viksa_ai.devtools._strict_json import MAX_JSON_DEPTH, unfit_json
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = [
    "DETERMINISTIC_NOTE",
    "ParsedRequest",
    "generated_agent",
    "list_runnable",
    "parse_request",
    "words",
]

DETERMINISTIC_NOTE = (
    "Answered deterministically by the local Viksa platform: no language model runs here."
)
_ENDPOINT = re.compile(r"\b([A-Za-z][A-Za-z0-9_-]*)\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")
# Where a try of _ENDPOINT may start, and the run of its first part's characters.
_START = re.compile(r"\b[A-Za-z]")
_ALIAS_RUN = re.compile(r"[A-Za-z0-9_-]*")
_SLUG = re.compile(r"[^a-z0-9]+")
_DEEP = f"nested too deeply: more than {MAX_JSON_DEPTH} levels of arrays and objects"

_TEMPLATE_MAIN = '''"""{title}: generated deterministically by the local Viksa platform."""

from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Answer a request about: {topic}")
async def handle(payload: Dict[str, Any]):
    request = payload.get("request")
    return {{"request": request, "note": "replace this template with your agent's logic"}}
'''


class ParsedRequest:
    """What a chat message asks: an endpoint path and inputs, or nothing runnable."""

    def __init__(self, endpoint: str | None, inputs: dict[str, Any], error: str | None) -> None:
        self.endpoint = endpoint
        self.inputs = inputs
        self.error = error


def _first_endpoint(message: str) -> re.Match[str] | None:
    """``_ENDPOINT.search(message)``, in time linear in the message's length.

    ``re`` tries the pattern at every word start, and each try runs to the end of the
    run of alias characters: after each ``-`` of ``a-a-a-...`` again, quadratic (an
    80,000-character chat message held the platform 10 s). Every start within one run
    ends the same way, so only the first of each run is tried: the one ``re`` would
    report first, were there a match.
    """
    run_end = -1
    for start in _START.finditer(message):
        if start.start() < run_end:
            continue
        alias = _ALIAS_RUN.match(message, start.start())
        run_end = alias.end() if alias is not None else start.end()
        match = _ENDPOINT.match(message, start.start())
        if match is not None:
            return match
    return None


def parse_request(message: str) -> ParsedRequest:
    """Find ``alias.module.function`` and an optional JSON object of inputs after it."""
    match = _first_endpoint(message)
    if match is None:
        return ParsedRequest(None, {}, None)
    rest = message[match.end() :]
    start = rest.find("{")
    if start < 0:
        return ParsedRequest(match.group(0), {}, None)
    try:
        inputs, _ = json.JSONDecoder().raw_decode(rest[start:])
    except RecursionError:
        return ParsedRequest(match.group(0), {}, f"the inputs after the endpoint are {_DEEP}")
    except ValueError as exc:
        return ParsedRequest(
            match.group(0), {}, f"the inputs after the endpoint are not JSON: {exc}"
        )
    if not isinstance(inputs, dict):
        return ParsedRequest(match.group(0), {}, "the inputs must be a JSON object")
    # The same JSON as a request body may hold: Python's parser also reads NaN, Infinity,
    # 1e400, lone surrogates and deep nesting, which a run could not store or answer.
    unfit = unfit_json(inputs)
    if unfit is not None:
        where = ".".join(map(str, unfit.loc)) or "the inputs"
        return ParsedRequest(match.group(0), {}, f"input {where}: {unfit.message}")
    return ParsedRequest(match.group(0), inputs, None)


def list_runnable(store: Store, project_id: str) -> list[Doc]:
    """Every enabled endpoint of the project's deployed agents."""
    runnable = []
    for deployment in store.query("deployment", scope=project_id)[0]:
        for endpoint in deployment["manifest"]["agent_endpoints"]:
            if endpoint.get("status", "enabled") == "enabled":
                runnable.append(
                    {
                        "agent_id": deployment["agent_id"],
                        "endpoint": endpoint["endpoint"],
                        "description": endpoint.get("description", ""),
                        "inputs": [i["input_ref"] for i in endpoint.get("inputs", [])],
                    }
                )
    return runnable


def words(text: str) -> int:
    """A stand-in token count: whitespace-separated words."""
    return len(text.split())


def generated_agent(prompt: str) -> Doc:
    """A valid agent manifest made from ``prompt`` by a fixed template."""
    slug = _SLUG.sub("_", prompt.lower()).strip("_")[:40] or "generated"
    title = " ".join(prompt.split()[:8]) or "Generated agent"
    main = _TEMPLATE_MAIN.format(title=title.replace('"', "'"), topic=title.replace('"', "'"))
    return {
        "agent_name": f"{slug}_agent"[:256],
        "agent_description": f"{DETERMINISTIC_NOTE} Prompt: {prompt}",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "requirements": [],
        "inputs": [{"name": "request", "type": "string", "description": "What to do"}],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": "handle",
                "module": "main",
                "endpoint": "",
                "description": f"Answer a request about: {title}",
                "inputs": [{"input_ref": "request", "required": True}],
                "outputs": [],
            }
        ],
    }
