"""The plan summary's renderers: Rich text for the terminal, Markdown for a CI step summary."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from planton.cli.plan_view import compact, counts_line, markdown_summary, rich_summary
from planton.plan_summary import KNOWN_AFTER_APPLY, SENSITIVE, PlanCounts, PlanSummary, ResourceChange, summarise

from support import recorded_plan

TITLE = "planton plan: planton-demo-orders"


def summary_of(name: str) -> PlanSummary:
    return summarise(recorded_plan(name))


def rendered(summary: PlanSummary, *, width: int = 120, soft_wrap: bool = False) -> str:
    console = Console(record=True, width=width, color_system=None, soft_wrap=soft_wrap)
    console.print(rich_summary(summary))
    return console.export_text()


def test_markdown_of_an_update() -> None:
    assert markdown_summary(summary_of("module_update"), title=TITLE) == (
        "## planton plan: planton-demo-orders\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n"
        "\n"
        "| Action | Resource | Changes |\n"
        "| --- | --- | --- |\n"
        "| update | `aws_dynamodb_table.this` | "
        '`attribute[status]`: added `{"type":"S"}`<br>'
        "`global_secondary_index[by-status]`: added "
        '`{"hash_key":"status","projection_type":"KEYS_ONLY","range_key":"order_ts"}`<br>'
        "`point_in_time_recovery.enabled`: `true` -> `false`<br>"
        '`tags.team`: `"platform"` -> `"data"` |\n'
        "\n"
        "**Changes to outputs**\n"
        "\n"
        "| Output | Change |\n"
        "| --- | --- |\n"
        "| `global_secondary_index_arns` | "
        '`{}` -> `{"by-status":"arn:aws:dynamodb:us-east-1:123456789012:table/planton-demo-orders…` |\n'
    )


def test_markdown_of_no_changes() -> None:
    assert markdown_summary(summary_of("module_noop"), title="plan") == "## plan\n\nNo changes.\n"


def test_markdown_of_a_create() -> None:
    text = markdown_summary(summary_of("module_create"), title=TITLE)
    assert "Plan: 2 to add, 0 to change, 0 to destroy.\n" in text
    assert '| create | `aws_dynamodb_table.this` | `attribute` = `[{"name":"customer_id","type":"S"}' in text
    assert '<br>`hash_key` = `"customer_id"`<br>' in text
    assert "| create | `terraform_data.local_indexes` |  |\n" in text
    assert "| `table_arn` | = `(known after apply)` |\n" in text
    assert "DATA LOSS" not in text


def test_markdown_of_a_replace() -> None:
    text = markdown_summary(summary_of("module_replace_key"), title=TITLE)
    assert "Plan: 1 to add, 0 to change, 1 to destroy (1 replacement).\n" in text
    assert (
        "| replace | `aws_dynamodb_table.this` | *a change to hash\\_key forces it*<br>"
        "**DATA LOSS**: deletes the table and every item in it, then creates it again, empty<br>"
        '`hash_key`: `"customer_id"` -> `"account_id"` (forces replacement)<br>'
    ) in text
    assert "`arn`" not in text  # the new table's computed values are left out
    arn = '`"arn:aws:dynamodb:us-east-1:123456789012:table/planton-demo-orders"`'
    assert f"| `table_arn` | {arn} -> `(known after apply)` |" in text


def test_markdown_of_a_delete() -> None:
    text = markdown_summary(summary_of("module_destroy"), title=TITLE)
    assert "Plan: 0 to add, 0 to change, 2 to destroy.\n" in text
    assert "| delete | `aws_dynamodb_table.this` | **DATA LOSS**: deletes the table and every item in it |\n" in text
    assert "| delete | `terraform_data.local_indexes` |  |\n" in text


def test_markdown_escapes_pipes_and_newlines() -> None:
    document = recorded_plan("module_update")
    document["resource_changes"][0]["change"]["after"]["tags"]["team"] = "a|b\nc`d"
    document["resource_changes"][0]["change"]["after"]["tags_all"]["team"] = "a|b\nc`d"
    text = markdown_summary(summarise(document), title="a | b\nc *d*")
    assert text.startswith("## a | b c \\*d\\*\n")
    assert '`tags.team`: `"platform"` -> ``"a\\|b\\nc`d"`` |\n' in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 6  # two headers, two separators, one resource, one output: no row split
    assert all(line.endswith(" |") for line in table)


def test_markdown_keeps_a_raw_newline_in_an_address_on_its_row() -> None:
    summary = PlanSummary(
        resources=(ResourceChange('x.y["a\nb|c"]', "x", "create", None, (), data_loss=False),),
        outputs=(),
        counts=PlanCounts(1, 0, 0, 0),
    )
    assert '| create | `x.y["a\\nb\\|c"]` |  |\n' in markdown_summary(summary, title=TITLE)


def test_markdown_flags_data_loss_in_bold_only_when_the_table_is_lost() -> None:
    for name in ("replace_key", "taint", "destroy", "module_replace_lsi"):
        assert "**DATA LOSS**" in markdown_summary(summary_of(name), title=TITLE), name
    for name in ("create", "update", "module_update", "region_move"):
        assert "DATA LOSS" not in markdown_summary(summary_of(name), title=TITLE), name


def test_rich_update() -> None:
    text = rendered(summary_of("module_update"))
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == "Plan: 0 to add, 1 to change, 0 to destroy."
    assert "  ~ aws_dynamodb_table.this will be updated in place" in lines
    assert "      point_in_time_recovery.enabled     true -> false" in lines
    assert '      tags.team                          "platform" -> "data"' in lines
    assert "DATA LOSS" not in text
    assert "forces replacement" not in text


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("module_replace_key", "deletes the table and every item in it, then creates it again, empty"),
        ("replace_key", "deletes the table and every item in it, then creates it again, empty"),
        ("taint", "deletes the table and every item in it, then creates it again, empty"),
        ("module_destroy", "deletes the table and every item in it"),
        ("destroy", "deletes the table and every item in it"),
    ],
)
def test_rich_shows_data_loss(name: str, words: str) -> None:
    text = rendered(summary_of(name))
    assert f"    DATA LOSS: {words}\n" in text


def test_rich_replace_names_what_forces_it() -> None:
    text = rendered(summary_of("module_replace_key"))
    assert "-/+ aws_dynamodb_table.this will be replaced (a change to hash_key forces it)" in text
    assert '      hash_key                "customer_id" -> "account_id"  forces replacement' in text
    assert text.count("forces replacement") == 1


def test_rich_lines_are_never_cut_or_padded() -> None:
    # A CI log is no terminal (80 columns): every word stays, and no line ends in padding.
    text = rendered(summary_of("module_replace_key"), width=40, soft_wrap=True)  # as planton's console prints
    assert "    DATA LOSS: deletes the table and every item in it, then creates it again, empty" in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_rich_create_and_no_changes() -> None:
    text = rendered(summary_of("module_create"))
    assert text.startswith("Plan: 2 to add, 0 to change, 0 to destroy.\n")
    assert '      name                         = "planton-demo-orders"' in text
    assert "  + terraform_data.local_indexes will be created" in text
    assert "  + table_arn                    = (known after apply)" in text
    assert rendered(summary_of("module_noop")) == "No changes.\n"


def test_rich_styles_the_data_loss_and_a_no_color_render_has_no_ansi() -> None:
    summary = summary_of("module_replace_key")

    def render(color_system: Any) -> str:
        out = io.StringIO()
        Console(file=out, width=120, force_terminal=True, color_system=color_system).print(rich_summary(summary))
        return out.getvalue()

    assert "\x1b[1;31mDATA LOSS" in render("standard")
    plain = render(None)
    assert "\x1b" not in plain
    assert "DATA LOSS" in plain


def test_counts_line() -> None:
    assert counts_line(PlanCounts(1, 1, 0, 0)) == "Plan: 1 to add, 1 to change, 0 to destroy."
    assert counts_line(PlanCounts(2, 0, 2, 2)) == "Plan: 2 to add, 0 to change, 2 to destroy (2 replacements)."


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("data", '"data"'),
        (None, "null"),
        (True, "true"),
        (35, "35"),
        ([1, "a"], '[1,"a"]'),
        ({"a": None, "b": [True]}, '{"a":null,"b":[true]}'),
        (KNOWN_AFTER_APPLY, "(known after apply)"),
        (SENSITIVE, "(sensitive)"),
        ({"arn": KNOWN_AFTER_APPLY}, '{"arn":(known after apply)}'),
        ("x" * 100, '"' + "x" * 78 + "…"),
    ],
)
def test_compact_values(value: Any, text: str) -> None:
    assert compact(value) == text
    assert len(compact(value)) <= 80


def test_planton_s_own_dangers_are_shown_with_the_summary() -> None:
    danger = "spec.aws_region changed from us-east-1 to eu-west-1: ..."
    console = Console(record=True, width=200, color_system=None)
    console.print(rich_summary(summary_of("region_move"), [danger]))
    text = console.export_text()
    assert text.rstrip().endswith(f"DANGER: {danger}")
    markdown = markdown_summary(summary_of("region_move"), title=TITLE, dangers=[danger])
    expected = f"## {TITLE}\n\n**DANGER**: spec.aws\\_region changed from us-east-1 to eu-west-1: ...\n"
    assert markdown.startswith(expected)


def test_no_plan_is_said_as_such_with_its_danger() -> None:
    danger = "these credentials belong to account 222222222222"
    console = Console(record=True, width=200, color_system=None)
    console.print(rich_summary(None, [danger]))
    assert console.export_text() == f"No plan was made.\nDANGER: {danger}\n"
    markdown = markdown_summary(None, title=TITLE, dangers=[danger])
    assert markdown.endswith(f"**DANGER**: {danger}\n\nNo plan was made.\n")
