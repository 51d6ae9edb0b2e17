"""``planton validate`` and ``planton render``: a manifest checked, and the variables terraform
would get for it. Pure Python: nothing written, nothing run, so nothing here imports the
runner, the workspace or the emulator (``request`` builds a tofu command on top of this)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from planton.backend import BackendFlags, select_backend
from planton.credentials import merge_provider_config, provider_config_from_environment
from planton.errors import UsageError
from planton.manifest.loader import DEFAULT_WAIT_SECONDS
from planton.manifest.normalise import table_from_manifest
from planton.region import resolve_region
from planton.render import render_variables, variables_json
from planton.source import LoadedInput, ManifestSource, load_input
from planton.table import TableDefinition

PIPE_TIMEOUT_ENV = "PLANTON_PIPE_TIMEOUT"
_MAX_PIPE_TIMEOUT = 3600.0


def pipe_timeout(environ: Mapping[str, str]) -> float:
    """How long a manifest may take to arrive through a pipe, FIFO or device, in seconds."""
    value = environ.get(PIPE_TIMEOUT_ENV)
    if not value:
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= _MAX_PIPE_TIMEOUT:
        raise UsageError(
            f"{PIPE_TIMEOUT_ENV}: {value!r} is not a number of seconds between 0 and {_MAX_PIPE_TIMEOUT:g}; "
            f"unset it for the default of {DEFAULT_WAIT_SECONDS:g}"
        )
    return seconds


@dataclass(frozen=True)
class Validated:
    """A manifest that passed validation, and what to tell the user about its inputs."""

    loaded: LoadedInput
    table: TableDefinition


def validate_manifest(source: ManifestSource, environ: Mapping[str, str]) -> Validated:
    """Load and validate a manifest (with its stack input and ``--set`` overrides); pure Python,
    no terraform, nothing written."""
    loaded = load_input(source, wait_seconds=pipe_timeout(environ))
    table = table_from_manifest(loaded.manifest.model)
    # The backend labels are part of the manifest: a misspelled one is a validation error here
    # too, never a silent fall back to local state.
    select_backend(table.identity.labels, BackendFlags(), region="", endpoints={}, manifest=str(loaded.manifest.path))
    return Validated(loaded, table)


def render_manifest(source: ManifestSource, environ: Mapping[str, str], *, local: bool = False) -> str:
    """The variables file terraform would get for the manifest (``planton render``): the
    region resolved as a tofu command resolves it; nothing written, nothing run."""
    validated = validate_manifest(source, environ)
    config = merge_provider_config(validated.loaded.provider_configs, provider_config_from_environment(environ))
    region = resolve_region(validated.table.aws_region, config.region, local=local)
    return account_variables(validated.table, region, None if local else config.account_id)


def account_variables(table: TableDefinition, region: str, account_id: str | None) -> str:
    """The variables file for ``table`` in ``region``; with ``account_id``, bound to that account."""
    variables = render_variables(table, region)
    if account_id:
        # The provider refuses credentials of any other account (allowed_account_ids).
        variables["allowed_account_ids"] = [account_id]
    return variables_json(variables)
