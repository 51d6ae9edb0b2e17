"""YAML 1.2 core-schema reading of plain scalars, for PyYAML (which implements YAML 1.1).

Under YAML 1.1 ``yes``/``no``/``on``/``off`` are booleans, ``1:30`` is 90 (base 60), ``010`` is 8
and ``1_000`` is 1000; under 1.2 the first ones are text and ``010`` is 10. A manifest read by one
reader and written for the other changes meaning without a word. So planton reads with the 1.2
core schema (only ``true``/``false`` are booleans; integers are decimal) and refuses every plain
scalar whose meaning the two versions do not agree on, or that is an integer in another base
(``0x1F``, ``0o17``), naming it where it is written, so that the user says which one was meant:
quoting it makes it text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_CORE = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (f"{_CORE}{name}" for name in ("null", "bool", "int", "float", "str"))
MERGE = f"{_CORE}merge"

# The YAML 1.2 core schema's plain scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE_SCHEMA: tuple[tuple[str, re.Pattern[str]], ...] = (
    (NULL, re.compile(r"~|null|Null|NULL|")),
    (BOOL, re.compile(r"true|True|TRUE|false|False|FALSE")),
    (INT, re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (FLOAT, re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN")),
)
# A decimal integer with a leading zero, which YAML 1.1 reads in base 8 (``010`` is 8).
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
# What YAML 1.1 resolves that no manifest can mean: dates are text to both readers here (the
# models take none), and ``=`` is a "value" key PyYAML cannot even build.
_TEXT_TO_BOTH = frozenset({f"{_CORE}timestamp", f"{_CORE}value"})

_YAML11 = yaml.resolver.Resolver()


def core_tag(value: str) -> str:
    """The tag the YAML 1.2 core schema gives a plain scalar written as ``value``."""
    if value == "<<":
        return MERGE  # merge keys: not in the core schema, but every reader of manifests has them
    for tag, pattern in _CORE_SCHEMA:
        if pattern.fullmatch(value):
            return tag
    return STR


def yaml11_tag(value: str) -> str:
    """The tag PyYAML's YAML 1.1 resolver gives a plain scalar written as ``value``."""
    tag = str(_YAML11.resolve(yaml.ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]
    return STR if tag in _TEXT_TO_BOTH else tag


@dataclass(frozen=True)
class Ambiguity:
    """Why a plain scalar must be written another way, and how."""

    reading: str  # "true to YAML 1.1 and the text 'yes' to YAML 1.2", naming the values
    kinds: str  # "a boolean to YAML 1.1 and text to YAML 1.2", for values never quoted
    fix: str  # "quote it for text, or write true or false for a boolean"


def ambiguity(value: str) -> Ambiguity | None:
    """Why the plain scalar ``value`` is ambiguous between YAML 1.1 and 1.2, or None."""
    old, new = yaml11_tag(value), core_tag(value)
    if new == INT and value.startswith(("0o", "0x")):
        base = 8 if value.startswith("0o") else 16
        return Ambiguity(
            f"{int(value, 0)} written in base {base}",
            f"a number written in base {base}",
            "write it in decimal digits, or quote it for text",
        )
    if new == INT and old == INT and _LEADING_ZERO.fullmatch(value):
        as_octal = _yaml11_value(value)
        return Ambiguity(
            f"{as_octal} to YAML 1.1 (base 8, for the leading 0) and {int(value, 10)} to YAML 1.2",
            "a number in base 8 to YAML 1.1 (for the leading 0) and in base 10 to YAML 1.2",
            "write it without the leading 0, or quote it for text",
        )
    if old == new:
        return None
    return Ambiguity(
        f"{_as_read(old, _yaml11_value(value))} to YAML 1.1 and {_as_read(new, _core_value(value, new))} to YAML 1.2",
        f"{_NAMES[old]} to YAML 1.1 and {_NAMES[new]} to YAML 1.2",
        _FIXES[old],
    )


def _yaml11_value(value: str) -> object:
    try:
        return yaml.safe_load(value)
    except (yaml.YAMLError, ValueError):  # a sexagesimal or octal PyYAML cannot build
        return value


def _core_value(value: str, tag: str) -> object:
    if tag == INT:
        return int(value, 0) if value.startswith(("0o", "0x")) else int(value, 10)
    return float(value) if tag == FLOAT else value


def _as_read(tag: str, value: object) -> str:
    if tag == STR:
        return f"the text {value!r}"
    if tag == BOOL:
        return "true" if value else "false"
    return repr(value)


_NAMES = {NULL: "null", BOOL: "a boolean", INT: "a number", FLOAT: "a number", STR: "text", MERGE: "a merge key"}
_FIXES = {
    BOOL: "quote it for text, or write true or false for a boolean",
    INT: "write the number in decimal digits, or quote it for text",
    FLOAT: "write the number in decimal digits (1.5), or quote it for text",
    STR: "quote it if it is text; write a number in plain digits (1500)",
    NULL: "write null, or quote it for text",
    MERGE: "quote it for text",
}


class Yaml12Resolver(yaml.resolver.BaseResolver):
    """PyYAML's resolver with the YAML 1.2 core schema in place of YAML 1.1's implicit types."""

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return core_tag(value)
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


class Yaml12Constructor(yaml.constructor.SafeConstructor):
    """SafeConstructor building booleans and integers as YAML 1.2 spells them: ``!!bool yes``
    is no boolean, and an integer is decimal, ``0o17`` or ``0x1F``."""

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        value = str(self.construct_scalar(node))
        if core_tag(value) != BOOL:
            raise ValueError("only true and false are booleans")
        return value.lower() == "true"

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = str(self.construct_scalar(node))
        if core_tag(value) != INT:
            raise ValueError("not an integer as YAML 1.2 writes one")
        return int(value, 0) if value.startswith(("0o", "0x")) else int(value, 10)


Yaml12Constructor.add_constructor(BOOL, Yaml12Constructor.construct_yaml_bool)  # type: ignore[type-var]
Yaml12Constructor.add_constructor(INT, Yaml12Constructor.construct_yaml_int)  # type: ignore[type-var]
