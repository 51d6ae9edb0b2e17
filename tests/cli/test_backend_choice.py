"""The backend as a user chooses it, through the installed console script: the labels and the
flags on every tofu command, each mistake refused before anything is written or run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_exit_codes import fake_terraform

from e2e_support import Cli, assert_no_traceback
from support import HACK_MANIFEST

TYPE = "terraform.project-planton.org/backend.type"
OBJECT = "terraform.project-planton.org/backend.object"


def labelled(tmp_path: Path, **labels: str) -> Path:
    """The hack manifest with these backend labels under metadata.labels."""
    lines = "".join(f'    "{key}": "{value}"\n' for key, value in labels.items())
    text = HACK_MANIFEST.read_text(encoding="utf-8")
    if "  labels:\n" in text:
        text = text.replace("  labels:\n", "  labels:\n" + lines, 1)
    else:
        text = text.replace("metadata:\n", "metadata:\n  labels:\n" + lines, 1)
    path = tmp_path / "labelled.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["init", "plan", "apply", "destroy", "refresh", "output", "import"])
def test_every_tofu_command_takes_the_backend_flags(cli: Cli, command: str) -> None:
    shown = cli.ok("tofu", command, "--help")
    assert "--backend-type" in shown.stdout
    assert "--backend-config" in shown.stdout
    assert ("--migrate-state" in shown.stdout) is (command == "init")


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({TYPE: "gcs", OBJECT: "b/k"}, f"metadata.labels.{TYPE}: gcs (Google Cloud Storage) is not supported yet"),
        ({OBJECT: "team-state/k.tfstate"}, f"metadata.labels.{OBJECT}: give {TYPE} as well"),
        ({TYPE: "s3", OBJECT: "team-state"}, "no state key after the bucket"),
        ({TYPE: "s3", OBJECT: "Team_State/k.tfstate"}, "the bucket name 'Team_State'"),
    ],
)
def test_a_wrong_label_is_a_manifest_error_everywhere(
    cli: Cli, tmp_path: Path, labels: dict[str, str], message: str
) -> None:
    path = labelled(tmp_path, **labels)
    binary = fake_terraform(tmp_path, 0)
    for args in (
        ("validate", "-f", str(path)),
        ("render", "-f", str(path)),
        ("tofu", "plan", "-f", str(path), "--binary", str(binary)),
    ):
        refused = cli.run(*args)
        assert refused.returncode == 4, (args, refused.stderr)
        assert message in refused.stderr
        assert_no_traceback(refused)
    assert not (tmp_path / "work").exists(), "nothing is written for a refused backend"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--backend-type", "azurerm"], "--backend-type: azurerm (Azure Blob Storage) is not supported yet"),
        (["--backend-type", "s3"], "the s3 backend needs a bucket and key"),
        (["--backend-type", "s3", "--backend-config", "bucket=b-b", "--backend-config", "key=k", "--backend-config",
          "secret_key=x"], "secret_key is a credential setting"),
        (["--backend-type", "s3", "--backend-config", "bucket=b-b", "--backend-config", "key=k", "--backend-config",
          "colour=blue"], "unknown backend setting 'colour'"),
    ],
)  # fmt: skip
def test_a_wrong_flag_is_a_usage_error_before_anything_runs(
    cli: Cli, tmp_path: Path, flags: list[str], message: str
) -> None:
    binary = fake_terraform(tmp_path, 0)
    refused = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary), *flags)
    assert refused.returncode == 2, refused.stderr
    assert message in refused.stderr
    assert "secret_key=x" not in refused.stderr, "a credential given by mistake is never echoed"
    assert not (tmp_path / "work").exists()


def test_the_flags_win_over_the_labels(cli: Cli, tmp_path: Path) -> None:
    """Labels naming S3, and --backend-type local: local state, no backend file written."""
    path = labelled(tmp_path, **{TYPE: "s3", OBJECT: "team-state/orders.tfstate"})
    binary = fake_terraform(tmp_path, 0)
    planned = cli.run("tofu", "plan", "-f", str(path), "--binary", str(binary), "--backend-type", "local", "--json")
    assert planned.returncode == 0, planned.stderr
    document = json.loads(planned.stdout)
    assert document["state"].endswith("/terraform.tfstate")
    workspace = Path(document["workspace"])
    assert not (workspace / "planton_backend.tf.json").exists()
    assert (workspace / "planton_providers.tf").exists()


def test_a_backend_change_is_refused_before_terraform_runs(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    workspace = next((tmp_path / "work").glob("aws/*"))
    # (.planton.lock names the command holding the workspace: bookkeeping, not the workspace.)
    before = {
        path: path.read_bytes() for path in workspace.iterdir() if path.is_file() and path.name != ".planton.lock"
    }
    to_s3 = ["--backend-type", "s3", "--backend-config", "bucket=team-state", "--backend-config", "key=o.tfstate"]
    refused = cli.run("tofu", "apply", "-f", str(HACK_MANIFEST), "--binary", str(binary), "--auto-approve", *to_s3)
    assert refused.returncode == 2, refused.stderr
    assert "this workspace keeps its state locally" in refused.stderr
    assert "in s3://team-state/o.tfstate" in refused.stderr
    assert (
        f"planton tofu init -f {HACK_MANIFEST} --binary {binary} --backend-type s3 --backend-config bucket=team-state "
        "--backend-config key=o.tfstate --migrate-state" in refused.stderr
    )
    after = {path: path.read_bytes() for path in workspace.iterdir() if path.is_file() and path.name != ".planton.lock"}
    assert after == before, "nothing in the workspace changed"


def test_a_hand_written_backend_in_the_workspace_is_refused_not_deleted(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    workspace = next((tmp_path / "work").glob("aws/*"))
    hand_written = workspace / "backend.tf"
    hand_written.write_text('terraform {\n  backend "s3" {}\n}\n', encoding="utf-8")
    refused = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert refused.returncode == 2, refused.stderr
    assert f"{hand_written} configures a backend, and planton chooses the backend itself" in refused.stderr
    assert hand_written.read_text(encoding="utf-8") == 'terraform {\n  backend "s3" {}\n}\n'


def test_a_state_terraform_could_not_save_stops_every_command(cli: Cli, tmp_path: Path) -> None:
    binary = fake_terraform(tmp_path, 0)
    cli.ok("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    workspace = next((tmp_path / "work").glob("aws/*"))
    (workspace / "errored.tfstate").write_text('{"version": 4, "resources": []}\n', encoding="utf-8")
    for command in (["plan"], ["apply", "--auto-approve"], ["destroy", "--auto-approve"]):
        refused = cli.run("tofu", *command, "-f", str(HACK_MANIFEST), "--binary", str(binary))
        assert refused.returncode == 3, refused.stderr
        assert "terraform could not save the state of its last run" in refused.stderr
        assert f"{binary.name} state push errored.tfstate" in refused.stderr
