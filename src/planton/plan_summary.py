"""What a saved plan would change, in a form people read: per resource its action and the
attributes that change, before -> after.

Pure: reads the same ``terraform show -json PLANFILE`` document as ``plan.py`` (whose
``read_plan`` has already checked its format version) and returns data; the renderers live in
``planton.cli.plan_view``. Tested on plans recorded from terraform and moto
(``tests/fixtures/plans``).

terraform's JSON diff is a pair of whole values (``before``, ``after``) plus trees marking what is
unknown until apply and what is sensitive. The summary walks both values together and keeps only
what changes, in paths a person can read: a block that holds one object reads as that object
(``point_in_time_recovery.enabled``), a list of named objects is matched by name
(``global_secondary_index[by-status]``), maps go key by key (``tags.team``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from planton.cost import CostEstimate, estimate
from planton.errors import PlanUnreadable  # not from planton.plan: plan.py imports this module
from planton.plan_json import change_of, entries, value_at

TABLE_TYPE = "aws_dynamodb_table"


class Marker(StrEnum):
    """A value the plan does not show: unknown until apply, or hidden as sensitive."""

    KNOWN_AFTER_APPLY = "(known after apply)"
    SENSITIVE = "(sensitive)"


KNOWN_AFTER_APPLY = Marker.KNOWN_AFTER_APPLY
SENSITIVE = Marker.SENSITIVE

# terraform's action lists -> one word. No-op and read (data sources) never reach this table.
_ACTIONS: dict[tuple[str, ...], str] = {
    ("create",): "create",
    ("update",): "update",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("delete",): "delete",
    ("forget",): "forget",
    # A replacement whose old object is only forgotten (lifecycle destroy = false): nothing is
    # deleted, so it reads as a create.
    ("create", "forget"): "create",
}
_LEFT_OUT = {(), ("no-op",), ("read",)}

_REASONS = {
    "replace_because_tainted": "tainted",
    "replace_by_request": "replacement requested (-replace)",
    "replace_by_triggers": "a change to a resource in its replace_triggered_by",
    "replace_because_cannot_update": "the provider cannot update it in place",
    "delete_because_no_resource_config": "no longer in the configuration",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_wrong_repetition": "its count or for_each changed kind",
    "delete_because_count_index": "its count index is out of range",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_move_target": "the target of its moved block is not in the configuration",
}

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")

RawPath = tuple[str | int, ...]


@dataclass(frozen=True)
class AttributeChange:
    """One attribute's change; ``before`` is None for an attribute set by a create."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool


@dataclass(frozen=True)
class ResourceChange:
    """What the plan does to one resource."""

    address: str
    resource_type: str
    action: str
    reason: str | None
    attributes: tuple[AttributeChange, ...]
    # The table deleted or replaced: every item in it is lost.
    data_loss: bool


@dataclass(frozen=True)
class OutputChange:
    """A root module output the plan changes."""

    name: str
    action: str
    before: Any
    after: Any


@dataclass(frozen=True)
class PlanCounts:
    """terraform's counts (a replacement is one add and one destroy), and the replacements."""

    add: int
    change: int
    destroy: int
    replace: int


@dataclass(frozen=True)
class PlanSummary:
    """The plan's changes: resources (no-ops and data source reads left out), changed outputs."""

    resources: tuple[ResourceChange, ...]
    outputs: tuple[OutputChange, ...]
    counts: PlanCounts
    # The table's provisioned capacity at list price, before and after; None when nothing changes.
    cost: CostEstimate | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.resources or self.outputs)

    @property
    def data_loss(self) -> bool:
        return any(resource.data_loss for resource in self.resources)

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON values (markers as their strings)."""
        return {
            "has_changes": self.has_changes,
            "data_loss": self.data_loss,
            "counts": {
                "add": self.counts.add,
                "change": self.counts.change,
                "destroy": self.counts.destroy,
                "replace": self.counts.replace,
            },
            "resources": [
                {
                    "address": resource.address,
                    "type": resource.resource_type,
                    "action": resource.action,
                    "reason": resource.reason,
                    "data_loss": resource.data_loss,
                    "attributes": [
                        {
                            "path": attribute.path,
                            "before": _plain(attribute.before),
                            "after": _plain(attribute.after),
                            "forces_replacement": attribute.forces_replacement,
                        }
                        for attribute in resource.attributes
                    ],
                }
                for resource in self.resources
            ],
            "outputs": [
                {
                    "name": output.name,
                    "action": output.action,
                    "before": _plain(output.before),
                    "after": _plain(output.after),
                }
                for output in self.outputs
            ],
            "cost": self.cost.to_json() if self.cost is not None else None,
        }


def summarise(document: Mapping[str, Any], *, region: str | None = None) -> PlanSummary:
    """The summary of a parsed ``show -json`` document (its format version already checked);
    ``region`` is the one the plan's provider is configured for, which prices the capacity (None:
    a plan that does not name it, whose cost is not estimated)."""
    resources = tuple(_resource(item) for item in entries(document, "resource_changes") if _counts(item))
    outputs = document.get("output_changes") or {}
    if not isinstance(outputs, Mapping):
        raise PlanUnreadable("terraform's plan has malformed output_changes; nothing was applied")

    def number(*actions: str) -> int:
        return sum(1 for resource in resources if resource.action in actions)

    changed_outputs = tuple(
        _output(str(name), output)
        for name, output in outputs.items()
        if isinstance(output, Mapping) and _actions(output) not in _LEFT_OUT
    )
    return PlanSummary(
        resources=resources,
        outputs=changed_outputs,
        counts=PlanCounts(
            add=number("create", "replace"),
            change=number("update"),
            destroy=number("delete", "replace"),
            replace=number("replace"),
        ),
        # A plan that changes nothing has no before and after to compare (and a plan planton did
        # not read, NO_CHANGES_SUMMARY, has none either).
        cost=estimate(document, region) if region is not None and (resources or changed_outputs) else None,
    )


def _actions(change: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(action) for action in change.get("actions") or ())


def _counts(item: Mapping[str, Any]) -> bool:
    # A data source only ever reads (during apply, when its arguments are unknown at plan time).
    return _actions(change_of(item)) not in _LEFT_OUT


def _action(actions: tuple[str, ...], what: str) -> str:
    try:
        return _ACTIONS[actions]
    except KeyError:
        raise PlanUnreadable(
            f"terraform plans {'+'.join(actions)} for {what}, an action planton does not know; nothing was applied"
        ) from None


def _resource(item: Mapping[str, Any]) -> ResourceChange:
    change = change_of(item)
    address = str(item.get("address", "?"))
    resource_type = str(item.get("type", ""))
    action = _action(_actions(change), address)
    before = _Side(change.get("before"), False, change.get("before_sensitive", False))
    after = _Side(change.get("after"), change.get("after_unknown", False), change.get("after_sensitive", False))
    replace_paths = [tuple(path) for path in change.get("replace_paths") or () if isinstance(path, list) and path]
    if action == "create":
        attributes = _created(after)
    elif action == "update":
        attributes = _changed(before, after, replace_paths)
    elif action == "replace":
        # A new resource gets new computed values (arn, id, stream label, ...): listing each as
        # "-> (known after apply)" buries what the person changed and what forces the replacement.
        # So is an argument left unset in both (the provider records "" or 0 for it, the new
        # configuration null): a renamed alarm would list half a dozen.
        attributes = [
            change
            for change in _changed(before, after, replace_paths)
            if change.forces_replacement
            or (change.after is not KNOWN_AFTER_APPLY and not (change.after is None and _unset(change.before)))
        ]
    else:
        attributes = []
    return ResourceChange(
        address=address,
        resource_type=resource_type,
        action=action,
        reason=_reason(item.get("action_reason"), replace_paths),
        attributes=tuple(_without_tags_all(attributes)),
        data_loss=resource_type == TABLE_TYPE and action in ("delete", "replace"),
    )


def _output(name: str, change: Mapping[str, Any]) -> OutputChange:
    before = _Side(change.get("before"), False, change.get("before_sensitive", False))
    after = _Side(change.get("after"), change.get("after_unknown", False), change.get("after_sensitive", False))
    action = _action(_actions(change), f"output {name}")
    return OutputChange(
        name=name,
        action=action,
        before=None if action == "create" else before.shown(),
        after=None if action == "delete" else after.shown(),
    )


def _reason(reason: Any, replace_paths: list[tuple[Any, ...]]) -> str | None:
    """terraform's action_reason in words; a replacement names the arguments that force it."""
    if replace_paths and reason in (None, "replace_because_cannot_update"):
        fields: list[str] = []
        for path in replace_paths:
            field = _raw_path_text(path)
            if field not in fields:
                fields.append(field)
        named = fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1]
        return f"a change to {named} forces it"
    if reason is None:
        return None
    return _REASONS.get(str(reason), str(reason).replace("_", " "))


def _raw_path_text(path: tuple[Any, ...]) -> str:
    text = ""
    for step in path:
        text = f"{text}[{step}]" if isinstance(step, int) else _key_path(text, str(step))
    return text


@dataclass(frozen=True)
class _Side:
    """One side of a diff: the value, and the trees marking its unknown and sensitive parts
    (``True`` marks the whole value; a mapping or list marks its elements)."""

    value: Any
    unknown: Any
    sensitive: Any

    def child(self, key: str | int) -> _Side:
        return _Side(value_at(self.value, key), value_at(self.unknown, key), value_at(self.sensitive, key))

    def fields(self) -> list[str]:
        """The mapping's keys, including the ones whose value is only known after apply."""
        keys = list(self.value) if isinstance(self.value, Mapping) else []
        if isinstance(self.unknown, Mapping):
            keys += [key for key, marked in self.unknown.items() if marked is True and key not in keys]
        return [str(key) for key in keys]

    def shown(self) -> Any:
        """The value with markers in place of what is unknown or sensitive."""
        if self.unknown is True:
            return KNOWN_AFTER_APPLY
        if self.sensitive is True:
            return SENSITIVE
        keys = self.fields()
        if isinstance(self.value, Mapping) or keys:
            return {key: self.child(key).shown() for key in keys}
        if isinstance(self.value, list):
            return [self.child(index).shown() for index in range(len(self.value))]
        return self.value


@dataclass(frozen=True)
class _Found:
    path: str
    before: Any
    after: Any
    raw: tuple[RawPath, ...]


def _created(after: _Side) -> list[AttributeChange]:
    """A create's attributes: one per top-level argument that is set (unknown ones left out)."""
    attributes = []
    for key in after.fields():
        value = _readable(after.child(key).shown())
        if value is not _NOTHING:
            attributes.append(AttributeChange(_key_path("", key), None, value, forces_replacement=False))
    return attributes


def _changed(before: _Side, after: _Side, replace_paths: list[tuple[Any, ...]]) -> list[AttributeChange]:
    """An update's or replacement's changed attributes; the ones forcing a replacement first."""
    changes = [
        AttributeChange(
            found.path,
            found.before,
            found.after,
            forces_replacement=any(_related(forced, raw) for forced in replace_paths for raw in found.raw),
        )
        for found in _diff("", (), (), before, after)
    ]
    return sorted(changes, key=lambda change: not change.forces_replacement)


def _related(forced: tuple[Any, ...], raw: RawPath) -> bool:
    """Whether the change at ``raw`` is under the forcing path (or holds it, as a whole value)."""
    shorter = min(len(forced), len(raw))
    return tuple(forced[:shorter]) == tuple(raw[:shorter])


def _diff(path: str, raw_before: RawPath, raw_after: RawPath, before: _Side, after: _Side) -> Iterator[_Found]:
    raw = (raw_before,) if raw_before == raw_after else (raw_before, raw_after)
    if after.unknown is True:
        yield _Found(path, before.shown(), KNOWN_AFTER_APPLY, raw)
        return
    if before.sensitive is True or after.sensitive is True:
        if not _same(before.value, after.value):
            yield _Found(path, before.shown(), after.shown(), raw)
        return
    old, new = before.value, after.value
    if _empty(old) and _empty(new) and not after.fields():
        return  # null, [] and {} all say "none"
    if _is(old, Mapping) and _is(new, Mapping):
        keys = before.fields() + [key for key in after.fields() if key not in before.fields()]
        for key in keys:
            yield from _diff(
                _key_path(path, key), (*raw_before, key), (*raw_after, key), before.child(key), after.child(key)
            )
    elif _is(old, list) and _is(new, list):
        yield from _diff_list(path, raw_before, raw_after, before, after)
    elif not _same(old, new):
        yield _Found(path, before.shown(), after.shown(), raw)


def _diff_list(path: str, raw_before: RawPath, raw_after: RawPath, before: _Side, after: _Side) -> Iterator[_Found]:
    old: list[Any] = before.value or []
    new: list[Any] = after.value or []
    old_names, new_names = _names(before), _names(after)
    if old_names is not None and new_names is not None:
        # Named objects (indexes, key attributes) are matched by name: their order means nothing.
        for name in old_names + [name for name in new_names if name not in old_names]:
            here = f"{path}[{name if _PLAIN_NAME.fullmatch(name) else json.dumps(name, ensure_ascii=False)}]"
            if name in old_names and name in new_names:
                i, j = old_names.index(name), new_names.index(name)
                yield from _diff(here, (*raw_before, i), (*raw_after, j), before.child(i), after.child(j))
            elif name in old_names:
                i = old_names.index(name)
                yield _Found(here, _readable(before.child(i).shown()), None, ((*raw_before, i),))
            else:
                j = new_names.index(name)
                yield _Found(here, None, _readable(after.child(j).shown()), ((*raw_after, j),))
    elif len(old) <= 1 and len(new) <= 1 and all(isinstance(item, Mapping) for item in old + new):
        # A block that holds one object reads as that object.
        yield from _diff(path, (*raw_before, 0), (*raw_after, 0), before.child(0), after.child(0))
    elif not _same(before.shown(), after.shown()):
        raw = (raw_before,) if raw_before == raw_after else (raw_before, raw_after)
        yield _Found(path, before.shown(), after.shown(), raw)


def _names(side: _Side) -> list[str] | None:
    """The objects' names when every element is an object with a known, unique name."""
    items = side.value or []
    names = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or side.child(index).child("name").unknown is True or name in names:
            return None
        names.append(name)
    return names


def _unset(value: Any) -> bool:
    """How the provider records an optional string or number that was never set."""
    return value == "" or (type(value) is int and value == 0)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping | list) and not value)


def _is(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _same(left: Any, right: Any) -> bool:
    # JSON text tells true from 1 and "1" from 1, which == does not.
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


class _Nothing:
    pass


_NOTHING: Any = _Nothing()


def _readable(value: Any) -> Any:
    """A value as set by a create: no nulls, empties or unknowns; a one-object block as the object."""
    if value is None or value is KNOWN_AFTER_APPLY or value == "" or value == [] or value == {}:
        return _NOTHING
    if isinstance(value, Mapping):
        kept = {key: _readable(item) for key, item in value.items()}
        kept = {key: item for key, item in kept.items() if item is not _NOTHING}
        return kept or _NOTHING
    if isinstance(value, list):
        if len(value) == 1 and isinstance(value[0], Mapping) and "name" not in value[0]:
            return _readable(value[0])
        items = [item for item in (_readable(item) for item in value) if item is not _NOTHING]
        return items or _NOTHING
    return value


def _without_tags_all(attributes: list[AttributeChange]) -> list[AttributeChange]:
    """``tags_all`` repeats ``tags`` plus the provider's default tags: kept only when it differs."""

    def under(root: str) -> list[AttributeChange]:
        return [a for a in attributes if a.path == root or a.path.startswith((f"{root}.", f"{root}["))]

    def signature(changes: list[AttributeChange], root: str) -> list[str]:
        return sorted(json.dumps([a.path[len(root) :], a.before, a.after], sort_keys=True) for a in changes)

    tags_all = under("tags_all")
    if tags_all and signature(tags_all, "tags_all") == signature(under("tags"), "tags"):
        return [a for a in attributes if a not in tags_all]
    return attributes


def _plain(value: Any) -> Any:
    """Markers as plain strings, tuples as lists: what ``json.dumps`` writes and reads back."""
    if isinstance(value, Marker):
        return str(value.value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# The summary of a plan that changes nothing (terraform said so: no resource or output changes).
NO_CHANGES_SUMMARY = summarise({})
