"""Secrets at rest: the data file alone does not give away the signing key or vault values.

They are sealed with AES-256-GCM (the ``cryptography`` package) under a key kept
outside the SQLite file, in a key file beside it (``platform.db.key``, mode ``0600``;
the data directory ``viksa dev`` creates is ``0700``). Each sealed value is bound to
what it is (``signing_key``, ``secret_value:sec_...``), so one cannot be swapped for
another.

Threat model, honestly: this makes the data file on its own useless (a copy, a backup,
a bug report, a tool that can read that one path). Code running as the same OS user
that can read the directory reads the key file too; against that, agents run in a
sandbox that does not see the data directory (``viksa dev``'s runner) and the files
are readable by their owner only. An in-memory platform keeps its key in memory.

Data files of earlier versions stored both in plain text: :func:`migrate` seals them on
the first start, and SQLite's ``secure_delete`` overwrites the plain text it frees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SEALED_PREFIX", "KeyFileError", "Sealer", "key_path_of"]

SEALED_PREFIX = "aesgcm1:"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class KeyFileError(Exception):
    """The key file is missing, unreadable or not the one the data file was sealed with."""


def key_path_of(data_path: Path) -> Path:
    """Where the key of ``data_path`` lives: ``<data file>.key`` beside it."""
    return data_path.with_name(data_path.name + ".key")


class Sealer:
    """Seals and opens short texts with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        # A key of its own for digests, derived: the AES key is never used twice.
        self._mac_key = hmac.new(key, b"viksa-dev digest", hashlib.sha256).digest()

    @classmethod
    def in_memory(cls) -> Sealer:
        """A sealer with a fresh key that lives only in this process."""
        return cls(AESGCM.generate_key(bit_length=_KEY_BYTES * 8))

    @classmethod
    def for_file(cls, key_path: Path, *, create: bool) -> Sealer:
        """The sealer of a key file; with ``create``, a missing file is made (``0600``)."""
        try:
            raw = key_path.read_bytes()
        except FileNotFoundError:
            if not create:
                raise KeyFileError(
                    f"the key file {key_path} is missing: the vault values and signing key "
                    "in the data file cannot be read without it (restore it, or start clean "
                    "with --reset)"
                ) from None
            raw = base64.b64encode(AESGCM.generate_key(bit_length=_KEY_BYTES * 8)) + b"\n"
            # O_EXCL: two platforms starting on one file never write two keys.
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
        except OSError as exc:
            raise KeyFileError(f"cannot read the key file {key_path}: {exc.strerror}") from exc
        key_path.chmod(0o600)
        try:
            key = base64.b64decode(raw.strip(), validate=True)
        except ValueError:
            key = b""
        if len(key) != _KEY_BYTES:
            raise KeyFileError(f"the key file {key_path} does not hold a 256-bit key")
        return cls(key)

    def seal(self, text: str, context: str) -> str:
        """``text`` encrypted and bound to ``context``, as printable text."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), context.encode("utf-8"))
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def digest(self, data: bytes, context: str) -> str:
        """A keyed digest of ``data`` for ``context`` (HMAC-SHA-256, hex).

        For what must be compared but may hold secrets (a request body with a vault
        value): an unkeyed hash in the data file would let a low-entropy secret be
        guessed offline.
        """
        message = context.encode("utf-8") + b"\x00" + data
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()

    def open(self, token: str, context: str) -> str:
        """The text :meth:`seal` sealed for ``context``; KeyFileError if the key differs."""
        if not token.startswith(SEALED_PREFIX):
            raise KeyFileError("the value is not sealed")
        raw = base64.b64decode(token[len(SEALED_PREFIX) :])
        try:
            plain = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode("utf-8")
            )
        except InvalidTag:
            raise KeyFileError(
                "a sealed value does not open with this key file: the data file was sealed "
                "with another key"
            ) from None
        return plain.decode("utf-8")
