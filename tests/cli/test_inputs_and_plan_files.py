"""Stack inputs, provider configs and plan files through the installed console script, with
terraform played by a stand-in: what is refused, before anything is written or run, and what
reaches terraform's variables."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from test_exit_codes import fake_terraform

from e2e_support import Cli, assert_no_traceback
from support import HACK_MANIFEST

MANIFEST = textwrap.dedent(
    """\
    apiVersion: aws.project-planton.org/v1
    kind: AwsDynamodb
    metadata:
      name: orders
    spec:
      aws_region: us-east-1
      partition_key_name: id
      partition_key_type: STRING
    """
)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "orders.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


def workspace(cli: Cli) -> Path:
    return Path(cli.env["PLANTON_WORK_DIR"]) / "aws" / "orders"


def a_plan_file(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tfplan", b"a saved plan")
    return path


# --- plan --out refuses what it must never overwrite, before anything runs ------------------


@pytest.mark.parametrize("target", ["state", "inside-work-dir", "manifest", "symlink", "fifo", "not-a-plan"])
def test_plan_out_never_replaces_what_is_not_a_plan(cli: Cli, tmp_path: Path, manifest: Path, target: str) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "init", "-f", str(manifest), "--binary", str(binary))
    state = workspace(cli) / "terraform.tfstate"
    state.write_text('{"version": 4}', encoding="utf-8")
    keep = tmp_path / "keep.txt"
    keep.write_text("mine", encoding="utf-8")
    paths = {
        "state": state,
        "inside-work-dir": workspace(cli) / "new.tfplan",
        "manifest": manifest,
        "symlink": tmp_path / "link.tfplan",
        "fifo": tmp_path / "fifo.tfplan",
        "not-a-plan": keep,
    }
    out = paths[target]
    if target == "symlink":
        out.symlink_to(keep)
    if target == "fifo":
        os.mkfifo(out)
    before = {path: path.read_bytes() for path in (state, manifest, keep)}
    result = cli.run("tofu", "plan", "-f", str(manifest), "--binary", str(binary), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert result.stderr.splitlines()[-1].startswith(f"error: --out: {out}")
    assert {path: path.read_bytes() for path in before} == before
    assert out.is_symlink() == (target == "symlink")


def test_plan_out_replaces_an_earlier_plan(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    out = a_plan_file(tmp_path / "earlier.tfplan")
    result = cli.run("tofu", "plan", "-f", str(manifest), "--binary", str(binary), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b"a saved plan"  # what the stand-in's plan wrote
    assert out.stat().st_mode & 0o777 == 0o600
    # The next command, with the options that found this workspace (PLANTON_WORK_DIR stays set).
    assert f"apply exactly it with: planton tofu apply -f {manifest} --binary {binary} {out}" in result.stderr


@pytest.mark.parametrize("value", ["", "/dev/null", "/proc/x.tfplan"])
def test_plan_out_refuses_devices_and_nothing(cli: Cli, tmp_path: Path, manifest: Path, value: str) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "plan", "-f", str(manifest), "--binary", str(binary), "--out", value)
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("state", [False, True], ids=["fresh-workspace", "with-state"])
@pytest.mark.parametrize("name", ["terraform.tfstate", "new.tfplan"])
def test_plan_out_through_a_linked_directory_never_writes_in_the_work_dir(
    cli: Cli, tmp_path: Path, manifest: Path, state: bool, name: str
) -> None:
    # A link outside the work dir to a workspace inside it: the paths differ until resolved.
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "init", "-f", str(manifest), "--binary", str(binary))
    state_file = workspace(cli) / "terraform.tfstate"
    if state:
        state_file.write_text('{"version": 4, "serial": 7}', encoding="utf-8")
    before = {path.name: path.read_bytes() for path in workspace(cli).iterdir() if path.is_file()}
    link = tmp_path / "elsewhere"
    link.symlink_to(workspace(cli))
    out = link / name
    result = cli.run("tofu", "plan", "-f", str(manifest), "--binary", str(binary), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    real = workspace(cli).resolve() / name
    assert result.stderr.splitlines()[-1] == (
        f"error: --out: {out} (that is, {real}) is inside planton's work dir "
        f"{Path(cli.env['PLANTON_WORK_DIR']).resolve()}, where the state lives; save the plan elsewhere"
    )
    after = {path.name: path.read_bytes() for path in workspace(cli).iterdir() if path.is_file()}
    assert after == before  # the state (or its absence) byte for byte, and no new file
    assert "fake terraform plan" not in result.stderr  # refused before terraform ran


@pytest.mark.parametrize(
    ("marker", "below"),
    [(".planton.lock", ""), (".planton.lock", ".terraform"), (".planton-init.json", ""), ("terraform.tfstate", "")],
)
def test_plan_out_never_writes_into_another_workspace(
    cli: Cli, tmp_path: Path, manifest: Path, marker: str, below: str
) -> None:
    # Another work dir's workspace (or a directory below it), or a terraform working directory.
    binary = fake_terraform(tmp_path, 0)
    other = tmp_path / "other-work" / "aws" / "orders"
    (other / below).mkdir(parents=True)
    (other / marker).write_text("{}", encoding="utf-8")
    out = other / below / "table.tfplan"
    result = cli.run("tofu", "plan", "-f", str(manifest), "--binary", str(binary), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert f"error: --out: {out} is inside {other}, which holds {marker}" in result.stderr
    assert not out.exists()


def test_plan_out_is_checked_again_before_the_plan_is_written(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    # The link checked before the plan ran points into the workspace once the plan is made.
    outside = tmp_path / "plans"
    outside.mkdir()
    link = tmp_path / "plans-link"
    link.symlink_to(outside)
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "init", "-f", str(manifest), "--binary", str(binary))
    state_file = workspace(cli) / "terraform.tfstate"
    state_file.write_text('{"version": 4}', encoding="utf-8")
    moving = tmp_path / "moving-terraform"
    moving.write_text(
        f"#!{sys.executable}\nimport os, subprocess, sys\n"
        "if sys.argv[1] == 'plan':\n"
        f"    os.unlink({str(link)!r}); os.symlink({str(workspace(cli))!r}, {str(link)!r})\n"
        f"sys.exit(subprocess.run([{str(binary)!r}, *sys.argv[1:]]).returncode)\n",
        encoding="utf-8",
    )
    moving.chmod(0o755)
    out = link / "terraform.tfstate"
    result = cli.run("tofu", "plan", "-f", str(manifest), "--binary", str(moving), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "fake terraform plan exits 0" in result.stderr  # the plan was made
    assert result.stderr.splitlines()[-1].endswith("save the plan elsewhere; the plan was made but not saved")
    assert f"(that is, {workspace(cli).resolve() / 'terraform.tfstate'})" in result.stderr
    assert state_file.read_bytes() == b'{"version": 4}'
    assert not list(outside.iterdir())


# --- apply FILE refuses before anything is written ------------------------------------------


def test_apply_of_a_plan_this_workspace_never_saved_writes_nothing(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    stranger = a_plan_file(tmp_path / "stranger.tfplan")
    result = cli.run("tofu", "apply", "-f", str(manifest), "--binary", str(binary), str(stranger))
    assert result.returncode == 2, result.stderr
    assert f"error: {stranger} was not saved by `planton tofu plan --out` for this manifest's state" in result.stderr
    assert f"to plan for these: planton tofu plan -f {manifest} --binary {binary} --out FILE" in result.stderr
    assert not (tmp_path / "work").exists()


def test_apply_of_a_saved_plan_refuses_set(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    saved = a_plan_file(tmp_path / "saved.tfplan")
    result = cli.run(
        "tofu", "apply", "-f", str(manifest), "--binary", str(binary), str(saved), "--set", "spec.table_name=x"
    )
    assert result.returncode == 2, result.stderr
    assert "error: --set cannot change a saved plan" in result.stderr
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("path", ["/proc/self/mem", "/dev/null", ""])
def test_apply_of_an_unreadable_plan_file_is_a_usage_error(cli: Cli, tmp_path: Path, manifest: Path, path: str) -> None:
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "apply", "-f", str(manifest), "--binary", str(binary), path, "--json")
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert json.loads(result.stdout)["error"]["exit_code"] == 2


# --- what reaches terraform ------------------------------------------------------------------


def test_the_account_guard_survives_a_lifted_on_demand_maximum(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    # A dropped on-demand maximum is lifted with a second rendering of the variables: it must
    # keep the stack input's account.
    binary = fake_terraform(tmp_path, 0)
    stack = tmp_path / "stack.yaml"
    stack.write_text(
        "target:\n"
        + textwrap.indent(MANIFEST, "  ")
        + "provider_config:\n  account_id: '123456789012'\n  access_key_id: AKIA\n  secret_access_key: s\n",
        encoding="utf-8",
    )
    stack.chmod(0o600)
    cli.ok("tofu", "init", "-i", str(stack), "--binary", str(binary))
    variables = Path(cli.env["PLANTON_WORK_DIR"]) / "aws" / "orders" / "terraform.tfvars.json"
    state = variables.parent / "terraform.tfstate"
    table = {"name": "orders", "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}
    table["on_demand_throughput"] = [{"max_read_request_units": 100, "max_write_request_units": 100}]  # type: ignore[assignment]
    resource = {"mode": "managed", "type": "aws_dynamodb_table", "name": "this", "instances": [{"attributes": table}]}
    state.write_text(json.dumps({"version": 4, "resources": [resource]}), encoding="utf-8")
    result = cli.run("tofu", "plan", "-i", str(stack), "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    rendered = json.loads(variables.read_text(encoding="utf-8"))
    assert rendered["spec"]["max_read_request_units"] == -1  # lifted
    assert rendered["allowed_account_ids"] == ["123456789012"]  # and still guarded


def test_a_stack_input_through_a_pipe_is_named_as_such(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.env.pop("PLANTON_WORK_DIR")
    stack = "target:\n" + textwrap.indent(MANIFEST, "  ")
    result = cli.run("tofu", "plan", "-i", "/dev/stdin", "--binary", str(binary), input_text=stack)
    assert result.returncode == 2, result.stderr
    assert "error: --stack-input /dev/stdin is not a regular file" in result.stderr


def test_output_json_prints_a_document_when_terraform_fails(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    failing = tmp_path / "failing-terraform"
    failing.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        "if sys.argv[1] == 'version':\n    print('{\"terraform_version\": \"1.11.4\"}')\n    sys.exit(0)\n"
        "if sys.argv[1] == 'init':\n    os.makedirs('.terraform', exist_ok=True)\n    sys.exit(0)\n"
        "print('Error: no state', file=sys.stderr)\nsys.exit(1)\n",
        encoding="utf-8",
    )
    failing.chmod(0o755)
    result = cli.run("tofu", "output", "-f", str(manifest), "--binary", str(failing), "--json")
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 1
    assert error["message"][0].startswith("terraform output failed")


def test_validate_json_names_the_manifest_that_was_read(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text("provider_config:\n  region: us-west-2\n", encoding="utf-8")
    result = cli.run("validate", "-i", str(stack), "-f", str(manifest), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["manifest"] == str(manifest)
    assert cli.run("validate", "-f", str(HACK_MANIFEST)).stderr.startswith(f"✓ {HACK_MANIFEST}: valid")


def test_a_saved_plan_whose_apply_failed_is_called_stale_for_what_happened(
    cli: Cli, tmp_path: Path, manifest: Path
) -> None:
    # terraform refuses a plan once the state moved on, and a failed apply of that same plan
    # moves it on; saying "another apply ran" would send people looking for one that never did.
    planner = fake_terraform(tmp_path, 0)
    saved = tmp_path / "reviewed.tfplan"
    cli.ok("tofu", "plan", "-f", str(manifest), "--binary", str(planner), "--out", str(saved))
    failing = fake_terraform(tmp_path, 1, message="Error: creating the table failed")
    first = cli.run("tofu", "apply", "-f", str(manifest), str(saved), "--binary", str(failing))
    assert first.returncode == 1, first.stderr
    stale = fake_terraform(tmp_path, 1, plan_status=0, message="Error: Saved plan is stale")
    retried = cli.run("tofu", "apply", "-f", str(manifest), str(saved), "--binary", str(stale))
    assert retried.returncode == 1, retried.stderr
    assert "an earlier apply of this same plan failed part-way" in retried.stderr
    assert "another apply, destroy, refresh or import ran" not in retried.stderr


def test_a_new_workspace_names_the_workspaces_beside_it_that_hold_a_table(
    cli: Cli, tmp_path: Path, manifest: Path
) -> None:
    # metadata.name renamed: a new workspace, and apply there would make a second table while the
    # first stays in the old one. That is said, not silent.
    binary = fake_terraform(tmp_path, 0)
    first = cli.ok("tofu", "init", "-f", str(manifest), "--binary", str(binary))
    assert f"a new workspace for this manifest: {workspace(cli)}" in first.stderr
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    table = {"mode": "managed", "type": "aws_dynamodb_table", "name": "this"}
    table["instances"] = [{"attributes": {"name": "orders", "arn": arn}}]  # type: ignore[assignment]
    (workspace(cli) / "terraform.tfstate").write_text(json.dumps({"version": 4, "resources": [table]}))
    again = cli.ok("tofu", "plan", "-f", str(manifest), "--binary", str(binary))
    assert "a new workspace" not in again.stderr

    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(MANIFEST.replace("name: orders", "name: orders-v2"), encoding="utf-8")
    result = cli.ok("tofu", "plan", "-f", str(renamed), "--binary", str(binary))
    assert "a new workspace for this manifest:" in result.stderr
    assert "warning: this manifest has no workspace yet, and beside it a workspace holds a table: orders " in (
        result.stderr
    )
    assert "(table orders in us-east-1)" in result.stderr


def test_a_new_workspace_names_a_neighbours_interrupted_create(cli: Cli, tmp_path: Path, manifest: Path) -> None:
    # The state records nothing yet: only the memory of the interrupted create knows the table.
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "init", "-f", str(manifest), "--binary", str(binary))
    record = {"table_name": "orders", "region": "us-east-1", "account": "123456789012"}
    (workspace(cli) / ".planton-interrupted.json").write_text(json.dumps(record), encoding="utf-8")
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(MANIFEST.replace("name: orders", "name: orders-v2"), encoding="utf-8")
    result = cli.ok("tofu", "plan", "-f", str(renamed), "--binary", str(binary))
    assert "beside it a workspace holds a table: orders (table orders (us-east-1, account 123456789012), whose " in (
        result.stderr
    )
