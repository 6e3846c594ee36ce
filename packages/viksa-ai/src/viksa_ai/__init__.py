"""Viksa AI SDK: the agent runtime, the platform HTTP client, the models and dev tooling.

This file is the namespace root, shipped by the ``viksa-ai`` meta-package. Each part
of the SDK is its own distribution (``viksa-runtime``, ``viksa-models``,
``viksa-client``, ``viksa-devtools``, and ``viksa-mcp`` with the ``[mcp]`` extra)
installing one portion of ``viksa_ai``.

The top-level names (``from viksa_ai import ViksaClient``) are imported lazily
(PEP 562), so ``import viksa_ai.runtime`` never pays for httpx or pydantic. Importing
this module imports no other module: workers that have the whole SDK installed start
as fast as those with ``viksa-runtime`` alone.
"""

# Only modules the interpreter has already loaded at startup are imported here;
# `typing`, `pkgutil` and `importlib.util` would cost more than the interpreter's own
# start. Type checkers treat any name spelled TYPE_CHECKING as true.
import os as _os
import sys as _sys

TYPE_CHECKING = False

if TYPE_CHECKING:
    from viksa_ai.client import (
        ClientConfig,
        ErrorDetail,
        RetryConfig,
        ViksaApiError,
        ViksaAuthenticationError,
        ViksaClient,
        ViksaConfigError,
        ViksaConflictError,
        ViksaDecodeError,
        ViksaError,
        ViksaNotFoundError,
        ViksaPermissionError,
        ViksaRateLimitError,
        ViksaServerError,
        ViksaSyncClient,
        ViksaTimeoutError,
        ViksaTransportError,
        ViksaValidationError,
        WebhookClient,
    )
    from viksa_ai.runtime import (
        A2A_PAYLOAD_KEY,
        A2AContext,
        ViksaAuth,
        ViksaAuthError,
        ViksaEndpointWarning,
        attach_envelope,
        context,
        mcp_endpoint,
    )


def _extend_path(path: list[str], name: str) -> list[str]:
    """Return ``path`` plus the ``name`` directory of every ``sys.path`` entry.

    The same result as ``pkgutil.extend_path`` for directory entries (the only kind it
    extends), without importing pkgutil. An editable workspace puts each member's
    ``src/`` on ``sys.path`` as its own entry; without this, the first regular
    ``viksa_ai`` package found would hide every other portion (uv issue 6575).
    """
    extended = list(path)
    # sys.path may hold other objects than str: importers skip them, so do we.
    entries: list[object] = [*_sys.path]
    for entry in entries:
        # pkgutil skips "" too (os.path.isdir("") is false); one stat per other entry.
        if not isinstance(entry, str) or not entry:
            continue
        if not _os.path.isabs(entry):
            entry = _os.path.join(_os.getcwd(), entry)
        portion = _os.path.join(entry, name)
        if portion not in extended and _os.path.isdir(portion):
            extended.append(portion)
    return extended


__path__ = _extend_path(__path__, __name__)

__version__ = "0.3.0"

__all__ = [
    "A2A_PAYLOAD_KEY",
    "A2AContext",
    "ClientConfig",
    "ErrorDetail",
    "RetryConfig",
    "ViksaApiError",
    "ViksaAuth",
    "ViksaAuthError",
    "ViksaAuthenticationError",
    "ViksaClient",
    "ViksaConfigError",
    "ViksaConflictError",
    "ViksaDecodeError",
    "ViksaEndpointWarning",
    "ViksaError",
    "ViksaNotFoundError",
    "ViksaPermissionError",
    "ViksaRateLimitError",
    "ViksaServerError",
    "ViksaSyncClient",
    "ViksaTimeoutError",
    "ViksaTransportError",
    "ViksaValidationError",
    "WebhookClient",
    "__version__",
    "attach_envelope",
    "context",
    "mcp_endpoint",
]

# Top-level name -> the module that defines it (read by __getattr__).
_EXPORTS: dict[str, str] = {
    "ClientConfig": "viksa_ai.client",
    "ErrorDetail": "viksa_ai.client",
    "RetryConfig": "viksa_ai.client",
    "ViksaApiError": "viksa_ai.client",
    "ViksaAuthenticationError": "viksa_ai.client",
    "ViksaClient": "viksa_ai.client",
    "ViksaConfigError": "viksa_ai.client",
    "ViksaConflictError": "viksa_ai.client",
    "ViksaDecodeError": "viksa_ai.client",
    "ViksaError": "viksa_ai.client",
    "ViksaNotFoundError": "viksa_ai.client",
    "ViksaPermissionError": "viksa_ai.client",
    "ViksaRateLimitError": "viksa_ai.client",
    "ViksaServerError": "viksa_ai.client",
    "ViksaSyncClient": "viksa_ai.client",
    "ViksaTimeoutError": "viksa_ai.client",
    "ViksaTransportError": "viksa_ai.client",
    "ViksaValidationError": "viksa_ai.client",
    "WebhookClient": "viksa_ai.client",
    "A2A_PAYLOAD_KEY": "viksa_ai.runtime",
    "A2AContext": "viksa_ai.runtime",
    "ViksaAuth": "viksa_ai.runtime",
    "ViksaAuthError": "viksa_ai.runtime",
    "ViksaEndpointWarning": "viksa_ai.runtime",
    "attach_envelope": "viksa_ai.runtime",
    "context": "viksa_ai.runtime",
    "mcp_endpoint": "viksa_ai.runtime",
}

# Subpackage -> the distribution that ships it; the first four are this package's
# dependencies, mcp_bridge comes with its [mcp] extra.
_PORTIONS: dict[str, str] = {
    "runtime": "viksa-runtime",
    "models": "viksa-models",
    "client": "viksa-client",
    "devtools": "viksa-devtools",
    "mcp_bridge": "viksa-mcp",
}
# Optional subpackage -> the command that installs it.
_EXTRAS: dict[str, str] = {"mcp_bridge": 'pip install "viksa-ai[mcp]"'}

# Repairs an install half-removed by a pip upgrade from viksa-ai 0.2.x (see _check_install).
_REPAIR_COMMAND = f"pip install --force-reinstall --no-deps viksa-ai=={__version__} " + " ".join(
    f"{dist}=={__version__}" for part, dist in _PORTIONS.items() if part not in _EXTRAS
)


def _half_removed_portions(path: list[str], site_dir: str, version: str) -> list[str]:
    """Subpackages installed as distributions whose files are gone.

    A pip upgrade from the single-wheel ``viksa-ai`` 0.2.x installs the new
    distributions, then uninstalls the old wheel, deleting every path it listed, among
    them the new ``viksa_ai/<part>/__init__.py`` files (pip issue 8509). Such a part has
    its ``.dist-info`` beside this package but no ``__init__.py`` on ``path``. A part
    that is simply not installed is left alone. One ``stat`` per part in the common case.
    """
    return [
        part
        for part, dist in _PORTIONS.items()
        if not any(_os.path.isfile(_os.path.join(entry, part, "__init__.py")) for entry in path)
        and _os.path.isdir(_os.path.join(site_dir, f"{dist.replace('-', '_')}-{version}.dist-info"))
    ]


def _check_install() -> None:
    """Raise ImportError naming the repair command if a pip upgrade half-removed the SDK."""
    broken = _half_removed_portions(
        __path__, _os.path.dirname(_os.path.dirname(__file__)), __version__
    )
    if broken:
        modules = ", ".join(f"viksa_ai.{part}" for part in broken)
        # An optional part that lost its files is reinstalled too (0.2.7 shipped mcp_bridge).
        command = " ".join(
            [_REPAIR_COMMAND, *(f"{_PORTIONS[p]}=={__version__}" for p in broken if p in _EXTRAS)]
        )
        raise ImportError(
            f"The Viksa AI SDK install is broken: the files of {modules} are missing, "
            "although installed. This happens when pip upgrades viksa-ai 0.2.x to the "
            f"split distributions (pip issue 8509). Repair it with:\n    {command}",
            name=__name__,
        )


_check_install()


class _MissingExtraFinder:
    """Consulted last on ``sys.meta_path``: an optional part that no finder found is not
    installed, and its import fails naming the command that installs it."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> None:
        part = fullname[len(__name__) + 1 :] if fullname.startswith(__name__ + ".") else ""
        if part in _EXTRAS:
            raise ModuleNotFoundError(
                f"{fullname} comes from the {_PORTIONS[part]} distribution, which is not "
                f"installed: {_EXTRAS[part]}",
                name=fullname,
            )


if not any(getattr(finder, "__name__", "") == "_MissingExtraFinder" for finder in _sys.meta_path):
    _sys.meta_path.append(_MissingExtraFinder)

# Hidden from type checkers: they see the imports above, so a misspelt name is an error.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Import a top-level name from its subpackage on first use (PEP 562)."""
        if name in _EXTRAS:
            # `from viksa_ai import mcp_bridge` asks here first: import it, or raise the
            # finder's error naming the install (hasattr would hide an AttributeError).
            __import__(f"{__name__}.{name}")
            return _sys.modules[f"{__name__}.{name}"]
        module_name = _EXPORTS.get(name)
        if module_name is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}", name=name)
        try:
            __import__(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise  # the portion is there; something it imports is not
            dist = _PORTIONS[module_name.rpartition(".")[2]]
            raise ModuleNotFoundError(
                f"viksa_ai.{name} comes from the {dist} distribution, which is not installed: "
                f"pip install {dist}=={__version__}",
                name=module_name,
            ) from None
        value = getattr(_sys.modules[module_name], name)
        globals()[name] = value  # later lookups skip __getattr__
        return value


def __dir__() -> list[str]:
    """The module's names, the lazy exports included."""
    return sorted({*globals(), *__all__})
