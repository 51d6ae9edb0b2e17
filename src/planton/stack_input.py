"""The stack input file (``--stack-input``) and the AWS provider config file
(``--aws-provider-config``), as Project Planton spells them.

A stack input is YAML with ``target`` (an AwsDynamodb manifest) and ``provider_config``
(``account_id``, ``access_key_id``, ``secret_access_key``, ``session_token``, ``region``); a
provider config file is the ``provider_config`` part alone. Both are read with the same strict,
bounded YAML loader as manifests, validated strictly (unknown fields are errors, with the closest
field suggested), and never echoed: the secrets in them reach only terraform's environment.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from planton import secrets
from planton.findings import Finding, notice
from planton.manifest.base import ManifestModel, Problems, Region, describe_value, raise_problems
from planton.manifest.loader import DEFAULT_WAIT_SECONDS, YamlFileKind, read_yaml_mapping, validate_as

STACK_INPUT_FILE = YamlFileKind(
    "stack input",
    "--stack-input",
    "target (the manifest) and provider_config",
    "give target (an AwsDynamodb manifest) and provider_config",
    private=True,
)
PROVIDER_CONFIG_FILE = YamlFileKind(
    "AWS provider config",
    "--aws-provider-config",
    "account_id, access_key_id, secret_access_key, session_token and region",
    "give account_id, access_key_id, secret_access_key, session_token or region",
    private=True,
)

_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def _quoted(value: Any) -> Any:
    # YAML reads an unquoted 123456789012 as a number, and one with a leading zero not as the
    # user meant it at all: say so, rather than "must be a string".
    if isinstance(value, int) and not isinstance(value, bool):
        raise PydanticCustomError(
            "account_id_number",
            "must be quoted text ('{value}'): YAML reads it as a number, which loses leading zeros",
            {"value": value},
        )
    return value


def _account_id(value: str) -> str:
    if not _ACCOUNT_ID.fullmatch(value):
        raise PydanticCustomError(
            "account_id", "{value} is not an AWS account id; use its 12 digits", {"value": describe_value(value)}
        )
    return value


class ProviderConfigModel(ManifestModel):
    """Credentials and account for the aws provider. Secrets never appear in a repr."""

    account_id: Annotated[str, BeforeValidator(_quoted), AfterValidator(_account_id)] | None = Field(
        default=None, description="The 12-digit account the credentials must belong to (quote it in YAML)."
    )
    access_key_id: str | None = Field(default=None, repr=False)
    secret_access_key: str | None = Field(default=None, repr=False)
    session_token: str | None = Field(default=None, repr=False)
    region: Region | None = None

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> ProviderConfigModel:
        problems: Problems = []
        if self.access_key_id and not self.secret_access_key:
            problems.append((("secret_access_key",), "required with access_key_id; give both", None))
        if self.secret_access_key and not self.access_key_id:
            problems.append((("access_key_id",), "required with secret_access_key; give both", None))
        if self.session_token and not (self.access_key_id and self.secret_access_key):
            problems.append(
                (
                    ("session_token",),
                    "a session token needs the access_key_id and secret_access_key it belongs to",
                    None,
                )
            )
        raise_problems("ProviderConfig", problems)
        return self

    @property
    def has_secrets(self) -> bool:
        return bool(self.secret_access_key or self.session_token)


class StackInputModel(ManifestModel):
    """``target`` is validated afterwards by the manifest models (in its own dialect)."""

    target: dict[str, Any] | None = None
    provider_config: ProviderConfigModel | None = None


@dataclass(frozen=True)
class ProviderConfigInput:
    """A provider config read from a file, and the file's name for messages."""

    source: str
    config: ProviderConfigModel = field(repr=False)


@dataclass(frozen=True)
class StackInputFile:
    """What a stack input file holds."""

    path: Path
    target: Mapping[str, Any] | None
    provider_config: ProviderConfigInput | None
    regular_file: bool
    warnings: tuple[Finding, ...] = ()


def read_stack_input(path: Path, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> StackInputFile:
    """Read and validate ``--stack-input``: its shape and provider_config here; its target is
    left for the manifest loader."""
    document, regular = read_yaml_mapping(path, STACK_INPUT_FILE, wait_seconds=wait_seconds)
    _remember_secrets(document.get("provider_config"), f"{path} provider_config")
    model = validate_as(StackInputModel, document, str(path), what=STACK_INPUT_FILE.what)
    config = model.provider_config
    warnings = _exposed_secrets(path, "--stack-input") if config is not None and config.has_secrets else ()
    return StackInputFile(
        path=path,
        target=model.target,
        provider_config=ProviderConfigInput(f"{path} (provider_config)", config) if config is not None else None,
        regular_file=regular,
        warnings=warnings,
    )


def read_provider_config(
    path: Path, *, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> tuple[ProviderConfigInput, tuple[Finding, ...]]:
    """Read and validate ``--aws-provider-config``, and any warning about its permissions."""
    document, _ = read_yaml_mapping(path, PROVIDER_CONFIG_FILE, wait_seconds=wait_seconds)
    _remember_secrets(document, str(path))
    config = validate_as(ProviderConfigModel, document, str(path), what=PROVIDER_CONFIG_FILE.what)
    warnings = _exposed_secrets(path, "--aws-provider-config") if config.has_secrets else ()
    return ProviderConfigInput(str(path), config), warnings


_SECRET_FIELDS = ("access_key_id", "secret_access_key", "session_token")


def _remember_secrets(config: object, where: str) -> None:
    """The credentials a file holds, noted as read (before validation: a bug's message may quote
    any value it was given), so that a crash report blanks them as it does the environment's."""
    if isinstance(config, Mapping):
        for field_name in _SECRET_FIELDS:
            value = config.get(field_name)
            if isinstance(value, str):
                secrets.remember(f"{where} {field_name}", value)


def _exposed_secrets(path: Path, option: str) -> tuple[Finding, ...]:
    """A warning when a file holding AWS secrets can be read by every user of this machine."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ()
    if not stat.S_ISREG(mode) or not mode & stat.S_IROTH:
        return ()
    return (
        notice(
            "readable-secrets",
            f"{option} {path} holds AWS secrets and every user of this machine can read it",
            fix=f"make it private: chmod 600 {path}",
        ),
    )
