"""Starting the local emulator, through the installed CLI, with a stand-in for moto's server that
notes each start and opens its port only when the test says so (SIGUSR1): two commands at once
start one emulator, and an interrupted start leaves nothing running and nothing recorded.

planton runs ``python -m moto.server`` when moto is installed (as it is here) and ``moto_server``
from PATH otherwise; a ``sitecustomize`` on PYTHONPATH makes this planton believe moto is not
installed, so that it runs the stand-in first on PATH. The server gets none of PYTHONPATH."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from e2e_support import BIN_DIR, Cli, base_env

STAND_IN = '''\
#!PYTHON
"""Stands in for moto_server: notes its PID and port, then serves only once sent SIGUSR1."""
import http.server
import os
import signal
import sys

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
port = int(sys.argv[sys.argv.index("-p") + 1])
with open(STARTS, "a", encoding="utf-8") as starts:
    starts.write(f"{os.getpid()} {port}\\n")
signal.sigwait({signal.SIGUSR1})


class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Answer).serve_forever()
'''

NO_MOTO = "import planton.emulator\nplanton.emulator._moto_server_installed = lambda: False\n"


class StandIn:
    """The stand-in server on PATH, the CLI that finds it, and the starts it noted."""

    def __init__(self, tmp_path: Path) -> None:
        bin_dir = tmp_path / "stand-in-bin"
        hook = tmp_path / "no-moto"
        bin_dir.mkdir()
        hook.mkdir()
        self.starts_file = tmp_path / "starts"
        self.script = bin_dir / "moto_server"
        source = STAND_IN.replace("PYTHON", sys.executable).replace("STARTS", repr(str(self.starts_file)))
        self.script.write_text(source, encoding="utf-8")
        self.script.chmod(0o755)
        (hook / "sitecustomize.py").write_text(NO_MOTO, encoding="utf-8")
        env = base_env(tmp_path)
        env.update({"PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "PYTHONPATH": str(hook)})
        self.cli = Cli(env=env, cwd=tmp_path)
        self.state_dir = Path(env["PLANTON_LOCAL_STATE_DIR"])

    def planton(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN_DIR / "planton"), *args],
            env=self.cli.env,
            cwd=self.cli.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def starts(self) -> list[tuple[int, int]]:
        """(PID, port) of each stand-in started so far."""
        if not self.starts_file.exists():
            return []
        lines = self.starts_file.read_text(encoding="utf-8").splitlines(keepends=True)
        return [(int(pid), int(port)) for pid, port in (line.split() for line in lines if line.endswith("\n"))]

    def wait_for_starts(self, count: int) -> list[tuple[int, int]]:
        _wait_until(lambda: len(self.starts()) >= count, f"{count} stand-in start(s)")
        return self.starts()

    def release(self, pid: int) -> None:
        """Let a stand-in open its port (if it is still the stand-in)."""
        if self._is_stand_in(pid):
            os.kill(pid, signal.SIGUSR1)

    def kill_all(self) -> None:
        for pid, _ in self.starts():
            if self._is_stand_in(pid):
                os.kill(pid, signal.SIGKILL)

    def _is_stand_in(self, pid: int) -> bool:
        try:
            return str(self.script).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path)
    try:
        yield server
    finally:
        server.kill_all()


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll for a condition another process brings about (a file it writes, a file it opens)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f}s"
        time.sleep(0.01)


def _has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open."""
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) == str(path):
                return True
        except OSError:
            continue
    return False


def _endpoint(stderr: str) -> str:
    found = re.search(r" at (http://127\.0\.0\.1:\d+) ", stderr)
    assert found, stderr
    return found.group(1)


def test_two_starts_at_once_start_one_emulator_and_both_use_it(stand_in: StandIn) -> None:
    first = stand_in.planton("local", "start")
    [(pid, port)] = stand_in.wait_for_starts(1)
    # The first command's server is started and does not answer yet: the second one must wait
    # for it (it has opened the lock file) instead of starting another (a second start).
    second = stand_in.planton("local", "start")
    lock_file = stand_in.state_dir / "emulator.lock"
    _wait_until(
        lambda: _has_open(second.pid, lock_file) or len(stand_in.starts()) > 1 or second.poll() is not None,
        "second command waiting for the first or starting a server of its own",
    )
    for started, _ in stand_in.starts():
        stand_in.release(started)
    outputs = [command.communicate(timeout=60) for command in (first, second)]

    assert [command.returncode for command in (first, second)] == [0, 0], outputs
    assert stand_in.starts() == [(pid, port)], "exactly one server was started"
    assert [_endpoint(stderr) for _, stderr in outputs] == [f"http://127.0.0.1:{port}"] * 2
    assert "local emulator started at" in outputs[0][1]
    assert "local emulator already running at" in outputs[1][1]
    record = json.loads((stand_in.state_dir / "emulator.json").read_text(encoding="utf-8"))
    assert (record["pid"], record["port"]) == (pid, port)
    stand_in.cli.ok("local", "stop")
    _wait_until(lambda: not stand_in._is_stand_in(pid) or _is_zombie(pid), "stopped server")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_start_interrupted_leaves_nothing_running_or_recorded(stand_in: StandIn, signum: int, code: int) -> None:
    starting = stand_in.planton("local", "start")
    [(pid, _)] = stand_in.wait_for_starts(1)
    starting.send_signal(signum)
    _, stderr = starting.communicate(timeout=60)

    assert starting.returncode == code, stderr
    assert stderr.splitlines() == ["error: interrupted"]
    with pytest.raises(ProcessLookupError):  # ended, and reaped by planton
        os.kill(pid, 0)
    assert not (stand_in.state_dir / "emulator.json").exists()

    again = stand_in.planton("local", "start")
    [_, (fresh, port)] = stand_in.wait_for_starts(2)
    stand_in.release(fresh)
    _, stderr = again.communicate(timeout=60)
    assert again.returncode == 0, stderr
    assert f"local emulator started at http://127.0.0.1:{port} (pid {fresh}," in stderr
    stand_in.cli.ok("local", "stop")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
