"""A small in-memory cache of values derived from stored records.

An entry is used while it is younger than its deadline *and* the store reports no
change to the record kinds it was derived from (:meth:`Store.changes`), so a revoked
key or ended session stops working at once, not when the entry ages out.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

from viksa_ai.devtools.platform.store._store import Kind, Store

__all__ = ["Memo"]

_V = TypeVar("_V")


class Memo(Generic[_V]):
    """Values by key, each valid until a deadline or a change of ``kinds`` in ``store``."""

    def __init__(self, store: Store, kinds: tuple[Kind, ...], *, ttl: float, size: int) -> None:
        self._store = store
        self._kinds = kinds
        self._ttl = ttl
        self._size = size
        self._entries: dict[Hashable, tuple[int, float, _V]] = {}

    def version(self) -> int:
        """The store's change counter of the kinds; read it *before* deriving a value."""
        return self._store.changes(*self._kinds)

    def get(self, key: Hashable) -> _V | None:
        """The value kept for ``key`` if it is still valid, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        version, deadline, value = entry
        if version != self.version() or time.time() >= deadline:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: _V, version: int, *, until: float | None = None) -> None:
        """Keep ``value`` derived at store ``version``, for ``ttl`` seconds or ``until``."""
        if len(self._entries) >= self._size:
            # Simplest bound: start over (entries are cheap to derive again).
            self._entries.clear()
        deadline = time.time() + self._ttl
        self._entries[key] = (version, deadline if until is None else min(deadline, until), value)
