"""Password guesses, counted per account name and per client address, and the wait they earn.

Every sign-in with a password (``/auth/individual/login``, the dashboard's form) is
counted before its password is checked, so concurrent guesses count too. Past a small
burst, each further attempt must wait: :attr:`SignInLimits.first_wait` seconds, doubling
with each attempt up to :attr:`SignInLimits.max_wait`; one asked for sooner is refused
with 429 and ``Retry-After`` (its password unchecked). A successful sign-in clears its
account name's count and takes itself off its address's count (an attacker who can sign
in to an account of their own would otherwise clear their address between guesses). A
count is forgotten :attr:`SignInLimits.forget_after` seconds after its last attempt, and
at most :attr:`SignInLimits.tracked` counts of each kind are kept (past it the least
recently used goes): guessing through many names cannot grow memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from viksa_ai.devtools.platform.services._errors import TooManyRequestsError, too_many_requests

__all__ = ["SIGN_IN_LIMITS", "SignInLimits", "SignInThrottle"]


@dataclass(frozen=True)
class SignInLimits:
    """How many password attempts a sign-in allows before making the caller wait."""

    account_burst: int = 5
    """Attempts on one account name (any case) allowed without a wait."""
    address_burst: int = 20
    """Attempts from one client address allowed without a wait (over all names)."""
    first_wait: float = 1.0
    """Seconds the first attempt past a burst earns; each later one doubles it."""
    max_wait: float = 300.0
    """The longest wait one attempt earns (seconds)."""
    forget_after: float = 900.0
    """Seconds after its last attempt (and its wait) that a count is forgotten."""
    tracked: int = 10_000
    """Counts kept of each kind (account names, addresses); the oldest go first."""


SIGN_IN_LIMITS = SignInLimits()
"""The limits of ``viksa dev``: 5 attempts per account name and 20 per address, then
1 s, 2 s, 4 s ... up to 5 minutes between attempts; forgotten after 15 quiet minutes."""


@dataclass
class _Count:
    attempts: int = 0
    wait_until: float = 0.0
    last: float = 0.0


class _Counts:
    """Attempts by key, least recently used first, at most ``limits.tracked`` of them."""

    def __init__(self, limits: SignInLimits, burst: int) -> None:
        self._limits = limits
        self._burst = burst
        self._counts: OrderedDict[str, _Count] = OrderedDict()

    def __len__(self) -> int:
        return len(self._counts)

    def _forgotten(self, count: _Count, now: float) -> bool:
        return now >= max(count.last + self._limits.forget_after, count.wait_until)

    def wait(self, key: str, now: float) -> float:
        """Seconds ``key`` must still wait before its next attempt (0: none)."""
        count = self._counts.get(key)
        if count is None:
            return 0.0
        if self._forgotten(count, now):
            del self._counts[key]
            return 0.0
        return max(0.0, count.wait_until - now)

    def add(self, key: str, now: float) -> tuple[_Count, int]:
        """Count an attempt; a copy of the count before it, and its attempts now."""
        count = self._counts.pop(key, None) or _Count()
        before = _Count(count.attempts, count.wait_until, count.last)
        count.attempts += 1
        count.last = now
        past = count.attempts - self._burst
        if past >= 0:
            # The exponent is bounded: a count of thousands must not overflow a float.
            delay = self._limits.first_wait * 2.0 ** min(past, 64)
            count.wait_until = now + min(delay, self._limits.max_wait)
        self._counts[key] = count  # now the most recently used
        # Counts are ordered by last attempt: the forgotten ones are at the front.
        while self._counts:
            oldest = next(iter(self._counts.values()))
            if not self._forgotten(oldest, now) and len(self._counts) <= self._limits.tracked:
                break
            self._counts.popitem(last=False)
        return before, count.attempts

    def clear(self, key: str) -> None:
        """Forget ``key``'s attempts."""
        self._counts.pop(key, None)

    def take_back(self, key: str, before: _Count, attempts: int) -> None:
        """Undo an attempt :meth:`add` counted (``before`` it, ``attempts`` after it)."""
        count = self._counts.get(key)
        if count is None:
            return
        if count.attempts != attempts:  # others attempted since: only this one goes
            count.attempts = max(0, count.attempts - 1)
        elif before.attempts == 0:
            del self._counts[key]
        else:
            count.attempts, count.wait_until, count.last = (
                before.attempts,
                before.wait_until,
                before.last,
            )


def _name_key(account: str) -> str:
    # A digest: a name of any length costs the same few bytes to remember.
    return hashlib.blake2b(account.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


class SignInThrottle:
    """Counts password attempts and refuses those that come too soon (see the module)."""

    def __init__(
        self,
        limits: SignInLimits = SIGN_IN_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        noun: str = "sign-in",
        subject: str = "this account",
        source: str = "this address",
    ) -> None:
        """``noun`` names the attempts in a refusal; ``subject`` what an attempt is on (the
        account name's count), ``source`` where it comes from (the address's count)."""
        self.limits = limits
        self._clock = clock
        self._wording = (noun, subject, source)
        self._lock = threading.Lock()
        self._names = _Counts(limits, limits.account_burst)
        self._addresses = _Counts(limits, limits.address_burst)

    def tracked(self) -> tuple[int, int]:
        """How many account names and addresses have a count kept."""
        with self._lock:
            return len(self._names), len(self._addresses)

    @contextlib.contextmanager
    def attempt(self, account: str, address: str | None) -> Iterator[None]:
        """Count a password attempt on ``account`` from ``address`` while the block checks it.

        Raises ``TooManyRequestsError`` (429, ``Retry-After``) without running the block
        when either must wait. The block returning means the password was right; raising,
        that it was not (the attempt stays counted).
        """
        name = _name_key(account)
        with self._lock:
            now = self._clock()
            name_wait = self._names.wait(name, now)
            address_wait = 0.0 if address is None else self._addresses.wait(address, now)
            if name_wait or address_wait:
                raise _refusal(name_wait, address_wait, *self._wording)
            self._names.add(name, now)
            counted = None if address is None else self._addresses.add(address, now)
        yield
        with self._lock:
            self._names.clear(name)
            if address is not None and counted is not None:
                self._addresses.take_back(address, *counted)


def _refusal(
    name_wait: float, address_wait: float, noun: str, subject: str, source: str
) -> TooManyRequestsError:
    wait = max(name_wait, address_wait)
    whose = f"for {subject}" if name_wait >= address_wait else f"from {source}"
    seconds = max(1, math.ceil(wait))
    return too_many_requests(
        f"Too many {noun} attempts {whose}: try again in {_in_words(seconds)}.",
        code=f"too_many_{noun.replace('-', '_')}_attempts",
        retry_after=wait,
    )
