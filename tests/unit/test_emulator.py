"""The local emulator's start-up: found without importing moto, never left running unrecorded;
a record that names another process is never trusted, nor that process killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from planton import emulator
from planton.errors import EnvironmentNotReady


def test_moto_is_found_without_being_imported() -> None:
    # Importing moto runs its start-up in planton's process; moto 5.0.0 read the user's
    # AWS_PROFILE there and crashed planton on one that does not exist.
    code = textwrap.dedent(
        """
        import sys
        from planton import emulator
        assert emulator._moto_server_installed()
        assert "moto" not in sys.modules, "moto was imported"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"AWS_PROFILE": "missing"}
    )
    assert result.returncode == 0, result.stderr


def test_state_dir_default_and_override(tmp_path: Path) -> None:
    assert emulator.state_dir({"HOME": str(tmp_path)}) == tmp_path / ".local" / "state" / "planton"
    assert emulator.state_dir({"XDG_STATE_HOME": str(tmp_path / "x")}) == tmp_path / "x" / "planton"
    assert emulator.state_dir({emulator.STATE_DIR_ENV: str(tmp_path / "y"), "HOME": "/h"}) == tmp_path / "y"


def test_unwritable_state_dir_is_environment_not_ready(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(EnvironmentNotReady, match="cannot write the local emulator's state directory"):
        emulator.ensure_running(blocker / "state")


def _sleeper_instead_of_the_server(
    monkeypatch: pytest.MonkeyPatch, started: list[int], *, interrupt_the_spawn: bool = False
) -> None:
    """``subprocess.Popen`` starts ``sleep 60`` instead of the server; with ``interrupt_the_spawn``
    a Ctrl-C (a real SIGINT) comes before Popen has returned, as one can while it waits for the
    child's exec."""
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process = real_popen(["sleep", "60"], stdout=kwargs["stdout"], start_new_session=True)  # type: ignore[call-overload]
        started.append(process.pid)
        if interrupt_the_spawn:
            os.kill(os.getpid(), signal.SIGINT)
        return process  # type: ignore[no-any-return]

    monkeypatch.setattr(emulator.subprocess, "Popen", popen)


def _assert_gone(pid: int) -> None:
    """Ended and reaped: planton waits for the server it stopped."""
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_interrupted_start_stops_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    recorded: list[bool] = []

    def interrupted(_port: int) -> bool:
        recorded.append((tmp_path / "state" / "emulator.json").exists())
        raise KeyboardInterrupt

    _sleeper_instead_of_the_server(monkeypatch, started)
    monkeypatch.setattr(emulator, "_answers", interrupted)
    with pytest.raises(KeyboardInterrupt):
        emulator.ensure_running(tmp_path / "state")
    [pid] = started
    assert recorded == [True], "the server is recorded before it is waited for"
    _assert_gone(pid)
    assert not (tmp_path / "state" / "emulator.json").exists()


def test_a_signal_while_the_server_is_spawned_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    _sleeper_instead_of_the_server(monkeypatch, started, interrupt_the_spawn=True)
    with pytest.raises(KeyboardInterrupt):
        emulator.ensure_running(tmp_path / "state")
    [pid] = started
    _assert_gone(pid)
    assert not (tmp_path / "state" / "emulator.json").exists()


def test_a_server_that_never_answers_is_stopped_and_forgotten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    _sleeper_instead_of_the_server(monkeypatch, started)
    monkeypatch.setattr(emulator, "_answers", lambda _port: False)
    monkeypatch.setattr(emulator, "_START_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(EnvironmentNotReady, match="did not answer"):
        emulator.ensure_running(tmp_path / "state")
    [pid] = started
    _assert_gone(pid)
    assert not (tmp_path / "state" / "emulator.json").exists()


def _record(state: Path, pid: int, **extra: object) -> None:
    state.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "port": 1, "log_path": str(state / "emulator.log"), **extra}
    (state / "emulator.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.mark.parametrize("written_by", ["an older planton", "a process whose PID was reused"])
def test_a_record_naming_another_process_is_never_trusted_or_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written_by: str
) -> None:
    # A process that looks like a moto server by its command line, and is not the recorded one.
    impostor = subprocess.Popen(["bash", "-c", "exec -a moto_server sleep 60"])
    try:
        state = tmp_path / "state"
        # What the record says of its process is true of another one (this test's, started well
        # before the impostor): as when the recorded server ended and its PID went to the impostor.
        extra = {} if written_by == "an older planton" else {"identity": emulator._identity(os.getpid())}
        _record(state, impostor.pid, **extra)
        fresh = object()  # what a start would return: no server is started here
        monkeypatch.setattr(emulator, "_start", lambda _directory: fresh)

        assert emulator.status(state) is None
        assert emulator.ensure_running(state) == (fresh, True)
        _record(state, impostor.pid, **extra)
        assert emulator.stop(state) is None
        assert impostor.poll() is None, "the impostor was killed"
        assert not (state / "emulator.json").exists()
    finally:
        impostor.kill()
        impostor.wait()


def test_a_lock_never_released_is_an_error_naming_it_and_its_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    lock_file = state / "emulator.lock"
    hold = (
        "import fcntl, os, sys\n"
        "lock = open(sys.argv[1], 'w')\n"
        "fcntl.flock(lock, fcntl.LOCK_EX)\n"
        "lock.write(f'{os.getpid()}\\n'); lock.flush()\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(lock_file)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"

        def start(_directory: Path) -> emulator.Emulator:
            raise AssertionError("started an emulator without the lock")

        monkeypatch.setattr(emulator, "_start", start)
        monkeypatch.setattr(emulator, "_LOCK_TIMEOUT_SECONDS", 0.3)
        with pytest.raises(EnvironmentNotReady) as refused:
            emulator.ensure_running(state)
        assert str(lock_file) in str(refused.value)
        assert f"PID {holder.pid}" in str(refused.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()


def test_a_moto_folder_in_the_current_directory_is_never_run_as_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # python -m puts the current directory first on the path; -P keeps it off.
    (tmp_path / "moto").mkdir()
    (tmp_path / "moto" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "moto" / "server.py").write_text("raise SystemExit('the wrong moto ran')\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    command = emulator._server_command(5999)
    assert command[:4] == [sys.executable, "-P", "-m", "moto.server"]
    found = subprocess.run(
        [*command[:2], "-c", "import importlib.util; print(importlib.util.find_spec('moto').origin)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert not found.stdout.startswith(str(tmp_path)), found.stdout
