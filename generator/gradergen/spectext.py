"""Text taken from the spec is marked, so that no template can print it without an escaper.

Every string of a loaded spec (keys and values) becomes a `SpecText`. It behaves as the `str` it is,
and every way a template can derive new text from it — concatenation, formatting, slicing, iteration,
string methods, filters — gives `SpecText` again. The template environment refuses to print one: only
an escaper for the literal context (a string literal, a doc comment, XML text, …) turns it into text
that may be printed. Python code that builds names from spec text (the naming tables) checks what it
builds itself: a name is printed only once it is a legal identifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, SupportsIndex


class SpecText(str):
    """A string that came from the spec and has not been escaped."""

    __slots__ = ()

    def __add__(self, other: str) -> SpecText:
        return SpecText(str.__add__(self, other))

    def __radd__(self, other: str) -> SpecText:
        return SpecText(str.__add__(other, self))

    def __mul__(self, n: SupportsIndex) -> SpecText:
        return SpecText(str.__mul__(self, n))

    __rmul__ = __mul__

    def __mod__(self, args: Any) -> SpecText:
        return SpecText(str.__mod__(self, args))

    def __rmod__(self, template: str) -> SpecText:
        return SpecText(str.__mod__(template, self))

    def __getitem__(self, key: SupportsIndex | slice) -> SpecText:
        return SpecText(str.__getitem__(self, key))

    def __iter__(self) -> Iterator[SpecText]:
        return (SpecText(ch) for ch in str.__iter__(self))

    def __reduce__(self) -> tuple[type[SpecText], tuple[str]]:
        return (SpecText, (str(self),))


_PLAIN = frozenset({str, int, float, bool, type(None)})


def is_tainted(value: Any, depth: int = 0) -> bool:
    """Whether `value` is spec text or holds some (in a list, tuple or dict), looked at shallowly."""
    kind = type(value)
    if kind is SpecText:
        return True
    if kind in _PLAIN or depth > 2:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(is_tainted(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(is_tainted(k, depth + 1) or is_tainted(v, depth + 1) for k, v in value.items())
    return False


def taint(value: Any) -> Any:
    """`value` (a spec document, or a value derived from spec text) with every string marked."""
    if isinstance(value, str):
        return value if isinstance(value, SpecText) else SpecText(value)
    if isinstance(value, dict):
        return {taint(k): taint(v) for k, v in value.items()}
    if isinstance(value, list):
        return [taint(v) for v in value]
    if isinstance(value, tuple):
        return tuple(taint(v) for v in value)
    return value


def untaint(value: Any) -> Any:
    """`value` with plain strings again: for data that leaves through a serialiser (JSON, YAML) that
    escapes on its own."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {untaint(k): untaint(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untaint(v) for v in value]
    if isinstance(value, tuple):
        return tuple(untaint(v) for v in value)
    return value
