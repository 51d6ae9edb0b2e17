"""Usage mistakes through the installed ``planton`` console script: click's short usage message
(with its "did you mean"), exit 2, never a traceback.

A fresh install once resolved a Typer release that carries its own copy of click, so planton's
``except click.ClickException`` caught nothing and every typo became a 40-line traceback while
in-process tests passed. These run the real script, as a user does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import Cli, assert_no_traceback, base_env
from support import HACK_MANIFEST

MANIFEST = str(HACK_MANIFEST)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(env=base_env(tmp_path), cwd=tmp_path)


# (arguments, the "Error: ..." line click prints, the usage line it prints above it or None)
MISTAKES = [
    pytest.param(
        ["tofu", "plan"],
        "Error: Missing option '--manifest' / '-f' (or '--stack-input' / '-i', '--input-dir', '--kustomize-dir').",
        "Usage: planton tofu plan [OPTIONS]",
        id="missing-manifest-option",
    ),
    pytest.param(
        ["tofu", "plan", "-f", MANIFEST, "--no-such-flag"],
        "Error: No such option: --no-such-flag",
        "Usage: planton tofu plan [OPTIONS]",
        id="unknown-option",
    ),
    pytest.param(
        ["tofu", "plan", "-f", MANIFEST, "--detailed-exitcod"],
        "Error: No such option: --detailed-exitcod (Possible options: --detailed-exitcode)",
        "Usage: planton tofu plan [OPTIONS]",
        id="misspelt-option-suggests",
    ),
    pytest.param(
        ["--no-such-flag"],
        "Error: No such option: --no-such-flag",
        "Usage: planton [OPTIONS] COMMAND [ARGS]...",
        id="unknown-root-option",
    ),
    pytest.param(
        ["tofu", "plna"],
        "Error: No such command 'plna'. Did you mean 'plan'?",
        "Usage: planton tofu [OPTIONS] COMMAND [ARGS]...",
        id="unknown-tofu-command",
    ),
    pytest.param(
        ["valdate", "-f", MANIFEST],
        "Error: No such command 'valdate'. Did you mean 'validate'?",
        "Usage: planton [OPTIONS] COMMAND [ARGS]...",
        id="unknown-root-command",
    ),
    pytest.param(
        ["local", "strat"],
        "Error: No such command 'strat'. Did you mean 'start', 'status'?",
        "Usage: planton local [OPTIONS] COMMAND [ARGS]...",
        id="unknown-local-command",
    ),
    pytest.param(["validate", "-f"], "Error: Option '-f' requires an argument.", None, id="missing-option-value"),
    pytest.param(
        ["tofu", "plan", "-f", MANIFEST, "--work-dir"],
        "Error: Option '--work-dir' requires an argument.",
        None,
        id="missing-work-dir-value",
    ),
    pytest.param(
        ["tofu", "plan", "-f", MANIFEST, "extra"],
        "Error: Got unexpected extra argument(s) (extra)",
        "Usage: planton tofu plan [OPTIONS]",
        id="extra-argument",
    ),
    pytest.param(
        ["tofu", "apply", "-f", MANIFEST, "one.tfplan", "two.tfplan"],
        "Error: Got unexpected extra argument(s) (two.tfplan)",
        "Usage: planton tofu apply [OPTIONS] [PLAN_FILE]",
        id="two-plan-files",
    ),
    pytest.param(
        ["tofu", "plan", "-f", MANIFEST, "--local=yes"],
        "Error: Option '--local' does not take a value.",
        None,
        id="flag-given-a-value",
    ),
]


@pytest.mark.parametrize(("args", "error", "usage"), MISTAKES)
def test_usage_mistake_prints_clicks_short_message_and_exits_2(
    cli: Cli, tmp_path: Path, args: list[str], error: str, usage: str | None
) -> None:
    result = cli.run(*args)
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert lines[-1] == error
    if usage is not None:
        assert lines[0] == usage
        assert lines[1].startswith("Try '")
        assert lines[1].endswith(" --help' for help.")
    assert len(lines) <= 4, result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("from_env", [False, True], ids=["flag", "environment"])
def test_work_dir_that_is_a_file_is_a_usage_mistake(cli: Cli, tmp_path: Path, from_env: bool) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("", encoding="utf-8")
    if from_env:
        cli.env["PLANTON_WORK_DIR"] = str(a_file)
        result = cli.run("tofu", "plan", "-f", MANIFEST)
        source = "PLANTON_WORK_DIR"
    else:
        result = cli.run("tofu", "plan", "-f", MANIFEST, "--work-dir", str(a_file))
        source = "--work-dir"
    assert result.returncode == 2
    assert_no_traceback(result)
    assert result.stderr.splitlines()[-1] == (
        f"error: {source}: {a_file} exists and is not a directory; name a directory (it is created if missing)"
    )
    assert a_file.read_text(encoding="utf-8") == ""


ENV_VARIABLES = {"--work-dir": "PLANTON_WORK_DIR", "--plugin-mirror": "PLANTON_PLUGIN_MIRROR"}


@pytest.mark.parametrize("option", ["--work-dir", "--plugin-mirror"])
def test_an_empty_directory_option_is_a_usage_mistake(cli: Cli, tmp_path: Path, option: str) -> None:
    # Path("") is the current directory: a script's unset "$DIR" must not quietly mean "here".
    result = cli.run("tofu", "plan", "-f", MANIFEST, option, "")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '{option}' (env var: '{ENV_VARIABLES[option]}'): must not be empty; name a directory"
    )
    assert not (tmp_path / ".planton").exists()


def test_help_names_the_environment_variables(cli: Cli) -> None:
    # Square brackets in help text are Rich markup to Typer: "[env: X]" once vanished from --help.
    cli.env["COLUMNS"] = "200"
    result = cli.run("tofu", "plan", "--help")
    assert result.returncode == 0
    for name in ("PLANTON_TOFU_BINARY", "PLANTON_PLUGIN_MIRROR", "PLANTON_WORK_DIR", "PLANTON_LOCK_TIMEOUT"):
        assert f"[env var: {name}]" in result.stdout


def test_the_other_entry_point_names_itself(cli: Cli) -> None:
    result = cli.run("tofu", "plna", script="project-planton")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "Usage: project-planton tofu [OPTIONS] COMMAND [ARGS]..."


@pytest.mark.parametrize("args", [["--help"], ["tofu", "--help"], ["tofu", "plan", "--help"], ["local", "--help"]])
def test_help_exits_0_on_stdout(cli: Cli, args: list[str]) -> None:
    result = cli.run(*args)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("args", [[], ["tofu"], ["local"]])
def test_a_group_without_a_command_shows_its_help_and_exits_2(cli: Cli, args: list[str]) -> None:
    # click's convention since 8.2: no command given is a usage mistake, with the help as message.
    result = cli.run(*args)
    assert result.returncode == 2
    assert "Commands" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_version(cli: Cli) -> None:
    result = cli.run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("planton ")
