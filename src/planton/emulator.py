"""The embedded default: a local AWS emulator (moto server) on 127.0.0.1.

Started on demand by ``--local`` and left running for later commands (it keeps its tables in
memory); ``planton local status`` and ``planton local stop`` report and end it. Its PID, port and
log live in the state directory (``$PLANTON_LOCAL_STATE_DIR``, else
``$XDG_STATE_HOME/planton``, else ``~/.local/state/planton``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from planton.errors import EnvironmentNotReady
from planton.paths import expand_path
from planton.statedir import planton_state_dir

STATE_DIR_ENV = "PLANTON_LOCAL_STATE_DIR"
HOST = "127.0.0.1"
_STATE_FILE = "emulator.json"
_LOG_FILE = "emulator.log"
_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0

# What the emulator cannot serve, by the manifest field that asks for it (snake_case): moto
# answers these with HTTP 500 and the aws provider keeps polling for minutes, so an apply hangs.
# Plans do not call these APIs for what does not exist yet, so they still work.
UNSERVED = {
    "contributor_insights_enabled": "contributor insights (moto answers DescribeContributorInsights with HTTP 500)",
    "autoscaling": "auto scaling (moto's Application Auto Scaling answers ListTagsForResource with HTTP 500)",
}


@dataclass(frozen=True)
class Emulator:
    """A running emulator, as recorded in the state directory."""

    pid: int
    port: int
    log_path: str

    @property
    def endpoint_url(self) -> str:
        """What ``AWS_ENDPOINT_URL`` should be for it."""
        return f"http://{HOST}:{self.port}"


def state_dir(environ: Mapping[str, str]) -> Path:
    """Where the emulator's PID file and log live: ``$PLANTON_LOCAL_STATE_DIR``, else planton's
    state directory."""
    if environ.get(STATE_DIR_ENV):
        return expand_path(environ[STATE_DIR_ENV], STATE_DIR_ENV, environ)
    return planton_state_dir(environ)


def status(directory: Path) -> Emulator | None:
    """The recorded emulator if it is alive and answering, else None."""
    recorded = _read_state(directory)
    if recorded is None or not _is_our_process(recorded.pid) or not _answers(recorded.port):
        return None
    return recorded


def ensure_running(directory: Path) -> tuple[Emulator, bool]:
    """The running emulator, starting one if needed; the flag says whether it was started now."""
    running = status(directory)
    if running is not None:
        return running, False
    stale = _read_state(directory)
    if stale is not None and _is_our_process(stale.pid):
        # Alive but not answering: a wedged server would make every command hang.
        _terminate(stale.pid)
    return _start(directory), True


def stop(directory: Path) -> Emulator | None:
    """Stop the recorded emulator; returns it, or None when none was running."""
    recorded = _read_state(directory)
    if recorded is None:
        return None
    was_running = _is_our_process(recorded.pid)
    if was_running:
        _terminate(recorded.pid)
    (directory / _STATE_FILE).unlink(missing_ok=True)
    return recorded if was_running else None


def _server_command(port: int) -> list[str]:
    if _moto_server_installed():
        return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    found = shutil.which("moto_server")
    if found:
        return [found, "-H", HOST, "-p", str(port)]
    raise EnvironmentNotReady(
        "--local needs the moto server, which is not installed; run: pip install 'planton[local]'"
    )


def _moto_server_installed() -> bool:
    """Whether ``python -m moto.server`` can run here, found without importing moto: importing
    it runs moto's own start-up in planton's process (some releases read the user's AWS
    profile there and fail on one that does not exist)."""
    spec = importlib.util.find_spec("moto")  # a top-level name: found, not imported
    locations = (spec.submodule_search_locations or []) if spec else []
    return any((Path(location) / "server.py").is_file() for location in locations)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _start(directory: Path) -> Emulator:
    port = _free_port()
    command = _server_command(port)
    log_path = directory / _LOG_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")  # noqa: SIM115 - closed once the server has it
    except OSError as err:
        raise EnvironmentNotReady(
            f"cannot write the local emulator's state directory {directory}: {err.strerror}; "
            f"point {STATE_DIR_ENV} at a directory you can write to"
        ) from None
    with log:
        # A session of its own: the emulator outlives this command and ignores its Ctrl-C.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=_server_environment(),
        )
    emulator = Emulator(pid=process.pid, port=port, log_path=str(log_path))
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise EnvironmentNotReady(
                    f"the local emulator exited during start-up (status {process.returncode}); see {log_path}"
                )
            if _answers(port):
                _write_state(directory, emulator)
                return emulator
            time.sleep(0.2)
    except BaseException:
        # Interrupted (or the state could not be recorded): an emulator no state file knows of
        # would run on unseen, so it goes (unless it ended by itself: its PID may be reused).
        if process.poll() is None:
            _terminate(process.pid)
        raise
    _terminate(process.pid)
    raise EnvironmentNotReady(
        f"the local emulator did not answer on port {port} within {_START_TIMEOUT_SECONDS:.0f}s; see {log_path}"
    )


def _server_environment() -> dict[str, str]:
    # The emulator needs no credentials and must not see the user's.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/moto-api/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def _is_our_process(pid: int) -> bool:
    """True if ``pid`` is alive and is a moto server (a recycled PID must never be killed)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"moto" in cmdline


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + _STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _is_our_process(pid) or _is_zombie(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] == "Z"


def _read_state(directory: Path) -> Emulator | None:
    try:
        data = json.loads((directory / _STATE_FILE).read_text(encoding="utf-8"))
        return Emulator(pid=int(data["pid"]), port=int(data["port"]), log_path=str(data["log_path"]))
    except (OSError, ValueError, KeyError, TypeError, OverflowError):  # a damaged file: no emulator
        return None


def _write_state(directory: Path, emulator: Emulator) -> None:
    temporary = directory / f".{_STATE_FILE}.tmp"
    temporary.write_text(json.dumps(asdict(emulator)) + "\n", encoding="utf-8")
    os.replace(temporary, directory / _STATE_FILE)
