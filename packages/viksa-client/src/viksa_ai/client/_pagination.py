"""Walking ``skip`` / ``limit`` lists page by page.

A page is a bare list, or an object holding the items under ``items`` or a
resource-named key, with an optional ``total``. The walk stops once ``total`` items were
seen, on an empty page, or when the server answers the same page twice in a row (it
ignores ``skip``), its items in the same or another order: no item is yielded twice. A
page answered again after others (a server alternating between pages) raises
``ViksaRepeatedPageError``: walking on would repeat them without end, and what else the
list holds cannot be known.

Without a ``total``, a page shorter than the requested ``limit`` does not end the walk,
since servers may cap their pages below it; it ends only when the page is also shorter
than the ``limit`` the page itself reports. So no item is lost, at the cost of one
request for an empty page when a list sends neither ``total`` nor ``limit``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from viksa_ai.client._call import Call
from viksa_ai.client._decode import RAW_LIMIT
from viksa_ai.client._errors import ViksaDecodeError, ViksaRepeatedPageError
from viksa_ai.client._logging import logger

__all__ = ["PageCursor", "page_items"]


def page_items(page: Any, key: str | None) -> tuple[list[Any], int | None]:
    """The items of one page and the ``total`` it announces (``None`` when absent)."""
    if page is None:
        return [], None
    if isinstance(page, list):
        return page, None
    if not isinstance(page, dict):
        raise ViksaDecodeError(
            f"expected a list page, the platform answered {type(page).__name__}",
            raw=str(page)[:RAW_LIMIT],
        )
    total = _count(page, "total")
    for name in ("items", key):
        if name is not None and isinstance(page.get(name), list):
            return page[name], total
    lists = [value for value in page.values() if isinstance(value, list)]
    if len(lists) == 1:
        return lists[0], total
    if not lists:
        return [], total
    keys = sorted(page)
    shown = ", ".join(repr(name[:40]) for name in keys[:10])
    more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
    raise ViksaDecodeError(
        f"cannot tell which list holds the items of this page (keys: {shown}{more})",
        raw=str(keys)[:RAW_LIMIT],
    )


def _count(page: dict[str, Any], name: str) -> int | None:
    """The integer ``page[name]`` (``total``, ``limit``), or ``None`` when not one."""
    value = page.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PageCursor:
    """Where a walk stands: the next ``skip`` and whether it is over."""

    __slots__ = ("_pages", "_previous", "done", "key", "limit", "seen", "skip")

    def __init__(self, limit: int, key: str | None, skip: int = 0) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self.key = key
        self.skip = skip
        self.seen = 0
        self.done = False
        self._previous: bytes | None = None
        # The pages answered so far, as digests (not their items: a long walk stays
        # small), with the skip each was first answered at.
        self._pages: dict[bytes, int] = {}

    def reading(self, call: Call[Any]) -> Call[list[Any]]:
        """``call`` (the next page's) answering the items to yield, read by ``take``.

        Read as the answer's decoding, a page the cursor cannot read fails like any
        answer: an error naming the call, whose ``raw`` is the answer with secrets
        scrubbed.
        """
        decode = call.decode
        return replace(call, decode=lambda data: self.take(decode(data)))

    def take(self, page: Any) -> list[Any]:
        """The items of ``page`` to yield; moves the cursor and decides whether it is done."""
        items, total = page_items(page, self.key)
        if not items:
            self.done = True
            return []
        digest = _digest(items)
        if digest == self._previous:
            logger.warning("the server answered the same page twice; stopping the walk")
            self.done = True
            return []
        first = self._pages.get(digest)
        if first is not None:
            self.done = True
            raise ViksaRepeatedPageError(
                f"the page at skip {self.skip} repeats the one at skip {first}: the server "
                "does not page consistently, and the walk would repeat them without end; "
                "read the pages with list(skip=..., limit=...), or retry later",
                raw="",
            )
        self._pages[digest] = self.skip
        self._previous = digest
        self.seen += len(items)
        self.skip += len(items)
        if total is not None:
            self.done = self.skip >= total
        else:
            # A page shorter than asked may only mean the server caps its pages: it is the
            # last one when it is also shorter than the page size the server reports.
            reported = _count(page, "limit") if isinstance(page, dict) else None
            self.done = reported is not None and len(items) < min(reported, self.limit)
        return items


def _digest(items: list[Any]) -> bytes:
    """A digest of a page's items in any order: pages holding the same items (as JSON)
    have equal digests.

    A server ignoring ``skip`` may list its rows in no stable order (SQL without ORDER
    BY): an order-sensitive digest took each reordered answer for a new page, without end.
    """
    texts = sorted(
        json.dumps(item, sort_keys=True, separators=(",", ":"), default=repr) for item in items
    )
    text = "\n".join(texts)  # dumps escapes line breaks: the join is unambiguous
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
