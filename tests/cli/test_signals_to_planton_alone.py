"""A signal sent to planton alone reaches terraform, with or without a terminal: terraform runs
in a process group of its own and planton passes each SIGINT / SIGTERM on exactly once, so the
exit code says what terraform really did. (A terminal's Ctrl-C reaches planton's process group
only, and is passed on the same way.) Through the installed console script, with terraform
played by a stand-in that blocks in apply until a signal comes."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_exit_codes import terraform_planning_a_new_table

from e2e_support import BIN_DIR, Cli
from support import HACK_MANIFEST

# apply writes its PID to {started!r}, then waits for a signal: each one it gets is appended
# to {received!r}, and the first makes it stop gracefully (exit 1), as terraform does.
WAITING_APPLY = """\
def note(signum, frame):
    with open({received!r}, "a") as log:
        log.write(signal.Signals(signum).name + "\\n")
    sys.exit(1)
signal.signal(signal.SIGINT, note)
signal.signal(signal.SIGTERM, note)
with open({started!r}, "w") as out:
    out.write(str(os.getpid()))
while True:
    signal.pause()
"""


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not (path.exists() and path.read_text(encoding="utf-8")):
        assert process.poll() is None, f"planton ended ({process.returncode}) before terraform applied"
        assert time.monotonic() < deadline, "terraform never started applying"
        time.sleep(0.01)


@pytest.mark.parametrize("terminal", [True, False], ids=["stdin-a-terminal", "no-terminal"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_planton_alone_reaches_terraform_once(
    cli: Cli, tmp_path: Path, terminal: bool, signum: int, code: int
) -> None:
    started, received = tmp_path / "started", tmp_path / "received"
    binary = terraform_planning_a_new_table(
        tmp_path / "terraform", WAITING_APPLY, started=str(started), received=str(received)
    )
    controller, stdin = pty.openpty() if terminal else (None, subprocess.DEVNULL)
    argv = [
        str(BIN_DIR / "planton"),
        "tofu",
        "apply",
        "-f",
        str(HACK_MANIFEST),
        "--auto-approve",
        "--binary",
        str(binary),
    ]
    planton = subprocess.Popen(
        argv, env=cli.env, cwd=cli.cwd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_for(started, planton)
        planton.send_signal(signum)  # to planton's PID only, as `kill` sends it
        _, stderr = planton.communicate(timeout=60)
    finally:
        planton.kill()
        if controller is not None:
            os.close(controller)
            os.close(stdin)  # type: ignore[arg-type]
    assert planton.returncode == code, stderr.decode()
    # terraform was told, exactly once: what the exit code says really happened.
    assert received.read_text(encoding="utf-8").split() == [signal.Signals(signum).name]
