"""CloudWatch alarms (``spec.alarms``), end to end: the real CLI, real terraform and a moto
server, each alarm checked with boto3's ``describe_alarms`` against what the manifest asks for
(read here independently of planton's model)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from e2e_support import Cli, dynamodb

pytestmark = [pytest.mark.e2e, pytest.mark.module]

REGION = "us-east-1"


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _alarms(cloudwatch: Any, table: str) -> dict[str, dict[str, Any]]:
    """The table's alarms in CloudWatch, by name (every alarm planton makes starts "<table>/")."""
    found = cloudwatch.describe_alarms(AlarmNamePrefix=f"{table}/")["MetricAlarms"]
    return {alarm["AlarmName"]: alarm for alarm in found}


def _dimensions(alarm_or_metric: dict[str, Any]) -> dict[str, str]:
    return {item["Name"]: item["Value"] for item in alarm_or_metric["Dimensions"]}


def _check_metric_alarm(
    alarm: dict[str, Any],
    *,
    metric: str,
    statistic: str,
    dimensions: dict[str, str],
    threshold: float,
    period: int,
    evaluations: int,
    topic: str | None,
) -> None:
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/DynamoDB", metric, statistic)
    assert _dimensions(alarm) == dimensions
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (threshold, "GreaterThanThreshold")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        period,
        evaluations,
        evaluations,
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    actions = [topic] if topic else []
    assert (alarm["AlarmActions"], alarm["OKActions"]) == (actions, actions)


def _check_capacity_alarm(
    alarm: dict[str, Any], *, dimension: str, dimensions: dict[str, str], percent: float, period: int, topic: str
) -> None:
    """Consumed over provisioned capacity by metric math: the share stays right under auto scaling."""
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (percent, "GreaterThanThreshold")
    assert (alarm["AlarmActions"], alarm["OKActions"]) == ([topic], [topic])
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    assert set(queries) == {"utilization", "consumed", "provisioned"}
    assert queries["utilization"]["ReturnData"] is True
    assert queries["utilization"]["Expression"] == "100 * (consumed / PERIOD(consumed)) / provisioned"
    for query_id, metric, stat in (
        ("consumed", f"Consumed{dimension}CapacityUnits", "Sum"),
        ("provisioned", f"Provisioned{dimension}CapacityUnits", "Average"),
    ):
        stat_of = queries[query_id]["MetricStat"]
        assert (stat_of["Metric"]["Namespace"], stat_of["Metric"]["MetricName"]) == ("AWS/DynamoDB", metric)
        assert _dimensions(stat_of["Metric"]) == dimensions
        assert (stat_of["Period"], stat_of["Stat"]) == (period, stat)


def _gsi(name: str, attribute: str) -> dict[str, Any]:
    return {
        "name": name,
        "keySchema": [{"attributeName": attribute, "keyType": "HASH"}],
        "provisionedThroughput": {"readCapacityUnits": 5, "writeCapacityUnits": 5},
    }


def _outputs(cli: Cli, manifest: Path) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli.ok("tofu", "output", "-f", str(manifest), "--json").stdout)
    return shown


def test_alarms_are_created_follow_indexes_and_go_with_alarms_or_the_table(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    cloudwatch = _client("cloudwatch", moto_endpoint)
    client = dynamodb(moto_endpoint, REGION)
    topic = _client("sns", moto_endpoint).create_topic(Name=f"oncall-{uuid.uuid4().hex[:6]}")["TopicArn"]
    table = f"watched-{uuid.uuid4().hex[:6]}"
    document: dict[str, Any] = {
        "apiVersion": "aws.project-planton.org/v1",
        "kind": "AwsDynamodb",
        "metadata": {"name": table},
        "spec": {
            "awsRegion": REGION,
            "billingMode": "PROVISIONED",
            "attributeDefinitions": [
                {"name": "id", "type": "S"},
                {"name": "status", "type": "S"},
                {"name": "customer", "type": "S"},
            ],
            "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
            "provisionedThroughput": {"readCapacityUnits": 10, "writeCapacityUnits": 5},
            "globalSecondaryIndexes": [_gsi("by-status", "status")],
            "alarms": {
                "enabled": True,
                "snsTopicArn": topic,
                "throttles": {"threshold": 10, "evaluationPeriods": 3},
                "latency": {"thresholdMs": 40, "operations": ["GetItem", "Query"]},
                "capacity": {"percent": 90, "period": 60, "evaluationPeriods": 5},
            },
        },
    }
    # The index added later is already defined: only the index list changes in between.
    document["spec"]["attributeDefinitions"].pop()
    manifest = _write(tmp_path / "m.yaml", document)

    # 1. Created, as asked, with the defaults where the manifest gives none.
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    alarms = _alarms(cloudwatch, table)
    index = {"TableName": table, "GlobalSecondaryIndexName": "by-status"}
    expected = {
        f"{table}/ReadThrottleEvents",
        f"{table}/WriteThrottleEvents",
        f"{table}/index/by-status/ReadThrottleEvents",
        f"{table}/index/by-status/WriteThrottleEvents",
        f"{table}/SystemErrors",
        f"{table}/SuccessfulRequestLatency/GetItem",
        f"{table}/SuccessfulRequestLatency/Query",
        f"{table}/ReadCapacityUtilization",
        f"{table}/WriteCapacityUtilization",
        f"{table}/index/by-status/ReadCapacityUtilization",
        f"{table}/index/by-status/WriteCapacityUtilization",
    }
    assert set(alarms) == expected
    for name, dimensions in ((f"{table}", {"TableName": table}), (f"{table}/index/by-status", index)):
        for dimension in ("Read", "Write"):
            _check_metric_alarm(
                alarms[f"{name}/{dimension}ThrottleEvents"],
                metric=f"{dimension}ThrottleEvents",
                statistic="Sum",
                dimensions=dimensions,
                threshold=10,
                period=60,
                evaluations=3,
                topic=topic,
            )
            _check_capacity_alarm(
                alarms[f"{name}/{dimension}CapacityUtilization"],
                dimension=dimension,
                dimensions=dimensions,
                percent=90,
                period=60,
                topic=topic,
            )
    _check_metric_alarm(
        alarms[f"{table}/SystemErrors"],
        metric="SystemErrors",
        statistic="Sum",
        dimensions={"TableName": table},
        threshold=0,
        period=60,
        evaluations=15,
        topic=topic,
    )
    for operation in ("GetItem", "Query"):
        _check_metric_alarm(
            alarms[f"{table}/SuccessfulRequestLatency/{operation}"],
            metric="SuccessfulRequestLatency",
            statistic="Average",
            dimensions={"TableName": table, "Operation": operation},
            threshold=40,
            period=60,
            evaluations=10,
            topic=topic,
        )
    arns = _outputs(cli, manifest)["alarm_arns"]
    assert sorted(arns.values()) == sorted(alarm["AlarmArn"] for alarm in alarms.values())
    assert (
        arns["index/by-status/read_capacity"] == alarms[f"{table}/index/by-status/ReadCapacityUtilization"]["AlarmArn"]
    )

    # 2. The next plan is clean: CloudWatch answers with what was asked (metric math included).
    plan = cli.run("tofu", "plan", "-f", str(manifest), "--detailed-exitcode")
    assert plan.returncode == 0, f"the next plan is not clean:\n{plan.stdout}\n{plan.stderr}"

    # Renamed, the table takes its alarms along: each is replaced under the new name (a plan
    # only: renaming replaces the table, which planton holds back for the user to confirm).
    renamed = copy.deepcopy(document)
    renamed["spec"]["tableName"] = f"{table}-renamed"
    shown = json.loads(cli.run("tofu", "plan", "-f", str(_write(tmp_path / "renamed.yaml", renamed)), "--json").stdout)
    replaced = {
        resource["address"]: {attribute["path"]: attribute["after"] for attribute in resource["attributes"]}
        for resource in shown["resources"]
        if resource["type"] == "aws_cloudwatch_metric_alarm" and resource["action"] == "replace"
    }
    assert sorted(after["alarm_name"] for after in replaced.values()) == sorted(
        name.replace(f"{table}/", f"{table}-renamed/", 1) for name in expected
    )

    # 3. A new index brings its own alarms and leaves the others as they were.
    before = {name: alarm["AlarmConfigurationUpdatedTimestamp"] for name, alarm in alarms.items()}
    document["spec"]["attributeDefinitions"].append({"name": "customer", "type": "S"})
    document["spec"]["globalSecondaryIndexes"].append(_gsi("by-customer", "customer"))
    cli.ok("tofu", "apply", "-f", str(_write(manifest, document)), "--auto-approve")
    alarms = _alarms(cloudwatch, table)
    added = {
        f"{table}/index/by-customer/{kind}"
        for kind in ("ReadThrottleEvents", "WriteThrottleEvents", "ReadCapacityUtilization", "WriteCapacityUtilization")
    }
    assert set(alarms) == expected | added
    assert {name: alarms[name]["AlarmConfigurationUpdatedTimestamp"] for name in before} == before
    _check_metric_alarm(
        alarms[f"{table}/index/by-customer/WriteThrottleEvents"],
        metric="WriteThrottleEvents",
        statistic="Sum",
        dimensions={"TableName": table, "GlobalSecondaryIndexName": "by-customer"},
        threshold=10,
        period=60,
        evaluations=3,
        topic=topic,
    )

    # 4. Without spec.alarms, no alarm is left; the table stays.
    del document["spec"]["alarms"]
    cli.ok("tofu", "apply", "-f", str(_write(manifest, document)), "--auto-approve")
    assert _alarms(cloudwatch, table) == {}
    assert _outputs(cli, manifest).get("alarm_arns", {}) == {}
    assert client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"

    cli.ok("tofu", "destroy", "-f", str(manifest), "--auto-approve")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=table)


def test_defaults_in_the_flat_dialect_on_demand_and_destroy(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """``alarms: {enabled: true}`` alone: every default, no capacity alarm on an on-demand table
    (it has no provisioned capacity), no actions without a topic; destroy takes the alarms too."""
    cloudwatch = _client("cloudwatch", moto_endpoint)
    client = dynamodb(moto_endpoint, REGION)
    table = f"defaults-{uuid.uuid4().hex[:6]}"
    document = {
        "apiVersion": "aws.project-planton.org/v1",
        "kind": "AwsDynamodb",
        "metadata": {"name": table},
        "spec": {
            "aws_region": REGION,
            "billing_mode": "PAY_PER_REQUEST",
            "partition_key_name": "id",
            "partition_key_type": "STRING",
            "alarms": {"enabled": True},
        },
    }
    manifest = _write(tmp_path / "flat.yaml", document)
    cli.ok("tofu", "apply", "-f", str(manifest), "--auto-approve")
    alarms = _alarms(cloudwatch, table)
    assert set(alarms) == {
        f"{table}/ReadThrottleEvents",
        f"{table}/WriteThrottleEvents",
        f"{table}/SystemErrors",
        f"{table}/SuccessfulRequestLatency/GetItem",
        f"{table}/SuccessfulRequestLatency/PutItem",
        f"{table}/SuccessfulRequestLatency/Query",
    }
    common = {"dimensions": {"TableName": table}, "period": 60, "topic": None}
    _check_metric_alarm(
        alarms[f"{table}/ReadThrottleEvents"],
        metric="ReadThrottleEvents",
        statistic="Sum",
        threshold=0,
        evaluations=5,
        **common,
    )
    _check_metric_alarm(
        alarms[f"{table}/SystemErrors"], metric="SystemErrors", statistic="Sum", threshold=0, evaluations=15, **common
    )
    _check_metric_alarm(
        alarms[f"{table}/SuccessfulRequestLatency/PutItem"],
        metric="SuccessfulRequestLatency",
        statistic="Average",
        dimensions={"TableName": table, "Operation": "PutItem"},
        threshold=100,
        period=60,
        evaluations=10,
        topic=None,
    )

    cli.ok("tofu", "destroy", "-f", str(manifest), "--auto-approve")
    assert _alarms(cloudwatch, table) == {}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=table)
