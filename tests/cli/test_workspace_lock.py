"""The workspace lock outlives a planton killed while its terraform runs: terraform inherits the
lock, so a second planton neither rewrites the variables under it nor starts a second terraform,
and says which process holds the workspace. Through the installed console script, with terraform
played by a stand-in that blocks in apply until the test lets it go (a FIFO: no sleeps)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from test_exit_codes import terraform_planning_a_new_table

from e2e_support import BIN_DIR, Cli, assert_no_traceback
from support import HACK_MANIFEST

# apply writes its PID to {started!r}, then waits until {release!r} (a FIFO) is opened for
# writing.
BLOCKING_APPLY = """\
with open({started!r}, "w") as note:
    note.write(str(os.getpid()))
open({release!r}).read()
"""


def _wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 60.0) -> str:
    """The content of ``path`` once the stand-in wrote it (or fail when planton ended first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8"):
            return path.read_text(encoding="utf-8")
        if process.poll() is not None:
            raise AssertionError(f"planton ended ({process.returncode}) before terraform applied")
        time.sleep(0.05)
    raise AssertionError(f"terraform never started applying: {path} was not written")


def _let_go(release: Path) -> None:
    """Open the FIFO's write end, so the stand-in's read returns and terraform finishes; it
    opens the read end right after noting its PID, so this waits for that at most."""
    deadline = time.monotonic() + 30
    while True:
        try:
            os.close(os.open(release, os.O_WRONLY | os.O_NONBLOCK))
            return
        except OSError:  # ENXIO: the stand-in has not opened its end yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_killed_plantons_terraform_keeps_the_workspace(cli: Cli, tmp_path: Path) -> None:
    started, release = tmp_path / "terraform-started", tmp_path / "release"
    os.mkfifo(release)
    binary = terraform_planning_a_new_table(
        tmp_path / "terraform", BLOCKING_APPLY, started=str(started), release=str(release)
    )
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
    first = subprocess.Popen(
        argv,
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        terraform_pid = int(_wait_for(started, first))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        variables = next(Path(cli.env["PLANTON_WORK_DIR"]).rglob("terraform.tfvars.json"))
        written = variables.read_bytes()
        second = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary), "--set", "spec.tags.x=y")
        assert second.returncode == 3, second.stderr
        assert_no_traceback(second)
        assert f"the planton command that held it (PID {first.pid}) is gone" in second.stderr
        assert f"the terraform it started (PID {terraform_pid}) still runs there" in second.stderr
        assert variables.read_bytes() == written  # nothing rewritten under the running terraform
    finally:
        first.kill()
        first.wait(timeout=30)
        if started.exists():
            _let_go(release)
    # Released when terraform exits: a command that waits for the lock then runs.
    third = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary), "--lock-timeout", "60s")
    assert third.returncode == 0, third.stderr
