"""A "did you mean" for a name that is not one of the known ones."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one of ``choices`` is close to ``name``, else ``''``.

    The same for any order of ``choices`` (ties go to the greatest name).
    """
    # Imported here: only a name that is wrong needs it, and `viksa validate` starts on
    # every commit.
    from difflib import get_close_matches

    close = get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
