"""The exit-code table: docs/cli.md shows exactly ``errors.EXIT_CODES``, and every row is produced
through the installed console script. terraform is played by a small stand-in script so that
its exit status is under the test's control."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from crash_support import crashing_cli
from planton.errors import EXIT_CODES

from e2e_support import BIN_DIR, Cli, assert_no_traceback
from support import HACK_MANIFEST, REPO_ROOT, example_blocks, slug

FAKE_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    # Stands in for terraform: init succeeds; output prints JSON; plan saves a plan file and exits
    # {plan_status}; show -json prints a recorded plan that creates the table; every other command
    # exits {status}.
    import json, os, sys
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
        sys.exit(0)
    if command == "output":
        print(json.dumps({{"table_name": {{"value": "planton-demo-orders"}}}}))
        sys.exit(0)
    if command == "show":
        print(open({plan_json!r}, encoding="utf-8").read())
        sys.exit(0)
    if command == "plan":
        for arg in sys.argv:
            if arg.startswith("-out="):
                open(arg[len("-out="):], "w").write("a saved plan")
        print("fake terraform plan exits {plan_status}", file=sys.stderr)
        sys.exit({plan_status})
    print("fake terraform", command, "exits {status}", {message!r}, file=sys.stderr)
    sys.exit({status})
    """
)

CREATE_PLAN = REPO_ROOT / "tests" / "fixtures" / "plans" / "create.json"
DESTROY_PLAN = REPO_ROOT / "tests" / "fixtures" / "plans" / "module_destroy.json"


def fake_terraform(
    directory: Path, status: int, plan_status: int = 0, plan_json: Path = CREATE_PLAN, message: str = ""
) -> Path:
    path = directory / f"terraform-exits-{status}-plan-{plan_status}-{plan_json.stem}"
    text = FAKE_TERRAFORM.format(
        python=sys.executable, status=status, plan_status=plan_status, plan_json=str(plan_json), message=message
    )
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def documented_exit_codes() -> dict[int, str]:
    """The rows of the table under docs/cli.md's "## Exit codes" heading."""
    text = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


def test_the_documented_table_is_the_code_table() -> None:
    assert documented_exit_codes() == dict(EXIT_CODES)


def test_every_code_is_distinct_and_documented() -> None:
    assert len(set(EXIT_CODES)) == len(EXIT_CODES)
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 4, 5, 6, 7, 70, 124, 130, 141, 143]


# --- one test per row -------------------------------------------------------------------------


def test_0_success(cli: Cli) -> None:
    assert cli.run("validate", "-f", str(HACK_MANIFEST)).returncode == 0


@pytest.mark.parametrize("status", [1, 2, 3, 42])
def test_1_terraform_failed(cli: Cli, tmp_path: Path, status: int) -> None:
    # terraform's 1 passes on; any other status (Go exits 2 on a panic) is reported as 1, so it can
    # never be read as one of planton's own outcomes.
    binary = fake_terraform(tmp_path, status)
    result = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary))
    assert result.returncode == 1, result.stderr
    assert f"fake terraform apply exits {status}" in result.stderr
    if status != 1:
        assert f"apply: terraform exited with status {status}" in result.stderr


def test_2_usage_mistake(cli: Cli) -> None:
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--no-such-flag")
    assert result.returncode == 2
    assert_no_traceback(result)


def test_3_environment_not_ready(cli: Cli) -> None:
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", "no-such-terraform")
    assert result.returncode == 3
    assert (
        "--binary: 'no-such-terraform' is not a command on PATH; give its path, or install tofu or terraform"
        in result.stderr
    )


def test_4_bad_manifest(cli: Cli, invalid_manifest: Path) -> None:
    result = cli.run("tofu", "plan", "-f", str(invalid_manifest))
    assert result.returncode == 4
    assert result.stderr.splitlines()[-1] == "spec.partition_key_type: required"


def test_5_refused(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0, plan_json=CREATE_PLAN.with_name("replace_key.json"))
    result = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary))
    assert result.returncode == 5, result.stderr
    assert "error: refused under --auto-approve: applying this plan would lose a table" in result.stderr
    assert "fake terraform apply" not in result.stderr  # nothing was applied


def test_6_unmanaged_table(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 1, message="ResourceInUseException: Table already exists: planton-demo-orders")
    result = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary))
    assert result.returncode == 6, result.stderr
    assert "table planton-demo-orders already exists in us-east-1" in result.stderr
    assert f"planton tofu import -f {HACK_MANIFEST}" in result.stderr


def test_70_bug(tmp_path: Path) -> None:
    # Covered in depth by test_internal_bug.py; here only the code.
    result = crashing_cli(tmp_path).run("validate", "-f", str(HACK_MANIFEST))
    assert result.returncode == 70


_PLANS_A_NEW_TABLE = textwrap.dedent(
    """\
    #!{python}
    # Stands in for terraform: answers the binary check, init succeeds, plan saves a plan, show
    # -json prints a plan that creates the table; what apply does follows.
    import os, signal, sys
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
        sys.exit(0)
    if command == "show":
        print(open({plan!r}, encoding="utf-8").read())
        sys.exit(0)
    if command == "plan":
        for arg in sys.argv:
            if arg.startswith("-out="):
                open(arg[len("-out="):], "w").write("a saved plan")
        sys.exit(0)
    if command == "apply":
    """
)


def terraform_planning_a_new_table(path: Path, apply: str, **values: str) -> Path:
    """A stand-in terraform at ``path`` that plans a new table; ``apply`` is the Python its apply
    runs (formatted with ``values``)."""
    body = textwrap.indent(textwrap.dedent(apply).format(**values), "    ")
    path.write_text(
        _PLANS_A_NEW_TABLE.format(python=sys.executable, plan=str(CREATE_PLAN)) + body + "sys.exit(0)\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


# An endpoint that never answers: apply hangs until SIGINT, then, as terraform does, stops
# gracefully: writes {saved!r} (its state) and exits 1.
HANGING_APPLY = """\
def stop(signum, frame):
    print("Interrupt received. Gracefully shutting down...", file=sys.stderr, flush=True)
    open({saved!r}, "w").write("state saved")
    sys.exit(1)
signal.signal(signal.SIGINT, stop)
while True:
    signal.pause()
"""


def test_124_timed_out(cli: Cli, tmp_path: Path) -> None:
    # An endpoint that never answers: --timeout interrupts terraform as Ctrl-C would, waits for
    # it to write its state, and says so with 124.
    saved = tmp_path / "saved"
    binary = terraform_planning_a_new_table(tmp_path / "terraform", HANGING_APPLY, saved=str(saved))
    argv = ["tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary)]
    result = cli.run(*argv, "--timeout", "2s")
    assert result.returncode == 124, result.stderr
    assert_no_traceback(result)
    assert saved.read_text(encoding="utf-8") == "state saved"  # terraform finished before planton exited
    assert "timed out (--timeout): terraform was interrupted during apply, as by Ctrl-C" in result.stderr
    # The same guarantees as Ctrl-C: the interrupted create is remembered, and the next apply
    # here is refused until it is known which account it was in (test_data_safety has the rest).
    assert cli.run(*argv).returncode == 5
    # --json says the same, and the environment variable sets it too (in a fresh work dir).
    cli.env["PLANTON_TIMEOUT"] = "2s"
    cli.env["PLANTON_WORK_DIR"] = str(tmp_path / "second-work")
    document = cli.run(*argv, "--json")
    assert document.returncode == 124, document.stderr
    assert json.loads(document.stdout)["exit_code"] == 124


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "--timeout: 'soon' is not a duration; use a number with a unit, such as 30s, 5m or 1h30m"),
        ("0s", "--timeout: '0s' leaves no time at all; give a duration such as 30m"),
        ("25h", "--timeout: '25h' is longer than 24h; give a shorter one"),
    ],
)
def test_a_timeout_that_is_no_duration_is_a_usage_mistake(cli: Cli, value: str, message: str) -> None:
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--timeout", value)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not Path(cli.env["PLANTON_WORK_DIR"]).exists()  # nothing written


def _planton_waiting_on_a_fifo(cli: Cli, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """planton run with a FIFO nobody writes to as its manifest, once it has opened the FIFO:
    inside its error boundary, waiting for the manifest."""
    process = _planton_on_a_fifo(cli, tmp_path, *args)
    _wait_until(process, lambda: _has_open(process.pid, tmp_path / "slow.fifo"), "planton never opened the manifest")
    return process


def _planton_starting(cli: Cli, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """planton run as above, as soon as it has taken SIGINT and SIGTERM over: while it is still
    importing the CLI, usually, and in any case before it has read the manifest (nobody writes
    to the FIFO, so it cannot finish before the signal arrives)."""
    process = _planton_on_a_fifo(cli, tmp_path, *args)
    _wait_until(process, lambda: _catches(process.pid, signal.SIGTERM), "planton never took SIGTERM over")
    return process


def _planton_on_a_fifo(cli: Cli, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    fifo = tmp_path / "slow.fifo"
    subprocess.run(["mkfifo", str(fifo)], check=True)
    cli.env["PLANTON_PIPE_TIMEOUT"] = "60"
    return subprocess.Popen(
        [str(BIN_DIR / "planton"), *args, "-f", str(fifo)],
        env=cli.env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(process: subprocess.Popen[str], ready: Callable[[], bool], failure: str) -> None:
    """Wait for ``ready`` (a state of the process that /proc shows), never for a time: a loaded
    machine only makes the wait longer."""
    deadline = time.monotonic() + 60
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, failure
        time.sleep(0.001)


def _catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler of its own for ``signum``: its caught-signals mask
    (SigCgt in /proc/PID/status, one bit per signal) has the signal's bit. Python catches SIGINT
    from its start, SIGTERM only once planton has taken it over."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:  # it has exited
        return False
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) >> (signum - 1) & 1)


def _has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds ``path`` open (its descriptors, as /proc shows them)."""
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # it has exited
        return False
    for descriptor in descriptors:
        with contextlib.suppress(OSError):  # closed meanwhile
            if os.readlink(descriptor) == str(path):
                return True
    return False


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_130_and_143_interrupted(cli: Cli, tmp_path: Path, signum: int, code: int) -> None:
    process = _planton_waiting_on_a_fifo(cli, tmp_path, "validate")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert stderr.splitlines() == ["error: interrupted"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_130_and_143_interrupted_while_starting(cli: Cli, tmp_path: Path, signum: int, code: int) -> None:
    # The moment planton's handlers are in place, while Python still imports the CLI: the same
    # message and code, never a traceback of the imports or a silent death.
    process = _planton_starting(cli, tmp_path, "validate")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert stderr.splitlines() == ["error: interrupted"]


def test_141_broken_pipe(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read planton's stdout
    try:
        result = subprocess.run(
            [str(BIN_DIR / "planton"), "tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary)],
            env=cli.env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141, result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr


def test_output_reaches_a_reader(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"table_name": "planton-demo-orders"}
    table = cli.run("tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert table.returncode == 0, table.stderr
    assert "table_name" in table.stdout
    assert "planton-demo-orders" in table.stdout


# --- plan --detailed-exitcode: 0 no changes, 2 changes, 1 every error --------------------------


@pytest.mark.parametrize(("status", "expected"), [(0, 0), (2, 2), (1, 1), (3, 1)])
def test_detailed_exitcode_passes_terraforms_meaning_on(cli: Cli, tmp_path: Path, status: int, expected: int) -> None:
    binary = fake_terraform(tmp_path, 0, plan_status=status)
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--detailed-exitcode", "--binary", str(binary))
    assert result.returncode == expected, result.stderr


@pytest.mark.parametrize(
    "case",
    ["usage-missing-manifest", "usage-unknown-option", "bad-manifest", "environment", "not-a-regular-file"],
)
def test_detailed_exitcode_never_returns_2_for_an_error(
    cli: Cli, tmp_path: Path, invalid_manifest: Path, case: str
) -> None:
    args = {
        "usage-missing-manifest": ["tofu", "plan", "--detailed-exitcode"],
        "usage-unknown-option": ["tofu", "plan", "--detailed-exitcode", "-f", str(HACK_MANIFEST), "--nope"],
        "bad-manifest": ["tofu", "plan", "--detailed-exitcode", "-f", str(invalid_manifest)],
        "environment": ["tofu", "plan", "--detailed-exitcode", "-f", str(HACK_MANIFEST), "--binary", "nope-tf"],
        "not-a-regular-file": ["tofu", "plan", "--detailed-exitcode", "-f", "/dev/stdin"],
    }[case]
    cli.env.pop("PLANTON_WORK_DIR")
    result = cli.run(*args, input_text="")
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    assert "error" in result.stderr.lower()


def test_detailed_exitcode_bug_is_1(tmp_path: Path) -> None:
    result = crashing_cli(tmp_path).run("tofu", "plan", "--detailed-exitcode", "-f", str(HACK_MANIFEST))
    assert result.returncode == 1
    assert "planton hit a bug" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("when", ["starting", "waiting"])
def test_detailed_exitcode_interrupted_is_1(cli: Cli, tmp_path: Path, signum: int, when: str) -> None:
    start = _planton_starting if when == "starting" else _planton_waiting_on_a_fifo
    process = start(cli, tmp_path, "tofu", "plan", "--detailed-exitcode")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1, stderr
    assert stderr.splitlines() == ["error: interrupted"]


GONE_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    # DeleteTable answers "not found" once (to destroy, or to the apply of a destroy plan); the
    # next destroy records that.
    import os, sys
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
        sys.exit(0)
    if command == "plan":
        open([a for a in sys.argv if a.startswith("-out=")][0][5:], "w").write("a saved plan")
        sys.exit(0)
    if command == "show":
        print(open({plan!r}, encoding="utf-8").read())
        sys.exit(0)
    if command == "destroy" and os.path.exists("deleted-once"):
        print("Destroy complete! Resources: 0 destroyed.")
        sys.exit(0)
    open("deleted-once", "w").close()
    print("Error: deleting AWS DynamoDB Table (x): operation error DynamoDB: DeleteTable, "
          "https response error StatusCode: 400, ResourceNotFoundException: Requested resource not found",
          file=sys.stderr)
    sys.exit(1)
    """
)


@pytest.mark.parametrize("asked", [False, True], ids=["auto-approve", "asked"])
def test_destroy_of_a_table_already_gone_is_recorded_not_failed(cli: Cli, tmp_path: Path, asked: bool) -> None:
    # DeleteTable answered "not found" (its retried request found the first attempt had deleted
    # it): the table is where the user wants it, and a second destroy records that.
    fake = tmp_path / "gone-terraform"
    fake.write_text(GONE_TERRAFORM.format(python=sys.executable, plan=str(DESTROY_PLAN)), encoding="utf-8")
    fake.chmod(0o755)
    how = {"terminal_input": "yes\n"} if asked else {}
    approve = [] if asked else ["--auto-approve"]
    result = cli.run("tofu", "destroy", "-f", str(HACK_MANIFEST), *approve, "--binary", str(fake), **how)
    assert result.returncode == 0, result.stderr
    assert "the table was already gone when terraform deleted it; destroying again to record that" in result.stderr
    if asked:  # the deletion was shown before the question
        assert "DATA LOSS" in result.stdout
        assert "Do you want to perform these actions?" in result.stderr


# --- exit 4 under --local: what the emulator cannot serve, refused before anything runs ------

TWINS = REPO_ROOT / "tests" / "fixtures" / "twins"
CURRENT = {slug(heading): text for heading, text in example_blocks()}


@pytest.mark.parametrize(
    ("example", "flat", "fields"),
    [
        ("table-class-deletion-protection-and-contributor-insights", False, ["spec.contributorInsightsEnabled"]),
        ("table-class-deletion-protection-and-contributor-insights", True, ["spec.contributor_insights_enabled"]),
        ("auto-scaling", False, ["spec.autoscaling", "spec.globalSecondaryIndexes[0].autoscaling"]),
        ("auto-scaling", True, ["spec.autoscaling", "spec.global_secondary_indexes[0].autoscaling"]),
    ],
    ids=["insights", "insights-flat", "scaling", "scaling-flat"],
)
def test_apply_local_refuses_what_the_emulator_cannot_serve(
    cli: Cli, tmp_path: Path, example: str, flat: bool, fields: list[str]
) -> None:
    # moto answers these with HTTP 500 and the provider polls for minutes: an apply would hang.
    manifest = tmp_path / "m.yaml"
    text = (TWINS / f"{example}.yaml").read_text(encoding="utf-8") if flat else CURRENT[example]
    manifest.write_text(text, encoding="utf-8")
    started = time.monotonic()
    result = cli.run("tofu", "apply", "--local", "--auto-approve", "-f", str(manifest), timeout=60)
    assert result.returncode == 4, result.stderr
    assert time.monotonic() - started < 30
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {manifest} is not a valid manifest for the local emulator (--local):"
    assert [line.split(":", 1)[0] for line in lines[1:]] == fields
    for line in lines[1:]:
        assert "the local emulator cannot serve" in line
        assert "checked at plan level only (`planton tofu plan --local`" in line
    # No emulator started, nothing written.
    assert not Path(cli.env["PLANTON_LOCAL_STATE_DIR"]).exists()
    assert not Path(cli.env["PLANTON_WORK_DIR"]).exists()
    assert not (tmp_path / ".planton").exists()


def test_without_local_nothing_is_refused(cli: Cli, tmp_path: Path) -> None:
    # AWS serves them: only the emulator's gaps are refused.
    manifest = tmp_path / "m.yaml"
    manifest.write_text(CURRENT["auto-scaling"], encoding="utf-8")
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "apply", "--auto-approve", "-f", str(manifest), "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    assert "emulator" not in result.stderr
