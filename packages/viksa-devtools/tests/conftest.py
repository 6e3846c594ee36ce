"""Fixtures shared by every devtools test folder."""

from __future__ import annotations

import threading

import pytest

from viksa_ai.devtools import _validation_workers as workers


@pytest.fixture
def searched_in(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """The threads that handed a pattern search to a worker process, in order (a spy)."""
    threads: list[threading.Thread] = []
    search = workers.search_in_worker

    def spy(pattern: str, value: str, time_limit: float) -> bool:
        threads.append(threading.current_thread())
        return search(pattern, value, time_limit)

    monkeypatch.setattr(workers, "search_in_worker", spy)
    return threads
