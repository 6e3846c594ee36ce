"""JSON Schemas of a tool from the agent's declared inputs and outputs, and checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]  # no stubs

from viksa_ai.mcp_bridge._names import short_suffix
from viksa_ai.mcp_bridge._text import MAX_DESCRIPTION_CHARS, cut_text

__all__ = [
    "MAX_DEFAULT_CHARS",
    "MAX_ENUM_CHARS",
    "MAX_ENUM_VALUES",
    "MAX_PATTERN_CHARS",
    "argument_keys",
    "input_schema",
    "listed_schema",
    "output_schema",
    "schema_errors",
]

MAX_ENUM_VALUES = 100
"""The most allowed values of an input ``tools/list`` shows; past it, see ``listed_schema``."""
MAX_ENUM_CHARS = 4000
"""The most characters of an input's allowed values (as JSON) ``tools/list`` shows."""
MAX_PATTERN_CHARS = 1000
"""The most characters of an input's ``pattern`` ``tools/list`` shows."""
MAX_DEFAULT_CHARS = 1000
"""The most characters of an input's ``default`` (as JSON) ``tools/list`` shows."""

# Agent input/output types (case-insensitive on the wire) -> JSON Schema types.
_JSON_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "dict": "object",
    "object": "object",
    "list": "array",
    "array": "array",
}
# min_length / max_length bound a string's characters, a list's items, a dict's keys.
_LENGTH_KEYS = {
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
    "object": ("minProperties", "maxProperties"),
}


# Property keys every client takes (Anthropic's API checks them on every request).
_PROPERTY_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# An input's `pattern` is the agent's and the value the caller's: Python's `re` backtracks
# (`^(a|aa)+$` takes minutes on 50 characters) and holds the event loop, every client's
# calls and the refresh while it searches; an invalid pattern would raise. The platform
# and the local runner search it with a bounded cost, so the bridge leaves it to them.
_Validator = validators.extend(Draft202012Validator, {"pattern": lambda *_: None})
# One problem's text, and the number of problems, a refused call reports: jsonschema
# quotes the whole value (a 5 MB string "is too long") and every allowed value.
_MAX_PROBLEM_CHARS = 300
_MAX_PROBLEMS = 10
_MAX_ERRORS_READ = 1000


def _json_type(declared: object) -> str | None:
    return _JSON_TYPES.get(str(declared).lower()) if declared is not None else None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _mapping_hint(name: str, declared: Mapping[str, Any], mappings: Mapping[str, Any]) -> str:
    hint = declared.get("mapping", mappings.get(name))
    if hint is None or hint == "" or hint == {} or hint == []:
        return ""
    if isinstance(hint, Mapping):
        text = ", ".join(f"{key}: {value}" for key, value in hint.items())
    elif isinstance(hint, Sequence) and not isinstance(hint, str):
        text = ", ".join(str(item) for item in hint)
    else:
        text = str(hint)
    return f"Mapping: {text}"


def _property(declared: Mapping[str, Any], mappings: Mapping[str, Any]) -> dict[str, Any]:
    prop: dict[str, Any] = {}
    json_type = _json_type(declared.get("type"))
    if json_type is not None:
        prop["type"] = json_type
    notes = [
        str(declared["description"]) if declared.get("description") else "",
        _mapping_hint(str(declared.get("name", "")), declared, mappings),
    ]
    if any(notes):
        prop["description"] = ". ".join(note.rstrip(". ") for note in notes if note)
    if declared.get("default") is not None:
        prop["default"] = declared["default"]
    allowed = declared.get("allowed_values")
    if isinstance(allowed, Sequence) and not isinstance(allowed, str) and allowed:
        prop["enum"] = list(allowed)
    if json_type in ("integer", "number"):
        if _is_number(declared.get("min_value")):
            prop["minimum"] = declared["min_value"]
        if _is_number(declared.get("max_value")):
            prop["maximum"] = declared["max_value"]
    low_key, high_key = _LENGTH_KEYS.get(json_type or "", ("minLength", "maxLength"))
    if json_type in _LENGTH_KEYS:
        # A JSON Schema length is a non-negative integer (a bool is not one).
        if _is_count(declared.get("min_length")):
            prop[low_key] = declared["min_length"]
        if _is_count(declared.get("max_length")):
            prop[high_key] = declared["max_length"]
    if json_type == "string" and isinstance(declared.get("pattern"), str):
        prop["pattern"] = declared["pattern"]
    return prop


def _ref_name(ref: object) -> str:
    return str(ref.get("input_ref", "")) if isinstance(ref, Mapping) else str(ref)


def argument_keys(endpoint: Mapping[str, Any]) -> dict[str, str]:
    """The property key of each input the endpoint references: its name when it is one
    every client takes (``[A-Za-z0-9_.-]``, 1 to 64 characters), else a safe key.

    Anthropic's API refuses every request of a session (all its tools) once one tool
    has a property key outside that set, and input names are payload keys: any text.
    A safe key is the name with each run of other characters made ``_``, cut to 57
    characters, and a 6-character hash of the name: stable and apart from the others.
    """
    names = list(dict.fromkeys(_ref_name(ref) for ref in endpoint.get("inputs") or []))
    # Names kept as they are come first: a safe key never takes one (an input could be
    # named like another's safe key).
    taken = {name for name in names if _PROPERTY_KEY.fullmatch(name)}
    keys: dict[str, str] = {}
    for name in names:
        if not name:
            continue
        if name in taken:
            keys[name] = name
            continue
        base = _KEY_UNSAFE.sub("_", name)[:57].strip("_") or "input"
        key, attempt = f"{base}_{short_suffix(name)}", 0
        while key in taken:
            attempt += 1
            key = f"{base}_{short_suffix(name, str(attempt))}"
        taken.add(key)
        keys[name] = key
    return keys


def input_schema(
    endpoint: Mapping[str, Any],
    inputs: Mapping[str, Mapping[str, Any]],
    mappings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``inputSchema`` of an endpoint: one property per input it references.

    ``inputs`` maps each declared input's name to its declaration; ``mappings`` maps an
    input name to a hint on where its value comes from (added to its description).
    Properties are keyed as :func:`argument_keys` says; a renamed one says its name.
    """
    keys = argument_keys(endpoint)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for ref in endpoint.get("inputs") or []:
        name = _ref_name(ref)
        if not name or keys[name] in properties:
            continue  # referenced twice: `required` must not name it twice
        key = keys[name]
        declared = inputs.get(name) or {"name": name}
        prop = properties[key] = _property(declared, mappings or {})
        if key != name:
            said = prop.get("description")
            prop["description"] = f"The input named {name!r}" + (f". {said}" if said else "")
        if "description" in prop:
            prop["description"] = cut_text(prop["description"], MAX_DESCRIPTION_CHARS)
        if not isinstance(ref, Mapping) or ref.get("required", True):
            required.append(key)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def output_schema(
    endpoint: Mapping[str, Any], outputs: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The ``outputSchema`` of an endpoint from its declared outputs (None: none declared).

    Outputs are not required (an endpoint may leave one out) and other keys are allowed,
    as the platform passes whatever the endpoint returned.
    """
    names = [str(name) for name in endpoint.get("outputs") or []]
    if not names:
        return None
    properties: dict[str, Any] = {}
    for name in names:
        declared = outputs.get(name) or {}
        prop: dict[str, Any] = {}
        json_type = _json_type(declared.get("type"))
        if json_type is not None:
            prop["type"] = [json_type, "null"] if declared.get("nullable") else json_type
        if declared.get("description"):
            prop["description"] = cut_text(str(declared["description"]), MAX_DESCRIPTION_CHARS)
        if isinstance(declared.get("format"), str):
            prop["format"] = declared["format"]
        properties[name] = prop
    return {"type": "object", "properties": properties}


def listed_schema(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` as ``tools/list`` shows it: without what is too long to list.

    Each would sit in the context of every client: an input's allowed values past
    :data:`MAX_ENUM_VALUES` values or :data:`MAX_ENUM_CHARS` characters (as JSON), its
    ``pattern`` past :data:`MAX_PATTERN_CHARS` characters, its ``default`` past
    :data:`MAX_DEFAULT_CHARS` (as JSON). The property then lacks it (the schema stays
    one, only looser) and its description says so. ``schema`` itself keeps them: the
    bridge checks every call against its allowed values before sending it, and the
    platform checks the pattern.
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return schema
    listed = {
        key: _listed_property(prop) if isinstance(prop, Mapping) else prop
        for key, prop in properties.items()
    }
    if all(listed[key] is properties[key] for key in listed):
        return schema
    return {**schema, "properties": listed}


def _listed_property(prop: Mapping[str, Any]) -> Mapping[str, Any]:
    dropped: dict[str, str] = {}  # key -> what the description says instead
    enum = prop.get("enum")
    if isinstance(enum, list) and _too_long_to_list(enum):
        dropped["enum"] = (
            f"One of {len(enum)} allowed values, too many to list here: a call with another "
            "is refused"
        )
    pattern = prop.get("pattern")
    if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_CHARS:
        dropped["pattern"] = (
            f"Its pattern ({len(pattern)} characters) is too long to list here: the platform "
            "checks it"
        )
    if "default" in prop and _json_size(prop["default"]) > MAX_DEFAULT_CHARS:
        dropped["default"] = "Its default is too long to list here"
    if not dropped:
        return prop
    note = ". ".join(dropped.values())
    said = str(prop.get("description") or "").rstrip(". ")
    head = cut_text(said, max(MAX_DESCRIPTION_CHARS - len(note) - 2, 0)) + ". " if said else ""
    shown = {key: value for key, value in prop.items() if key not in dropped}
    shown["description"] = head + note
    return shown


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def _too_long_to_list(enum: list[Any]) -> bool:
    if len(enum) > MAX_ENUM_VALUES:
        return True
    size = 0
    for value in enum:  # stops at the first value past the budget, however long
        size += len(json.dumps(value, ensure_ascii=False, default=str)) + 1
        if size > MAX_ENUM_CHARS:
            return True
    return False


def _clipped(text: str) -> str:
    if len(text) <= _MAX_PROBLEM_CHARS:
        return text
    # The head names the value, the tail what is wrong with it ("... is too long").
    tail = _MAX_PROBLEM_CHARS // 3
    head = _MAX_PROBLEM_CHARS - tail
    return f"{text[:head]} [... {len(text) - head - tail} characters ...] {text[-tail:]}"


def schema_errors(schema: Mapping[str, Any], value: object) -> list[str]:
    """What is wrong with ``value`` for ``schema``, one short readable line per problem.

    ``pattern`` is not searched (see ``_Validator``). Each line is at most a few hundred
    characters and at most ten problems are listed, of at most a thousand read, whatever
    the size of the value.
    """
    # jsonschema builds each problem's text as it finds it (the value's repr, and every
    # allowed value's): past the first thousand, reading more only holds the loop.
    found = list(islice(_Validator(schema).iter_errors(value), _MAX_ERRORS_READ + 1))
    errors = sorted(found[:_MAX_ERRORS_READ], key=lambda e: [_path_key(p) for p in e.absolute_path])
    problems: list[str] = []
    for error in errors[:_MAX_PROBLEMS]:
        where = ".".join(str(part) for part in error.absolute_path)
        problems.append(_clipped(f"{where}: {error.message}" if where else error.message))
    if len(errors) > _MAX_PROBLEMS:
        at_least = "at least " if len(found) > _MAX_ERRORS_READ else ""
        problems.append(f"and {at_least}{len(errors) - _MAX_PROBLEMS} more problem(s)")
    return problems


def _path_key(part: object) -> tuple[int, int, str]:
    # Array items in their order (2 before 10); a property by its name.
    return (0, part, "") if isinstance(part, int) else (1, 0, str(part))
