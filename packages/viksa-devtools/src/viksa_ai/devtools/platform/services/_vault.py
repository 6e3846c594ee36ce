"""Vault secrets and the auth methods that bind agent params to them.

An agent document's ``auth_methods`` field maps each method id to its params, and
each param to the vault secret holding its value::

    "auth_methods": {"aviationstack_api": {"api_key": {"secret_id": "sec_..."}}}

A param may also be left unbound (``null``, or the method given as a list of param
names); a method is *enabled* for a run only when all its params resolve. Values live
in their own records, apart from the secret's metadata, so no listing can leak one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from viksa_ai.devtools.platform.services._errors import DomainError, detail_item, forbidden
from viksa_ai.devtools.platform.services._security import verify_password
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = [
    "AUTH_METHODS_FIELD",
    "auth_binding_issues",
    "bindings",
    "resolve_secrets",
    "seal_plain_values",
    "sealed_value",
    "secret_usage",
    "secret_value",
]

AUTH_METHODS_FIELD = "auth_methods"
_METHOD_ID = re.compile(r"[a-z][a-z0-9_]*")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def bindings(auth_methods: Any) -> Iterator[tuple[str, str, str | None]]:
    """Every ``(method_id, param, secret_id or None)`` of a well-formed ``auth_methods``."""
    if not isinstance(auth_methods, Mapping):
        return
    for method, params in auth_methods.items():
        if isinstance(params, list):
            for param in params:
                yield str(method), str(param), None
        elif isinstance(params, Mapping):
            for param, ref in params.items():
                secret = ref.get("secret_id") if isinstance(ref, Mapping) else None
                yield str(method), str(param), None if secret is None else str(secret)


def auth_binding_issues(auth_methods: Any, store: Store, project_id: str) -> list[dict[str, Any]]:
    """422 items for a malformed ``auth_methods`` or one naming secrets not in the project."""
    loc: list[str | int] = ["body", AUTH_METHODS_FIELD]
    if auth_methods is None:
        return []
    if not isinstance(auth_methods, Mapping):
        return [
            detail_item(
                loc,
                'auth_methods must map method ids to params, e.g. {"bearer_token": '
                '{"api_key": {"secret_id": "sec_..."}}}',
                "type_error.auth_methods",
            )
        ]
    issues: list[dict[str, Any]] = []
    for method, params in auth_methods.items():
        if not (isinstance(method, str) and _METHOD_ID.fullmatch(method)):
            issues.append(
                detail_item(
                    [*loc, str(method)],
                    "a method id is lower-case letters, digits and _ ([a-z][a-z0-9_]*)",
                    "value_error.method_id",
                )
            )
            continue
        if isinstance(params, list):
            refs: Mapping[Any, Any] = dict.fromkeys(params)
        elif isinstance(params, Mapping):
            refs = params
        else:
            issues.append(
                detail_item(
                    [*loc, method], "params must be an object or a list of names", "type_error"
                )
            )
            continue
        for param, ref in refs.items():
            where = [*loc, method, str(param)]
            if not (isinstance(param, str) and _PARAM_NAME.fullmatch(param)):
                issues.append(detail_item(where, "a param name is an identifier", "value_error"))
            elif ref is not None and not (
                isinstance(ref, Mapping) and isinstance(ref.get("secret_id"), str)
            ):
                issues.append(
                    detail_item(
                        where,
                        'bind a param as {"secret_id": "<vault secret id>"} or leave it null',
                        "value_error.binding",
                    )
                )
            elif ref is not None and store.scope_of("secret", ref["secret_id"]) != project_id:
                issues.append(
                    detail_item(
                        where,
                        f"vault secret {ref['secret_id']!r} does not exist in this project: "
                        "create it with secrets.create_secret first",
                        "value_error.secret_not_found",
                    )
                )
            elif ref is not None and _protected(store, ref["secret_id"]):
                issues.append(
                    detail_item(
                        where,
                        f"vault secret {ref['secret_id']!r} is protected by a passphrase, which "
                        "a run cannot give: bind a secret without one (every caller that may "
                        "run the agent could read the value through it)",
                        "value_error.secret_protected",
                    )
                )
    return issues


def _protected(store: Store, secret_id: str) -> bool:
    secret = store.get("secret", secret_id)
    return secret is not None and bool(secret.get("has_passphrase"))


def secret_value(
    store: Store,
    secret_id: str,
    passphrase: str | None,
    *,
    hint: str = "pass the right passphrase to read it",
) -> str | None:
    """The value of a vault secret for a caller offering ``passphrase``; None when gone.

    The one way to a value (``get_secret``, runs, and an update that keeps the value
    while it changes the passphrase), so every path applies the same check: a secret
    stored with a passphrase answers 403 (saying ``hint``) without the right one.
    Slow (scrypt) when a passphrase is checked: call it off the event loop.
    """
    stored = store.get("secret_value", secret_id)
    if stored is None:
        return None
    guard = stored.get("passphrase_hash")
    if guard is not None and (passphrase is None or not verify_password(passphrase, guard)):
        raise forbidden(
            f"This secret is protected by a passphrase: {hint}.",
            code="passphrase_required" if passphrase is None else "wrong_passphrase",
        )
    return _opened(store, secret_id, stored["value"])


def _context(secret_id: str) -> str:
    return f"secret_value:{secret_id}"


def _opened(store: Store, secret_id: str, value: str) -> str:
    # Sealed since 0.3.1 (see _at_rest); seal_plain_values sealed older ones at start.
    return store.unseal(value, _context(secret_id))


def sealed_value(store: Store, secret_id: str, value: str) -> str:
    """A vault value as stored: sealed with the key kept outside the data file."""
    return store.seal(value, _context(secret_id))


def seal_plain_values(store: Store) -> int:
    """Seal every vault value of a data file an earlier version wrote; how many.

    Call it in the transaction that marks the file sealed (``SEALED_MARK``).
    """
    sealed = 0
    for stored in store.query("secret_value")[0]:
        stored["value"] = sealed_value(store, stored["id"], str(stored["value"]))
        store.save("secret_value", stored)
        sealed += 1
    return sealed


def resolve_secrets(auth_methods: Any, store: Store) -> dict[str, str]:
    """The ``METHOD.PARAM`` values of an agent's bound params that resolve now.

    A secret deleted since the agent was deployed simply leaves its param unset (the
    worker then does not enable that method), as on the platform. So does one given a
    passphrase since: a run offers none, and the value is read as ``get_secret`` reads it.
    """
    found: dict[str, str] = {}
    for method, param, secret_id in bindings(auth_methods):
        if secret_id is None:
            continue
        try:
            value = secret_value(store, secret_id, None)
        except DomainError:
            continue
        if value is not None:
            found[f"{method}.{param}"] = value
    return found


def secret_usage(store: Store, project_id: str, secret_id: str) -> list[Doc]:
    """The agents of a project whose auth methods use ``secret_id``, one item per param."""
    agents, _ = store.query("agent", scope=project_id)
    return [
        {
            "agent_id": agent["id"],
            "agent_alias": agent["agent_alias"],
            "method_id": method,
            "param": param,
        }
        for agent in agents
        for method, param, bound in bindings(agent.get(AUTH_METHODS_FIELD))
        if bound == secret_id
    ]
