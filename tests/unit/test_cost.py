"""The capacity cost estimate, on plans recorded from terraform and moto (tests/fixtures/plans):
what each side of the plan costs a month at the price table's list prices, and what is refused."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

from planton.cli.plan_view import cost_lines, markdown_summary, rich_summary
from planton.cost import (
    HOURS_PER_MONTH,
    INFREQUENT_ACCESS,
    NOT_ESTIMATED,
    PRICES,
    PRICES_AS_OF,
    STANDARD,
    CostEstimate,
    SideCost,
    covered_regions,
    estimate,
)
from planton.documents import apply_document, plan_document
from planton.operations.session import TofuOutcome
from planton.plan import read_plan
from planton.plan_summary import summarise
from planton.runner import RunResult

from support import recorded_plan

TABLE = "aws_dynamodb_table.this"


def cost_of(name: str, region: str = "us-east-1") -> CostEstimate:
    """The estimate for a recorded plan, as read_plan makes it (the region from the plan's spec)."""
    document = recorded_plan(name)
    document["variables"]["spec"]["value"]["aws_region"] = region
    cost = read_plan(json.dumps(document)).summary.cost
    assert cost is not None
    return cost


def monthly(side: SideCost | None) -> dict[str, float] | None:
    assert side is not None
    document = CostEstimate("us-east-1", side, None, ()).to_json()["before"]
    assert document is not None
    shown: dict[str, float] | None = document["monthly_usd"]
    return shown


def parts(side: SideCost | None) -> dict[str, tuple[Any, Any, Any]]:
    """Each capacity holder's (read, write, monthly) as the JSON document shows them."""
    assert side is not None
    document = CostEstimate("us-east-1", side, None, ()).to_json()["before"]
    assert document is not None
    return {
        part["name"]: (part["read_capacity"], part["write_capacity"], part["monthly_usd"]) for part in document["parts"]
    }


def usd(hourly: str, units: int) -> Decimal:
    return Decimal(hourly) * units * HOURS_PER_MONTH


def test_the_price_table_is_dated_and_covers_the_regions_it_names() -> None:
    assert PRICES_AS_OF == "2026-12-07"
    assert set(covered_regions()) == {"us-east-1", "us-west-2", "eu-west-1"}
    assert PRICES[("us-east-1", STANDARD)].write_unit_hour == Decimal("0.00065")
    assert PRICES[("us-east-1", STANDARD)].read_unit_hour == Decimal("0.00013")
    assert PRICES[("us-east-1", INFREQUENT_ACCESS)].write_unit_hour == Decimal("0.00081")
    assert PRICES[("us-east-1", INFREQUENT_ACCESS)].read_unit_hour == Decimal("0.00016")
    for (region, table_class), price in PRICES.items():
        assert price.read_unit_hour < price.write_unit_hour, region
        standard = PRICES[(region, STANDARD)]
        if table_class == INFREQUENT_ACCESS:  # Standard-IA trades cheaper storage for dearer capacity
            assert price.write_unit_hour > standard.write_unit_hour


def test_a_create_with_auto_scaling_is_a_range_from_min_to_max() -> None:
    cost = cost_of("module_cost_create_autoscaled")
    assert cost.before is None
    assert cost.after is not None
    assert cost.after.billing_mode == "PROVISIONED"
    assert cost.after.table_class == STANDARD  # terraform leaves the default class unset on a create
    table_low = usd("0.00013", 5) + usd("0.00065", 5)
    table_high = usd("0.00013", 100) + usd("0.00065", 50)
    index_low = usd("0.00013", 2) + usd("0.00065", 2)
    index_high = usd("0.00013", 20) + usd("0.00065", 20)
    assert parts(cost.after) == {
        "table": ({"min": 5, "max": 100}, {"min": 5, "max": 50}, {"min": 2.85, "max": 33.22}),
        "index by-user": ({"min": 2, "max": 20}, {"min": 2, "max": 20}, {"min": 1.14, "max": 11.39}),
    }
    assert (table_low, table_high) == (Decimal("2.84700"), Decimal("33.21500"))
    assert monthly(cost.after) == {
        "min": float(round(table_low + index_low, 2)),
        "max": float(round(table_high + index_high, 2)),
    }
    assert monthly(cost.after) == {"min": 3.99, "max": 44.6}
    assert cost.notes == (NOT_ESTIMATED,)


def test_without_auto_scaling_the_create_prices_the_planned_capacity() -> None:
    document = recorded_plan("module_cost_create_autoscaled")
    document["resource_changes"] = [
        item for item in document["resource_changes"] if item["type"] != "aws_appautoscaling_target"
    ]
    cost = estimate(document, "us-east-1")
    assert cost is not None
    # The table's own planned capacity (5 and 5; the index 2 and 2): one price, not a range.
    assert monthly(cost.after) == {"min": 3.99, "max": 3.99}


def test_a_capacity_change_prices_both_sides() -> None:
    cost = cost_of("module_cost_capacity_change")
    assert parts(cost.before) == {
        "table": ({"min": 10, "max": 10}, {"min": 5, "max": 5}, {"min": 3.32, "max": 3.32}),
        "index by-status": ({"min": 4, "max": 4}, {"min": 2, "max": 2}, {"min": 1.33, "max": 1.33}),
    }
    assert parts(cost.after) == {
        "table": ({"min": 20, "max": 20}, {"min": 10, "max": 10}, {"min": 6.64, "max": 6.64}),
        "index by-status": ({"min": 8, "max": 8}, {"min": 2, "max": 2}, {"min": 1.71, "max": 1.71}),
    }
    assert monthly(cost.before) == {"min": 4.65, "max": 4.65}
    assert monthly(cost.after) == {"min": 8.35, "max": 8.35}


def test_a_switch_to_on_demand_is_usage_based_and_not_estimated() -> None:
    cost = cost_of("module_cost_to_on_demand")
    assert monthly(cost.before) == {"min": 4.65, "max": 4.65}
    after = cost.after
    assert after is not None
    # terraform still shows the old capacity (computed) after the switch: never priced.
    assert recorded_plan("module_cost_to_on_demand")["resource_changes"][0]["change"]["after"]["read_capacity"] == 10
    assert (after.billing_mode, after.monthly, after.parts) == ("PAY_PER_REQUEST", None, ())
    assert after.why_not == "on-demand: usage-based, not estimated"
    assert cost.notes == (NOT_ESTIMATED,)


def test_an_on_demand_create_is_not_estimated() -> None:
    cost = cost_of("module_create")
    assert cost.before is None
    assert cost.after is not None
    assert cost.after.monthly is None
    assert cost.after.billing_mode == "PAY_PER_REQUEST"


def test_a_table_class_change_prices_each_side_at_its_own_class() -> None:
    cost = cost_of("module_cost_class_change")
    assert cost.before is not None
    assert cost.before.table_class == STANDARD
    assert cost.after is not None
    assert cost.after.table_class == INFREQUENT_ACCESS
    assert monthly(cost.before) == {"min": 4.65, "max": 4.65}
    expected = usd("0.00016", 10 + 4) + usd("0.00081", 5 + 2)
    assert (
        monthly(cost.after)
        == {"min": float(round(expected, 2)), "max": float(round(expected, 2))}
        == {
            "min": 5.77,
            "max": 5.77,
        }
    )


def test_a_destroy_has_no_after() -> None:
    cost = cost_of("module_cost_destroy")
    assert cost.after is None
    assert monthly(cost.before) == {"min": 4.65, "max": 4.65}


def test_another_covered_region_has_its_own_prices() -> None:
    cost = cost_of("module_cost_capacity_change", "eu-west-1")
    expected = usd("0.000147", 10 + 4) + usd("0.000735", 5 + 2)
    assert monthly(cost.before) == {"min": float(round(expected, 2)), "max": float(round(expected, 2))}
    assert monthly(cost.before) != monthly(cost_of("module_cost_capacity_change").before)


def test_a_region_the_price_table_lacks_gets_no_estimate_and_the_plan_is_still_read() -> None:
    document = recorded_plan("module_cost_capacity_change")
    document["variables"]["spec"]["value"]["aws_region"] = "ap-south-1"
    report = read_plan(json.dumps(document))
    assert report.changes
    assert report.summary.has_changes
    cost = report.summary.cost
    assert cost is not None
    assert cost.region == "ap-south-1"
    for side in (cost.before, cost.after):
        assert side is not None
        assert side.monthly is None
        assert all(part.monthly is None for part in side.parts)
    assert cost.notes[0] == (
        f"the price table of {PRICES_AS_OF} has no prices for ap-south-1 (it covers "
        f"{', '.join(covered_regions())}): no estimate"
    )
    assert cost.to_json()["before"]["monthly_usd"] is None


def test_a_table_class_the_region_lacks_gets_no_estimate_for_that_side() -> None:
    assert ("eu-west-1", INFREQUENT_ACCESS) not in PRICES
    cost = cost_of("module_cost_class_change", "eu-west-1")
    assert cost.before is not None
    assert cost.before.monthly is not None
    assert cost.after is not None
    assert cost.after.monthly is None
    why = f"no {INFREQUENT_ACCESS} price for eu-west-1 in the price table of {PRICES_AS_OF}: not estimated"
    assert cost.after.why_not == why
    assert cost.notes == (why, NOT_ESTIMATED)


def test_capacity_known_only_after_apply_is_not_guessed() -> None:
    document = recorded_plan("module_cost_capacity_change")
    [item] = [item for item in document["resource_changes"] if item["address"] == TABLE]
    item["change"]["after"]["read_capacity"] = None
    item["change"]["after_unknown"]["read_capacity"] = True
    cost = estimate(document, "us-east-1")
    assert cost is not None
    assert cost.after is not None
    assert cost.after.monthly is None
    assert parts(cost.after)["table"] == (None, {"min": 10, "max": 10}, None)
    assert cost.notes == ("capacity known only after apply", NOT_ESTIMATED)


def test_scaling_targets_of_another_table_are_not_counted() -> None:
    document = recorded_plan("module_cost_create_autoscaled")
    for item in document["resource_changes"]:
        if item["type"] == "aws_appautoscaling_target":
            item["change"]["after"]["resource_id"] = item["change"]["after"]["resource_id"].replace(
                "cost-autoscaled-carts", "someone-else"
            )
    cost = estimate(document, "us-east-1")
    assert cost is not None
    assert monthly(cost.after) == {"min": 3.99, "max": 3.99}


def test_no_estimate_without_a_change_or_a_region() -> None:
    assert read_plan(json.dumps(recorded_plan("module_noop"))).summary.cost is None
    assert summarise(recorded_plan("module_cost_capacity_change")).cost is None  # no region given
    assert estimate({"resource_changes": []}, "us-east-1") is None


# --- how it is shown ---------------------------------------------------------------------------


def rendered(name: str, region: str = "us-east-1") -> str:
    document = recorded_plan(name)
    document["variables"]["spec"]["value"]["aws_region"] = region
    console = Console(record=True, width=200, color_system=None)
    console.print(rich_summary(read_plan(json.dumps(document)).summary))
    text = console.export_text()
    return text[text.index("Capacity cost") :]


def test_the_terminal_shows_the_cost_of_a_create() -> None:
    assert rendered("module_cost_create_autoscaled") == (
        "Capacity cost: $3.99 to $44.60/month for the new table (us-east-1 list prices of 2026-12-07, 730 hours a "
        "month)\n"
        "    table          5 to 100 RCU, 5 to 50 WCU: $2.85 to $33.22/month\n"
        "    index by-user  2 to 20 RCU, 2 to 20 WCU: $1.14 to $11.39/month\n"
        f"    {NOT_ESTIMATED}\n"
    )


def test_the_terminal_shows_a_capacity_change() -> None:
    assert rendered("module_cost_capacity_change") == (
        "Capacity cost: $4.65/month -> $8.35/month (us-east-1 list prices of 2026-12-07, 730 hours a month)\n"
        "    table            10 RCU, 5 WCU -> 20 RCU, 10 WCU: $3.32/month -> $6.64/month\n"
        "    index by-status  4 RCU, 2 WCU -> 8 RCU, 2 WCU: $1.33/month -> $1.71/month\n"
        f"    {NOT_ESTIMATED}\n"
    )


def test_the_terminal_shows_a_switch_to_on_demand() -> None:
    assert rendered("module_cost_to_on_demand") == (
        "Capacity cost: $4.65/month -> on-demand (usage-based, not estimated) (us-east-1 list prices of 2026-12-07, "
        "730 hours a month)\n"
        "    table            10 RCU, 5 WCU -> on-demand: $3.32/month -> on-demand\n"
        "    index by-status  4 RCU, 2 WCU -> on-demand: $1.33/month -> on-demand\n"
        f"    {NOT_ESTIMATED}\n"
    )


def test_the_terminal_names_a_class_change_and_a_deletion() -> None:
    assert rendered("module_cost_class_change").splitlines()[0] == (
        "Capacity cost: $4.65/month (STANDARD) -> $5.77/month (STANDARD_INFREQUENT_ACCESS) (us-east-1 list prices "
        "of 2026-12-07, 730 hours a month)"
    )
    assert rendered("module_cost_destroy").splitlines()[:2] == [
        "Capacity cost: $4.65/month -> none (table deleted) (us-east-1 list prices of 2026-12-07, 730 hours a month)",
        "    table            10 RCU, 5 WCU: $3.32/month",
    ]


def test_the_terminal_refuses_a_region_it_has_no_prices_for() -> None:
    text = rendered("module_cost_capacity_change", "ap-south-1")
    assert text.splitlines()[0] == (
        "Capacity cost: not estimated, unchanged (the price table of 2026-12-07 has no ap-south-1 prices)"
    )
    assert "    the price table of 2026-12-07 has no prices for ap-south-1 (it covers " in text
    assert "$" not in text


def test_an_unchanged_cost_says_so() -> None:
    document = recorded_plan("module_cost_capacity_change")
    [item] = [item for item in document["resource_changes"] if item["address"] == TABLE]
    item["change"]["after"] = copy.deepcopy(item["change"]["before"])
    cost = estimate(document, "us-east-1")
    assert cost is not None
    assert cost_lines(cost)[0].startswith("Capacity cost: $4.65/month, unchanged (")


def test_the_step_summary_shows_the_cost_with_its_dollars_escaped() -> None:
    document = recorded_plan("module_cost_capacity_change")
    markdown = markdown_summary(read_plan(json.dumps(document)).summary, title="plan")
    assert markdown.endswith(
        "**Capacity cost**: \\$4.65/month -\\> \\$8.35/month (us-east-1 list prices of 2026-12-07, 730 hours a "
        "month)\n"
        "\n"
        "- `table`: 10 RCU, 5 WCU -\\> 20 RCU, 10 WCU: \\$3.32/month -\\> \\$6.64/month\n"
        "- `index by-status`: 4 RCU, 2 WCU -\\> 8 RCU, 2 WCU: \\$1.33/month -\\> \\$1.71/month\n"
        f"- *{NOT_ESTIMATED}*\n"
    )


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_the_json_documents_carry_the_cost(command: str) -> None:
    summary = read_plan(json.dumps(recorded_plan("module_cost_to_on_demand"))).summary
    outcome = TofuOutcome(command, RunResult(0), summary=summary)
    document = plan_document(outcome, 0) if command == "plan" else apply_document(outcome, 0)
    cost = json.loads(json.dumps(document))["cost"]
    assert cost == {
        "region": "us-east-1",
        "currency": "USD",
        "period": "month",
        "hours_per_month": 730,
        "prices_as_of": "2026-12-07",
        "before": {
            "billing_mode": "PROVISIONED",
            "table_class": "STANDARD",
            "monthly_usd": {"min": 4.65, "max": 4.65},
            "not_estimated": None,
            "parts": [
                {
                    "name": "table",
                    "read_capacity": {"min": 10, "max": 10},
                    "write_capacity": {"min": 5, "max": 5},
                    "monthly_usd": {"min": 3.32, "max": 3.32},
                },
                {
                    "name": "index by-status",
                    "read_capacity": {"min": 4, "max": 4},
                    "write_capacity": {"min": 2, "max": 2},
                    "monthly_usd": {"min": 1.33, "max": 1.33},
                },
            ],
        },
        "after": {
            "billing_mode": "PAY_PER_REQUEST",
            "table_class": "STANDARD",
            "monthly_usd": None,
            "not_estimated": "on-demand: usage-based, not estimated",
            "parts": [],
        },
        "notes": [NOT_ESTIMATED],
    }


def test_a_plan_document_without_a_plan_has_no_cost() -> None:
    assert plan_document(TofuOutcome("plan", RunResult(1)), 1)["cost"] is None
