"""The table of operations: one entry per `planton tofu` command, each fact said once and
consistent with what the runner knows of terraform's commands of the same names."""

from __future__ import annotations

import pytest

from planton.operations.catalogue import BY_COMMAND, OPERATIONS, operation
from planton.operations.commands import BOOTSTRAP, Operation
from planton.runner import STARTS_THE_PROVIDER, WRITES_STATE


def test_every_tofu_command_has_one_operation_in_the_help_order() -> None:
    assert [entry.command.value for entry in OPERATIONS] == [
        "init",
        "plan",
        "apply",
        "destroy",
        "refresh",
        "output",
        "import",
    ]
    assert all(entry.handler is not None for entry in OPERATIONS)
    assert BOOTSTRAP not in OPERATIONS
    assert BOOTSTRAP.handler is None


@pytest.mark.parametrize("entry", OPERATIONS, ids=lambda entry: entry.command.value)
def test_an_operation_agrees_with_terraforms_command_of_its_name(entry: Operation) -> None:
    assert BY_COMMAND[entry.command] is entry
    assert entry.starts_provider == (entry.command.value in STARTS_THE_PROVIDER)
    assert entry.writes_state == (entry.command.value in WRITES_STATE)
    # Only what starts the provider talks to AWS, so only that needs credentials.
    assert entry.needs_credentials == entry.starts_provider


@pytest.mark.parametrize(
    ("command", "asks", "plans", "recorded"),
    [
        ("init", False, False, False),
        ("plan", False, True, False),
        ("apply", True, True, False),
        ("destroy", True, False, True),
        ("refresh", False, False, True),
        ("output", False, False, False),
        ("import", False, False, False),
    ],
)
def test_what_each_operation_does(command: str, asks: bool, plans: bool, recorded: bool) -> None:
    entry = operation(command)
    assert (entry.asks_approval, entry.plans_the_manifest, entry.acts_on_the_recorded_table) == (asks, plans, recorded)
    assert entry.reads_the_state == (command != "init")


@pytest.mark.parametrize("name", ["bootstrap", "show", "untaint", ""])
def test_an_unknown_tofu_command_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="unknown tofu command"):
        operation(name)
