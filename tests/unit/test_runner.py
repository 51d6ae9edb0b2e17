"""The runner: argument lists, finding the binary, and running real child processes.

The child processes are real (small Python scripts run with ``sys.executable``); only the
binary is a stand-in for terraform. Signal tests bound every wait so a failure cannot hang the
suite: each child script ends by itself within a few seconds whatever happens.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import pytest

from planton import runner
from planton.errors import EnvironmentNotReady
from planton.runner import CommandOptions, Invocation, RunResult, build_args, find_binary, run
from planton.settings import BINARY_ENV, Given

COMMANDS = ("init", "plan", "apply", "destroy", "refresh", "output", "show", "import", "untaint")
MIRROR = Path("/opt/mirror")


# --- build_args ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "options", "expected"),
    [
        ("init", CommandOptions(), ["init", "-input=false"]),
        ("init", CommandOptions(auto_approve=True), ["init", "-input=false"]),
        ("init", CommandOptions(colour=False), ["init", "-input=false", "-no-color"]),
        ("init", CommandOptions(plugin_dir=MIRROR), ["init", "-input=false", "-plugin-dir=/opt/mirror"]),
        ("init", CommandOptions(migrate_state=True), ["init", "-input=false", "-migrate-state", "-force-copy"]),
        ("init", CommandOptions(reconfigure=True), ["init", "-input=false", "-reconfigure"]),
        ("plan", CommandOptions(migrate_state=True, reconfigure=True), ["plan", "-input=false"]),
        ("state", CommandOptions(extra=("pull",)), ["state", "pull"]),
        (
            "init",
            CommandOptions(colour=False, plugin_dir=MIRROR, extra=("-upgrade",)),
            ["init", "-input=false", "-plugin-dir=/opt/mirror", "-no-color", "-upgrade"],
        ),
        ("plan", CommandOptions(), ["plan", "-input=false"]),
        ("plan", CommandOptions(auto_approve=True), ["plan", "-input=false"]),
        ("plan", CommandOptions(colour=False), ["plan", "-input=false", "-no-color"]),
        ("plan", CommandOptions(plugin_dir=MIRROR), ["plan", "-input=false"]),
        ("plan", CommandOptions(detailed_exitcode=True), ["plan", "-input=false", "-detailed-exitcode"]),
        ("plan", CommandOptions(extra=("-out=p",)), ["plan", "-input=false", "-out=p"]),
        ("apply", CommandOptions(), ["apply"]),
        ("apply", CommandOptions(auto_approve=True), ["apply", "-auto-approve", "-input=false"]),
        ("apply", CommandOptions(colour=False), ["apply", "-no-color"]),
        ("apply", CommandOptions(plugin_dir=MIRROR), ["apply"]),
        ("apply", CommandOptions(detailed_exitcode=True), ["apply"]),
        (
            "apply",
            CommandOptions(auto_approve=True, colour=False, extra=("-lock-timeout=5s",)),
            ["apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=5s"],
        ),
        ("destroy", CommandOptions(), ["destroy"]),
        ("destroy", CommandOptions(auto_approve=True), ["destroy", "-auto-approve", "-input=false"]),
        ("destroy", CommandOptions(colour=False), ["destroy", "-no-color"]),
        ("destroy", CommandOptions(plugin_dir=MIRROR), ["destroy"]),
        (
            "destroy",
            CommandOptions(auto_approve=True, colour=False, extra=("-parallelism=1",)),
            ["destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=1"],
        ),
        ("refresh", CommandOptions(), ["refresh", "-input=false"]),
        ("refresh", CommandOptions(auto_approve=True), ["refresh", "-input=false"]),
        ("refresh", CommandOptions(colour=False), ["refresh", "-input=false", "-no-color"]),
        ("refresh", CommandOptions(plugin_dir=MIRROR), ["refresh", "-input=false"]),
        ("output", CommandOptions(), ["output", "-json"]),
        ("output", CommandOptions(auto_approve=True), ["output", "-json"]),
        # -json output carries no colour codes, so output never needs -no-color.
        ("output", CommandOptions(colour=False), ["output", "-json"]),
        ("output", CommandOptions(plugin_dir=MIRROR), ["output", "-json"]),
        ("output", CommandOptions(extra=("table_arn",)), ["output", "-json", "table_arn"]),
    ],
)
def test_build_args_exact(command: str, options: CommandOptions, expected: list[str]) -> None:
    assert build_args(command, options) == expected


def test_build_args_default_options() -> None:
    assert build_args("apply") == ["apply"]
    assert build_args("destroy") == ["destroy"]
    assert build_args("plan") == ["plan", "-input=false"]


_OPTION_GRID = [
    CommandOptions(auto_approve=auto, colour=colour, plugin_dir=plugin_dir, extra=extra)
    for auto, colour, plugin_dir, extra in itertools.product(
        (False, True), (True, False), (None, MIRROR), ((), ("-extra-one", "-extra-two"))
    )
]


@pytest.mark.parametrize(
    ("command", "options"),
    list(itertools.product(COMMANDS, _OPTION_GRID)),
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_build_args_rules_hold_for_every_combination(command: str, options: CommandOptions) -> None:
    args = build_args(command, options)
    assert args[0] == command
    assert "-force" not in args  # rejected by Terraform >= 0.15 and OpenTofu
    approving = command in ("apply", "destroy") and options.auto_approve
    assert ("-auto-approve" in args) == approving
    if command in ("apply", "destroy"):
        # Only an approved apply/destroy may refuse input; otherwise terraform must be able to prompt.
        assert ("-input=false" in args) == approving
    else:
        assert ("-input=false" in args) == (command not in ("output", "show", "untaint"))
    plugin_flags = [arg for arg in args if arg.startswith("-plugin-dir")]
    if command == "init" and options.plugin_dir is not None:
        assert plugin_flags == [f"-plugin-dir={options.plugin_dir}"]
    else:
        assert plugin_flags == []
    assert ("-no-color" in args) == (not options.colour and command not in ("output", "show", "untaint"))
    if options.extra:
        assert args[-len(options.extra) :] == list(options.extra)
    assert len(args) == len(set(args)), f"a flag is repeated: {args}"


@pytest.mark.parametrize("command", ["taint", "workspace", "", "APPLY", "apply "])
def test_build_args_unknown_command(command: str) -> None:
    with pytest.raises(ValueError, match="does not run terraform"):
        build_args(command, CommandOptions())


# --- find_binary --------------------------------------------------------------------------


def _executable(directory: Path, name: str, *, mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(mode)
    return path


def test_find_binary_explicit_name_on_path(tmp_path: Path) -> None:
    wanted = _executable(tmp_path / "bin", "my-tofu")
    _executable(tmp_path / "bin", "tofu")
    assert find_binary(Given("my-tofu", "--binary"), {"PATH": str(tmp_path / "bin")}) == wanted


def test_find_binary_searches_every_path_entry(tmp_path: Path) -> None:
    wanted = _executable(tmp_path / "second", "my-tofu")
    (tmp_path / "first").mkdir()
    path = os.pathsep.join([str(tmp_path / "first"), str(tmp_path / "second")])
    assert find_binary(Given("my-tofu", "--binary"), {"PATH": path}) == wanted


def test_find_binary_explicit_name_missing(tmp_path: Path) -> None:
    _executable(tmp_path / "bin", "tofu")
    with pytest.raises(EnvironmentNotReady, match="--binary") as caught:
        find_binary(Given("my-tofu", "--binary"), {"PATH": str(tmp_path / "bin")})
    assert "my-tofu" in caught.value.message


def test_find_binary_uses_environment_variable(tmp_path: Path) -> None:
    wanted = _executable(tmp_path / "bin", "env-tofu")
    _executable(tmp_path / "bin", "tofu")
    assert find_binary(Given("env-tofu", BINARY_ENV), {"PATH": str(tmp_path / "bin")}) == wanted


def test_find_binary_environment_variable_missing_names_it(tmp_path: Path) -> None:
    _executable(tmp_path / "bin", "tofu")
    with pytest.raises(EnvironmentNotReady, match=BINARY_ENV) as caught:
        find_binary(Given("env-tofu", BINARY_ENV), {"PATH": str(tmp_path / "bin")})
    assert "env-tofu" in caught.value.message


def test_find_binary_empty_environment_variable_falls_back(tmp_path: Path) -> None:
    tofu = _executable(tmp_path / "bin", "tofu")
    assert find_binary(Given("", BINARY_ENV), {"PATH": str(tmp_path / "bin")}) == tofu


def test_find_binary_explicit_beats_environment(tmp_path: Path) -> None:
    explicit = _executable(tmp_path / "bin", "explicit-tofu")
    _executable(tmp_path / "bin", "env-tofu")
    # --binary and PLANTON_TOFU_BINARY are one option (Typer's envvar=): the CLI hands over
    # whichever won; the core only names it. (tests/cli/test_options.py: the flag wins.)
    environ = {"PATH": str(tmp_path / "bin"), BINARY_ENV: "env-tofu"}
    assert find_binary(Given("explicit-tofu", "--binary"), environ) == explicit


def test_find_binary_prefers_tofu_over_terraform(tmp_path: Path) -> None:
    tofu = _executable(tmp_path / "bin", "tofu")
    _executable(tmp_path / "bin", "terraform")
    assert find_binary(None, {"PATH": str(tmp_path / "bin")}) == tofu


def test_find_binary_prefers_tofu_even_later_on_path(tmp_path: Path) -> None:
    _executable(tmp_path / "early", "terraform")
    tofu = _executable(tmp_path / "late", "tofu")
    path = os.pathsep.join([str(tmp_path / "early"), str(tmp_path / "late")])
    assert find_binary(None, {"PATH": path}) == tofu


def test_find_binary_terraform_when_only_it(tmp_path: Path) -> None:
    terraform = _executable(tmp_path / "bin", "terraform")
    assert find_binary(None, {"PATH": str(tmp_path / "bin")}) == terraform


def test_find_binary_neither(tmp_path: Path) -> None:
    _executable(tmp_path / "bin", "something-else")
    with pytest.raises(EnvironmentNotReady) as caught:
        find_binary(None, {"PATH": str(tmp_path / "bin")})
    assert "tofu" in caught.value.message
    assert "terraform" in caught.value.message
    assert BINARY_ENV in caught.value.message


def test_find_binary_skips_non_executable_default(tmp_path: Path) -> None:
    _executable(tmp_path / "bin", "tofu", mode=0o644)
    terraform = _executable(tmp_path / "bin", "terraform")
    assert find_binary(None, {"PATH": str(tmp_path / "bin")}) == terraform


def test_find_binary_rejects_non_executable_explicit_name(tmp_path: Path) -> None:
    _executable(tmp_path / "bin", "my-tofu", mode=0o644)
    with pytest.raises(EnvironmentNotReady, match=r"my-tofu' is not executable; make it so \(chmod \+x "):
        find_binary(Given("my-tofu", "--binary"), {"PATH": str(tmp_path / "bin")})


def test_find_binary_rejects_non_executable_absolute_path(tmp_path: Path) -> None:
    plain = _executable(tmp_path / "bin", "tofu", mode=0o644)
    with pytest.raises(EnvironmentNotReady, match=r"tofu' is not executable; make it so \(chmod \+x "):
        find_binary(Given(str(plain), "--binary"), {"PATH": str(tmp_path / "bin")})


def test_find_binary_rejects_directory(tmp_path: Path) -> None:
    (tmp_path / "tofu-dir").mkdir(mode=0o755)
    with pytest.raises(EnvironmentNotReady, match="tofu-dir' is a directory, not a program"):
        find_binary(Given(str(tmp_path / "tofu-dir"), "--binary"), {"PATH": ""})


def test_find_binary_absolute_path_works_without_path(tmp_path: Path) -> None:
    binary = _executable(tmp_path / "somewhere", "custom-terraform")
    assert find_binary(Given(str(binary), "--binary"), {"PATH": str(tmp_path / "empty")}) == binary


def test_find_binary_absolute_path_from_environment(tmp_path: Path) -> None:
    binary = _executable(tmp_path / "somewhere", "custom-terraform")
    assert find_binary(Given(str(binary), BINARY_ENV), {"PATH": ""}) == binary


def test_relative_binary_path_still_runs_from_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _executable(tmp_path / "bin", "tofu")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.chdir(tmp_path)
    binary = find_binary(Given("./bin/tofu", "--binary"), {"PATH": ""})
    result = run(Invocation(binary=binary, args=[], cwd=workspace, env={}))
    assert result.returncode == 0


# --- run: real child processes ------------------------------------------------------------


def _script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def _invocation(script: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> Invocation:
    return Invocation(binary=Path(sys.executable), args=[str(script), *args], cwd=cwd, env=env or {})


@pytest.mark.parametrize("status", [0, 1, 7])
def test_run_passes_exit_code_on(tmp_path: Path, status: int) -> None:
    script = _script(tmp_path, "exit.py", "import sys\nsys.exit(int(sys.argv[1]))\n")
    result = run(_invocation(script, str(status), cwd=tmp_path))
    assert result.returncode == status
    assert result.interrupted_by is None


def test_run_capture_returns_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    script = _script(tmp_path, "talk.py", "print('hello')\nprint('world')\n")
    result = run(_invocation(script, cwd=tmp_path), capture=True)
    assert result.stdout == "hello\nworld\n"
    assert "hello" not in capfd.readouterr().out


def test_run_without_capture_streams_to_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    script = _script(tmp_path, "talk.py", "print('streamed-line')\n")
    result = run(_invocation(script, cwd=tmp_path))
    assert result.stdout == ""
    captured = capfd.readouterr()
    assert "streamed-line" in captured.out
    assert "streamed-line" not in captured.err


def test_run_stdout_to_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    script = _script(tmp_path, "talk.py", "print('diverted-line')\n")
    result = run(_invocation(script, cwd=tmp_path), stdout_to_stderr=True)
    assert result.stdout == ""
    captured = capfd.readouterr()
    assert "diverted-line" in captured.err
    assert "diverted-line" not in captured.out


_ENVIRON_SCRIPT = """\
import json, os
from pathlib import Path

# /proc/self/environ is the environment exactly as exec() received it, before the interpreter
# adjusts os.environ (locale coercion and the like).
raw = Path("/proc/self/environ").read_bytes()
initial = dict(item.split("=", 1) for item in raw.decode().split("\\0") if item)
print(json.dumps({"initial": initial, "os_environ": dict(os.environ)}))
"""


def test_run_child_gets_exactly_the_given_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTON_TEST_AMBIENT_SECRET", "must-not-leak")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    script = _script(tmp_path, "environ.py", _ENVIRON_SCRIPT)
    given = {"ONLY_THIS": "1", "AWS_REGION": "eu-west-2"}
    result = run(_invocation(script, cwd=tmp_path, env=given), capture=True)
    assert result.returncode == 0
    seen = json.loads(result.stdout)
    assert seen["initial"] == given
    assert "PLANTON_TEST_AMBIENT_SECRET" not in seen["os_environ"]
    assert "HOME" not in seen["os_environ"]
    assert "PATH" not in seen["os_environ"]


def test_run_respects_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(tmp_path, "cwd.py", "import os\nprint(os.getcwd())\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run(_invocation(script, cwd=workspace), capture=True)
    assert Path(result.stdout.strip()) == workspace.resolve()


def test_run_child_killed_by_sigkill(tmp_path: Path) -> None:
    script = _script(tmp_path, "die.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    result = run(_invocation(script, cwd=tmp_path))
    assert result.returncode == -signal.SIGKILL
    assert result.interrupted_by is None


def test_run_missing_binary(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-tofu"
    with pytest.raises(EnvironmentNotReady, match="cannot start") as caught:
        run(Invocation(binary=missing, args=["plan"], cwd=tmp_path, env={}))
    assert str(missing) in caught.value.message


def test_invocation_repr_hides_environment(tmp_path: Path) -> None:
    invocation = Invocation(Path("/bin/tofu"), ["plan"], tmp_path, {"AWS_SECRET_ACCESS_KEY": "very-secret-value"})
    assert "very-secret-value" not in repr(invocation)
    assert invocation.argv == ["/bin/tofu", "plan"]


# --- run: signals -------------------------------------------------------------------------

# A stand-in for terraform: counts SIGINT/SIGTERM, and after the first one keeps "writing
# state" for WORK seconds before exiting 1. Without a signal it ends by itself after
# NATURAL_END seconds with status 0, so no test can hang on it.
_SIGNAL_CHILD = """\
import json, signal, sys, time
from pathlib import Path

marker, report = Path(sys.argv[1]), Path(sys.argv[2])
work, natural_end = float(sys.argv[3]), float(sys.argv[4])
counts = {"SIGINT": 0, "SIGTERM": 0}
first = []

def handler(signum, frame):
    counts[signal.Signals(signum).name] += 1
    if not first:
        first.append(time.monotonic())

signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
marker.write_text("started")
deadline = time.monotonic() + natural_end
while time.monotonic() < deadline:
    if first and time.monotonic() - first[0] >= work:
        break
    time.sleep(0.02)
report.write_text(json.dumps(counts))
sys.exit(1 if first else 0)
"""

WORK_SECONDS = 1.5
WAIT_LIMIT_SECONDS = 5.0


class _Guard:
    """A handler that stands in for the test process's own, so a stray signal is recorded
    instead of interrupting (SIGINT) or killing (SIGTERM) pytest."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)


@pytest.fixture
def guard() -> Iterator[_Guard]:
    handler = _Guard()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield handler
    finally:
        for sig, original in previous.items():
            signal.signal(sig, original)


class _Sender(threading.Thread):
    """Once the child has started and run() has taken over the signal, send ``signum`` to this
    process (the signal is handled in the main thread, where run() waits)."""

    def __init__(self, marker: Path, signum: int, handler: Callable[..., object]) -> None:
        super().__init__(daemon=True)
        self.marker = marker
        self.signum = signum
        self.handler = handler
        self.sent_at: float | None = None
        self.failure: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while time.monotonic() < deadline:
            if self.marker.exists() and signal.getsignal(self.signum) is not self.handler:
                self.sent_at = time.monotonic()
                os.kill(os.getpid(), self.signum)
                return
            time.sleep(0.01)
        self.failure = "the child never started, or run() never installed its handler"


def _run_signalled(
    tmp_path: Path, signum: int, guard: _Guard, *, natural_end: float, capture: bool = False
) -> tuple[RunResult, dict[str, int], float, _Sender]:
    script = _script(tmp_path, "terraform_like.py", _SIGNAL_CHILD)
    marker, report = tmp_path / "started", tmp_path / "report.json"
    invocation = _invocation(
        script, str(marker), str(report), str(WORK_SECONDS), str(natural_end), cwd=tmp_path, env={}
    )
    sender = _Sender(marker, signum, guard)
    sender.start()
    result = run(invocation, capture=capture)
    returned_at = time.monotonic()
    # run() has returned: the child has exited, so its report must already be there.
    counts = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    sender.join(WAIT_LIMIT_SECONDS)
    assert sender.failure is None, sender.failure
    assert not sender.is_alive()
    return result, counts, returned_at, sender


@pytest.mark.parametrize("capture", [False, True], ids=["streamed", "captured"])
def test_sigint_forwarded_once_and_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guard: _Guard, capture: bool
) -> None:
    result, counts, returned_at, sender = _run_signalled(
        tmp_path, signal.SIGINT, guard, natural_end=4.0, capture=capture
    )
    assert counts == {"SIGINT": 1, "SIGTERM": 0}
    assert sender.sent_at is not None
    assert returned_at - sender.sent_at >= WORK_SECONDS - 0.1  # waited for the "state write"
    assert result.returncode == 1
    assert result.interrupted_by == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is guard
    assert signal.getsignal(signal.SIGTERM) is guard
    assert guard.received == []


def test_sigterm_forwarded_once_and_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guard: _Guard) -> None:
    result, counts, returned_at, sender = _run_signalled(tmp_path, signal.SIGTERM, guard, natural_end=4.0)
    assert counts == {"SIGINT": 0, "SIGTERM": 1}
    assert sender.sent_at is not None
    assert returned_at - sender.sent_at >= WORK_SECONDS - 0.1
    assert result.returncode == 1
    assert result.interrupted_by == signal.SIGTERM
    assert signal.getsignal(signal.SIGINT) is guard
    assert signal.getsignal(signal.SIGTERM) is guard
    assert guard.received == []


def test_terraform_has_a_process_group_of_its_own_and_no_terminal_to_read(tmp_path: Path) -> None:
    # A signal sent to planton's group (a terminal's Ctrl-C) then reaches terraform only once,
    # through planton; with the terminal kept from it, terraform can never stop on a prompt.
    script = _script(
        tmp_path, "pgid.py", "import json, os, sys\nprint(json.dumps([os.getpid(), os.getpgrp(), sys.stdin.read()]))\n"
    )
    result = run(_invocation(script, cwd=tmp_path), capture=True)
    pid, pgid, read = json.loads(result.stdout)
    assert pgid == pid
    assert pgid != os.getpgrp()
    assert read == ""  # /dev/null


def test_handlers_restored_after_a_normal_run(tmp_path: Path, guard: _Guard) -> None:
    script = _script(tmp_path, "ok.py", "pass\n")
    result = run(_invocation(script, cwd=tmp_path))
    assert result.interrupted_by is None
    assert signal.getsignal(signal.SIGINT) is guard
    assert signal.getsignal(signal.SIGTERM) is guard


def test_signal_that_lands_while_the_child_starts_is_forwarded_once(
    tmp_path: Path, guard: _Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler is installed before the child exists; a SIGTERM that arrives in that window
    # must neither kill planton (orphaning terraform) nor be lost: it is forwarded once started.
    script = _script(tmp_path, "terraform_like.py", _SIGNAL_CHILD)
    marker, report = tmp_path / "started", tmp_path / "report.json"
    real_popen = subprocess.Popen

    def popen_then_signal(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process = real_popen(*args, **kwargs)
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)  # run() has not recorded the child yet
        return process

    monkeypatch.setattr("planton.runner.subprocess.Popen", popen_then_signal)
    invocation = _invocation(script, str(marker), str(report), "0.2", "4", cwd=tmp_path, env={})
    result = run(invocation)
    assert json.loads(report.read_text()) == {"SIGINT": 0, "SIGTERM": 1}
    assert result.interrupted_by == signal.SIGTERM
    assert guard.received == []


def test_watched_stderr_is_shown_live_and_kept(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    script = _script(
        tmp_path,
        "fail.py",
        """\
        import sys
        print('to stdout')
        sys.stderr.write('#' * 100000 + '\\nError: ResourceInUseException: Table already exists\\n')
        sys.exit(1)
        """,
    )
    result = run(_invocation(script, cwd=tmp_path), watch_stderr=True)
    assert result.returncode == 1
    assert result.stderr.endswith("Error: ResourceInUseException: Table already exists\n")
    assert len(result.stderr.encode()) <= 64 * 1024  # only the end is kept
    captured = capfd.readouterr()
    assert "ResourceInUseException" in captured.err  # and the person saw all of it
    assert captured.err.count("#") == 100000
    assert "to stdout" in captured.out


def test_unwatched_stderr_is_not_kept(tmp_path: Path) -> None:
    script = _script(tmp_path, "fail.py", "import sys\nsys.stderr.write('boom\\n')\nsys.exit(1)\n")
    assert run(_invocation(script, cwd=tmp_path)).stderr == ""


def test_watched_run_of_a_missing_binary_is_environment_not_ready(tmp_path: Path) -> None:
    invocation = Invocation(binary=tmp_path / "missing", args=[], cwd=tmp_path, env={})
    with pytest.raises(EnvironmentNotReady, match="cannot start"):
        run(invocation, watch_stderr=True)


# --- run: planton's own streams, whatever becomes of them -----------------------------------

# Like terraform, a Go program: a write to a broken pipe on its stdout or stderr ends it
# (SIGPIPE). It writes more than a pipe holds on both, then its "state", and exits 0.
_GO_LIKE_CHILD = """\
import signal, sys
from pathlib import Path

signal.signal(signal.SIGPIPE, signal.SIG_DFL)
for n in range(2000):
    print(f"aws_dynamodb_table.this: Still creating... [{n}s elapsed]", flush=True)
    print(f"warning {n}", file=sys.stderr, flush=True)
Path(sys.argv[1]).write_text("state written")
"""


@pytest.fixture
def broken_pipe() -> Iterator[TextIO]:
    """A text stream on a pipe whose reader has gone away (``planton ... | head -1``, later)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w", encoding="utf-8") as stream:
        yield stream


@pytest.mark.parametrize(
    ("broken", "stdout_to_stderr"),
    [("stdout", False), ("stderr", False), ("stderr", True)],
    ids=["stdout", "stderr", "stderr-with-stdout-on-it"],
)
def test_a_reader_that_went_away_never_reaches_terraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken_pipe: TextIO, broken: str, stdout_to_stderr: bool
) -> None:
    # terraform's output reached the broken stream through planton, which drained it to the end:
    # terraform ran on and wrote its state, and the result says the output was lost.
    monkeypatch.setattr(sys, broken, broken_pipe)
    state = tmp_path / "state"
    result = run(
        _invocation(_script(tmp_path, "go_like.py", _GO_LIKE_CHILD), str(state), cwd=tmp_path),
        stdout_to_stderr=stdout_to_stderr,
    )
    assert result.returncode == 0  # not killed by SIGPIPE
    assert state.read_text(encoding="utf-8") == "state written"
    assert result.output_lost is True


def test_output_that_reaches_its_reader_is_not_lost(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    result = run(_invocation(_script(tmp_path, "go_like.py", _GO_LIKE_CHILD), str(state), cwd=tmp_path))
    assert (result.returncode, result.output_lost) == (0, False)
    captured = capfd.readouterr()
    assert captured.out.count("Still creating") == 2000
    assert captured.err.count("warning") == 2000


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_stream_planton_was_started_without_drops_terraforms_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    # >&- or 2>&-: nobody was ever there to read, so nothing was lost.
    monkeypatch.setattr(sys, closed, None)
    state = tmp_path / "state"
    result = run(_invocation(_script(tmp_path, "go_like.py", _GO_LIKE_CHILD), str(state), cwd=tmp_path))
    assert (result.returncode, result.output_lost) == (0, False)
    assert state.exists()


def test_an_echo_whose_reader_went_away_is_drained(tmp_path: Path) -> None:
    echoed: list[tuple[str, int]] = []

    def echo(line: str, fd: int) -> None:
        echoed.append((line, fd))
        if len(echoed) == 3:
            raise BrokenPipeError(32, "Broken pipe")

    state = tmp_path / "state"
    result = run(_invocation(_script(tmp_path, "go_like.py", _GO_LIKE_CHILD), str(state), cwd=tmp_path), echo=echo)
    assert (result.returncode, result.output_lost) == (0, True)
    assert state.exists()
    assert len(echoed) < 4000  # nothing more was handed over once the reader had gone


def test_an_echo_that_fails_otherwise_is_raised_once_terraform_has_finished(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # A bug in showing lines loses none of terraform's output: the rest goes to planton's own
    # stream as terraform wrote it, and the bug is raised once terraform has finished.
    def echo(line: str, _fd: int) -> None:
        if "[5s elapsed]" in line or line == "warning 5":
            raise RuntimeError("a bug in the echo")

    state = tmp_path / "state"
    with pytest.raises(RuntimeError, match="a bug in the echo"):
        run(_invocation(_script(tmp_path, "go_like.py", _GO_LIKE_CHILD), str(state), cwd=tmp_path), echo=echo)
    assert state.read_text(encoding="utf-8") == "state written"
    shown = capfd.readouterr()
    assert "Still creating... [1999s elapsed]" in shown.out
    assert "warning 1999" in shown.err


def test_a_stream_that_is_full_for_now_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A non-blocking stdout (a terminal another program set so) that is full: planton waits
    # until it takes more, and nothing is lost. The reader starts only once planton waits.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    waiting = threading.Event()
    real_select = runner.select.select

    def select(*args: Any) -> Any:
        waiting.set()
        return real_select(*args)

    monkeypatch.setattr(runner.select, "select", select)
    received = bytearray()

    def read() -> None:
        waiting.wait(WAIT_LIMIT_SECONDS)
        while chunk := os.read(read_end, 65536):
            received.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with open(write_end, "w", encoding="utf-8") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        result = run(
            _invocation(_script(tmp_path, "go_like.py", _GO_LIKE_CHILD), str(tmp_path / "state"), cwd=tmp_path)
        )
    reader.join(WAIT_LIMIT_SECONDS)
    os.close(read_end)
    assert waiting.is_set()
    assert (result.returncode, result.output_lost) == (0, False)
    assert received.count(b"Still creating") == 2000


# --- binary_version -------------------------------------------------------------------------

VERSION_SCRIPT = textwrap.dedent(
    """\
    #!{python}
    # Stands in for terraform's `version -json`, counting how often it is asked.
    import json, os, sys
    with open({count!r}, "a") as count:
        count.write(" ".join(sys.argv[1:]) + " " + os.environ.get("CHECKPOINT_DISABLE", "-") + "\\n")
    print(json.dumps({{"terraform_version": {version!r}, "platform": "linux_amd64"}}))
    """
)


def _versioned_binary(directory: Path, version: str) -> tuple[Path, Path]:
    binary, count = directory / "terraform", directory / "asked"
    binary.write_text(VERSION_SCRIPT.format(python=sys.executable, count=str(count), version=version))
    binary.chmod(0o755)
    return binary, count


def _asked(count: Path) -> list[str]:
    return count.read_text().splitlines() if count.exists() else []


def test_binary_version_is_asked_once_then_remembered(tmp_path: Path) -> None:
    binary, count = _versioned_binary(tmp_path, "1.11.4")
    remembered = tmp_path / "cache" / "binaries.json"
    assert runner.binary_version(binary, {}, remembered) == "1.11.4"
    assert runner.binary_version(binary, {}, remembered) == "1.11.4"
    # Asked once, without terraform's check for a newer release.
    assert _asked(count) == ["version -json 1"]


def test_binary_version_is_asked_again_when_the_binary_changes(tmp_path: Path) -> None:
    binary, count = _versioned_binary(tmp_path, "1.11.4")
    remembered = tmp_path / "binaries.json"
    runner.binary_version(binary, {}, remembered)
    time.sleep(0.01)
    _versioned_binary(tmp_path, "1.12.0")  # an upgrade in place
    assert runner.binary_version(binary, {}, remembered) == "1.12.0"
    assert len(_asked(count)) == 2


def test_binary_version_without_a_cache_asks_every_time(tmp_path: Path) -> None:
    binary, count = _versioned_binary(tmp_path, "1.11.4")
    assert runner.binary_version(binary, {}, None) == "1.11.4"
    assert runner.binary_version(binary, {}, None) == "1.11.4"
    assert len(_asked(count)) == 2


@pytest.mark.parametrize("cache", ["not json", "[]", '{"x": 1}'])
def test_binary_version_survives_a_corrupt_cache(tmp_path: Path, cache: str) -> None:
    binary, _ = _versioned_binary(tmp_path, "1.11.4")
    remembered = tmp_path / "binaries.json"
    remembered.write_text(cache)
    assert runner.binary_version(binary, {}, remembered) == "1.11.4"
    assert str(binary) in json.loads(remembered.read_text())


@pytest.mark.parametrize(
    ("script", "said"),
    [
        (
            "import sys\nprint('Terraform v1.5.7')\nsys.exit(3)\n",
            "is not a working tofu or terraform: `version -json` exited 3: Terraform v1.5.7",
        ),
        ("print('{\"hello\": 1}')\n", 'is not a working tofu or terraform: `version -json` exited 0: {"hello": 1}'),
        ("print('garbage')\n", "is not a working tofu or terraform: `version -json` exited 0: garbage"),
        ("pass\n", "is not a working tofu or terraform: `version -json` exited 0, printing nothing"),
        (
            "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
            "is not a working tofu or terraform: `version -json` was killed by signal 9, printing nothing",
        ),
    ],
    ids=["old-or-wrapper", "other-json", "garbage", "silent", "killed"],
)
def test_a_binary_that_does_not_answer_as_terraform_is_refused_saying_what_it_did(
    tmp_path: Path, script: str, said: str
) -> None:
    binary = tmp_path / "terraform"
    binary.write_text(f"#!{sys.executable}\n{script}", encoding="utf-8")
    binary.chmod(0o755)
    remembered = tmp_path / "versions.json"
    with pytest.raises(EnvironmentNotReady) as caught:
        runner.binary_version(binary, {}, remembered)
    assert str(caught.value) == f"{binary} {said}; point --binary (or PLANTON_TOFU_BINARY) at tofu or terraform"
    assert not remembered.exists()  # a failure is never remembered


def test_a_script_whose_interpreter_is_missing_is_named_as_such(tmp_path: Path) -> None:
    binary = tmp_path / "terraform"
    binary.write_text("#!/nonexistent/bin/sh\nexit 0\n", encoding="utf-8")
    binary.chmod(0o755)
    with pytest.raises(EnvironmentNotReady) as caught:
        runner.binary_version(binary, {}, None)
    assert (
        str(caught.value) == f"cannot start {binary}: its interpreter /nonexistent/bin/sh (its #! line) does not exist"
    )
    with pytest.raises(EnvironmentNotReady) as started:
        run(Invocation(binary, ["plan"], tmp_path, env={}))
    assert "its interpreter /nonexistent/bin/sh (its #! line) does not exist" in str(started.value)


def test_a_file_that_is_no_program_is_named_as_such(tmp_path: Path) -> None:
    binary = tmp_path / "terraform"
    binary.write_bytes(b"\x7fELF\x02\x01\x01 not really a program")
    binary.chmod(0o755)
    with pytest.raises(EnvironmentNotReady, match="it is not a program this machine can run"):
        runner.binary_version(binary, {}, None)


def test_an_unknown_version_an_older_planton_remembered_is_asked_again(tmp_path: Path) -> None:
    binary = tmp_path / "terraform"
    binary.write_text(f'#!{sys.executable}\nprint(\'{{"terraform_version": "1.11.4"}}\')\n', encoding="utf-8")
    binary.chmod(0o755)
    remembered = tmp_path / "versions.json"
    identity = runner._file_identity(binary)
    remembered.write_text(json.dumps({str(binary): {"identity": identity, "version": "unknown (exit 1)"}}))
    assert runner.binary_version(binary, {}, remembered) == "1.11.4"


def test_what_terraform_writes_is_its_owners_alone(tmp_path: Path) -> None:
    # A state or plan holds the table's settings and outputs: terraform runs with umask 077.
    script = _executable(tmp_path, "fake-terraform")
    script.write_text("#!/bin/sh\necho '{}' > written.tfstate\nmkdir made\n", encoding="utf-8")
    result = run(Invocation(script, [], tmp_path, env={"PATH": os.environ["PATH"]}), capture=True)
    assert result.returncode == 0
    assert (tmp_path / "written.tfstate").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "made").stat().st_mode & 0o777 == 0o700
