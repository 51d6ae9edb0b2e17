"""Findings and the team policy through the installed console script: one line each on stderr,
the same in ``--json`` and the step summary; a policy error (or ``--strict``) exits 7 before
anything is written or terraform runs; a malformed policy file is an input error (exit 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from test_exit_codes import terraform_planning_a_new_table

from planton.errors import EXIT_BAD_MANIFEST, EXIT_POLICY

from e2e_support import Cli
from support import HACK_MANIFEST, REPO_ROOT

PITR = "spec.point_in_time_recovery_enabled"
PROTECTION = "spec.deletion_protection_enabled"


def production_manifest(directory: Path, name: str = "orders") -> Path:
    """The hack manifest, as production: no point-in-time recovery, no deletion protection."""
    document = yaml.safe_load(HACK_MANIFEST.read_text(encoding="utf-8"))
    document["metadata"].update(name=name, env="prod")
    document["spec"].pop("point_in_time_recovery_enabled", None)
    document["spec"]["table_name"] = f"planton-{name}"
    document["spec"]["kms_key_arn"] = "alias/orders"  # a customer-managed key: that practice is kept
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def recording_terraform(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in terraform that only records that it ran."""
    log = tmp_path / "ran.log"
    binary = tmp_path / "terraform"
    binary.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexit 1\n', encoding="utf-8")
    binary.chmod(0o755)
    return binary, log


def test_validate_says_each_finding_with_its_field_fix_and_code(cli: Cli, tmp_path: Path) -> None:
    manifest = production_manifest(tmp_path)
    result = cli.run("validate", "-f", str(manifest))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert lines == [
        f"warning: {PITR}: a production table (metadata.env is prod) without point-in-time recovery: a bad write or "
        f"delete cannot be undone; set {PITR}: true [production-point-in-time-recovery]",
        f"warning: {PROTECTION}: a production table (metadata.env is prod) without deletion protection: one "
        f"DeleteTable call loses it; set {PROTECTION}: true [production-deletion-protection]",
    ]
    assert "valid AwsDynamodb manifest" in result.stderr


def test_validate_json_carries_the_findings(cli: Cli, tmp_path: Path) -> None:
    result = cli.run("validate", "-f", str(production_manifest(tmp_path)), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [finding["code"] for finding in document["findings"]] == [
        "production-point-in-time-recovery",
        "production-deletion-protection",
    ]
    first = document["findings"][0]
    assert first == {
        "code": "production-point-in-time-recovery",
        "severity": "warning",
        "field": PITR,
        "message": "a production table (metadata.env is prod) without point-in-time recovery: a bad write or "
        "delete cannot be undone",
        "fix": f"set {PITR}: true",
        "rules": [
            "checkov CKV_AWS_28",
            "trivy AWS-0024",
            "AWS Config dynamodb-pitr-enabled",
            "Security Hub DynamoDB.2",
        ],
        "manifest": None,
    }
    assert document["warnings"][0].startswith(f"{PITR}: a production table")


def test_strict_makes_every_finding_an_error_with_exit_7(cli: Cli, tmp_path: Path) -> None:
    manifest = production_manifest(tmp_path)
    result = cli.run("validate", "-f", str(manifest), "--strict")
    assert result.returncode == EXIT_POLICY == 7, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "error: 2 findings the team's policy (or --strict) makes errors; nothing was written or run:\n"
        f"{PITR}: a production table"
    )
    # --json: one document, with every finding.
    result = cli.run("validate", "-f", str(manifest), "--strict", "--json")
    assert result.returncode == 7
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 7
    assert [finding["severity"] for finding in error["findings"]] == ["error", "error"]


def test_the_teams_policy_makes_one_finding_an_error_and_turns_another_off(cli: Cli, tmp_path: Path) -> None:
    manifest = production_manifest(tmp_path / "tables")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.planton]\nerrors = ["production-deletion-protection"]\noff = ["production-point-in-time-recovery"]\n',
        encoding="utf-8",
    )
    result = cli.run("validate", "-f", str(manifest))
    assert result.returncode == 7, result.stderr
    assert f"\n{PROTECTION}: a production table" in result.stderr
    assert PITR not in result.stderr
    # The policy's own production selector: this env is not production for this team.
    (tmp_path / "tables" / "planton.toml").write_text('[production]\nenv = ["live"]\n', encoding="utf-8")
    result = cli.run("validate", "-f", str(manifest))
    assert result.returncode == 0, result.stderr
    assert "warning:" not in result.stderr


def test_a_malformed_policy_is_an_input_error(cli: Cli, tmp_path: Path) -> None:
    manifest = production_manifest(tmp_path)
    policy = tmp_path / "planton.toml"
    policy.write_text('errors = ["production-pitr"]\ntable-name-pattern = "(x"\n', encoding="utf-8")
    for argv in (("validate", "-f", str(manifest)), ("tofu", "plan", "-f", str(manifest))):
        result = cli.run(*argv)
        assert result.returncode == EXIT_BAD_MANIFEST, result.stderr
        assert "Traceback" not in result.stderr
        assert f"error: {policy} is not a valid planton policy:" in result.stderr
        assert "errors[0]: unknown finding 'production-pitr'" in result.stderr
        assert "table-name-pattern: is not a regular expression" in result.stderr
    # render is not judged: no policy is read.
    assert cli.run("render", "-f", str(manifest)).returncode == 0


def test_a_policy_error_stops_plan_and_apply_before_terraform_runs(cli: Cli, tmp_path: Path) -> None:
    manifest = production_manifest(tmp_path)
    binary, log = recording_terraform(tmp_path)
    for argv in (
        ("tofu", "plan", "-f", str(manifest), "--strict"),
        ("tofu", "apply", "-f", str(manifest), "--strict", "--auto-approve"),
    ):
        result = cli.run(*argv, "--binary", str(binary))
        assert result.returncode == 7, result.stderr
        assert "nothing was written or run" in result.stderr
    result = cli.run("tofu", "plan", "-f", str(manifest), "--strict", "--detailed-exitcode", "--binary", str(binary))
    assert result.returncode == 1, result.stderr  # terraform's meaning: an error, never "changes"
    assert not log.exists()
    assert not (tmp_path / "work").exists()
    # destroy is never stopped by the policy: it is how a table that breaks it goes away.
    result = cli.run("tofu", "destroy", "-f", str(manifest), "--auto-approve", "--binary", str(binary))
    assert result.returncode != 7


def test_a_fleet_is_stopped_whole_and_names_each_manifest(cli: Cli, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    first = production_manifest(fleet, "alpha")
    second = production_manifest(fleet, "beta")
    result = cli.run("validate", "-f", str(fleet), "--strict")
    assert result.returncode == 7, result.stderr
    assert "4 findings the team's policy (or --strict) makes errors" in result.stderr
    assert f"\n{first}: {PITR}: a production table" in result.stderr
    assert f"\n{second}: {PROTECTION}: a production table" in result.stderr
    binary, log = recording_terraform(tmp_path)
    result = cli.run("tofu", "plan", "-f", str(fleet), "--strict", "--binary", str(binary))
    assert result.returncode == 7, result.stderr
    assert not log.exists()
    # Without --strict the fleet's validate names the manifest on each warning.
    result = cli.run("validate", "-f", str(fleet))
    assert result.returncode == 0, result.stderr
    assert f"warning: {first}: {PITR}: " in result.stderr


def test_the_step_summary_lists_the_findings(cli: Cli, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    cli.env["GITHUB_STEP_SUMMARY"] = str(summary)
    manifest = production_manifest(tmp_path)
    assert cli.run("validate", "-f", str(manifest)).returncode == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("#### planton validate: ")
    assert text.splitlines()[0].endswith("/orders.yaml")
    assert f"- **warning** `production-point-in-time-recovery`: `{PITR}`: a production table" in text


def test_environment_and_plan_findings_reach_json(cli: Cli, tmp_path: Path) -> None:
    # Environment warnings used to be notes on stderr only: now they are findings in --json too.
    binary = terraform_planning_a_new_table(tmp_path / "terraform", "pass")
    cli.env["TF_VAR_spec"] = "{}"
    result = cli.run("tofu", "plan", "-f", str(production_manifest(tmp_path)), "--json", "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    codes = [finding["code"] for finding in document["findings"]]
    assert codes[:2] == ["production-point-in-time-recovery", "production-deletion-protection"]
    assert "environment-ignored" in codes
    ignored = next(finding for finding in document["findings"] if finding["code"] == "environment-ignored")
    assert "TF_VAR_spec" in ignored["message"]
    assert f"warning: {PITR}: a production table" in result.stderr


def test_the_pre_commit_hook_runs_validate_strict_on_the_files_it_is_given(cli: Cli, tmp_path: Path) -> None:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "planton-validate"
    assert hook["language"] == "python"
    entry = hook["entry"].split()
    assert entry[:2] == ["planton", "validate"]
    assert "--strict" in entry
    assert re.search(hook["files"], "tables/orders.yaml")
    # As pre-commit runs it: the entry, its args, then the changed files as arguments.
    good = tmp_path / "good.yaml"
    good.write_text(HACK_MANIFEST.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli.run(*entry[1:], *hook["args"], str(good))
    assert result.returncode == 0, result.stderr
    result = cli.run(*entry[1:], *hook["args"], str(good), str(production_manifest(tmp_path)))
    assert result.returncode == EXIT_POLICY, result.stderr
    assert "production-point-in-time-recovery" in result.stderr


def test_files_given_as_arguments_may_name_one_table(cli: Cli, tmp_path: Path) -> None:
    # pre-commit passes every changed file at once: a dev and a prod folder with the same table.
    dev = tmp_path / "dev" / "orders.yaml"
    prod = tmp_path / "prod" / "orders.yaml"
    for path in (dev, prod):
        path.parent.mkdir()
        path.write_text(HACK_MANIFEST.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli.run("validate", "--strict", str(dev), str(prod))
    assert result.returncode == 0, result.stderr
    # As a fleet (-f), two manifests of one table are refused.
    assert cli.run("validate", "-f", str(dev), "-f", str(prod)).returncode == EXIT_BAD_MANIFEST


def test_a_fleet_plan_says_each_manifests_findings_and_summarises_them(cli: Cli, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    production_manifest(fleet, "alpha")
    binary = terraform_planning_a_new_table(tmp_path / "terraform", "pass")
    summary = tmp_path / "summary.md"
    cli.env["GITHUB_STEP_SUMMARY"] = str(summary)
    result = cli.run("tofu", "plan", "-f", str(fleet), "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    assert f"warning: {fleet / 'alpha.yaml'}: {PITR}: a production table" in result.stderr
    assert "`production-point-in-time-recovery`" in summary.read_text(encoding="utf-8")
    result = cli.run("tofu", "plan", "-f", str(fleet), "--binary", str(binary), "--json")
    codes = [finding["code"] for finding in json.loads(result.stdout)["findings"]]
    assert codes == ["production-point-in-time-recovery", "production-deletion-protection"]


def test_a_policy_error_still_fills_the_step_summary_and_lists_the_environments_findings(
    cli: Cli, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    cli.env["GITHUB_STEP_SUMMARY"] = str(summary)
    cli.env["TF_VAR_spec"] = "{}"
    binary, log = recording_terraform(tmp_path)
    manifest = production_manifest(tmp_path)
    result = cli.run("tofu", "plan", "-f", str(manifest), "--strict", "--json", "--binary", str(binary))
    assert result.returncode == 7, result.stderr
    codes = [finding["code"] for finding in json.loads(result.stdout)["error"]["findings"]]
    assert "environment-ignored" in codes
    assert "**error** `production-point-in-time-recovery`" in summary.read_text(encoding="utf-8")
    assert not log.exists()
