"""AWS credentials: environment -> stack input -> the terraform process's environment.

The stack input pairs the manifest (``target``) with the provider configuration
(``provider_config``: credentials and region). Credentials leave planton only as environment
variables of the terraform child process: never in a file, never in an argument, never printed.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from planton.errors import EnvironmentNotReady
from planton.region import LOCAL_DEFAULT_REGION
from planton.stack_input import ProviderConfigInput

# Dummy keys for the local emulator: real credentials are never sent to it.
LOCAL_ACCESS_KEY_ID = "planton-local"
LOCAL_SECRET_ACCESS_KEY = "planton-local"  # noqa: S105 - a placeholder the emulator accepts

# Against an emulator the provider would retry an HTTP 500 twenty-five times with back-off,
# which looks like a hang; two attempts surface the real error quickly.
EMULATOR_MAX_ATTEMPTS = "2"


def provider_max_retries(config: AwsProviderConfig, environ: Mapping[str, str], *, local: bool) -> int | None:
    """The attempts each API call gets, for the provider's ``max_retries`` (it does not read
    AWS_MAX_ATTEMPTS itself): the user's AWS_MAX_ATTEMPTS when it is a whole number (not with
    --local: nothing of the user's AWS setup reaches the emulator), else 2 against a loopback
    endpoint, else None (the provider's default, 25)."""
    given = "" if local else environ.get("AWS_MAX_ATTEMPTS", "").strip()
    if given.isdigit() and int(given) >= 1:
        return int(given)
    if any(is_loopback_endpoint(url) for url in config.endpoints.values()):
        return int(EMULATOR_MAX_ATTEMPTS)
    return None


ALLOW_INSTANCE_CREDENTIALS = "PLANTON_ALLOW_INSTANCE_CREDENTIALS"

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
_SERVICE_ENDPOINT_PREFIX = ENDPOINT_VARIABLE + "_"

# Variables that make up provider_config; everything else AWS_* is non-secret SDK config.
_PROVIDER_CONFIG_VARIABLES = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    }
)

# Other credential sources the AWS SDK finds by itself; their presence is enough for us.
_INDIRECT_SOURCES = (
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@dataclass(frozen=True)
class AwsProviderConfig:
    """Credentials and region for the aws provider. ``repr`` never shows a secret."""

    region: str | None = None
    # The account the credentials must belong to (the provider's allowed_account_ids).
    account_id: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    endpoint_url: str | None = None
    # The SDK's per-service endpoints (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_STS, ...),
    # as (variable, url) pairs sorted by variable.
    service_endpoints: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        shown = "set" if self.access_key_id else "unset"
        return (
            f"AwsProviderConfig(region={self.region!r}, account_id={self.account_id!r}, profile={self.profile!r}, "
            f"access_key={shown}, endpoint_url={self.endpoint_url!r}, service_endpoints={self.service_endpoints!r})"
        )

    @property
    def endpoints(self) -> dict[str, str]:
        """Every endpoint override, by its variable's name: where terraform will really send
        requests. Empty for real AWS."""
        general = {ENDPOINT_VARIABLE: self.endpoint_url} if self.endpoint_url else {}
        return {**general, **dict(self.service_endpoints)}


def region_from_environment(environ: Mapping[str, str]) -> str | None:
    """``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else None."""
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None


def provider_config_from_environment(environ: Mapping[str, str]) -> AwsProviderConfig:
    """Read the provider configuration from the environment, without judging it."""
    return AwsProviderConfig(
        region=region_from_environment(environ),
        access_key_id=environ.get("AWS_ACCESS_KEY_ID") or None,
        secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY") or None,
        session_token=environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None,
        profile=environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or None,
        endpoint_url=environ.get(ENDPOINT_VARIABLE) or None,
        service_endpoints=tuple(
            sorted(
                (name, value) for name, value in environ.items() if name.startswith(_SERVICE_ENDPOINT_PREFIX) and value
            )
        ),
    )


def merge_provider_config(layers: Sequence[ProviderConfigInput], environment: AwsProviderConfig) -> AwsProviderConfig:
    """The provider configs of files (a stack input's ``provider_config``, then
    ``--aws-provider-config``: each over the ones before it) over the environment's. Keys come as
    one set: when a layer has them, none of the keys, token or profile below it mix in (a stale
    AWS_SESSION_TOKEN would otherwise be sent with other keys). The region and account id are
    taken one by one; endpoint overrides always come from the environment."""
    merged = environment
    for layer in layers:
        config = layer.config
        merged = replace(
            merged,
            region=config.region or merged.region,
            account_id=config.account_id or merged.account_id,
        )
        if config.access_key_id:
            merged = replace(
                merged,
                access_key_id=config.access_key_id,
                secret_access_key=config.secret_access_key,
                session_token=config.session_token,
                profile=None,
            )
    return merged


def local_provider_config(endpoint_url: str, region: str | None) -> AwsProviderConfig:
    """Dummy credentials for the local emulator at ``endpoint_url``."""
    return AwsProviderConfig(
        region=region or LOCAL_DEFAULT_REGION,
        access_key_id=LOCAL_ACCESS_KEY_ID,
        secret_access_key=LOCAL_SECRET_ACCESS_KEY,
        endpoint_url=endpoint_url,
    )


def require_credentials(config: AwsProviderConfig, environ: Mapping[str, str], home: Path | None) -> None:
    """Stop before terraform runs when no credential source exists, saying what to set."""
    if config.access_key_id and not config.secret_access_key:
        raise EnvironmentNotReady(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, "
            "or unset AWS_ACCESS_KEY_ID to use a profile"
        )
    if config.secret_access_key and not config.access_key_id:
        raise EnvironmentNotReady("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both")
    if config.access_key_id or config.profile:
        return
    if any(environ.get(name) for name in _INDIRECT_SOURCES):
        return
    if environ.get(ALLOW_INSTANCE_CREDENTIALS, "").lower() in {"1", "true", "yes"}:
        return
    defaults = (home / ".aws" / "credentials", home / ".aws" / "config") if home else (None, None)
    shared_files = [
        Path(given)
        for given in (
            environ.get("AWS_SHARED_CREDENTIALS_FILE") or defaults[0],
            environ.get("AWS_CONFIG_FILE") or defaults[1],
        )
        if given
    ]
    if any(os.path.isfile(path) for path in shared_files):
        return
    raise EnvironmentNotReady(
        "no AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(plus AWS_SESSION_TOKEN for temporary credentials), or AWS_PROFILE with a profile in "
        "~/.aws/config; on EC2/ECS with an instance role set PLANTON_ALLOW_INSTANCE_CREDENTIALS=1. "
        "To try planton without AWS, add --local."
    )


def is_loopback_endpoint(url: str | None) -> bool:
    """True for an endpoint on this machine (an emulator), such as http://127.0.0.1:5000."""
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def aws_environment(config: AwsProviderConfig, environ: Mapping[str, str], *, local: bool) -> dict[str, str]:
    """The AWS_* variables the terraform child gets.

    Non-secret SDK settings pass through from ``environ``; the provider configuration is
    written from ``config``. In local mode nothing of the user's AWS setup passes through, so
    real credentials or endpoint overrides can never reach (or bypass) the emulator.
    """
    child: dict[str, str] = {}
    if not local:
        for name, value in environ.items():
            if name.startswith("AWS_") and name not in _PROVIDER_CONFIG_VARIABLES:
                child[name] = value
    else:
        # Keep the SDK away from the user's shared files and instance metadata.
        child["AWS_CONFIG_FILE"] = os.devnull
        child["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        child["AWS_EC2_METADATA_DISABLED"] = "true"
    settings = {
        "AWS_ACCESS_KEY_ID": config.access_key_id,
        "AWS_SECRET_ACCESS_KEY": config.secret_access_key,
        "AWS_SESSION_TOKEN": config.session_token,
        "AWS_PROFILE": config.profile,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ENDPOINT_URL": config.endpoint_url,
    }
    child.update({name: value for name, value in settings.items() if value})
    if any(is_loopback_endpoint(url) for url in config.endpoints.values()):
        child.setdefault("AWS_MAX_ATTEMPTS", EMULATOR_MAX_ATTEMPTS)
    return child
