"""How planton behaves in a CI step and at a terminal, through the installed console script,
with terraform played by a stand-in: no prompts without a terminal (or with CI=true), the
step summary, colour, --lock-timeout passed on, shell completion and --version."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest
from test_exit_codes import fake_terraform

from e2e_support import Cli, assert_no_traceback
from support import HACK_MANIFEST, PLANS

MANIFEST = str(HACK_MANIFEST)
ANSI = re.compile(r"\x1b\[")
SGR = re.compile(r"\x1b\[([0-9;]*)m")


@pytest.mark.parametrize(
    ("command", "ci", "typed"),
    [
        (["tofu", "apply"], None, None),  # no terminal
        (["tofu", "destroy"], None, None),
        (["tofu", "apply"], "true", "yes\n"),  # a terminal, but CI says nobody is there
        (["tofu", "destroy"], "1", "yes\n"),
    ],
)
def test_no_prompt_without_a_terminal_or_in_ci(
    cli: Cli, tmp_path: Path, command: list[str], ci: str | None, typed: str | None
) -> None:
    binary = fake_terraform(tmp_path, 0)
    if ci is not None:
        cli.env["CI"] = ci
    result = cli.run(*command, "-f", MANIFEST, "--binary", str(binary), terminal_input=typed)
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert f"error: {command[1]} asks for confirmation, and there is no terminal to ask at" in result.stderr
    assert "--auto-approve" in result.stderr
    assert not (tmp_path / "work").exists()  # failed at once: nothing written, nothing run


def test_at_a_terminal_the_question_is_asked(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "apply", "-f", MANIFEST, "--binary", str(binary), terminal_input="no\n")
    assert result.returncode == 1, result.stderr
    assert "Do you want to perform these actions?" in result.stderr
    assert "apply cancelled: the answer was not 'yes'; nothing was changed" in result.stderr


@pytest.mark.parametrize("answer", [" yes\n", "yes \n", "yes  \n", "\tyes\n", "YES\n", "yes\\n\n", "y\n", "\n"])
def test_only_the_exact_answer_yes_approves(cli: Cli, tmp_path: Path, answer: str) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "apply", "-f", MANIFEST, "--binary", str(binary), terminal_input=answer)
    assert result.returncode == 1, result.stderr
    assert "apply cancelled: the answer was not 'yes'; nothing was changed" in result.stderr
    assert "fake terraform apply" not in result.stderr  # terraform's apply never ran


def test_the_exact_answer_yes_approves(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "apply", "-f", MANIFEST, "--binary", str(binary), terminal_input="yes\n")
    assert result.returncode == 0, result.stderr
    assert "fake terraform apply exits 0" in result.stderr


def test_with_stderr_redirected_the_question_is_asked_at_the_terminal(cli: Cli, tmp_path: Path) -> None:
    # `planton tofu apply 2>err.log` at a terminal: the warning and the question must reach the
    # person, not only the log (where they were, while planton waited silently).
    binary = fake_terraform(tmp_path, 0, plan_json=PLANS / "replace_key.json")
    result = cli.run("tofu", "apply", "-f", MANIFEST, "--binary", str(binary), terminal_input="no\n")
    assert result.returncode == 1, result.stderr
    terminal = re.sub(r"\x1b\[[0-9;]*m", "", cli.terminal_output)
    assert "warning: the plan replaces table" in terminal
    assert "Only 'yes' will be accepted to approve." in terminal
    assert terminal.index("warning: the plan replaces table") < terminal.index("Do you want to perform these actions?")
    # The log still has them too.
    assert "warning: the plan replaces table" in result.stderr
    assert "Do you want to perform these actions?" in result.stderr


def test_an_asked_destroy_names_the_table_at_the_terminal(cli: Cli, tmp_path: Path) -> None:
    # `destroy >log 2>&1` at a terminal: the question there must say what it deletes.
    binary = fake_terraform(tmp_path, 0, plan_json=PLANS / "module_destroy.json")
    result = cli.run("tofu", "destroy", "-f", MANIFEST, "--binary", str(binary), terminal_input="no\n")
    assert result.returncode == 1, result.stderr
    terminal = re.sub(r"\x1b\[[0-9;]*m", "", cli.terminal_output)
    assert "warning: destroy deletes table planton-demo-orders and every item in it" in terminal
    assert terminal.index("destroy deletes table") < terminal.index("Do you want to perform these actions?")


def test_the_plan_summary_goes_to_the_step_summary(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    cli.env["GITHUB_STEP_SUMMARY"] = str(summary)
    result = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, never overwritten
    assert f"## planton tofu plan: {MANIFEST}" in text
    assert "| Action | Resource | Changes |" in text
    assert "`aws_dynamodb_table.this`" in text
    # And people see the summary on stdout.
    assert "aws_dynamodb_table.this" in result.stdout
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.stdout


def test_an_unwritable_step_summary_is_a_warning(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "no-such-dir" / "summary.md")
    result = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    assert "warning: cannot append the plan summary to GITHUB_STEP_SUMMARY" in result.stderr


def colours(text: str) -> list[str]:
    """The colour parameters (30-49, 90-107) of the escape sequences in ``text``."""
    return [
        code
        for params in SGR.findall(text)
        for code in params.split(";")
        if code.isdigit() and (30 <= int(code) <= 49 or 90 <= int(code) <= 107)
    ]


def test_no_escape_codes_without_a_terminal(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.env.pop("NO_COLOR", None)
    result = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    assert not ANSI.search(result.stdout + result.stderr)


@pytest.mark.parametrize("how", ["NO_COLOR", "--no-color"])
def test_no_colour_at_a_terminal_when_asked(cli: Cli, tmp_path: Path, how: str) -> None:
    # FORCE_COLOR makes Rich treat the captured streams as a terminal, as a person's would be.
    binary = fake_terraform(tmp_path, 0)
    cli.env.pop("NO_COLOR", None)
    cli.env["FORCE_COLOR"] = "1"
    coloured = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(binary))
    assert colours(coloured.stdout + coloured.stderr), "the control case shows no colour at all"
    extra = ["--no-color"] if how == "--no-color" else []
    if how == "NO_COLOR":
        cli.env["NO_COLOR"] = "1"
    plain = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(binary), *extra)
    assert plain.returncode == 0, plain.stderr
    assert colours(plain.stdout + plain.stderr) == []


RECORDING_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    # Records its arguments, then behaves as the plain stand-in does.
    import os, sys
    with open({log!r}, "a", encoding="utf-8") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
    os.execv({fake!r}, [{fake!r}, *sys.argv[1:]])
    """
)


def test_lock_timeout_is_passed_to_terraform(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "argv.log"
    recording = tmp_path / "recording-terraform"
    fake = fake_terraform(tmp_path, 0)
    recording.write_text(RECORDING_TERRAFORM.format(python=sys.executable, log=str(log), fake=str(fake)))
    recording.chmod(0o755)
    cli.env["PLANTON_LOCK_TIMEOUT"] = "90s"
    result = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(recording), "--lock-timeout", "5m")
    assert result.returncode == 0, result.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    plan = next(call for call in calls if call.startswith("plan "))
    assert "-lock-timeout=5m" in plan.split()  # the flag wins over PLANTON_LOCK_TIMEOUT
    assert not any("-lock-timeout" in call for call in calls if call.startswith("show "))
    bad = cli.run("tofu", "plan", "-f", MANIFEST, "--binary", str(recording), "--lock-timeout", "soon")
    assert bad.returncode == 2
    assert "error: --lock-timeout: 'soon' is not a duration" in bad.stderr


def test_version(cli: Cli) -> None:
    result = cli.run("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"planton \d+\.\d+\.\d+\n", result.stdout)


def test_shell_completion_completes_commands_and_options(cli: Cli) -> None:
    cli.env.update({"_PLANTON_COMPLETE": "complete_bash", "COMP_WORDS": "planton tofu pl", "COMP_CWORD": "2"})
    commands = cli.run()
    assert commands.returncode == 0, commands.stderr
    assert commands.stdout.split() == ["plan"]
    cli.env.update({"COMP_WORDS": "planton tofu apply --allow", "COMP_CWORD": "3"})
    options = cli.run()
    assert options.stdout.split() == ["--allow-replace"]
    # --show-completion takes no value: Typer finds the shell among planton's parent processes,
    # so bash is made the parent (a test run detached from any shell would have none).
    shown = Cli(env={**cli.env, "_PLANTON_COMPLETE": ""}, cwd=cli.cwd).run(
        "--show-completion", wrapper=("bash", "-c", '"$0" "$@"; exit $?')
    )
    assert shown.returncode == 0, shown.stderr
    assert "_PLANTON_COMPLETE=complete_bash" in shown.stdout
