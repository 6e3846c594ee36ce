"""``ViksaAuth`` and ``ViksaAuthError``, on both runtime copies."""

import os
import pickle
from collections.abc import Callable, Iterator, MutableMapping
from types import ModuleType
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENABLED = "VIKSA_AUTH_ENABLED_METHODS"
CONFIGURED = "VIKSA_AUTH_CONFIGURED_METHODS"
SECRET = "s3cr3t-VALUE-do-not-print"

method_ids = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def _assert_no_secret(error: BaseException, secret: str = SECRET) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert secret not in text


def test_method_lists_are_parsed_whitespace_tolerant_in_order(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENABLED, " oauth_client , ,bearer_token,,oauth_client , ")
    monkeypatch.setenv(CONFIGURED, "bearer_token,basic, oauth_client")

    assert rt.ViksaAuth.get_enabled_methods() == ["oauth_client", "bearer_token"]
    assert rt.ViksaAuth.get_configured_methods() == ["bearer_token", "basic", "oauth_client"]


@pytest.mark.parametrize("raw", [None, "", " ", ",,", " , "])
def test_empty_method_lists(rt: ModuleType, monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    if raw is not None:
        monkeypatch.setenv(ENABLED, raw)
        monkeypatch.setenv(CONFIGURED, raw)

    assert rt.ViksaAuth.get_enabled_methods() == []
    assert rt.ViksaAuth.get_configured_methods() == []
    assert rt.ViksaAuth.preferred_method() is None


def test_environment_is_read_at_call_time(rt: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not rt.ViksaAuth.is_method_enabled("bearer_token")
    assert rt.ViksaAuth.get_param("bearer_token", "api_key") is None

    monkeypatch.setenv(ENABLED, "bearer_token")
    monkeypatch.setenv(CONFIGURED, "bearer_token")
    monkeypatch.setenv("bearer_token.api_key", "key-1")

    assert rt.ViksaAuth.is_method_enabled("bearer_token")
    assert rt.ViksaAuth.is_method_configured("bearer_token")
    assert rt.ViksaAuth.require_param("bearer_token", "api_key") == "key-1"

    monkeypatch.setenv("bearer_token.api_key", "key-2")
    assert rt.ViksaAuth.get_param("bearer_token", "api_key") == "key-2"


def test_configured_but_not_enabled(rt: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENABLED, "bearer_token")
    monkeypatch.setenv(CONFIGURED, "bearer_token, oauth_client")

    assert rt.ViksaAuth.is_method_configured("oauth_client")
    assert not rt.ViksaAuth.is_method_enabled("oauth_client")
    assert not rt.ViksaAuth.is_method_configured("basic")


def test_get_param_returns_empty_values_as_set(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("basic.password", "")

    assert rt.ViksaAuth.get_param("basic", "password") == ""
    assert rt.ViksaAuth.param_env_name("basic", "password") == "basic.password"


def test_get_method_params_collects_one_method(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("oauth_client.client_id", "id-1")
    monkeypatch.setenv("oauth_client.client_secret", SECRET)
    monkeypatch.setenv("oauth_client.", "no param name")
    monkeypatch.setenv("oauth_client.nested.param", "belongs to 'oauth_client.nested'")
    monkeypatch.setenv("oauth.client_id", "another method")
    monkeypatch.setenv("oauth_client_v2.client_id", "another method")

    assert rt.ViksaAuth.get_method_params("oauth_client") == {
        "client_id": "id-1",
        "client_secret": SECRET,
    }
    assert rt.ViksaAuth.get_method_params("missing") == {}


class _VanishingEnviron(MutableMapping[str, str]):
    """``os.environ`` as another thread sees it unset ``vanishing`` during a scan.

    Like ``os.environ``, iteration runs over a snapshot of the names taken when it
    starts; the variable is gone by the time its value is read.
    """

    def __init__(self, data: dict[str, str], vanishing: str) -> None:
        self._data = data
        self._vanishing = vanishing

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        names = list(self._data)
        self._data.pop(self._vanishing, None)
        return iter(names)

    def __len__(self) -> int:
        return len(self._data)


def test_get_method_params_while_another_thread_unsets_a_param(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A warm worker swaps the auth variables between calls while a thread an earlier
    # call left behind may be reading them: items() raised KeyError for the lost one.
    environ = _VanishingEnviron(
        {"oauth_client.client_id": "id-1", "oauth_client.client_secret": SECRET},
        vanishing="oauth_client.client_secret",
    )
    monkeypatch.setattr(os, "environ", environ)

    assert rt.ViksaAuth.get_method_params("oauth_client") == {"client_id": "id-1"}


@pytest.mark.parametrize("odd", [chr(0xD800), chr(0xDFFF), f"a{chr(0xDCFF)}b"])
def test_an_id_no_variable_can_have_reads_as_unset(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch, odd: str
) -> None:
    # A lone surrogate cannot be encoded into a variable's name: os.environ.get raised
    # UnicodeEncodeError, where the documented answer is "unset".
    monkeypatch.setenv(ENABLED, "bearer_token")
    monkeypatch.setenv(CONFIGURED, "bearer_token")

    assert rt.ViksaAuth.get_param(odd, "api_key") is None
    assert rt.ViksaAuth.get_param("bearer_token", odd) is None
    assert rt.ViksaAuth.get_method_params(odd) == {}
    assert not rt.ViksaAuth.is_method_enabled(odd)
    with pytest.raises(rt.ViksaAuthError, match="is not set") as caught:
        rt.ViksaAuth.require_param("bearer_token", odd)
    assert caught.value.method_id == "bearer_token"


def test_require_param_when_the_method_is_not_declared(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIGURED, "bearer_token")
    monkeypatch.setenv("bearer_token.api_key", SECRET)

    with pytest.raises(rt.ViksaAuthError) as caught:
        rt.ViksaAuth.require_param("aviationstack_api", "api_key")

    message = str(caught.value)
    assert "'api_key' of method 'aviationstack_api' is not set" in message
    assert "'aviationstack_api.api_key'" in message
    assert "does not declare auth method 'aviationstack_api' (declared: 'bearer_token')" in message
    assert "redeploy" in message
    assert (caught.value.method_id, caught.value.param_name) == ("aviationstack_api", "api_key")
    _assert_no_secret(caught.value)


def test_require_param_when_the_method_is_not_enabled(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIGURED, "oauth_client")
    monkeypatch.setenv("oauth_client.client_id", SECRET)

    with pytest.raises(rt.ViksaAuthError, match="declared on the agent but not enabled") as caught:
        rt.ViksaAuth.require_param("oauth_client", "client_secret")

    assert "Set 'client_secret' (a value or a vault secret)" in str(caught.value)
    _assert_no_secret(caught.value)


def test_require_param_when_the_enabled_method_lacks_it(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENABLED, "bearer_token")
    monkeypatch.setenv(CONFIGURED, "bearer_token")
    monkeypatch.setenv("bearer_token.api_key", SECRET)

    with pytest.raises(rt.ViksaAuthError, match="enabled but has no such param") as caught:
        rt.ViksaAuth.require_param("bearer_token", "api_kee")

    assert "check the name, or add 'api_kee'" in str(caught.value)
    _assert_no_secret(caught.value)


def test_preferred_method_follows_the_candidates_order(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENABLED, "bearer_token, oauth_client")

    assert rt.ViksaAuth.preferred_method("oauth_client", "bearer_token") == "oauth_client"
    assert rt.ViksaAuth.preferred_method("basic", "bearer_token") == "bearer_token"
    assert rt.ViksaAuth.preferred_method("basic") is None
    # "First enabled candidate, or None" (README): no candidate, no choice, as in 0.2.
    assert rt.ViksaAuth.preferred_method() is None
    assert rt.ViksaAuth.require_method("basic", "oauth_client") == "oauth_client"
    assert rt.ViksaAuth.require_method() == "bearer_token"


def test_require_method_names_the_candidates_and_the_enabled_set(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENABLED, "basic")
    monkeypatch.setenv("basic.password", SECRET)

    with pytest.raises(rt.ViksaAuthError) as caught:
        rt.ViksaAuth.require_method("oauth_client", "bearer_token")

    message = str(caught.value)
    assert "None of the auth methods 'oauth_client', 'bearer_token' is enabled" in message
    assert "(enabled: 'basic')" in message
    assert caught.value.candidates == ("oauth_client", "bearer_token")
    _assert_no_secret(caught.value)


def test_require_method_without_anything_enabled(rt: ModuleType) -> None:
    with pytest.raises(rt.ViksaAuthError, match="No auth method is enabled for this agent"):
        rt.ViksaAuth.require_method()
    with pytest.raises(rt.ViksaAuthError, match=r"\(enabled: none\)"):
        rt.ViksaAuth.require_method("bearer_token")


@pytest.mark.parametrize("bad", [None, 3, b"bearer_token", ("bearer_token",)])
def test_non_string_ids_read_as_not_set_as_in_0_2(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch, bad: object
) -> None:
    monkeypatch.setenv(ENABLED, "bearer_token")
    monkeypatch.setenv("bearer_token.api_key", SECRET)
    monkeypatch.setenv(f"{bad}.api_key", SECRET)  # what 0.2's str.format would have read
    auth = rt.ViksaAuth

    assert auth.get_param(bad, "api_key") is None
    assert auth.get_param("bearer_token", bad) is None
    assert auth.get_method_params(bad) == {}
    assert auth.preferred_method(bad, "bearer_token") == "bearer_token"
    assert auth.preferred_method(bad) is None
    assert auth.require_method(bad, "bearer_token") == "bearer_token"
    with pytest.raises(rt.ViksaAuthError, match="must be str") as caught:
        auth.require_param(bad, "api_key")
    assert (caught.value.method_id, caught.value.param_name) == (None, "api_key")
    _assert_no_secret(caught.value)
    with pytest.raises(rt.ViksaAuthError, match="None of the auth methods") as chosen:
        auth.require_method(bad)
    assert chosen.value.candidates == (bad,)


class _LoudRepr:
    """A value whose repr would say a secret, or fail."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def __repr__(self) -> str:
        if self.fail:
            raise RuntimeError("repr failed")
        return f"<holding {SECRET}>"


def test_require_method_names_a_non_str_candidate_by_its_type_only(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The message repr()'d every candidate: a mistaken argument (the params dict, an
    # object holding a value) put a secret in it, and a failing repr replaced the error.
    monkeypatch.setenv(ENABLED, "bearer_token")
    monkeypatch.setenv("oauth.client_secret", SECRET)
    params = rt.ViksaAuth.get_method_params("oauth")
    candidates = (params, _LoudRepr(fail=False), _LoudRepr(fail=True), "oauth")

    with pytest.raises(rt.ViksaAuthError) as caught:
        rt.ViksaAuth.require_method(*candidates)

    _assert_no_secret(caught.value)
    assert "a dict, a _LoudRepr, a _LoudRepr, 'oauth'" in str(caught.value)
    assert caught.value.candidates == candidates


def test_empty_ids_are_plain_lookups_as_in_0_2(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENABLED, "bearer_token")

    assert rt.ViksaAuth.get_param("", "api_key") is None
    assert rt.ViksaAuth.get_param("bearer_token", "") is None
    assert rt.ViksaAuth.get_method_params("") == {}
    assert rt.ViksaAuth.preferred_method("", "bearer_token") == "bearer_token"
    with pytest.raises(rt.ViksaAuthError, match="does not declare auth method ''"):
        rt.ViksaAuth.require_param("", "api_key")


def test_param_env_name_still_checks_its_ids(rt: ModuleType) -> None:
    # New in 0.3, so nothing older calls it with a bad id.
    assert rt.ViksaAuth.param_env_name("bearer_token", "api_key") == "bearer_token.api_key"
    with pytest.raises(TypeError, match="method_id must be a str"):
        rt.ViksaAuth.param_env_name(None, "api_key")
    with pytest.raises(ValueError, match="param_name must not be empty"):
        rt.ViksaAuth.param_env_name("bearer_token", "")


def test_auth_error_is_a_runtime_error_that_pickles(rt: ModuleType) -> None:
    error = rt.ViksaAuthError("Configure it", method_id="m", param_name="p", candidates=("m",))

    assert isinstance(error, RuntimeError)
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is rt.ViksaAuthError
    assert (str(restored), restored.method_id, restored.param_name, restored.candidates) == (
        "Configure it",
        "m",
        "p",
        ("m",),
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ids=st.lists(method_ids, max_size=8),
    padding=st.lists(st.sampled_from(["", " ", "\t", "  ", ","]), min_size=9, max_size=9),
)
def test_any_method_list_parses_to_its_ids(
    rt: ModuleType, ids: list[str], padding: list[str]
) -> None:
    raw = ",".join(f"{padding[i]}{item}{padding[i + 1]}" for i, item in enumerate(ids))

    with mock.patch.dict(os.environ, {ENABLED: raw, CONFIGURED: f",{raw},"}):
        expected = list(dict.fromkeys(ids))
        assert rt.ViksaAuth.get_enabled_methods() == expected
        assert rt.ViksaAuth.get_configured_methods() == expected
        assert rt.ViksaAuth.preferred_method() is None
        assert rt.ViksaAuth.preferred_method(*reversed(expected)) == (
            expected[-1] if expected else None
        )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=method_ids,
    param=method_ids,
    enabled=st.lists(method_ids, max_size=3),
    configured=st.lists(method_ids, max_size=3),
    secret=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        min_size=1,
    ),
)
def test_error_messages_never_contain_param_values(
    rt: ModuleType,
    method: str,
    param: str,
    enabled: list[str],
    configured: list[str],
    secret: str,
) -> None:
    marked = f"SECRET<{secret}>"
    environment = {
        ENABLED: ",".join(enabled),
        CONFIGURED: ",".join(configured),
        f"{method}.{param}_other": marked,
    }
    for other in enabled + configured:
        environment[f"{other}.{param}"] = marked

    calls: list[Callable[[], object]] = [
        lambda: rt.ViksaAuth.require_param(method, param),
        lambda: rt.ViksaAuth.require_param(f"{method}_x", param),
        lambda: rt.ViksaAuth.require_method(f"{method}_missing"),
    ]
    errors: list[BaseException] = []
    with mock.patch.dict(os.environ, environment):
        for call in calls:
            try:
                call()
            except rt.ViksaAuthError as error:
                errors.append(error)

    assert errors  # require_method(f"{method}_missing") always fails
    for failure in errors:
        _assert_no_secret(failure, marked)
