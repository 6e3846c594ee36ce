"""Password guesses are throttled per account name and per client address (429 with
``Retry-After``), on the API's login and the dashboard's sign-in form alike."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig, SignInLimits, SignInThrottle
from viksa_ai.devtools.platform.services._errors import NotAuthenticatedError, TooManyRequestsError
from viksa_ai.devtools.platform.services._sign_in_throttle import SIGN_IN_LIMITS

_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_CSRF = re.compile(r'<meta name="viksa-csrf" content="([^"]+)">')
_LOGIN = "/auth/individual/login"


class Clock:
    """A clock the test moves by hand (no test sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wrong(throttle: SignInThrottle, account: str, address: str | None = "10.0.0.1") -> None:
    """One attempt whose password was wrong."""
    with contextlib.suppress(NotAuthenticatedError), throttle.attempt(account, address):
        raise NotAuthenticatedError("Incorrect email or password.")


def _right(throttle: SignInThrottle, account: str, address: str | None = "10.0.0.1") -> None:
    with throttle.attempt(account, address):
        pass


def _refused(throttle: SignInThrottle, account: str, address: str | None = "10.0.0.1") -> str:
    """The ``Retry-After`` of an attempt that must be refused."""
    with pytest.raises(TooManyRequestsError) as caught:
        _right(throttle, account, address)
    assert caught.value.status_code == 429
    assert isinstance(caught.value.detail, dict)
    assert caught.value.detail["code"] == "too_many_sign_in_attempts"
    return caught.value.headers["Retry-After"]


# -- the throttle alone ------------------------------------------------------------------


def test_a_burst_then_waits_that_double_up_to_the_most() -> None:
    clock = Clock()
    limits = SignInLimits(account_burst=3, first_wait=2.0, max_wait=10.0)
    throttle = SignInThrottle(limits, clock=clock)
    for _ in range(3):
        _wrong(throttle, "dev@viksa.local")
    waits = []
    for _ in range(5):
        retry = _refused(throttle, "DEV@viksa.local")  # names are counted in any case
        waits.append(int(retry))
        clock.now += int(retry)
        _wrong(throttle, "dev@viksa.local")
    assert waits == [2, 4, 8, 10, 10]


def test_a_successful_sign_in_clears_its_accounts_count() -> None:
    clock = Clock()
    throttle = SignInThrottle(SignInLimits(account_burst=2), clock=clock)
    _wrong(throttle, "dev@viksa.local")
    _right(throttle, "dev@viksa.local")
    _wrong(throttle, "dev@viksa.local")
    _wrong(throttle, "dev@viksa.local")  # two since the success: within the burst
    assert _refused(throttle, "dev@viksa.local") == "1"


def test_an_address_is_throttled_across_names_and_its_own_successes_do_not_clear_it() -> None:
    clock = Clock()
    throttle = SignInThrottle(SignInLimits(account_burst=5, address_burst=4), clock=clock)
    for n in range(3):
        _wrong(throttle, f"user{n}@example.com")
    for _ in range(10):  # successes do not count against the address ...
        _right(throttle, "mine@example.com")
    _wrong(throttle, "user3@example.com")  # ... nor take its failures away
    _refused(throttle, "user4@example.com")
    _refused(throttle, "mine@example.com")
    _right(throttle, "user4@example.com", "10.0.0.2")  # another address is not held


def test_attempts_are_counted_while_their_password_is_checked() -> None:
    # Concurrent guesses: each is counted before any of them has failed.
    throttle = SignInThrottle(SignInLimits(account_burst=3), clock=Clock())
    with contextlib.ExitStack() as in_flight:
        for _ in range(3):
            in_flight.enter_context(throttle.attempt("dev@viksa.local", None))
        _refused(throttle, "dev@viksa.local", None)


def test_counts_are_forgotten_after_a_quiet_while() -> None:
    clock = Clock()
    limits = SignInLimits(account_burst=1, forget_after=60.0)
    throttle = SignInThrottle(limits, clock=clock)
    _wrong(throttle, "dev@viksa.local")
    _refused(throttle, "dev@viksa.local")
    clock.now += 60
    _wrong(throttle, "dev@viksa.local")  # the first of a new count: no wait yet ...
    _refused(throttle, "dev@viksa.local")  # ... the second one waits again
    clock.now += limits.max_wait + limits.forget_after
    assert throttle.tracked() == (1, 1)
    _right(throttle, "other@viksa.local", "10.0.0.9")
    assert throttle.tracked() == (0, 0)  # the old counts went with the next attempt


def test_cycling_names_and_addresses_cannot_grow_the_memory() -> None:
    clock = Clock()
    throttle = SignInThrottle(SignInLimits(tracked=100), clock=clock)
    for n in range(5_000):
        _wrong(throttle, f"guess{n}@example.com" * 50, f"10.1.{n // 250}.{n % 250}")
    assert throttle.tracked() == (100, 100)


def test_a_long_wait_is_said_in_minutes() -> None:
    clock = Clock()
    throttle = SignInThrottle(SignInLimits(account_burst=1, first_wait=299.5), clock=clock)
    _wrong(throttle, "dev@viksa.local")
    with pytest.raises(TooManyRequestsError) as caught:
        _right(throttle, "dev@viksa.local")
    assert caught.value.message == (
        "Too many sign-in attempts for this account: try again in 5 minutes."
    )
    assert caught.value.headers["Retry-After"] == "300"


def test_the_limits_are_the_readmes() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    said = " ".join(readme.split())
    limits = SIGN_IN_LIMITS
    assert (
        f"{limits.account_burst} attempts per email and {limits.address_burst} per address"
    ) in said
    assert f"each attempt waits {limits.first_wait:g} second, then 2, 4" in said
    assert f"up to {limits.max_wait / 60:g} minutes" in said
    assert f"forgotten after {limits.forget_after / 60:g} quiet minutes" in said
    assert f"at most {limits.tracked:,} emails and {limits.tracked:,} addresses" in said
    assert PlatformConfig().sign_in_limits == SIGN_IN_LIMITS == SignInLimits()


# -- over HTTP ---------------------------------------------------------------------------


@pytest.fixture
def clock(viksa_platform: LocalPlatform) -> Clock:
    """The platform's sign-in throttle, with the default limits, on a hand-moved clock."""
    moved = Clock()
    viksa_platform.platform.accounts.throttle = SignInThrottle(SIGN_IN_LIMITS, clock=moved)
    return moved


@pytest.fixture
async def raw(viksa_platform: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP without credentials, holding cookies as a browser does."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=viksa_platform.app), base_url="http://127.0.0.1"
    ) as client:
        yield client


async def test_the_api_login_answers_429_with_retry_after_and_a_success_resets(
    viksa_platform: LocalPlatform, raw: httpx.AsyncClient, clock: Clock
) -> None:
    email, password = viksa_platform.credentials.email, viksa_platform.credentials.password
    for _ in range(SIGN_IN_LIMITS.account_burst):
        wrong = await raw.post(_LOGIN, json={"email": email, "password": "guess"})
        assert wrong.status_code == 401
    refused = await raw.post(_LOGIN, json={"email": email, "password": password})
    assert refused.status_code == 429  # even the right password must wait
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "detail": {
            "message": "Too many sign-in attempts for this account: try again in 1 second.",
            "code": "too_many_sign_in_attempts",
            "field": None,
        }
    }
    clock.now += 1
    signed_in = await raw.post(_LOGIN, json={"email": email, "password": password})
    assert signed_in.status_code == 200
    again = await raw.post(_LOGIN, json={"email": email, "password": "guess"})
    assert again.status_code == 401  # the success cleared the count


async def test_an_unknown_email_is_throttled_like_a_known_one(
    raw: httpx.AsyncClient, clock: Clock
) -> None:
    del clock
    body = {"email": "nobody@example.com", "password": "guess"}
    statuses = [(await raw.post(_LOGIN, json=body)).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


async def test_the_sign_in_form_shows_when_to_retry(
    viksa_platform: LocalPlatform, raw: httpx.AsyncClient, clock: Clock
) -> None:
    del clock
    email = viksa_platform.credentials.email
    form = await raw.get("/dashboard/sign-in")
    for _ in range(SIGN_IN_LIMITS.account_burst + 1):
        found = _FORM_TOKEN.search(form.text)
        assert found is not None
        fields = {"email": email, "password": "guess", "form_token": found[1]}
        form = await raw.post("/dashboard/sign-in", data=fields)
    assert form.status_code == 429
    assert form.headers["retry-after"] == "1"
    assert "try again in 1 second" in form.text
    assert form.headers["content-security-policy"].startswith("default-src 'self'")
    assert "viksa_dashboard=" not in form.headers.get("set-cookie", "")
    # The API's login counts the same attempts: one password guess, two doors.
    api = await raw.post(_LOGIN, json={"email": email, "password": "guess"})
    assert api.status_code == 429


async def test_the_one_time_link_signs_in_while_the_account_is_throttled(
    viksa_platform: LocalPlatform, raw: httpx.AsyncClient, clock: Clock
) -> None:
    del clock
    email = viksa_platform.credentials.email
    for _ in range(SIGN_IN_LIMITS.account_burst + 1):
        await raw.post(_LOGIN, json={"email": email, "password": "guess"})
    assert (await raw.post(_LOGIN, json={"email": email, "password": "x"})).status_code == 429
    token = viksa_platform.platform.dashboard.issue_link(email)
    linked = await raw.get("/dashboard/sign-in", params={"token": token})
    assert linked.status_code == 200
    assert _CSRF.search(linked.text) is not None


@pytest.mark.parametrize(
    "viksa_platform_config", [PlatformConfig(sign_in_limits=SignInLimits(account_burst=2))]
)
async def test_the_limits_come_from_the_platform_config(raw: httpx.AsyncClient) -> None:
    body = {"email": "dev@viksa.local", "password": "guess"}
    statuses = [(await raw.post(_LOGIN, json=body)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
