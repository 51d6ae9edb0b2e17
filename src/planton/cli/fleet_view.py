"""How a fleet looks: one line per manifest while it runs (a live display at a terminal, a line per
change of state elsewhere), terraform's lines prefixed with the manifest's name under
``--verbose``, the plans before the one question, and one table of results at the end (also as
Markdown for GitHub's step summary)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planton.cli import output
from planton.findings import Finding
from planton.operations.fleet import FleetOutcome, FleetUi, Member, MemberResult, Result

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

_STYLES = {
    Result.NO_CHANGES: "green",
    Result.CHANGES: "yellow",
    Result.APPLIED: "green",
    Result.DONE: "green",
    Result.REFUSED: "bold red",
    Result.FAILED: "bold red",
    Result.INTERRUPTED: "bold red",
    Result.SKIPPED: "dim",
}


def counts_text(counts: Mapping[str, Any] | None) -> str:
    """``+1 ~2 -0 ±0``: to add, change, destroy, replace; empty without a plan."""
    if not counts or not any(counts.get(name) for name in ("add", "change", "destroy", "replace")):
        return ""
    return " ".join(
        f"{sign}{counts.get(name, 0)}"
        for sign, name in (("+", "add"), ("~", "change"), ("-", "destroy"), ("±", "replace"))
    )


def result_words(result: MemberResult) -> str:
    """A manifest's result as its line says it: ``changes (+1 ~0 -0 ±0)``, ``failed (exit 1)``."""
    words = result.result.value
    if result.result is Result.CHANGES or (result.result is Result.APPLIED and result.counts):
        words += f" ({counts_text(result.counts)})"
    elif result.result.failed and result.exit_code is not None:
        words += f" (exit {result.exit_code})"
    elif result.result is Result.SKIPPED and result.why:
        words += f" ({result.why[0]})"
    return words


class FleetDisplay:
    """The fleet's front end: builds the ``FleetUi`` the core reports to."""

    def __init__(self, *, animated: bool, verbose: bool, machine: bool = False) -> None:
        self._animated = animated
        self._verbose = verbose
        # Under --json stdout holds the document alone: the plans are shown on stderr.
        self._machine = machine
        self._lock = threading.RLock()
        self._members: list[Member] = []
        self._states: list[str] = []
        self._started: list[float | None] = []
        self._elapsed: list[float] = []
        self._live: Live | None = None

    def ui(self) -> FleetUi:
        return FleetUi(
            notify=output.notify,
            warn=output.warn,
            confirm=self._confirm,
            members=self._set_members,
            started=self._on_started,
            status=self._on_status,
            line=self._on_line,
            ended=self._on_ended,
            review=self._review,
        )

    # -- what the core reports ------------------------------------------------------------------

    def _set_members(self, members: Sequence[Member]) -> None:
        with self._lock:
            self._members = list(members)
            self._states = ["waiting"] * len(members)
            self._started = [None] * len(members)
            self._elapsed = [0.0] * len(members)
        self._start_live()

    def _on_started(self, position: int, phase: str) -> None:
        with self._lock:
            self._states[position] = phase
            self._started[position] = time.monotonic()
        self._plain(position, phase)

    def _on_status(self, position: int, text: str) -> None:
        with self._lock:
            changed = self._states[position] != text
            self._states[position] = text
        if changed:
            self._plain(position, text)

    def _on_line(self, position: int, text: str) -> None:
        if not self._verbose:
            return
        with self._lock:
            name = self._members[position].name
            width = max(len(member.name) for member in self._members)
            line = f"{name:<{width}} | {text}"
            if self._live is not None:
                self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                output.plain_line(line)

    def _on_ended(self, position: int, result: MemberResult) -> None:
        with self._lock:
            started = self._started[position]
            if started is not None:
                self._elapsed[position] += time.monotonic() - started
            self._started[position] = None
            self._states[position] = result_words(result)
        self._plain(position, f"{result_words(result)}, {self._elapsed[position]:.1f}s")

    def _plain(self, position: int, text: str) -> None:
        """Off a terminal, each change of a manifest's state is one line."""
        if self._animated:
            return
        with self._lock:
            output.notify(f"{self._members[position].name}: {text}")

    def _review(self, results: Sequence[MemberResult]) -> None:
        self.stop()
        if self._machine:
            output.show_on_stderr(review(results))
        else:
            output.show(review(results))

    def _confirm(self, lines: Sequence[Finding]) -> bool:
        self.stop()
        try:
            return output.confirm(lines)
        finally:
            self._start_live()

    # -- the live display -----------------------------------------------------------------------

    def _start_live(self) -> None:
        if not self._animated or self._live is not None:
            return
        from rich.live import Live

        self._live = Live(
            get_renderable=self._render,
            console=output.stderr_console(),
            refresh_per_second=4,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def stop(self) -> None:
        """Take the live display off the terminal (before a question, and at the end)."""
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _render(self) -> RenderableType:
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column()
        table.add_column(justify="right")
        now = time.monotonic()
        with self._lock:
            for position, member in enumerate(self._members):
                started = self._started[position]
                elapsed = self._elapsed[position] + (now - started if started is not None else 0.0)
                state = self._states[position]
                mark = "…" if started is not None else ("·" if state == "waiting" else "✔")
                table.add_row(
                    Text(f"{mark} {member.name}", style="bold"), Text(state), Text(f"{elapsed:.1f}s", style="dim")
                )
        return table


def review(results: Sequence[MemberResult]) -> RenderableType:
    """Every plan that changes something, before the one question: each manifest, its counts,
    each resource's action, and planton's dangers."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = [Text("\nplanton: what these plans do", style="dim")]
    for result in results:
        if result.result is not Result.CHANGES:
            continue
        document = result.document or {}
        head = Text.assemble(
            (result.member.name, "bold"),
            f" ({result.member.label}, table {result.member.table}): ",
            (counts_text(result.counts), "yellow"),
        )
        parts.append(head)
        for resource in document.get("resources") or []:
            loss = "  DATA LOSS" if resource.get("data_loss") else ""
            parts.append(Text(f"    {resource.get('action')} {resource.get('address')}{loss}"))
        for danger in document.get("dangers") or []:
            parts.append(Text(f"    DANGER: {danger}", style="bold red"))
    return Group(*parts)


def results_table(outcome: FleetOutcome) -> RenderableType:
    """One row per manifest: its name, manifest, table, result, counts and time."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"\nplanton tofu {outcome.command}", title_justify="left", header_style="bold")
    for column in ("manifest", "file", "table", "result", "changes", "time"):
        folds = column in ("file",)
        table.add_column(column, justify="right" if column == "time" else "left", overflow="fold", no_wrap=not folds)
    for result in outcome.results:
        table.add_row(
            result.member.name,
            result.member.label,
            result.member.table,
            Text(result.result.value, style=_STYLES[result.result]),
            counts_text(result.counts),
            f"{result.seconds:.1f}s",
        )
    return table


def failures(outcome: FleetOutcome) -> list[list[str]]:
    """What went wrong, per manifest: a headline, its error lines and where its full log is."""
    said = []
    for result in outcome.results:
        if not result.result.failed:
            continue
        lines = [f"{result.member.name} ({result.member.label}): {result_words(result)}"]
        lines += [f"  {line}" for line in result.why]
        lines.append(f"  full output: {result.member.log}")
        said.append(lines)
    return said


def fleet_markdown(outcome: FleetOutcome, *, title: str) -> str:
    """The fleet's results as one GitHub-flavoured Markdown table."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"## {cell(title)}", ""]
    lines += [f"**Refused**: {cell(line)}" for line in outcome.refusal[:1]]
    lines += ["| Manifest | Table | Result | Changes | Time |", "| --- | --- | --- | --- | --- |"]
    for result in outcome.results:
        name = f"`{cell(result.member.name)}`<br>{cell(result.member.label)}"
        lines.append(
            f"| {name} | `{cell(result.member.table)}` | {cell(result_words(result))} | "
            f"{cell(counts_text(result.counts))} | {result.seconds:.1f}s |"
        )
    return "\n".join([*lines, ""])
