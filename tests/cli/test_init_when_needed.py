"""Init exactly when needed, through the installed console script: a stand-in terraform records
every command it is asked to run, so a test counts the inits. Each input of the init
fingerprint that a user can change from outside (the binary, its version, the plugin mirror,
the plugin cache, the workspace's lock file) is changed in turn; the module's files and the
backend settings are covered in tests/unit/test_workspace.py."""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from e2e_support import BIN_DIR, Cli
from support import HACK_MANIFEST, REPO_ROOT

CREATE_PLAN = REPO_ROOT / "tests" / "fixtures" / "plans" / "create.json"

FAKE_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    # Stands in for terraform, writing one line of JSON per command to a log: the command, its
    # workspace and the plugin cache it was given. version -json says {version}. init takes a
    # turn at a barrier: it waits up to {barrier} s for another init to be running at the same
    # time, and notes whether it saw one.
    import json, os, sys, time
    command = sys.argv[1]
    entry = {{"command": command, "args": sys.argv[2:], "cwd": os.getcwd(),
              "cache": os.environ.get("TF_PLUGIN_CACHE_DIR")}}
    if command == "version":
        print(json.dumps({{"terraform_version": {version!r}}}))
    elif command == "init":
        barrier = {barrier_dir!r}
        os.makedirs(barrier, exist_ok=True)
        mine = os.path.join(barrier, str(os.getpid()))
        open(mine, "w").close()
        deadline = time.monotonic() + {barrier}
        others = []
        while time.monotonic() < deadline and not others:
            others = [name for name in os.listdir(barrier) if name != str(os.getpid())]
            time.sleep(0.05)
        entry["saw_another_init"] = bool(others)
        time.sleep(0.2)
        os.remove(mine)
        os.makedirs(".terraform", exist_ok=True)
    elif command == "plan":
        for arg in sys.argv:
            if arg.startswith("-out="):
                open(arg[len("-out="):], "w").write("a saved plan")
    elif command == "show":
        print(open({plan_json!r}, encoding="utf-8").read())
    elif command == "output":
        print("{{}}")
    with open({log!r}, "a") as log:
        log.write(json.dumps(entry) + "\\n")
    """
)


def fake_terraform(path: Path, log: Path, *, version: str = "1.11.4", barrier: float = 0.0) -> Path:
    path.write_text(
        FAKE_TERRAFORM.format(
            python=sys.executable,
            version=version,
            barrier=barrier,
            barrier_dir=str(log.parent / "barrier"),
            plan_json=str(CREATE_PLAN),
            log=str(log),
        ),
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def calls(log: Path, command: str | None = None) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return [entry for entry in entries if command is None or entry["command"] == command]


@pytest.fixture
def cli(cli: Cli) -> Cli:
    """The CLI without the machine's plugin mirror: each test says which mirror, if any."""
    cli.env.pop("PLANTON_PLUGIN_MIRROR", None)
    return cli


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "terraform-calls.jsonl"


@pytest.fixture
def terraform(tmp_path: Path, log: Path) -> Path:
    return fake_terraform(tmp_path / "terraform", log)


def plan(cli: Cli, binary: Path, *extra: str) -> None:
    cli.ok("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary), *extra)


def test_init_runs_once_and_then_only_when_asked(cli: Cli, terraform: Path, log: Path) -> None:
    plan(cli, terraform)
    plan(cli, terraform)
    assert len(calls(log, "init")) == 1
    # The variables are no input of init: another table definition plans without one.
    plan(cli, terraform, "--set", "spec.point_in_time_recovery_enabled=false")
    assert len(calls(log, "init")) == 1
    # `tofu init` of a workspace that is initialised for all of it runs nothing...
    shown = cli.ok("tofu", "init", "-f", str(HACK_MANIFEST), "--binary", str(terraform))
    assert "nothing to do (--reconfigure runs init anyway)" in shown.stderr
    assert len(calls(log, "init")) == 1
    # ...and --reconfigure runs it, on any command.
    cli.ok("tofu", "init", "-f", str(HACK_MANIFEST), "--binary", str(terraform), "--reconfigure")
    plan(cli, terraform, "--reconfigure")
    assert len(calls(log, "init")) == 3
    # The version was asked once: remembered by the binary's path and file identity.
    assert len(calls(log, "version")) == 1


def test_each_input_runs_init_again_in_turn(cli: Cli, tmp_path: Path, terraform: Path, log: Path) -> None:
    def inits_after(*extra: str, binary: Path = terraform) -> int:
        before = len(calls(log, "init"))
        plan(cli, binary, *extra)
        plan(cli, binary, *extra)  # and once is enough
        return len(calls(log, "init")) - before

    assert inits_after() == 1
    # The binary's version: upgraded in place.
    time.sleep(0.01)
    fake_terraform(terraform, log, version="1.12.0")
    assert inits_after() == 1
    # Rewritten, but the same version: asked again, no init.
    time.sleep(0.01)
    fake_terraform(terraform, log, version="1.12.0")
    assert inits_after() == 0
    assert len(calls(log, "version")) == 3
    # The binary's path.
    (tmp_path / "bin").mkdir()
    other = fake_terraform(tmp_path / "bin" / "terraform", log)
    assert inits_after(binary=other) == 1
    # A plugin mirror, another one, and none again.
    mirrors = [tmp_path / "mirror-a", tmp_path / "mirror-b"]
    for mirror in mirrors:
        mirror.mkdir()
        assert inits_after("--plugin-mirror", str(mirror), binary=other) == 1
    assert inits_after(binary=other) == 1
    # The plugin cache.
    cli.env["TF_PLUGIN_CACHE_DIR"] = str(tmp_path / "users-cache")
    (tmp_path / "users-cache").mkdir()
    assert inits_after(binary=other) == 1
    # The workspace lost its lock file; terraform adding to it is no change.
    workspace = Path(calls(log, "init")[-1]["cwd"])
    (workspace / ".terraform.lock.hcl").unlink()
    assert inits_after(binary=other) == 1
    lock = workspace / ".terraform.lock.hcl"
    lock.write_text(lock.read_text(encoding="utf-8").replace("hashes = [", 'hashes = [\n    "h1:other",'))
    assert inits_after(binary=other) == 0
    assert "h1:other" in lock.read_text(encoding="utf-8")


def test_init_starts_from_the_bundled_lock_file(cli: Cli, terraform: Path, log: Path) -> None:
    plan(cli, terraform)
    workspace = Path(calls(log, "init")[-1]["cwd"])
    bundled = (REPO_ROOT / "modules" / "aws_dynamodb" / ".terraform.lock.hcl").read_text(encoding="utf-8")
    assert (workspace / ".terraform.lock.hcl").read_text(encoding="utf-8") == bundled


def test_terraform_gets_one_plugin_cache(cli: Cli, tmp_path: Path, terraform: Path, log: Path) -> None:
    home = Path(cli.env["HOME"])
    plan(cli, terraform)
    default = home / ".cache" / "planton" / "plugins" / "default"
    assert calls(log, "init")[-1]["cache"] == str(default)
    assert default.is_dir()
    # Every command gets it, not only init.
    assert {entry["cache"] for entry in calls(log)} == {str(default)}
    # A mirror has a cache of its own.
    (tmp_path / "mirror").mkdir()
    plan(cli, terraform, "--plugin-mirror", str(tmp_path / "mirror"))
    mirrored = Path(calls(log, "init")[-1]["cache"])
    assert mirrored.parent == default.parent
    assert mirrored.name.startswith("mirror-")
    # XDG_CACHE_HOME moves planton's cache; the user's TF_PLUGIN_CACHE_DIR wins; set empty, none.
    cli.env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    plan(cli, terraform)
    assert calls(log, "init")[-1]["cache"] == str(tmp_path / "xdg" / "planton" / "plugins" / "default")
    cli.env["TF_PLUGIN_CACHE_DIR"] = str(tmp_path / "users-cache")
    plan(cli, terraform)
    assert calls(log, "init")[-1]["cache"] == str(tmp_path / "users-cache")
    cli.env["TF_PLUGIN_CACHE_DIR"] = ""
    plan(cli, terraform)
    assert calls(log, "init")[-1]["cache"] is None


def _manifest(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    text = HACK_MANIFEST.read_text(encoding="utf-8").replace("planton-demo-orders", name)
    path.write_text(text, encoding="utf-8")
    return path


def _init_at_once(cli: Cli, binary: Path, manifests: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    running = [
        subprocess.Popen(
            [str(BIN_DIR / "planton"), "tofu", "init", "-f", str(manifest), "--binary", str(binary)],
            env=cli.env,
            cwd=cli.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for manifest in manifests
    ]
    finished = []
    for process in running:
        stdout, stderr = process.communicate(timeout=120)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return finished


def test_inits_sharing_a_cache_take_turns(cli: Cli, tmp_path: Path, log: Path) -> None:
    # Each init waits up to 3 s for the other to be running too: with the cache's lock, neither
    # ever sees the other.
    binary = fake_terraform(tmp_path / "terraform", log, barrier=3.0)
    manifests = [_manifest(tmp_path, "orders-a"), _manifest(tmp_path, "orders-b")]
    results = _init_at_once(cli, binary, manifests)
    assert [result.returncode for result in results] == [0, 0], [result.stderr for result in results]
    inits = calls(log, "init")
    assert len(inits) == 2
    assert len({entry["cwd"] for entry in inits}) == 2
    assert [entry["saw_another_init"] for entry in inits] == [False, False]
    assert sum("waiting for another init to finish installing providers" in r.stderr for r in results) == 1


def test_inits_without_a_shared_cache_run_side_by_side(cli: Cli, tmp_path: Path, log: Path) -> None:
    # The control for the test above: without a cache there is no lock, and the barrier sees both.
    binary = fake_terraform(tmp_path / "terraform", log, barrier=10.0)
    cli.env["TF_PLUGIN_CACHE_DIR"] = ""
    results = _init_at_once(cli, binary, [_manifest(tmp_path, "orders-a"), _manifest(tmp_path, "orders-b")])
    assert [result.returncode for result in results] == [0, 0], [result.stderr for result in results]
    assert [entry["saw_another_init"] for entry in calls(log, "init")] == [True, True]


def test_ctrl_c_while_waiting_for_the_cache_stops_at_once(cli: Cli, tmp_path: Path, terraform: Path, log: Path) -> None:
    cache = Path(cli.env["HOME"]) / ".cache" / "planton" / "plugins" / "default"
    cache.mkdir(parents=True)
    with open(cache / ".planton-install.lock", "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another init is installing
        process = subprocess.Popen(
            [str(BIN_DIR / "planton"), "tofu", "init", "-f", str(HACK_MANIFEST), "--binary", str(terraform)],
            env=cli.env,
            cwd=cli.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            said = ""
            while "waiting for another init" not in said:
                line = process.stderr.readline()
                assert line, f"planton ended without waiting: {said}"
                said += line
            process.send_signal(signal.SIGINT)
            _, rest = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, said + rest
    assert "interrupted" in rest
    assert "Traceback" not in said + rest
    assert calls(log, "init") == []  # terraform's init never started
