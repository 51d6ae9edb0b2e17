"""What planton remembers about a workspace beside terraform's state: a create of its own that
was interrupted, and the plans ``plan --out`` saved. (The workspace keeps them, in files of its
own next to the state.)"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InterruptedCreate:
    """planton's own create of a table, interrupted before it finished: which table, where, and
    under which account's credentials (None when not known)."""

    table_name: str
    region: str | None
    account: str | None = None

    def __str__(self) -> str:
        where = [part for part in (self.region, f"account {self.account}" if self.account else None) if part]
        return f"{self.table_name} ({', '.join(where)})" if where else self.table_name


@dataclass(frozen=True)
class SavedPlan:
    """What ``plan --out`` recorded of a plan it saved: a destroy plan or not, the AWS account it
    was made for (None when not known), once applied when (seconds since the epoch), and when an
    apply of it last failed."""

    destroy: bool
    applied: float | None
    account: str | None = None
    failed: float | None = None
