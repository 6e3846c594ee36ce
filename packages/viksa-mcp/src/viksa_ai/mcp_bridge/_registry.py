"""Agent documents -> MCP tool specs: ``ViksaToolSpec``, ``BridgeRegistry`` and builders."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from viksa_ai.mcp_bridge._names import MAX_TOOL_NAME_LENGTH, make_tool_name, short_suffix
from viksa_ai.mcp_bridge._schema import argument_keys, input_schema, output_schema
from viksa_ai.mcp_bridge._text import (
    MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
    cut_text,
    wire_value,
)

__all__ = [
    "AgentInfo",
    "BridgeRegistry",
    "ViksaToolSpec",
    "agent_doc_to_tools",
    "build_registry",
    "guidelines_text",
]

DEFAULT_TIMEOUT_SECONDS = 30
MAX_GUIDELINES_CHARS = 4000
"""The most characters of an agent's ``ai_guidelines`` in the server's ``instructions``
(every client's context); the whole text is the agent's guidelines resource."""
MAX_INSTRUCTIONS_CHARS = 16_000
"""The most characters of the server's whole ``instructions``: many agents, each within
:data:`MAX_GUIDELINES_CHARS`, would still fill a client's context. The guidelines of the
agents past it are left out; the instructions name them and their resources."""
# Room kept for the note naming the agents left out (the note never outgrows it).
_LEFT_OUT_NOTE_CHARS = 2_000
_log = logging.getLogger("viksa_ai.mcp_bridge")


@dataclass(frozen=True)
class ViksaToolSpec:
    """One MCP tool: an enabled endpoint of an agent, and how to run it.

    ``endpoint_path`` is the platform's ``alias.module.function``; ``input_schema`` and
    ``output_schema`` (None when the endpoint declares no outputs) are JSON Schemas.
    :meth:`agent_arguments` turns a call's arguments into the agent's inputs.
    """

    name: str
    agent_id: str
    agent_alias: str
    agent_type: str
    endpoint_name: str
    endpoint_path: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    task_queue: str | None = None
    requires_approval: bool = False
    argument_names: dict[str, str] = field(default_factory=dict)
    """The agent's input name of each property key that is not that name (see
    :func:`~viksa_ai.mcp_bridge._schema.argument_keys`)."""

    def agent_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """A call's arguments as the agent takes them: keyed by its input names, and an
        integer input given as ``5.0`` (JSON Schema's integer) sent as ``5``, which the
        platform and the runner require."""
        properties = self.input_schema.get("properties") or {}
        return {
            self.argument_names.get(key, key): _as_declared(properties.get(key), value)
            for key, value in arguments.items()
        }

    def fingerprint(self) -> str:
        """A text that changes whenever what a client sees of the tool changes."""
        return json.dumps(
            [self.name, self.description, self.input_schema, self.output_schema],
            sort_keys=True,
            default=str,
        )


def _as_declared(prop: object, value: Any) -> Any:
    integer = isinstance(prop, Mapping) and prop.get("type") == "integer"
    return int(value) if integer and isinstance(value, float) and value.is_integer() else value


@dataclass(frozen=True)
class AgentInfo:
    """What the bridge tells a client about an agent besides its tools."""

    agent_id: str
    agent_alias: str
    agent_name: str
    guidelines: str = ""

    @property
    def guidelines_uri(self) -> str:
        """The resource holding the whole ``guidelines``: ``viksa://agent/{id}/guidelines``."""
        # An id is any text (a folder's name holds spaces): quoted, it stays one path
        # segment of a valid URI instead of a query, a fragment or a client's parse error.
        return f"viksa://agent/{quote(self.agent_id, safe='')}/guidelines"

    def instructions(self) -> str:
        """The ``guidelines`` as the server's instructions show them: cut past
        :data:`MAX_GUIDELINES_CHARS`, with where to read the rest."""
        if len(self.guidelines) <= MAX_GUIDELINES_CHARS:
            return self.guidelines
        rest = f"\n(cut: the whole text is the resource {self.guidelines_uri})"
        return cut_text(self.guidelines, MAX_GUIDELINES_CHARS) + rest


@dataclass
class BridgeRegistry:
    """The tools served, by name, with the agents' guidelines and mappings."""

    tools: dict[str, ViksaToolSpec] = field(default_factory=dict)
    agents: dict[str, AgentInfo] = field(default_factory=dict)
    mappings: list[dict[str, Any]] = field(default_factory=list)

    def get(self, name: str) -> ViksaToolSpec | None:
        """The tool named ``name``, or None."""
        return self.tools.get(name)

    def names(self) -> list[str]:
        """The tool names, sorted."""
        return sorted(self.tools)

    def fingerprint(self) -> str:
        """A text that changes whenever the tool list a client sees changes."""
        return "\n".join(self.tools[name].fingerprint() for name in self.names())

    def instructions(self) -> str:
        """The server instructions: each agent's ``ai_guidelines``, under its name.

        At most :data:`MAX_INSTRUCTIONS_CHARS` in all: the guidelines that do not fit are
        left out, and a closing note names those agents and their resources.
        """
        head = "Tools of Viksa AI agents; each tool is named {agent_alias}_{endpoint_name}."
        parts = [
            (info, f"## {info.agent_name} ({info.agent_alias})\n{info.instructions()}")
            for info in self.agents.values()
            if info.guidelines
        ]
        whole = "\n\n".join([head, *(part for _, part in parts)])
        if len(whole) <= MAX_INSTRUCTIONS_CHARS:
            return whole
        # Each part kept in order while it fits; a long one left out leaves room for the
        # shorter ones after it.
        room = MAX_INSTRUCTIONS_CHARS - _LEFT_OUT_NOTE_CHARS - len(head)
        kept: list[str] = []
        left_out: list[AgentInfo] = []
        for info, part in parts:
            if len(part) + 2 <= room:
                kept.append(part)
                room -= len(part) + 2
            else:
                left_out.append(info)
        return "\n\n".join([head, *kept, _left_out_note(left_out)])


def _left_out_note(left_out: Sequence[AgentInfo]) -> str:
    """Which agents' guidelines the instructions leave out and where to read each, in at
    most ``_LEFT_OUT_NOTE_CHARS`` (past it, how many more)."""
    lines = [
        "## Guidelines left out",
        f"These instructions stop at {MAX_INSTRUCTIONS_CHARS:,} characters: the guidelines "
        f"of {len(left_out)} agent(s) are not in them. Read each from its resource "
        "before using that agent's tools:",
    ]
    # Room for the closing line naming the agents not listed.
    room = _LEFT_OUT_NOTE_CHARS - sum(len(line) + 1 for line in lines) - 200
    listed = 0
    for info in left_out:
        line = f"- {info.agent_name} ({info.agent_alias}): {info.guidelines_uri}"
        if len(line) + 1 > room:
            break
        lines.append(line)
        room -= len(line) + 1
        listed += 1
    if listed < len(left_out):
        lines.append(
            f"- and {len(left_out) - listed} more: resources/list names each agent's "
            "guidelines resource ({agent_alias}_guidelines)."
        )
    return "\n".join(lines)


def guidelines_text(value: object) -> str:
    """An agent's ``ai_guidelines`` (text, a list of lines or an object) as text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return "\n".join(f"- {key}: {guidelines_text(item)}" for key, item in value.items())
    if isinstance(value, Sequence):
        return "\n".join(f"- {guidelines_text(item)}" for item in value)
    return str(value)


def _by_name(items: object) -> dict[str, dict[str, Any]]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        return {}
    return {str(item["name"]): dict(item) for item in items if isinstance(item, Mapping)}


def _input_mappings(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Hints per input name from the agent's ``mappings`` (an object, or a list of objects)."""
    mappings = doc.get("mappings")
    if isinstance(mappings, Mapping):
        return {str(key): value for key, value in mappings.items()}
    found: dict[str, Any] = {}
    if isinstance(mappings, Sequence) and not isinstance(mappings, str):
        for item in mappings:
            if isinstance(item, Mapping):
                name = item.get("input") or item.get("input_ref") or item.get("name")
                if name:
                    found[str(name)] = {k: v for k, v in item.items() if k not in ("input", "name")}
    return found


def _enabled(value: object) -> bool:
    return str(value or "enabled").lower() == "enabled"


def agent_doc_to_tools(doc: Mapping[str, Any]) -> list[ViksaToolSpec]:
    """The tools of one agent document: one per enabled endpoint (none if the agent is off).

    Names are ``{agent_alias}_{endpoint_name}`` as :func:`make_tool_name` makes them;
    :func:`build_registry` tells apart names that collide across agents.
    """
    if not _enabled(doc.get("status")):
        return []
    alias = str(doc.get("agent_alias") or doc.get("alias") or doc.get("agent_name") or "agent")
    agent_id = _agent_id(doc) or alias
    inputs = _by_name(doc.get("inputs"))
    outputs = _by_name(doc.get("outputs"))
    hints = _input_mappings(doc)
    # The first queue that is not blank: the platform accepts ["", "q1"] for a secure agent.
    queues = [
        q for q in (doc.get("chrona_queue") or {}).get("chrona_queues") or [] if str(q).strip()
    ]
    tools: list[ViksaToolSpec] = []
    for endpoint in doc.get("agent_endpoints") or []:
        if not isinstance(endpoint, Mapping) or not _enabled(endpoint.get("status")):
            continue
        name = str(endpoint["name"])
        module = str(endpoint.get("module") or "main")
        config = endpoint.get("execution_config") or {}
        # The approval note is kept whole: the agent's own text is what gets cut.
        note = (
            " (each call waits for a person to approve it on the platform)"
            if config.get("requires_approval")
            else ""
        )
        said = str(endpoint.get("description") or name)
        description = cut_text(said, MAX_DESCRIPTION_CHARS - len(note)) + note
        tools.append(
            ViksaToolSpec(
                name=make_tool_name(alias, name),
                agent_id=agent_id,
                agent_alias=alias,
                agent_type=str(doc.get("agent_type") or "cloud").lower(),
                endpoint_name=name,
                endpoint_path=str(endpoint.get("endpoint") or f"{alias}.{module}.{name}"),
                description=description,
                input_schema=input_schema(endpoint, inputs, hints),
                output_schema=output_schema(endpoint, outputs),
                timeout_seconds=int(config.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
                task_queue=str(queues[0]) if queues else None,
                requires_approval=bool(config.get("requires_approval")),
                argument_names={
                    key: name for name, key in argument_keys(endpoint).items() if key != name
                },
            )
        )
    return tools


def build_registry(
    docs: Iterable[Mapping[str, Any]],
    mappings: Iterable[Mapping[str, Any]] = (),
    *,
    max_name_length: int = MAX_TOOL_NAME_LENGTH,
) -> BridgeRegistry:
    """The registry of every tool of ``docs``, names unique.

    When two tools would share a name, each of them gets a short suffix derived from its
    agent id and endpoint, so a name stays the same from one refresh to the next.
    """
    # One malformed document (a platform answering garbage) costs its own tools only.
    usable: list[Mapping[str, Any]] = []
    specs: list[ViksaToolSpec] = []
    seen: set[str] = set()
    for raw in docs:
        # Every text a client will see, UTF-8 encodable (the agent's files are not shown).
        doc = _wire_doc(raw)
        # The same agent twice (a listing whose pages shifted while it was read) is one
        # agent: counted twice, its tools would collide with themselves and get suffixes.
        # The type says Mapping; a platform answering garbage says otherwise.
        found: object = doc
        agent_key = _agent_id(doc) if isinstance(found, Mapping) else None
        if agent_key is not None:
            if agent_key in seen:
                continue
            seen.add(agent_key)
        try:
            specs += agent_doc_to_tools(doc)
        except (AttributeError, ArithmeticError, KeyError, TypeError, ValueError) as exc:
            _log.warning(
                "agent %s skipped: its document is malformed (%s: %s)",
                agent_key or "(no id)",
                type(exc).__name__,
                exc,
            )
        else:
            usable.append(doc)
    registry = BridgeRegistry(mappings=[dict(item) for item in mappings])
    for name, spec in _unique_names(specs, max_name_length):
        registry.tools[name] = _renamed(spec, name)
    for doc in usable:
        if not _enabled(doc.get("status")):
            continue
        agent_id = _agent_id(doc) or str(doc.get("agent_alias"))
        registry.agents[agent_id] = AgentInfo(
            agent_id=agent_id,
            # Shown to every client (instructions, resources): cut like a tool's title.
            agent_alias=cut_text(str(doc.get("agent_alias") or ""), MAX_TITLE_CHARS),
            agent_name=cut_text(
                str(doc.get("agent_name") or doc.get("agent_alias") or agent_id), MAX_TITLE_CHARS
            ),
            guidelines=guidelines_text(doc.get("ai_guidelines")),
        )
    return registry


def _wire_doc(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    found: object = doc
    if not isinstance(found, dict):
        return doc
    return {key: item if key == "files" else wire_value(item) for key, item in found.items()}


def _agent_id(doc: Mapping[str, Any]) -> str | None:
    found = doc.get("id") or doc.get("agent_id")
    return str(found) if found else None


def _unique_names(specs: list[ViksaToolSpec], max_length: int) -> list[tuple[str, ViksaToolSpec]]:
    """Each spec with its tool name, no two alike, the same whatever the order of ``specs``.

    A name no other tool would share is kept as it is. Names that several tools would
    share get a suffix each from the agent id and endpoint name; a suffixed name that
    is still taken (by a tool's own name, or two endpoints of one agent sharing a name)
    tries suffixes from the endpoint's path and a counter until one is free.
    """
    bases = [make_tool_name(s.agent_alias, s.endpoint_name, max_length=max_length) for s in specs]
    counts: dict[str, int] = {}
    for base in bases:
        counts[base] = counts.get(base, 0) + 1
    taken = {base for base in bases if counts[base] == 1}
    named: list[tuple[str, ViksaToolSpec]] = []
    order = sorted(
        range(len(specs)),
        key=lambda i: (specs[i].agent_id, specs[i].endpoint_path, specs[i].endpoint_name),
    )
    for index in order:
        spec, name = specs[index], bases[index]
        if counts[name] > 1:
            attempt = 0
            while True:
                parts = [spec.agent_id, spec.endpoint_name]
                if attempt:
                    parts += [spec.endpoint_path, str(attempt)]
                name = make_tool_name(
                    spec.agent_alias,
                    spec.endpoint_name,
                    suffix=short_suffix(*parts),
                    max_length=max_length,
                )
                if name not in taken:
                    break
                attempt += 1
            taken.add(name)
        named.append((name, spec))
    return named


def _renamed(spec: ViksaToolSpec, name: str) -> ViksaToolSpec:
    from dataclasses import replace

    return replace(spec, name=name)
