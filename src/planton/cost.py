"""What the table's provisioned capacity costs a month at list price, before and after a plan.

Pure: reads the same ``terraform show -json PLANFILE`` document as ``plan_summary.py`` (no
terraform is run for it) and a dated price table bundled here. Only provisioned read and write
capacity is estimated, for the table and each global secondary index: it is billed by the hour
whether it is used or not, so the plan alone fixes it. Under auto scaling the capacity moves
between the scaling target's ``min_capacity`` and ``max_capacity``, so the estimate is that
range. On-demand requests, storage, backups, streams and data transfer depend on usage planton
cannot see: they are named as not estimated, never guessed. A region (or a table class in a
region) the price table lacks gets no estimate, and says so.

Monthly = hourly price x 730 hours (AWS's own monthly convention: 8,760 hours a year / 12).
Free tier and reserved capacity are ignored: these are list prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from planton.plan_json import change_of, entries, value_at

TABLE_TYPE = "aws_dynamodb_table"
SCALING_TARGET_TYPE = "aws_appautoscaling_target"

STANDARD = "STANDARD"
INFREQUENT_ACCESS = "STANDARD_INFREQUENT_ACCESS"
PROVISIONED = "PROVISIONED"
ON_DEMAND = "PAY_PER_REQUEST"

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class CapacityPrice:
    """The list price of one provisioned capacity unit for one hour, in USD."""

    write_unit_hour: Decimal
    read_unit_hour: Decimal


# The date this table was compiled from AWS's published list prices; every estimate names it.
# Only prices found in records of the AWS Price List API are here: us-east-1 (both classes),
# us-west-2 and eu-west-1 (Standard). A price that could not be confirmed (us-east-2, Standard-IA
# outside us-east-1) is left out rather than borrowed from another region.
PRICES_AS_OF = "2026-12-07"
PRICES_SOURCE = (
    "AWS's DynamoDB provisioned capacity list prices (https://aws.amazon.com/dynamodb/pricing/provisioned/; "
    "AWS Price List API, service AmazonDynamoDB, usage types [REGION-][IA-]WriteCapacityUnit-Hrs and "
    "[REGION-][IA-]ReadCapacityUnit-Hrs)"
)

# (region, table class) -> price. Only what could be sourced: a pair that is missing gets no
# estimate.
PRICES: dict[tuple[str, str], CapacityPrice] = {
    ("us-east-1", STANDARD): CapacityPrice(Decimal("0.00065"), Decimal("0.00013")),
    ("us-east-1", INFREQUENT_ACCESS): CapacityPrice(Decimal("0.00081"), Decimal("0.00016")),
    ("us-west-2", STANDARD): CapacityPrice(Decimal("0.00065"), Decimal("0.00013")),
    ("eu-west-1", STANDARD): CapacityPrice(Decimal("0.000735"), Decimal("0.000147")),
}

NOT_ESTIMATED = (
    "not estimated: on-demand requests, storage, backups, streams and data transfer (usage-based); "
    "list prices, without free tier or reserved capacity"
)

_CENT = Decimal("0.01")


def covered_regions() -> tuple[str, ...]:
    """The regions the price table has any price for, sorted."""
    return tuple(sorted({region for region, _ in PRICES}))


@dataclass(frozen=True)
class Span:
    """From ``low`` to ``high`` (equal when fixed): capacity units, or a monthly price in USD."""

    low: Decimal
    high: Decimal

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def __add__(self, other: Span) -> Span:
        return Span(self.low + other.low, self.high + other.high)


@dataclass(frozen=True)
class PartCost:
    """One capacity holder (the table, or one global secondary index) on one side of the plan.

    ``read`` and ``write`` are its capacity units (a span under auto scaling), None when only
    known after apply; ``monthly`` is None when a capacity or the price is unknown."""

    name: str
    read: Span | None
    write: Span | None
    monthly: Span | None


@dataclass(frozen=True)
class SideCost:
    """The table's capacity cost on one side of the plan (before it, or after it)."""

    billing_mode: str
    table_class: str
    parts: tuple[PartCost, ...]
    # The whole table's monthly list price; None when it is not estimated (``why_not`` says why).
    monthly: Span | None
    why_not: str | None


@dataclass(frozen=True)
class CostEstimate:
    """The capacity cost before and after the plan. ``before`` is None for a create, ``after``
    for a deletion."""

    region: str
    before: SideCost | None
    after: SideCost | None
    notes: tuple[str, ...]
    prices_as_of: str = PRICES_AS_OF

    def to_json(self) -> dict[str, Any]:
        """The estimate as plain JSON values: amounts in USD a month, rounded to the cent."""
        return {
            "region": self.region,
            "currency": "USD",
            "period": "month",
            "hours_per_month": HOURS_PER_MONTH,
            "prices_as_of": self.prices_as_of,
            "before": _side_json(self.before),
            "after": _side_json(self.after),
            "notes": list(self.notes),
        }


def estimate(document: Mapping[str, Any], region: str) -> CostEstimate | None:
    """The capacity cost of the plan ``document`` (a parsed ``show -json``) in ``region``, the
    region the plan's provider is configured for; None when the plan has no table at all."""
    resources = entries(document, "resource_changes")
    items = [item for item in resources if item.get("type") == TABLE_TYPE]
    if not items:
        return None
    change = change_of(items[0])
    targets = [change_of(item) for item in resources if item.get("type") == SCALING_TARGET_TYPE]
    before_values = change.get("before")
    after_values = change.get("after")
    before = (
        _side(before_values, None, [target.get("before") for target in targets], region)
        if isinstance(before_values, Mapping)
        else None
    )
    after = (
        _side(
            after_values,
            change.get("after_unknown"),
            [target.get("after") for target in targets],
            region,
            fallback_class=before.table_class if before is not None else None,
        )
        if isinstance(after_values, Mapping)
        else None
    )
    notes: list[str] = []
    if not any(known == region for known, _ in PRICES):
        notes.append(
            f"the price table of {PRICES_AS_OF} has no prices for {region} (it covers "
            f"{', '.join(covered_regions())}): no estimate"
        )
    else:
        # Why a provisioned side has no estimate (a table class the region lacks, capacity known
        # only after apply); an on-demand side says so in its own words.
        for side in (before, after):
            if side is not None and side.why_not and side.billing_mode != ON_DEMAND and side.why_not not in notes:
                notes.append(side.why_not)
    notes.append(NOT_ESTIMATED)
    return CostEstimate(region=region, before=before, after=after, notes=tuple(notes))


def _side(
    values: Mapping[str, Any],
    unknown: Any,
    targets: Sequence[Any],
    region: str,
    *,
    fallback_class: str | None = None,
) -> SideCost:
    mode = values.get("billing_mode")
    billing_mode = mode if isinstance(mode, str) and mode else PROVISIONED
    table_class = _table_class(values.get("table_class"), value_at(unknown, "table_class"), fallback_class)
    if billing_mode == ON_DEMAND:
        return SideCost(billing_mode, table_class, (), None, "on-demand: usage-based, not estimated")
    name = values.get("name")
    scaling = _scaling_ranges(targets, name if isinstance(name, str) else None)
    parts = [_part("table", values, unknown, scaling.get("table", {}))]
    indexes = values.get("global_secondary_index") or []
    index_unknown = value_at(unknown, "global_secondary_index")
    for position, index in enumerate(indexes if isinstance(indexes, list) else []):
        if isinstance(index, Mapping) and isinstance(index.get("name"), str):
            key = f"index/{index['name']}"
            parts.append(
                _part(f"index {index['name']}", index, value_at(index_unknown, position), scaling.get(key, {}))
            )
    price = PRICES.get((region, table_class))
    priced = [_priced(part, price) for part in parts]
    if price is None:
        why = f"no {table_class} price for {region} in the price table of {PRICES_AS_OF}: not estimated"
        return SideCost(billing_mode, table_class, tuple(priced), None, why)
    monthly = [part.monthly for part in priced if part.monthly is not None]
    if len(monthly) < len(priced):
        return SideCost(billing_mode, table_class, tuple(priced), None, "capacity known only after apply")
    total = sum(monthly, Span(Decimal(0), Decimal(0)))
    return SideCost(billing_mode, table_class, tuple(priced), total, None)


def _table_class(value: Any, unknown: Any, fallback: str | None) -> str:
    """The side's table class. terraform leaves it unset on a create that asks for the default,
    and unknown when the provider decides: DynamoDB's default then, STANDARD (or, for an update,
    the class the table has)."""
    if isinstance(value, str) and value:
        return value
    if unknown is True and fallback:
        return fallback
    return STANDARD


def _part(name: str, values: Mapping[str, Any], unknown: Any, scaling: Mapping[str, Span]) -> PartCost:
    return PartCost(
        name=name,
        read=scaling.get("read") or _units(values.get("read_capacity"), value_at(unknown, "read_capacity")),
        write=scaling.get("write") or _units(values.get("write_capacity"), value_at(unknown, "write_capacity")),
        monthly=None,
    )


def _units(value: Any, unknown: Any) -> Span | None:
    if unknown is True or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    units = Decimal(str(value))
    return Span(units, units)


def _priced(part: PartCost, price: CapacityPrice | None) -> PartCost:
    if price is None or part.read is None or part.write is None:
        return part

    def monthly(read: Decimal, write: Decimal) -> Decimal:
        return (read * price.read_unit_hour + write * price.write_unit_hour) * HOURS_PER_MONTH

    cost = Span(monthly(part.read.low, part.write.low), monthly(part.read.high, part.write.high))
    return PartCost(part.name, part.read, part.write, cost)


def _scaling_ranges(targets: Sequence[Any], table_name: str | None) -> dict[str, dict[str, Span]]:
    """The auto scaling ranges on one side, by capacity holder (``table``, ``index/NAME``) and
    dimension (``read``, ``write``): the targets whose resource id names this table."""
    ranges: dict[str, dict[str, Span]] = {}
    for target in targets:
        if not isinstance(target, Mapping) or target.get("service_namespace", "dynamodb") != "dynamodb":
            continue
        resource_id, dimension = target.get("resource_id"), target.get("scalable_dimension")
        low, high = target.get("min_capacity"), target.get("max_capacity")
        if not (isinstance(resource_id, str) and isinstance(dimension, str)):
            continue
        if not (isinstance(low, int | float) and isinstance(high, int | float)):
            continue
        steps = resource_id.split("/")
        if steps[0] != "table" or len(steps) not in (2, 4) or (table_name is not None and steps[1] != table_name):
            continue
        if len(steps) == 4 and steps[2] != "index":
            continue
        holder = "table" if len(steps) == 2 else f"index/{steps[3]}"
        if dimension.endswith(":ReadCapacityUnits"):
            kind = "read"
        elif dimension.endswith(":WriteCapacityUnits"):
            kind = "write"
        else:
            continue
        ranges.setdefault(holder, {})[kind] = Span(Decimal(str(low)), Decimal(str(high)))
    return ranges


def dollars(amount: Decimal) -> float:
    """A monthly amount in USD, rounded to the cent, as JSON writes it."""
    return float(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def _span_json(span: Span | None, *, money: bool) -> dict[str, float | int] | None:
    if span is None:
        return None
    if money:
        return {"min": dollars(span.low), "max": dollars(span.high)}
    return {"min": _number(span.low), "max": _number(span.high)}


def _number(units: Decimal) -> float | int:
    return int(units) if units == units.to_integral_value() else float(units)


def _side_json(side: SideCost | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "billing_mode": side.billing_mode,
        "table_class": side.table_class,
        "monthly_usd": _span_json(side.monthly, money=True),
        "not_estimated": side.why_not,
        "parts": [
            {
                "name": part.name,
                "read_capacity": _span_json(part.read, money=False),
                "write_capacity": _span_json(part.write, money=False),
                "monthly_usd": _span_json(part.monthly, money=True),
            }
            for part in side.parts
        ],
    }
