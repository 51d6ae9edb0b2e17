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
    # Bound by the saved plan being applied (no table recorded yet): the plan was reviewed for it.
    saved_plan: bool = False

    def __str__(self) -> str:
        return self.reason


def bind_account(
    recorded: RecordedTable | None, interrupted: InterruptedCreate | None, given: str | None
) -> AccountBinding | None:
    """The account this run is bound to: the recorded table's (or the interrupted create's, while
    the state does not record it), else the provider config's ``account_id``, else none. A
    provider config naming another account than the table's is refused here, before anything
    runs; so is a table planton knows of in an account nobody recorded (a half-created table
    written down by an earlier planton), unless the provider config says which account it is."""
    if recorded is not None:
        where = f"{recorded.name} ({recorded.region})" if recorded.region else recorded.name
        known, held = recorded.account, f"this workspace's state records table {where}"
    elif interrupted is not None:
        where = f"{interrupted.table_name} ({interrupted.region})" if interrupted.region else interrupted.table_name
        known, held = interrupted.account, f"planton's interrupted create of table {where} was"
    else:
        return (
            AccountBinding(given, f"the provider config's account_id is {given}", guards_a_table=False)
            if given
            else None
        )
    if known is None and given:
        return AccountBinding(given, f"{held} in AWS account {given} (the provider config's account_id)")
    if known is None:
        raise ChangeRefused(
            "\n".join(
                [
                    f"refused: {held} in an AWS account nobody recorded (an earlier planton did not), so planton "
                    "cannot tell whether these credentials would act on it or lose track of it; nothing was run",
                    "say which account it is in: give provider_config.account_id (for example `--aws-provider-config "
                    "FILE`, the file holding `account_id: '123456789012'`) with that account's credentials; planton "
                    "then binds every run to it",
                ]
            )
        )
    binding = AccountBinding(known, f"{held} in AWS account {known}")
    if given and given != known:
        raise ChangeRefused(
            "\n".join(
                [
                    f"refused: the provider config's account_id is {given}, but {binding}; nothing was run",
                    f"to act on the table, give account_id {known} (and that account's credentials); if this "
                    f"manifest is meant for a separate table in account {given}, give it its own workspace: its own "
                    "metadata.id, or another --work-dir",
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
    """The credentials belong to another account than the table's (or the saved plan's): told by
    the aws provider's refusal when terraform started, or found by planton asking first
    (``asked_first``)."""

    def __init__(self, binding: AccountBinding, caller: str, command: str, *, asked_first: bool = False) -> None:
        self.binding = binding
        self.caller = caller
        how = (
            f"planton asked terraform whose they are before {command}, and stopped there"
            if asked_first
            else f"the aws provider refused them when terraform's {command} started, before any table was read or "
            "written"
        )
        whose = f"account {caller}" if caller else "another account (STS did not say which)"
        if binding.saved_plan:
            effect = f"applied with them, the plan would act in {whose}, not in the account it was reviewed for"
        else:
            effect = (
                "under another account's credentials terraform would not find the table: it would create a new, "
                "empty one there (or delete or adopt that account's same-named table) and forget this one"
            )
        lines = [
            f"refused: {binding}, and these credentials belong to {whose}; nothing was changed ({how})",
            effect,
            f"run with account {binding.account}'s credentials (check AWS_PROFILE, the role the job assumes, or "
            f"the provider config); if this manifest is meant for a separate table in {whose}, give it its own "
            "workspace: its own metadata.id, or another --work-dir",
        ]
        super().__init__("\n".join(lines))

    @property
    def danger(self) -> str:
        """The refusal as one line, for a plan's dangers."""
        whose = f"account {self.caller}" if self.caller else "another account"
        return (
            f"{self.binding}, and these credentials belong to {whose}: terraform would not find the table there, "
            f"and applying would create or delete a table in {whose} and forget this one"
        )
