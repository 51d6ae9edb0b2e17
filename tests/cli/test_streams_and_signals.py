"""Streams that are closed or whose reader went away, signals that come twice, and the other
way in (``python -m planton``), through the installed console script: an exit code that tells
what happened and never a traceback, on whichever stream is still there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_exit_codes import CREATE_PLAN, _planton_starting, _planton_waiting_on_a_fifo, fake_terraform

from e2e_support import BIN_DIR, Cli
from support import HACK_MANIFEST

PLANTON = str(BIN_DIR / "planton")


def run_with_broken(stream: str, argv: list[str], cli: Cli) -> subprocess.CompletedProcess[str]:
    """Run planton with ``stream`` ("stdout" or "stderr") a pipe nobody reads; the other captured."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    other = "stderr" if stream == "stdout" else "stdout"
    try:
        return subprocess.run(
            [PLANTON, *argv],
            env=cli.env,
            cwd=cli.cwd,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=60,
            **{stream: write_end, other: subprocess.PIPE},  # type: ignore[call-overload]
        )
    finally:
        os.close(write_end)


def run_with_closed(fd: int, argv: list[str], cli: Cli) -> subprocess.CompletedProcess[str]:
    """Run planton with file descriptor ``fd`` closed, as ``2>&-`` or ``>&-`` leave it."""
    kept = {1: "stdout", 2: "stderr"}[3 - fd]
    script = f'exec "$@" {fd}>&-'
    return subprocess.run(
        ["sh", "-c", script, "sh", PLANTON, *argv],
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=60,
        **{kept: subprocess.PIPE},  # type: ignore[call-overload]
    )


# --- a reader that went away ---------------------------------------------------------------


def test_broken_stderr_keeps_the_failures_own_code(cli: Cli, invalid_manifest: Path) -> None:
    # The message is lost, but a CI step still learns that the manifest was bad, not "pipe".
    result = run_with_broken("stderr", ["validate", "-f", str(invalid_manifest)], cli)
    assert result.returncode == 4
    assert result.stdout == ""


def test_broken_stderr_on_success_is_141(cli: Cli) -> None:
    result = run_with_broken("stderr", ["validate", "-f", str(HACK_MANIFEST)], cli)
    assert result.returncode == 141


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["tofu", "--help"]])
def test_broken_stdout_for_help_and_version_is_141(cli: Cli, argv: list[str]) -> None:
    result = run_with_broken("stdout", argv, cli)
    assert result.returncode == 141
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr


# --- streams closed before planton started --------------------------------------------------


def test_closed_stderr_bad_manifest(cli: Cli, invalid_manifest: Path) -> None:
    result = run_with_closed(2, ["validate", "-f", str(invalid_manifest)], cli)
    assert result.returncode == 4
    assert result.stdout == ""


def test_closed_stderr_while_terraform_runs(cli: Cli, tmp_path: Path) -> None:
    # tofu output sends terraform init's chatter to planton's stderr, which is not there.
    binary = fake_terraform(tmp_path, 0)
    result = run_with_closed(2, ["tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary), "--json"], cli)
    assert result.returncode == 0
    assert '"table_name"' in result.stdout


def test_closed_stdout_loses_data_and_says_141(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = run_with_closed(1, ["tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary)], cli)
    assert result.returncode == 141, result.stderr
    assert "Traceback" not in result.stderr


# --- signals --------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["starting", "waiting"])
def test_repeated_interrupts_are_one_interruption(cli: Cli, tmp_path: Path, when: str) -> None:
    # Ctrl-C pressed again and again, from the moment planton has taken SIGINT over (while it
    # imports) or from when it waits for the manifest: some land while the first is being
    # reported and while the process exits. (Signals sent at once collapse into one, so they
    # are spaced out.)
    start = _planton_starting if when == "starting" else _planton_waiting_on_a_fifo
    process = start(cli, tmp_path, "validate")
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        process.send_signal(signal.SIGINT)
        time.sleep(0.0005)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == ["error: interrupted"]


# --- python -m planton ----------------------------------------------------------------------


def test_python_dash_m_names_itself(cli: Cli) -> None:
    result = subprocess.run(
        [str(BIN_DIR / "python"), "-m", "planton", "tofu", "plna"],
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "Usage: python -m planton tofu [OPTIONS] COMMAND [ARGS]..."
    assert sys.executable  # the venv's python runs the installed package, as a user's would


# --- terraform's output, when planton's reader went away ----------------------------------

# Stands in for terraform where a broken pipe matters: like any Go program, a write to a broken
# stdout or stderr ends it (SIGPIPE). apply says a lot on both, then writes its "state" beside
# the workspace's files and exits {status}.
GO_LIKE_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    import json, os, signal, sys
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
    elif command == "plan":
        for arg in sys.argv:
            if arg.startswith("-out="):
                open(arg[len("-out="):], "w").write("a saved plan")
        print("Terraform will perform the following actions:", flush=True)
    elif command == "show":
        print(open({plan_json!r}, encoding="utf-8").read())
    elif command == "output":
        print(json.dumps({{"table_name": {{"value": "planton-demo-orders"}}}}))
    elif command == "apply":
        for n in range(2000):
            print(f"aws_dynamodb_table.this: Still creating... [{{n}}s elapsed]", flush=True)
            print(f"warning {{n}}", file=sys.stderr, flush=True)
        open("state-written", "w").write("applied")
        sys.exit({status})
    """
)


def go_like_terraform(directory: Path, status: int = 0) -> Path:
    path = directory / f"go-like-terraform-{status}"
    path.write_text(GO_LIKE_TERRAFORM.format(python=sys.executable, plan_json=str(CREATE_PLAN), status=status))
    path.chmod(0o755)
    return path


def state_written(tmp_path: Path) -> bool:
    """Whether the stand-in's apply ran to its end (in the workspace under tmp_path)."""
    return any(tmp_path.rglob("state-written"))


APPLY = ["tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve"]


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_terraform_runs_to_its_end_when_planton_s_reader_went_away(cli: Cli, tmp_path: Path, stream: str) -> None:
    # terraform inherited planton's stdout, met the broken pipe and died with SIGPIPE mid-apply.
    result = run_with_broken(stream, [*APPLY, "--binary", str(go_like_terraform(tmp_path))], cli)
    assert result.returncode == 141, getattr(result, "stderr" if stream == "stdout" else "stdout")
    assert state_written(tmp_path)
    if stream == "stdout":
        assert "terraform was killed" not in result.stderr
        assert "Traceback" not in result.stderr
        assert "Exception ignored" not in result.stderr


def test_a_json_document_still_says_what_was_applied_when_stderr_went_away(cli: Cli, tmp_path: Path) -> None:
    # --json sends terraform's text to stderr; stdout still carries the document.
    result = run_with_broken("stderr", [*APPLY, "--json", "--binary", str(go_like_terraform(tmp_path))], cli)
    assert result.returncode == 141
    document = json.loads(result.stdout)
    assert (document["applied"], document["exit_code"]) == (True, 141)
    assert state_written(tmp_path)


def test_a_failure_keeps_its_own_code_when_planton_s_reader_went_away(cli: Cli, tmp_path: Path) -> None:
    result = run_with_broken("stdout", [*APPLY, "--binary", str(go_like_terraform(tmp_path, status=1))], cli)
    assert result.returncode == 1, result.stderr
    assert state_written(tmp_path)
