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
    path = _viksa.__file__
    if not path.endswith(".py"):
        raise RuntimeError(
            f"viksa-runtime was installed without its source file (found {path!r}); "
            "reinstall it from the wheel: pip install --force-reinstall viksa-runtime"
        )
    # The loader also reads from zip archives, where open() cannot.
    get_data = getattr(_viksa.__loader__, "get_data", None)
    if get_data is not None:
        data: bytes = get_data(path)
        return data
    with open(path, "rb") as file:
        return file.read()
