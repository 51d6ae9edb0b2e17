"""Every table capability, end to end: the real CLI, real terraform and a moto server, each
result checked with boto3 against the manifest as written (read here independently of planton's
model). Where moto 5.x cannot do something, the test says so and checks the plan instead."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from e2e_support import Cli, dynamodb, manifest_key
from support import example_blocks, slug

pytestmark = [pytest.mark.e2e, pytest.mark.module]

TERRAFORM = shutil.which("tofu") or shutil.which("terraform")
EXAMPLES = {slug(heading): text for heading, text in example_blocks() if "keySchema" in text}

# What moto 5.x (with the aws provider 5.100.0) cannot do; these are covered at plan level below.
EMULATOR_GAPS = {
    "table-class-deletion-protection-and-contributor-insights": (
        "moto answers DescribeContributorInsights with HTTP 500 and ignores table_class (a re-plan drifts)"
    ),
    "auto-scaling": "moto's Application Auto Scaling answers ListTagsForResource with HTTP 500",
    "on-demand-maximum-throughput": "moto does not return OnDemandThroughput, so every re-plan drifts",
}


# ---------------------------------------------------------------------------------------------
# Reading a manifest the way AWS will see it, without planton's model


def _enum(value: str) -> str:
    value = str(value).upper()
    value = re.sub(r"^(KEY_TYPE|PROJECTION_TYPE|STREAM_VIEW_TYPE|TABLE_CLASS|BILLING_MODE|ATTRIBUTE_TYPE)_", "", value)
    return value.removesuffix("_PROJECTION")


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted(((_enum(k["keyType"]), k["attributeName"]) for k in schema), key=lambda pair: pair[0])


def _projection(projection: dict[str, Any] | None) -> tuple[str, list[str]]:
    projection = projection or {}
    return _enum(projection.get("type", "ALL")), sorted(projection.get("nonKeyAttributes", []))


def _steering(key: str) -> bool:
    return bool(re.fullmatch(r"([a-z0-9-]+\.)*project-planton\.org/.*", key))


def deployable(text: str, **changes: Any) -> dict[str, Any]:
    """The example as a document, with a table name of its own (tests share a moto server)
    and ``changes`` merged into its spec."""
    document = yaml.safe_load(text)
    document["metadata"]["name"] = f"{document['metadata']['name']}-{uuid.uuid4().hex[:6]}"
    document["spec"].update(copy.deepcopy(changes))
    return document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def kms_key(endpoint: str, alias: str) -> str:
    """A customer-managed key in moto with ``alias``; its key ARN."""
    kms = boto3.client(
        "kms",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    arn: str = kms.create_key(Description=alias)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=alias, TargetKeyId=arn)
    return arn


def _check_index(live: dict[str, Any], index: dict[str, Any]) -> None:
    """A live index (DescribeTable's) has the keys and projection the manifest's index gives."""
    live_keys = [{"attributeName": k["AttributeName"], "keyType": k["KeyType"]} for k in live["KeySchema"]]
    assert _keys(live_keys) == _keys(index["keySchema"])
    projection = live["Projection"]
    assert (projection["ProjectionType"], sorted(projection.get("NonKeyAttributes", []))) == _projection(
        index.get("projection")
    )


def check_table(client: Any, document: dict[str, Any], *, key_arn: str | None = None) -> dict[str, Any]:
    """Assert the live table is the one ``document`` describes; returns DescribeTable's Table."""
    spec, metadata = document["spec"], document["metadata"]
    name = spec.get("tableName", metadata["name"])
    table = client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    billing = _enum(spec.get("billingMode", "PAY_PER_REQUEST"))
    assert table["BillingModeSummary"]["BillingMode"] == billing
    assert _keys([{"attributeName": k["AttributeName"], "keyType": k["KeyType"]} for k in table["KeySchema"]]) == _keys(
        spec["keySchema"]
    )
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        d["name"]: _enum(d["type"]) for d in spec["attributeDefinitions"]
    }
    if billing == "PROVISIONED":
        throughput = spec["provisionedThroughput"]
        assert (
            table["ProvisionedThroughput"]["ReadCapacityUnits"],
            table["ProvisionedThroughput"]["WriteCapacityUnits"],
        ) == (
            throughput["readCapacityUnits"],
            throughput["writeCapacityUnits"],
        )

    live_gsis = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
    assert set(live_gsis) == {index["name"] for index in spec.get("globalSecondaryIndexes", [])}
    for index in spec.get("globalSecondaryIndexes", []):
        live = live_gsis[index["name"]]
        _check_index(live, index)
        if billing == "PROVISIONED":
            given = index["provisionedThroughput"]
            live_throughput = live["ProvisionedThroughput"]
            assert (live_throughput["ReadCapacityUnits"], live_throughput["WriteCapacityUnits"]) == (
                given["readCapacityUnits"],
                given["writeCapacityUnits"],
            )
    live_lsis = {index["IndexName"]: index for index in table.get("LocalSecondaryIndexes", [])}
    assert set(live_lsis) == {index["name"] for index in spec.get("localSecondaryIndexes", [])}
    for index in spec.get("localSecondaryIndexes", []):
        _check_index(live_lsis[index["name"]], index)

    stream = table.get("StreamSpecification", {"StreamEnabled": False})
    assert stream["StreamEnabled"] is bool(spec.get("streamEnabled", False))
    if spec.get("streamEnabled"):
        assert stream["StreamViewType"] == _enum(spec["streamViewType"])
        assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")

    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if spec.get("ttl", {}).get("enabled"):
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", spec["ttl"]["attributeName"])
    else:
        assert ttl["TimeToLiveStatus"] == "DISABLED"

    recovery = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = recovery["PointInTimeRecoveryDescription"]
    if spec.get("pointInTimeRecoveryEnabled"):
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
        assert pitr.get("RecoveryPeriodInDays", 35) == spec.get("pointInTimeRecoveryPeriodDays", 35)
    else:
        assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"

    encryption = spec.get("serverSideEncryption", {})
    if encryption.get("enabled"):
        assert (table["SSEDescription"]["Status"], table["SSEDescription"]["SSEType"]) == ("ENABLED", "KMS")
        if key_arn is not None:
            assert table["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    else:
        assert "SSEDescription" not in table

    assert table.get("DeletionProtectionEnabled", False) is bool(spec.get("deletionProtectionEnabled", False))

    tags = {t["Key"]: t["Value"] for t in client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}
    expected_tags = {k: v for k, v in metadata.get("labels", {}).items() if not _steering(k)}
    expected_tags.update(spec.get("tags", {}))
    expected_tags.update({"Name": name, "ManagedBy": "planton", "PlantonManifest": manifest_key(metadata)})
    if metadata.get("env"):
        expected_tags["Environment"] = metadata["env"]
    if metadata.get("org"):
        expected_tags["Organization"] = metadata["org"]
    assert tags == expected_tags
    return dict(table)


def clean_plan(cli: Cli, manifest: Path) -> None:
    plan = cli.run("tofu", "plan", "-f", str(manifest), "--detailed-exitcode")
    assert plan.returncode == 0, f"the next plan is not clean:\n{plan.stdout}\n{plan.stderr}"


def outputs(cli: Cli, manifest: Path) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli.ok("tofu", "output", "-f", str(manifest), "--json").stdout)
    return shown


def destroy(cli: Cli, manifest: Path, document: dict[str, Any]) -> None:
    if document["spec"].get("deletionProtectionEnabled"):
        document["spec"]["deletionProtectionEnabled"] = False
        cli.ok("tofu", "apply", "-f", str(write(manifest, document)), "--auto-approve")
    cli.ok("tofu", "destroy", "-f", str(manifest), "--auto-approve")


# ---------------------------------------------------------------------------------------------
# Each capability example


# moto's lowest supported release once dropped a recovery period: the lowest-dependency pass runs it.
LOWEST = {"point-in-time-recovery-with-a-recovery-period"}


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=[pytest.mark.lowest] if name in LOWEST else []) for name in sorted(EXAMPLES)]
)
def test_capability_example_deploys(name: str, cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    if name in EMULATOR_GAPS:
        pytest.skip(f"{EMULATOR_GAPS[name]}; test_emulator_gaps_are_planned_right covers it at plan level")
    document = deployable(EXAMPLES[name])
    key_arn = None
    alias = document["spec"].get("serverSideEncryption", {}).get("kmsKeyArn")
    if alias:
        alias = f"{alias}-{uuid.uuid4().hex[:6]}"
        document["spec"]["serverSideEncryption"]["kmsKeyArn"] = alias
        key_arn = kms_key(moto_endpoint, alias)
    manifest = write(tmp_path / "m.yaml", document)
    client = dynamodb(moto_endpoint, document["spec"]["awsRegion"])

    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    table = check_table(client, document, key_arn=key_arn)
    shown = outputs(cli, manifest)
    assert shown["table_arn"] == table["TableArn"]
    assert shown["global_secondary_index_arns"] == {
        index["IndexName"]: f"{table['TableArn']}/index/{index['IndexName']}"
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    assert set(shown["local_secondary_index_arns"]) == {i["IndexName"] for i in table.get("LocalSecondaryIndexes", [])}
    if document["spec"].get("streamEnabled"):
        assert (shown["stream_arn"], shown["stream_label"]) == (table["LatestStreamArn"], table["LatestStreamLabel"])
    else:
        assert "stream_arn" not in shown
        assert "stream_label" not in shown
    if key_arn:
        assert shown["kms_key_arn"] == key_arn
    clean_plan(cli, manifest)
    destroy(cli, manifest, document)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=table["TableName"])


# ---------------------------------------------------------------------------------------------
# Everything at once, in both enum spellings; deletion protection


def _modern(text: str) -> str:
    """The legacy example with today's enum spellings (HASH, ALL, NEW_AND_OLD_IMAGES, ...)."""
    return re.sub(
        r"\b(BILLING_MODE|ATTRIBUTE_TYPE|KEY_TYPE|PROJECTION_TYPE|STREAM_VIEW_TYPE|TABLE_CLASS)_([A-Z_]+)",
        r"\2",
        text,
    ).replace("KEYS_ONLY_PROJECTION", "KEYS_ONLY")


@pytest.mark.parametrize("spelling", ["legacy", "modern"])
def test_everything_at_once(spelling: str, cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    text = EXAMPLES["everything-at-once-in-the-older-enum-spelling"]
    if spelling == "modern":
        text = _modern(text)
        assert "KEY_TYPE_" not in text
        assert "keyType: HASH" in text
    document = deployable(text)
    alias = f"alias/everything-{uuid.uuid4().hex[:6]}"
    document["spec"]["serverSideEncryption"]["kmsKeyArn"] = alias
    key_arn = kms_key(moto_endpoint, alias)
    manifest = write(tmp_path / "m.yaml", document)
    client = dynamodb(moto_endpoint, "us-east-1")

    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    table = check_table(client, document, key_arn=key_arn)
    client.put_item(TableName=table["TableName"], Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    clean_plan(cli, manifest)

    refused = cli.run("tofu", "destroy", "-f", str(manifest), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert "deletion protection on; nothing was deleted" in refused.stderr
    assert "deletionProtectionEnabled" in refused.stderr
    assert client.describe_table(TableName=table["TableName"])["Table"]["ItemCount"] >= 0
    assert client.get_item(TableName=table["TableName"], Key={"pk": {"S": "a"}, "sk": {"S": "b"}}).get("Item")

    destroy(cli, manifest, document)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=table["TableName"])


# ---------------------------------------------------------------------------------------------
# In-place updates converge, and never replace the table


BASE = """
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata:
  name: updates
spec:
  awsRegion: us-east-1
  billingMode: PAY_PER_REQUEST
  attributeDefinitions:
    - {name: pk, type: S}
    - {name: a, type: S}
  keySchema:
    - {attributeName: pk, keyType: HASH}
  globalSecondaryIndexes:
    - name: by-a
      keySchema: [{attributeName: a, keyType: HASH}]
      projection: {type: ALL}
"""


def _steps() -> list[tuple[str, dict[str, Any]]]:
    """(what changes, the spec fields after it), applied in order. The removed index's key stays
    in use by the other index: moto keeps a removed index's attribute definitions (see
    test_removing_the_last_index_of_an_attribute)."""
    by_ab = {
        "name": "by-a-b",
        "keySchema": [{"attributeName": "a", "keyType": "HASH"}, {"attributeName": "b", "keyType": "RANGE"}],
        "projection": {"type": "KEYS_ONLY"},
    }
    by_a = {"name": "by-a", "keySchema": [{"attributeName": "a", "keyType": "HASH"}], "projection": {"type": "ALL"}}
    definitions = [{"name": "pk", "type": "S"}, {"name": "a", "type": "S"}, {"name": "b", "type": "N"}]
    provisioned_ab = {**by_ab, "provisionedThroughput": {"readCapacityUnits": 2, "writeCapacityUnits": 2}}
    # Changes that touch different parts of the table (an index, backups, TTL, tags) go in one
    # apply each way: each still has to apply in place and re-plan clean, in half the applies.
    return [
        (
            "add a GSI, PITR on, TTL on, tags",
            {
                "attributeDefinitions": definitions,
                "globalSecondaryIndexes": [by_a, by_ab],
                "pointInTimeRecoveryEnabled": True,
                "ttl": {"enabled": True, "attributeName": "expires_at"},
                "tags": {"owner": "team-a"},
            },
        ),
        (
            "remove a GSI, PITR off, TTL off, tags changed",
            {
                "globalSecondaryIndexes": [by_ab],
                "pointInTimeRecoveryEnabled": False,
                "ttl": {"enabled": False},
                "tags": {"owner": "team-b", "tier": "gold"},
            },
        ),
        ("stream on", {"streamEnabled": True, "streamViewType": "KEYS_ONLY"}),
        (
            "PAY_PER_REQUEST -> PROVISIONED",
            {
                "billingMode": "PROVISIONED",
                "provisionedThroughput": {"readCapacityUnits": 5, "writeCapacityUnits": 5},
                "globalSecondaryIndexes": [provisioned_ab],
            },
        ),
        ("capacity", {"provisionedThroughput": {"readCapacityUnits": 9, "writeCapacityUnits": 4}}),
    ]


def test_in_place_updates_apply_and_converge(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    document = deployable(BASE)
    manifest = write(tmp_path / "m.yaml", document)
    client = dynamodb(moto_endpoint, "us-east-1")
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    created = check_table(client, document)
    client.put_item(TableName=created["TableName"], Item={"pk": {"S": "kept"}, "a": {"S": "x"}})

    for what, changes in _steps():
        document["spec"].update(changes)
        applied = cli.run("tofu", "apply", "-f", str(write(manifest, document)), "--auto-approve")
        # Under --auto-approve a replacement is refused (exit 5): success means in place.
        assert applied.returncode == 0, f"{what}: exit {applied.returncode}\n{applied.stdout}\n{applied.stderr}"
        assert "Resources: 0 added, 1 changed, 0 destroyed" in applied.stdout, f"{what}:\n{applied.stdout}"
        table = check_table(client, document)
        assert table["CreationDateTime"] == created["CreationDateTime"], what
        assert client.get_item(TableName=table["TableName"], Key={"pk": {"S": "kept"}}).get("Item"), what
        clean_plan(cli, manifest)

    destroy(cli, manifest, document)


def test_removing_the_last_index_of_an_attribute(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """The index goes; moto (unlike DynamoDB) keeps its key's attribute definition, so the next
    plan's one difference is removing that definition, never a replacement."""
    document = deployable(BASE)
    manifest = write(tmp_path / "m.yaml", document)
    client = dynamodb(moto_endpoint, "us-east-1")
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    document["spec"]["attributeDefinitions"] = [{"name": "pk", "type": "S"}]
    del document["spec"]["globalSecondaryIndexes"]
    cli.ok("tofu", "apply", "-f", str(write(manifest, document)), "--auto-approve")
    table = client.describe_table(TableName=document["metadata"]["name"])["Table"]
    assert not table.get("GlobalSecondaryIndexes")
    change = _planned(plan_json(cli, manifest), "aws_dynamodb_table.this")
    assert change["actions"] == ["update"]
    differing = {key for key in change["after"] if change["before"].get(key) != change["after"].get(key)}
    assert differing == {"attribute"}, differing
    assert change["after"]["attribute"] == [{"name": "pk", "type": "S"}]
    cli.ok("tofu", "destroy", "-f", str(manifest), "--auto-approve")


# ---------------------------------------------------------------------------------------------
# What the emulator cannot do, checked in the plan terraform would apply


def plan_json(cli: Cli, manifest: Path) -> dict[str, Any]:
    """terraform's own plan for ``manifest``, as ``show -json`` gives it: planton prepares the
    workspace (module, variables, providers), terraform plans there."""
    assert TERRAFORM, "no tofu or terraform on PATH"
    init = cli.ok("tofu", "init", "-f", str(manifest))
    workspace = Path(
        next(line for line in init.stderr.splitlines() if line.startswith("planton: workspace ")).split(" ", 2)[2]
    )
    plan_file = manifest.parent / "review.tfplan"
    for argv in ([TERRAFORM, "plan", "-input=false", "-no-color", f"-out={plan_file}"],):
        done = subprocess.run(argv, cwd=workspace, env=cli.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [TERRAFORM, "show", "-json", str(plan_file)],
        cwd=workspace,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    result: dict[str, Any] = json.loads(shown.stdout)
    return result


def _planned(plan: dict[str, Any], address: str) -> dict[str, Any]:
    change = next(item for item in plan["resource_changes"] if item["address"] == address)
    return dict(change["change"])


def test_emulator_gaps_are_planned_right(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    # Table class and contributor insights.
    document = deployable(EXAMPLES["table-class-deletion-protection-and-contributor-insights"])
    plan = plan_json(cli, write(tmp_path / "class.yaml", document))
    table = _planned(plan, "aws_dynamodb_table.this")
    assert table["actions"] == ["create"]
    assert table["after"]["table_class"] == "STANDARD_INFREQUENT_ACCESS"
    assert table["after"]["deletion_protection_enabled"] is True
    insights = _planned(plan, "aws_dynamodb_contributor_insights.table[0]")
    assert insights["actions"] == ["create"]
    assert insights["after"]["table_name"] == document["metadata"]["name"]

    # On-demand maximum throughput.
    document = deployable(EXAMPLES["on-demand-maximum-throughput"])
    table = _planned(plan_json(cli, write(tmp_path / "capped.yaml", document)), "aws_dynamodb_table.this")
    assert table["after"]["on_demand_throughput"] == [{"max_read_request_units": 1000, "max_write_request_units": 500}]

    # Auto scaling: a target and a target-tracking policy per scaled dimension.
    document = deployable(EXAMPLES["auto-scaling"])
    name = document["metadata"]["name"]
    plan = plan_json(cli, write(tmp_path / "scaled.yaml", document))
    table = _planned(plan, "aws_dynamodb_table.this")
    assert (table["after"]["read_capacity"], table["after"]["write_capacity"]) == (5, 5)
    gsi = table["after"]["global_secondary_index"][0]
    assert (gsi["read_capacity"], gsi["write_capacity"]) == (2, 2)
    expected = {
        "table/read": (
            f"table/{name}",
            "dynamodb:table:ReadCapacityUnits",
            5,
            100,
            70,
            "DynamoDBReadCapacityUtilization",
        ),
        "table/write": (
            f"table/{name}",
            "dynamodb:table:WriteCapacityUnits",
            5,
            50,
            70,
            "DynamoDBWriteCapacityUtilization",
        ),
        "index/by-user/read": (
            f"table/{name}/index/by-user",
            "dynamodb:index:ReadCapacityUnits",
            2,
            20,
            70,
            "DynamoDBReadCapacityUtilization",
        ),
        "index/by-user/write": (
            f"table/{name}/index/by-user",
            "dynamodb:index:WriteCapacityUnits",
            2,
            20,
            70,
            "DynamoDBWriteCapacityUtilization",
        ),
    }
    for key, (resource, dimension, low, high, target, metric) in expected.items():
        target_change = _planned(plan, f'aws_appautoscaling_target.this["{key}"]')["after"]
        assert (target_change["resource_id"], target_change["scalable_dimension"]) == (resource, dimension)
        assert (target_change["min_capacity"], target_change["max_capacity"]) == (low, high)
        policy = _planned(plan, f'aws_appautoscaling_policy.this["{key}"]')["after"]
        configuration = policy["target_tracking_scaling_policy_configuration"][0]
        assert configuration["target_value"] == target
        assert configuration["predefined_metric_specification"][0]["predefined_metric_type"] == metric


def test_scaled_capacity_is_not_drift_and_scaling_never_replaces(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """A provisioned table is deployed, then its capacity moves as the auto scaler would move it;
    turning scaling on plans the scaling resources and leaves the table's capacity alone."""
    document = deployable(
        EXAMPLES["auto-scaling"],
        provisionedThroughput={"readCapacityUnits": 5, "writeCapacityUnits": 5},
    )
    scaling, index_scaling = (
        document["spec"].pop("autoscaling"),
        document["spec"]["globalSecondaryIndexes"][0].pop("autoscaling"),
    )
    document["spec"]["globalSecondaryIndexes"][0]["provisionedThroughput"] = {
        "readCapacityUnits": 2,
        "writeCapacityUnits": 2,
    }
    manifest = write(tmp_path / "m.yaml", document)
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    name = document["metadata"]["name"]
    client = dynamodb(moto_endpoint, "us-east-1")
    client.update_table(
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": 37, "WriteCapacityUnits": 12},
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-user",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 9, "WriteCapacityUnits": 3},
                }
            }
        ],
    )

    document["spec"]["autoscaling"] = scaling
    document["spec"]["globalSecondaryIndexes"][0]["autoscaling"] = index_scaling
    plan = plan_json(cli, write(manifest, document))
    table = _planned(plan, "aws_dynamodb_table.this")
    assert table["actions"] == ["no-op"], table
    assert (table["after"]["read_capacity"], table["after"]["write_capacity"]) == (37, 12)
    assert {
        key for key, _ in [(c["address"], c) for c in plan["resource_changes"]] if "appautoscaling_target" in key
    } == {
        f'aws_appautoscaling_target.this["{key}"]'
        for key in ("table/read", "table/write", "index/by-user/read", "index/by-user/write")
    }

    # Capacity the scaler moved outside a narrower range is pulled back into it, in place.
    scaling["read"]["maxCapacity"] = 20
    plan = plan_json(cli, write(manifest, document))
    table = _planned(plan, "aws_dynamodb_table.this")
    assert table["actions"] == ["update"]
    assert table["after"]["read_capacity"] == 20

    # Scaling off again: the manifest's capacity rules, in place.
    del document["spec"]["autoscaling"]
    del document["spec"]["globalSecondaryIndexes"][0]["autoscaling"]
    plan = plan_json(cli, write(manifest, document))
    assert _planned(plan, "aws_dynamodb_table.this")["actions"] == ["update"]
    assert not [c for c in plan["resource_changes"] if "appautoscaling" in c["address"]]
    cli.ok("tofu", "destroy", "-f", str(manifest), "--auto-approve")


# ---------------------------------------------------------------------------------------------
# Changes the provider would not make by itself


def test_a_changed_local_index_is_a_guarded_replacement(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """The provider tells local indexes apart by name: a new projection under the same name
    would be planned as nothing. planton plans the replacement DynamoDB needs, and guards it."""
    document = deployable(EXAMPLES["local-secondary-index"])
    manifest = write(tmp_path / "m.yaml", document)
    client = dynamodb(moto_endpoint, "us-east-1")
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    name = document["metadata"]["name"]
    client.put_item(TableName=name, Item={"thread_id": {"S": "t"}, "posted_at": {"N": "1"}, "score": {"N": "2"}})

    document["spec"]["localSecondaryIndexes"][0]["projection"] = {"type": "ALL"}
    refused = cli.run("tofu", "apply", "-f", str(write(manifest, document)), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert "a change to the local secondary indexes, which DynamoDB cannot make in place" in refused.stderr
    assert client.scan(TableName=name)["Count"] == 1
    plan = cli.run("tofu", "plan", "-f", str(manifest), "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout

    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve", "--allow-replace")
    [index] = client.describe_table(TableName=name)["Table"]["LocalSecondaryIndexes"]
    assert index["Projection"]["ProjectionType"] == "ALL"
    clean_plan(cli, manifest)
    destroy(cli, manifest, document)


def test_dropped_settings_do_not_linger(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """A recovery period left out goes back to AWS's 35 days; a customer-managed key left out
    is refused (terraform cannot ask for "no key"), rather than silently kept."""
    alias = f"alias/linger-{uuid.uuid4().hex[:6]}"
    key_arn = kms_key(moto_endpoint, alias)
    document = deployable(
        EXAMPLES["point-in-time-recovery-with-a-recovery-period"],
        serverSideEncryption={"enabled": True, "kmsKeyArn": alias},
    )
    manifest = write(tmp_path / "m.yaml", document)
    client = dynamodb(moto_endpoint, "us-east-1")
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    check_table(client, document, key_arn=key_arn)

    del document["spec"]["pointInTimeRecoveryPeriodDays"]
    cli.ok("tofu", "apply", "-f", str(write(manifest, document)), "--auto-approve")
    check_table(client, document, key_arn=key_arn)  # 35 days
    clean_plan(cli, manifest)

    document["spec"]["serverSideEncryption"] = {"enabled": True}
    for command in ("plan", "apply"):
        extra = ("--auto-approve",) if command == "apply" else ()
        refused = cli.run("tofu", command, "-f", str(write(manifest, document)), *extra)
        assert refused.returncode == 4, refused.stderr
        assert f"the table is encrypted with the customer-managed key {key_arn}" in refused.stderr
    table = client.describe_table(TableName=document["metadata"]["name"])["Table"]
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    cli.ok("tofu", "destroy", "-f", str(manifest), "--auto-approve")


def test_a_protected_table_is_not_replaced_half_way(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """A change that replaces a deletion-protected table is refused before terraform runs, even
    with --allow-replace: AWS would refuse the deletion after planton had been told to go ahead."""
    document = deployable(EXAMPLES["time-to-live"], deletionProtectionEnabled=True)
    manifest = write(tmp_path / "m.yaml", document)
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    document["spec"]["attributeDefinitions"] = [{"name": "session_id", "type": "N"}]
    refused = cli.run("tofu", "apply", "-f", str(write(manifest, document)), "--auto-approve", "--allow-replace")
    assert refused.returncode == 5, refused.stderr
    assert "has deletion protection on, and this plan deletes it" in refused.stderr
    assert "Destroying" not in refused.stdout
    table = dynamodb(moto_endpoint, "us-east-1").describe_table(TableName=document["metadata"]["name"])["Table"]
    assert table["AttributeDefinitions"] == [{"AttributeName": "session_id", "AttributeType": "S"}]
    document["spec"]["attributeDefinitions"] = [{"name": "session_id", "type": "S"}]
    destroy(cli, manifest, document)
