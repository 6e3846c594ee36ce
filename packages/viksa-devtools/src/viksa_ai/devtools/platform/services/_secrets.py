"""The project's vault: secrets by name, their values kept apart and never listed.

A secret's public record (``secret``) holds its name, description and version; its
value and passphrase digest live in a ``secret_value`` record of the same id, read
only through :func:`~viksa_ai.devtools.platform.services._vault.secret_value`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import hash_password, new_id
from viksa_ai.devtools.platform.services._sign_in_throttle import SignInThrottle
from viksa_ai.devtools.platform.services._vault import sealed_value, secret_usage, secret_value
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Store

__all__ = ["Secrets"]


def _text(body: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (field == "name" and not value.strip()):
        kind = "missing" if value is None else "string_type"
        raise unprocessable([detail_item(["body", field], f"{field} must be a string", kind)])
    return value


_CURRENT_NEEDED = (
    "changing or removing its passphrase while its value stays needs the current one: send "
    "current_passphrase (or a new value with the new passphrase)"
)


def _name_taken(name: str) -> Exception:
    return conflict(
        f"A secret named {name!r} already exists in this project.",
        code="secret_name_taken",
        field="name",
    )


class Secrets:
    """The ``secret`` and ``secret_value`` records of each project."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Passphrase guesses, counted per secret and per account (replaceable in tests).
        self.throttle = SignInThrottle(
            noun="passphrase", subject="this secret", source="this account"
        )

    def _owned(self, caller: Caller, secret_id: str) -> Doc:
        return owned_record(self.store, "secret", "Secret", secret_id, caller)

    def count(self, project_id: str) -> int:
        """How many secrets a project holds."""
        return self.store.query("secret", scope=project_id, limit=0)[1]

    def create(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Store a secret; the answer (like every later one but :meth:`read`) has no value."""
        name = _text(body, "name", required=True)
        value = _text(body, "value", required=True)
        passphrase = _text(body, "passphrase", required=False)
        now = now_iso()
        secret = {
            "id": new_id("sec"),
            "name": name,
            "description": _text(body, "description", required=False),
            "version": 1,
            "has_passphrase": passphrase is not None,
            "created_at": now,
            "updated_at": now,
        }
        guard = None if passphrase is None else hash_password(passphrase)
        try:
            with self.store.transaction():
                self.store.insert("secret", secret, scope=caller.project_id, key=name)
                self.store.insert(
                    "secret_value",
                    {
                        "id": secret["id"],
                        "value": sealed_value(self.store, str(secret["id"]), str(value)),
                        "passphrase_hash": guard,
                    },
                    scope=caller.project_id,
                )
        except KeyTakenError as exc:
            raise _name_taken(str(name)) from exc
        return secret

    def page(
        self, project_id: str, search: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of a project's secrets (never their values), optionally matching."""
        return self.store.query(
            "secret",
            scope=project_id,
            search=search,
            search_fields=("name", "description"),
            skip=skip,
            limit=limit,
        )

    def read(self, caller: Caller, secret_id: str, passphrase: str | None) -> Doc:
        """A secret with its value (the passphrase checked): slow by design (scrypt)."""
        secret = self._owned(caller, secret_id)
        with self._guessing(caller, secret_id, passphrase):
            value = secret_value(self.store, secret_id, passphrase)
        assert value is not None
        return {**secret, "value": value}

    def _guessing(
        self, caller: Caller, secret_id: str, passphrase: str | None
    ) -> AbstractContextManager[None]:
        """A passphrase offered for ``secret_id``, counted against it and the caller.

        Past a few wrong ones, the next waits (429): a project member could otherwise
        try passphrases as fast as scrypt allows. No passphrase is no guess.
        """
        if passphrase is None:
            return nullcontext()
        return self.throttle.attempt(secret_id, caller.account_id)

    def update(self, caller: Caller, secret_id: str, body: dict[str, Any]) -> Doc:
        """Change a secret's value, name, passphrase or description; a new value bumps its
        version. A protected secret's passphrase changes with a new value, or with the
        current passphrase (``current_passphrase``). Slow (scrypt): call it off the loop."""
        self._owned(caller, secret_id)
        value = str(_text(body, "value", required=True)) if "value" in body else None
        name = _text(body, "name", required=True) if "name" in body else None
        description = _text(body, "description", required=False)
        # The slow parts (scrypt) come first, outside the write: requests served meanwhile
        # change the records, so they are read again, and written, in one transaction.
        checked: str | None = None  # the passphrase digest the current one was checked on
        guard: str | None = None
        if "passphrase" in body:
            phrase = _text(body, "passphrase", required=False)
            if value is None:
                # The value stays: removing or replacing its passphrase would hand it to
                # whoever asks next, so that takes the current one.
                current = _text(body, "current_passphrase", required=False)
                checked = self._guard(secret_id)
                with self._guessing(caller, secret_id, current):
                    secret_value(self.store, secret_id, current, hint=_CURRENT_NEEDED)
            guard = None if phrase is None else hash_password(phrase)
        try:
            with self.store.transaction():
                secret = self._owned(caller, secret_id)
                stored = self.store.get("secret_value", secret_id)
                assert stored is not None
                if "passphrase" in body and value is None and stored["passphrase_hash"] != checked:
                    raise conflict(
                        f"The passphrase of secret {secret_id!r} changed while this request "
                        "ran: send the current one again.",
                        code="secret_changed",
                    )
                if value is not None:
                    stored["value"] = sealed_value(self.store, secret_id, value)
                    secret["version"] += 1
                if "passphrase" in body:
                    stored["passphrase_hash"] = guard
                    secret["has_passphrase"] = guard is not None
                if "description" in body:
                    secret["description"] = description
                secret["name"] = secret["name"] if name is None else name
                secret["updated_at"] = now_iso()
                self.store.rekey("secret", secret_id, secret["name"])
                self.store.save("secret", secret)
                self.store.save("secret_value", stored)
        except KeyTakenError as exc:
            raise _name_taken(str(name)) from exc
        return secret

    def _guard(self, secret_id: str) -> str | None:
        stored = self.store.get("secret_value", secret_id)
        return None if stored is None else stored.get("passphrase_hash")

    def usage(self, caller: Caller, secret_id: str) -> list[Doc]:
        """The agents of the caller's project whose auth params use a secret."""
        self._owned(caller, secret_id)
        return secret_usage(self.store, caller.project_id, secret_id)

    def delete(self, caller: Caller, secret_id: str, *, force: bool) -> list[Doc]:
        """Delete a secret; 409 while agents use it unless ``force``. Who used it."""
        usage = self.usage(caller, secret_id)
        if usage and not force:
            aliases = sorted({u["agent_alias"] for u in usage})
            raise conflict(
                f"Secret {secret_id!r} is used by agent(s) {', '.join(aliases)}: unbind it "
                "first, or delete with force=true (their auth methods will no longer be "
                "enabled).",
                code="secret_in_use",
            )
        with self.store.transaction():
            self.store.delete("secret_value", secret_id)
            self.store.delete("secret", secret_id)
        return usage
