"""A plan summary for people: as Rich text for the terminal, and as Markdown for a CI step
summary (``$GITHUB_STEP_SUMMARY``). Renderers only: they return what to show and print nothing;
the summary itself comes from ``planton.plan_summary``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from planton.cost import HOURS_PER_MONTH, ON_DEMAND, PRICES, STANDARD, CostEstimate, PartCost, SideCost, Span, dollars
from planton.findings import Finding
from planton.plan_summary import AttributeChange, Marker, OutputChange, PlanCounts, PlanSummary, ResourceChange

MAX_VALUE_CHARS = 80

_SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "forget": ".", "read": "<="}
_STYLES = {"create": "green", "update": "yellow", "replace": "red", "delete": "red", "forget": "magenta"}
_DOES = {
    "create": "will be created",
    "update": "will be updated in place",
    "replace": "will be replaced",
    "delete": "will be destroyed",
    "forget": "will be forgotten (left in place, no longer managed)",
    "read": "will be read during apply",
}
_DATA_LOSS = {
    "delete": "deletes the table and every item in it",
    "replace": "deletes the table and every item in it, then creates it again, empty",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>~#])")


def counts_line(counts: PlanCounts) -> str:
    """terraform's ``Plan:`` line, naming the replacements hidden in its add and destroy counts."""
    line = f"Plan: {counts.add} to add, {counts.change} to change, {counts.destroy} to destroy"
    if counts.replace:
        line += f" ({counts.replace} replacement{'s' if counts.replace > 1 else ''})"
    return line + "."


def compact(value: Any) -> str:
    """A value on one short line: strings quoted, null as ``null``, lists and maps as compact
    JSON, markers as their words; cut with an ellipsis past ``MAX_VALUE_CHARS``."""
    text = _compact(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def rich_summary(summary: PlanSummary | None, dangers: Sequence[str] = ()) -> RenderableType:
    """The summary for a terminal: the counts, then each resource and its changed attributes;
    then the dangers planton found beyond them (a region move, another account's credentials).
    No summary: no plan could be made."""
    warned = [Text.assemble(("DANGER", "bold red"), (f": {danger}", "red")) for danger in dangers]
    if summary is None:
        return Group(Text("No plan was made.", style="bold"), *warned)
    if not summary.has_changes:
        return Group(Text("No changes.", style="bold"), *warned)
    parts: list[RenderableType] = [Text(counts_line(summary.counts), style="bold")]
    for resource in summary.resources:
        parts += [Text(), *_rich_resource(resource)]
    if summary.outputs:
        outputs = [
            (
                Text.assemble((_SYMBOLS[output.action], _STYLES.get(output.action, "")), " ", (output.name, "bold")),
                Text(_output_words(output)),
            )
            for output in summary.outputs
        ]
        parts += [Text(), Text("Changes to outputs:", style="bold"), *_aligned(outputs, 2)]
    if summary.cost is not None:
        headline, rows, notes = cost_lines(summary.cost)
        parts += [Text(), Text(headline, style="bold")]
        parts += _aligned([(Text(name), Text(text)) for name, text in rows], 4)
        parts += [Text(f"    {note}", style="dim") for note in notes]
    if warned:
        parts += [Text(), *warned]
    return Group(*parts)


def markdown_summary(summary: PlanSummary | None, *, title: str, dangers: Sequence[str] = ()) -> str:
    """The summary as GitHub-flavoured Markdown: a heading, the dangers planton found beyond the
    plan's own actions, the counts, and a table of changes."""
    lines = [f"## {_text(title)}", ""]
    lines += [f"**DANGER**: {_text(danger)}" for danger in dangers] + ([""] if dangers else [])
    if summary is None:
        return "\n".join([*lines, "No plan was made.", ""])
    if not summary.has_changes:
        return "\n".join([*lines, "No changes.", ""])
    lines += [counts_line(summary.counts), ""]
    if summary.resources:
        lines += ["| Action | Resource | Changes |", "| --- | --- | --- |"]
        for resource in summary.resources:
            cells = [resource.action, _code(resource.address), "<br>".join(_markdown_changes(resource))]
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    if summary.outputs:
        lines += ["**Changes to outputs**", "", "| Output | Change |", "| --- | --- |"]
        for output in summary.outputs:
            lines.append(f"| {_cell(_code(output.name))} | {_cell(_output_words(output, markdown=True))} |")
        lines.append("")
    if summary.cost is not None:
        headline, rows, notes = cost_lines(summary.cost)
        title, _, rest = headline.partition(": ")
        lines += [f"**{_text(title)}**: {_dollars(rest)}", ""]
        lines += [f"- {_code(name)}: {_dollars(text)}" for name, text in rows]
        lines += [f"- *{_dollars(note)}*" for note in notes]
        lines.append("")
    return "\n".join(lines)


def cost_lines(cost: CostEstimate) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The capacity cost in words: a headline (before -> after, a month at list price), a row per
    capacity holder (the table, each global index) with its capacity and price, and the notes
    (what is not estimated, a region the price table lacks)."""
    before, after = cost.before, cost.after
    if before is None:
        change = f"{_side_words(after, cost)} for the new table"
    elif after is None:
        change = f"{_side_words(before, cost)} -> none (table deleted)"
    elif _side_words(before, cost) == _side_words(after, cost):
        change = f"{_side_words(after, cost)}, unchanged"
    else:
        change = f"{_side_words(before, cost)} -> {_side_words(after, cost)}"
    priced = any(region == cost.region for region, _ in PRICES)
    source = (
        f"{cost.region} list prices of {cost.prices_as_of}, {HOURS_PER_MONTH} hours a month"
        if priced
        else f"the price table of {cost.prices_as_of} has no {cost.region} prices"
    )
    headline = f"Capacity cost: {change} ({source})"
    names = [part.name for side in (before, after) if side is not None for part in side.parts]
    rows = [(name, _part_words(name, cost)) for name in dict.fromkeys(names)]
    return headline, rows, list(cost.notes)


def _part_of(side: SideCost | None, name: str) -> PartCost | None:
    return next((part for part in side.parts if part.name == name), None) if side is not None else None


def _class_shown(cost: CostEstimate) -> bool:
    classes = {side.table_class for side in (cost.before, cost.after) if side is not None}
    return len(classes) > 1 or classes != {STANDARD}


def _side_words(side: SideCost | None, cost: CostEstimate) -> str:
    if side is None:
        return "none"
    if side.monthly is not None:
        words = f"{_money(side.monthly)}/month"
    elif side.billing_mode == ON_DEMAND:
        words = "on-demand (usage-based, not estimated)"
    else:
        words = "not estimated"
    return f"{words} ({side.table_class})" if _class_shown(cost) else words


def _part_words(name: str, cost: CostEstimate) -> str:
    """A capacity holder's capacity and price: ``before -> after`` when the plan has both sides."""
    sides = [side for side in (cost.before, cost.after) if side is not None]
    capacity = " -> ".join(_capacity(_part_of(side, name), side) for side in sides)
    money = " -> ".join(_part_money(_part_of(side, name), side) for side in sides)
    return f"{capacity}: {money}"


def _capacity(part: PartCost | None, side: SideCost) -> str:
    if part is None:
        return _absent(side)
    return f"{_units(part.read)} RCU, {_units(part.write)} WCU"


def _part_money(part: PartCost | None, side: SideCost) -> str:
    if part is None:
        return _absent(side)
    return f"{_money(part.monthly)}/month" if part.monthly is not None else "not estimated"


def _absent(side: SideCost) -> str:
    """What a side without this capacity holder has instead: no capacity (on-demand), or no index."""
    return "on-demand" if side.billing_mode == ON_DEMAND else "none"


def _units(span: Span | None) -> str:
    if span is None:
        return "(known after apply)"
    return f"{span.low:f}" if span.fixed else f"{span.low:f} to {span.high:f}"


def _money(span: Span) -> str:
    low, high = dollars(span.low), dollars(span.high)
    return f"${low:,.2f}" if low == high else f"${low:,.2f} to ${high:,.2f}"


def _rich_resource(resource: ResourceChange) -> list[RenderableType]:
    style = _STYLES.get(resource.action, "")
    head = Text.assemble(
        (f"{_SYMBOLS[resource.action]:>3} ", f"bold {style}"),
        (resource.address, "bold"),
        " ",
        _DOES[resource.action],
    )
    if resource.reason:
        head.append(f" ({resource.reason})", style="dim")
    parts: list[RenderableType] = [head]
    if resource.data_loss:
        parts.append(Text.assemble("    ", ("DATA LOSS", "bold red"), (f": {_DATA_LOSS[resource.action]}", "red")))
    rows = []
    for attribute in resource.attributes:
        change = Text(_attribute_words(resource.action, attribute))
        if attribute.forces_replacement:
            change.append("  forces replacement", style="bold red")
        rows.append((Text(attribute.path), change))
    return parts + _aligned(rows, 6)


def _aligned(rows: list[tuple[Text, Text]], indent: int) -> list[RenderableType]:
    """Each (name, change) on one line, the changes lined up after the longest name. Plain lines,
    never cut to a width: a CI log keeps every word, and no line ends in padding."""
    width = max((name.cell_len for name, _ in rows), default=0)
    return [
        Text.assemble(" " * indent, name, " " * (width - name.cell_len + 2), change, no_wrap=False)
        for name, change in rows
    ]


def _markdown_changes(resource: ResourceChange) -> list[str]:
    lines = []
    if resource.reason:
        lines.append(f"*{_text(resource.reason)}*")
    if resource.data_loss:
        lines.append(f"**DATA LOSS**: {_DATA_LOSS[resource.action]}")
    for attribute in resource.attributes:
        line = f"{_code(attribute.path)}{_attribute_words(resource.action, attribute, markdown=True)}"
        if attribute.forces_replacement:
            line += " (forces replacement)"
        lines.append(line)
    return lines


def _attribute_words(action: str, attribute: AttributeChange, *, markdown: bool = False) -> str:
    """``= value`` for a create; ``added``/``removed`` for a named object; else ``before -> after``."""
    shown = _code if markdown else _same
    separator = ": " if markdown else ""
    before, after = attribute.before, attribute.after
    if action == "create":
        return f" = {shown(compact(after))}" if markdown else f"= {compact(after)}"
    if before is None and isinstance(after, Mapping):
        return f"{separator}added {shown(compact(_without_own_name(attribute.path, after)))}"
    if after is None and isinstance(before, Mapping):
        return f"{separator}removed {shown(compact(_without_own_name(attribute.path, before)))}"
    return f"{separator}{shown(compact(before))} -> {shown(compact(after))}"


def _output_words(output: OutputChange, *, markdown: bool = False) -> str:
    shown = _code if markdown else _same
    if output.action == "create":
        return f"= {shown(compact(output.after))}"
    if output.action == "delete":
        return f"removed (was {shown(compact(output.before))})"
    return f"{shown(compact(output.before))} -> {shown(compact(output.after))}"


def _without_own_name(path: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    # The path already names a named object (`global_secondary_index[by-status]`).
    if isinstance(value.get("name"), str) and path.endswith(f"[{value['name']}]"):
        return {key: item for key, item in value.items() if key != "name"}
    return value


def _compact(value: Any) -> str:
    if isinstance(value, Marker):
        return value.value
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_json(str(key))}:{_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    if value is None or isinstance(value, bool | int | float | str):
        return _json(value)
    return _json(str(value))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _same(text: str) -> str:
    return text


def _code(text: str) -> str:
    """Markdown inline code that holds any text on one line (a longer fence around backticks)."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _text(text: str) -> str:
    """Plain words for Markdown: its special characters escaped, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def _dollars(text: str) -> str:
    """Plain words for Markdown with dollar signs escaped too: GitHub reads ``$...$`` as maths."""
    return _text(text).replace("$", "\\$")


def _cell(text: str) -> str:
    # A pipe ends a table cell even inside inline code; escaped, GitHub shows it as a pipe.
    return text.replace("|", "\\|")


def findings_markdown(findings: Sequence[Finding], *, title: str) -> str:
    """The findings as the step summary shows them: a heading and one bullet each, with the
    same code, field, message and fix as the terminal's lines and ``--json``."""
    bullets = []
    for finding in findings:
        message = _dollars(finding.message)
        said = f"{_code(finding.field)}: {message}" if finding.field else message
        said = f"{_dollars(finding.manifest)}: {said}" if finding.manifest else said
        said += f"; {_dollars(finding.fix)}" if finding.fix else ""
        bullets.append(f"- **{finding.severity.value}** {_code(finding.code)}: {said}")
    return "\n".join([f"#### {_dollars(title)}", "", *bullets])
