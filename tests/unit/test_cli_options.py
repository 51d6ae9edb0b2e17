"""Options are declared once: every command that takes a group has all of its options, the
tofu command table is the core's, and env-backed options say which source was set."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from planton.cli import options, tofu
from planton.cli.app import app
from planton.cli.options import InputOptions, TofuOptions, with_shared_options
from planton.operations.catalogue import OPERATIONS
from planton.settings import Given


def _declared(builder: Any) -> set[str]:
    return {name for name in inspect.signature(builder).parameters if name != "ctx"}


INPUT = _declared(options._input_options)
TOFU = _declared(options._tofu_options)


def _command(*path: str) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        # get_command, not .commands: the root loads its sub-apps when they are asked for.
        command = command.get_command(typer.Context(command), name)
    return command


TOFU_COMMANDS = [operation.command.value for operation in OPERATIONS]


def test_the_cli_lists_the_cores_tofu_commands() -> None:
    assert set(tofu.COMMANDS) == {operation.command for operation in OPERATIONS}
    assert list(_command("tofu").commands) == TOFU_COMMANDS
    helps = {name: command.help for name, command in _command("tofu").commands.items()}
    assert helps == {operation.command.value: operation.help for operation in OPERATIONS}


@pytest.mark.parametrize("name", TOFU_COMMANDS)
def test_every_tofu_command_takes_every_shared_option(name: str) -> None:
    params = {param.name for param in _command("tofu", name).params}
    assert params >= INPUT | TOFU


@pytest.mark.parametrize("path", [("validate",), ("render",)])
def test_manifest_reading_commands_take_the_input_options(path: tuple[str, ...]) -> None:
    params = {param.name for param in _command(*path).params}
    assert params >= INPUT
    assert not params & (TOFU - {"local"})


@pytest.mark.parametrize("path", [("validate",), ("tofu", "plan"), ("tofu", "apply"), ("tofu", "output")])
def test_json_where_the_issue_asks_for_it(path: tuple[str, ...]) -> None:
    assert "--json" in {opt for param in _command(*path).params for opt in getattr(param, "opts", [])}


def test_a_group_reaches_the_command_built(tmp_path: Path) -> None:
    seen: list[Any] = []
    probe = typer.Typer()

    @probe.command()
    @with_shared_options
    def run(inputs: InputOptions, tofu_options: TofuOptions, extra: bool = False) -> None:
        seen.append((inputs, tofu_options, extra))

    manifest = tmp_path / "m.yaml"
    result = CliRunner().invoke(
        probe,
        ["-f", str(manifest), "--set", "a=1", "--set", "b=2", "--work-dir", "w", "--lock-timeout", "5s", "--extra"],
        env={"PLANTON_TOFU_BINARY": "env-tofu", "PLANTON_WORK_DIR": "ignored-env-work-dir"},
    )
    assert result.exit_code == 0, result.output
    [(inputs, tofu_options, extra)] = seen
    assert inputs == InputOptions((manifest,), None, ("a=1", "b=2"))
    assert extra is True
    # The flag wins over its environment variable, and each remembers where it came from.
    assert tofu_options.work_dir == Given(Path("w"), "--work-dir")
    assert tofu_options.binary == Given("env-tofu", "PLANTON_TOFU_BINARY")
    assert tofu_options.lock_timeout == Given("5s", "--lock-timeout")
    assert tofu_options.plugin_mirror is None


def test_an_empty_environment_variable_is_unset() -> None:
    seen: list[TofuOptions] = []
    probe = typer.Typer()

    @probe.command()
    @with_shared_options
    def run(tofu_options: TofuOptions) -> None:
        seen.append(tofu_options)

    result = CliRunner().invoke(probe, [], env={"PLANTON_TOFU_BINARY": "", "PLANTON_WORK_DIR": ""})
    assert result.exit_code == 0, result.output
    assert (seen[0].binary, seen[0].work_dir) == (None, None)
