"""What a saved terraform plan would do to the table, and whether planton lets it happen.

Pure: reads the JSON of ``terraform show -json PLANFILE`` (tofu writes the same format) and
returns a decision; nothing here runs terraform. Tested on plans recorded from terraform and
moto (``tests/fixtures/plans``).

A plan is dangerous when applying it would lose a table or its items:

* it deletes the table, or replaces it (delete and create again: every item is lost), for a key,
  name or attribute-type change or because terraform marked the table tainted;
* it creates a table while the state held one that is no longer found where the manifest now
  looks: a region change, where terraform would forget the old table and leave it billed and
  unmanaged in its old region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Defined beside the other errors (plan_summary raises it too); re-exported for plan's callers.
from planton.errors import PlanUnreadable as PlanUnreadable
from planton.plan_json import change_of
from planton.plan_summary import PlanSummary, summarise
from planton.records import InterruptedCreate
from planton.state import RecordedTable, arn_region, caller_account

TABLE_ADDRESS = "aws_dynamodb_table.this"
# The plan JSON's major version planton understands; a new major may move what it reads.
SUPPORTED_FORMAT_MAJOR = 1

TAINTED = "replace_because_tainted"

# The module's resource arguments that force a replacement, in words that fit either dialect.
_FIELDS_OF = {
    "name": "the table name",
    "hash_key": "the partition key",
    "range_key": "the sort key",
    "attribute": "a key attribute's type",
    "local_secondary_index": "the local secondary indexes",
}


@dataclass(frozen=True)
class TableRef:
    """A table as the state or the plan names it."""

    name: str
    region: str | None

    def __str__(self) -> str:
        return f"{self.name} ({self.region})" if self.region else self.name


@dataclass(frozen=True)
class TableChange:
    """The plan's change to the table resource."""

    actions: tuple[str, ...]
    reason: str | None
    replace_paths: tuple[str, ...]
    before: TableRef | None
    after_name: str | None

    @property
    def replaces(self) -> bool:
        return "delete" in self.actions and "create" in self.actions

    @property
    def deletes(self) -> bool:
        return "delete" in self.actions


@dataclass(frozen=True)
class PlanReport:
    """What planton reads from a plan."""

    region: str | None
    table: TableChange | None
    vanished: TableRef | None
    changes: bool
    # The account whose credentials made the plan (the module's data.aws_caller_identity).
    account: str | None = None
    # The same plan for people: each resource's action and changing attributes.
    summary: PlanSummary = field(default_factory=lambda: summarise({}))


@dataclass(frozen=True)
class Decision:
    """What applying the plan would do, in words, and whether it loses a table.

    ``moved_from`` is the table left behind by a region change: it must be destroyed in its own
    region (only when the user agreed) before the new one is created, or it is orphaned.
    """

    changes: bool
    dangers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    moved_from: TableRef | None = None
    tainted_only: bool = False
    creates_table: bool = False
    # Reasons no agreement can override: applying would take over a table planton never made.
    blocked: tuple[str, ...] = ()

    @property
    def dangerous(self) -> bool:
        return bool(self.dangers)


# What a plan terraform said changes nothing is judged to be, when nothing else needs judging.
NO_CHANGES = Decision(changes=False)


def nothing_to_judge(
    *,
    terraform_saw_changes: bool,
    recorded: RecordedTable | None,
    table_name: str,
    region: str,
    requested_replacement: str | None,
    interrupted: InterruptedCreate | None,
) -> bool:
    """Whether ``decide`` would say ``NO_CHANGES`` of a plan without reading it: terraform said it
    changes nothing (``plan -detailed-exitcode`` exited 0: no resource or output would change),
    and the state's table is the one the manifest names, in the region it names, untainted, with
    no replacement asked for and no interrupted create of planton's own remembered.

    Then nothing in ``decide`` can fire: a move needs another region, an interrupted create's
    block and every danger need a change, and another account's plan is refused by the provider
    before it is made (runs are bound to the recorded table's account: ``bind_account``). A
    ``show -json`` (a second terraform process, the aws provider started again) would only read
    back that nothing happens. In every other case the plan is read and judged.
    """
    return (
        not terraform_saw_changes
        and recorded is not None
        and not recorded.tainted
        and recorded.name == table_name
        and recorded.region == region
        and requested_replacement is None
        and interrupted is None
    )


def read_plan(text: str) -> PlanReport:
    """Parse ``show -json`` output; ``PlanUnreadable`` when it is not a plan planton can judge."""
    try:
        document = json.loads(text)
    except ValueError as err:
        raise PlanUnreadable(f"terraform show -json did not print JSON ({err}); nothing was applied") from None
    if not isinstance(document, Mapping):
        raise PlanUnreadable("terraform show -json printed no plan object; nothing was applied")
    version = str(document.get("format_version", ""))
    major = version.split(".", 1)[0]
    if major != str(SUPPORTED_FORMAT_MAJOR):
        raise PlanUnreadable(
            f"terraform's plan format is {version or 'missing'}, and planton reads {SUPPORTED_FORMAT_MAJOR}.x; "
            "nothing was applied. Use a terraform/tofu release this planton supports, or upgrade planton"
        )
    region = _configured_region(document)
    table = next((_table_change(item) for item in _items(document, "resource_changes")), None)
    drifted = (_vanished(item) for item in _items(document, "resource_drift"))
    vanished = next((table for table in drifted if table is not None), None)
    # Any resource counts (indexes' triggers, auto scaling, contributor insights), not only the table.
    changes = any(
        tuple(change_of(item).get("actions", ())) not in ((), ("no-op",), ("read",))
        for item in _items(document, "resource_changes", address=None)
    ) or any(
        tuple(change.get("actions", ())) != ("no-op",)
        for change in (document.get("output_changes") or {}).values()
        if isinstance(change, Mapping)
    )
    prior = document.get("prior_state")
    values = prior.get("values") if isinstance(prior, Mapping) else None
    root = values.get("root_module") if isinstance(values, Mapping) else None
    account = caller_account(root.get("resources") if isinstance(root, Mapping) else None)
    return PlanReport(
        region=region,
        table=table,
        vanished=vanished,
        changes=changes,
        account=account,
        summary=summarise(document, region=region),
    )


def decide(
    report: PlanReport,
    recorded: RecordedTable | None = None,
    requested_replacement: str | None = None,
    interrupted: InterruptedCreate | None = None,
) -> Decision:
    """The decision for a plan: made by ``apply``, or a deletion (``plan --destroy``, ``destroy``
    when it asks), which is judged the same way, for its summary and whether it changes anything,
    while its danger is not held against it: deleting the table is what was asked.

    ``recorded`` is the table the workspace's state held before the plan (its region and account
    come from its ARN): when it is in another region than the manifest now names, the plan is
    judged a move whatever terraform planned, since terraform only looks in the new region (it
    may find nothing there, or a different table of the same name); a plan made with another
    account's credentials is never applied. ``requested_replacement`` says why planton itself
    asked terraform to replace the table (a key type change, which the aws provider would
    otherwise ignore). ``interrupted`` is planton's own create that was interrupted before the
    state recorded its table: a plan that creates another table (or the same in another region)
    would leave it behind, unmanaged.
    """
    change = report.table
    moved = _moved(report, recorded)
    blocked = _blocked_by_account(report, recorded) + _blocked_by_interrupted_create(report, recorded, interrupted)
    if (change is None or not report.changes) and moved is None and not blocked:
        return Decision(changes=report.changes)
    dangers: list[str] = []
    notes: list[str] = []
    tainted_only = False
    if moved is not None and change is not None and change.before is not None:
        blocked.append(
            f"a table named {change.before.name} already exists in {report.region}, and this workspace's table is "
            f"{moved.name} in {moved.region}: moving there would take over a table planton never made (and delete "
            f"{moved.name} to get there). Nothing was changed; keep spec.aws_region {moved.region}, or give the "
            "table another spec.table_name"
        )
    if moved is not None:
        dangers.append(
            f"spec.aws_region changed from {moved.region} to {report.region}: terraform looks for the table only in "
            f"{report.region}, and would forget {moved.name} in {moved.region}, leaving it unmanaged and still "
            f"billed; approving deletes {moved.name} in {moved.region} (and every item in it) first, if it still "
            "exists. If this manifest describes a different table, give it its own metadata.name or metadata.id "
            "instead (each gets its own workspace, and nothing is deleted)"
        )
    elif change is not None and change.replaces:
        old = change.before.name if change.before else (change.after_name or "the table")
        if change.reason == TAINTED and not change.replace_paths:
            tainted_only = True
            dangers.append(
                f"the plan replaces table {old}: terraform marked it tainted (an apply that did not finish), "
                "so it would delete the table and every item in it, then create it empty"
            )
        else:
            forced_by = (
                requested_replacement if requested_replacement and not change.replace_paths else _forced_by(change)
            )
            dangers.append(
                f"the plan replaces table {old}: it deletes the table and every item in it, then creates "
                f"it again, forced by {forced_by}"
            )
            if "name" in change.replace_paths and change.after_name and change.after_name != old:
                dangers.append(
                    f"this workspace holds table {old}, and the manifest names {change.after_name}; if the "
                    "manifest describes a different table, give it its own metadata.name or metadata.id "
                    "(each gets its own workspace, and nothing is deleted)"
                )
    elif change is not None and change.deletes:
        old = change.before.name if change.before else "the table"
        dangers.append(f"the plan deletes table {old} and every item in it")
    elif change is not None and "create" in change.actions and report.vanished is not None:
        gone = report.vanished
        if gone.region is None:
            dangers.append(
                f"this workspace's state records table {gone.name} without its region, and terraform did not find "
                f"it in {report.region}: if it lives in another region, terraform would forget it there, unmanaged "
                "and still billed, and create a new, empty table here"
            )
        elif change.after_name and change.after_name != gone.name:
            notes.append(
                f"table {gone}, which this workspace's state recorded, no longer exists (deleted outside "
                f"planton?); apply creates {change.after_name}, empty"
            )
        else:
            notes.append(f"table {gone} no longer exists (deleted outside planton?); apply creates it again, empty")
    return Decision(
        changes=True,
        dangers=tuple(dangers),
        notes=tuple(notes),
        moved_from=moved,
        tainted_only=tainted_only,
        creates_table=change is not None and "create" in change.actions,
        blocked=tuple(blocked),
    )


def _blocked_by_account(report: PlanReport, recorded: RecordedTable | None) -> list[str]:
    """The plan was made with credentials of another account than the recorded table's. (Runs
    are bound to the table's account, so the provider refuses such credentials before a plan is
    made; this is the judgement of the plan itself, should one ever get here.)"""
    if recorded is None or not recorded.account or not report.account or report.account == recorded.account:
        return []
    return [
        f"this workspace's state records table {recorded.name} in AWS account {recorded.account}, and this plan "
        f"was made with account {report.account}'s credentials: terraform did not find the table there, and "
        f"applying would act on account {report.account} and forget {recorded.name}. Nothing was changed; use "
        f"account {recorded.account}'s credentials"
    ]


def _blocked_by_interrupted_create(
    report: PlanReport, recorded: RecordedTable | None, interrupted: InterruptedCreate | None
) -> list[str]:
    """A create of planton's own was interrupted before the state recorded its table, and this
    plan creates another table, or the same in another region: the first would be left behind."""
    change = report.table
    if interrupted is None or recorded is not None or change is None or "create" not in change.actions:
        return []
    if change.after_name == interrupted.table_name and report.region in (None, interrupted.region):
        return []  # the same table: the create fails if it exists (and apply says so), or makes it
    where = f"{change.after_name} in {report.region}" if report.region else str(change.after_name)
    return [
        f"planton's apply of table {interrupted} was interrupted while AWS was creating it, and the state does "
        "not record it: it may exist, unmanaged, holding whatever was written to it since. This plan creates "
        f"{where} instead, which would leave {interrupted.table_name} behind. Nothing was changed. First adopt it, "
        f"or let planton find it gone: point the manifest back at {interrupted.table_name}"
        + (f" in {interrupted.region}" if interrupted.region else "")
        + " and run `planton tofu import` (it adopts the table if it exists, and forgets the interrupted create "
        "if AWS has no such table); then rename or move it with `planton tofu apply`, which asks first"
    ]


def _moved(report: PlanReport, recorded: RecordedTable | None) -> TableRef | None:
    """The table left behind in its old region, when the manifest's region is another."""
    if recorded is not None and recorded.region:
        if report.region and recorded.region != report.region:
            return TableRef(recorded.name, recorded.region)
        return None
    gone = report.vanished
    creates = report.table is not None and "create" in report.table.actions
    if creates and gone is not None and gone.region and report.region and gone.region != report.region:
        return gone
    return None


def _forced_by(change: TableChange) -> str:
    if not change.replace_paths and change.reason == "replace_by_triggers":
        # The module's only trigger: its local indexes changed.
        return "a change to the local secondary indexes, which DynamoDB cannot make in place"
    if not change.replace_paths:
        return f"terraform ({change.reason or 'no reason given'})"
    fields = []
    for path in change.replace_paths:
        field = _FIELDS_OF.get(path, path)
        if field not in fields:
            fields.append(field)
    return "a change to " + ", ".join(fields)


def _items(document: Mapping[str, Any], key: str, *, address: str | None = TABLE_ADDRESS) -> list[Mapping[str, Any]]:
    """The entries of ``key`` for the resource at ``address`` (every resource's when None)."""
    items = document.get(key) or []
    if not isinstance(items, Sequence):
        raise PlanUnreadable(f"terraform's plan has a malformed {key}; nothing was applied")
    return [item for item in items if isinstance(item, Mapping) and (address is None or item.get("address") == address)]


def _table_change(item: Mapping[str, Any]) -> TableChange:
    change = change_of(item)
    before = change.get("before")
    after = change.get("after")
    return TableChange(
        actions=tuple(str(action) for action in change.get("actions", ())),
        reason=item.get("action_reason"),
        replace_paths=tuple(_path_root(path) for path in change.get("replace_paths") or ()),
        before=_table_ref(before) if isinstance(before, Mapping) else None,
        after_name=after.get("name") if isinstance(after, Mapping) else None,
    )


def _vanished(item: Mapping[str, Any]) -> TableRef | None:
    """The table a refresh found missing (drift ``delete``): the state knew it, AWS did not."""
    change = change_of(item)
    before = change.get("before")
    if tuple(change.get("actions", ())) != ("delete",) or not isinstance(before, Mapping):
        return None
    return _table_ref(before)


def _table_ref(values: Mapping[str, Any]) -> TableRef:
    return TableRef(name=str(values.get("name") or values.get("id") or "?"), region=arn_region(values.get("arn")))


def _path_root(path: Any) -> str:
    if isinstance(path, Sequence) and not isinstance(path, str) and path:
        return str(path[0])
    return str(path)


def _configured_region(document: Mapping[str, Any]) -> str | None:
    spec = ((document.get("variables") or {}).get("spec") or {}).get("value")
    if isinstance(spec, Mapping) and isinstance(spec.get("aws_region"), str):
        return str(spec["aws_region"])
    return None
