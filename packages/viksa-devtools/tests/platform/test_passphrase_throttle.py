"""Passphrase guesses on a protected vault secret are throttled as sign-ins are.

A project member could otherwise try passphrases as fast as scrypt allows. The
throttle (``SignInThrottle``) counts guesses per secret and per account: a burst, then
doubling waits answered 429 with ``Retry-After``; the right passphrase clears the
secret's count; reading without a passphrase is no guess.
"""

from __future__ import annotations

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, SignInLimits, SignInThrottle

SECRETS = "/builder/secret"


class Clock:
    """A clock the test moves by hand (no test sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(viksa_platform: LocalPlatform) -> Clock:
    moved = Clock()
    viksa_platform.platform.secrets.throttle = SignInThrottle(
        SignInLimits(account_burst=3),
        clock=moved,
        noun="passphrase",
        subject="this secret",
        source="this account",
    )
    return moved


async def _protected(http: httpx.AsyncClient, name: str = "pin") -> str:
    body = {"name": name, "value": "1234", "passphrase": "open sesame"}
    made = await http.post(f"{SECRETS}/create", json=body)
    assert made.status_code == 201, made.text
    secret_id: str = made.json()["id"]
    return secret_id


async def test_wrong_passphrases_are_throttled_and_the_right_one_clears_them(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    secret_id = await _protected(http)
    path = f"{SECRETS}/{secret_id}"
    for _ in range(3):
        wrong = await http.get(path, params={"passphrase": "guess"})
        assert wrong.status_code == 403, wrong.text
    # Reading without one is no guess: answered 403 at once, never throttled.
    assert (await http.get(path)).status_code == 403
    refused = await http.get(path, params={"passphrase": "open sesame"})
    assert refused.status_code == 429, refused.text
    assert refused.headers["Retry-After"] == "1"
    detail = refused.json()["detail"]
    assert detail["code"] == "too_many_passphrase_attempts"
    assert detail["message"] == (
        "Too many passphrase attempts for this secret: try again in 1 second."
    )
    assert "open sesame" not in refused.text
    clock.now += 1
    right = await http.get(path, params={"passphrase": "open sesame"})
    assert right.status_code == 200, right.text
    assert right.json()["value"] == "1234"
    # Cleared: the next wrong one is a 403 again, not a wait.
    assert (await http.get(path, params={"passphrase": "guess"})).status_code == 403


async def test_changing_a_passphrase_with_wrong_current_ones_is_throttled(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    secret_id = await _protected(http)
    path = f"{SECRETS}/{secret_id}"
    change = {"passphrase": "new one", "current_passphrase": "guess"}
    for _ in range(3):
        assert (await http.put(path, json=change)).status_code == 403
    assert (await http.put(path, json=change)).status_code == 429
    # Another secret of the same account has its own count (per secret, then per account).
    other = await _protected(http, "other pin")
    assert (await http.get(f"{SECRETS}/{other}", params={"passphrase": "x"})).status_code == 403
