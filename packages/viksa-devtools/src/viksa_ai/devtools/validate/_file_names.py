"""Agent file names: which ones a worker can write inside the agent's working directory.

Shared by the validator (rule VX117), the runner (which writes the files) and, through
the validator, the local platform. Stdlib only: the runner imports it on every load.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from importlib.machinery import EXTENSION_SUFFIXES, all_suffixes
from pathlib import PurePosixPath

__all__ = [
    "RUNTIME_FILE",
    "directory_clashes",
    "file_name_problem",
    "normalized_file_name",
    "runtime_shadowing",
]

RUNTIME_FILE = "ViksaAI.py"
"""The file a worker writes into every agent's directory, after the agent's files: the
runtime that ``from ViksaAI import mcp_endpoint`` imports."""

_RUNTIME_MODULE = RUNTIME_FILE.removesuffix(".py")

# ``C:/x`` or ``C:x`` names a drive on Windows, where the runner may also write files.
_DRIVE = re.compile(r"[A-Za-z]:")
# NAME_MAX of common file systems (ext4, APFS, NTFS in UTF-16 units is more lenient).
_MAX_PART_BYTES = 255


def file_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be written inside the agent's directory, or None when it can.

    A file name is a relative path (``/`` or ``\\`` between parts) that is not empty,
    does not climb out with ``..``, names a file, not a directory, and can be written:
    no NUL, no lone surrogate, no part longer than 255 bytes in UTF-8.
    """
    if not name:
        return "is empty"
    text = name.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        return "is an absolute path"
    if "\0" in text:
        return "holds a NUL character, which no file system accepts"
    parts = text.split("/")
    try:
        longest = max(len(part.encode("utf-8")) for part in parts)
    except UnicodeEncodeError:
        return "holds a lone surrogate, which cannot be written as UTF-8"
    if longest > _MAX_PART_BYTES:
        return f"has a part longer than {_MAX_PART_BYTES} bytes, which file systems refuse"
    if ".." in parts:
        return "climbs out of the agent's directory with '..'"
    if parts[-1] in ("", "."):
        return "names a directory, not a file"
    return None


def normalized_file_name(name: str) -> str:
    """``name`` as a POSIX relative path (``\\`` as ``/``, ``./`` and ``//`` collapsed)."""
    return str(PurePosixPath(name.replace("\\", "/")))


def directory_clashes(names: Sequence[str]) -> Iterator[tuple[int, str, int | None]]:
    """``(index, directory, owner)`` for each file whose path needs a directory that is a
    file: another of ``names`` (``owner`` its index) or the runtime (``owner`` None).

    ``names`` are normalized (see :func:`normalized_file_name`) and writable; ``a`` and
    ``a/b`` cannot both be written.
    """
    files: dict[str, int | None] = {RUNTIME_FILE: None}
    for index, name in enumerate(names):
        files.setdefault(name, index)
    for index, name in enumerate(names):
        parts = name.split("/")
        for end in range(1, len(parts)):
            directory = "/".join(parts[:end])
            if directory in files:
                yield index, directory, files[directory]
                break


def runtime_shadowing(name: str) -> str | None:
    """Why the file ``name`` (normalized) keeps the runtime from being imported, or None.

    ``import ViksaAI`` finds the ``__init__`` of a package ``ViksaAI/``, or an extension
    module ``ViksaAI.so``, before a module file in the same directory: the agent would
    run its own code instead of the :data:`RUNTIME_FILE` the worker writes.
    """
    if name.startswith(f"{_RUNTIME_MODULE}/"):
        if not any(name == f"{_RUNTIME_MODULE}/__init__{end}" for end in all_suffixes()):
            return None
        what = f"makes a package {_RUNTIME_MODULE}/, which"
    elif any(name == f"{_RUNTIME_MODULE}{end}" for end in EXTENSION_SUFFIXES):
        what = "is an extension module, which"
    else:
        return None
    return (
        f"{what} `import {_RUNTIME_MODULE}` loads instead of the runtime {RUNTIME_FILE} "
        "the worker writes: rename it"
    )
