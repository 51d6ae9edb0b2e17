"""``planton tofu init|plan|apply|destroy|refresh|output|import``: each declares its own options,
takes the shared ones as groups, and forwards to the core; the results are printed here."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.rule import Rule

from planton.backend import BackendFlags
from planton.cli.options import (
    AutoApprove,
    FleetOptions,
    InputOptions,
    JsonOutput,
    Strict,
    TofuOptions,
    non_empty_file,
    with_shared_options,
)
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
    status_step,
    summarise_findings,
    use_colour,
    warn,
)
from planton.cli.plan_view import markdown_summary, rich_summary
from planton.documents import apply_document, failure_document, outputs_document, plan_document
from planton.errors import PolicyViolation
from planton.operations.catalogue import BY_COMMAND, OPERATIONS
from planton.operations.commands import Command
from planton.operations.request import TofuRequest
from planton.operations.results import exit_status
from planton.operations.run import run_tofu
from planton.operations.session import ShowPlan, TofuOutcome, Ui
from planton.paths import home_directory
from planton.plan_summary import PlanSummary
from planton.source import ManifestSource, Selection

# Its help line is in app.SUB_APPS, which lists it without importing this module.
app = typer.Typer(no_args_is_help=True)


def _request(
    command: Command, source: ManifestSource, tofu: TofuOptions, *, machine: bool, **asked: Any
) -> TofuRequest:
    colour = colour_wanted(tofu.no_color)
    use_colour(colour)
    return TofuRequest(
        operation=BY_COMMAND[command],
        source=source,
        local=tofu.local,
        binary=tofu.binary,
        plugin_mirror=tofu.plugin_mirror,
        work_dir=tofu.work_dir,
        lock_timeout=tofu.lock_timeout,
        timeout=tofu.timeout,
        colour=colour,
        machine_output=machine,
        can_prompt=can_prompt(os.environ),
        backend=BackendFlags(tofu.backend_type, tofu.backend_configs),
        reconfigure=tofu.reconfigure,
        **asked,
    )


def _run(
    command: Command, selection: Selection, tofu: TofuOptions, *, machine: bool = False, **asked: Any
) -> tuple[TofuOutcome, int]:
    """Run the command for one manifest in the core and print its notes; the outcome and the exit code."""
    request = _request(command, selection.sources[0], tofu, machine=machine, **asked)
    ui = Ui(
        notify,
        warn,
        confirm,
        step=spinner if animated(os.environ) else (status_step(os.environ) or no_spinner),
        show_plan=_plan_shower(command, machine=machine),
    )
    try:
        outcome = run_tofu(request, os.environ, home_directory(os.environ), ui)
    except PolicyViolation as violation:
        summarise_findings(violation.findings, f"planton tofu {command}: findings")
        raise
    # A reader that went away from planton's own lines counts as one from terraform's.
    outcome = replace(outcome, output_lost=outcome.output_lost or output_lost())
    status = exit_status(outcome, detailed_exitcode=request.detailed_exitcode)
    code = status.code
    for note in (*status.notes, *outcome.notes):
        notify(note)
    error_lines(outcome.refusal)
    summarise_findings(outcome.warnings, f"planton tofu {command}: findings")
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


def _fleet(
    command: Command,
    selection: Selection,
    inputs: InputOptions,
    tofu: TofuOptions,
    fleet: FleetOptions,
    *,
    machine: bool = False,
    detailed: bool = False,
    plans_out: Path | None = None,
    saved_plans: Path | None = None,
    **asked: Any,
) -> int:
    """Run ``command`` over the fleet ``selection`` holds, print its results; the exit code."""
    from planton.cli.fleet_view import FleetDisplay, failures, fleet_markdown, results_table
    from planton.documents import fleet_document
    from planton.operations.fleet import FleetRequest, Result, fleet_exit_code, run_fleet
    from planton.operations.validation import Shard

    shared = replace(selection.sources[0], manifest=None, built=None, label=None, named_by=(), warnings=())
    request = FleetRequest(
        command=command,
        template=_request(command, shared, tofu, machine=machine, **asked),
        sources=selection.sources,
        parallelism=fleet.parallelism,
        fail_fast=fleet.fail_fast,
        shard=Shard.parse(inputs.shard) if inputs.shard is not None else None,
        plans_out=plans_out,
        saved_plans=saved_plans,
        warnings=selection.warnings,
    )
    display = FleetDisplay(animated=animated(os.environ) and not fleet.verbose, verbose=fleet.verbose, machine=machine)
    try:
        outcome = run_fleet(request, os.environ, display.ui())
    except PolicyViolation as violation:
        summarise_findings(violation.findings, f"planton tofu {command}: findings")
        raise
    finally:
        display.stop()
    summarise_findings(outcome.warnings, f"planton tofu {command}: findings")
    code = fleet_exit_code(outcome, detailed=detailed)
    title = f"planton tofu {command}: {len(outcome.results)} manifests"
    append_step_summary(fleet_markdown(outcome, title=title), os.environ)
    if machine:
        document(fleet_document(outcome, code))
    elif outcome.results:
        if command is Command.OUTPUT:
            for result in outcome.results:
                if result.document:
                    show(outputs_table(result.document, title=f"{result.member.name} ({result.member.label})"))
        show(results_table(outcome))
    saved_changes = any(result.result is Result.CHANGES for result in outcome.results)
    if outcome.plans_saved is not None and saved_changes and not any(r.result.failed for r in outcome.results):
        again = shlex.join(["planton", "tofu", "apply", str(outcome.plans_saved), *_named_by(inputs, tofu)])
        notify(f"plans saved in {outcome.plans_saved}; apply exactly them with: {again}")
    elif outcome.plans_saved is not None and saved_changes:
        notify(f"plans saved in {outcome.plans_saved}; some manifests failed to plan: plan them again before applying")
    for lines in failures(outcome):
        error_lines(lines)
    if outcome.interrupted_by is not None:
        notify(
            "interrupted: the manifests that ran finished and saved their state; those marked skipped never started. "
            "Run the same command again to carry on"
        )
    error_lines(outcome.refusal)
    if outcome.declined:
        error_lines(["not applied: the answer was not yes"])
    return code


def init(
    inputs: InputOptions,
    tofu: TofuOptions,
    fleet: FleetOptions,
    migrate_state: Annotated[
        bool,
        typer.Option(
            "--migrate-state",
            help="Move the state to the backend the labels and flags now name (local -> s3, s3 -> local, or "
            "another key); refused when the target holds another table's state.",
        ),
    ] = False,
) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(_fleet(Command.INIT, selection, inputs, tofu, fleet, migrate_state=migrate_state))
    _, code = _run(Command.INIT, selection, tofu, migrate_state=migrate_state)
    raise typer.Exit(code)


def plan(
    inputs: InputOptions,
    tofu: TofuOptions,
    fleet: FleetOptions,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 0 when nothing would change, 2 when something would, 1 on error (a fleet: 1 if any "
            "manifest failed, else 2 if any has changes, else 0).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            parser=non_empty_file,
            metavar="FILE|DIR",
            help="Save the plan; `planton tofu apply FILE` then applies exactly it. A fleet saves one plan per "
            "manifest into the directory DIR, and `planton tofu apply DIR -f ...` applies them.",
            show_default=False,
        ),
    ] = None,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan the deletion of the table.")] = False,
    json_output: JsonOutput = False,
    strict: Strict = False,
) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(
            _fleet(
                Command.PLAN,
                selection,
                inputs,
                tofu,
                fleet,
                machine=json_output,
                detailed=detailed_exitcode,
                plans_out=out,
                destroy=destroy,
                strict=strict,
            )
        )
    outcome, code = _run(
        Command.PLAN,
        selection,
        tofu,
        machine=json_output,
        detailed_exitcode=detailed_exitcode,
        plan_out=out,
        destroy=destroy,
        strict=strict,
    )
    if json_output:  # also when it failed: the document says so
        document(plan_document(outcome, code))
    raise typer.Exit(code)


def apply(
    inputs: InputOptions,
    tofu: TofuOptions,
    fleet: FleetOptions,
    plan_file: Annotated[
        Path | None,
        typer.Argument(
            parser=non_empty_file,
            metavar="PLAN_FILE",
            help="A plan saved by `planton tofu plan --out`: applied exactly, without planning again or asking "
            "(a fleet: the directory of its plans).",
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
    strict: Strict = False,
) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(
            _fleet(
                Command.APPLY,
                selection,
                inputs,
                tofu,
                fleet,
                machine=json_output,
                saved_plans=plan_file,
                auto_approve=auto_approve,
                allow_replace=allow_replace,
                strict=strict,
            )
        )
    outcome, code = _run(
        Command.APPLY,
        selection,
        tofu,
        machine=json_output,
        plan_file=plan_file,
        auto_approve=auto_approve,
        allow_replace=allow_replace,
        strict=strict,
    )
    if json_output:
        document(apply_document(outcome, code))
    elif code == 0 and outcome.outputs:
        show(outputs_table(outcome.outputs))
    raise typer.Exit(code)


def destroy(inputs: InputOptions, tofu: TofuOptions, fleet: FleetOptions, auto_approve: AutoApprove = False) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(_fleet(Command.DESTROY, selection, inputs, tofu, fleet, auto_approve=auto_approve))
    _, code = _run(Command.DESTROY, selection, tofu, auto_approve=auto_approve)
    raise typer.Exit(code)


def refresh(inputs: InputOptions, tofu: TofuOptions, fleet: FleetOptions) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(_fleet(Command.REFRESH, selection, inputs, tofu, fleet))
    _, code = _run(Command.REFRESH, selection, tofu)
    raise typer.Exit(code)


def output(inputs: InputOptions, tofu: TofuOptions, fleet: FleetOptions, json_output: JsonOutput = False) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(_fleet(Command.OUTPUT, selection, inputs, tofu, fleet, machine=json_output))
    outcome, code = _run(Command.OUTPUT, selection, tofu, machine=json_output)
    if json_output:
        # The outputs when terraform gave them (exit 141 too: stderr lost its reader meanwhile).
        document(outputs_document(outcome) if outcome.outputs is not None else failure_document(outcome, code))
    elif code == 0 and outcome.outputs:
        show(outputs_table(outcome.outputs))
    elif code == 0:
        notify("no outputs yet: the state records no table (`planton tofu apply` creates it)")
    raise typer.Exit(code)


def import_(inputs: InputOptions, tofu: TofuOptions, fleet: FleetOptions) -> None:
    selection = inputs.select(os.environ, tofu.aws_provider_config)
    if selection.fleet:
        raise typer.Exit(_fleet(Command.IMPORT, selection, inputs, tofu, fleet))
    _, code = _run(Command.IMPORT, selection, tofu)
    raise typer.Exit(code)


def _named_by(inputs: InputOptions, tofu: TofuOptions) -> list[str]:
    """The options that name the fleet's manifests and decide their target, to repeat them in a
    suggested command (options set by environment variables stay set by themselves)."""
    args = [arg for path in inputs.manifests for arg in ("-f", str(path))]
    args += [arg for glob in inputs.excludes for arg in ("--exclude", glob)]
    if inputs.input_dir is not None:
        args += ["--input-dir", str(inputs.input_dir)]
    if inputs.kustomize_dir is not None and inputs.overlay is not None:
        args += ["--kustomize-dir", str(inputs.kustomize_dir), "--overlay", inputs.overlay]
    if inputs.stack_input is not None:
        args += ["-i", str(inputs.stack_input)]
    if inputs.shard is not None:
        args += ["--shard", inputs.shard]
    if tofu.aws_provider_config is not None:
        args += ["--aws-provider-config", str(tofu.aws_provider_config)]
    if tofu.local:
        args.append("--local")
    for given, flag in ((tofu.work_dir, "--work-dir"), (tofu.binary, "--binary")):
        if given is not None and given.source == flag:
            args += [flag, str(given.value)]
    if tofu.backend_type is not None:
        args += ["--backend-type", tofu.backend_type]
    for config in tofu.backend_configs:
        args += ["--backend-config", config]
    return args


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
