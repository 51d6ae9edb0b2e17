"""One tofu/terraform command for one manifest, start to finish.

The data flows one way: manifest file -> model -> table definition -> variables + stack input
-> workspace -> runner. Everything that can fail for a user's reason (manifest, region, binary,
credentials, mirror) is checked before anything is written or started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from planton import emulator
from planton.credentials import (
    LOCAL_DEFAULT_REGION,
    AwsProviderConfig,
    StackInput,
    aws_environment,
    effective_region,
    local_provider_config,
    provider_config_from_environment,
    require_credentials,
)
from planton.environment import base_environment, child_environment
from planton.errors import DETAILED_CHANGES, EXIT_OK, EXIT_TERRAFORM_FAILED, UsageError
from planton.manifest import load_manifest
from planton.manifest.loader import DEFAULT_WAIT_SECONDS
from planton.manifest.normalise import table_from_manifest
from planton.paths import expand_path
from planton.render import render_variables, variables_json
from planton.runner import CommandOptions, Invocation, RunResult, build_args, find_binary, run
from planton.table import TableDefinition
from planton.workspace import (
    Workspace,
    bundled_module,
    init_fingerprint,
    module_files,
    resolve_work_dir,
    target_label,
    validate_plugin_mirror,
    workspace_key,
)

Notify = Callable[[str], None]

PIPE_TIMEOUT_ENV = "PLANTON_PIPE_TIMEOUT"
PLUGIN_MIRROR_ENV = "PLANTON_PLUGIN_MIRROR"
_MAX_PIPE_TIMEOUT = 3600.0

# Commands that talk to AWS and therefore need credentials (init only installs providers).
_NEEDS_CREDENTIALS = frozenset({"plan", "apply", "destroy", "refresh"})
TOFU_COMMANDS = ("init", "plan", "apply", "destroy", "refresh", "output")


@dataclass(frozen=True)
class TofuRequest:
    """A ``planton tofu <command>`` as the user asked for it."""

    command: str
    manifest_path: Path
    local: bool = False
    binary: str | None = None
    plugin_mirror: Path | None = None
    work_dir: Path | None = None
    auto_approve: bool = False
    detailed_exitcode: bool = False
    colour: bool = True


@dataclass(frozen=True)
class PreparedRun:
    """Everything decided before anything is written or run."""

    stack_input: StackInput
    workspace: Workspace
    binary: Path
    plugin_dir: Path | None
    variables: str


def validate_manifest(path: Path, environ: Mapping[str, str]) -> TableDefinition:
    """Load and validate a manifest; pure Python, no terraform, nothing written."""
    return table_from_manifest(load_manifest(path, wait_seconds=pipe_timeout(environ)).model)


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


def prepare(request: TofuRequest, environ: Mapping[str, str], home: Path | None, notify: Notify) -> PreparedRun:
    """Check everything and decide every path and value, without side effects except starting
    the local emulator when ``--local`` asks for it (after all other checks passed)."""
    loaded = load_manifest(request.manifest_path, wait_seconds=pipe_timeout(environ))
    table = table_from_manifest(loaded.model)
    work_dir = resolve_work_dir(request.manifest_path, request.work_dir, environ, manifest_is_file=loaded.regular_file)
    binary = find_binary(request.binary, environ)
    plugin_dir = _plugin_mirror(request.plugin_mirror, environ)

    environment_config = provider_config_from_environment(environ)
    if request.local:
        region = table.aws_region or LOCAL_DEFAULT_REGION
    else:
        if request.command in _NEEDS_CREDENTIALS:
            require_credentials(environment_config, environ, home)
        region = effective_region(table.aws_region, environment_config)
    variables = variables_json(render_variables(table, region))

    config: AwsProviderConfig
    if request.local:
        running, started = emulator.ensure_running(emulator.state_dir(environ))
        verb = "started" if started else "using"
        notify(f"{verb} the local emulator at {running.endpoint_url} (stop it with: planton local stop)")
        config = local_provider_config(running.endpoint_url, region)
    else:
        config = replace(environment_config, region=region)

    label = target_label(local=request.local, endpoint_url=config.endpoint_url)
    workspace = Workspace(work_dir / label / workspace_key(table.identity))
    return PreparedRun(
        stack_input=StackInput(target=loaded.document, provider_config=config),
        workspace=workspace,
        binary=binary,
        plugin_dir=plugin_dir,
        variables=variables,
    )


@dataclass(frozen=True)
class TofuOutcome:
    """How a ``planton tofu`` command ended: the last terraform command that ran (an automatic
    ``init`` that failed stops there) and its result."""

    command: str
    result: RunResult


def run_tofu(request: TofuRequest, environ: Mapping[str, str], home: Path | None, notify: Notify) -> TofuOutcome:
    """Run ``request.command`` for the manifest; init first when the workspace needs it."""
    if request.command not in TOFU_COMMANDS:
        raise ValueError(f"unknown tofu command {request.command!r}")
    prepared = prepare(request, environ, home, notify)
    base, warnings = base_environment(environ)
    for warning in warnings:
        notify(warning)
    env = child_environment(base, aws_environment(prepared.stack_input.provider_config, environ, local=request.local))
    workspace = prepared.workspace
    notify(f"workspace {workspace.root}")
    notify(f"state {workspace.state_path}")
    options = CommandOptions(
        auto_approve=request.auto_approve,
        colour=request.colour,
        plugin_dir=prepared.plugin_dir,
        detailed_exitcode=request.detailed_exitcode,
    )

    def invoke(command: str, *, capture: bool = False, stdout_to_stderr: bool = False) -> RunResult:
        invocation = Invocation(prepared.binary, build_args(command, options), workspace.root, env)
        return run(invocation, capture=capture, stdout_to_stderr=stdout_to_stderr)

    with workspace.locked():
        module = module_files(bundled_module())
        workspace.prepare(module, prepared.variables)
        fingerprint = init_fingerprint(module, prepared.binary)
        if request.command == "init" or workspace.needs_init(fingerprint):
            if request.command != "init":
                notify(f"initialising the workspace ({prepared.binary.name} init)")
            # An automatic init must not mix its text into the command's stdout (output's JSON).
            result = invoke("init", stdout_to_stderr=request.command != "init")
            if result.exit_code != 0 or result.interrupted_by is not None:
                return TofuOutcome("init", result)
            workspace.mark_initialised(fingerprint)
            if request.command == "init":
                return TofuOutcome("init", result)
        return TofuOutcome(request.command, invoke(request.command, capture=request.command == "output"))


def tofu_exit_code(outcome: TofuOutcome, request: TofuRequest, notify: Notify) -> int:
    """planton's exit code for a finished terraform run (see the table in ``errors.py``).

    terraform's documented statuses pass on unchanged: 0, 1, and 2 from ``plan
    -detailed-exitcode`` (from the plan itself: an automatic init's 2 is a crash). A signal
    planton received gives 130 / 143. Anything else (a crash: Go exits 2 on a panic; a signal
    from elsewhere) is reported as 1, "terraform failed", so that it can never be read as one of
    planton's own outcomes.
    """
    result = outcome.result
    if result.interrupted_by is not None:
        return result.exit_code
    status = result.returncode
    changes_reported = request.detailed_exitcode and outcome.command == "plan" and status == DETAILED_CHANGES
    if status in (EXIT_OK, EXIT_TERRAFORM_FAILED) or changes_reported:
        return status
    if status < 0:
        notify(f"{outcome.command}: terraform was killed by signal {-status}")
    else:
        notify(f"{outcome.command}: terraform exited with status {status}")
    return EXIT_TERRAFORM_FAILED


def _plugin_mirror(requested: Path | None, environ: Mapping[str, str]) -> Path | None:
    """``--plugin-mirror``, else ``$PLANTON_PLUGIN_MIRROR``, checked and made absolute."""
    if requested is not None:
        return validate_plugin_mirror(expand_path(requested, "--plugin-mirror", environ), "--plugin-mirror")
    if environ.get(PLUGIN_MIRROR_ENV):
        return validate_plugin_mirror(
            expand_path(environ[PLUGIN_MIRROR_ENV], PLUGIN_MIRROR_ENV, environ), PLUGIN_MIRROR_ENV
        )
    return None
