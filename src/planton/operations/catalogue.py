"""Every ``planton tofu`` command, once: its name, help line, what it does, and its handler.

The CLI (``planton.cli.tofu``) registers a command for each, with its help line; ``run_tofu``
runs its handler. The lower layers read what they need to know of an operation from the
``Operation`` on the request (``commands``), without importing this table."""

from __future__ import annotations

from collections.abc import Mapping

from planton.operations.adopt import run_import
from planton.operations.apply import run_apply
from planton.operations.commands import Command, Operation
from planton.operations.destroy import run_destroy
from planton.operations.initialise import run_init
from planton.operations.planning import run_plan
from planton.operations.reviewed import run_apply_saved
from planton.operations.run import run_output
from planton.operations.session import Session, TofuOutcome, interruption_notes


def _apply(session: Session) -> TofuOutcome:
    """``apply``: plan and apply, or apply exactly the saved plan given (``apply FILE``)."""
    reviewed = session.reviewed
    return run_apply(session) if reviewed is None else run_apply_saved(session, reviewed)


def _refresh(session: Session) -> TofuOutcome:
    """``refresh``: terraform's own refresh."""
    result = session.invoke("refresh")
    return session.outcome("refresh", result, interruption_notes(session, "refresh", result))


# In the order `planton tofu --help` lists them.
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        Command.INIT,
        help="Prepare the manifest's workspace and install providers.",
        starts_provider=False,
        needs_credentials=False,
        asks_approval=False,
        writes_state=True,
        reads_the_state=False,
        handler=run_init,
    ),
    Operation(
        Command.PLAN,
        help="Show what apply would change, as terraform's plan and a readable summary.",
        starts_provider=True,
        needs_credentials=True,
        asks_approval=False,
        writes_state=False,
        plans_the_manifest=True,
        handler=run_plan,
    ),
    Operation(
        Command.APPLY,
        help="Plan, check the plan, ask, and apply exactly that plan; or apply a saved plan.",
        starts_provider=True,
        needs_credentials=True,
        asks_approval=True,
        writes_state=True,
        plans_the_manifest=True,
        handler=_apply,
    ),
    Operation(
        Command.DESTROY,
        help="Plan the table's deletion, ask, and apply exactly that plan.",
        starts_provider=True,
        needs_credentials=True,
        asks_approval=True,
        writes_state=True,
        acts_on_the_recorded_table=True,
        handler=run_destroy,
    ),
    Operation(
        Command.REFRESH,
        help="Update the state from the real table without changing it.",
        starts_provider=True,
        needs_credentials=True,
        asks_approval=False,
        writes_state=True,
        acts_on_the_recorded_table=True,
        handler=_refresh,
    ),
    Operation(
        Command.OUTPUT,
        help="Print the module's outputs (a table, or JSON with --json).",
        starts_provider=False,
        needs_credentials=False,
        asks_approval=False,
        writes_state=False,
        handler=run_output,
    ),
    Operation(
        Command.IMPORT,
        help="Adopt the manifest's existing table into the state (after an interrupted create, or a table made by "
        "hand).",
        starts_provider=True,
        needs_credentials=True,
        asks_approval=False,
        writes_state=True,
        handler=run_import,
    ),
)

BY_COMMAND: Mapping[Command, Operation] = {operation.command: operation for operation in OPERATIONS}


def operation(command: Command | str) -> Operation:
    """The ``planton tofu`` operation of that name; ``ValueError`` for any other."""
    try:
        return BY_COMMAND[Command(command)]
    except (KeyError, ValueError):
        raise ValueError(f"unknown tofu command {command!r}") from None
