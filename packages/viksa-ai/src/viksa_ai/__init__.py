"""Viksa AI SDK: the agent runtime, the platform HTTP client, models and dev tooling.

This file is the namespace root, shipped by the ``viksa-ai`` meta-package. Each part
of the SDK is its own distribution (``viksa-runtime``, ``viksa-models``,
``viksa-client``, ``viksa-devtools``) that installs one portion of ``viksa_ai``.

The top-level names are imported lazily (PEP 562), so ``import viksa_ai.runtime``
never pays for httpx or pydantic.
"""

from __future__ import annotations

from pkgutil import extend_path

# Every portion may live in its own sys.path entry (an editable workspace puts each
# member's src/ on sys.path): make them all reachable under this package.
__path__ = extend_path(__path__, __name__)

import importlib  # noqa: E402
import os  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from viksa_ai.client import (
        ClientConfig,
        RetryConfig,
        ViksaApiError,
        ViksaAuthenticationError,
        ViksaClient,
        ViksaConflictError,
        ViksaError,
        ViksaNotFoundError,
        ViksaPermissionError,
        ViksaRateLimitError,
        ViksaServerError,
        ViksaSyncClient,
        ViksaTimeoutError,
        ViksaTransportError,
        ViksaValidationError,
    )
    from viksa_ai.runtime import ViksaAuth, ViksaAuthError, context, mcp_endpoint

__version__ = "0.3.0"

# The portions this meta-package depends on: subpackage -> distribution.
_PORTIONS: dict[str, str] = {
    "runtime": "viksa-runtime",
    "models": "viksa-models",
    "client": "viksa-client",
    "devtools": "viksa-devtools",
}

_REPAIR_COMMAND = (
    "pip install --force-reinstall --no-deps "
    f"viksa-ai=={__version__} viksa-runtime=={__version__} viksa-models=={__version__} "
    f"viksa-client=={__version__} viksa-devtools=={__version__}"
)

# Top-level name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "ViksaClient": "viksa_ai.client",
    "ViksaSyncClient": "viksa_ai.client",
    "ClientConfig": "viksa_ai.client",
    "RetryConfig": "viksa_ai.client",
    "ViksaError": "viksa_ai.client",
    "ViksaApiError": "viksa_ai.client",
    "ViksaTransportError": "viksa_ai.client",
    "ViksaTimeoutError": "viksa_ai.client",
    "ViksaAuthenticationError": "viksa_ai.client",
    "ViksaPermissionError": "viksa_ai.client",
    "ViksaNotFoundError": "viksa_ai.client",
    "ViksaConflictError": "viksa_ai.client",
    "ViksaValidationError": "viksa_ai.client",
    "ViksaRateLimitError": "viksa_ai.client",
    "ViksaServerError": "viksa_ai.client",
    "ViksaAuth": "viksa_ai.runtime",
    "ViksaAuthError": "viksa_ai.runtime",
    "mcp_endpoint": "viksa_ai.runtime",
    "context": "viksa_ai.runtime",
}

__all__ = ["__version__", *_EXPORTS]


def _missing_portions() -> list[str]:
    """Subpackages whose files are gone although this meta-package is installed.

    Upgrading with pip from the single-wheel ``viksa-ai`` 0.2.x deletes files that the
    new distributions had just written (pip uninstalls the old wheel after installing
    the new ones that reuse its paths). A few ``stat`` calls find that state.
    """
    return [
        part
        for part in _PORTIONS
        if not any(os.path.isfile(os.path.join(entry, part, "__init__.py")) for entry in __path__)
    ]


def _check_install() -> None:
    missing = _missing_portions()
    if missing:
        names = ", ".join(f"viksa_ai.{part}" for part in missing)
        raise ImportError(
            f"The Viksa AI SDK install is incomplete: {names} is missing. This happens "
            "after upgrading from viksa-ai 0.2.x with pip. Repair it with:\n"
            f"    {_REPAIR_COMMAND}"
        )


_check_install()


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'viksa_ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
