"""Validate the first N manifests of a directory in one process, through planton's Python API
(``planton.operations.validation.validate_manifest``, what ``planton validate`` calls), and print the timings
as one JSON object: how long the imports took, and each validation.

Run by ``bench/run.py`` (measure ``scaling``) with the venv's python:
``python bench/validate_many.py DIR N``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(directory: Path, count: int) -> dict[str, object]:
    started = time.perf_counter()
    from planton.operations.validation import validate_manifest
    from planton.source import ManifestSource

    imported = time.perf_counter()
    paths = sorted(directory.glob("*.yaml"))[:count]
    if len(paths) < count:
        raise SystemExit(f"{directory} holds {len(paths)} manifests, not {count}")
    environ = dict(os.environ)
    each: list[float] = []
    looping = time.perf_counter()
    for path in paths:
        before = time.perf_counter()
        validate_manifest(ManifestSource(manifest=path), environ)
        each.append(time.perf_counter() - before)
    return {"import_s": imported - started, "loop_s": time.perf_counter() - looping, "each_s": each}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]))))
