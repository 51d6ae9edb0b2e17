#!/usr/bin/env python3
"""How long planton takes to answer the commands that run no terraform: the median wall time of
``--version``, ``--help``, ``validate``, ``render`` and ``schema`` over a number of runs, each in
a fresh process, as a user's shell starts it. ``--version`` has a budget (issue 15: 0.1 s); the
script exits 1 when the median is over it.

A benchmark, not a test: run it on an idle machine (a loaded one measures the load).

    .venv/bin/python bench/startup.py [--runs 20] [--planton .venv/bin/planton]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

MANIFEST = str(Path(__file__).resolve().parents[1] / "hack" / "manifest.yaml")
COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "validate": ["validate", "-f", MANIFEST],
    "render": ["render", "-f", MANIFEST],
    "schema": ["schema"],
}
VERSION_BUDGET_SECONDS = 0.1


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warm the caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--planton", default=str(Path(sys.executable).parent / "planton"))
    args = parser.parse_args()
    medians = {name: median_seconds([args.planton, *argv], args.runs) for name, argv in COMMANDS.items()}
    for name, seconds in medians.items():
        print(f"{name:10} {seconds * 1000:7.1f} ms")
    if medians["--version"] > VERSION_BUDGET_SECONDS:
        print(f"--version takes more than its budget of {VERSION_BUDGET_SECONDS * 1000:.0f} ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
