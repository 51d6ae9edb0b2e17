"""A team's policy: ``planton.toml``, or the ``[tool.planton]`` table of ``pyproject.toml``,
found upward from the manifest's directory (the nearest wins; a pyproject.toml without the table
is passed over). A malformed policy is an input error, like a bad manifest: exit 4, every
problem as a ``key: message`` line, nothing run.

```toml
[tool.planton]                       # in planton.toml, the same keys at the top level
errors = ["production-point-in-time-recovery"]   # findings that stop a command (exit 7)
off = ["local-secondary-index"]                  # findings never reported
table-name-pattern = "(dev|prod)-[a-z0-9-]+"     # the whole name must match
required-tags = ["team", "cost-center"]
[tool.planton.production]                        # what makes a manifest production
env = ["prod", "production"]                     # metadata.env values (the default)
labels = { tier = "critical" }                   # or any one of these labels
```
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planton.errors import ManifestError
from planton.policy import DEFAULT_PRODUCTION_ENVS, Policy, known_codes

POLICY_FILE = "planton.toml"
PYPROJECT = "pyproject.toml"
_MAX_POLICY_BYTES = 1024 * 1024
_KEYS = ("errors", "off", "production", "table-name-pattern", "required-tags")
_PRODUCTION_KEYS = ("env", "labels")


class PolicyError(ManifestError):
    """A policy file that cannot be read or is malformed; nothing was run."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, problems, what="planton policy")


class PolicyFinder:
    """Finds the policy for manifests, reading each policy file once."""

    def __init__(self) -> None:
        self._read: dict[Path, Policy] = {}

    def for_manifest(self, manifest: Path, *, regular_file: bool = True) -> Policy:
        """The policy nearest above ``manifest``'s directory (the current directory for a
        manifest from a pipe), or the default policy when there is none."""
        start = Path(os.path.abspath(manifest)).parent if regular_file else Path.cwd()
        for directory in (start, *start.parents):
            found = self._policy_in(directory)
            if found is not None:
                return found
        return Policy()

    def _policy_in(self, directory: Path) -> Policy | None:
        for name, table in ((POLICY_FILE, ()), (PYPROJECT, ("tool", "planton"))):
            path = directory / name
            if path in self._read:
                return self._read[path]
            if not os.path.lexists(path):
                continue
            if not path.is_file():
                # A policy that is there but cannot be read must never be passed over: the
                # team's rules would stop applying without a word.
                kind = "a dangling link" if not path.exists() else "not a regular file"
                raise PolicyError(str(path), [f"is {kind}; make it the team's policy file, or remove it"])
            policy = read_policy(path, table)
            if policy is not None:
                self._read[path] = policy
                return policy
        return None


def read_policy(path: Path, table: tuple[str, ...] = ()) -> Policy | None:
    """The policy in ``path`` (under the nested ``table`` when given: ``("tool", "planton")``),
    or None when the file has no such table. A PolicyError for anything malformed."""
    label = f"{path} [{'.'.join(table)}]" if table else str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_POLICY_BYTES + 1)
    except OSError as err:
        raise PolicyError(str(path), [f"cannot be read: {err.strerror or err}"]) from None
    if len(raw) > _MAX_POLICY_BYTES:
        raise PolicyError(str(path), [f"is over {_MAX_POLICY_BYTES // 1024} KiB; is it the right file?"])
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise PolicyError(str(path), [f"is not UTF-8 text (byte {err.start}); save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(str(path), [f"is not valid TOML: {err}"]) from None
    except RecursionError:
        raise PolicyError(str(path), ["is not valid TOML a person writes: it nests too deeply"]) from None
    node: Any = document
    for key in table:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    prefix = ".".join(table)
    if not isinstance(node, Mapping):
        raise PolicyError(label, [f"{prefix}: must be a table of settings (keys: {', '.join(_KEYS)})"])
    return policy_from(node, label, prefix, source=str(path))


def policy_from(settings: Mapping[str, Any], label: str, prefix: str = "", *, source: str | None = None) -> Policy:
    """A ``Policy`` from a parsed policy table; every problem at once as a PolicyError."""
    problems: list[str] = []

    def at(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    for key in settings:
        if key not in _KEYS:
            problems.append(f"{at(str(key))}: {_unknown(str(key), _KEYS, 'key')}")
    errors = _codes(settings.get("errors", []), at("errors"), problems)
    off = _codes(settings.get("off", []), at("off"), problems)
    for code in sorted(errors & off):
        problems.append(f"{at('off')}: {code} is in errors too; keep it in one of them")
    envs: tuple[str, ...] = DEFAULT_PRODUCTION_ENVS
    labels: dict[str, str] = {}
    production = settings.get("production", {})
    if not isinstance(production, Mapping):
        problems.append(f"{at('production')}: must be a table with env and/or labels")
    else:
        for key in production:
            if key not in _PRODUCTION_KEYS:
                problems.append(f"{at('production')}.{key}: {_unknown(str(key), _PRODUCTION_KEYS, 'key')}")
        if "env" in production:
            envs = tuple(_strings(production["env"], f"{at('production')}.env", problems))
        given = production.get("labels", {})
        if isinstance(given, Mapping) and all(isinstance(v, str) and v for v in given.values()):
            labels = {str(key): value for key, value in given.items()}
        else:
            problems.append(f'{at("production")}.labels: must be a table of label = "value" (non-empty text)')
    pattern = settings.get("table-name-pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            problems.append(f"{at('table-name-pattern')}: must be a regular expression, as text")
            pattern = None
        else:
            trouble = pattern_problem(pattern)
            if trouble is not None:
                problems.append(f"{at('table-name-pattern')}: {trouble}")
                pattern = None
    required = _strings(settings.get("required-tags", []), at("required-tags"), problems)
    if problems:
        raise PolicyError(label, problems)
    return Policy(
        errors=frozenset(errors),
        off=frozenset(off),
        production_envs=envs,
        production_labels=labels,
        table_name_pattern=pattern,
        required_tags=tuple(dict.fromkeys(required)),
        source=source,
    )


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be the team's name pattern (None: it can). Besides being a regular
    expression, it must match in time linear in the name: a repetition of something that
    itself repeats or has alternatives (``(a+)+``, ``(a|ab)*``) or a back-reference could make
    every command that reads a manifest hang, so they are refused."""
    if len(pattern) > _MAX_PATTERN:
        return f"is {len(pattern)} characters; a name pattern needs at most {_MAX_PATTERN}"
    try:
        parsed = re._parser.parse(pattern)  # type: ignore[attr-defined]
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as err:
        return f"is not a regular expression ({err}); fix it"
    if _repeats(parsed) > _MAX_REPEATS:
        return (
            f"has {_repeats(parsed)} repetitions of varying length; at most {_MAX_REPEATS} keep its matching fast "
            "(each one more multiplies the time a name that almost matches takes)"
        )
    if _slow(parsed, under_repeat=False):
        return (
            "could take exponential time to match (a repeated group that itself repeats or has alternatives, "
            "or a back-reference); write it without one, such as (dev|prod)-[a-z0-9-]+"
        )
    return None


_MAX_PATTERN = 1000
_MAX_REPEATS = 4
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _repeats(items: Any) -> int:
    """How many repetitions of varying length (``+``, ``*``, ``{2,9}``) a parsed pattern has."""
    count = 0
    for op, value in getattr(items, "data", items):
        name = str(op)
        if name in _REPEATS:
            count += (value[1] > value[0]) + _repeats(value[2])
        elif name == "BRANCH":
            count += sum(_repeats(branch) for branch in value[1])
        elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
            count += _repeats(value[-1])
        elif name == "ATOMIC_GROUP":
            count += _repeats(value)
    return count


def _slow(items: Any, *, under_repeat: bool) -> bool:
    """Whether a parsed pattern (``re``'s own parse) repeats, more than once, something that itself
    repeats or has alternatives, or refers back to a group: what can backtrack without bound."""
    for op, value in getattr(items, "data", items):
        name = str(op)
        if name in _REPEATS:
            _low, high, inner = value
            if under_repeat or _slow(inner, under_repeat=high > 1):
                return True
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            return True
        elif name == "BRANCH":
            if under_repeat or any(_slow(branch, under_repeat=False) for branch in value[1]):
                return True
        elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT"):
            if _slow(value[-1], under_repeat=under_repeat):
                return True
        elif name == "ATOMIC_GROUP" and _slow(value, under_repeat=under_repeat):
            return True
    return False


def _strings(value: Any, where: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        problems.append(f'{where}: must be a list of non-empty text, such as ["a", "b"]')
        return []
    return list(value)


def _codes(value: Any, where: str, problems: list[str]) -> set[str]:
    codes = _strings(value, where, problems)
    known = known_codes()
    for position, code in enumerate(codes):
        if code not in known:
            problems.append(f"{where}[{position}]: {_unknown(code, known, 'finding')}")
    return {code for code in codes if code in known}


def _unknown(given: str, known: Any, what: str) -> str:
    close = difflib.get_close_matches(given, list(known), n=1, cutoff=0.6)
    listed = f"known: {', '.join(known)}"
    if what == "finding":
        listed = f"a policy makes errors of, or turns off, only best-practice findings: {', '.join(known)}"
    if close:
        # A finding's code is best checked against the whole list (docs/policy.md has it too).
        return f"unknown {what} {given!r}; did you mean {close[0]!r}?" + (f" ({listed})" if what == "finding" else "")
    return f"unknown {what} {given!r}; {listed}"
