"""The embedded default: a local AWS emulator (moto server) on 127.0.0.1.

Started on demand by ``--local`` and left running for later commands (it keeps its tables in
memory); ``planton local status`` and ``planton local stop`` report and end it. Its record (PID,
port, and what tells that process from a later one given its PID), its log and a lock file live
in the state directory (``$PLANTON_LOCAL_STATE_DIR``, else ``$XDG_STATE_HOME/planton``, else
``~/.local/state/planton``).

Starting and stopping hold the lock, so that two commands at once start one emulator: the second
waits, then uses the one the first recorded. A server is recorded as soon as it runs, before it
answers, and a start that fails or is interrupted stops it and removes the record: no emulator
runs that no record knows of. A record is trusted, and its process stopped, only while that
process is the one recorded (not a later one that was given its PID).
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
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from planton.errors import EnvironmentNotReady
from planton.files import lock_exclusively
from planton.paths import expand_path
from planton.statedir import planton_state_dir

STATE_DIR_ENV = "PLANTON_LOCAL_STATE_DIR"
HOST = "127.0.0.1"
_STATE_FILE = "emulator.json"
_LOG_FILE = "emulator.log"
_LOCK_FILE = "emulator.lock"
_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0
# How long a command waits for another to start (or stop) the emulator: longer than that takes.
_LOCK_TIMEOUT_SECONDS = 60.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)

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
    # The boot and the moment the process started (``_identity``): a later process given the
    # same PID has another.
    identity: str

    @property
    def endpoint_url(self) -> str:
        """What ``AWS_ENDPOINT_URL`` should be for it."""
        return f"http://{HOST}:{self.port}"


def state_dir(environ: Mapping[str, str]) -> Path:
    """Where the emulator's record, lock file and log live: ``$PLANTON_LOCAL_STATE_DIR``, else
    planton's state directory."""
    if environ.get(STATE_DIR_ENV):
        return expand_path(environ[STATE_DIR_ENV], STATE_DIR_ENV, environ)
    return planton_state_dir(environ)


def status(directory: Path) -> Emulator | None:
    """The recorded emulator if it is alive and answering, else None."""
    recorded = _read_state(directory)
    if recorded is None or not _is_running(recorded) or not _answers(recorded.port):
        return None
    return recorded


def ensure_running(directory: Path) -> tuple[Emulator, bool]:
    """The running emulator, starting one if needed; the flag says whether it was started now."""
    running = status(directory)
    if running is not None:
        return running, False
    with _lock(directory):
        running = status(directory)  # another command may have started it while this one waited
        if running is not None:
            return running, False
        _stop_wedged(directory)
        return _start(directory), True


def stop(directory: Path) -> Emulator | None:
    """Stop the recorded emulator; returns it, or None when none was running."""
    if not (directory / _STATE_FILE).exists():
        return None
    with _lock(directory):  # not while another command starts it
        recorded = _read_state(directory)
        running = recorded if recorded is not None and _is_running(recorded) else None
        if running is not None:
            _terminate(running)
        _forget(directory)
    return running


def _stop_wedged(directory: Path) -> None:
    """Stop a recorded emulator that runs but does not answer: it would make every command hang."""
    stale = _read_state(directory)
    if stale is not None and _is_running(stale):
        _terminate(stale)


def _server_command(port: int) -> list[str]:
    if _moto_server_installed():
        # -P: the current directory is not put on the path, so a moto/ folder there is never run.
        return [sys.executable, "-P", "-m", "moto.server", "-H", HOST, "-p", str(port)]
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


# --- the lock ------------------------------------------------------------------------------


@contextlib.contextmanager
def _lock(directory: Path) -> Iterator[None]:
    """Hold the state directory's lock file (an exclusive ``flock``, released when its
    descriptor closes, also when the process dies), waiting for another command that holds it
    at most ``_LOCK_TIMEOUT_SECONDS``. The holder writes its PID in it for that wait's error."""
    path = directory / _LOCK_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as err:
        raise _unwritable(directory, err) from None
    try:
        _acquire(descriptor, path)
        with contextlib.suppress(OSError):  # only for another command's error message
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)


def _acquire(descriptor: int, path: Path) -> None:
    try:
        taken = lock_exclusively(descriptor, _LOCK_TIMEOUT_SECONDS)
    except OSError as err:
        raise EnvironmentNotReady(f"cannot lock {path}: {err.strerror}") from None
    if not taken:
        raise _lock_not_released(descriptor, path)


def _lock_not_released(descriptor: int, path: Path) -> EnvironmentNotReady:
    try:
        holder = f"PID {int(os.pread(descriptor, 32, 0))}"
    except (OSError, ValueError):
        holder = "another process"
    return EnvironmentNotReady(
        f"the local emulator's lock file {path} is still held by {holder} after {_LOCK_TIMEOUT_SECONDS:.0f}s "
        "(another planton starting or stopping the emulator); wait for it to finish, or end it if it is stuck"
    )


# --- starting -------------------------------------------------------------------------------


def _start(directory: Path) -> Emulator:
    """Start a server and record it before waiting for it to answer; if that fails or is
    interrupted, the server is stopped and the record removed before the error goes on."""
    port = _free_port()
    command = _server_command(port)
    process: subprocess.Popen[bytes] | None = None
    try:
        # A signal here would leave a server that has no record, or no Popen to stop it with.
        with _signals_held():
            process = _spawn(command, directory / _LOG_FILE)
            emulator = _record(directory, process.pid, port)
        _wait_until_answering(process, emulator)
        return emulator
    except BaseException:
        with _signals_held():
            if process is not None:
                _stop_child(process)
            _forget(directory)
        raise


def _spawn(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    try:
        log = open(log_path, "ab")  # noqa: SIM115 - closed once the server has it
    except OSError as err:
        raise _unwritable(log_path.parent, err) from None
    with log:
        # A session of its own: the emulator outlives this command and ignores its Ctrl-C.
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=_server_environment(),
        )


def _record(directory: Path, pid: int, port: int) -> Emulator:
    emulator = Emulator(pid=pid, port=port, log_path=str(directory / _LOG_FILE), identity=_identity(pid))
    _write_state(directory, emulator)
    return emulator


def _wait_until_answering(process: subprocess.Popen[bytes], emulator: Emulator) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EnvironmentNotReady(
                f"the local emulator exited during start-up (status {process.returncode}); see {emulator.log_path}"
            )
        if _answers(emulator.port):
            return
        time.sleep(0.2)
    raise EnvironmentNotReady(
        f"the local emulator did not answer on port {emulator.port} within {_START_TIMEOUT_SECONDS:.0f}s; "
        f"see {emulator.log_path}"
    )


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait while the body runs, then go to their own handlers (planton's
    raise ``Interrupted``), also when the body raised. Only the main thread can own signal
    handlers; elsewhere nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        held.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if held:
            signal.raise_signal(held[0])


def _unwritable(directory: Path, err: OSError) -> EnvironmentNotReady:
    return EnvironmentNotReady(
        f"cannot write the local emulator's state directory {directory}: {err.strerror}; "
        f"point {STATE_DIR_ENV} at a directory you can write to"
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


# --- processes ------------------------------------------------------------------------------


def _identity(pid: int) -> str:
    """What tells process ``pid`` from a later one given the same PID: the boot and the clock
    tick it started at; empty when it has ended (or this system has no /proc)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    if len(fields) < 20 or fields[0] == "Z":  # a zombie has ended
        return ""
    return f"{boot}/{fields[19]}"  # starttime, field 22 of stat (the text after the name is 3 on)


def _is_running(recorded: Emulator) -> bool:
    """True while the recorded process runs (a PID given to another process since is not it)."""
    return bool(recorded.identity) and _identity(recorded.pid) == recorded.identity


def _terminate(recorded: Emulator) -> None:
    """Stop a recorded emulator that is not this process's child (that of an earlier command):
    SIGTERM, then SIGKILL if it is still running after a while, never once its PID is another's."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(recorded.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _is_running(recorded):
            return
        time.sleep(0.1)
    if _is_running(recorded):
        with contextlib.suppress(ProcessLookupError):
            os.kill(recorded.pid, signal.SIGKILL)


def _stop_child(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this process started and reap it: SIGTERM, then SIGKILL after a grace."""
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the record -----------------------------------------------------------------------------


def _read_state(directory: Path) -> Emulator | None:
    try:
        data = json.loads((directory / _STATE_FILE).read_text(encoding="utf-8"))
        return Emulator(
            pid=int(data["pid"]),
            port=int(data["port"]),
            log_path=str(data["log_path"]),
            identity=str(data.get("identity", "")),  # none in an older planton's record: never trusted
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OverflowError):  # damaged: no emulator
        return None


def _write_state(directory: Path, emulator: Emulator) -> None:
    temporary = directory / f".{_STATE_FILE}.tmp"
    temporary.write_text(json.dumps(asdict(emulator)) + "\n", encoding="utf-8")
    os.replace(temporary, directory / _STATE_FILE)


def _forget(directory: Path) -> None:
    (directory / _STATE_FILE).unlink(missing_ok=True)
