"""Who is signed in to the dashboard: browser sessions over the accounts' own sessions.

A browser holds an opaque cookie token; the platform keeps, in memory, the accounts
session it stands for and a per-session CSRF token that every state-changing request
of the page must echo in a header. Revoking the accounts session (``/auth/sessions``)
signs the browser out too. ``viksa dev`` prints a one-time sign-in link: it opens a
session for the developer without a password, once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from viksa_ai.devtools.platform.services._accounts import Accounts, Principal
from viksa_ai.devtools.platform.services._errors import unauthorized
from viksa_ai.devtools.platform.services._security import hash_token, new_secret, same_secret

__all__ = ["FEEDS_PER_USER", "BrowserSession", "DashboardAccess"]

# How long a printed sign-in link stays usable (it is also spent by its first use).
_LINK_TTL_SECONDS = 24 * 3600
FEEDS_PER_USER = 8
"""Live feeds (``/dashboard/events``) one user may hold open at once.

Each is an endless answer holding a connection: unbounded, one signed-in user could
hold every connection the server accepts. A browser opens one per tab (and at most six
connections to one server over HTTP/1.1).
"""


@dataclass(frozen=True)
class BrowserSession:
    """A signed-in browser: the user's principal and the CSRF token of its pages."""

    principal: Principal
    csrf: str = field(repr=False)


class DashboardAccess:
    """Signs browsers in and out and recognises them by their cookie."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts
        self._lock = threading.Lock()
        self._links: dict[str, tuple[str, float]] = {}  # digest -> (email, expiry)
        self._browsers: dict[str, tuple[str, str]] = {}  # digest -> (session id, csrf)
        self._feeds: dict[str, int] = {}  # user id -> live feeds open

    def issue_link(self, email: str) -> str:
        """A one-time sign-in token for ``email``'s user (for the printed link)."""
        token = new_secret("vdl")
        with self._lock:
            self._links[hash_token(token)] = (email, time.time() + _LINK_TTL_SECONDS)
        return token

    def redeem_link(self, token: str) -> str:
        """Spend a sign-in token; the new browser's cookie token. 401 when unusable."""
        with self._lock:
            found = self._links.pop(hash_token(token), None)
        user = None if found is None else self._accounts.user_by_email(found[0])
        if found is None or found[1] < time.time() or user is None:
            raise unauthorized(
                "This sign-in link was used already or has expired: sign in with the "
                "email and password viksa dev printed.",
                code="invalid_sign_in_link",
            )
        org = self._accounts.first_org(user["account_id"])
        project = self._accounts.first_project(org["id"]) if org else None
        tokens = self._accounts.open_session(
            user, org["id"] if org else None, project["id"] if project else None
        )
        return self._open(tokens["access_token"])

    def sign_in(self, email: str, password: str, *, client: str | None = None) -> str:
        """Check a password (as ``/auth/login`` does, counted with its attempts); the new
        browser's cookie token."""
        tokens = self._accounts.login(email, password, client=client)
        return self._open(tokens["access_token"])

    def _open(self, access_token: str) -> str:
        principal = self._accounts.authenticate(access_token)
        assert principal.session_id is not None
        cookie = new_secret("vds")
        with self._lock:
            self._browsers[hash_token(cookie)] = (principal.session_id, new_secret("csrf"))
        return cookie

    def browser(self, cookie: str | None) -> BrowserSession | None:
        """The signed-in browser holding ``cookie``, or None."""
        if not cookie:
            return None
        digest = hash_token(cookie)
        with self._lock:
            found = self._browsers.get(digest)
        if found is None:
            return None
        principal = self._accounts.session_principal(found[0])
        if principal is None:
            with self._lock:
                self._browsers.pop(digest, None)
            return None
        return BrowserSession(principal=principal, csrf=found[1])

    def sign_out(self, cookie: str | None) -> None:
        """Forget a browser and end the accounts session behind it."""
        if not cookie:
            return
        with self._lock:
            found = self._browsers.pop(hash_token(cookie), None)
        if found is not None:
            session = self._accounts.session_principal(found[0])
            if session is not None and session.user_id is not None:
                self._accounts.revoke_session(session.user_id, found[0])

    def feeds_full(self, session: BrowserSession) -> bool:
        """Whether ``session``'s user holds :data:`FEEDS_PER_USER` live feeds already."""
        with self._lock:
            return self._feeds.get(_user_of(session), 0) >= FEEDS_PER_USER

    @contextlib.contextmanager
    def live_feed(self, session: BrowserSession) -> Iterator[bool]:
        """Count a live feed of ``session``'s user while the block runs.

        Yields False (and counts nothing) when the user holds as many as allowed.
        """
        user = _user_of(session)
        with self._lock:
            held = self._feeds.get(user, 0)
            admitted = held < FEEDS_PER_USER
            if admitted:
                self._feeds[user] = held + 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    left = self._feeds[user] - 1
                    if left:
                        self._feeds[user] = left
                    else:
                        del self._feeds[user]

    @staticmethod
    def csrf_matches(session: BrowserSession, sent: str | None) -> bool:
        """Whether a request's CSRF header is this browser's token (constant time)."""
        return same_secret(sent, session.csrf)


def _user_of(session: BrowserSession) -> str:
    # A browser session always stands for a user's session (never a key).
    return session.principal.user_id or session.principal.account_id
