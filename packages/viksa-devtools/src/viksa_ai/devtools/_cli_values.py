"""What the commands read from their flags: JSON objects, files of inputs, secrets.

Each failure is a :class:`CommandError` with exit code 2 (a usage error) whose message
names the flag, so ``viksa run``, ``viksa call`` and ``viksa deploy`` word them alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from viksa_ai.devtools._cli_common import CommandError

__all__ = [
    "MAX_INPUT_FILE_BYTES",
    "collect_secrets",
    "json_object",
    "read_text_file",
    "typed_value",
]

MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024
"""Largest --payload-file or --secrets-file read (a bigger one is a usage error)."""


def json_object(text: str, option: str) -> dict[str, Any]:
    """``text`` (the value of ``option``) as a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{option} is not valid JSON: {exc}", 2) from None
    except RecursionError:
        raise CommandError(f"{option}: the JSON is nested too deeply", 2) from None
    if not isinstance(value, dict):
        raise CommandError(f"{option} must be a JSON object, got {type(value).__name__}", 2)
    return value


def read_text_file(path: str, option: str) -> str:
    """The UTF-8 text of ``path`` (``-``: stdin), at most ``MAX_INPUT_FILE_BYTES``."""
    from viksa_ai.devtools.validate._agent_source import read_at_most

    try:
        if path == "-":
            binary = getattr(sys.stdin, "buffer", None)  # a replaced stdin may be text only
            if binary is None:
                text = sys.stdin.read(MAX_INPUT_FILE_BYTES + 1)
                raw = text.encode() if len(text) <= MAX_INPUT_FILE_BYTES else None
            else:
                raw = read_at_most(binary, MAX_INPUT_FILE_BYTES)
        else:
            with Path(path).open("rb") as stream:
                raw = read_at_most(stream, MAX_INPUT_FILE_BYTES)
    except OSError as exc:
        raise CommandError(f"{option}: cannot read {path}: {exc.strerror or exc}", 2) from None
    if raw is None:
        raise CommandError(
            f"{option}: {path} holds more than {MAX_INPUT_FILE_BYTES // (1024 * 1024)} MiB: "
            "is this the right file?",
            2,
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{option}: {path} is not UTF-8 text", 2) from None


def collect_secrets(args: argparse.Namespace) -> dict[str, str]:
    """The auth params of ``--secrets-file`` then each ``--secret`` (later ones win)."""
    from viksa_ai.devtools.runner._auth import (
        SecretsError,
        parse_secret_assignment,
        parse_secrets_text,
    )

    secrets: dict[str, str] = {}
    try:
        if args.secrets_file:
            text = read_text_file(args.secrets_file, "--secrets-file")
            try:
                secrets.update(parse_secrets_text(text))
            except SecretsError as exc:
                raise CommandError(f"--secrets-file {args.secrets_file}: {exc}", 2) from None
        for item in args.secrets:
            name, value = parse_secret_assignment(item)
            secrets[name] = value
    except SecretsError as exc:
        raise CommandError(f"--secret: {exc}", 2) from None
    return secrets


def typed_value(
    text: str, declared: Mapping[str, str | None], *, flag: str = "-i"
) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE taken as the declared type of input KEY (``typed_input``).

    ``flag`` is how the command's user wrote the option, for the message.
    """
    from viksa_ai.devtools._cli_inputs import InputError, typed_input

    try:
        return typed_input(text, declared)
    except InputError as exc:
        raise CommandError(str(exc).replace("-i ", f"{flag} ", 1), 2) from None
