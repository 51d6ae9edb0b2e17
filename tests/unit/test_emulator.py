"""The local emulator's start-up: found without importing moto, never left running unrecorded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
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


def test_interrupted_start_stops_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process = real_popen(["sleep", "60"], stdout=kwargs["stdout"], start_new_session=True)  # type: ignore[call-overload]
        started.append(process.pid)
        return process  # type: ignore[no-any-return]

    def interrupted(_port: int) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(emulator.subprocess, "Popen", popen)
    monkeypatch.setattr(emulator, "_answers", interrupted)
    with pytest.raises(KeyboardInterrupt):
        emulator.ensure_running(tmp_path / "state")
    [pid] = started
    deadline = time.monotonic() + 10  # SIGTERM was sent; give the process a moment to end
    while Path(f"/proc/{pid}").exists() and not emulator._is_zombie(pid):
        assert time.monotonic() < deadline, "the server was left running"
        time.sleep(0.05)
    assert not (tmp_path / "state" / "emulator.json").exists()
