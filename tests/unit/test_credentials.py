"""Credentials: reading them, refusing to run without them, and the child's AWS_* variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planton.credentials import (
    ALLOW_INSTANCE_CREDENTIALS,
    EMULATOR_MAX_ATTEMPTS,
    LOCAL_ACCESS_KEY_ID,
    LOCAL_SECRET_ACCESS_KEY,
    AwsProviderConfig,
    aws_environment,
    is_loopback_endpoint,
    local_provider_config,
    provider_config_from_environment,
    provider_max_retries,
    require_credentials,
)
from planton.errors import EnvironmentNotReady

KEY_ID = "AKIAEXAMPLEKEYID1234"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
LOCAL_ENDPOINT = "http://127.0.0.1:5000"


@pytest.fixture
def empty_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


# --- provider_config_from_environment ------------------------------------------------------


def test_provider_config_reads_keys_token_profile_region_endpoint() -> None:
    config = provider_config_from_environment(
        {
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": TOKEN,
            "AWS_PROFILE": "dev",
            "AWS_REGION": "eu-west-2",
            "AWS_ENDPOINT_URL": "http://localhost:4566",
        }
    )
    assert config == AwsProviderConfig(
        region="eu-west-2",
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        session_token=TOKEN,
        profile="dev",
        endpoint_url="http://localhost:4566",
    )


def test_provider_config_aws_region_beats_default_region() -> None:
    config = provider_config_from_environment({"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "us-west-1"})
    assert config.region == "eu-west-2"


def test_provider_config_falls_back_to_default_region() -> None:
    assert provider_config_from_environment({"AWS_DEFAULT_REGION": "us-west-1"}).region == "us-west-1"
    assert provider_config_from_environment({"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-1"}).region == (
        "us-west-1"
    )


def test_provider_config_legacy_names() -> None:
    config = provider_config_from_environment({"AWS_SECURITY_TOKEN": TOKEN, "AWS_DEFAULT_PROFILE": "legacy"})
    assert config.session_token == TOKEN
    assert config.profile == "legacy"


def test_provider_config_empty_environment_is_all_none() -> None:
    assert provider_config_from_environment({}) == AwsProviderConfig()
    blank = {name: "" for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_REGION")}
    assert provider_config_from_environment(blank) == AwsProviderConfig()


def test_repr_never_shows_secrets() -> None:
    config = AwsProviderConfig(
        region="eu-west-2", access_key_id=KEY_ID, secret_access_key=SECRET, session_token=TOKEN, profile="dev"
    )
    for text in (repr(config), str(config)):
        assert SECRET not in text
        assert KEY_ID not in text
        assert TOKEN not in text
    assert "eu-west-2" in repr(config)


# --- require_credentials -------------------------------------------------------------------


def _require(environ: dict[str, str], home: Path) -> None:
    require_credentials(provider_config_from_environment(environ), environ, home)


@pytest.mark.parametrize(
    "environ",
    [
        {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET},
        {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN},
        {"AWS_PROFILE": "dev"},
        {"AWS_DEFAULT_PROFILE": "dev"},
        {"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"},
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"},
        {ALLOW_INSTANCE_CREDENTIALS: "1"},
        {ALLOW_INSTANCE_CREDENTIALS: "true"},
        {ALLOW_INSTANCE_CREDENTIALS: "YES"},
    ],
    ids=[
        "keys",
        "temporary-keys",
        "profile",
        "default-profile",
        "web-identity",
        "container-relative",
        "container-full",
        "instance-1",
        "instance-true",
        "instance-YES",
    ],
)
def test_require_credentials_accepts(environ: dict[str, str], empty_home: Path) -> None:
    _require(environ, empty_home)


@pytest.mark.parametrize("name", ["credentials", "config"])
def test_require_credentials_accepts_shared_file_in_home(empty_home: Path, name: str) -> None:
    (empty_home / ".aws").mkdir()
    (empty_home / ".aws" / name).write_text("[default]\n", encoding="utf-8")
    _require({}, empty_home)


@pytest.mark.parametrize("variable", ["AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"])
def test_require_credentials_accepts_shared_file_from_environment(
    tmp_path: Path, empty_home: Path, variable: str
) -> None:
    shared = tmp_path / "elsewhere" / "creds"
    shared.parent.mkdir()
    shared.write_text("[default]\n", encoding="utf-8")
    _require({variable: str(shared)}, empty_home)


def test_require_credentials_shared_file_variable_must_name_a_file(tmp_path: Path, empty_home: Path) -> None:
    with pytest.raises(EnvironmentNotReady, match="no AWS credentials"):
        _require({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing")}, empty_home)


def test_require_credentials_nothing_at_all(empty_home: Path) -> None:
    with pytest.raises(EnvironmentNotReady) as caught:
        _require({"PATH": "/usr/bin", "HOME": str(empty_home)}, empty_home)
    message = caught.value.message
    assert "AWS_ACCESS_KEY_ID" in message
    assert "AWS_PROFILE" in message
    assert "--local" in message
    assert ALLOW_INSTANCE_CREDENTIALS in message


@pytest.mark.parametrize("value", ["0", "false", "no", ""])
def test_require_credentials_instance_opt_in_must_be_truthy(empty_home: Path, value: str) -> None:
    with pytest.raises(EnvironmentNotReady, match="no AWS credentials"):
        _require({ALLOW_INSTANCE_CREDENTIALS: value}, empty_home)


def test_require_credentials_empty_aws_directory_is_not_enough(empty_home: Path) -> None:
    (empty_home / ".aws").mkdir()
    with pytest.raises(EnvironmentNotReady, match="no AWS credentials"):
        _require({}, empty_home)


def test_require_credentials_key_id_without_secret(empty_home: Path) -> None:
    with pytest.raises(EnvironmentNotReady, match="AWS_SECRET_ACCESS_KEY is not"):
        _require({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_PROFILE": "dev"}, empty_home)


def test_require_credentials_secret_without_key_id(empty_home: Path) -> None:
    with pytest.raises(EnvironmentNotReady, match="AWS_ACCESS_KEY_ID is not") as caught:
        _require({"AWS_SECRET_ACCESS_KEY": SECRET}, empty_home)
    assert SECRET not in caught.value.message


# --- is_loopback_endpoint ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://127.0.0.1", True),
        ("http://127.1.2.3:4566/", True),
        ("http://localhost:4566", True),
        ("http://LOCALHOST:4566", True),
        ("https://localhost", True),
        ("http://[::1]:5000", True),
        ("http://[::1]", True),
        ("http://[0:0:0:0:0:0:0:1]:5000", True),
        ("https://dynamodb.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:5000", False),
        ("http://128.0.0.1:5000", False),
        ("http://127.0.0.1.nip.io:5000", False),
        ("http://localhost.example.com", False),
        ("http://[::2]:5000", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback_endpoint(url: str | None, expected: bool) -> None:
    assert is_loopback_endpoint(url) is expected


# --- aws_environment -----------------------------------------------------------------------

USER_ENVIRON = {
    "AWS_ACCESS_KEY_ID": "real-key",
    "AWS_SECRET_ACCESS_KEY": "real-secret",
    "AWS_SESSION_TOKEN": "real-token",
    "AWS_SECURITY_TOKEN": "real-legacy-token",
    "AWS_PROFILE": "prod",
    "AWS_DEFAULT_PROFILE": "prod-legacy",
    "AWS_REGION": "eu-west-2",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ENDPOINT_URL": "https://proxy.example.com",
    "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamo-proxy.example.com",
    "AWS_CA_BUNDLE": "/etc/ssl/corp.pem",
    "AWS_RETRY_MODE": "adaptive",
    "AWS_STS_REGIONAL_ENDPOINTS": "regional",
    "AWS_CONFIG_FILE": "/home/me/.aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/home/me/.aws/credentials",
    "PATH": "/usr/bin",
    "NOT_AWS": "x",
}


def test_aws_environment_non_local_passes_settings_through() -> None:
    environ = {
        "AWS_ENDPOINT_URL": "https://proxy.example.com",
        "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamo-proxy.example.com",
        "AWS_CA_BUNDLE": "/etc/ssl/corp.pem",
        "AWS_RETRY_MODE": "adaptive",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_PROFILE": "dev",
        "AWS_REGION": "eu-west-2",
        "PATH": "/usr/bin",
        "NOT_AWS": "x",
    }
    config = provider_config_from_environment(environ)
    child = aws_environment(config, environ, local=False)
    assert child == {
        "AWS_ENDPOINT_URL": "https://proxy.example.com",
        "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamo-proxy.example.com",
        "AWS_CA_BUNDLE": "/etc/ssl/corp.pem",
        "AWS_RETRY_MODE": "adaptive",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_PROFILE": "dev",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }


def test_aws_environment_non_local_region_and_keys_come_from_config() -> None:
    # The config is what the stack input decided (e.g. the manifest's region), not the raw environment.
    config = AwsProviderConfig(region="ap-south-1", access_key_id=KEY_ID, secret_access_key=SECRET)
    child = aws_environment(config, USER_ENVIRON, local=False)
    assert child["AWS_REGION"] == "ap-south-1"
    assert child["AWS_DEFAULT_REGION"] == "ap-south-1"
    assert child["AWS_ACCESS_KEY_ID"] == KEY_ID
    assert child["AWS_SECRET_ACCESS_KEY"] == SECRET
    # Provider-config variables the config leaves unset are not copied from the environment.
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        assert name not in child
    # Other AWS_* settings pass through; non-AWS variables are not this function's business.
    assert child["AWS_CA_BUNDLE"] == "/etc/ssl/corp.pem"
    assert child["AWS_ENDPOINT_URL_DYNAMODB"] == "https://dynamo-proxy.example.com"
    assert child["AWS_CONFIG_FILE"] == "/home/me/.aws/config"
    assert "PATH" not in child
    assert "NOT_AWS" not in child


def test_aws_environment_local_passes_nothing_of_the_user() -> None:
    config = local_provider_config(LOCAL_ENDPOINT, "eu-west-2")
    child = aws_environment(config, USER_ENVIRON, local=True)
    assert child == {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_ACCESS_KEY,
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ENDPOINT_URL": LOCAL_ENDPOINT,
        "AWS_MAX_ATTEMPTS": EMULATOR_MAX_ATTEMPTS,
    }
    assert "real-key" not in child.values()
    assert "real-secret" not in child.values()


def test_aws_environment_local_ignores_user_max_attempts() -> None:
    config = local_provider_config(LOCAL_ENDPOINT, None)
    child = aws_environment(config, {**USER_ENVIRON, "AWS_MAX_ATTEMPTS": "25"}, local=True)
    assert child["AWS_MAX_ATTEMPTS"] == "2"
    assert child["AWS_REGION"] == "us-east-1"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:5000", "http://localhost:4566", "http://[::1]:5000"])
def test_aws_environment_max_attempts_default_for_loopback(endpoint: str) -> None:
    config = AwsProviderConfig(region="us-east-1", profile="dev", endpoint_url=endpoint)
    child = aws_environment(config, {"AWS_ENDPOINT_URL": endpoint}, local=False)
    assert child["AWS_MAX_ATTEMPTS"] == "2"
    assert child["AWS_ENDPOINT_URL"] == endpoint


@pytest.mark.parametrize("service", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_STS"])
def test_per_service_loopback_endpoint_caps_retries_and_passes_through(service: str) -> None:
    environ = {service: LOCAL_ENDPOINT, "AWS_PROFILE": "dev"}
    config = provider_config_from_environment(environ)
    assert config.endpoints == {service: LOCAL_ENDPOINT}
    child = aws_environment(config, environ, local=False)
    assert child["AWS_MAX_ATTEMPTS"] == "2"
    assert child[service] == LOCAL_ENDPOINT


def test_per_service_endpoints_are_read_sorted_and_never_empty() -> None:
    environ = {
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2",
        "AWS_ENDPOINT_URL_S3": "",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:3",
    }
    config = provider_config_from_environment(environ)
    assert config.service_endpoints == (
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"),
        ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1"),
    )
    assert config.endpoints == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:3",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2",
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1",
    }


def test_aws_environment_user_max_attempts_wins_when_not_local() -> None:
    environ = {"AWS_ENDPOINT_URL": LOCAL_ENDPOINT, "AWS_MAX_ATTEMPTS": "9"}
    config = AwsProviderConfig(region="us-east-1", profile="dev", endpoint_url=LOCAL_ENDPOINT)
    assert aws_environment(config, environ, local=False)["AWS_MAX_ATTEMPTS"] == "9"


@pytest.mark.parametrize("endpoint", [None, "https://dynamodb.eu-west-2.amazonaws.com"])
def test_aws_environment_no_max_attempts_for_real_endpoints(endpoint: str | None) -> None:
    environ = {"AWS_ENDPOINT_URL": endpoint} if endpoint else {}
    config = AwsProviderConfig(region="eu-west-2", profile="dev", endpoint_url=endpoint)
    assert "AWS_MAX_ATTEMPTS" not in aws_environment(config, environ, local=False)


# --- provider_max_retries: the provider reads max_retries, never AWS_MAX_ATTEMPTS -------------


@pytest.mark.parametrize(
    ("endpoint", "environ", "local", "expected"),
    [
        (None, {}, False, None),  # real AWS: the provider's own default
        ("http://127.0.0.1:5000", {}, False, 2),  # an emulator: two attempts, at once
        ("http://localhost:5000", {"AWS_MAX_ATTEMPTS": "5"}, False, 5),  # the user's own, honoured
        (None, {"AWS_MAX_ATTEMPTS": "7"}, False, 7),
        (None, {"AWS_MAX_ATTEMPTS": "many"}, False, None),  # not a number: the provider's default
        (None, {"AWS_MAX_ATTEMPTS": "0"}, False, None),
        ("http://127.0.0.1:5000", {"AWS_MAX_ATTEMPTS": "9"}, True, 2),  # --local: nothing of the user's
    ],
)
def test_provider_max_retries(endpoint: str | None, environ: dict[str, str], local: bool, expected: int | None) -> None:
    config = AwsProviderConfig(region="us-east-1", endpoint_url=endpoint)
    assert provider_max_retries(config, environ, local=local) == expected
