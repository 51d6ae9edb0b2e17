"""Which plan planton acts on, and what it says of it: only the plan terraform made in this run
(never one an earlier, killed run left), and a plan with changes is never "no changes"."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

from e2e_support import Cli
from support import HACK_MANIFEST, REPO_ROOT

UPDATE_PLAN = REPO_ROOT / "tests" / "fixtures" / "plans" / "update.json"

# plan: crashes (exit 2, Go's status for a panic or a runtime fatal error) before writing a plan;
# show: prints whatever plan file it is given as the recorded update; apply: says it applied.
CRASHING_TERRAFORM = textwrap.dedent(
    """\
    #!{python}
    import os, sys
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
        sys.exit(0)
    if command == "plan":
        if {crash}:
            # exits 2 with no plan and no crash banner (the banner went elsewhere, or never came)
            sys.exit(2)
        for arg in sys.argv:
            if arg.startswith("-out="):
                open(arg[len("-out="):], "w").write("a plan")
        sys.exit(0)
    if command == "show":
        print(open({plan_json!r}, encoding="utf-8").read())
        sys.exit(0)
    if command == "apply":
        print("FAKE TERRAFORM APPLIED", sys.argv[2:], file=sys.stderr)
        sys.exit(0)
    if command == "output":
        print("{{}}")
        sys.exit(0)
    sys.exit(1)
    """
)


def _terraform(tmp_path: Path, *, crash: bool) -> Path:
    path = tmp_path / f"terraform-crash-{crash}"
    path.write_text(
        CRASHING_TERRAFORM.format(python=sys.executable, crash=crash, plan_json=str(UPDATE_PLAN)), encoding="utf-8"
    )
    path.chmod(0o755)
    return path


def _workspace(stderr: str) -> Path:
    found = re.search(r"^planton: workspace (.+)$", stderr, flags=re.MULTILINE)
    assert found, stderr
    return Path(found.group(1))


def test_a_crashed_plan_never_applies_a_plan_file_an_earlier_run_left_behind(cli: Cli, tmp_path: Path) -> None:
    # A first run makes the workspace (its plan is discarded at its end).
    first = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(_terraform(tmp_path, crash=False)))
    assert first.returncode == 0, first.stderr
    workspace = _workspace(first.stderr)
    # An earlier planton that died without running its finally blocks (SIGHUP at the "apply?"
    # prompt when the terminal closed: planton has no SIGHUP handler; SIGKILL; OOM) left its plan.
    (workspace / "planton.tfplan").write_text("a plan of an earlier manifest", encoding="utf-8")
    # Now terraform crashes (exit 2) before writing this run's plan.
    binary = _terraform(tmp_path, crash=True)
    result = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary))
    assert "FAKE TERRAFORM APPLIED" not in result.stderr, "the stale plan of an earlier run was applied"
    assert result.returncode == 1, result.stderr


INTERRUPTED_AS_IT_FINISHES = textwrap.dedent(
    """\
    #!{python}
    # plan: the user's Ctrl-C / CI's SIGTERM reaches planton as terraform finishes a plan that
    # changes something (exit 2 under -detailed-exitcode, the plan saved).
    import os, signal, sys, time
    command = sys.argv[1]
    if command == "version":  # the binary check: answered as terraform does
        print('{{"terraform_version": "1.11.4"}}')
        sys.exit(0)
    if command == "init":
        os.makedirs(".terraform", exist_ok=True)
        sys.exit(0)
    if command == "plan":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(0.5)
        for arg in sys.argv:
            if arg.startswith("-out="):
                open(arg[len("-out="):], "w").write("a plan")
        sys.exit(2 if "-detailed-exitcode" in sys.argv else 0)
    if command == "show":
        print(open({plan_json!r}, encoding="utf-8").read())
        sys.exit(0)
    sys.exit(1)
    """
)


def test_detailed_exitcode_never_says_no_changes_of_a_plan_with_changes_when_interrupted(
    cli: Cli, tmp_path: Path
) -> None:
    binary = tmp_path / "terraform-interrupted"
    binary.write_text(
        INTERRUPTED_AS_IT_FINISHES.format(python=sys.executable, plan_json=str(UPDATE_PLAN)), encoding="utf-8"
    )
    binary.chmod(0o755)
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--detailed-exitcode", "--binary", str(binary))
    # Interrupted, which --detailed-exitcode reports as 1 (an error): never 0, "no changes".
    assert result.returncode == 1, result.stderr
    assert "interrupted" in result.stderr


def test_a_plan_saved_before_terraform_crashed_is_not_applied(cli: Cli, tmp_path: Path) -> None:
    # terraform writes the plan before it renders it: a panic after that leaves a plan and exits 2.
    binary = tmp_path / "terraform-panics-after-saving"
    binary.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import os, sys
            command = sys.argv[1]
            if command == "version":  # the binary check: answered as terraform does
                print('{{"terraform_version": "1.11.4"}}')
                sys.exit(0)
            if command == "init":
                os.makedirs(".terraform", exist_ok=True)
                sys.exit(0)
            if command == "plan":
                for arg in sys.argv:
                    if arg.startswith("-out="):
                        open(arg[len("-out="):], "w").write("a plan")
                print("panic: runtime error: index out of range", file=sys.stderr)
                sys.exit(2)
            if command == "show":
                print(open({str(UPDATE_PLAN)!r}, encoding="utf-8").read())
                sys.exit(0)
            print("FAKE TERRAFORM RAN", command, file=sys.stderr)
            sys.exit(0)
            """
        ),
        encoding="utf-8",
    )
    binary.chmod(0o755)
    result = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary))
    assert "FAKE TERRAFORM RAN apply" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert "crashed" in result.stderr


def test_a_terraform_workspace_selected_by_hand_is_refused(cli: Cli, tmp_path: Path) -> None:
    binary = _terraform(tmp_path, crash=False)
    first = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert first.returncode == 0, first.stderr
    workspace = _workspace(first.stderr)
    (workspace / ".terraform" / "environment").write_text("staging", encoding="utf-8")
    result = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--auto-approve", "--binary", str(binary))
    assert result.returncode == 2, result.stderr
    assert "terraform workspace 'staging' is selected" in result.stderr
    assert "FAKE TERRAFORM APPLIED" not in result.stderr
    (workspace / ".terraform" / "environment").write_text("default", encoding="utf-8")
    assert cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary)).returncode == 0
