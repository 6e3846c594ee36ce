"""A "did you mean" for an agent alias the platform does not know.

viksa-mcp cannot use the devtools' helper (it does not depend on viksa-devtools), so
this is its own, with the same wording.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

__all__ = ["did_you_mean"]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one of ``choices`` is close to ``name``, else ``''``.

    The same for any order of ``choices`` (ties go to the greatest name).
    """
    close = get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
