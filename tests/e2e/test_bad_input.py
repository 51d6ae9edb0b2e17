"""Bad input stops planton before anything is written or run, with a message naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import Cli, base_env
from support import HACK_MANIFEST

pytestmark = pytest.mark.e2e

INVALID = """\
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata:
  name: broken
spec:
  aws_region: us-east-1
  billing_mode: PROVISIONED
  partition_key_name: id
  partition_key_type: STRING
  read_capacity_units: 5
"""


@pytest.fixture
def offline_cli(tmp_path: Path) -> Cli:
    env = base_env(tmp_path)
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    return Cli(env=env, cwd=tmp_path)


@pytest.mark.parametrize("command", ["init", "plan", "apply", "destroy"])
def test_invalid_manifest_writes_and_runs_nothing(command: str, offline_cli: Cli, tmp_path: Path) -> None:
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(INVALID, encoding="utf-8")
    approve = ["--auto-approve"] if command in ("apply", "destroy") else []
    result = offline_cli.run("tofu", command, "-f", str(manifest), *approve)
    assert result.returncode == 4
    assert result.stderr.splitlines()[-1] == (
        "spec.write_capacity_units: must be greater than 0 when billing_mode is PROVISIONED"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "work").exists(), "nothing may be written for an invalid manifest"


def test_validate_prints_one_dotted_path_per_problem(offline_cli: Cli, tmp_path: Path) -> None:
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(INVALID.replace("partition_key_type: STRING", "partition_key_typ: STRING"), encoding="utf-8")
    result = offline_cli.run("validate", "--manifest", str(manifest))
    assert result.returncode == 4
    assert result.stderr.splitlines()[1:] == [
        "spec.partition_key_type: required",
        "spec.partition_key_typ: unknown field; did you mean 'partition_key_type'?",
    ]


def test_no_credentials_stops_before_terraform(tmp_path: Path) -> None:
    cli = Cli(env=base_env(tmp_path), cwd=tmp_path)
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST))
    assert result.returncode == 3
    assert "no AWS credentials found" in result.stderr
    assert "AWS_ACCESS_KEY_ID" in result.stderr
    assert "--local" in result.stderr
    assert not (tmp_path / "work").exists()


def test_missing_binary_is_a_clear_error(offline_cli: Cli, tmp_path: Path) -> None:
    offline_cli.env["PLANTON_TOFU_BINARY"] = "no-such-tofu"
    result = offline_cli.run("tofu", "init", "-f", str(HACK_MANIFEST))
    assert result.returncode == 3
    assert "PLANTON_TOFU_BINARY: 'no-such-tofu' is not a command on PATH" in result.stderr
    offline_cli.env.pop("PLANTON_TOFU_BINARY")
    offline_cli.env["PATH"] = str(tmp_path / "empty-bin")
    result = offline_cli.run("tofu", "init", "-f", str(HACK_MANIFEST))
    assert result.returncode == 3
    assert "neither tofu nor terraform is on PATH" in result.stderr


def test_missing_plugin_mirror_is_a_usage_error(offline_cli: Cli, tmp_path: Path) -> None:
    result = offline_cli.run("tofu", "init", "-f", str(HACK_MANIFEST), "--plugin-mirror", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "--plugin-mirror:" in result.stderr
    assert not (tmp_path / "work").exists()


def test_terraform_failure_exit_code_is_passed_on(offline_cli: Cli, tmp_path: Path) -> None:
    # A mirror without providers: terraform init fails with its own status, which planton returns.
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    result = offline_cli.run("tofu", "init", "-f", str(HACK_MANIFEST), "--plugin-mirror", str(empty_mirror))
    assert result.returncode == 1
    assert "hashicorp/aws" in result.stdout + result.stderr
