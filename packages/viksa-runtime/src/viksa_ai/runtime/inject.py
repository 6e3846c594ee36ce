"""The text the platform writes as ``ViksaAI.py`` into every agent."""

from viksa_ai.runtime import _viksa

__all__ = ["to_module_source"]

_source: str | None = None


def to_module_source() -> str:
    """Return the exact text of the injected ``ViksaAI.py``.

    It is the source of ``viksa_ai.runtime._viksa``, the one module implementing the
    runtime, byte for byte (decoded as UTF-8; the file is ASCII), so the injected copy
    and this package never drift. Read once, then cached.
    """
    global _source
    if _source is None:
        _source = _read_runtime_source().decode("utf-8")
    return _source


def _read_runtime_source() -> bytes:
    # A frozen or sourceless install may give no __file__, or a .pyc one.
    path: str = getattr(_viksa, "__file__", None) or ""
    if not path.endswith(".py"):
        raise RuntimeError(
            "viksa-runtime was installed without its source file _viksa.py "
            f"(module file: {path or 'none'}); "
            "reinstall it from the wheel: pip install --force-reinstall viksa-runtime"
        )
    # The loader also reads from zip archives, where open() cannot.
    get_data = getattr(getattr(_viksa, "__loader__", None), "get_data", None)
    try:
        if get_data is not None:
            data: bytes = get_data(path)
            return data
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        # Removed or replaced under a running service (an upgrade in place), or unreadable.
        raise RuntimeError(
            f"viksa-runtime's source file cannot be read ({path}: "
            f"{exc.strerror or type(exc).__name__}); reinstall it from the wheel: "
            "pip install --force-reinstall viksa-runtime"
        ) from exc
