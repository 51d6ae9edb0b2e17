"""``planton tofu init|plan|apply|destroy|refresh|output|import``: each declares its own options,
takes the shared ones as groups, and forwards to the core; the results are printed here."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.rule import Rule

from planton.backend import BackendFlags
from planton.cli.options import AutoApprove, InputOptions, JsonOutput, TofuOptions, non_empty_file, with_shared_options
from planton.cli.output import (
    animated,
    append_step_summary,
    can_prompt,
    colour_wanted,
    confirm,
    document,
    error_lines,
    no_spinner,
    notify,
    output_lost,
    outputs_table,
    show,
    spinner,
    use_colour,
    warn,
)
from planton.cli.plan_view import markdown_summary, rich_summary
from planton.documents import apply_document, failure_document, outputs_document, plan_document
from planton.operations.catalogue import BY_COMMAND, OPERATIONS
from planton.operations.commands import Command
from planton.operations.request import TofuRequest
from planton.operations.results import exit_status
from planton.operations.run import run_tofu
from planton.operations.session import ShowPlan, TofuOutcome, Ui
from planton.paths import home_directory
from planton.plan_summary import PlanSummary

# Its help line is in app.SUB_APPS, which lists it without importing this module.
app = typer.Typer(no_args_is_help=True)


def _run(
    command: Command, inputs: InputOptions, tofu: TofuOptions, *, machine: bool = False, **asked: Any
) -> tuple[TofuOutcome, int]:
    """Run the command in the core and print its notes; the outcome and the exit code."""
    colour = colour_wanted(tofu.no_color)
    use_colour(colour)
    request = TofuRequest(
        operation=BY_COMMAND[command],
        source=inputs.source(tofu.aws_provider_config),
        local=tofu.local,
        binary=tofu.binary,
        plugin_mirror=tofu.plugin_mirror,
        work_dir=tofu.work_dir,
        lock_timeout=tofu.lock_timeout,
        colour=colour,
        machine_output=machine,
        can_prompt=can_prompt(os.environ),
        backend=BackendFlags(tofu.backend_type, tofu.backend_configs),
        reconfigure=tofu.reconfigure,
        **asked,
    )
    ui = Ui(
        notify,
        warn,
        confirm,
        step=spinner if animated(os.environ) else no_spinner,
        show_plan=_plan_shower(command, machine=machine),
    )
    outcome = run_tofu(request, os.environ, home_directory(os.environ), ui)
    # A reader that went away from planton's own lines counts as one from terraform's.
    outcome = replace(outcome, output_lost=outcome.output_lost or output_lost())
    status = exit_status(outcome, detailed_exitcode=request.detailed_exitcode)
    code = status.code
    for note in (*status.notes, *outcome.notes):
        notify(note)
    error_lines(outcome.refusal)
    return outcome, code


def _plan_shower(command: Command, *, machine: bool) -> ShowPlan:
    def show_plan(summary: PlanSummary | None, *, destroy: bool, source: str, dangers: Sequence[str] = ()) -> None:
        if not machine:
            # Set apart from terraform's own text above it.
            show(Rule("planton: what this plan does", style="dim"))
            show(rich_summary(summary, dangers))
        title = f"planton tofu {command}: {source}" + (" (destroy)" if destroy else "")
        append_step_summary(markdown_summary(summary, title=title, dangers=dangers), os.environ)

    return show_plan


def init(
    inputs: InputOptions,
    tofu: TofuOptions,
    migrate_state: Annotated[
        bool,
        typer.Option(
            "--migrate-state",
            help="Move the state to the backend the labels and flags now name (local -> s3, s3 -> local, or "
            "another key); refused when the target holds another table's state.",
        ),
    ] = False,
) -> None:
    _, code = _run(Command.INIT, inputs, tofu, migrate_state=migrate_state)
    raise typer.Exit(code)


def plan(
    inputs: InputOptions,
    tofu: TofuOptions,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 when nothing would change, 2 when something would, 1 on error."
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            parser=non_empty_file,
            metavar="FILE",
            help="Save the plan; `planton tofu apply FILE` then applies exactly it.",
            show_default=False,
        ),
    ] = None,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan the deletion of the table.")] = False,
    json_output: JsonOutput = False,
) -> None:
    outcome, code = _run(
        Command.PLAN,
        inputs,
        tofu,
        machine=json_output,
        detailed_exitcode=detailed_exitcode,
        plan_out=out,
        destroy=destroy,
    )
    if json_output:  # also when it failed: the document says so
        document(plan_document(outcome, code))
    raise typer.Exit(code)


def apply(
    inputs: InputOptions,
    tofu: TofuOptions,
    plan_file: Annotated[
        Path | None,
        typer.Argument(
            parser=non_empty_file,
            metavar="PLAN_FILE",
            help="A plan saved by `planton tofu plan --out`: applied exactly, without planning again or asking.",
            show_default=False,
        ),
    ] = None,
    auto_approve: AutoApprove = False,
    allow_replace: Annotated[
        bool,
        typer.Option(
            "--allow-replace",
            help="Let through a plan that deletes or replaces the table, or moves it to another region "
            "(its items are lost). Without it, --auto-approve and a saved plan refuse such a plan.",
        ),
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    outcome, code = _run(
        Command.APPLY,
        inputs,
        tofu,
        machine=json_output,
        plan_file=plan_file,
        auto_approve=auto_approve,
        allow_replace=allow_replace,
    )
    if json_output:
        document(apply_document(outcome, code))
    elif code == 0 and outcome.outputs:
        show(outputs_table(outcome.outputs))
    raise typer.Exit(code)


def destroy(inputs: InputOptions, tofu: TofuOptions, auto_approve: AutoApprove = False) -> None:
    _, code = _run(Command.DESTROY, inputs, tofu, auto_approve=auto_approve)
    raise typer.Exit(code)


def refresh(inputs: InputOptions, tofu: TofuOptions) -> None:
    _, code = _run(Command.REFRESH, inputs, tofu)
    raise typer.Exit(code)


def output(inputs: InputOptions, tofu: TofuOptions, json_output: JsonOutput = False) -> None:
    outcome, code = _run(Command.OUTPUT, inputs, tofu, machine=json_output)
    if json_output:
        # The outputs when terraform gave them (exit 141 too: stderr lost its reader meanwhile).
        document(outputs_document(outcome) if outcome.outputs is not None else failure_document(outcome, code))
    elif code == 0 and outcome.outputs:
        show(outputs_table(outcome.outputs))
    elif code == 0:
        notify("no outputs yet: the state records no table (`planton tofu apply` creates it)")
    raise typer.Exit(code)


def import_(inputs: InputOptions, tofu: TofuOptions) -> None:
    _, code = _run(Command.IMPORT, inputs, tofu)
    raise typer.Exit(code)


# Each operation's command: its name and help line are the core's (catalogue.OPERATIONS).
COMMANDS: dict[Command, Callable[..., None]] = {
    Command.INIT: init,
    Command.PLAN: plan,
    Command.APPLY: apply,
    Command.DESTROY: destroy,
    Command.REFRESH: refresh,
    Command.OUTPUT: output,
    Command.IMPORT: import_,
}

for _operation in OPERATIONS:
    app.command(_operation.command.value, help=_operation.help)(with_shared_options(COMMANDS[_operation.command]))
