"""Loading a manifest into a view the rules read, even when parts of it are invalid.

A valid manifest is parsed once into :class:`AgentGenerationResponse`. When that fails,
its structural errors become issues and each entry of ``files``, ``inputs``,
``outputs`` and ``agent_endpoints`` is parsed on its own, so the rules still check
every valid entry (and know the names of the invalid ones, to avoid false alarms).
A caller that needs only the issues can skip the model (and pydantic) for a plainly
valid manifest (see ``_fast_manifest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from viksa_ai.devtools.validate._fast_manifest import fast_entries
from viksa_ai.devtools.validate._issues import Issue
from viksa_ai.devtools.validate._structure import issues_from_validation_error, json_type_name

if TYPE_CHECKING:
    from pydantic import ValidationError

    from viksa_ai.models.agent import (
        AgentEndpoint,
        AgentFile,
        AgentGenerationResponse,
        AgentInput,
        AgentOutput,
    )

__all__ = ["Entries", "ManifestView", "load_manifest"]

# By name: the models (and pydantic) are imported only when a manifest needs them.
_Item = TypeVar("_Item", "AgentFile", "AgentInput", "AgentOutput", "AgentEndpoint")


@dataclass(slots=True)
class Entries(Generic[_Item]):
    """The valid entries of one list field, each with its index in the manifest."""

    items: list[tuple[int, _Item]] = field(default_factory=list)
    complete: bool = True
    """Whether the field was a list (or absent) and every entry was valid."""
    invalid_names: set[str] = field(default_factory=set)
    """``name`` of each invalid entry that has a string name."""
    size: int = 0
    """Number of entries in the manifest, valid or not."""
    is_list: bool = True
    """Whether the field was a list (or absent); if not, a structural issue says so."""


@dataclass(slots=True)
class ManifestView:
    """What the rules read: the parsed manifest (when valid) and its valid entries.

    ``input_names`` and ``output_names`` hold the name of every input and output,
    valid or not (a reference to an invalid one is not dangling).
    """

    model: AgentGenerationResponse | None
    files: Entries[AgentFile]
    inputs: Entries[AgentInput]
    outputs: Entries[AgentOutput]
    endpoints: Entries[AgentEndpoint]
    requirements: list[str] | None
    """The ``requirements`` entries; None when the field is not a list of strings."""
    input_names: frozenset[str] = field(init=False)
    output_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        # Computed here, not lazily: every validation reads both (and cached_property
        # takes a lock on Python 3.11, a fixed cost that shows on small agents).
        self.input_names = _names(self.inputs)
        self.output_names = _names(self.outputs)


def _names(entries: Entries[Any]) -> frozenset[str]:
    names = frozenset([item.name for _, item in entries.items])
    return names | entries.invalid_names if entries.invalid_names else names


@cache
def _model_types() -> tuple[type[AgentGenerationResponse], type[ValidationError]]:
    """The manifest model and pydantic's error, imported on first use.

    Cached: import statements cost microseconds on each call, even of a module already
    imported, and every validation needs both.
    """
    from pydantic import ValidationError

    from viksa_ai.models.agent import AgentGenerationResponse

    return AgentGenerationResponse, ValidationError


def load_manifest(
    manifest: object, *, fast: bool = False
) -> tuple[ManifestView | None, list[Issue]]:
    """Parse ``manifest`` (a dict or a model); return its view and structural issues.

    The view is None only when the manifest is not an object at all. With
    ``fast=True``, a manifest the model surely accepts is read without it (the view's
    ``model`` is then None; its entries read the same): for callers that need only the
    issues.
    """
    if fast:
        entries = fast_entries(manifest)
        if entries is not None:
            files, inputs, outputs, endpoints, requirements = entries
            view = ManifestView(
                None,
                _from_model(files),
                _from_model(inputs),
                _from_model(outputs),
                _from_model(endpoints),
                requirements,
            )
            return view, []
    model_type, error_type = _model_types()
    if type(manifest) is not dict and isinstance(manifest, model_type):
        # Re-validate: a model built with model_construct() or mutated after parsing
        # may hold anything.
        manifest = manifest.model_dump(warnings=False)
    if type(manifest) is not dict and not isinstance(manifest, Mapping):
        message = f"the manifest must be a JSON object, got {json_type_name(manifest)}"
        return None, [Issue("VX001", message)]
    try:
        model = model_type.model_validate(manifest)
    except error_type as exc:
        issues = issues_from_validation_error(exc)
        return _partial_view(manifest), issues
    view = ManifestView(
        model,
        _from_model(model.files),
        _from_model(model.inputs),
        _from_model(model.outputs),
        _from_model(model.agent_endpoints),
        model.requirements,
    )
    return view, []


def _from_model(items: list[_Item]) -> Entries[_Item]:
    # Every field given, by position: the default factories would be calls of their own.
    return Entries(list(enumerate(items)), True, set(), len(items))


def _partial_view(manifest: Mapping[str, Any]) -> ManifestView:
    from viksa_ai.models.agent import AgentEndpoint, AgentFile, AgentInput, AgentOutput

    return ManifestView(
        None,
        _entries(manifest, "files", AgentFile),
        _entries(manifest, "inputs", AgentInput),
        _entries(manifest, "outputs", AgentOutput),
        _entries(manifest, "agent_endpoints", AgentEndpoint),
        _requirements(manifest.get("requirements", [])),
    )


def _requirements(raw: object) -> list[str] | None:
    if isinstance(raw, list) and all(isinstance(entry, str) for entry in raw):
        return raw
    return None


def _entries(manifest: Mapping[str, Any], key: str, model: type[_Item]) -> Entries[_Item]:
    raw = manifest.get(key, [])
    if not isinstance(raw, list):
        return Entries(complete=False, is_list=False)
    from pydantic import ValidationError

    entries: Entries[_Item] = Entries(size=len(raw))
    for index, item in enumerate(raw):
        try:
            entries.items.append((index, model.model_validate(item)))
        except ValidationError:
            entries.complete = False
            name = item.get("name") if isinstance(item, Mapping) else None
            if isinstance(name, str):
                entries.invalid_names.add(name)
    return entries
