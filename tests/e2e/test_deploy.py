"""Every shipped flat-dialect manifest (hack/manifest.yaml and the seed's examples.md blocks)
goes through init -> apply -> boto3 checks -> outputs -> a clean second plan -> destroy, with
the real CLI, real terraform and a moto server. The capability examples (keySchema dialect) have
their own checks in test_capabilities.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e_support import Cli, dynamodb, manifest_key
from support import HACK_MANIFEST, example_blocks, slug

pytestmark = pytest.mark.e2e

MANIFESTS = [("hack-manifest", HACK_MANIFEST.read_text(encoding="utf-8"))] + [
    (slug(heading), text) for heading, text in example_blocks() if "keySchema" not in text
]
TYPES = {"STRING": "S", "NUMBER": "N", "BINARY": "B", "S": "S", "N": "N", "B": "B"}


def _field(spec: dict[str, Any], snake: str, default: Any = None) -> Any:
    """Read a spec field in either spelling, independently of planton's own model."""
    head, *rest = snake.split("_")
    camel = head + "".join(part.capitalize() for part in rest)
    return spec.get(snake, spec.get(camel, default))


def _type(value: str) -> str:
    return TYPES[value.upper().removeprefix("ATTRIBUTE_TYPE_")]


def _expected(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    spec, metadata = document["spec"], document["metadata"]
    billing = str(_field(spec, "billing_mode", "PAY_PER_REQUEST")).upper().removeprefix("BILLING_MODE_")
    keys = [("HASH", _field(spec, "partition_key_name"), _type(_field(spec, "partition_key_type")))]
    if _field(spec, "sort_key_name"):
        keys.append(("RANGE", _field(spec, "sort_key_name"), _type(_field(spec, "sort_key_type"))))
    tags = {
        "Name": _field(spec, "table_name") or metadata["name"],
        "ManagedBy": "planton",
        "PlantonManifest": manifest_key(metadata),
        **metadata.get("labels", {}),
    }
    if metadata.get("env"):
        tags["Environment"] = metadata["env"]
    if metadata.get("org"):
        tags["Organization"] = metadata["org"]
    return {
        "name": _field(spec, "table_name") or metadata["name"],
        "region": _field(spec, "aws_region"),
        "billing": billing,
        "keys": keys,
        "read": _field(spec, "read_capacity_units", 0) if billing == "PROVISIONED" else 0,
        "write": _field(spec, "write_capacity_units", 0) if billing == "PROVISIONED" else 0,
        "pitr": _field(spec, "point_in_time_recovery_enabled", False),
        "sse": _field(spec, "server_side_encryption_enabled", True),
        "tags": tags,
    }


@pytest.mark.parametrize(("name", "text"), MANIFESTS, ids=[name for name, _ in MANIFESTS])
def test_manifest_deploys_and_destroys(name: str, text: str, cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(text, encoding="utf-8")
    expected = _expected(text)
    client = dynamodb(moto_endpoint, expected["region"])

    init = cli.ok("tofu", "init", "--manifest", str(manifest))
    assert "initialized" in init.stdout.lower()
    apply = cli.ok("tofu", "apply", "--manifest", str(manifest), "--auto-approve")
    # The table, and terraform_data.local_indexes (the module's record of the local indexes).
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in apply.stdout
    state_line = next(line for line in apply.stderr.splitlines() if line.startswith("planton: state "))
    state_path = Path(state_line.removeprefix("planton: state "))
    assert state_path.is_file()
    assert state_path.is_relative_to(tmp_path / "work")

    table = client.describe_table(TableName=expected["name"])["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == expected["billing"]
    assert [(k["KeyType"], k["AttributeName"]) for k in table["KeySchema"]] == [(t, n) for t, n, _ in expected["keys"]]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        n: ty for _, n, ty in expected["keys"]
    }
    throughput = table["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (expected["read"], expected["write"])
    backups = client.describe_continuous_backups(TableName=expected["name"])["ContinuousBackupsDescription"]
    pitr = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert pitr == ("ENABLED" if expected["pitr"] else "DISABLED")
    if expected["sse"]:
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert table["SSEDescription"]["SSEType"] == "KMS"
    else:
        assert "SSEDescription" not in table
    tags = {t["Key"]: t["Value"] for t in client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
    assert tags == expected["tags"]

    # output --json: each output's value, the real ARN among them (read back from moto by boto3).
    outputs = json.loads(cli.ok("tofu", "output", "--manifest", str(manifest), "--json").stdout)
    assert outputs == {
        "table_arn": table["TableArn"],
        "table_id": expected["name"],
        "table_name": expected["name"],
        "aws_region": expected["region"],
        "global_secondary_index_arns": {},
        "local_secondary_index_arns": {},
        "alarm_arns": {},
    }, "stream_arn, stream_label and kms_key_arn are exported only when set, and these tables have none"

    plan = cli.run("tofu", "plan", "--manifest", str(manifest), "--detailed-exitcode")
    assert plan.returncode == 0, f"second plan is not clean:\n{plan.stdout}\n{plan.stderr}"
    assert "No changes." in plan.stdout

    destroy = cli.ok("tofu", "destroy", "--manifest", str(manifest), "--auto-approve")
    assert "Destroy complete! Resources: 2 destroyed." in destroy.stdout
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=expected["name"])
    assert state_path.is_file(), "destroy keeps the state file (now empty of resources)"
