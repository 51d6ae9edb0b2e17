"""Helpers for the e2e tests: the installed CLI run as a subprocess, a clean environment, boto3."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

BIN_DIR = Path(sys.executable).parent
DEFAULT_MIRROR = Path("/opt/tf-plugins")


def plugin_mirror() -> str | None:
    """This machine has no registry access: providers come from a filesystem mirror."""
    configured = os.environ.get("PLANTON_PLUGIN_MIRROR")
    if configured:
        return configured
    return str(DEFAULT_MIRROR) if DEFAULT_MIRROR.is_dir() else None


@dataclass
class Cli:
    """Runs the installed console scripts with an explicit environment."""

    env: dict[str, str]
    cwd: Path
    calls: list[list[str]] = field(default_factory=list)

    def run(
        self,
        *args: str,
        script: str = "planton",
        timeout: float = 300,
        input_text: str | None = None,
        wrapper: Sequence[str] = (),
        terminal_input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the console script; stdin is empty unless ``input_text`` is given (a pipe) or
        ``terminal_input`` (typed at a terminal: stdin is a pseudo-terminal, so planton may ask).
        ``wrapper`` goes before it (``setpriv ...``, ``unshare ...``)."""
        executable = BIN_DIR / script
        assert executable.exists(), f"{executable} is not installed; pip install the project first"
        argv = [*wrapper, str(executable), *args]
        self.calls.append(argv)
        if terminal_input is not None:
            return _run_at_a_terminal(argv, self.cwd, self.env, terminal_input, timeout)
        stdin: dict[str, Any] = {"input": input_text} if input_text is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(
            argv,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **stdin,
        )

    def ok(self, *args: str, script: str = "planton") -> subprocess.CompletedProcess[str]:
        result = self.run(*args, script=script)
        assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result


def _run_at_a_terminal(
    argv: list[str], cwd: Path, env: dict[str, str], typed: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``argv`` with a pseudo-terminal for stdin, ``typed`` waiting in it; stdout and stderr
    captured (so no spinner: those are not terminals)."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, typed.encode())
        return subprocess.run(
            argv, cwd=cwd, env=env, stdin=terminal, capture_output=True, text=True, timeout=timeout, check=False
        )
    finally:
        os.close(terminal)
        os.close(controller)


def base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: nothing from the developer's AWS setup leaks into a test."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "PLANTON_WORK_DIR": str(tmp_path / "work"),
        "PLANTON_LOCAL_STATE_DIR": str(tmp_path / "local-state"),
        "CHECKPOINT_DISABLE": "1",
        # terraform and the aws provider spend ~40% of their CPU collecting garbage in runs this
        # short; up to the memory limit they need not (CI's 2 cores are the e2e suite's bound).
        "GOGC": "off",
        "GOMEMLIMIT": "1GiB",
    }
    mirror = plugin_mirror()
    if mirror:
        env["PLANTON_PLUGIN_MIRROR"] = mirror
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def dynamodb(endpoint: str, region: str) -> Any:
    """A boto3 DynamoDB client for the moto server."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    """Neither Python's traceback nor Typer's boxed one reached the terminal."""
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream
        assert "╭" not in stream, stream
