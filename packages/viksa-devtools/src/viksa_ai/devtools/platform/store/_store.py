"""The platform's state: JSON documents in one SQLite table, safe to share across threads.

Every record is a JSON document of a *kind* (``agent``, ``secret``...), owned by a
*scope* (the project, org, account or user it belongs to), with an optional *key* that is
unique within its kind and scope (an agent alias, a key hash, an email), and an optional
expiry time after which :meth:`Store.purge_expired` removes it. One connection guarded by
a re-entrant lock serves the event loop and worker threads alike; writes are short, so
holding the lock never blocks for long. A file database runs in WAL mode with
``synchronous=NORMAL``: a commit does not wait for fsync (a power cut may lose the last
writes, never corrupt the file), which is the right trade for a local emulator.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from viksa_ai.devtools._strict_json import (
    UnfitJsonError,
    dumps_storable,
    loads_stored,
)
from viksa_ai.devtools.platform.store._at_rest import Sealer, key_path_of
from viksa_ai.devtools.platform.store._kinds import Kind

__all__ = ["SEALED_MARK", "Doc", "KeyTakenError", "Kind", "Store"]

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS records_key ON records (kind, scope, key)
    WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_scope ON records (kind, scope, seq);
CREATE INDEX IF NOT EXISTS records_seq ON records (kind, seq);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unreadable_records (
    kind TEXT NOT NULL, id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT, seq INTEGER NOT NULL,
    data TEXT NOT NULL, expires REAL, moved_at REAL NOT NULL
);
"""
# Added after the first release: data files made before it gain the column on open.
_EXPIRY = """
CREATE INDEX IF NOT EXISTS records_expiry ON records (kind, expires) WHERE expires IS NOT NULL;
"""


_log = logging.getLogger("viksa_ai.devtools.platform")
SEALED_MARK = "sealed_with"
"""Meta setting present once the file's secrets are sealed with its key file (the
platform sets it when it has sealed what an earlier version left in plain text)."""


class KeyTakenError(Exception):
    """A record with the same kind, scope and key already exists."""


def _field_sql(field: str) -> str:
    # Field names come from code, never from requests; refuse anything else anyway.
    if not field.replace("_", "").isalnum():
        raise ValueError(f"invalid field name {field!r}")
    return f"json_extract(data, '$.{field}')"


class Store:
    """A document store over one SQLite database (a file, or memory when ``path`` is None)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.touch(mode=0o600, exist_ok=True)
            # The file holds vault values and session data: readable by its owner only
            # (SQLite gives the -wal and -shm files the same mode).
            self.path.chmod(0o600)
        target = ":memory:" if self.path is None else str(self.path)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._depth = 0
        # A change counter per group of kinds a cache asked about (see changes), and the
        # counters each kind's writes move: reading one is a lookup, not a sum.
        self._counters: dict[tuple[Kind, ...], list[int]] = {}
        self._counters_of: dict[Kind, list[list[int]]] = {}
        self._scope_deletions = 0
        if self.path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # Freed content is overwritten: plain text sealed by a migration is gone.
            self._conn.execute("PRAGMA secure_delete=ON")
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(records)")}
        if "expires" not in columns:
            self._conn.execute("ALTER TABLE records ADD COLUMN expires REAL")
        self._conn.executescript(_EXPIRY)
        self._reported: set[tuple[str, str]] = set()
        self._set_aside_unreadable()
        # The key that seals secrets lives outside the file (see _at_rest); a new one is
        # made only while nothing in the file is sealed yet.
        self.was_sealed = self.meta_get(SEALED_MARK) is not None
        self.sealer = (
            Sealer.in_memory()
            if self.path is None
            else Sealer.for_file(key_path_of(self.path), create=not self.was_sealed)
        )

    def _set_aside_unreadable(self) -> None:
        """Move records SQLite cannot parse out of ``records``, reporting them in one line.

        Data files of earlier versions may hold ``NaN`` or JSON nested beyond SQLite's
        limit: one such record made every ``json_extract`` scan of its kind fail (and so
        the start-up, the scheduler and the listings of every account). They are kept,
        untouched, in the ``unreadable_records`` table.
        """
        with self.transaction():
            bad = self._conn.execute(
                "SELECT kind, id FROM records WHERE NOT json_valid(data)"
            ).fetchall()
            if not bad:
                return
            self._conn.execute(
                "INSERT INTO unreadable_records "
                "(kind, id, scope, key, seq, data, expires, moved_at) "
                "SELECT kind, id, scope, key, seq, data, expires, ? FROM records "
                "WHERE NOT json_valid(data)",
                (time.time(),),
            )
            self._conn.execute("DELETE FROM records WHERE NOT json_valid(data)")
        shown = ", ".join(f"{kind} {record_id}" for kind, record_id in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        _log.warning(
            "data file %s: %d unreadable record(s) set aside in table unreadable_records "
            "(not valid JSON, e.g. NaN written by an earlier version): %s%s",
            self.path,
            len(bad),
            shown,
            more,
        )

    def _loads(self, kind: str, record_id: str, text: str) -> Doc | None:
        """A stored document, or None (reported once) when it cannot be read safely."""
        try:
            return loads_stored(text)
        except (UnfitJsonError, ValueError, RecursionError) as exc:
            if (kind, record_id) not in self._reported:
                self._reported.add((kind, record_id))
                _log.warning(
                    "skipping unreadable %s record %s in the data file: %s",
                    kind,
                    record_id,
                    exc,
                )
            return None

    def close(self) -> None:
        """Close the database; the store is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def changes(self, *kinds: Kind) -> int:
        """A counter that grows whenever a record of one of ``kinds`` may have changed.

        For in-memory caches of records: a cached value is current while the counter
        is where it was when the value was read (in this process).
        """
        counter = self._counters.get(kinds)
        if counter is None:
            with self._lock:
                counter = self._counters.get(kinds)
                if counter is None:
                    # From now on: no value a cache holds was read before this first ask.
                    counter = self._counters[kinds] = [0]
                    for kind in kinds:
                        self._counters_of.setdefault(kind, []).append(counter)
        return self._scope_deletions + counter[0]

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run a block atomically: nested blocks join the outermost one."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._conn.execute("ROLLBACK")
                    # What was read inside the block may be undone now: a change to caches.
                    self._scope_deletions += 1
                raise
            self._depth -= 1
            if outermost:
                self._conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a query, fetched while the connection is ours."""
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def _write(self, kind: Kind | None, sql: str, params: Sequence[Any]) -> int:
        """Run one write; count it as a change of ``kind`` (None: of every kind)."""
        with self._lock:
            count = self._conn.execute(sql, params).rowcount
            if kind is None:
                self._scope_deletions += 1
            else:
                for counter in self._counters_of.get(kind, ()):
                    counter[0] += 1
            return count

    # -- records ---------------------------------------------------------------------

    def insert(
        self,
        kind: Kind,
        doc: Doc,
        *,
        scope: str,
        key: str | None = None,
        expires: float | None = None,
    ) -> Doc:
        """Store a new document (it must hold an ``id``); raise KeyTakenError on a clash.

        A document strict JSON cannot hold (NaN, a lone surrogate, nesting deeper than
        ``MAX_STORED_DEPTH``) raises ``UnfitJsonError`` and is not written.

        ``expires`` (a :func:`time.time` value) lets :meth:`purge_expired` remove it.
        """
        try:
            self._write(
                kind,
                "INSERT INTO records (kind, id, scope, key, seq, data, expires) VALUES "
                "(?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE kind = ?), "
                "?, ?)",
                (kind, doc["id"], scope, key, kind, dumps_storable(doc), expires),
            )
        except sqlite3.IntegrityError as exc:
            raise KeyTakenError(f"{kind} key already taken in this scope") from exc
        return doc

    def replace(self, kind: Kind, doc: Doc, *, scope: str, expires: float | None = None) -> Doc:
        """Store ``doc`` in one statement, in place of the record with its id if any.

        As :meth:`delete` then :meth:`insert` in one transaction (without a key; the
        record keeps its place in the insertion order), at the cost of one write.
        """
        self._write(
            kind,
            "INSERT INTO records (kind, id, scope, key, seq, data, expires) VALUES "
            "(?, ?, ?, NULL, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE kind = ?), "
            "?, ?) ON CONFLICT (kind, id) DO UPDATE SET scope = excluded.scope, key = NULL, "
            "data = excluded.data, expires = excluded.expires",
            (kind, doc["id"], scope, kind, dumps_storable(doc), expires),
        )
        return doc

    def save(self, kind: Kind, doc: Doc) -> Doc:
        """Replace an existing document, keeping its scope, key and expiry."""
        self._write(
            kind,
            "UPDATE records SET data = ? WHERE kind = ? AND id = ?",
            (dumps_storable(doc), kind, doc["id"]),
        )
        return doc

    def rekey(self, kind: Kind, record_id: str, key: str | None) -> None:
        """Change a record's unique key; raise KeyTakenError on a clash."""
        try:
            self._write(
                kind, "UPDATE records SET key = ? WHERE kind = ? AND id = ?", (key, kind, record_id)
            )
        except sqlite3.IntegrityError as exc:
            raise KeyTakenError(f"{kind} key already taken in this scope") from exc

    def get(self, kind: Kind, record_id: str) -> Doc | None:
        """The document of ``kind`` with ``record_id``, or None."""
        row = self._one("SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return None if row is None else self._loads(kind, record_id, row[0])

    def get_scoped(self, kind: Kind, record_id: str) -> tuple[Doc, str] | None:
        """The document of ``kind`` with ``record_id`` and its scope, or None."""
        row = self._one(
            "SELECT data, scope FROM records WHERE kind = ? AND id = ?", (kind, record_id)
        )
        doc = None if row is None else self._loads(kind, record_id, row[0])
        return None if doc is None else (doc, str(row[1]))

    def scope_of(self, kind: Kind, record_id: str) -> str | None:
        """The scope a record belongs to, or None when it does not exist."""
        row = self._one("SELECT scope FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return None if row is None else str(row[0])

    def find(self, kind: Kind, scope: str, key: str) -> Doc | None:
        """The document of ``kind`` whose unique key within ``scope`` is ``key``."""
        row = self._one(
            "SELECT data, id FROM records WHERE kind = ? AND scope = ? AND key = ?",
            (kind, scope, key),
        )
        return None if row is None else self._loads(kind, str(row[1]), row[0])

    def delete(self, kind: Kind, record_id: str) -> bool:
        """Delete one record; whether it existed."""
        sql = "DELETE FROM records WHERE kind = ? AND id = ?"
        return self._write(kind, sql, (kind, record_id)) > 0

    def delete_scope(self, scope: str) -> int:
        """Delete every record owned by ``scope``; how many went."""
        return self._write(None, "DELETE FROM records WHERE scope = ?", (scope,))

    def purge_expired(self, kind: Kind, now: float) -> int:
        """Delete the records of ``kind`` whose expiry is at or before ``now``; how many."""
        sql = "DELETE FROM records WHERE kind = ? AND expires IS NOT NULL AND expires <= ?"
        return self._write(kind, sql, (kind, now))

    def query(
        self,
        kind: Kind,
        *,
        scope: str | Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        present: Sequence[str] = (),
        search: str | None = None,
        search_fields: Sequence[str] = (),
        skip: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> tuple[list[Doc], int]:
        """One page of documents and the total that match, in insertion order.

        ``where`` compares top-level JSON fields for equality; ``present`` names
        top-level fields that must hold a value (not null); ``search`` is a substring
        looked for in ``search_fields``, ASCII letters in either case.
        """
        clauses = ["kind = ?"]
        params: list[Any] = [kind]
        if isinstance(scope, str):
            clauses.append("scope = ?")
            params.append(scope)
        elif scope is not None:
            clauses.append(f"scope IN ({','.join('?' * len(scope))})")
            params.extend(scope)
        for field, value in (where or {}).items():
            clauses.append(f"{_field_sql(field)} IS ?")
            params.append(json.dumps(value) if isinstance(value, (dict, list)) else value)
        clauses.extend(f"{_field_sql(field)} IS NOT NULL" for field in present)
        if search and search_fields:
            # instr, not LIKE: no pattern characters to escape, no length limit (SQLite
            # refuses LIKE patterns over 50,000 bytes), and one lower() folds both sides.
            ors = [f"instr(lower({_field_sql(f)}), lower(?)) > 0" for f in search_fields]
            clauses.append("(" + " OR ".join(ors) + ")")
            params.extend([search] * len(search_fields))
        where_sql = " AND ".join(clauses)
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            # Only placeholders and code-made field names reach the SQL text.
            count = int(
                self._conn.execute(
                    f"SELECT COUNT(*) FROM records WHERE {where_sql}",  # noqa: S608
                    params,
                ).fetchone()[0]
            )
            rows = (
                self._conn.execute(
                    f"SELECT data, id FROM records WHERE {where_sql} "  # noqa: S608
                    f"ORDER BY seq {order} LIMIT ? OFFSET ?",
                    [*params, -1 if limit is None else limit, skip],
                ).fetchall()
                # Past the last match there is nothing to read (and SQLite cannot take
                # an OFFSET beyond 2**63 - 1, which a caller's skip may be).
                if limit != 0 and skip < count
                else []
            )
        docs = [self._loads(kind, str(row[1]), row[0]) for row in rows]
        return [doc for doc in docs if doc is not None], count

    # -- metadata ----------------------------------------------------------------------

    def meta_get(self, name: str) -> str | None:
        """A stored platform setting, or None."""
        row = self._one("SELECT value FROM meta WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def meta_delete(self, name: str) -> None:
        """Remove a stored platform setting (nothing when absent)."""
        self._write("meta", "DELETE FROM meta WHERE name = ?", (name,))

    def seal(self, text: str, context: str) -> str:
        """``text`` encrypted with the key kept outside the data file (see ``_at_rest``)."""
        return self.sealer.seal(text, context)

    def digest(self, data: bytes, context: str) -> str:
        """A digest of ``data`` keyed with the key kept outside the data file."""
        return self.sealer.digest(data, context)

    def unseal(self, token: str, context: str) -> str:
        """The text :meth:`seal` sealed for ``context``."""
        return self.sealer.open(token, context)

    def meta_set(self, name: str, value: str) -> None:
        """Store a platform setting."""
        self._write(
            "meta",
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
