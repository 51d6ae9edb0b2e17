"""How planton treats the terraform process: the user's CLI config, and Ctrl-C."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from e2e_support import BIN_DIR, Cli, base_env, plugin_mirror
from support import HACK_MANIFEST

pytestmark = pytest.mark.e2e


def test_users_own_cli_config_is_respected(tmp_path: Path) -> None:
    mirror = plugin_mirror()
    if mirror is None:
        pytest.skip("needs a provider mirror to write a CLI config for (set PLANTON_PLUGIN_MIRROR)")
    config = tmp_path / "user.tfrc"
    config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n')
    env = base_env(tmp_path)
    env.pop("PLANTON_PLUGIN_MIRROR", None)
    env["TF_CLI_CONFIG_FILE"] = str(config)
    result = Cli(env=env, cwd=tmp_path).run("tofu", "init", "-f", str(HACK_MANIFEST))
    # Without the user's config, init would try the registry, which this machine cannot reach.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Installed hashicorp/aws" in result.stdout or "Using hashicorp/aws" in result.stdout
    assert "does not exist; ignoring it" not in result.stderr


FAKE_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    # Stands in for terraform: init succeeds; plan saves a plan that creates the table; apply
    # behaves like terraform on Ctrl-C, stopping gracefully and writing its state before it
    # exits 1. A second SIGINT would be a hard abort.
    import os, signal, sys, time
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
        sys.exit(0)
    if command == "plan":
        open("planton.tfplan", "w").close()
        sys.exit(0)
    if command == "show":
        print(open({plan_json!r}, encoding="utf-8").read())
        sys.exit(0)
    interrupts = []
    signal.signal(signal.SIGINT, lambda *_: interrupts.append(1))
    open("apply-started", "w").close()
    deadline = time.monotonic() + 20
    while not interrupts and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # "writing state"
    with open("terraform.tfstate", "w") as state:
        state.write('{{"version": 4, "resources": [], "interrupts": %d}}\\n' % len(interrupts))
    sys.exit(1)
    """
)


def test_ctrl_c_lets_terraform_finish_writing_state(tmp_path: Path) -> None:
    fake = tmp_path / "fake-terraform"
    plan_json = Path(__file__).parents[1] / "fixtures" / "plans" / "create.json"
    fake.write_text(FAKE_TERRAFORM.format(python=sys.executable, plan_json=str(plan_json)))
    fake.chmod(0o755)
    env = base_env(tmp_path)
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    process = subprocess.Popen(
        [str(BIN_DIR / "planton"), "tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(fake)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workspace = next(iter((tmp_path / "work" / "aws").glob("*")), None)
        deadline = time.monotonic() + 30
        while workspace is None or not (workspace / "apply-started").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the fake apply never started"
            time.sleep(0.05)
            workspace = next(iter((tmp_path / "work" / "aws").glob("*")), None)
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    written = json.loads((workspace / "terraform.tfstate").read_text())
    assert written["interrupts"] == 1, "forwarded exactly once, then waited"
    # What terraform really left: its state holds no table, so the table may exist unrecorded.
    assert "interrupted: terraform stopped before the state recorded table planton-demo-orders" in stderr
    assert f"Adopt it (or let planton find it gone) with: planton tofu import -f {HACK_MANIFEST}" in stderr
    assert "Traceback" not in stderr


class _FailingAws(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every AWS call with HTTP 500, counting the attempts of each."""

    attempts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        self.attempts.append(self.headers.get("X-Amz-Target") or body.split("&", 1)[0])
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"__type": "InternalFailure", "message": "boom"}')

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        del args


def test_a_loopback_endpoint_gets_two_attempts_per_call_not_25(cli: Cli) -> None:
    # The aws provider retries 25 times with back-off and does not read AWS_MAX_ATTEMPTS: planton
    # gives it max_retries 2 for a loopback endpoint, so an emulator's error shows at once.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingAws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FailingAws.attempts.clear()
    try:
        cli.env.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
                "AWS_ACCESS_KEY_ID": "AKIATEST",
                "AWS_SECRET_ACCESS_KEY": "test",
            }
        )
        result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--timeout", "5m")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stderr
    assert _FailingAws.attempts, "terraform never called the endpoint"
    counts = {action: _FailingAws.attempts.count(action) for action in set(_FailingAws.attempts)}
    assert all(count <= 2 for count in counts.values()), counts
