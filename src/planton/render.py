"""TableDefinition -> the variables of the bundled module (``terraform.tfvars.json``).

Pure: no files, no environment. Credentials are never part of the variables; they reach
terraform through its process environment only (see ``credentials.py``).
"""

from __future__ import annotations

import json
from typing import Any

from planton.table import TableDefinition

VARIABLES_FILE = "terraform.tfvars.json"


def render_variables(table: TableDefinition, region: str) -> dict[str, Any]:
    """The module's ``metadata`` and ``spec`` variables, with ``region`` as the effective region."""
    identity = table.identity
    return {
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
            "server_side_encryption_enabled": table.server_side_encryption_enabled,
        },
    }


def variables_json(variables: dict[str, Any]) -> str:
    """Stable, human-diffable JSON for the variables file."""
    return json.dumps(variables, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
