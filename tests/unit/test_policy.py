"""Best-practice findings and the team policy: every rule, every policy setting, and each field
named as the manifest spells it, in both dialects and both spellings."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from planton.errors import EXIT_BAD_MANIFEST, EXIT_POLICY, PolicyViolation
from planton.findings import Finding, Severity
from planton.manifest.base import snake_to_camel
from planton.manifest.fields import ManifestFields
from planton.manifest.loader import validate_document
from planton.manifest.normalise import table_from_manifest
from planton.operations.validation import Checks, refuse_policy_errors, validate_manifest
from planton.policy import RULES, Policy, findings, low_cardinality_reason
from planton.policy_file import PolicyError, PolicyFinder, pattern_problem, policy_from, read_policy
from planton.source import ManifestSource

# --- manifests in four spellings -------------------------------------------------------------

FLAT: dict[str, Any] = {
    "apiVersion": "aws.project-planton.org/v1",
    "kind": "AwsDynamodb",
    "metadata": {"name": "orders", "env": "dev", "labels": {"team": "platform"}},
    "spec": {
        "billing_mode": "PAY_PER_REQUEST",
        "partition_key_name": "customer_id",
        "partition_key_type": "STRING",
        "point_in_time_recovery_enabled": True,
        "deletion_protection_enabled": True,
        "server_side_encryption_enabled": True,
        "kms_key_arn": "alias/orders",
    },
}

KEY_SCHEMA: dict[str, Any] = {
    "apiVersion": "aws.project-planton.org/v1",
    "kind": "AwsDynamodb",
    "metadata": {"name": "orders", "env": "dev", "labels": {"team": "platform"}},
    "spec": {
        "billing_mode": "PAY_PER_REQUEST",
        "attribute_definitions": [{"name": "customer_id", "type": "S"}, {"name": "order_ts", "type": "N"}],
        "key_schema": [
            {"attribute_name": "order_ts", "key_type": "RANGE"},
            {"attribute_name": "customer_id", "key_type": "HASH"},
        ],
        "point_in_time_recovery_enabled": True,
        "deletion_protection_enabled": True,
        "server_side_encryption": {"enabled": True, "kms_key_arn": "alias/orders"},
    },
}

_USER_KEYED = {"labels", "tags"}


def camel(node: Any) -> Any:
    """``node`` with every field name in camelCase (label and tag keys are the user's own)."""
    if isinstance(node, Mapping):
        return {snake_to_camel(key): (value if key in _USER_KEYED else camel(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [camel(item) for item in node]
    return node


SPELLINGS = {
    "flat-snake": (FLAT, False),
    "flat-camel": (FLAT, True),
    "keyschema-snake": (KEY_SCHEMA, False),
    "keyschema-camel": (KEY_SCHEMA, True),
}


def manifest(spelling: str, **changes: Any) -> dict[str, Any]:
    """The spelling's manifest with ``changes`` (snake_case spec fields; ``metadata`` replaces
    keys of the metadata), spelled as that spelling writes fields."""
    base, camel_case = SPELLINGS[spelling]
    document = copy.deepcopy(base)
    for key, value in changes.items():
        if key == "metadata":
            document["metadata"].update(value)
        elif value is None:
            document["spec"].pop(key, None)
        else:
            document["spec"][key] = value
    return camel(document) if camel_case else document


def found(document: dict[str, Any], policy: Policy | None = None) -> list[Finding]:
    model = validate_document(document, "test.yaml")
    return list(findings(table_from_manifest(model), ManifestFields(model, document), policy or Policy()))


def by_code(document: dict[str, Any], code: str, policy: Policy | None = None) -> list[Finding]:
    return [finding for finding in found(document, policy) if finding.code == code]


def spelled(spelling: str, snake: str, camel_case: str) -> str:
    return camel_case if SPELLINGS[spelling][1] else snake


ALL = pytest.mark.parametrize("spelling", list(SPELLINGS))


# --- the rules -----------------------------------------------------------------------------------


@ALL
def test_a_manifest_that_follows_every_practice_has_no_finding(spelling: str) -> None:
    assert found(manifest(spelling, metadata={"env": "prod"})) == []


@ALL
def test_production_without_point_in_time_recovery(spelling: str) -> None:
    document = manifest(spelling, point_in_time_recovery_enabled=False, metadata={"env": "production"})
    (finding,) = by_code(document, "production-point-in-time-recovery")
    field = spelled(spelling, "spec.point_in_time_recovery_enabled", "spec.pointInTimeRecoveryEnabled")
    assert finding.field == field
    assert "metadata.env is production" in finding.message
    assert finding.fix == f"set {field}: true"
    assert finding.rules == (
        "checkov CKV_AWS_28",
        "trivy AWS-0024",
        "AWS Config dynamodb-pitr-enabled",
        "Security Hub DynamoDB.2",
    )
    assert finding.severity is Severity.WARNING
    assert finding.text().startswith(f"{field}: a production table")
    assert finding.text().endswith("[production-point-in-time-recovery]")


@ALL
def test_a_table_outside_production_is_not_held_to_its_practices(spelling: str) -> None:
    document = manifest(
        spelling,
        point_in_time_recovery_enabled=False,
        deletion_protection_enabled=False,
        metadata={"env": "staging"},
    )
    assert found(document) == []


@ALL
def test_production_without_deletion_protection(spelling: str) -> None:
    document = manifest(spelling, deletion_protection_enabled=False, metadata={"env": "PROD"})
    (finding,) = by_code(document, "production-deletion-protection")
    assert finding.field == spelled(spelling, "spec.deletion_protection_enabled", "spec.deletionProtectionEnabled")
    assert "Security Hub DynamoDB.6" in finding.rules


@ALL
def test_production_with_encryption_off(spelling: str) -> None:
    if spelling.startswith("flat"):
        document = manifest(spelling, server_side_encryption_enabled=False, kms_key_arn=None, metadata={"env": "prod"})
        field = spelled(spelling, "spec.server_side_encryption_enabled", "spec.serverSideEncryptionEnabled")
    else:
        document = manifest(spelling, server_side_encryption={"enabled": False}, metadata={"env": "prod"})
        field = spelled(spelling, "spec.server_side_encryption.enabled", "spec.serverSideEncryption.enabled")
    (finding,) = by_code(document, "production-encryption")
    assert finding.field == field
    assert finding.fix.startswith(f"set {field}: true")
    assert by_code(document, "production-customer-managed-key") == []


@ALL
def test_production_with_the_aws_managed_key(spelling: str) -> None:
    if spelling.startswith("flat"):
        document = manifest(spelling, kms_key_arn=None, metadata={"env": "prod"})
        field = spelled(spelling, "spec.kms_key_arn", "spec.kmsKeyArn")
    else:
        document = manifest(spelling, server_side_encryption={"enabled": True}, metadata={"env": "prod"})
        field = spelled(spelling, "spec.server_side_encryption.kms_key_arn", "spec.serverSideEncryption.kmsKeyArn")
    (finding,) = by_code(document, "production-customer-managed-key")
    assert finding.field == field
    assert finding.rules[:2] == ("checkov CKV_AWS_119", "trivy AWS-0025")


def test_a_key_schema_manifest_without_encryption_settings_is_encrypted_by_aws_alone() -> None:
    document = manifest("keyschema-camel", server_side_encryption=None, metadata={"env": "prod"})
    (finding,) = by_code(document, "production-encryption")
    assert finding.field == "spec.serverSideEncryption.enabled"


def test_in_production_the_aws_managed_alias_is_one_finding_with_the_fix_that_holds() -> None:
    document = manifest("flat-camel", kms_key_arn="alias/aws/dynamodb", metadata={"env": "prod"})
    (finding,) = found(document)
    assert finding.code == "production-customer-managed-key"
    assert "(alias/aws/dynamodb is its alias)" in finding.message
    assert finding.fix.startswith("set spec.kmsKeyArn to a KMS key your team manages")


@ALL
def test_a_customer_key_that_is_the_aws_managed_alias(spelling: str) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:alias/aws/dynamodb"
    if spelling.startswith("flat"):
        document = manifest(spelling, kms_key_arn=key)
        field = spelled(spelling, "spec.kms_key_arn", "spec.kmsKeyArn")
    else:
        document = manifest(spelling, server_side_encryption={"enabled": True, "kms_key_arn": key})
        field = spelled(spelling, "spec.server_side_encryption.kms_key_arn", "spec.serverSideEncryption.kmsKeyArn")
    (finding,) = by_code(document, "aws-managed-key-as-customer-key")
    assert finding.field == field
    assert finding.fix.startswith(f"remove {field}")


def _provisioned(spelling: str, *, scaled: bool, index_scaled: bool) -> dict[str, Any]:
    scaling = {"read": {"min_capacity": 1, "max_capacity": 10}, "write": {"min_capacity": 1, "max_capacity": 10}}
    if spelling.startswith("flat"):
        index: dict[str, Any] = {
            "name": "by-status",
            "partition_key_name": "region_code",
            "partition_key_type": "STRING",
            "read_capacity_units": 5,
            "write_capacity_units": 5,
        }
        changes: dict[str, Any] = {"read_capacity_units": 5, "write_capacity_units": 5}
    else:
        index = {
            "name": "by-status",
            "key_schema": [{"attribute_name": "region_code", "key_type": "HASH"}],
            "provisioned_throughput": {"read_capacity_units": 5, "write_capacity_units": 5},
        }
        changes = {
            "provisioned_throughput": {"read_capacity_units": 5, "write_capacity_units": 5},
            "attribute_definitions": [
                *KEY_SCHEMA["spec"]["attribute_definitions"],
                {"name": "region_code", "type": "S"},
            ],
        }
    if index_scaled:
        index["autoscaling"] = scaling
    if scaled:
        changes["autoscaling"] = scaling
    return manifest(spelling, billing_mode="PROVISIONED", global_secondary_indexes=[index], **changes)


@ALL
def test_a_provisioned_table_and_index_without_autoscaling(spelling: str) -> None:
    table, index = by_code(_provisioned(spelling, scaled=False, index_scaled=False), "provisioned-without-autoscaling")
    assert table.field == "spec.autoscaling"
    assert index.field == spelled(
        spelling, "spec.global_secondary_indexes[0].autoscaling", "spec.globalSecondaryIndexes[0].autoscaling"
    )
    assert "global index by-status" in index.message
    assert "reads and writes do not scale" in table.message
    assert spelled(spelling, "spec.billing_mode: PAY_PER_REQUEST", "spec.billingMode: PAY_PER_REQUEST") in table.fix
    assert table.rules == (
        "checkov CKV2_AWS_16",
        "AWS Config dynamodb-autoscaling-enabled",
        "Security Hub DynamoDB.1",
    )


@ALL
def test_scaling_the_table_and_its_index_answers_the_autoscaling_finding(spelling: str) -> None:
    assert by_code(_provisioned(spelling, scaled=True, index_scaled=True), "provisioned-without-autoscaling") == []
    (index,) = by_code(_provisioned(spelling, scaled=True, index_scaled=False), "provisioned-without-autoscaling")
    assert "by-status" in index.message


def test_scaling_only_reads_leaves_the_writes_named() -> None:
    document = manifest(
        "flat-snake",
        billing_mode="PROVISIONED",
        read_capacity_units=5,
        write_capacity_units=5,
        autoscaling={"read": {"min_capacity": 1, "max_capacity": 10}},
    )
    (finding,) = by_code(document, "provisioned-without-autoscaling")
    assert "its writes do not scale" in finding.message


@ALL
def test_a_partition_key_that_reads_as_a_status(spelling: str) -> None:
    if spelling.startswith("flat"):
        document = manifest(spelling, partition_key_name="order_status")
        field = spelled(spelling, "spec.partition_key_name", "spec.partitionKeyName")
    else:
        document = manifest(
            spelling,
            attribute_definitions=[{"name": "orderStatus", "type": "S"}, {"name": "order_ts", "type": "N"}],
            key_schema=[
                {"attribute_name": "order_ts", "key_type": "RANGE"},
                {"attribute_name": "orderStatus", "key_type": "HASH"},
            ],
        )
        field = spelled(spelling, "spec.key_schema[1].attribute_name", "spec.keySchema[1].attributeName")
    (finding,) = by_code(document, "low-cardinality-partition-key")
    assert finding.field == field
    assert "reads as a status" in finding.message


@ALL
def test_a_global_index_partition_key_that_reads_as_a_flag(spelling: str) -> None:
    if spelling.startswith("flat"):
        index: dict[str, Any] = {"name": "by-flag", "partition_key_name": "is_active", "partition_key_type": "NUMBER"}
        document = manifest(spelling, global_secondary_indexes=[index])
        field = spelled(
            spelling,
            "spec.global_secondary_indexes[0].partition_key_name",
            "spec.globalSecondaryIndexes[0].partitionKeyName",
        )
    else:
        index = {"name": "by-flag", "key_schema": [{"attribute_name": "is_active", "key_type": "HASH"}]}
        definitions = [*KEY_SCHEMA["spec"]["attribute_definitions"], {"name": "is_active", "type": "N"}]
        document = manifest(spelling, global_secondary_indexes=[index], attribute_definitions=definitions)
        field = spelled(
            spelling,
            "spec.global_secondary_indexes[0].key_schema[0].attribute_name",
            "spec.globalSecondaryIndexes[0].keySchema[0].attributeName",
        )
    (finding,) = by_code(document, "low-cardinality-partition-key")
    assert finding.field == field
    assert "global index by-flag" in finding.message
    assert "yes/no flag" in finding.message


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("status", "reads as a status"),
        ("orderType", "reads as a type"),
        ("created_date", "reads as a date"),
        ("isDeleted", "reads as a yes/no flag"),
        ("has_children", "reads as a yes/no flag"),
        ("active", "reads as a active"),
        ("customer_id", None),
        ("statusId", None),
        ("tenant", None),
        ("is", None),
    ],
)
def test_low_cardinality_names(name: str, reason: str | None) -> None:
    assert low_cardinality_reason(name) == reason


@ALL
def test_a_local_index_is_explained(spelling: str) -> None:
    if spelling.startswith("flat"):
        index: dict[str, Any] = {"name": "by-total", "sort_key_name": "total", "sort_key_type": "NUMBER"}
        document = manifest(spelling, sort_key_name="order_ts", sort_key_type="NUMBER", local_secondary_indexes=[index])
    else:
        index = {
            "name": "by-total",
            "key_schema": [
                {"attribute_name": "customer_id", "key_type": "HASH"},
                {"attribute_name": "total", "key_type": "RANGE"},
            ],
        }
        definitions = [*KEY_SCHEMA["spec"]["attribute_definitions"], {"name": "total", "type": "N"}]
        document = manifest(spelling, local_secondary_indexes=[index], attribute_definitions=definitions)
    (finding,) = by_code(document, "local-secondary-index")
    assert finding.field == spelled(spelling, "spec.local_secondary_indexes[0]", "spec.localSecondaryIndexes[0]")
    assert "10 GB" in finding.message
    assert "replacing the table" in finding.message


@ALL
def test_a_table_name_outside_the_teams_pattern(spelling: str) -> None:
    policy = Policy(table_name_pattern="(dev|prod)-[a-z0-9-]+", source="planton.toml")
    (finding,) = by_code(manifest(spelling), "table-name-pattern", policy)
    assert finding.field == "metadata.name"  # the table is named after it: no table_name is set
    named = manifest(spelling, table_name="orders-table")
    (finding,) = by_code(named, "table-name-pattern", policy)
    assert finding.field == spelled(spelling, "spec.table_name", "spec.tableName")
    assert "'orders-table' does not match" in finding.message
    assert "planton.toml" in finding.fix
    assert by_code(manifest(spelling, table_name="dev-orders"), "table-name-pattern", policy) == []


def test_the_pattern_must_match_the_whole_name() -> None:
    policy = Policy(table_name_pattern="dev-[a-z]+")
    assert by_code(manifest("flat-snake", table_name="dev-orders-2"), "table-name-pattern", policy)


@ALL
def test_required_tags(spelling: str) -> None:
    policy = Policy(required_tags=("team", "cost-center", "Environment"))
    (finding,) = by_code(manifest(spelling), "required-tags", policy)
    assert finding.field == "metadata.labels"
    assert finding.message.endswith("lacks the tag the team requires: cost-center")  # team is a label, env is set
    assert spelled(spelling, "spec.tags", "spec.tags") in finding.fix
    tagged = manifest(spelling, tags={"cost-center": "42"})
    assert by_code(tagged, "required-tags", policy) == []


def test_a_steering_label_is_no_tag() -> None:
    document = manifest(
        "flat-snake", metadata={"labels": {"terraform.project-planton.org/backend.type": "s3", "team": "x"}}
    )
    policy = Policy(required_tags=("terraform.project-planton.org/backend.type",))
    assert by_code(document, "required-tags", policy)


def test_every_rule_has_a_unique_code_and_every_finding_names_its_rule_ids() -> None:
    assert len(RULES) == len({rule.code for rule in RULES.values()})
    document = manifest(
        "flat-snake",
        point_in_time_recovery_enabled=False,
        deletion_protection_enabled=False,
        metadata={"env": "prod"},
    )
    for finding in found(document):
        assert finding.rules == RULES[finding.code].rules
        assert finding.coded


# --- the policy's settings -----------------------------------------------------------------------

PROD_GAPS = {"point_in_time_recovery_enabled": False, "deletion_protection_enabled": False}


def test_the_policy_makes_listed_findings_errors_and_turns_others_off() -> None:
    document = manifest("flat-snake", metadata={"env": "prod"}, **PROD_GAPS)
    policy = Policy(
        errors=frozenset({"production-point-in-time-recovery"}), off=frozenset({"production-deletion-protection"})
    )
    result = {finding.code: finding.severity for finding in found(document, policy)}
    assert result == {"production-point-in-time-recovery": Severity.ERROR}


def test_strict_makes_every_finding_an_error_except_those_turned_off() -> None:
    document = manifest("flat-snake", metadata={"env": "prod"}, **PROD_GAPS)
    policy = Policy(off=frozenset({"production-deletion-protection"})).strictly()
    result = {finding.code: finding.severity for finding in found(document, policy)}
    assert result == {"production-point-in-time-recovery": Severity.ERROR}


def test_the_production_selector_by_env_and_by_label() -> None:
    gaps = dict(PROD_GAPS)
    staging = manifest("flat-snake", metadata={"env": "live"}, **gaps)
    assert found(staging) == []
    assert len(found(staging, Policy(production_envs=("live",)))) == 2
    # The team's envs replace the default ones.
    assert found(manifest("flat-snake", metadata={"env": "prod"}, **gaps), Policy(production_envs=("live",))) == []
    critical = manifest("flat-snake", metadata={"env": "dev", "labels": {"tier": "critical"}}, **gaps)
    findings_ = found(critical, Policy(production_labels={"tier": "critical"}))
    assert {finding.code for finding in findings_} == {
        "production-point-in-time-recovery",
        "production-deletion-protection",
    }
    assert "labelled tier=critical" in findings_[0].message


def test_policy_errors_stop_with_their_own_exit_code_and_carry_every_finding() -> None:
    error = Finding("production-point-in-time-recovery", "m", "f", "spec.x", Severity.ERROR, coded=True)
    warning = Finding("local-secondary-index", "w", "", "spec.y", coded=True)

    class One:
        findings = (error, warning)

        class loaded:
            class manifest:
                path = Path("m.yaml")

    with pytest.raises(PolicyViolation) as raised:
        refuse_policy_errors([One()], fleet=True)  # type: ignore[list-item]
    assert raised.value.exit_code == EXIT_POLICY == 7
    lines = raised.value.lines()
    assert lines[0].startswith("1 finding the team's policy (or --strict) makes an error; nothing was written")
    assert lines[1] == "m.yaml: spec.x: m; f [production-point-in-time-recovery]"
    assert lines[2:] == ["and these warnings:", "m.yaml: spec.y: w [local-secondary-index]"]
    assert [entry["code"] for entry in raised.value.details()["findings"]] == [error.code, warning.code]


# --- policy files --------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_nearest_policy_upward_wins_and_a_pyproject_without_one_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "planton.toml", 'errors = ["required-tags"]\n')
    write(tmp_path / "team" / "pyproject.toml", '[project]\nname = "x"\n')
    manifest_path = write(tmp_path / "team" / "tables" / "orders.yaml", "")
    policy = PolicyFinder().for_manifest(manifest_path)
    assert policy.errors == {"required-tags"}
    assert policy.source == str(tmp_path / "planton.toml")
    write(tmp_path / "team" / "pyproject.toml", '[tool.planton]\noff = ["local-secondary-index"]\n')
    policy = PolicyFinder().for_manifest(manifest_path)
    assert policy.off == {"local-secondary-index"}
    assert policy.errors == frozenset()


def test_planton_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.planton]\noff = ["local-secondary-index"]\n')
    write(tmp_path / "planton.toml", 'required-tags = ["team"]\n')
    policy = PolicyFinder().for_manifest(tmp_path / "m.yaml")
    assert policy.required_tags == ("team",)
    assert policy.off == frozenset()


def test_no_policy_file_is_the_default_policy(tmp_path: Path) -> None:
    assert PolicyFinder().for_manifest(tmp_path / "deep" / "m.yaml") == Policy()
    assert read_policy(write(tmp_path / "pyproject.toml", "[tool.black]\n"), ("tool", "planton")) is None


def test_every_setting_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """
[tool.planton]
errors = ["production-point-in-time-recovery", "required-tags"]
off = ["local-secondary-index"]
table-name-pattern = "(dev|prod)-[a-z0-9-]+"
required-tags = ["team", "cost-center", "team"]

[tool.planton.production]
env = ["live"]
labels = { tier = "critical" }
""",
    )
    policy = read_policy(path, ("tool", "planton"))
    assert policy == Policy(
        errors=frozenset({"production-point-in-time-recovery", "required-tags"}),
        off=frozenset({"local-secondary-index"}),
        production_envs=("live",),
        production_labels={"tier": "critical"},
        table_name_pattern="(dev|prod)-[a-z0-9-]+",
        required_tags=("team", "cost-center"),
        source=str(path),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("errors = [", "is not valid TOML"),
        ("erors = []", "erors: unknown key 'erors'; did you mean 'errors'?"),
        (
            'errors = ["production-pitr"]',
            "only best-practice findings: production-point-in-time-recovery, production-deletion-protection",
        ),
        ('off = ["environment-ignored"]', "a policy makes errors of, or turns off, only best-practice findings"),
        ('off = ["local-secondary-indx"]', "did you mean 'local-secondary-index'?"),
        ('errors = "required-tags"', 'errors: must be a list of non-empty text, such as ["a", "b"]'),
        ('errors = ["required-tags"]\noff = ["required-tags"]', "off: required-tags is in errors too"),
        ('table-name-pattern = "(unclosed"', "table-name-pattern: is not a regular expression"),
        ("table-name-pattern = 3", "table-name-pattern: must be a regular expression, as text"),
        ("required-tags = [1]", "required-tags: must be a list of non-empty text"),
        ('production = "prod"', "production: must be a table with env and/or labels"),
        ("production = { envs = [] }", "production.envs: unknown key 'envs'; did you mean 'env'?"),
        ("production = { labels = { tier = 1 } }", "production.labels: must be a table of label"),
    ],
)
def test_a_malformed_policy_is_an_input_error_naming_the_key(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path / "planton.toml", text + "\n")
    with pytest.raises(PolicyError) as raised:
        PolicyFinder().for_manifest(tmp_path / "m.yaml")
    assert raised.value.exit_code == EXIT_BAD_MANIFEST
    assert raised.value.lines()[0] == f"{path} is not a valid planton policy:"
    assert any(problem in line for line in raised.value.lines()[1:]), raised.value.lines()


def test_a_malformed_tool_planton_table_names_its_section(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool]\nplanton = "strict"\n')
    with pytest.raises(PolicyError) as raised:
        PolicyFinder().for_manifest(tmp_path / "m.yaml")
    assert raised.value.lines() == [
        f"{path} [tool.planton] is not a valid planton policy:",
        "tool.planton: must be a table of settings (keys: errors, off, production, table-name-pattern, required-tags)",
    ]


def test_every_problem_is_said_at_once() -> None:
    with pytest.raises(PolicyError) as raised:
        policy_from({"errors": ["x"], "required-tags": "team", "nope": 1}, "p.toml")
    assert len(raised.value.problems) == 3


def test_a_policy_file_that_is_not_utf8_or_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "planton.toml"
    path.write_bytes(b"errors = ['\xff']\n")
    with pytest.raises(PolicyError, match="is not UTF-8"):
        read_policy(path)


@pytest.mark.parametrize("kind", ["directory", "dangling link", "fifo"])
def test_a_policy_file_that_is_there_but_cannot_be_read_is_never_passed_over(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "planton.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to(tmp_path / "moved.toml")
    else:
        os.mkfifo(path)
    with pytest.raises(PolicyError) as raised:
        PolicyFinder().for_manifest(tmp_path / "m.yaml")
    assert raised.value.exit_code == EXIT_BAD_MANIFEST
    expected = "is a dangling link" if kind == "dangling link" else "is not a regular file"
    assert raised.value.lines()[1].startswith(expected)


def test_a_policy_nested_too_deeply_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path / "planton.toml", "x = " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(PolicyError):
        PolicyFinder().for_manifest(tmp_path / "m.yaml")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(a+)+b", "could take exponential time to match"),
        ("(a|ab)*c", "could take exponential time to match"),
        ("(a)\\1", "could take exponential time to match"),
        ("(a+){2,10}", "could take exponential time to match"),
        (".*.*.*.*.*x", "has 5 repetitions of varying length; at most 4"),
        ("a{4294967296}", "is not a regular expression"),
        ("(" * 400 + ")" * 400, None),
        ("x" * 1001, "is 1001 characters"),
        ("(dev|stage|prod)-[a-z0-9-]+", None),
        ("[a-z]+-[a-z]+-[a-z]+-[a-z]+", None),
        ("^dev-.*$|^prod-.*$", None),
    ],
)
def test_a_name_pattern_must_be_quick_to_match(pattern: str, problem: str | None) -> None:
    found_problem = pattern_problem(pattern)
    if problem is None:
        assert found_problem is None
    else:
        assert found_problem is not None
        assert problem in found_problem


# --- through validate ----------------------------------------------------------------------------


def test_validate_gives_the_findings_after_the_inputs_and_the_policy_decides(tmp_path: Path) -> None:
    import yaml

    path = write(
        tmp_path / "orders.yaml", yaml.safe_dump(manifest("flat-camel", metadata={"env": "prod"}, **PROD_GAPS))
    )
    validated = validate_manifest(ManifestSource(manifest=path), {}, Checks())
    assert [finding.code for finding in validated.findings] == [
        "production-point-in-time-recovery",
        "production-deletion-protection",
    ]
    refuse_policy_errors([validated])  # warnings only: nothing raised
    write(tmp_path / "planton.toml", 'errors = ["production-deletion-protection"]\n')
    validated = validate_manifest(ManifestSource(manifest=path), {}, Checks())
    with pytest.raises(PolicyViolation) as raised:
        refuse_policy_errors([validated])
    assert "spec.deletionProtectionEnabled" in raised.value.lines()[1]
    # Without checks (render) no policy is read, and none stops it.
    write(tmp_path / "planton.toml", "errors = [")
    assert validate_manifest(ManifestSource(manifest=path), {}).findings == ()
