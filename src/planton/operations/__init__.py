"""One tofu/terraform command for one manifest, start to finish, one module per operation.

The data flows one way: manifest (or stack input) -> model -> table definition -> variables +
provider config -> workspace -> runner -> plan JSON -> decision -> apply of exactly that plan.
Everything that can fail for a user's reason (manifest, region, binary, credentials, mirror, a
plan file) is checked before anything is written or started.

* ``validation``: ``validate`` and ``render``, which run nothing (and import nothing that does);
* ``commands``: the ``Command`` names and the ``Operation`` record (what an operation does);
* ``catalogue``: ``OPERATIONS``, every ``planton tofu`` command once, with its handler;
* ``request``: the request and everything decided before anything runs (``prepare``);
* ``session``: the run's frozen ``RunContext``, a command's terraform runs and its outcome, the
  ``Ui``;
* ``results``: what a command came to (``what_happened``) and its exit code (``exit_status``),
  both pure;
* ``planning`` (``plan``), ``apply``, ``reviewed`` (``apply PLAN_FILE``), ``destroy``,
  ``adopt`` (``import``): the operations;
* ``run``: ``run_tofu``, from request to outcome (the operation's handler, under the lock).

Import from the module itself: this package imports none of them, so that ``validate`` does not
load the runner with them.
"""
