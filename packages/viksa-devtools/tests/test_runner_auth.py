"""Auth params of the runner: parsing secrets, the worker environment, redaction."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.runner import SecretsError
from viksa_ai.devtools.runner._auth import (
    ANYWHERE_CHARS,
    AuthConfig,
    Redactor,
    parse_secret_assignment,
    parse_secrets_text,
)
from viksa_ai.devtools.runner._envkeys import is_auth_env_key

method_ids = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
param_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
# Values as a shell or a dotenv file would hold them on one line.
values = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=40,
)


def test_secret_assignment_splits_at_the_first_equals() -> None:
    assert parse_secret_assignment("bearer_token.api_key=a=b=c") == (
        "bearer_token.api_key",
        "a=b=c",
    )
    assert parse_secret_assignment("m.p=") == ("m.p", "")


@pytest.mark.parametrize(
    "text", ["no-equals-sign", "Upper.param=x", "method=x", "m.=x", "1m.p=x", "m.p.q r=x"]
)
def test_malformed_secret_never_echoes_its_text(text: str) -> None:
    with pytest.raises(SecretsError) as caught:
        parse_secret_assignment(text)
    assert text not in str(caught.value)


def test_secrets_file_in_line_format() -> None:
    text = """
        # the aviation key
        aviationstack_api.api_key = abc123
        export bearer_token.api_key="quoted value"
        oauth.client_secret='single'
        oauth.client_id=has # no comment stripping
    """
    assert parse_secrets_text(text) == {
        "aviationstack_api.api_key": "abc123",
        "bearer_token.api_key": "quoted value",
        "oauth.client_secret": "single",
        "oauth.client_id": "has # no comment stripping",
    }


def test_secrets_file_in_json_format_flat_and_nested() -> None:
    text = json.dumps({"a.key": "1", "oauth": {"client_id": "c", "client_secret": "s"}})
    assert parse_secrets_text(text) == {
        "a.key": "1",
        "oauth.client_id": "c",
        "oauth.client_secret": "s",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a.key": 5}', "must be a string"),
        ('{"a.key": "v"', "not valid JSON"),
        ('{"Bad": {"p": "v"}}', "method id"),
        ("ok.key=v\nnot a secret line\n", "line 2"),
    ],
)
def test_malformed_secrets_file_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(SecretsError, match=message):
        parse_secrets_text(text)


@given(st.text(max_size=300))
def test_any_secrets_text_parses_or_raises_secrets_error(text: str) -> None:
    try:
        parsed = parse_secrets_text(text)
    except SecretsError:
        return
    assert all(isinstance(v, str) for v in parsed.values())
    assert all(is_auth_env_key(name) for name in parsed)


@given(st.dictionaries(st.tuples(method_ids, param_names), values, max_size=5))
def test_line_format_round_trips(secrets: dict[tuple[str, str], str]) -> None:
    expected = {f"{method}.{param}": value for (method, param), value in secrets.items()}
    # Quoted, a value comes back whole: blanks and quotes inside it included.
    quoted = "\n".join(f"{name}='{value}'" for name, value in expected.items())
    assert parse_secrets_text(quoted) == expected
    # Unquoted, only the blanks around it go.
    plain = {k: v for k, v in expected.items() if v == v.strip() and v[:1] not in ("'", '"')}
    text = "\n".join(f"export {name} = {value}" for name, value in plain.items())
    assert parse_secrets_text(text) == plain


def test_environment_lists_configured_and_enabled_methods() -> None:
    config = AuthConfig(
        {"oauth.client_id": "c", "bearer.api_key": "k", "empty.key": ""},
        {"oauth": ["client_id", "client_secret"], "declared_only": ["x"]},
    )
    env = config.environment()

    assert env == {
        "oauth.client_id": "c",
        "bearer.api_key": "k",
        "VIKSA_AUTH_ENABLED_METHODS": "bearer",
        "VIKSA_AUTH_CONFIGURED_METHODS": "oauth,declared_only,bearer,empty",
    }


def test_config_repr_shows_names_never_values() -> None:
    config = AuthConfig({"bearer.api_key": "super-secret-value"})
    assert "super-secret-value" not in repr(config)
    assert "bearer.api_key" in repr(config)
    assert "super-secret-value" not in repr(config.redactor())


def test_non_string_secret_is_refused_without_its_value() -> None:
    with pytest.raises(SecretsError, match="must be a string") as caught:
        AuthConfig({"bearer.api_key": 123456789})  # type: ignore[dict-item]
    assert "123456789" not in str(caught.value)


def _holds(exc: BaseException, secret: str) -> bool:
    """Whether ``exc``, its args or an exception chained to it hold ``secret``."""
    seen: BaseException | None = exc
    while seen is not None:
        if secret in str(seen) or secret in repr(seen) or secret in repr(seen.args):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@pytest.mark.parametrize("odd", ["\x00", chr(0xD800), chr(0xDFFF)], ids=["nul", "high", "low"])
def test_a_secret_no_environment_can_carry_is_refused_without_its_value(odd: str) -> None:
    secret = f"hunter2-very-secret{odd}tail"
    # Before the check, a NUL failed the child's start with a bare ValueError (or, as a
    # call's secret, was reported as the endpoint's error) and a lone surrogate raised a
    # UnicodeEncodeError whose args held the whole secret.
    with pytest.raises(SecretsError, match=r"bearer\.api_key") as at_start:
        AuthConfig({"bearer.api_key": secret})
    with pytest.raises(SecretsError, match=r"bearer\.api_key") as for_a_call:
        AuthConfig().with_secrets({"bearer.api_key": secret})
    for caught in (at_start, for_a_call):
        assert not _holds(caught.value, secret)
        assert not _holds(caught.value, "hunter2")


def test_a_secret_with_an_undecodable_byte_is_passed_on_and_masked() -> None:
    # os.environ spells a byte that is not UTF-8 as a lone surrogate (surrogateescape):
    # the agent gets it as it is, and what it prints is masked.
    secret = "hunter2-\udc80-secret"
    config = AuthConfig({"bearer.api_key": secret})
    assert config.environment()["bearer.api_key"] == secret
    redact = config.redactor()
    assert redact(f"key={secret} url=hunter2-%80-secret") == "key=*** url=***"


@pytest.mark.parametrize("secret", ["a\ud800b-secret", "\udc80", "x\udfffy"])
def test_the_redactor_takes_any_text_without_an_error(secret: str) -> None:
    # Built for every call from what the worker was given; quote() on the str raised a
    # UnicodeEncodeError holding the secret.
    assert Redactor([secret])(f"said {secret}!") == "said ***!"


def test_redactor_replaces_raw_and_url_encoded_forms() -> None:
    redact = Redactor(["p@ss word/+"])
    text = "raw p@ss word/+ quoted p%40ss%20word%2F%2B plus p%40ss+word%2F%2B"
    assert redact(text) == "raw *** quoted *** plus ***"
    assert redact(None) is None


def test_redactor_replaces_repr_and_json_escaped_forms() -> None:
    secret = 'it\'s "q"\\é\n'
    redact = Redactor([secret])
    text = (
        f"repr {secret!r} json {json.dumps(secret)} utf8 {json.dumps(secret, ensure_ascii=False)}"
    )
    redacted = redact(text)
    assert redacted == 'repr \'***\' json "***" utf8 "***"'


secret_texts = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1)
separators = st.text(alphabet=" \n\t=:,;/'\"()[]{}&?-+@", min_size=1, max_size=5)


@settings(database=None, derandomize=True)
@given(st.lists(secret_texts, min_size=1, max_size=3), separators)
def test_redacted_text_never_holds_a_secret_standing_as_a_value(
    secrets: list[str], separator: str
) -> None:
    text = separator.join([*secrets, *reversed(secrets)])
    redacted = Redactor(secrets)(text)
    assert redacted is not None
    for secret in secrets:
        assert secret not in redacted


short_secrets = st.text(
    alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=ANYWHERE_CHARS - 1
)
# Lower case only: glued to upper-case letters, the secret has one place in the text.
long_secrets = st.text(
    alphabet=string.ascii_lowercase + string.digits + "_", min_size=ANYWHERE_CHARS, max_size=40
)
words = st.text(alphabet=string.ascii_letters, min_size=1, max_size=5)
upper_words = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=5)


@settings(database=None, derandomize=True)
@given(short_secrets, words)
def test_redaction_leaves_words_that_merely_contain_a_short_secret(
    secret: str, around: str
) -> None:
    text = f"{around}{secret}{around} and {secret}"
    assert Redactor([secret])(text) == f"{around}{secret}{around} and ***"


@settings(database=None, derandomize=True)
@given(long_secrets, upper_words)
def test_a_long_secret_is_masked_even_glued_to_other_letters(secret: str, around: str) -> None:
    # f"{key}abc" in an error or a print: read whole by anyone who sees the text.
    text = f"{around}{secret}{around} and {secret}{around}"
    assert Redactor([secret])(text) == f"{around}***{around} and ***{around}"


def test_a_one_letter_secret_does_not_garble_an_error_name() -> None:
    redact = Redactor(["r"])
    text = "SyntaxError: bad token r at 'r' (key=r)"
    assert redact(text) == "SyntaxError: bad token *** at '***' (key=***)"


def test_a_method_declared_with_a_string_of_params_is_refused() -> None:
    # A str is a Sequence[str]: "api_key" would otherwise declare the params a, p, i...
    with pytest.raises(TypeError, match=r"auth_methods\['bearer'\] must be a list") as info:
        AuthConfig({"bearer.api_key": "k"}, {"bearer": "api_key"})
    assert "['api_key']" in str(info.value)
