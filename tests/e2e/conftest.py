"""End-to-end fixtures: the real CLI as a subprocess, real terraform, a moto server we start
and kill by PID, and boto3 to check what actually exists."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import Cli, base_env

TERRAFORM = shutil.which("tofu") or shutil.which("terraform")

NO_BINARY_REASON = "e2e tests skipped: neither tofu nor terraform is on PATH (install one to run them)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The only reason an e2e test may skip: there is no terraform binary to run."""
    if TERRAFORM is not None:
        return
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=NO_BINARY_REASON))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _start_moto(log: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """A moto server on a free port, or None when another process took the port first (with
    pytest-xdist, each worker starts its own server)."""
    port = _free_port()
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while process.poll() is None and not _answers(url):
        assert time.monotonic() < deadline, "moto server did not start within 30 s"
        time.sleep(0.2)
    # Answering is not enough: another worker's server may hold the port ours failed to bind.
    time.sleep(0.3)
    if process.poll() is not None:
        return None
    return process, url


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of this session's own on 127.0.0.1, killed by its PID when the session ends."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    started = None
    for _ in range(5):
        started = _start_moto(log)
        if started is not None:
            break
    assert started is not None, f"moto server would not start: {log.read_text()}"
    process, url = started
    try:
        yield url
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def cli(tmp_path: Path, moto_endpoint: str) -> Cli:
    """The CLI pointed at the session's moto server through AWS_ENDPOINT_URL, dummy credentials."""
    env = base_env(tmp_path)
    env.update(
        {
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    return Cli(env=env, cwd=tmp_path)
