"""The agent manifest family: the body of ``agent.json`` and of the builder's agent routes.

Every model here is open (unknown fields are kept and sent back), because a manifest is
a document that travels both ways between the platform and its users.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from viksa_ai.models._base import OpenModel
from viksa_ai.models._enums import AgentType, EndpointStatus, InputType, MimeType

__all__ = [
    "READ_AS_ANSWERED",
    "AgentCreationRequest",
    "AgentEndpoint",
    "AgentFile",
    "AgentFileType",
    "AgentGenerationResponse",
    "AgentInput",
    "AgentOutput",
    "AgentQueue",
    "AgentType",
    "AgentUpdateRequest",
    "BaseAgentData",
    "ChronaQueue",
    "EndpointInputRef",
    "EndpointStatus",
    "ExecutionConfig",
    "InputType",
    "MimeType",
]

_MAIN_FILE = "main.py"

READ_AS_ANSWERED: Mapping[str, bool] = MappingProxyType({"viksa_read_as_answered": True})
"""Validation context that reads a manifest as the platform answered it.

``AgentGenerationResponse.model_validate(data, context=READ_AS_ANSWERED)`` checks the
field types but not the manifest rules (``main.py``, a secure agent's queue): a
generated draft may break them, and ``validate_agent_manifest`` reports what it breaks.
"""


def _as_answered(info: ValidationInfo) -> bool:
    context = info.context
    # `is not None` first: isinstance against the Mapping ABC costs a Python-level call,
    # and nearly every validation has no context.
    return (
        context is not None
        and isinstance(context, Mapping)
        and context.get("viksa_read_as_answered") is True
    )


_AgentName = Annotated[str, Field(min_length=1, max_length=256)]
_AgentDescription = Annotated[str, Field(min_length=1)]
# A NaN bound compares False with everything, so it would silently disable the check;
# Python's json reads NaN and Infinity, so the model must refuse them itself.
_Number = int | Annotated[float, Field(allow_inf_nan=False)]


class AgentFile(OpenModel):
    """One file of an agent: its ``name``, text ``content`` and ``mime_type``."""

    name: str
    content: str
    mime_type: MimeType


class AgentInput(OpenModel):
    """An input the agent accepts, with the constraints a caller's value must meet.

    ``type`` is parsed case-insensitively. ``min_value``/``max_value`` bound numbers
    (finite ones: NaN and infinities are refused),
    ``min_length``/``max_length`` bound strings and lists, ``pattern`` is a regular
    expression for strings, ``allowed_values`` lists the only values accepted.
    """

    name: str
    type: InputType
    description: str | None = None
    default: Any = None
    allowed_values: list[Any] | None = None
    min_value: _Number | None = None
    max_value: _Number | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None


class AgentOutput(OpenModel):
    """An output the agent produces; ``type`` is parsed case-insensitively."""

    name: str
    type: InputType
    description: str | None = None
    nullable: bool = False
    example: Any = None
    format: str | None = None


class EndpointInputRef(OpenModel):
    """A reference from an endpoint to one of the agent's inputs, by name."""

    input_ref: str
    required: bool = True


class ExecutionConfig(OpenModel):
    """How the platform runs an endpoint.

    ``retry_count`` is 0..10 (default 3); ``timeout_seconds`` is 1..36000 (default 30).
    """

    requires_approval: bool = False
    retry_count: int = Field(default=3, ge=0, le=10)
    timeout_seconds: int = Field(default=30, ge=1, le=36000)


class AgentEndpoint(OpenModel):
    """A callable endpoint of the agent.

    ``module`` is the Python module holding the function (usually ``"main"``);
    ``endpoint`` is the full path ``alias.module.function`` (empty until the platform
    fills it in); ``inputs`` refer to agent inputs and ``outputs`` name agent outputs.
    """

    name: str
    module: str
    endpoint: str = ""
    description: str
    status: EndpointStatus = EndpointStatus.ENABLED
    inputs: list[EndpointInputRef] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    execution_config: ExecutionConfig | None = None


class ChronaQueue(OpenModel):
    """The task queues a secure agent's workers listen on."""

    chrona_queues: list[str] = Field(default_factory=list)


#: Name of :class:`MimeType` in viksa-ai 0.2.x.
AgentFileType = MimeType
#: Name of :class:`ChronaQueue` in viksa-ai 0.2.x.
AgentQueue = ChronaQueue


class BaseAgentData(OpenModel):
    """The fields of an agent manifest, without :class:`AgentGenerationResponse`'s rules.

    The 0.2.x base of ``AgentGenerationResponse``: use it to read or build a manifest
    that may not be complete yet (no ``main.py``, a secure agent without its queue).
    """

    agent_name: _AgentName
    agent_description: _AgentDescription
    agent_type: AgentType | None = None
    chrona_queue: ChronaQueue | None = None
    files: list[AgentFile] = Field(default_factory=list)
    requirements: list[str] = Field(default_factory=list)
    inputs: list[AgentInput] = Field(default_factory=list)
    outputs: list[AgentOutput] = Field(default_factory=list)
    agent_endpoints: list[AgentEndpoint] = Field(default_factory=list)


class AgentGenerationResponse(BaseAgentData):
    """The agent manifest: what ``chat.generate_agent`` answers and ``agent.json`` holds.

    Rules checked here (the devtools validator checks many more): ``files`` holds
    ``main.py`` with mime_type ``python``, and a ``secure`` agent names at least one
    queue in ``chrona_queue.chrona_queues``. Validating with
    ``context=READ_AS_ANSWERED`` skips both rules (field types are still checked): that
    is how the client reads a generated draft, which may break them.
    """

    # Redeclared (they keep their place) to be validated even when absent, so that a
    # missing main.py or a secure agent without a queue is reported.
    chrona_queue: ChronaQueue | None = Field(default=None, validate_default=True)
    files: list[AgentFile] = Field(default_factory=list, validate_default=True)

    @field_validator("chrona_queue")
    @classmethod
    def _secure_agent_has_queue(
        cls, value: ChronaQueue | None, info: ValidationInfo
    ) -> ChronaQueue | None:
        # agent_type is declared first, so it is in info.data once it validated. Tested
        # before the context: it settles nearly every manifest (these validators run on
        # every validation, so their cost shows on small agents).
        if info.data.get("agent_type") is not AgentType.SECURE or _as_answered(info):
            return value
        if value is None or not any(name.strip() for name in value.chrona_queues):
            raise PydanticCustomError(
                "secure_agent_without_queue",
                "a secure agent needs at least one queue: set chrona_queue to "
                '{"chrona_queues": ["<queue name>"]}, or set agent_type to "cloud"',
            )
        return value

    @field_validator("files")
    @classmethod
    def _has_python_main(cls, files: list[AgentFile], info: ValidationInfo) -> list[AgentFile]:
        if _as_answered(info):
            return files
        for file in files:  # a plain loop: the valid case, without building a list
            if file.name == _MAIN_FILE and file.mime_type is MimeType.PYTHON:
                return files
        mains = [file for file in files if file.name == _MAIN_FILE]
        if mains:
            raise PydanticCustomError(
                "main_py_not_python",
                'main.py has mime_type "{mime_type}": set its mime_type to "python"',
                {"mime_type": mains[0].mime_type.value},
            )
        raise PydanticCustomError(
            "main_py_missing",
            'files must include "main.py" with mime_type "python": add the module that '
            "defines the agent's endpoints",
        )


class AgentCreationRequest(OpenModel):
    """The body of ``builder.agents.create``: a manifest plus the agent's unique alias.

    Unknown fields (for example ``chrona_queue`` copied from a generated manifest) are
    kept and sent.
    """

    agent_name: _AgentName
    agent_alias: str
    agent_description: _AgentDescription
    agent_type: AgentType = AgentType.CLOUD
    files: list[AgentFile] = Field(default_factory=list)
    requirements: list[str] = Field(default_factory=list)
    inputs: list[AgentInput] = Field(default_factory=list)
    outputs: list[AgentOutput] = Field(default_factory=list)
    agent_endpoints: list[AgentEndpoint] = Field(default_factory=list)


class AgentUpdateRequest(OpenModel):
    """The body of ``builder.agents.update``: every field optional, extras kept.

    :meth:`to_wire` sends only the top-level fields that were set (an explicit ``None``
    included), so an update never resets what it does not mention; nested objects are
    sent whole, defaults included.
    """

    agent_name: _AgentName | None = None
    agent_alias: str | None = None
    agent_description: _AgentDescription | None = None
    agent_type: AgentType | None = None
    chrona_queue: ChronaQueue | None = None
    files: list[AgentFile] | None = None
    requirements: list[str] | None = None
    inputs: list[AgentInput] | None = None
    outputs: list[AgentOutput] | None = None
    agent_endpoints: list[AgentEndpoint] | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready dict of the top-level fields that were set, extras included."""
        if not self.model_fields_set:
            return {}  # an empty include set would mean "everything" to pydantic
        return self.model_dump(mode="json", include=set(self.model_fields_set))
