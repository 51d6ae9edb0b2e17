"""The AWS account a workspace's table belongs to, and refusing another account's credentials.

Once the state records a table (or planton remembers its own interrupted create of one), the
table's account is part of its identity, as its region is: under another account's credentials
terraform would not find it, and would create a new, empty table there (or delete or adopt a
same-named one of that account) and forget this one. So every run is bound to the table's
account through the aws provider's ``allowed_account_ids``: the provider asks STS whose the
credentials are when it starts, before any request that could read or change a table, and
refuses to go on. planton recognises that refusal in terraform's error output and names both
accounts (``AccountRefused``).

Pure: the recorded table, the remembered create and the provider config's ``account_id`` in; a
binding or a refusal out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from planton.errors import ChangeRefused
from planton.records import InterruptedCreate
from planton.state import RecordedTable

# What the aws provider says when allowed_account_ids refuses the credentials (every release
# since 2.x; OpenTofu runs the same provider). The account may be missing when STS did not name it.
_NOT_ALLOWED = re.compile(r"AWS account ID not allowed: ?([0-9]{12})?")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ACCOUNT = re.compile(r"[0-9]{12}")

# The module's data source that names the credentials' account.
CALLER_IDENTITY = "data.aws_caller_identity.current"


@dataclass(frozen=True)
class AccountBinding:
    """The account every terraform run must use, and what binds it, in words."""

    account: str
    # "this workspace's state records table orders (us-east-1) in AWS account 111111111111".
    reason: str
    # Bound by a table (recorded, or being created) or a saved plan, rather than only by the
    # provider config's account_id: a refusal is then planton's, with both accounts named.
    guards_a_table: bool = True

    def __str__(self) -> str:
        return self.reason


def bind_account(
    recorded: RecordedTable | None, interrupted: InterruptedCreate | None, given: str | None
) -> AccountBinding | None:
    """The account this run is bound to: the recorded table's (or the interrupted create's, while
    the state does not record it), else the provider config's ``account_id``, else none. A
    provider config naming another account than the table's is refused here, before anything
    runs."""
    binding: AccountBinding | None = None
    if recorded is not None and recorded.account:
        where = f"{recorded.name} ({recorded.region})" if recorded.region else recorded.name
        reason = f"this workspace's state records table {where} in AWS account {recorded.account}"
        binding = AccountBinding(recorded.account, reason)
    elif recorded is None and interrupted is not None and interrupted.account:
        where = f"{interrupted.table_name} ({interrupted.region})" if interrupted.region else interrupted.table_name
        reason = f"planton's interrupted create of table {where} was in AWS account {interrupted.account}"
        binding = AccountBinding(interrupted.account, reason)
    if binding is None:
        return (
            AccountBinding(given, f"the provider config's account_id is {given}", guards_a_table=False)
            if given
            else None
        )
    if given and given != binding.account:
        raise ChangeRefused(
            "\n".join(
                [
                    f"refused: the provider config's account_id is {given}, but {binding}; nothing was run",
                    f"to act on the table, give account_id {binding.account} (and that account's credentials); if "
                    f"this manifest is meant for a separate table in account {given}, give it its own workspace: "
                    "its own metadata.id, or another --work-dir",
                ]
            )
        )
    return binding


def refused_account(stderr: str) -> str | None:
    """The account whose credentials the aws provider refused (``allowed_account_ids``), read
    from terraform's error output; ``""`` when it refused without naming one; None when it
    did not refuse."""
    found = _NOT_ALLOWED.search(_ANSI.sub("", stderr))
    if found is None:
        return None
    return found.group(1) or ""


def caller_account_from_ui(text: str) -> str | None:
    """The account ``data.aws_caller_identity.current`` read, from terraform's machine-readable
    UI (``plan -json``: one JSON message a line; the read's ``apply_complete`` hook carries the
    data source's id, which is the account), or None."""
    for line in text.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        hook = message.get("hook") if isinstance(message, dict) and message.get("type") == "apply_complete" else None
        resource = hook.get("resource") if isinstance(hook, dict) else None
        if isinstance(resource, dict) and resource.get("addr") == CALLER_IDENTITY:
            account = hook.get("id_value") if isinstance(hook, dict) else None
            if isinstance(account, str) and _ACCOUNT.fullmatch(account):
                return account
    return None


class AccountRefused(ChangeRefused):
    """terraform stopped because the credentials belong to another account than the table's."""

    def __init__(self, binding: AccountBinding, caller: str, command: str) -> None:
        self.binding = binding
        self.caller = caller
        super().__init__("\n".join(self.reasons(command)))

    def reasons(self, command: str) -> list[str]:
        binding, caller = self.binding, self.caller
        whose = f"account {caller}" if caller else "another account (STS did not say which)"
        return [
            f"refused: {binding}, and these credentials belong to {whose}; nothing was changed (the aws "
            f"provider refused them when terraform's {command} started, before any table was read or written)",
            "under another account's credentials terraform would not find the table: it would create a new, "
            "empty one there (or delete or adopt that account's same-named table) and forget this one",
            f"run with account {binding.account}'s credentials (check AWS_PROFILE, the role the job assumes, or "
            f"the provider config); if this manifest is meant for a separate table in {whose}, give it its own "
            "workspace: its own metadata.id, or another --work-dir",
        ]

    @property
    def danger(self) -> str:
        """The refusal as one line, for a plan's dangers."""
        whose = f"account {self.caller}" if self.caller else "another account"
        return (
            f"{self.binding}, and these credentials belong to {whose}: terraform would not find the table there, "
            f"and applying would create or delete a table in {whose} and forget this one"
        )
