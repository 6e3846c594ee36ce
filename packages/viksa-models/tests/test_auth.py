"""Auth models: defaults, extras, closed requests and secrets kept out of sight."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from viksa_ai.models.auth import (
    ApiKeyRequest,
    KeyValidationRequest,
    KeyValidationResponse,
    LoginRequest,
    RefreshRequest,
    SwitchOrgRequest,
    SwitchProjectRequest,
    TokenResponse,
    UserResponse,
)

SECRET = "s3cr3t-value-never-shown"

TOKEN_FIELDS = {
    "access_token": SECRET,
    "refresh_token": SECRET,
    "expires_in": 900,
    "user_id": "usr_1",
    "account_id": "acc_1",
}


def test_token_response_defaults() -> None:
    tokens = TokenResponse.model_validate(TOKEN_FIELDS)

    assert tokens.token_type == "bearer"
    assert tokens.org_id is None
    assert tokens.project_id is None


def test_key_validation_response_defaults() -> None:
    answer = KeyValidationResponse.model_validate({"valid": False, "error": "revoked"})

    assert answer.scopes == []
    assert (answer.account_id, answer.org_id, answer.project_id) == (None, None, None)
    assert answer.error == "revoked"


def test_api_key_request_description_is_optional() -> None:
    assert ApiKeyRequest(name="ci").to_wire() == {"name": "ci", "description": None}


def test_user_response_keeps_every_other_field() -> None:
    user = UserResponse.model_validate(
        {"id": "u", "email": "a@b.c", "account_id": "acc", "name": "Ada", "roles": ["owner"]}
    )

    assert user.email == "a@b.c"
    assert user.model_extra == {"name": "Ada", "roles": ["owner"]}
    assert user.to_wire()["roles"] == ["owner"]


def test_responses_keep_unknown_fields() -> None:
    tokens = TokenResponse.model_validate({**TOKEN_FIELDS, "session_id": "s1"})

    assert tokens.model_extra == {"session_id": "s1"}


@pytest.mark.parametrize(
    ("model_type", "data"),
    [
        (LoginRequest, {"email": "a@b.c", "password": SECRET}),
        (RefreshRequest, {"refresh_token": SECRET}),
        (SwitchOrgRequest, {"org_id": "o"}),
        (SwitchProjectRequest, {"project_id": "p"}),
        (ApiKeyRequest, {"name": "ci"}),
        (KeyValidationRequest, {"api_key": SECRET}),
    ],
)
def test_requests_reject_unknown_fields_by_name(
    model_type: type[BaseModel], data: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as exc:
        model_type.model_validate({**data, "org_idd": "typo"})

    [error] = exc.value.errors()
    assert error["loc"] == ("org_idd",)
    assert error["type"] == "extra_forbidden"


def test_missing_field_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        SwitchOrgRequest.model_validate({})

    [error] = exc.value.errors()
    assert error["loc"] == ("org_id",)
    assert error["type"] == "missing"


@pytest.mark.parametrize(
    "model",
    [
        LoginRequest(email="a@b.c", password=SECRET),
        RefreshRequest(refresh_token=SECRET),
        KeyValidationRequest(api_key=SECRET),
        TokenResponse.model_validate(TOKEN_FIELDS),
    ],
    ids=lambda model: type(model).__name__,
)
def test_secrets_stay_out_of_repr_and_str(model: BaseModel) -> None:
    assert SECRET not in repr(model)
    assert SECRET not in str(model)
    assert SECRET in model.model_dump_json()  # the wire still carries it


def test_token_fields_the_sdk_does_not_know_yet_stay_out_of_repr_and_str() -> None:
    # The model is open: an id_token or a session secret the platform adds later was
    # shown in repr (and str) beside the hidden access and refresh tokens.
    extras = {"id_token": SECRET, "session_secret": SECRET, "mfa_key": SECRET, "scope": "read"}
    model = TokenResponse.model_validate({**TOKEN_FIELDS, **extras})
    for text in (repr(model), str(model)):
        assert SECRET not in text
        assert "scope='read'" in text  # other unknown fields still show
        assert "token_type='bearer'" in text  # and known ones named like a secret
    assert model.model_dump()["id_token"] == SECRET  # the wire still carries it


@pytest.mark.parametrize(
    ("model_type", "data"),
    [
        (LoginRequest, {"email": 42, "password": SECRET}),
        (LoginRequest, {"password": SECRET}),
        (LoginRequest, {"email": "a@b.c", "password": SECRET, "extra": SECRET}),
        (RefreshRequest, {"refresh_token": SECRET, "bad": 1}),
        (KeyValidationRequest, {"api_key": SECRET, "bad": 1}),
        (TokenResponse, {**TOKEN_FIELDS, "expires_in": "soon"}),
        (TokenResponse, {"access_token": SECRET}),
    ],
)
def test_secrets_stay_out_of_validation_errors(
    model_type: type[BaseModel], data: dict[str, object]
) -> None:
    with pytest.raises(ValidationError) as exc:
        model_type.model_validate(data)

    assert SECRET not in str(exc.value)
    assert SECRET not in repr(exc.value)


def test_secret_fields_are_still_required_strings() -> None:
    with pytest.raises(ValidationError) as exc:
        LoginRequest.model_validate({"email": "a@b.c", "password": 1234})

    [error] = exc.value.errors()
    assert error["loc"] == ("password",)
