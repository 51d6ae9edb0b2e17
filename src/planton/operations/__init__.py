"""One tofu/terraform command for one manifest, start to finish, one module per operation.

The data flows one way: manifest (or stack input) -> model -> table definition -> variables +
provider config -> workspace -> runner -> plan JSON -> decision -> apply of exactly that plan.
Everything that can fail for a user's reason (manifest, region, binary, credentials, mirror, a
plan file) is checked before anything is written or started.

* ``request``: the request and everything decided before anything runs (``prepare``);
* ``session``: a command's terraform runs, its outcome and exit code, the ``Ui``;
* ``planning`` (``plan``), ``apply``, ``reviewed`` (``apply PLAN_FILE``), ``destroy``,
  ``adopt`` (``import``): the operations;
* ``run``: ``run_tofu``, from request to outcome.
"""

from planton.operations.request import (
    APPROVABLE_COMMANDS,
    PIPE_TIMEOUT_ENV,
    TOFU_COMMANDS,
    TofuRequest,
    Validated,
    pipe_timeout,
    render_manifest,
    validate_manifest,
)
from planton.operations.run import run_tofu
from planton.operations.session import ShowPlan, TofuOutcome, Ui, tofu_exit_code

__all__ = [
    "APPROVABLE_COMMANDS",
    "PIPE_TIMEOUT_ENV",
    "TOFU_COMMANDS",
    "ShowPlan",
    "TofuOutcome",
    "TofuRequest",
    "Ui",
    "Validated",
    "pipe_timeout",
    "render_manifest",
    "run_tofu",
    "tofu_exit_code",
    "validate_manifest",
]
