"""The seed's best practices as findings, and the team policy that decides which of them stop a
command: ``TableDefinition`` + ``Policy`` -> findings. Pure: nothing read or written here
(``policy_file`` reads a team's policy; ``manifest.fields`` names each field as the user spelled
it, through the ``FieldNames`` protocol, so this module knows no manifest dialect).

Each rule has a stable code, and names the well-known rules that check the same thing once the
HCL is written: checkov, trivy, AWS Config and Security Hub.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from planton.findings import Finding, Severity
from planton.table import BillingMode, ScalingPolicy, TableDefinition, is_steering_label


@dataclass(frozen=True)
class Rule:
    """A best practice planton checks: its code, what it checks, and the well-known rules that
    check the same thing."""

    code: str
    checks: str
    rules: tuple[str, ...] = ()


PRODUCTION_PITR = Rule(
    "production-point-in-time-recovery",
    "a production table has point-in-time recovery",
    ("checkov CKV_AWS_28", "trivy AWS-0024", "AWS Config dynamodb-pitr-enabled", "Security Hub DynamoDB.2"),
)
PRODUCTION_DELETION_PROTECTION = Rule(
    "production-deletion-protection",
    "a production table has deletion protection",
    ("AWS Config dynamodb-table-deletion-protection-enabled", "Security Hub DynamoDB.6"),
)
PRODUCTION_ENCRYPTION = Rule(
    "production-encryption",
    "a production table is encrypted with a KMS key (server-side encryption on)",
    ("AWS Config dynamodb-table-encryption-enabled",),
)
PRODUCTION_CUSTOMER_KEY = Rule(
    "production-customer-managed-key",
    "a production table with server-side encryption uses a customer-managed KMS key",
    ("checkov CKV_AWS_119", "trivy AWS-0025", "AWS Config dynamodb-table-encrypted-kms"),
)
AUTOSCALING = Rule(
    "provisioned-without-autoscaling",
    "a PROVISIONED table or global index scales its reads and writes",
    ("checkov CKV2_AWS_16", "AWS Config dynamodb-autoscaling-enabled", "Security Hub DynamoDB.1"),
)
TABLE_NAME_PATTERN = Rule("table-name-pattern", "the table's name follows the team's pattern (policy)")
LOW_CARDINALITY_KEY = Rule(
    "low-cardinality-partition-key",
    "a partition key's name does not suggest few distinct values (status, type, a date, a flag)",
)
LOCAL_INDEX = Rule(
    "local-secondary-index",
    "a local secondary index's limits are known: 10 GB per partition key value, created with the table only",
)
AWS_MANAGED_KEY = Rule(
    "aws-managed-key-as-customer-key",
    "the customer-managed key is not the AWS managed key's alias (alias/aws/dynamodb)",
    ("trivy AWS-0025",),
)
REQUIRED_TAGS = Rule(
    "required-tags",
    "the table carries every tag the team requires (policy)",
    ("AWS Config required-tags", "Security Hub DynamoDB.5"),
)

RULES: Mapping[str, Rule] = {
    rule.code: rule
    for rule in (
        PRODUCTION_PITR,
        PRODUCTION_DELETION_PROTECTION,
        PRODUCTION_ENCRYPTION,
        PRODUCTION_CUSTOMER_KEY,
        AUTOSCALING,
        TABLE_NAME_PATTERN,
        LOW_CARDINALITY_KEY,
        LOCAL_INDEX,
        AWS_MANAGED_KEY,
        REQUIRED_TAGS,
    )
}

DEFAULT_PRODUCTION_ENVS = ("prod", "production")


@dataclass(frozen=True)
class Policy:
    """A team's policy (``[tool.planton]`` in pyproject.toml, or planton.toml); the default is
    every finding a warning, production by ``metadata.env``, no name pattern, no required tags."""

    errors: frozenset[str] = frozenset()
    off: frozenset[str] = frozenset()
    # Every finding is an error (``--strict``), except those the policy turns off.
    strict: bool = False
    # metadata.env values (compared case-insensitively) that make a manifest production...
    production_envs: tuple[str, ...] = DEFAULT_PRODUCTION_ENVS
    # ...and labels any one of which does.
    production_labels: Mapping[str, str] = field(default_factory=dict)
    table_name_pattern: str | None = None
    required_tags: tuple[str, ...] = ()
    # Where the policy was read from (None: the default).
    source: str | None = None

    def severity(self, code: str) -> Severity | None:
        """What a finding of ``code`` is under this policy (None: off)."""
        if code in self.off:
            return None
        return Severity.ERROR if self.strict or code in self.errors else Severity.WARNING

    def strictly(self) -> Policy:
        """This policy under ``--strict``."""
        return replace(self, strict=True)


class FieldNames(Protocol):
    """Each field a finding is about, as the manifest spells it (dialect and case)."""

    def table_name(self) -> str: ...
    def point_in_time_recovery(self) -> str: ...
    def deletion_protection(self) -> str: ...
    def encryption(self) -> str: ...
    def kms_key(self) -> str: ...
    def autoscaling(self, index: str | None) -> str: ...
    def partition_key(self, index: str | None) -> str: ...
    def local_index(self, index: str) -> str: ...
    def labels(self) -> str: ...
    def tags(self) -> str: ...
    def billing_mode(self) -> str: ...


def is_production(table: TableDefinition, policy: Policy) -> str | None:
    """Why the manifest is production under ``policy`` (None: it is not)."""
    identity = table.identity
    if identity.env is not None and identity.env.lower() in {env.lower() for env in policy.production_envs}:
        return f"metadata.env is {identity.env}"
    for key, value in policy.production_labels.items():
        if identity.labels.get(key) == value:
            return f"labelled {key}={value}"
    return None


def findings(table: TableDefinition, names: FieldNames, policy: Policy) -> tuple[Finding, ...]:
    """Every best-practice finding for ``table`` under ``policy``, in the order of RULES, each
    with the severity the policy gives it (off: left out)."""
    found: list[tuple[Rule, str, str, str]] = []  # rule, field, message, fix
    production = is_production(table, policy)
    if production is not None:
        found += _production(table, names, production)
    found += _autoscaling(table, names)
    if policy.table_name_pattern is not None and not re.fullmatch(policy.table_name_pattern, table.table_name):
        found.append(
            (
                TABLE_NAME_PATTERN,
                names.table_name(),
                f"the table name {table.table_name!r} does not match the team's pattern {policy.table_name_pattern}",
                "rename it to match (the policy in " + (policy.source or "the policy file") + " sets the pattern)",
            )
        )
    found += _low_cardinality(table, names)
    found += [
        (
            LOCAL_INDEX,
            names.local_index(index.name),
            f"local index {index.name}: items that share a partition key value are limited to 10 GB in all "
            "(an item collection), and a local index can only be added or removed by replacing the table",
            "use a global secondary index unless you need strongly consistent reads on this index",
        )
        for index in table.local_indexes
    ]
    # (In production, production-customer-managed-key says this already, with the fix that holds.)
    covered = production is not None and table.server_side_encryption_enabled
    if table.kms_key is not None and _is_aws_managed_key(table.kms_key) and not covered:
        found.append(
            (
                AWS_MANAGED_KEY,
                names.kms_key(),
                f"{table.kms_key} is the AWS managed key for DynamoDB, not a customer-managed key: its key "
                "policy and rotation are AWS's",
                f"remove {names.kms_key()} to use the AWS managed key, or name a key your team manages",
            )
        )
    missing = [key for key in policy.required_tags if key not in tag_keys(table)]
    if missing:
        found.append(
            (
                REQUIRED_TAGS,
                names.labels(),
                f"the table lacks the tag{'s' if len(missing) > 1 else ''} the team requires: {', '.join(missing)}",
                f"add {'them' if len(missing) > 1 else 'it'} under {names.labels()} (or {names.tags()})",
            )
        )
    result: list[Finding] = []
    for rule, where, message, fix in found:
        severity = policy.severity(rule.code)
        if severity is not None:
            result.append(
                Finding(
                    code=rule.code,
                    message=message,
                    fix=fix,
                    field=where,
                    severity=severity,
                    rules=rule.rules,
                    coded=True,
                )
            )
    return tuple(result)


def _production(table: TableDefinition, names: FieldNames, why: str) -> list[tuple[Rule, str, str, str]]:
    found: list[tuple[Rule, str, str, str]] = []
    if not table.point_in_time_recovery_enabled:
        found.append(
            (
                PRODUCTION_PITR,
                names.point_in_time_recovery(),
                f"a production table ({why}) without point-in-time recovery: a bad write or delete cannot be undone",
                f"set {names.point_in_time_recovery()}: true",
            )
        )
    if not table.deletion_protection_enabled:
        found.append(
            (
                PRODUCTION_DELETION_PROTECTION,
                names.deletion_protection(),
                f"a production table ({why}) without deletion protection: one DeleteTable call loses it",
                f"set {names.deletion_protection()}: true",
            )
        )
    if not table.server_side_encryption_enabled:
        found.append(
            (
                PRODUCTION_ENCRYPTION,
                names.encryption(),
                f"a production table ({why}) encrypted only with a key AWS owns: no KMS key, so no key policy or "
                "CloudTrail record of its use",
                f"set {names.encryption()}: true (and {names.kms_key()} to a key your team manages)",
            )
        )
    elif table.kms_key is None or _is_aws_managed_key(table.kms_key):
        found.append(
            (
                PRODUCTION_CUSTOMER_KEY,
                names.kms_key(),
                f"a production table ({why}) encrypted with the AWS managed key"
                + (f" ({table.kms_key} is its alias)" if table.kms_key else "")
                + ", not a customer-managed one",
                f"set {names.kms_key()} to a KMS key your team manages (an ARN, key id or alias)",
            )
        )
    return found


def _autoscaling(table: TableDefinition, names: FieldNames) -> list[tuple[Rule, str, str, str]]:
    if table.billing_mode is not BillingMode.PROVISIONED:
        return []
    found: list[tuple[Rule, str, str, str]] = []
    owners: list[tuple[str | None, str, ScalingPolicy | None, ScalingPolicy | None]] = [
        (
            None,
            "the table",
            table.autoscaling.read if table.autoscaling else None,
            table.autoscaling.write if table.autoscaling else None,
        )
    ]
    owners += [
        (
            index.name,
            f"global index {index.name}",
            index.autoscaling.read if index.autoscaling else None,
            index.autoscaling.write if index.autoscaling else None,
        )
        for index in table.global_indexes
    ]
    for index, what, read, write in owners:
        unscaled = [name for name, policy in (("reads", read), ("writes", write)) if policy is None]
        if not unscaled:
            continue
        found.append(
            (
                AUTOSCALING,
                names.autoscaling(index),
                f"{what} is PROVISIONED and its {' and '.join(unscaled)} do not scale: traffic above the capacity "
                "is throttled, and capacity above the traffic is paid for",
                f"add {names.autoscaling(index)} with {' and '.join(unscaled)} (min, max, target), or set "
                f"{names.billing_mode()}: PAY_PER_REQUEST",
            )
        )
    return found


# Words in a partition key's name that suggest few distinct values, so that a few partitions take
# most of the traffic (a hot partition): a status or kind, a date, a yes/no flag.
_FEW_VALUES = frozenset(
    {
        "status",
        "state",
        "type",
        "kind",
        "category",
        "date",
        "day",
        "month",
        "year",
        "flag",
        "bool",
        "boolean",
        "enabled",
        "active",
        "deleted",
    }
)
_FLAG_PREFIXES = frozenset({"is", "has", "can", "should"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def low_cardinality_reason(name: str) -> str | None:
    """Why a partition key named ``name`` suggests few distinct values (None: it does not)."""
    words = [word.lower() for word in _WORDS.findall(name)]
    if not words:
        return None
    if words[0] in _FLAG_PREFIXES and len(words) > 1:
        return "reads as a yes/no flag"
    if words[-1] in _FEW_VALUES:
        return f"reads as a {words[-1]}"
    return None


def _low_cardinality(table: TableDefinition, names: FieldNames) -> list[tuple[Rule, str, str, str]]:
    keys: list[tuple[str | None, str, str]] = [(None, "the table", table.partition_key.name)]
    keys += [(index.name, f"global index {index.name}", index.partition_key.name) for index in table.global_indexes]
    found: list[tuple[Rule, str, str, str]] = []
    for index, what, name in keys:
        reason = low_cardinality_reason(name)
        if reason is None:
            continue
        found.append(
            (
                LOW_CARDINALITY_KEY,
                names.partition_key(index),
                f"{what}'s partition key {name!r} {reason}, which has few distinct values: a few partitions would "
                "take most reads and writes (a hot partition) and throttle",
                "use a key with many distinct values (an id), or add a suffix that spreads the writes",
            )
        )
    return found


def _is_aws_managed_key(key: str) -> bool:
    return key == "alias/aws/dynamodb" or key.endswith(":alias/aws/dynamodb")


def tag_keys(table: TableDefinition) -> set[str]:
    """The tag keys the module puts on the table (main.tf's ``tags``)."""
    identity = table.identity
    keys = {key for key in identity.labels if not is_steering_label(key)}
    keys |= set(table.tags)
    keys |= {"Name", "ManagedBy", "PlantonManifest"}
    keys |= {"Environment"} if identity.env is not None else set()
    keys |= {"Organization"} if identity.org is not None else set()
    return keys


def known_codes() -> Sequence[str]:
    """Every best-practice finding's code, in the order they are checked."""
    return list(RULES)
