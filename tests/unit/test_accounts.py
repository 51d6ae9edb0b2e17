"""Which account a run is bound to, and reading terraform's answers about accounts."""

from __future__ import annotations

import json

import pytest

from planton.accounts import AccountBinding, AccountRefused, bind_account, caller_account_from_ui, refused_account
from planton.errors import EXIT_REFUSED, ChangeRefused
from planton.records import InterruptedCreate
from planton.state import RecordedTable

A, B = "111111111111", "222222222222"
RECORDED = RecordedTable("orders", tainted=False, region="us-east-1", account=A)


def test_nothing_binds_a_run_when_no_table_is_known_and_no_account_given() -> None:
    assert bind_account(None, None, None) is None


def test_the_provider_configs_account_binds_a_run_only_by_itself() -> None:
    binding = bind_account(None, None, B)
    assert binding == AccountBinding(B, f"the provider config's account_id is {B}", guards_a_table=False)


def test_the_recorded_tables_account_binds_the_run() -> None:
    binding = bind_account(RECORDED, None, None)
    assert binding is not None
    assert (binding.account, binding.guards_a_table) == (A, True)
    assert str(binding) == f"this workspace's state records table orders (us-east-1) in AWS account {A}"
    assert bind_account(RECORDED, None, A) == binding  # the same account given agrees


def test_an_interrupted_create_binds_the_run_while_the_state_records_nothing() -> None:
    binding = bind_account(None, InterruptedCreate("orders", "eu-west-1", A), None)
    assert binding is not None
    assert binding.account == A
    assert "planton's interrupted create of table orders (eu-west-1) was in AWS account" in str(binding)
    # Once the state records a table, its ARN says where it lives.
    assert bind_account(RECORDED, InterruptedCreate("other", "eu-west-1", B), None) == bind_account(
        RECORDED, None, None
    )


def test_a_provider_config_naming_another_account_than_the_tables_is_refused() -> None:
    with pytest.raises(ChangeRefused) as refused:
        bind_account(RECORDED, None, B)
    assert refused.value.exit_code == EXIT_REFUSED
    assert f"the provider config's account_id is {B}, but this workspace's state records table orders" in str(
        refused.value
    )


@pytest.mark.parametrize(
    ("recorded", "interrupted"),
    [
        (RecordedTable("orders", tainted=True), None),  # half-created, from a state without its account
        (None, InterruptedCreate("orders", "eu-west-1", None)),  # remembered by an earlier planton
    ],
)
def test_a_known_table_in_an_unknown_account_needs_the_account_said(
    recorded: RecordedTable | None, interrupted: InterruptedCreate | None
) -> None:
    # Unbound, credentials of any account would act: create a second table there, or "find" the
    # first gone and forget it.
    with pytest.raises(ChangeRefused, match="in an AWS account nobody recorded") as refused:
        bind_account(recorded, interrupted, None)
    assert "give provider_config.account_id" in str(refused.value)
    binding = bind_account(recorded, interrupted, B)
    assert binding is not None
    assert (binding.account, binding.guards_a_table) == (B, True)
    assert f"in AWS account {B} (the provider config's account_id)" in str(binding)


@pytest.mark.parametrize(
    ("stderr", "account"),
    [
        (f"\nError: AWS account ID not allowed: {B}\n\n  with provider[...]", B),
        (f"\x1b[31m│\x1b[0m \x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mAWS account ID not allowed: {B}\x1b[0m", B),
        ("Error: AWS account ID not allowed: \n", ""),
        ("Error: creating the table: AccessDenied", None),
        ("", None),
    ],
)
def test_the_providers_refusal_is_recognised(stderr: str, account: str | None) -> None:
    assert refused_account(stderr) == account


def test_the_callers_account_is_read_from_terraforms_machine_readable_ui() -> None:
    complete = {
        "type": "apply_complete",
        "hook": {"resource": {"addr": "data.aws_caller_identity.current"}, "id_key": "id", "id_value": A},
    }
    other = {"type": "apply_complete", "hook": {"resource": {"addr": "data.aws_kms_key.sse"}, "id_value": B}}
    lines = ["not json", json.dumps({"type": "version"}), json.dumps(other), json.dumps(complete)]
    assert caller_account_from_ui("\n".join(lines)) == A
    assert caller_account_from_ui(json.dumps(other)) is None
    assert caller_account_from_ui(json.dumps({**complete, "hook": {**complete["hook"], "id_value": "x"}})) is None


def test_the_refusal_names_both_accounts_and_the_way_out() -> None:
    refused = AccountRefused(bind_account(RECORDED, None, None) or AccountBinding(A, ""), B, "destroy")
    assert refused.exit_code == EXIT_REFUSED
    first, second, third = refused.lines()
    asked = AccountRefused(
        AccountBinding(A, "p.tfplan was made for AWS account 1", saved_plan=True), B, "applying", asked_first=True
    )
    assert "planton asked terraform whose they are before applying, and stopped there" in asked.lines()[0]
    assert "the plan would act in account" in asked.lines()[1]
    assert first.startswith(f"refused: this workspace's state records table orders (us-east-1) in AWS account {A}, ")
    assert f"these credentials belong to account {B}; nothing was changed" in first
    assert "when terraform's destroy started" in first
    assert "forget this one" in second
    assert f"run with account {A}'s credentials" in third
    assert B in refused.danger
    assert A in refused.danger
