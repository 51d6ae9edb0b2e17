#!/usr/bin/env python3
"""planton against raw terraform, side by side, against a moto server this harness starts itself.

    .venv/bin/python bench/run.py [--runs N] [--only NAMES] [--json] [--keep]

Each timed pair runs interleaved (planton, terraform, planton, terraform, ...) after one untimed
warm-up of each side, and is reported as medians (with min and max) and their ratio, checked
against the targets of issue 15. See bench/README.md for what each measure does and exactly
which environment each side gets. Standard library only: it runs planton and terraform as
processes, and imports planton only in bench/validate_many.py.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent
PLANTON = BIN_DIR / "planton"
DEFAULT_MIRROR = Path(os.environ.get("PLANTON_PLUGIN_MIRROR") or "/opt/tf-plugins")
REGION = "us-east-1"
MB = 1024 * 1024

# What planton may set for its terraform child to tune it (the Go runtime) or to install
# providers its own way (a plugin cache, a CLI config of its own): the raw side keeps the user's
# own values of these, as a user who runs terraform by hand has them.
TUNING_VARIABLES = ("GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG")
INSTALL_VARIABLES = ("TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE")

MEASURES = (
    "version",
    "validate",
    "noop-plan",
    "change-plan",
    "init-plan",
    "cold-plan",
    "noop-apply",
    "disk",
    "scaling",
    "memory",
    "fleet",
    "validate-fleet",
)
SCALING_COUNTS = (1, 10, 100, 1000)
DISK_WORKSPACES = 20
FLEET_SIZE = 6
FLEET_PARALLELISM = 3
VALIDATE_FLEET_SIZE = 200


class BenchError(Exception):
    """A step of the benchmark failed: the message says which, with the end of its output."""


# ---------------------------------------------------------------- results


@dataclass
class Stats:
    """Samples of one side of a measure, in ``unit``."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_json(self) -> dict[str, object]:
        return {"median": self.median, "min": min(self.samples), "max": max(self.samples), "samples": self.samples}


@dataclass
class Row:
    """One line of the report. ``ratio`` is planton's median over terraform's; ``target`` says
    what passes, and ``passed`` whether it did (None: nothing to check)."""

    measure: str
    label: str
    unit: str
    planton: Stats | None = None
    terraform: Stats | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.planton is None or self.terraform is None or self.terraform.median == 0:
            return None
        return self.planton.median / self.terraform.median

    def to_json(self) -> dict[str, object]:
        return {
            "measure": self.measure,
            "label": self.label,
            "unit": self.unit,
            "planton": self.planton.to_json() if self.planton else None,
            "terraform": self.terraform.to_json() if self.terraform else None,
            "ratio": self.ratio,
            "target": self.target,
            "passed": self.passed,
            "note": self.note,
        }


def ratio_row(measure: str, label: str, planton: Stats, terraform: Stats, limit: float) -> Row:
    row = Row(measure, label, "s", planton, terraform, target=f"ratio <= {limit:g}")
    row.passed = row.ratio is not None and row.ratio <= limit
    return row


# ---------------------------------------------------------------- processes


class Processes:
    """Starts every child of the harness, so that a Ctrl-C or SIGTERM reaches the one running:
    it gets SIGINT and time to stop (terraform then writes its state) rather than being killed."""

    def run(
        self, argv: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str], log: Path, ok: Sequence[int] = (0,)
    ) -> float:
        """Run to the end with stdout and stderr in ``log``; the wall time in seconds. An exit
        code outside ``ok`` is a BenchError showing the end of the log."""
        with open(log, "wb") as out:
            started = time.perf_counter()
            process = self._start(argv, cwd=cwd, env=env, stdout=out)
            code = self._wait(process)
            elapsed = time.perf_counter() - started
        if code not in ok:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise BenchError(f"{' '.join(map(str, argv))} (in {cwd}) exited {code}:\n{tail}")
        return elapsed

    def output(self, argv: Sequence[str | Path], *, env: Mapping[str, str] | None = None) -> str:
        """A quick command's stdout ('' when it cannot run): for the machine's description."""
        try:
            return subprocess.run(
                [str(part) for part in argv], capture_output=True, text=True, env=env, timeout=60, check=False
            ).stdout
        except OSError:
            return ""

    def _start(
        self, argv: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str], stdout: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [str(part) for part in argv],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C at the terminal reaches the harness alone, which then
            # sends the child exactly one SIGINT (a second one makes terraform abort unsaved).
            start_new_session=True,
        )
        return process

    def _wait(self, process: subprocess.Popen[bytes]) -> int:
        try:
            return process.wait()
        except KeyboardInterrupt:
            self.stop(process)
            raise

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGINT (planton forwards it to terraform once), then a minute to finish, then SIGKILL."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def peak_memory(
        self, argv: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str], log: Path, interval: float = 0.01
    ) -> dict[str, float]:
        """Run ``argv`` and measure its memory, in MB: ``largest`` is the largest resident set
        of any one process of the tree (exact: the kernel's ru_maxrss from wait4, which is the
        maximum over the process and its descendants, not their sum); ``tree`` the peak of the
        tree's summed resident sets, sampled every ``interval`` seconds (so a short peak can be
        missed); and the peak per program (``by:<name>``, its processes summed)."""
        with open(log, "wb") as out:
            process = self._start(argv, cwd=cwd, env=env, stdout=out)
            peak_tree = 0
            peak_by: dict[str, int] = {}
            try:
                while True:
                    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid:
                        break
                    sizes = _tree_rss(process.pid)
                    peak_tree = max(peak_tree, sum(size for _, size in sizes))
                    by_name: dict[str, int] = {}
                    for name, size in sizes:
                        by_name[name] = by_name.get(name, 0) + size
                    for name, size in by_name.items():
                        peak_by[name] = max(peak_by.get(name, 0), size)
                    time.sleep(interval)
            except KeyboardInterrupt:
                self.stop(process)
                raise
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise BenchError(f"{' '.join(map(str, argv))} exited {process.returncode}:\n{tail}")
        result = {"largest": usage.ru_maxrss * 1024 / MB, "tree": peak_tree / MB}
        result.update({f"by:{name}": size / MB for name, size in sorted(peak_by.items())})
        return result


def _tree_rss(root: int) -> list[tuple[str, int]]:
    """(program name, resident bytes) of ``root`` and every descendant alive now."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as stat:
                text = stat.read()
        except OSError:
            continue
        name, _, rest = text[text.index("(") + 1 :].rpartition(")")
        parents[int(entry.name)] = int(rest.split()[1])
        names[int(entry.name)] = name
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    # A child still named as its parent has not run its own program yet (fork or vfork, then
    # exec): it shares its parent's memory, which would be counted twice.
    tree = {pid for pid in tree if pid == root or names.get(pid) != names.get(parents.get(pid, 0))}
    page = os.sysconf("SC_PAGE_SIZE")
    sizes: list[tuple[str, int]] = []
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                sizes.append((names.get(pid, "?"), int(statm.read().split()[1]) * page))
        except (OSError, IndexError, ValueError):
            continue
    return sizes


# ---------------------------------------------------------------- moto server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """A moto server of our own on a free loopback port; stopped by its PID when done, whatever
    happens."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C at the terminal is ours to handle, not moto's
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if process.poll() is not None:
                raise BenchError(f"moto server exited {process.returncode}: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise BenchError(f"moto server did not answer within 30 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310 (our own loopback URL)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- manifests

SMALL = """\
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata:
  name: {name}
  org: planton
  env: dev
  labels:
    team: platform
spec:
  table_name: {name}
  aws_region: us-east-1
  billing_mode: PAY_PER_REQUEST
  partition_key_name: customer_id
  partition_key_type: STRING
  sort_key_name: order_ts
  sort_key_type: NUMBER
  point_in_time_recovery_enabled: {pitr}
  server_side_encryption_enabled: true
"""

CURRENT = """\
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata:
  name: {name}
spec:
  awsRegion: us-east-1
  billingMode: PAY_PER_REQUEST
  attributeDefinitions:
    - {{name: customer_id, type: S}}
    - {{name: order_ts, type: N}}
    - {{name: status, type: S}}
  keySchema:
    - {{attributeName: customer_id, keyType: HASH}}
    - {{attributeName: order_ts, keyType: RANGE}}
  globalSecondaryIndexes:
    - name: by-status
      keySchema: [{{attributeName: status, keyType: HASH}}]
      projection: {{type: INCLUDE, nonKeyAttributes: [total]}}
  ttl: {{enabled: true, attributeName: expires_at}}
  pointInTimeRecoveryEnabled: true
  tags: {{cost-centre: "42"}}
"""


def small_manifest(name: str, *, pitr: bool = True) -> str:
    """hack/manifest.yaml's table (the flat dialect) under another name."""
    return SMALL.format(name=name, pitr=str(pitr).lower())


def widest_manifest(name: str) -> str:
    """A table with DynamoDB's most indexes: 20 global and 5 local secondary indexes (the
    current dialect), every projection kind, global indexes with and without a sort key."""
    attributes = ["    - {name: pk, type: S}", "    - {name: sk, type: N}"]
    attributes += [f"    - {{name: g{i:02d}, type: S}}" for i in range(20)]
    attributes += [f"    - {{name: l{i}, type: N}}" for i in range(5)]
    globals_: list[str] = []
    for i in range(20):
        keys = f"[{{attributeName: g{i:02d}, keyType: HASH}}" + (
            ", {attributeName: sk, keyType: RANGE}]" if i % 2 else "]"
        )
        projection = ("{type: ALL}", "{type: KEYS_ONLY}", f"{{type: INCLUDE, nonKeyAttributes: [a{i}, b{i}]}}")[i % 3]
        globals_ += [f"    - name: gsi-{i:02d}", f"      keySchema: {keys}", f"      projection: {projection}"]
    locals_: list[str] = []
    for i in range(5):
        keys = f"[{{attributeName: pk, keyType: HASH}}, {{attributeName: l{i}, keyType: RANGE}}]"
        projection = ("{type: KEYS_ONLY}", "{type: ALL}", f"{{type: INCLUDE, nonKeyAttributes: [c{i}]}}")[i % 3]
        locals_ += [f"    - name: lsi-{i}", f"      keySchema: {keys}", f"      projection: {projection}"]
    return "\n".join(
        [
            "apiVersion: aws.project-planton.org/v1",
            "kind: AwsDynamodb",
            "metadata:",
            f"  name: {name}",
            "spec:",
            "  awsRegion: us-east-1",
            "  billingMode: PAY_PER_REQUEST",
            "  attributeDefinitions:",
            *attributes,
            "  keySchema:",
            "    - {attributeName: pk, keyType: HASH}",
            "    - {attributeName: sk, keyType: RANGE}",
            "  globalSecondaryIndexes:",
            *globals_,
            "  localSecondaryIndexes:",
            *locals_,
            "",
        ]
    )


# ---------------------------------------------------------------- the bench


@dataclass
class Bench:
    scratch: Path
    endpoint: str
    mirror: Path
    terraform: Path
    runs: int
    warmup: int
    processes: Processes = field(default_factory=Processes)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    environments: dict[str, object] = field(default_factory=dict)
    _workspace: Path | None = None
    _raw_env: dict[str, str] | None = None
    _logs: int = 0
    last_log: Path = Path()

    # -- environments

    def user_env(self, home: Path | None = None) -> dict[str, str]:
        """What a user of this machine has when running planton (and terraform): dummy
        credentials for the emulator, a region, and a CLI configuration whose filesystem mirror
        stands in for the registry (this machine has no network). Nothing else from the
        harness's own environment."""
        home = home or self.scratch / "home"
        home.mkdir(parents=True, exist_ok=True)
        return {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": str(self.cli_config()),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
        }

    def cli_config(self) -> Path:
        path = self.scratch / "terraformrc"
        if not path.exists():
            path.write_text(
                "provider_installation {\n"
                "  filesystem_mirror {\n"
                f'    path    = "{self.mirror}"\n'
                '    include = ["registry.terraform.io/*/*"]\n'
                "  }\n"
                "}\n",
                encoding="utf-8",
            )
        return path

    def raw_env(self) -> dict[str, str]:
        """The raw side's environment: exactly what planton gives its terraform child (captured
        from a real run, through a stand-in that records it), except the Go runtime's tuning and
        provider installation settings, which are the user's own (see TUNING_VARIABLES)."""
        if self._raw_env is None:
            user = self.user_env()
            planton_child = self._capture_child_env()
            raw = dict(planton_child)
            for name in (*TUNING_VARIABLES, *INSTALL_VARIABLES):
                raw.pop(name, None)
                if name in user:
                    raw[name] = user[name]
            self._raw_env = raw
            self.environments = {
                "user (planton's side)": _shown(user),
                "planton's terraform child": _shown(planton_child),
                "raw terraform (same as planton's child, untuned)": _shown(raw),
                "planton's child has beyond the raw side": {
                    name: planton_child[name] for name in sorted(planton_child) if raw.get(name) != planton_child[name]
                },
                "planton's child has beyond the user's": {
                    name: planton_child[name] for name in sorted(planton_child) if user.get(name) != planton_child[name]
                },
                "the user's has beyond planton's child": sorted(set(user) - set(planton_child)),
                "the raw side has beyond planton's child": {
                    name: raw[name] for name in sorted(raw) if planton_child.get(name) != raw[name]
                },
            }
        return dict(self._raw_env)

    def _capture_child_env(self) -> dict[str, str]:
        """Run `planton tofu plan` once (in a work dir of its own) with a stand-in for terraform
        that records its environment for `plan` and then runs the real terraform."""
        directory = self.scratch / "env-capture"
        directory.mkdir()
        recorded = directory / "plan.env"
        stand_in = directory / "terraform"
        stand_in.write_text(
            f'#!/bin/sh\nif [ "$1" = plan ]; then env -0 > "{recorded}"; fi\nexec "{self.terraform}" "$@"\n',
            encoding="utf-8",
        )
        stand_in.chmod(0o755)
        manifest = directory / "capture.yaml"
        manifest.write_text(small_manifest("bench-env-capture"), encoding="utf-8")
        self.planton(
            "tofu", "plan", "-f", manifest, "--work-dir", directory / "work", "--binary", stand_in, cwd=directory
        )
        if not recorded.exists():
            raise BenchError("planton ran no terraform plan: the child's environment could not be recorded")
        entries = recorded.read_bytes().split(b"\0")
        child = dict(entry.decode().split("=", 1) for entry in entries if b"=" in entry)
        child.pop("PWD", None)  # the stand-in shell's own
        return child

    # -- running things

    def log(self, name: str) -> Path:
        """A new log file (``last_log``): every process's output is kept, for a failure's report."""
        self._logs += 1
        directory = self.scratch / "logs"
        directory.mkdir(exist_ok=True)
        self.last_log = directory / f"{self._logs:04d}-{name}.log"
        return self.last_log

    def planton(self, *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> float:
        return self.processes.run(
            [PLANTON, *args], cwd=cwd, env=env or self.user_env(), log=self.log("planton-" + str(args[0]))
        )

    def raw(self, *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> float:
        return self.processes.run(
            [self.terraform, *args], cwd=cwd, env=env or self.raw_env(), log=self.log("terraform-" + str(args[0]))
        )

    def pair(self, name: str, planton: Callable[[], float], terraform: Callable[[], float]) -> tuple[Stats, Stats]:
        """Warm-up runs of each side (untimed), then ``runs`` of each, interleaved; planton
        always first, so each terraform run finds the files planton's run just wrote."""
        for _ in range(self.warmup):
            planton()
            terraform()
        ours: list[float] = []
        theirs: list[float] = []
        for index in range(self.runs):
            progress(f"{name}: run {index + 1}/{self.runs}")
            ours.append(planton())
            theirs.append(terraform())
        return Stats(ours), Stats(theirs)

    # -- the manifest's workspace

    def manifest(self, name: str = "bench", *, pitr: bool = True) -> Path:
        path = self.scratch / (f"{name}.yaml" if pitr else f"{name}-changed.yaml")
        if not path.exists():
            path.write_text(small_manifest("planton-bench-orders", pitr=pitr), encoding="utf-8")
        return path

    @property
    def work_dir(self) -> Path:
        return self.scratch / "work"

    def workspace(self) -> Path:
        """The workspace of the benchmark's table, applied once (so plans and applies in it are
        no-ops): planton's ``<work dir>/<target>/<key>``, as planton reports it."""
        if self._workspace is None:
            progress("setting up: planton tofu apply of the benchmark's table")
            self.planton(
                "tofu", "apply", "--auto-approve", "-f", self.manifest(), "--work-dir", self.work_dir, cwd=self.scratch
            )
            text = self.last_log.read_text(encoding="utf-8", errors="replace")
            found = re.findall(r"^planton: workspace (.+)$", text, flags=re.MULTILINE)
            self._workspace = Path(found[-1]) if found else _find_workspace(self.work_dir)
        return self._workspace

    # -- the measures

    def measure_version(self) -> None:
        """`planton --version` (target: at most 0.1 s); `terraform version` beside it, for scale."""
        ours, theirs = self.pair(
            "version",
            lambda: self.planton("--version", cwd=self.scratch),
            lambda: self.raw("version", cwd=self.scratch),
        )
        row = Row("version", "planton --version (terraform version)", "s", ours, theirs, target="planton <= 0.1 s")
        row.passed = ours.median <= 0.1
        self.rows.append(row)

    def measure_validate(self) -> None:
        """1. `planton validate` vs `terraform validate` in the (initialised) workspace."""
        workspace = self.workspace()
        manifest = self.manifest()
        ours, theirs = self.pair(
            "validate",
            lambda: self.planton("validate", "-f", manifest, cwd=self.scratch),
            lambda: self.raw("validate", cwd=workspace),
        )
        self.rows.append(ratio_row("validate", "planton validate vs terraform validate", ours, theirs, 0.06))

    def measure_noop_plan(self) -> None:
        """2. A warm no-op `planton tofu plan` vs raw `terraform plan` in the same workspace."""
        workspace = self.workspace()
        manifest = self.manifest()
        ours, theirs = self.pair(
            "noop-plan",
            lambda: self.planton("tofu", "plan", "-f", manifest, "--work-dir", self.work_dir, cwd=self.scratch),
            lambda: self.raw("plan", "-input=false", cwd=workspace),
        )
        self.rows.append(ratio_row("noop-plan", "warm no-op plan vs terraform plan", ours, theirs, 1.0))

    def measure_change_plan(self) -> None:
        """3. A warm `planton tofu plan` with one change (point-in-time recovery turned off) vs
        raw `terraform plan -out` + `terraform show -json` of that plan, same workspace."""
        workspace = self.workspace()
        changed = self.manifest(pitr=False)
        plan_file = self.scratch / "raw.tfplan"

        shown: list[Path] = []

        def raw() -> float:
            elapsed = self.raw("plan", "-input=false", f"-out={plan_file}", cwd=workspace)
            elapsed += self.raw("show", "-json", plan_file, cwd=workspace)
            shown.append(self.last_log)
            return elapsed

        ours, theirs = self.pair(
            "change-plan",
            lambda: self.planton("tofu", "plan", "-f", changed, "--work-dir", self.work_dir, cwd=self.scratch),
            raw,
        )
        if '"update"' not in shown[-1].read_text(encoding="utf-8"):
            raise BenchError("the changed manifest's plan changes nothing: the measure would compare no-ops")
        self.rows.append(ratio_row("change-plan", "plan with one change vs plan + show -json", ours, theirs, 1.05))
        # Put the workspace's variables back as the other measures expect them.
        self.planton("tofu", "plan", "-f", self.manifest(), "--work-dir", self.work_dir, cwd=self.scratch)

    def measure_init_plan(self) -> None:
        """4. A warm `planton tofu plan` (it inits only when something init depends on changed)
        vs `terraform init` then `terraform plan` in the same workspace: what Project Planton
        runs every time."""
        workspace = self.workspace()
        manifest = self.manifest()

        def raw() -> float:
            elapsed = self.raw("init", "-input=false", cwd=workspace)
            return elapsed + self.raw("plan", "-input=false", cwd=workspace)

        ours, theirs = self.pair(
            "init-plan",
            lambda: self.planton("tofu", "plan", "-f", manifest, "--work-dir", self.work_dir, cwd=self.scratch),
            raw,
        )
        self.rows.append(ratio_row("init-plan", "planton tofu plan vs init then plan (warm)", ours, theirs, 0.75))

    def measure_cold_plan(self) -> None:
        """Beside 4: `planton tofu plan` in a new workspace (it runs init itself) vs `terraform
        init` then `terraform plan` in a new directory holding the same files, for information
        (both init; no target). Twice: with the provider installed the default way (the user's
        CLI config: planton without --plugin-mirror, plain `terraform init`), and with
        `--plugin-mirror` / `-plugin-dir`."""
        source = self.workspace()
        manifest = self.manifest()
        files = [path for path in source.iterdir() if path.suffix == ".tf" or path.name == "terraform.tfvars.json"]
        lock = source / ".terraform.lock.hcl"
        cold = self.scratch / "cold"
        cold.mkdir(exist_ok=True)
        counter = iter(range(10**6))

        for variant, planton_flags, init_flags in (
            ("default install", (), ()),
            ("--plugin-mirror / -plugin-dir", ("--plugin-mirror", str(self.mirror)), (f"-plugin-dir={self.mirror}",)),
        ):

            def ours(flags: tuple[str, ...] = planton_flags) -> float:
                work = cold / f"planton-{next(counter)}"
                elapsed = self.planton("tofu", "plan", "-f", manifest, "--work-dir", work, *flags, cwd=self.scratch)
                shutil.rmtree(work)
                return elapsed

            def theirs(flags: tuple[str, ...] = init_flags) -> float:
                directory = cold / f"raw-{next(counter)}"
                directory.mkdir()
                for path in [*files, lock] if lock.exists() else files:
                    shutil.copy2(path, directory / path.name)
                elapsed = self.raw("init", "-input=false", *flags, cwd=directory)
                elapsed += self.raw("plan", "-input=false", cwd=directory)
                shutil.rmtree(directory)
                return elapsed

            planton_stats, terraform_stats = self.pair(f"cold-plan ({variant})", ours, theirs)
            label = f"new workspace plan vs init + plan ({variant})"
            self.rows.append(Row("cold-plan", label, "s", planton_stats, terraform_stats))

    def measure_noop_apply(self) -> None:
        """5. A no-op `planton tofu apply --auto-approve` vs `terraform apply -auto-approve`."""
        workspace = self.workspace()
        manifest = self.manifest()
        ours, theirs = self.pair(
            "noop-apply",
            lambda: self.planton(
                "tofu", "apply", "--auto-approve", "-f", manifest, "--work-dir", self.work_dir, cwd=self.scratch
            ),
            lambda: self.raw("apply", "-auto-approve", "-input=false", cwd=workspace),
        )
        self.rows.append(ratio_row("noop-apply", "no-op apply vs terraform apply -auto-approve", ours, theirs, 1.1))

    def measure_disk(self) -> None:
        """6. Disk used by 20 workspaces of different manifests in one work dir: with
        --plugin-mirror, and planton's default provider installation (the user's CLI config).
        Each is initialised (`planton tofu init`, what a first plan does before it plans); then
        one of them is planned, to show what a plan adds. Counted: the work dir and the user's
        home (planton's cache and state live there), hard links once, symbolic links themselves
        and not what they lead to."""
        provider = _provider_binary(self.mirror)
        provider_bytes = provider.stat().st_size
        for variant, flags in (("--plugin-mirror", ("--plugin-mirror", str(self.mirror))), ("default install", ())):
            root = self.scratch / ("disk-mirror" if flags else "disk-default")
            home = root / "home"
            env = self.user_env(home)
            manifests = root / "manifests"
            manifests.mkdir(parents=True)
            started = time.perf_counter()
            for index in range(DISK_WORKSPACES):
                progress(f"disk ({variant}): init {index + 1}/{DISK_WORKSPACES}")
                manifest = manifests / f"m{index:02d}.yaml"
                manifest.write_text(small_manifest(f"planton-bench-disk-{index:02d}"), encoding="utf-8")
                self.planton("tofu", "init", "-f", manifest, "--work-dir", root / "work", *flags, cwd=root, env=env)
            elapsed = time.perf_counter() - started
            usage = disk_usage([root / "work", home])
            self.planton("tofu", "plan", "-f", manifest, "--work-dir", root / "work", *flags, cwd=root, env=env)
            planned = disk_usage([root / "work", home])
            copies = usage.provider_copies
            beyond = planned.bytes - (provider_bytes if copies else 0)
            row = Row(
                "disk",
                f"{DISK_WORKSPACES} workspaces beyond one provider copy ({variant})",
                "MB",
                Stats([beyond / MB]),
                target="<= 5 MB",
                passed=beyond <= 5 * MB,
                note=(
                    f"{planned.bytes / MB:.1f} MB in the work dir and home; provider copies there: {copies} "
                    f"({provider_bytes / MB:.0f} MB each); links leading outside: {usage.links_outside} "
                    f"(into {', '.join(usage.outside_targets) or 'nothing'}); one plan added "
                    f"{(planned.bytes - usage.bytes) / 1024:.0f} KB; {elapsed:.0f} s for the 20 inits"
                ),
            )
            self.rows.append(row)

    def measure_scaling(self) -> None:
        """7. `planton validate` of a table with 20 GSIs and 5 LSIs (the CLI, and in-process), and
        1, 10, 100 and 1,000 manifests validated in one process through the Python API."""
        widest = self.scratch / "widest.yaml"
        widest.write_text(widest_manifest("planton-bench-widest"), encoding="utf-8")
        small = self.manifest()
        ours, theirs = self.pair(
            "validate 20 GSI + 5 LSI",
            lambda: self.planton("validate", "-f", widest, cwd=self.scratch),
            lambda: self.planton("validate", "-f", small, cwd=self.scratch),
        )
        self.rows.append(
            Row(
                "scaling",
                "validate 20 GSI + 5 LSI, CLI (terraform column: hack's small table)",
                "s",
                ours,
                theirs,
                note="both columns are planton validate",
            )
        )
        many = self.scratch / "many"
        many.mkdir()
        for index in range(max(SCALING_COUNTS)):
            text = small_manifest if index % 2 == 0 else _current_manifest
            (many / f"m{index:04d}.yaml").write_text(text(f"planton-bench-{index:04d}"), encoding="utf-8")
        one = self.scratch / "one-widest"
        one.mkdir()
        shutil.copy(widest, one / "widest.yaml")

        def worker(directory: Path, count: int) -> dict[str, Any]:
            log = self.log(f"validate-many-{count}")
            self.processes.run(
                [sys.executable, REPO / "bench" / "validate_many.py", directory, str(count)],
                cwd=self.scratch,
                env=self.user_env(),
                log=log,
            )
            return dict(json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1]))

        loops: dict[int, list[float]] = {count: [] for count in SCALING_COUNTS}
        firsts: list[float] = []
        rests: list[float] = []
        widest_each: list[float] = []
        for run in range(self.runs):
            progress(f"scaling: run {run + 1}/{self.runs}")
            for count in SCALING_COUNTS:
                result = worker(many, count)
                each = [float(value) for value in result["each_s"]]
                loops[count].append(float(result["loop_s"]))
                if count == max(SCALING_COUNTS):
                    firsts.append(each[0])
                    rests.append(statistics.median(each[1:]))
            widest_each.append(float(worker(one, 1)["loop_s"]))
        for count in SCALING_COUNTS:
            self.rows.append(
                Row(
                    "scaling",
                    f"validate {count} manifest{'s' if count > 1 else ''} in one process (API loop)",
                    "s",
                    Stats(loops[count]),
                )
            )
        medians = {count: statistics.median(values) for count, values in loops.items()}
        slope, intercept = _linear_fit(medians)
        marginal = {
            f"{low}->{high}": (medians[high] - medians[low]) / (high - low)
            for low, high in itertools.pairwise(SCALING_COUNTS)
        }
        steps = list(marginal.values())
        linear = steps[-1] <= 1.5 * steps[-2]
        self.rows.append(
            Row(
                "scaling",
                "validate cost per extra manifest (slope of the fit)",
                "ms",
                Stats([slope * 1000]),
                target="< 5 ms, linear",
                passed=slope < 0.005 and linear,
                note=(
                    f"fit: {intercept * 1000:.1f} ms + {slope * 1000:.2f} ms x N; per extra manifest "
                    + ", ".join(f"{step}: {value * 1000:.2f} ms" for step, value in marginal.items())
                    + f"; linear = the last step costs at most 1.5x the one before: {'yes' if linear else 'no'}; "
                    f"first manifest of a process {statistics.median(firsts) * 1000:.1f} ms, later ones "
                    f"{statistics.median(rests) * 1000:.2f} ms each; the 20 GSI + 5 LSI table alone, first in its "
                    f"process, {statistics.median(widest_each) * 1000:.1f} ms"
                ),
            )
        )

    def measure_memory(self) -> None:
        """8. Peak memory of `planton validate` and of a warm no-op `planton tofu plan` (its
        terraform and provider processes included), raw `terraform plan` beside the latter."""
        workspace = self.workspace()
        manifest = self.manifest()
        samples: dict[str, list[dict[str, float]]] = {"validate": [], "plan": [], "raw": []}
        for run in range(self.runs):
            progress(f"memory: run {run + 1}/{self.runs}")
            samples["validate"].append(
                self.processes.peak_memory(
                    [PLANTON, "validate", "-f", manifest], cwd=self.scratch, env=self.user_env(), log=self.log("mem")
                )
            )
            samples["plan"].append(
                self.processes.peak_memory(
                    [PLANTON, "tofu", "plan", "-f", manifest, "--work-dir", self.work_dir],
                    cwd=self.scratch,
                    env=self.user_env(),
                    log=self.log("mem"),
                )
            )
            samples["raw"].append(
                self.processes.peak_memory(
                    [self.terraform, "plan", "-input=false"], cwd=workspace, env=self.raw_env(), log=self.log("mem")
                )
            )

        def stats(kind: str, key: str) -> Stats:
            return Stats([sample.get(key, 0.0) for sample in samples[kind]])

        def programs(kind: str) -> str:
            names = sorted({key for sample in samples[kind] for key in sample if key.startswith("by:")})
            return ", ".join(f"{name[3:]} {stats(kind, name).median:.0f} MB" for name in names)

        self.rows.append(
            Row(
                "memory",
                "peak RSS, planton validate: largest process",
                "MB",
                stats("validate", "largest"),
                note=f"sampled tree sum {stats('validate', 'tree').median:.0f} MB",
            )
        )
        for key, what in (("tree", "sum over the process tree, sampled"), ("largest", "largest process")):
            self.rows.append(
                Row(
                    "memory",
                    f"peak RSS, no-op plan vs terraform plan: {what}",
                    "MB",
                    stats("plan", key),
                    stats("raw", key),
                    note=f"planton: {programs('plan')}; terraform: {programs('raw')}" if key == "tree" else "",
                )
            )

    def measure_fleet(self) -> None:
        """9. A fleet of 6 manifests applied by one `planton tofu apply -f DIR --auto-approve
        --parallelism 3` vs the same 6 applied one by one (six `planton tofu apply -f M
        --auto-approve`). Every sample, on either side, gets 6 new table names and a new work dir:
        each creates 6 tables and inits 6 workspaces, so both start from the same state and both
        pay for init; the provider plugin cache (in the shared home) is warm for both after the
        warm-up. Both columns are planton."""
        root = self.scratch / "fleet"
        root.mkdir()
        counter = itertools.count()
        fleet_logs: list[Path] = []

        def fleet_of_six() -> tuple[Path, Path]:
            """A new directory of 6 manifests (both dialects, new table names), and a new work dir."""
            sample = root / f"sample-{next(counter):02d}"
            manifests = sample / "manifests"
            manifests.mkdir(parents=True)
            for index in range(FLEET_SIZE):
                text = small_manifest if index % 2 == 0 else _current_manifest
                name = f"planton-bench-fleet-{sample.name[-2:]}-{index}"
                (manifests / f"m{index}.yaml").write_text(text(name), encoding="utf-8")
            return manifests, sample / "work"

        cpu: dict[str, list[float]] = {"fleet": [], "one by one": []}

        def with_cpu(side: str, run: Callable[[], float]) -> float:
            """Run one sample; its CPU time (user + system, every process of its tree that ended
            and was waited for: planton, terraform, the providers) is kept in ``cpu[side]``."""
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed = run()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[side].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            return elapsed

        def together() -> float:
            manifests, work = fleet_of_six()
            elapsed = self.planton(
                "tofu",
                "apply",
                "-f",
                manifests,
                "--auto-approve",
                "--parallelism",
                str(FLEET_PARALLELISM),
                "--work-dir",
                work,
                cwd=manifests.parent,
            )
            fleet_logs.append(self.last_log)
            return elapsed

        def one_by_one() -> float:
            manifests, work = fleet_of_six()
            return sum(
                self.planton("tofu", "apply", "-f", path, "--auto-approve", "--work-dir", work, cwd=manifests.parent)
                for path in sorted(manifests.glob("*.yaml"))
            )

        ours, theirs = self.pair(
            "fleet", lambda: with_cpu("fleet", together), lambda: with_cpu("one by one", one_by_one)
        )
        text = fleet_logs[-1].read_text(encoding="utf-8", errors="replace")
        at_once = re.search(rf"{FLEET_SIZE} manifests, (\d+) at once", text)
        if at_once is None or int(at_once.group(1)) != FLEET_PARALLELISM:
            raise BenchError(f"the fleet did not run {FLEET_PARALLELISM} at once (see {fleet_logs[-1]})")
        row = ratio_row(
            "fleet",
            f"fleet of {FLEET_SIZE}, apply --parallelism {FLEET_PARALLELISM} (terraform column: one by one)",
            ours,
            theirs,
            0.6,
        )
        row.note = (
            f"both columns are planton: one `tofu apply -f DIR --auto-approve --parallelism {FLEET_PARALLELISM}` "
            f"against {FLEET_SIZE} sequential `tofu apply -f M --auto-approve`; every sample creates "
            f"{FLEET_SIZE} new tables in a new work dir (init included), on {len(os.sched_getaffinity(0))} cores; "
            "CPU time (user + system of every process) median: "
            + ", ".join(f"{side} {statistics.median(values[-self.runs :]):.1f} s" for side, values in cpu.items())
        )
        self.rows.append(row)

    def measure_validate_fleet(self) -> None:
        """10. `planton validate -f DIR` of 200 manifests (both dialects, one process) vs `planton
        validate -f M` of the first of them. Both columns are planton."""
        directory = self.scratch / "validate-fleet"
        directory.mkdir()
        for index in range(VALIDATE_FLEET_SIZE):
            text = small_manifest if index % 2 == 0 else _current_manifest
            (directory / f"m{index:03d}.yaml").write_text(text(f"planton-bench-many-{index:03d}"), encoding="utf-8")
        one = directory / "m000.yaml"
        logs: list[Path] = []

        def many() -> float:
            elapsed = self.planton("validate", "-f", directory, cwd=self.scratch)
            logs.append(self.last_log)
            return elapsed

        ours, theirs = self.pair("validate-fleet", many, lambda: self.planton("validate", "-f", one, cwd=self.scratch))
        valid = logs[-1].read_text(encoding="utf-8", errors="replace").count(": valid AwsDynamodb manifest")
        if valid != VALIDATE_FLEET_SIZE:
            raise BenchError(
                f"validate -f DIR said {valid} manifests are valid, not {VALIDATE_FLEET_SIZE} ({logs[-1]})"
            )
        row = ratio_row(
            "validate-fleet",
            f"validate -f DIR of {VALIDATE_FLEET_SIZE} manifests (terraform column: one manifest)",
            ours,
            theirs,
            3,
        )
        row.note = (
            f"both columns are planton validate; per extra manifest "
            f"{(ours.median - theirs.median) / (VALIDATE_FLEET_SIZE - 1) * 1000:.2f} ms"
        )
        self.rows.append(row)


def _current_manifest(name: str) -> str:
    return CURRENT.format(name=name)


def _shown(env: Mapping[str, str]) -> dict[str, str]:
    """An environment as the report shows it: PATH elided."""
    return {name: ("..." if name == "PATH" else value) for name, value in sorted(env.items())}


def _find_workspace(work_dir: Path) -> Path:
    found = [path.parent for path in work_dir.glob("*/*/.planton-init.json")]
    if len(found) != 1:
        raise BenchError(f"cannot tell the benchmark's workspace in {work_dir}: {found}")
    return found[0]


def _provider_binary(mirror: Path) -> Path:
    found = sorted(mirror.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*"))
    if not found:
        raise BenchError(f"no aws provider in the mirror {mirror}")
    return found[-1]


@dataclass(frozen=True)
class DiskUsage:
    """What ``du`` counts (``bytes``), the aws provider binaries among it (distinct files), and
    the symbolic links that lead outside what was counted, with where they lead."""

    bytes: int
    provider_copies: int
    links_outside: int
    outside_targets: list[str]


def disk_usage(roots: Sequence[Path]) -> DiskUsage:
    """``du`` of ``roots`` together: allocated blocks; a file with several hard links once;
    symbolic links themselves, not what they lead to."""
    seen: set[tuple[int, int]] = set()
    total = 0
    copies = 0
    outside = 0
    targets: set[str] = set()
    resolved_roots = [root.resolve() for root in roots if root.exists()]
    for root in resolved_roots:
        for directory, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                path = Path(directory) / name
                info = path.lstat()
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
                if path.is_symlink():
                    target = path.resolve()
                    if not any(target.is_relative_to(other) for other in resolved_roots):
                        outside += 1
                        targets.add(str(target).split("/registry.")[0])
                elif name.startswith("terraform-provider-aws") and path.is_file():
                    copies += 1
        total += root.lstat().st_blocks * 512
    return DiskUsage(total, copies, outside, sorted(targets))


def _linear_fit(points: Mapping[int, float]) -> tuple[float, float]:
    """Least squares: (slope, intercept) of value against count."""
    xs = list(points)
    ys = [points[x] for x in xs]
    mean_x = statistics.fmean(xs)
    mean_y = statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    return slope, mean_y - slope * mean_x


# ---------------------------------------------------------------- the machine


def machine(terraform: Path, mirror: Path, processes: Processes) -> dict[str, str]:
    """What the numbers were taken on."""
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    system = platform.platform()
    with contextlib.suppress(OSError), open("/etc/os-release", encoding="utf-8") as release:
        for line in release:
            if line.startswith("PRETTY_NAME="):
                system = f"{line.split('=', 1)[1].strip().strip(chr(34))} (Linux {platform.release()})"
    terraform_version = "?"
    with contextlib.suppress(ValueError):
        terraform_version = json.loads(processes.output([terraform, "version", "-json"]) or "{}").get(
            "terraform_version", "?"
        )
    providers = sorted(
        f"{path.parts[-3]}/{path.parts[-2]} {path.parts[-1]}"
        for path in mirror.glob("registry.terraform.io/*/*/*")
        if path.is_dir()
    )
    commit = processes.output(["git", "-C", REPO, "describe", "--always", "--dirty"]).strip()
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} (usable here: {len(os.sched_getaffinity(0))})",
        "memory": memory,
        "os": system,
        "python": platform.python_version(),
        "planton": processes.output([PLANTON, "--version"]).strip() + (f" ({commit})" if commit else ""),
        "terraform": f"{terraform.name} {terraform_version}",
        "providers (mirror)": ", ".join(providers) or "?",
        "moto": _version_of("moto"),
        "load average at start": load_average(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was (other work shows here)."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def _version_of(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


# ---------------------------------------------------------------- report


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value:.1f} {unit}"


def _cell(stats: Stats | None, unit: str) -> str:
    if stats is None:
        return "-"
    if len(stats.samples) == 1:
        return _figure(stats.median, unit)
    spread = f"{_figure(min(stats.samples), unit).split()[0]}-{_figure(max(stats.samples), unit).split()[0]}"
    return f"{_figure(stats.median, unit)} [{spread}]"


def render(info: Mapping[str, str], bench: Bench, elapsed: float) -> str:
    lines = ["planton benchmark (bench/run.py)", ""]
    width = max(map(len, info))
    lines += [f"  {name.ljust(width)}  {value}" for name, value in info.items()]
    lines += [
        f"  {'runs'.ljust(width)}  {bench.runs} per side, interleaved, after {bench.warmup} untimed warm-up",
        "",
    ]
    header = ("measure", "planton median [min-max]", "terraform median [min-max]", "ratio", "target", "result")
    table = [header]
    for row in bench.rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        result = "-" if row.passed is None else ("pass" if row.passed else "FAIL")
        table.append(
            (row.label, _cell(row.planton, row.unit), _cell(row.terraform, row.unit), ratio, row.target, result)
        )
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    for index, line in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [(row.label, row.note) for row in bench.rows if row.note]
    if notes:
        lines += ["", "notes:"]
        lines += [f"  {label}: {note}" for label, note in notes]
    lines += [f"  {note}" for note in bench.notes]
    extra = bench.environments.get("planton's child has beyond the raw side")
    missing = bench.environments.get("the raw side has beyond planton's child")
    if extra is not None:
        lines += [
            "",
            "environments: planton gets the user's (dummy AWS credentials, region, AWS_ENDPOINT_URL, a CLI config",
            "with a filesystem mirror); raw terraform gets what planton gives its terraform child, minus Go tuning.",
            f"  planton's terraform child has beyond raw terraform's: {extra or 'nothing'}",
            f"  raw terraform has beyond planton's child: {missing or 'nothing'}",
        ]
    added = bench.environments.get("planton's child has beyond the user's")
    if added is not None:
        dropped = bench.environments.get("the user's has beyond planton's child")
        lines.append(f"  planton gives its terraform child beyond the user's: {added or 'nothing'}")
        lines.append(f"  planton does not give its terraform child, of the user's: {dropped or 'nothing'}")
    lines += ["", f"took {elapsed / 60:.1f} min"]
    return "\n".join(lines)


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="bench/run.py")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per side first (default 1)")
    parser.add_argument(
        "--only", default=",".join(MEASURES), help=f"comma-separated measures (default all): {', '.join(MEASURES)}"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (its path is printed)")
    parser.add_argument(
        "--mirror", type=Path, default=DEFAULT_MIRROR, help=f"provider mirror (default {DEFAULT_MIRROR})"
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(MEASURES))
    if unknown:
        parser.error(f"unknown measure(s) {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if not PLANTON.exists():
        print(
            f"bench: {PLANTON} is missing: run this with the venv's python that has planton installed", file=sys.stderr
        )
        return 2
    terraform = shutil.which("tofu") or shutil.which("terraform")
    if terraform is None:
        print("bench: neither tofu nor terraform is on PATH", file=sys.stderr)
        return 2
    if not args.mirror.is_dir():
        print(f"bench: no provider mirror at {args.mirror} (--mirror)", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="planton-bench-")).resolve()
    if scratch.is_relative_to(REPO):
        print(f"bench: the scratch directory {scratch} is inside the repository; set TMPDIR", file=sys.stderr)
        return 2

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    processes = Processes()
    started = time.perf_counter()
    info = machine(Path(terraform), args.mirror, processes)
    progress(f"scratch directory {scratch}")
    keep = args.keep
    try:
        with moto_server(scratch / "moto.log") as endpoint:
            bench = Bench(scratch, endpoint, args.mirror, Path(terraform), args.runs, args.warmup, processes)
            for name in MEASURES:
                if name in args.only:
                    progress(f"measure {name}")
                    getattr(bench, "measure_" + name.replace("-", "_"))()
        info["load average at end"] = load_average()
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    except BenchError as err:
        progress(f"failed: {err}")
        keep = True
        return 1
    finally:
        if keep:
            progress(f"kept {scratch} (logs in its logs/)")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.perf_counter() - started
    if args.json:
        document = {
            "machine": info,
            "runs": args.runs,
            "warmup": args.warmup,
            "rows": [row.to_json() for row in bench.rows],
            "environments": bench.environments,
            "seconds": elapsed,
        }
        print(json.dumps(document, indent=2))
    else:
        print(render(info, bench, elapsed))
    return 0 if all(row.passed is not False for row in bench.rows) else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
