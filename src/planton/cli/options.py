"""Options shared by several commands, declared once, in groups.

A command names a group by a parameter typed with it (``inputs: InputOptions``);
``with_shared_options`` puts the group's options into the command's signature for Typer and
hands the command one built group. Adding an option to a group adds it to every command that
takes the group, without editing their signatures. Options backed by an environment variable
declare it here (Typer's ``envvar=``), and the group records which of the two the user set, so
that an error names it.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from planton.cli.boundary import click_exception_class
from planton.settings import BINARY_ENV, LOCK_TIMEOUT_ENV, PLUGIN_MIRROR_ENV, TIMEOUT_ENV, WORK_DIR_ENV, Given

if TYPE_CHECKING:
    from planton.source import ManifestSource, Selection


def _non_empty_path(value: str) -> Path:
    # Path("") is ".", so an empty value (an unset variable in a script: --work-dir "$DIR")
    # would silently mean the current directory.
    if not value:
        raise typer.BadParameter("must not be empty; name a directory")
    return Path(value)


def non_empty_file(value: str) -> Path:
    if not value:
        raise typer.BadParameter("must not be empty; name a file")
    return Path(value)


_UsageError = click_exception_class("UsageError")


def _given(ctx: typer.Context, name: str, value: Any, option: str, envvar: str) -> Given[Any] | None:
    """``value`` with the option or environment variable it came from (None when unset)."""
    if value is None:
        return None
    source = ctx.get_parameter_source(name)
    return Given(value, envvar if source is not None and source.name == "ENVIRONMENT" else option)


# Paths are checked by planton itself, not by click: its checks exit 2 for what is a bad
# manifest (4: an unreadable file) or an unready environment, and word it its own way.
@dataclass(frozen=True)
class InputOptions:
    """Where the manifests come from, and the overrides applied to them."""

    manifests: tuple[Path, ...]
    stack_input: Path | None
    overrides: tuple[str, ...]
    input_dir: Path | None = None
    kustomize_dir: Path | None = None
    overlay: str | None = None
    excludes: tuple[str, ...] = ()
    shard: str | None = None

    def select(self, environ: Mapping[str, str], provider_config: Path | None = None) -> Selection:
        """The manifests these options name (a fleet, or one), each as its own source."""
        # Deferred: the manifest's loader (PyYAML, pydantic) is for a command that runs, not
        # for declaring options (--help).
        from planton.manifest_files import ManifestOptions
        from planton.operations.validation import pipe_timeout
        from planton.source import select_manifests

        selection = select_manifests(
            ManifestOptions(self.manifests, self.input_dir, self.kustomize_dir, self.overlay, self.excludes),
            stack_input=self.stack_input,
            overrides=self.overrides,
            provider_config=provider_config,
            environ=environ,
            wait_seconds=pipe_timeout(environ),
        )
        if self.shard is not None and not selection.fleet:  # a share of one manifest is still a fleet
            return replace(selection, fleet=True)
        return selection

    def single(self, environ: Mapping[str, str], provider_config: Path | None = None) -> ManifestSource:
        """The one manifest a command that takes no fleet runs on; a UsageError for a set."""
        selection = self.select(environ, provider_config)
        if selection.fleet:
            from planton.errors import UsageError

            raise UsageError("this command takes one manifest, not a directory or several: name one file with -f")
        return selection.sources[0]


def _input_options(
    ctx: typer.Context,
    manifest: Annotated[
        list[Path] | None,
        typer.Option(
            "--manifest",
            "-f",
            parser=non_empty_file,
            metavar="FILE|DIR",
            help="The AwsDynamodb manifest (YAML); repeatable. A directory means every *.yaml/*.yml below it "
            "(outside .planton work dirs): a fleet, run in parallel.",
            show_default=False,
        ),
    ] = None,
    stack_input: Annotated[
        Path | None,
        typer.Option(
            "--stack-input",
            "-i",
            parser=non_empty_file,
            metavar="FILE",
            help="A stack input (YAML): target (the manifest; wins over --manifest) and provider_config "
            "(account_id, access_key_id, secret_access_key, session_token, region).",
            show_default=False,
        ),
    ] = None,
    input_dir: Annotated[
        Path | None,
        typer.Option(
            "--input-dir",
            parser=non_empty_file,
            metavar="DIR",
            help="Read the manifest from DIR/target.yaml, as project-planton does (--manifest wins over it).",
            show_default=False,
        ),
    ] = None,
    kustomize_dir: Annotated[
        Path | None,
        typer.Option(
            "--kustomize-dir",
            parser=non_empty_file,
            metavar="DIR",
            help="Build DIR/overlays/OVERLAY with kustomize (or kubectl kustomize); several AwsDynamodb documents "
            "are a fleet. Needs --overlay; --manifest and --input-dir win over it.",
            show_default=False,
        ),
    ] = None,
    overlay: Annotated[
        str | None,
        typer.Option("--overlay", metavar="NAME", help="The overlay --kustomize-dir builds.", show_default=False),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            metavar="GLOB",
            help="Leave out the files (or directories) of a --manifest directory that match, by their path below "
            "it or their name (repeatable): --exclude kustomization.yaml --exclude 'drafts/*'.",
            show_default=False,
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="Run only share K of N of the fleet (a CI matrix of N runners): every manifest lands in exactly "
            "one share, the same one on every run.",
            show_default=False,
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PATH=VALUE",
            help="Override a manifest field before validation, typed by the model (repeatable): "
            "--set spec.billing_mode=PROVISIONED, --set spec.globalSecondaryIndexes[0].name=by-status.",
            show_default=False,
        ),
    ] = None,
) -> InputOptions:
    # (validate also takes manifests as arguments, as pre-commit passes them: ``files``.)
    named = manifest or ctx.params.get("files")
    if not named and stack_input is None and input_dir is None and kustomize_dir is None and overlay is None:
        # click's own words for a missing option, with the usage line above them.
        raise _UsageError(
            "Missing option '--manifest' / '-f' (or '--stack-input' / '-i', '--input-dir', '--kustomize-dir').", ctx
        )
    return InputOptions(
        tuple(manifest or ()),
        stack_input,
        tuple(overrides or ()),
        input_dir=input_dir,
        kustomize_dir=kustomize_dir,
        overlay=overlay,
        excludes=tuple(exclude or ()),
        shard=shard,
    )


@dataclass(frozen=True)
class TofuOptions:
    """How and where terraform runs, for every ``planton tofu`` command."""

    local: bool
    binary: Given[str] | None
    plugin_mirror: Given[Path] | None
    work_dir: Given[Path] | None
    aws_provider_config: Path | None
    lock_timeout: Given[str] | None
    no_color: bool
    backend_type: str | None = None
    timeout: Given[str] | None = None
    backend_configs: tuple[str, ...] = ()
    reconfigure: bool = False


def _tofu_options(
    ctx: typer.Context,
    local: Annotated[
        bool,
        typer.Option("--local", help="Target the local AWS emulator (moto server on 127.0.0.1), started on demand."),
    ] = False,
    binary: Annotated[
        str | None,
        typer.Option(
            "--binary",
            envvar=BINARY_ENV,
            metavar="EXECUTABLE",
            help="tofu/terraform executable (default: tofu, else terraform).",
            show_default=False,
        ),
    ] = None,
    plugin_mirror: Annotated[
        Path | None,
        typer.Option(
            "--plugin-mirror",
            envvar=PLUGIN_MIRROR_ENV,
            parser=_non_empty_path,
            metavar="DIRECTORY",
            help="Install providers only from this filesystem mirror.",
            show_default=False,
        ),
    ] = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work-dir",
            envvar=WORK_DIR_ENV,
            parser=_non_empty_path,
            metavar="DIRECTORY",
            help="Where workspaces and state live (default: .planton beside the manifest).",
            show_default=False,
        ),
    ] = None,
    aws_provider_config: Annotated[
        Path | None,
        typer.Option(
            "--aws-provider-config",
            parser=non_empty_file,
            metavar="FILE",
            help="AWS provider config (YAML: account_id, access_key_id, secret_access_key, session_token, "
            "region); wins over the stack input's provider_config and the environment.",
            show_default=False,
        ),
    ] = None,
    lock_timeout: Annotated[
        str | None,
        typer.Option(
            "--lock-timeout",
            envvar=LOCK_TIMEOUT_ENV,
            metavar="DURATION",
            help="Wait this long for a workspace or state lock another command holds (30s, 5m); "
            "passed on to terraform's -lock-timeout. Default: fail at once.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout",
            envvar=TIMEOUT_ENV,
            metavar="DURATION",
            help="Interrupt terraform, as Ctrl-C would, once the command has run this long (30m, 1h): it finishes "
            "writing its state, and planton exits 124. Default: no limit.",
            show_default=False,
        ),
    ] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also: NO_COLOR set, or no terminal).")
    ] = False,
    backend_type: Annotated[
        str | None,
        typer.Option(
            "--backend-type",
            metavar="TYPE",
            help="Where the state lives: local or s3 (wins over the label "
            "terraform.project-planton.org/backend.type; default local).",
            show_default=False,
        ),
    ] = None,
    backend_config: Annotated[
        list[str] | None,
        typer.Option(
            "--backend-config",
            metavar="KEY=VALUE|FILE",
            help="An s3 backend setting (bucket, key, region, use_lockfile, dynamodb_table, kms_key_id), or a "
            "file of them; repeatable. Wins over the label terraform.project-planton.org/backend.object.",
            show_default=False,
        ),
    ] = None,
    reconfigure: Annotated[
        bool,
        typer.Option(
            "--reconfigure",
            help="Run init again although nothing it depends on changed (the module, backend settings, lock "
            "file, binary and plugin mirror or cache); the state stays where it is.",
        ),
    ] = False,
) -> TofuOptions:
    return TofuOptions(
        local=local,
        binary=_given(ctx, "binary", binary, "--binary", BINARY_ENV),
        plugin_mirror=_given(ctx, "plugin_mirror", plugin_mirror, "--plugin-mirror", PLUGIN_MIRROR_ENV),
        work_dir=_given(ctx, "work_dir", work_dir, "--work-dir", WORK_DIR_ENV),
        aws_provider_config=aws_provider_config,
        lock_timeout=_given(ctx, "lock_timeout", lock_timeout, "--lock-timeout", LOCK_TIMEOUT_ENV),
        timeout=_given(ctx, "timeout", timeout, "--timeout", TIMEOUT_ENV),
        no_color=no_color,
        backend_type=backend_type,
        backend_configs=tuple(backend_config or ()),
        reconfigure=reconfigure,
    )


@dataclass(frozen=True)
class FleetOptions:
    """How a fleet of manifests runs (a directory or several manifests)."""

    parallelism: int | None
    fail_fast: bool
    verbose: bool


def _fleet_options(
    ctx: typer.Context,
    parallelism: Annotated[
        int | None,
        typer.Option(
            "--parallelism",
            "-p",
            metavar="N",
            help="A fleet: run N manifests at once (default: the number of cores, fewer when memory is short: "
            "each run takes about 640 MB).",
            show_default=False,
        ),
    ] = None,
    fail_fast: Annotated[
        bool,
        typer.Option("--fail-fast", help="A fleet: start no new manifest after one failed (default: try every one)."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="A fleet: show terraform's output, each line prefixed with its manifest's name (default: only each "
            "manifest's state; the full output is in its log).",
        ),
    ] = False,
) -> FleetOptions:
    return FleetOptions(parallelism, fail_fast, verbose)


# Each group, and the function that declares its options and builds it.
_GROUPS: dict[type, Callable[..., Any]] = {
    InputOptions: _input_options,
    TofuOptions: _tofu_options,
    FleetOptions: _fleet_options,
}
_CONTEXT = "planton_context"

JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document on stdout (and nothing else there).")
]
AutoApprove = Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Make every best-practice finding an error (exit 7), except those the team's policy turns off.",
    ),
]

_Command = TypeVar("_Command", bound=Callable[..., None])


def with_shared_options(command: _Command) -> _Command:
    """``command`` with each parameter typed by an option group replaced, in the signature Typer
    reads, by the group's options; called with the group built from them."""
    hints = typing.get_type_hints(command, include_extras=True)
    parameters: list[inspect.Parameter] = []
    groups: dict[str, tuple[Callable[..., Any], list[str]]] = {}
    for parameter in inspect.signature(command).parameters.values():
        hint = hints.get(parameter.name, parameter.annotation)
        builder = _GROUPS.get(hint) if isinstance(hint, type) else None
        if builder is None:
            parameters.append(parameter.replace(annotation=hint, kind=inspect.Parameter.KEYWORD_ONLY))
            continue
        declared = typing.get_type_hints(builder, include_extras=True)
        names = []
        for option in list(inspect.signature(builder).parameters.values())[1:]:  # after ctx
            parameters.append(option.replace(annotation=declared[option.name], kind=inspect.Parameter.KEYWORD_ONLY))
            names.append(option.name)
        groups[parameter.name] = (builder, names)
    parameters.append(inspect.Parameter(_CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context))

    @functools.wraps(command)
    def run(**values: Any) -> None:
        ctx = values.pop(_CONTEXT)
        for name, (builder, names) in groups.items():
            values[name] = builder(ctx, **{option: values.pop(option) for option in names})
        command(**values)

    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return typing.cast(_Command, run)
