"""``planton tofu init|plan|apply|destroy|refresh|output``: each forwards to the core."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from planton.cli import options
from planton.cli.output import colour_wanted, confirm, data, notify, warn
from planton.operations import TofuRequest, Ui, run_tofu, tofu_exit_code
from planton.paths import home_directory

app = typer.Typer(
    help="Run tofu/terraform for a manifest (local backend, one workspace per manifest).", no_args_is_help=True
)


def _run(
    command: str,
    manifest: Path,
    local: bool,
    binary: str | None,
    plugin_mirror: Path | None,
    work_dir: Path | None,
    no_color: bool,
    auto_approve: bool = False,
    detailed_exitcode: bool = False,
    allow_replace: bool = False,
) -> None:
    request = TofuRequest(
        command=command,
        manifest_path=manifest,
        local=local,
        binary=binary,
        plugin_mirror=plugin_mirror,
        work_dir=work_dir,
        auto_approve=auto_approve,
        allow_replace=allow_replace,
        detailed_exitcode=detailed_exitcode,
        colour=colour_wanted(no_color),
    )
    outcome = run_tofu(request, os.environ, home_directory(os.environ), Ui(notify, warn, confirm))
    code = tofu_exit_code(outcome, request, notify)
    if command == "output" and code == 0:
        data(outcome.result.stdout)
    for note in outcome.notes:
        notify(note)
    raise typer.Exit(code)


def _plain(command: str, doc: str) -> Callable[..., None]:
    """A command that takes only the shared options."""

    def handler(
        manifest: options.Manifest,
        local: options.Local = False,
        binary: options.Binary = None,
        plugin_mirror: options.PluginMirror = None,
        work_dir: options.WorkDir = None,
        no_color: options.NoColor = False,
    ) -> None:
        _run(command, manifest, local, binary, plugin_mirror, work_dir, no_color)

    handler.__doc__ = doc
    return handler


def _approvable(command: str, doc: str) -> Callable[..., None]:
    """A command that changes the table and asks first unless --auto-approve."""

    def handler(
        manifest: options.Manifest,
        auto_approve: options.AutoApprove = False,
        local: options.Local = False,
        binary: options.Binary = None,
        plugin_mirror: options.PluginMirror = None,
        work_dir: options.WorkDir = None,
        no_color: options.NoColor = False,
    ) -> None:
        _run(command, manifest, local, binary, plugin_mirror, work_dir, no_color, auto_approve)

    handler.__doc__ = doc
    return handler


app.command("init")(_plain("init", "Prepare the manifest's workspace and install providers."))


@app.command()
def plan(
    manifest: options.Manifest,
    local: options.Local = False,
    binary: options.Binary = None,
    plugin_mirror: options.PluginMirror = None,
    work_dir: options.WorkDir = None,
    no_color: options.NoColor = False,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 when nothing would change, 2 when something would, 1 on error."
        ),
    ] = False,
) -> None:
    """Show what apply would change."""
    _run("plan", manifest, local, binary, plugin_mirror, work_dir, no_color, detailed_exitcode=detailed_exitcode)


@app.command()
def apply(
    manifest: options.Manifest,
    auto_approve: options.AutoApprove = False,
    allow_replace: Annotated[
        bool,
        typer.Option(
            "--allow-replace",
            help="Let through a plan that deletes or replaces the table, or moves it to another region "
            "(its items are lost). Without it, --auto-approve refuses such a plan.",
        ),
    ] = False,
    local: options.Local = False,
    binary: options.Binary = None,
    plugin_mirror: options.PluginMirror = None,
    work_dir: options.WorkDir = None,
    no_color: options.NoColor = False,
) -> None:
    """Plan, check the plan, ask, and apply exactly that plan."""
    _run("apply", manifest, local, binary, plugin_mirror, work_dir, no_color, auto_approve, allow_replace=allow_replace)


app.command("destroy")(_approvable("destroy", "Delete the table."))
app.command("refresh")(_plain("refresh", "Update the state from the real table without changing it."))
app.command("import")(
    _plain(
        "import",
        "Adopt the manifest's existing table into the state (after an interrupted create, or a table made by hand).",
    )
)


@app.command()
def output(
    manifest: options.Manifest,
    local: options.Local = False,
    binary: options.Binary = None,
    plugin_mirror: options.PluginMirror = None,
    work_dir: options.WorkDir = None,
) -> None:
    """Print the module's outputs as JSON on stdout."""
    _run("output", manifest, local, binary, plugin_mirror, work_dir, no_color=True)
