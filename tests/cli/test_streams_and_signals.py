"""Streams that are closed or whose reader went away, signals that come twice, and the other
way in (``python -m planton``), through the installed console script: an exit code that tells
what happened and never a traceback, on whichever stream is still there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_exit_codes import _planton_waiting_on_a_fifo, fake_terraform

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


def test_repeated_interrupts_are_one_interruption(cli: Cli, tmp_path: Path) -> None:
    # Ctrl-C pressed again and again: some land while the first is being reported and while
    # the process exits. (Signals sent at once collapse into one, so they are spaced out.)
    process = _planton_waiting_on_a_fifo(cli, tmp_path, "validate")
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
