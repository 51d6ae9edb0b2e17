"""The root command: wires the sub-apps together; ``main`` runs them inside the error boundary."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from planton import __version__
from planton.cli.boundary import run_command
from planton.cli.options import InputOptions, JsonOutput, Strict, with_shared_options
from planton.cli.output import data, document, success, summarise_findings, warn

if TYPE_CHECKING:
    from planton.operations.validation import Validated
from planton.documents import fleet_validation_document, validation_document


@dataclass(frozen=True)
class SubApp:
    """A group of commands in a module of its own, and its line in ``planton --help``."""

    module: str
    help: str


# The sub-apps, after the root's own commands. A module is imported only when its group runs:
# validate, render, schema and --help never load terraform's machinery, the emulator or S3.
SUB_APPS = {
    "tofu": SubApp(
        "planton.cli.tofu", "Run tofu/terraform for a manifest (local backend, one workspace per manifest)."
    ),
    "local": SubApp("planton.cli.local", "The local AWS emulator that --local targets."),
    "state": SubApp("planton.cli.state", "Remote state: create its bucket, list the workspaces of a work dir."),
}


class _RootGroup(TyperGroup):
    """The root command: its own commands, and each sub-app loaded when it is asked for. (The
    click types are Typer's own copy of click's, so they are not named here.)"""

    _listing = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # Listing the sub-apps takes only their names and help lines, not their modules.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *SUB_APPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        sub_app = SUB_APPS.get(cmd_name)
        if sub_app is None:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return TyperGroup(name=cmd_name, help=sub_app.help)
        group = typer.main.get_group(importlib.import_module(sub_app.module).app)
        group.name, group.help = cmd_name, sub_app.help
        return group


app = typer.Typer(
    name="planton",
    help="Deploy AWS DynamoDB tables from an AwsDynamodb manifest with tofu/terraform.",
    cls=_RootGroup,
    no_args_is_help=True,
    # Locals can hold credentials: never print them in a traceback.
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planton {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Deploy AWS DynamoDB tables from an AwsDynamodb manifest with tofu/terraform."""


@app.command()
@with_shared_options
def validate(
    inputs: InputOptions,
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE",
            help="Manifests to check one by one, as pre-commit passes the changed files: like -f, but two of "
            "them may name one table (a dev and a prod folder).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOutput = False,
    strict: Strict = False,
) -> None:
    """Check manifests without running terraform: errors are printed as `path: message`, then
    the best practices each misses (findings; the team's policy or --strict makes them errors)."""
    # Deferred, here and in render: the manifest's models (pydantic, PyYAML) are for the
    # commands that read one, not for --help or schema.
    from planton.errors import PolicyViolation
    from planton.findings import about
    from planton.operations.validation import (
        Checks,
        PolicyFinder,
        Shard,
        checked_fleet,
        refuse_policy_errors,
        validate_manifest,
    )

    checks = Checks(strict=strict, policies=PolicyFinder())
    if files:
        inputs = replace(inputs, manifests=(*inputs.manifests, *files))
    selection = inputs.select(os.environ)
    if selection.fleet:
        warn(selection.warnings)
        shard = Shard.parse(inputs.shard) if inputs.shard is not None else None
        try:
            # Files given as arguments are checked one by one: no two-manifests-one-table check.
            fleet = checked_fleet(selection.sources, os.environ, shard=shard, checks=checks, collisions=not files)
        except PolicyViolation as violation:
            summarise_findings(violation.findings, "planton validate: findings")
            raise
        found = [finding for one in fleet for finding in about(one.findings, str(one.loaded.manifest.path))]
        summarise_findings([*selection.warnings, *found], "planton validate: findings")
        if json_output:
            document(fleet_validation_document(fleet, str(shard) if shard else None, selection.warnings))
            return
        for validated in fleet:
            _say_valid(validated, named=True)
        share = f" (share {shard} of the fleet)" if shard is not None else ""
        success(f"{len(fleet)} valid manifest{'s' if len(fleet) != 1 else ''}{share}")
        return
    validated = validate_manifest(selection.sources[0], os.environ, checks)
    summarise_findings(validated.findings, f"planton validate: {validated.loaded.manifest.path}")
    refuse_policy_errors([validated])  # (its findings are in the step summary already)
    if json_output:
        document(validation_document(validated))
        return
    _say_valid(validated)


def _say_valid(validated: Validated, *, named: bool = False) -> None:
    """The line ``validate`` prints for a valid manifest, after its findings (each naming the
    manifest, in a fleet)."""
    from planton.findings import about
    from planton.manifest.base import shown

    path = validated.loaded.manifest.path
    warn(about(validated.findings, str(path)) if named else validated.findings)
    table = validated.table
    # Key names are any 1-255 bytes: a line break or escape in one is shown, never printed raw.
    keys = shown(table.partition_key.name) + (f" + {shown(table.sort_key.name)}" if table.sort_key else "")
    success(
        f"{validated.loaded.manifest.path}: valid AwsDynamodb manifest "
        f"(table {table.table_name}, {table.billing_mode.value}, key {keys})"
    )


@app.command()
@with_shared_options
def render(
    inputs: InputOptions,
    local_target: Annotated[
        bool, typer.Option("--local", help="Render for the local emulator (region us-east-1 unless set).")
    ] = False,
) -> None:
    """Print the terraform variables (terraform.tfvars.json) a manifest renders to; never credentials.
    For several manifests, one JSON object of them by manifest path."""
    from planton.operations.validation import Shard, checked_fleet, render_manifest, render_validated

    selection = inputs.select(os.environ)
    if not selection.fleet:
        data(render_manifest(selection.sources[0], os.environ, local=local_target))
        return
    warn(selection.warnings)
    shard = Shard.parse(inputs.shard) if inputs.shard is not None else None
    fleet = checked_fleet(selection.sources, os.environ, shard=shard, local=local_target)
    rendered = {
        str(one.loaded.manifest.path): json.loads(render_validated(one, os.environ, local=local_target))
        for one in fleet
    }
    data(json.dumps(rendered, indent=2) + "\n")


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (both dialects) for editors' YAML language servers."""
    # Deferred: the JSON Schema generator is for this command only (it builds both dialects'
    # models in full).
    from planton.manifest.schema import manifest_json_schema

    data(json.dumps(manifest_json_schema(), indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``planton`` and ``project-planton``: runs one command and returns its exit
    code (the console scripts exit with it). ``argv`` defaults to the process's arguments."""
    exiting = argv is None  # the console script: the process ends when this returns
    if argv is None:
        argv, prog_name = sys.argv[1:], _prog_name(sys.argv[0])
    else:
        prog_name = "planton"
    return run_command(typer.main.get_command(app), argv, prog_name, os.environ, exiting=exiting)


def _prog_name(argv0: str) -> str:
    """The name to show in usage lines: the console script's, or ``python -m planton``."""
    name = Path(argv0).name
    if name == "__main__.py":
        return "python -m planton"
    return name or "planton"
