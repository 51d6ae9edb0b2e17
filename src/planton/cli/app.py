"""The root command: wires the sub-apps together and turns errors into messages and exit codes,
in this one place."""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer

from planton import __version__
from planton.cli import local, options, tofu
from planton.cli.output import error_lines, success
from planton.errors import EXIT_INTERRUPTED, PlantonError
from planton.operations import validate_manifest

app = typer.Typer(
    name="planton",
    help="Deploy AWS DynamoDB tables from an AwsDynamodb manifest with tofu/terraform.",
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold credentials: never print them in a traceback.
    pretty_exceptions_show_locals=False,
)
app.add_typer(tofu.app, name="tofu")
app.add_typer(local.app, name="local")


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
def validate(manifest: options.Manifest) -> None:
    """Check a manifest without running terraform; errors are printed as `path: message`."""
    table = validate_manifest(manifest)
    keys = table.partition_key.name + (f" + {table.sort_key.name}" if table.sort_key else "")
    success(
        f"{manifest}: valid AwsDynamodb manifest (table {table.table_name}, {table.billing_mode.value}, key {keys})"
    )


def main() -> None:
    """Entry point of ``planton`` and ``project-planton``."""
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        status = app(standalone_mode=False)
    except PlantonError as err:
        error_lines(err.lines())
        sys.exit(err.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        error_lines(["interrupted"])
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(status if isinstance(status, int) else 0)
