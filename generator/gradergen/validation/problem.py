"""What the validator reports: a problem at a JSON pointer, with a message and a hint."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

Severity = Literal["error", "warning"]
Path = tuple[str | int, ...]

INPUT = "input"
"""The code of problems that make a document unreadable (not JSON, binary, too deep…): exit status 2."""


@dataclass(frozen=True)
class Problem:
    severity: Severity
    pointer: str
    """A JSON pointer (RFC 6901) into the document; "" is the document itself."""
    message: str
    hint: str = ""
    code: str = ""
    """What kind of check found it: schema.<keyword>, template, formula, python, unknown-property, …"""
    line: int | None = None
    """1-based, in the file; None when the document came without text."""
    column: int | None = None

    def describe(self) -> str:
        """`/graders/a/operation: 'neq' is not one of eq, ne (did you mean 'ne'?)`."""
        text = f"{self.pointer}: {self.message}" if self.pointer else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def at(self, line: int | None, column: int | None) -> Problem:
        # spelled out rather than dataclasses.replace: a file may have a problem on each of 100,000 keys
        return Problem(self.severity, self.pointer, self.message, self.hint, self.code, line, column)


class Finding(NamedTuple):
    """A problem found inside one value, before its absolute pointer is known."""

    path: Path
    """Relative to the value the check was given."""
    severity: Severity
    code: str
    message: str
    hint: str = ""
    replaces: bool = False
    """Schema errors at or below this path say the same less clearly: drop them."""
    at_key: bool = False
    """Point at the property's name rather than at its value (an unknown property)."""


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(path: Path) -> str:
    return "".join("/" + escape(p) for p in path)


def parse_pointer(text: str) -> list[str]:
    if not text:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in text[1:].split("/")]


def kind_of(value: Any) -> str:
    """How a value reads in a message: "a string", "an array", "null", "a date"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    name = type(value).__name__  # what YAML may produce: date, datetime, bytes
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


MAX_SHOWN_BITS = 10_000
"""Integers longer than this (about 3,000 digits) are described, not printed: Python refuses to
print one of more than 4,300 digits (sys.get_int_max_str_digits)."""


def huge_integer(value: int) -> str:
    digits = int(value.bit_length() * 0.30103) + 1
    return f"{'a negative' if value < 0 else 'an'} integer of about {digits:,} digits"


def shown(value: Any, limit: int = 40) -> str:
    """A value quoted for a message, shortened."""
    text = repr(value) if isinstance(value, str) else _json_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > MAX_SHOWN_BITS:
        return huge_integer(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[…]" if value else "[]"
    if isinstance(value, dict):
        return "{…}" if value else "{}"
    return str(value)
