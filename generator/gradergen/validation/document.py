"""What reading a grader file produces: documents that can say where their values are written, or
an Unreadable with a line and column. Shared by the JSON and YAML readers."""

from __future__ import annotations

import bisect
import codecs
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from .problem import Problem, shown

_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|([\[\]{}])', re.S)


class Unreadable(Exception):
    """The text is not a document: bad syntax, binary data, too deep, empty…"""

    def __init__(
        self, message: str, line: int | None = None, column: int | None = None, hint: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


class Locator(Protocol):
    def locate(self, where: str, at_key: bool = False) -> tuple[int, int] | None:
        """The line and column (1-based) of the value at a JSON pointer, or of its property name."""


@dataclass
class Document:
    value: Any
    locator: Locator
    line: int
    """Where the document starts: its line in the file."""
    problems: list[Problem] = field(default_factory=list)
    """What reading found wrong with a document that could still be read (a duplicate key), located."""


DUPLICATE_KEY = "duplicate-key"


def duplicate_key(pointer: str, key: str, first: tuple[int, int], line: int, column: int) -> Problem:
    """A key written twice in one object: JSON parsers and YAML loaders keep the last value, but not
    every reader of a grader does, so the service and the SDKs may disagree on which one counts."""
    return Problem(
        "error",
        pointer,
        f"duplicate key {shown(key)} (first written at line {first[0]}, column {first[1]})",
        "keep one: the service and the SDKs do not agree on which value wins",
        DUPLICATE_KEY,
        line,
        column,
    )


@dataclass
class Lines:
    """Offsets in a text → line and column, numbered from `first_line`."""

    text: str
    first_line: int = 1
    _starts: list[int] = field(default_factory=list)

    def position(self, offset: int) -> tuple[int, int]:
        if not self._starts:
            self._starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        row = bisect.bisect_right(self._starts, offset) - 1
        return self.first_line + row, offset - self._starts[row] + 1


def deepest(text: str) -> tuple[int, int]:
    depth = best = offset = 0
    for m in _BRACKET.finditer(text):
        bracket = m.group(1)
        if not bracket:
            continue
        depth += 1 if bracket in "[{" else -1
        if depth > best:
            best, offset = depth, m.start(1)
    return best, offset


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes, first_line: int = 1) -> str:
    if data.startswith(_WIDE_BOMS):
        raise Unreadable("the text is UTF-16 or UTF-32 encoded", first_line, 1, "save it as UTF-8")
    nul = data.find(b"\0")
    if nul != -1:
        raise Unreadable(
            "binary data: a NUL byte", *_position(data, nul, first_line), "grader files are UTF-8 text"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start, first_line)
        raise Unreadable(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} (binary data?)",
            line,
            column,
            "grader files are UTF-8 text",
        ) from None


def _position(data: bytes, offset: int, first_line: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return first_line + data.count(b"\n", 0, offset), column


def too_large(size: int | None, limit: int) -> Unreadable:
    what = f"{size / 1e6:.1f} MB" if size is not None else f"over {limit // 2**20} MiB"
    return Unreadable(
        f"{what} is too large for a grader file (the limit is {limit // 2**20} MiB)",
        hint="raise it with --max-size if this really is a grader",
    )
