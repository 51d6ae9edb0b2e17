"""``planton state bootstrap|list``: the state bucket, and where each workspace keeps its state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from planton.backend import BackendFlags
from planton.cli.options import InputOptions, JsonOutput, TofuOptions, with_shared_options
from planton.cli.output import colour_wanted, data, document, notify, success, use_colour, warn
from planton.operations.commands import BOOTSTRAP
from planton.operations.request import TofuRequest
from planton.operations.state_commands import bootstrap as bootstrap_bucket
from planton.operations.state_commands import list_workspaces
from planton.paths import expand_path, home_directory
from planton.settings import WORK_DIR_ENV

# Its help line is in app.SUB_APPS, which lists it without importing this module.
app = typer.Typer(no_args_is_help=True)


@app.command()
@with_shared_options
def bootstrap(inputs: InputOptions, tofu: TofuOptions) -> None:
    """Create the manifest's S3 state bucket: versioned, encrypted, public access blocked.
    Running it again changes nothing."""
    use_colour(colour_wanted(tofu.no_color))
    request = TofuRequest(
        operation=BOOTSTRAP,
        source=inputs.single(os.environ, tofu.aws_provider_config),
        local=tofu.local,
        binary=tofu.binary,
        plugin_mirror=tofu.plugin_mirror,
        work_dir=tofu.work_dir,
        backend=BackendFlags(tofu.backend_type, tofu.backend_configs),
    )
    for line in bootstrap_bucket(request, os.environ, home_directory(os.environ), notify, warn):
        success(line)


@app.command("list")
def list_(
    work_dir: Annotated[
        Path,
        typer.Option(
            "--work-dir",
            envvar=WORK_DIR_ENV,
            metavar="DIRECTORY",
            help="The work dir whose workspaces to list (default: .planton in the current directory).",
        ),
    ] = Path(".planton"),
    json_output: JsonOutput = False,
) -> None:
    """List the workspaces of a work dir: manifest, table, region, account, where the state is,
    and the last apply made from here."""
    rows = list_workspaces(expand_path(work_dir, "--work-dir", os.environ), os.environ)
    if json_output:
        document({"workspaces": [row.to_json() for row in rows]})
        return
    if not rows:
        notify(f"no workspaces in {work_dir}")
        return
    # One line per workspace (a table's columns would wrap or cut long names where there is no
    # terminal, and these lines are for grep as much as for people).
    for row in rows:
        shown = row.to_json()
        where = f" in {row.region}" if row.region else ""
        account = f", account {row.account}" if row.account else ""
        table = f"table {row.table}{where}{account}" if row.table else "no table"
        table = "state not read (see below)" if row.problem else table
        applied = f"; last apply {shown['last_apply']}" if shown["last_apply"] else ""
        data(f"{row.manifest} ({row.target}): {table}; {row.backend} state {row.state}{applied}\n")
    for row in rows:
        if row.problem:
            notify(f"{row.manifest} ({row.target}): {row.problem}")
