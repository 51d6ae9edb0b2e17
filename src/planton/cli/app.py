"""The root command: wires the sub-apps together; ``main`` runs them inside the error boundary."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from planton import __version__
from planton.cli.boundary import run_command
from planton.cli.options import InputOptions, JsonOutput, with_shared_options
from planton.cli.output import data, document, success, warn
from planton.documents import validation_document
from planton.operations.validation import render_manifest, validate_manifest

# The sub-apps, after the root's own commands, and the modules that declare them. A module is
# imported only when its group is run or listed (--help): validate, render and schema never load
# terraform's machinery, the emulator or S3 with them.
SUB_APPS = {"tofu": "planton.cli.tofu", "local": "planton.cli.local", "state": "planton.cli.state"}


class _RootGroup(TyperGroup):
    """The root command: its own commands, and each sub-app loaded when it is asked for. (The
    click types are Typer's own copy of click's, so they are not named here.)"""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *SUB_APPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        module = SUB_APPS.get(cmd_name)
        if module is None:
            return super().get_command(ctx, cmd_name)
        group = typer.main.get_group(importlib.import_module(module).app)
        group.name = cmd_name
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
def validate(inputs: InputOptions, json_output: JsonOutput = False) -> None:
    """Check a manifest without running terraform; errors are printed as `path: message`."""
    validated = validate_manifest(inputs.source(), os.environ)
    if json_output:
        document(validation_document(validated))
        return
    warn(validated.loaded.warnings)
    table = validated.table
    keys = table.partition_key.name + (f" + {table.sort_key.name}" if table.sort_key else "")
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
    """Print the terraform variables (terraform.tfvars.json) the manifest renders to; never credentials."""
    data(render_manifest(inputs.source(), os.environ, local=local_target))


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
