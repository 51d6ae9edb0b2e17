"""What a workspace's state records about the table.

The state is read through one seam, ``parse_state``: the local backend's file as it is, an S3
state's object as it is (``read_s3_state``; ``terraform state pull`` for the state a workspace
kept before a migration: ``operations/session.py`` and ``initialise.py`` choose). Read after init
and before anything plans: the table's account binds the run to it (``accounts.py``), and
``guards.py`` compares the rest with the manifest (what terraform would get wrong, and the order
the local indexes are recorded in); after an interruption it tells what terraform really left
(was the table recorded? tainted?). Whether a plan may be applied is decided on the plan itself
(``plan.py``).

A state that cannot be read, or is not a terraform state, is an error (``StateUnreadable``),
never "no state": every data-safety guard reads it, and would be skipped without a word.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planton.errors import EnvironmentNotReady
from planton.s3 import S3Location, read_object, s3_client

_TYPE = "aws_dynamodb_table"
_NAME = "this"
# The module's record of the local indexes, whose change replaces the table.
_TRIGGER_TYPE = "terraform_data"
_TRIGGER_NAME = "local_indexes"


@dataclass(frozen=True)
class RecordedTable:
    """The table as the state records it: its name, its region and account (from its ARN),
    whether it is tainted, and its attribute types by name."""

    name: str
    tainted: bool
    region: str | None = None
    # The AWS account the table lives in: its ARN's, else (a half-created table has no ARN) the
    # account the credentials of the apply that recorded it belonged to.
    account: str | None = None
    attribute_types: Mapping[str, str] = field(default_factory=dict)
    managed_by_planton: bool = False
    # The PlantonManifest tag: the key of the planton manifest that manages the table, wherever
    # its state is (None: a table made before planton tagged it, or by something else).
    manifest_key: str | None = None
    deletion_protection: bool = False
    # (name, sort key, projection type, sorted non-key attributes) of each local index; None
    # when the state does not say (an older state, or a half-created table).
    local_indexes: tuple[tuple[str, str, str, tuple[str, ...]], ...] | None = None
    # The same in the order the last apply gave them, non-key attributes too: the module's
    # trigger (terraform_data.local_indexes) records that order, and the provider each index's
    # non-key attributes; a change in either would replace the table. Read from the trigger's
    # input, else (no trigger recorded yet) from the table's own entries, sorted by name. None
    # when the state says neither.
    local_index_order: tuple[tuple[str, str, str, tuple[str, ...]], ...] | None = None
    # Where an on-demand maximum is set: "table" and/or the names of global indexes.
    capped: frozenset[str] = frozenset()
    # The customer-managed KMS key the last apply used (the module's kms_key_arn output).
    customer_kms_key: str | None = None
    # The attribute TTL reads, while TTL is on.
    ttl_attribute: str | None = None


CORRUPT_STATE_ADVICE = (
    "planton reads no further: every data-safety check reads the state, and a state read as empty would let an "
    "apply create the table again or lose track of it. Restore it (terraform.tfstate.backup beside a local state; "
    "an earlier version of the object in a versioned bucket), or move it aside and adopt the table again with "
    "`planton tofu import`"
)


class StateUnreadable(EnvironmentNotReady):
    """The state exists but cannot be read as a terraform state; nothing was run on it."""


def parse_state(text: str, where: str) -> Mapping[str, Any] | None:
    """The state document in ``text`` (read from ``where``, for the message); None when there is
    no state (no text at all: terraform's own reading of an empty file). Anything else that is
    not a terraform state is ``StateUnreadable``."""
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        document, problem = None, f"it is not JSON ({err.msg} at line {err.lineno})"
    else:
        problem = "it is JSON, but not a terraform state (no version and resources)"
    if (
        isinstance(document, dict)
        and isinstance(document.get("version"), int)
        and isinstance(document.get("resources", []), list)
    ):
        return document
    raise StateUnreadable(f"the state at {where} is corrupt: {problem}. {CORRUPT_STATE_ADVICE}")


def read_local_state(state_path: Path) -> Mapping[str, Any] | None:
    """The local backend's state file: None when there is none (or it is empty)."""
    try:
        text = state_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise StateUnreadable(f"cannot read the state {state_path}: {why}") from None
    return parse_state(text, str(state_path))


def outputs_in_state(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """The root module's outputs a state records, by name: what ``terraform output -json`` reads
    from the same state (its values only). None (no state) records none."""
    return output_values(document.get("outputs") if document is not None else None)


def output_values(outputs: Any) -> dict[str, Any]:
    """Each output's value by name, from outputs as a state records them and ``output -json``
    prints them alike (``{name: {"value": ..., ...}}``); anything else holds none."""
    if not isinstance(outputs, Mapping):
        return {}
    return {
        str(name): entry.get("value")
        for name, entry in outputs.items()
        if isinstance(entry, Mapping) and "value" in entry
    }


def foreign_resources(document: Mapping[str, Any] | None, known: frozenset[tuple[str, str, str]]) -> list[str]:
    """The resources a state holds that the configuration planton runs never makes (``known``:
    (mode, type, name) of each): the state is another project's, and applying here would delete
    them. Their addresses, as terraform writes them."""
    found = []
    for resource in _list(document, "resources"):
        mode, kind, name = (str(resource.get(part)) for part in ("mode", "type", "name"))
        if resource.get("module") or (mode, kind, name) not in known:
            prefix = f"{resource['module']}." if resource.get("module") else ""
            found.append(f"{prefix}{'data.' if mode == 'data' else ''}{kind}.{name}")
    return found


def read_s3_state(location: S3Location, environ: Mapping[str, str]) -> Mapping[str, Any] | None:
    """The state object at ``location``, read directly (a run's own state, a migration's target,
    the workspaces ``state list`` shows): None when there is none."""
    content = read_object(s3_client(location, environ), location.bucket, location.key)
    if content is None:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise StateUnreadable(f"the state at {location.url} is not text: {err}") from None
    return parse_state(text, location.url)


def recorded_table(state_path: Path) -> RecordedTable | None:
    """The table in a local state file, or None when there is no state or it records no table;
    ``StateUnreadable`` when the file cannot be read or is corrupt."""
    return table_in_state(read_local_state(state_path))


def table_in_state(document: Mapping[str, Any] | None) -> RecordedTable | None:
    """The table a state document records, or None when it records none."""
    for resource in _list(document, "resources"):
        if resource.get("mode") == "managed" and resource.get("type") == _TYPE and resource.get("name") == _NAME:
            for instance in _list(resource, "instances"):
                attributes = instance.get("attributes")
                if not isinstance(attributes, Mapping):
                    attributes = {}
                return RecordedTable(
                    name=str(attributes.get("name") or "?"),
                    tainted=instance.get("status") == "tainted",
                    region=arn_region(attributes.get("arn")),
                    account=arn_account(attributes.get("arn")) or _caller_account(document),
                    attribute_types={
                        str(item.get("name")): str(item.get("type"))
                        for item in _list(attributes, "attribute")
                        if item.get("name") and item.get("type")
                    },
                    managed_by_planton=_tag(attributes, "ManagedBy") == "planton",
                    manifest_key=_text(_tag(attributes, "PlantonManifest")),
                    deletion_protection=attributes.get("deletion_protection_enabled") is True,
                    local_indexes=_local_indexes(attributes),
                    local_index_order=_local_index_order(document, attributes),
                    capped=_capped(attributes),
                    customer_kms_key=_output(document, "kms_key_arn"),
                    ttl_attribute=next(
                        (
                            str(ttl.get("attribute_name"))
                            for ttl in _list(attributes, "ttl")
                            if ttl.get("enabled") is True and ttl.get("attribute_name")
                        ),
                        None,
                    ),
                )
    return None


def _local_indexes(attributes: Mapping[str, Any]) -> tuple[tuple[str, str, str, tuple[str, ...]], ...] | None:
    if not isinstance(attributes.get("local_secondary_index"), list):
        return None
    return tuple(
        (name, sort_key, projection, tuple(sorted(names)))
        for name, sort_key, projection, names in (
            _index_entry(index, "range_key") for index in _list(attributes, "local_secondary_index")
        )
    )


def _index_entry(index: Mapping[str, Any], sort_key: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(name, sort key, projection type, non-key attributes as recorded) of one local index;
    ``sort_key`` names the field the sort key is recorded in."""
    names = index.get("non_key_attributes")
    return (
        str(index.get("name")),
        str(index.get(sort_key)),
        str(index.get("projection_type")),
        tuple(str(name) for name in names) if isinstance(names, list) else (),
    )


def _local_index_order(
    document: Any, attributes: Mapping[str, Any]
) -> tuple[tuple[str, str, str, tuple[str, ...]], ...] | None:
    recorded = _trigger_order(document)
    return recorded if recorded is not None else _entries_order(attributes)


def _trigger_order(document: Any) -> tuple[tuple[str, str, str, tuple[str, ...]], ...] | None:
    """The local indexes as ``terraform_data.local_indexes`` recorded them (its input's
    ``indexes``), in that order; None when the state has no such record."""
    for resource in _list(document, "resources"):
        if (resource.get("mode"), resource.get("type"), resource.get("name")) != (
            "managed",
            _TRIGGER_TYPE,
            _TRIGGER_NAME,
        ):
            continue
        for instance in _list(resource, "instances"):
            attributes = instance.get("attributes")
            given = attributes.get("input") if isinstance(attributes, Mapping) else None
            value = given.get("value") if isinstance(given, Mapping) else None
            if not isinstance(value, Mapping) or not isinstance(value.get("indexes"), list):
                return None
            return tuple(_index_entry(index, "sort_key_name") for index in _list(value, "indexes"))
    return None


def _entries_order(attributes: Mapping[str, Any]) -> tuple[tuple[str, str, str, tuple[str, ...]], ...] | None:
    """The table's local index entries (a set: their order means nothing, so by name), each with
    its non-key attributes in the order the provider recorded them."""
    if not isinstance(attributes.get("local_secondary_index"), list):
        return None
    return tuple(sorted(_index_entry(index, "range_key") for index in _list(attributes, "local_secondary_index")))


def _capped(attributes: Mapping[str, Any]) -> frozenset[str]:
    def limited(owner: Mapping[str, Any]) -> bool:
        return any(
            isinstance(value, int) and value > 0
            for limits in _list(owner, "on_demand_throughput")
            for value in (limits.get("max_read_request_units"), limits.get("max_write_request_units"))
        )

    capped = {"table"} if limited(attributes) else set()
    capped |= {str(index.get("name")) for index in _list(attributes, "global_secondary_index") if limited(index)}
    return frozenset(capped)


def _output(document: Any, name: str) -> str | None:
    outputs = document.get("outputs") if isinstance(document, Mapping) else None
    entry = outputs.get(name) if isinstance(outputs, Mapping) else None
    value = entry.get("value") if isinstance(entry, Mapping) else None
    return value if isinstance(value, str) and value else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _tag(attributes: Mapping[str, Any], key: str) -> Any:
    tags = attributes.get("tags")
    return tags.get(key) if isinstance(tags, Mapping) else None


def arn_region(arn: Any) -> str | None:
    """``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`` -> REGION."""
    return _arn_part(arn, 3)


def arn_account(arn: Any) -> str | None:
    """``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`` -> ACCOUNT."""
    return _arn_part(arn, 4)


def _arn_part(arn: Any, position: int) -> str | None:
    if not isinstance(arn, str):
        return None
    parts = arn.split(":")
    return (parts[position] or None) if len(parts) > 5 else None


def caller_account(resources: Any) -> str | None:
    """The account of ``data.aws_caller_identity.current`` among a state's (or a plan's prior
    state's) resources: whose credentials the run that read it had."""
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, Mapping) or resource.get("type") != "aws_caller_identity":
            continue
        if resource.get("mode") != "data" or resource.get("name") != "current":
            continue
        # A state holds instances of attributes; a plan's prior state holds values.
        for values in [item.get("attributes") for item in _list(resource, "instances")] + [resource.get("values")]:
            account = values.get("account_id") if isinstance(values, Mapping) else None
            if isinstance(account, str) and account:
                return account
    return None


def _caller_account(document: Any) -> str | None:
    return caller_account(document.get("resources") if isinstance(document, Mapping) else None)


def _list(document: Any, key: str) -> list[Mapping[str, Any]]:
    items = document.get(key) if isinstance(document, Mapping) else None
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []
