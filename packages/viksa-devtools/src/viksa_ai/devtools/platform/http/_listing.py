"""The shape of list answers: the items under a resource-named key, with the total."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from viksa_ai.devtools.platform.http._deps import Page
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["listing"]


def listing(
    key: str,
    result: tuple[Sequence[Doc], int],
    page: Page | None = None,
    *,
    view: Callable[[Doc], Doc] | None = None,
) -> dict[str, Any]:
    """``{key: [...], "total": n, "skip": s, "limit": l}`` for one page of documents."""
    items, total = result
    answer: dict[str, Any] = {
        key: [view(item) for item in items] if view else list(items),
        "total": total,
    }
    if page is not None:
        answer["skip"], answer["limit"] = page.skip, page.limit
    return answer
