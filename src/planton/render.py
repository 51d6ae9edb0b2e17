"""TableDefinition -> the variables of the bundled module (``terraform.tfvars.json``).

Pure: no files, no environment. Credentials are never part of the variables; they reach
terraform through its process environment only (see ``credentials.py``).
"""

from __future__ import annotations

import json
from typing import Any

from planton.table import (
    Alarms,
    AlarmWindow,
    AutoScaling,
    GlobalIndex,
    LocalIndex,
    OnDemandThroughput,
    Projection,
    TableDefinition,
)

VARIABLES_FILE = "terraform.tfvars.json"


def render_variables(table: TableDefinition, region: str) -> dict[str, Any]:
    """The module's ``metadata`` and ``spec`` variables, with ``region`` as the effective region,
    and the manifest's key (tagged on the table as PlantonManifest)."""
    identity = table.identity
    return {
        "manifest_key": identity.key,
        "alarms": _alarms(table.alarms),
        "metadata": {
            "name": identity.name,
            "id": identity.id,
            "org": identity.org,
            "env": identity.env,
            "labels": dict(identity.labels),
            "annotations": dict(identity.annotations),
            "tags": list(identity.tags),
        },
        "spec": {
            "table_name": table.table_name,
            "aws_region": region,
            "billing_mode": table.billing_mode.value,
            "attributes": [{"name": a.name, "type": a.type.value} for a in table.attributes],
            "partition_key_name": table.partition_key.name,
            "sort_key_name": table.sort_key.name if table.sort_key else None,
            "read_capacity_units": table.read_capacity_units,
            "write_capacity_units": table.write_capacity_units,
            "point_in_time_recovery_enabled": table.point_in_time_recovery_enabled,
            "point_in_time_recovery_period_days": table.point_in_time_recovery_period_days,
            "server_side_encryption_enabled": table.server_side_encryption_enabled,
            "kms_key": table.kms_key,
            "global_secondary_indexes": [_global_index(index) for index in table.global_indexes],
            "local_secondary_indexes": [_local_index(index) for index in table.local_indexes],
            "ttl_attribute_name": table.ttl_attribute,
            "stream_view_type": table.stream_view_type.value if table.stream_view_type else None,
            "table_class": table.table_class.value,
            "deletion_protection_enabled": table.deletion_protection_enabled,
            "contributor_insights_enabled": table.contributor_insights_enabled,
            "tags": dict(table.tags),
            "autoscaling": _autoscaling(table.autoscaling),
            **_on_demand(table.on_demand_throughput),
        },
    }


def _projection(projection: Projection) -> dict[str, Any]:
    return {"projection_type": projection.type.value, "non_key_attributes": list(projection.non_key_attributes)}


def _global_index(index: GlobalIndex) -> dict[str, Any]:
    return {
        "name": index.name,
        "partition_key_name": index.partition_key.name,
        "sort_key_name": index.sort_key.name if index.sort_key else None,
        **_projection(index.projection),
        "read_capacity_units": index.read_capacity_units,
        "write_capacity_units": index.write_capacity_units,
        **_on_demand(index.on_demand_throughput),
        "autoscaling": _autoscaling(index.autoscaling),
    }


def _local_index(index: LocalIndex) -> dict[str, Any]:
    return {"name": index.name, "sort_key_name": index.sort_key.name, **_projection(index.projection)}


def _on_demand(throughput: OnDemandThroughput | None) -> dict[str, int | None]:
    return {
        "max_read_request_units": throughput.max_read_request_units if throughput else None,
        "max_write_request_units": throughput.max_write_request_units if throughput else None,
    }


def _autoscaling(scaling: AutoScaling | None) -> dict[str, Any] | None:
    if scaling is None:
        return None
    return {
        dimension: None
        if policy is None
        else {
            "min_capacity": policy.min_capacity,
            "max_capacity": policy.max_capacity,
            "target_utilization": policy.target_utilization,
        }
        for dimension, policy in (("read", scaling.read), ("write", scaling.write))
    }


def _alarms(alarms: Alarms | None) -> dict[str, Any] | None:
    """The module's ``alarms`` variable: null for none; each kind on with every setting given,
    or ``{"enabled": false}``."""
    if alarms is None:
        return None

    def kind(window: AlarmWindow | None, threshold: str, **more: Any) -> dict[str, Any]:
        if window is None:
            return {"enabled": False}
        return {
            "enabled": True,
            threshold: _number(window.threshold),
            "period": window.period,
            "evaluation_periods": window.evaluation_periods,
            **more,
        }

    return {
        "sns_topic_arn": alarms.sns_topic_arn,
        "throttles": kind(alarms.throttles, "threshold"),
        "system_errors": kind(alarms.system_errors, "threshold"),
        "latency": kind(alarms.latency, "threshold_ms", operations=list(alarms.latency_operations)),
        "capacity": kind(alarms.capacity, "percent"),
    }


def _number(value: float) -> int | float:
    """80 rather than 80.0 when the value is whole (the manifest may give either)."""
    return int(value) if float(value).is_integer() else value


def variables_json(variables: dict[str, Any]) -> str:
    """Stable, human-diffable JSON for the variables file."""
    return json.dumps(variables, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
