"""Reading an agent manifest from disk: a directory with agent.json, or a JSON file.

When the manifest's ``files`` lacks ``main.py`` and a ``main.py`` sits beside the
manifest on disk, that file is added to ``files`` (so a developer can keep the code in
its own file while editing). Every problem is an :class:`AgentSourceError` whose
message names the path and says what to do.
"""

from __future__ import annotations

import json
import math
import re
import stat
import tokenize
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from viksa_ai.devtools.validate._structure import json_type_name, short_repr

__all__ = [
    "MANIFEST_FILE",
    "MAX_FILE_BYTES",
    "AgentSourceError",
    "ManifestSource",
    "read_at_most",
    "read_manifest_source",
]

MANIFEST_FILE = "agent.json"
MAIN_FILE = "main.py"
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest manifest or main.py read from disk."""


class AgentSourceError(Exception):
    """An agent cannot be read from disk: missing, unreadable, not JSON, not an object."""


@dataclass(frozen=True)
class ManifestSource:
    """A manifest read from disk, and where its main.py came from."""

    manifest: dict[str, Any]
    manifest_path: Path
    main_path: Path | None
    """The main.py read from disk (``files`` lacked it), else None."""


def read_at_most(stream: IO[bytes], limit: int) -> bytes | None:
    """Up to ``limit`` bytes of ``stream``, or ``None`` when it holds more.

    Bounded whatever the stream claims: ``/proc`` files report size 0, ``/dev/zero``
    and pipes have none.
    """
    raw = stream.read(limit + 1)
    return None if len(raw) > limit else raw


def read_manifest_source(path: Path) -> ManifestSource:
    """Read the manifest at ``path`` (a directory holding agent.json, or a JSON file).

    Raises :class:`AgentSourceError` for anything that stops it: a missing path, a
    directory without agent.json, a file that cannot be read or is not a regular file
    (a FIFO would block, a device never end), malformed JSON, a manifest that is not an
    object, or a main.py beside it that cannot be decoded.
    """
    manifest_path = _manifest_path(path)
    data = _load_json(manifest_path)
    if not isinstance(data, dict):
        raise AgentSourceError(
            f"{manifest_path}: the manifest must be a JSON object "
            f"(AgentGenerationResponse), not {json_type_name(data)}"
        )
    files = data.get("files", [])
    beside = manifest_path.parent / MAIN_FILE
    if isinstance(files, list) and not _has_main(files) and _is_file(beside):
        content = _read_python(beside)
        data = {
            **data,
            "files": [*files, {"name": MAIN_FILE, "content": content, "mime_type": "python"}],
        }
        return ManifestSource(data, manifest_path, beside)
    return ManifestSource(data, manifest_path, None)


def _manifest_path(path: Path) -> Path:
    try:
        if path.is_dir():
            manifest_path = path / MANIFEST_FILE
            if not manifest_path.exists():
                raise AgentSourceError(
                    f"{path}: no {MANIFEST_FILE} in this directory: pass an agent directory "
                    "or the path of its JSON manifest"
                )
            return manifest_path
        if path.exists():
            if path.suffix == ".py":
                # The usual slip: the agent's code given where its manifest is read.
                raise AgentSourceError(
                    f"{path}: this is Python code, not the agent's manifest: pass the "
                    f"agent's directory ({path.parent}) or its {MANIFEST_FILE}"
                )
            return path
    except OSError as exc:  # a name too long, a directory that may not be searched...
        raise AgentSourceError(f"{path}: cannot read it ({_reason(exc)})") from None
    raise AgentSourceError(f"{path}: no such file or directory")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False  # as if absent: the manifest beside it was readable


def _has_main(files: list[Any]) -> bool:
    return any(isinstance(item, dict) and item.get("name") == MAIN_FILE for item in files)


def _read_bytes(path: Path) -> bytes:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise AgentSourceError(
                f"{path}: not a regular file: pass an agent directory or its JSON manifest"
            )
        with path.open("rb") as stream:
            raw = read_at_most(stream, MAX_FILE_BYTES)
    except OSError as exc:
        raise AgentSourceError(f"{path}: cannot read it ({_reason(exc)})") from None
    if raw is None:
        raise AgentSourceError(
            f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: is this the right file?"
        )
    return raw


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _load_json(path: Path) -> Any:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AgentSourceError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8"
        ) from None
    try:
        value = json.loads(text, parse_constant=_not_json_constant, parse_float=_finite_float)
    except _NotStrictJsonError as exc:
        raise AgentSourceError(f"{path}: not valid JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise AgentSourceError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise AgentSourceError(f"{path}: JSON nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise AgentSourceError(f"{path}: cannot read the JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(text) and not _is_unicode(value):
        raise AgentSourceError(
            f"{path}: holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not "
            "Unicode text and which the platform refuses: remove it or escape a whole pair"
        )
    return value


# Python's json reads what JSON (and the platform, which refuses it with 422) does not:
# NaN and Infinity, 1e999 (read as infinity) and lone surrogate escapes ("\ud800").
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _NotStrictJsonError(ValueError):
    pass


def _not_json_constant(name: str) -> float:
    raise _NotStrictJsonError(
        f"{name} is not a JSON number (Python writes it for a float that is not finite), "
        "and the platform refuses it: use a finite number or null"
    )


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotStrictJsonError(
            f"{short_repr(token, 20)} is too large for a number the platform accepts: "
            "use a smaller one"
        )
    return value


def _is_unicode(value: Any) -> bool:
    """Whether every string of the JSON ``value`` (keys too) can be encoded as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_python(path: Path) -> str:
    raw = _read_bytes(path)
    try:
        # Honour a BOM or a coding cookie, as CPython does when it imports the file.
        encoding, _ = tokenize.detect_encoding(BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise AgentSourceError(f"{path}: cannot decode it: {exc}; save it as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text
