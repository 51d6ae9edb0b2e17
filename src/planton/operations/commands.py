"""The names of planton's commands that prepare a run, as an enum the core tests instead of strings.

This module imports nothing at run time, so the lowest layers (``request``, ``session``, ``initialise``) can
name a command without importing the operations table (``catalogue``), which imports every
operation's handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planton.operations.session import Session, TofuOutcome

    # Runs one operation in a session whose workspace is initialised and whose context is read.
    Handler = Callable[[Session], TofuOutcome]


class Command(StrEnum):
    """A ``planton tofu`` command, or ``planton state bootstrap`` (prepared as one, run elsewhere)."""

    INIT = "init"
    PLAN = "plan"
    APPLY = "apply"
    DESTROY = "destroy"
    REFRESH = "refresh"
    OUTPUT = "output"
    IMPORT = "import"
    BOOTSTRAP = "bootstrap"


@dataclass(frozen=True)
class Operation:
    """One command the core runs, and what it does: the one place each fact about it is said.

    The ``planton tofu`` commands are in ``catalogue.OPERATIONS``, which the CLI reads for their
    names and help lines and ``run_tofu`` for their handlers; ``BOOTSTRAP`` is prepared like
    them and run by ``state_commands.bootstrap``."""

    command: Command
    # The help line `planton tofu --help` lists.
    help: str
    # Talks to AWS through the aws provider, so it is bound to the table's account (init only
    # installs providers; output reads the state).
    starts_provider: bool
    # Refused before anything runs without credentials (outside --local).
    needs_credentials: bool
    # Asks before it changes anything, unless --auto-approve or a saved plan: refused at once
    # where nobody can answer.
    asks_approval: bool
    # May write the state.
    writes_state: bool
    # Plans the manifest's table as the manifest describes it (unless plan --destroy or a saved
    # plan): what terraform cannot do to a table is refused before it plans.
    plans_the_manifest: bool = False
    # Acts on the table the state records, whatever the manifest names: refused when the
    # manifest names another.
    acts_on_the_recorded_table: bool = False
    # Runs after the workspace is initialised and the state first read; False for init, whose
    # handler is the workspace's init itself.
    reads_the_state: bool = True
    # Runs the operation (under the workspace lock); None for ``BOOTSTRAP``, which ``run_tofu``
    # does not run.
    handler: Handler | None = field(default=None, compare=False, repr=False)


BOOTSTRAP = Operation(
    Command.BOOTSTRAP,
    help="Create the manifest's S3 state bucket.",
    starts_provider=False,
    needs_credentials=True,
    asks_approval=False,
    writes_state=False,
)
