"""JSON and JSONL through the C parser; positions found afterwards, only for values a problem names."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from .document import Document, Lines, Unreadable, deepest, duplicate_key
from .problem import Problem, escape, parse_pointer


class _Constant(ValueError):
    pass


class _Duplicate(Exception):
    """An object with a key written twice: read again, slowly, to say where."""


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _Duplicate
    return members


DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""Reads JSON as every parser does: a repeated key keeps its last value."""
_STRICT = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
"""Stops at a repeated key, which costs a dict() per object and keeps the C parser's speed."""
_WS = re.compile(r"[ \t\n\r]*")
_STRING_OR = r'"(?:[^"\\]|\\.)*"|'
_CONSTANT = re.compile(_STRING_OR + r"(-?Infinity|NaN)", re.S)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]', re.S)
"""Strings and punctuation: all a walk over keys needs (numbers and literals fall between them)."""
_scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]


def parse_json(text: str, first_line: int = 1) -> Document:
    lines = Lines(text, first_line)
    duplicates: list[Problem] = []
    try:
        try:
            value = _STRICT.decode(text)
        except _Duplicate:
            value = DECODER.decode(text)
            duplicates = duplicate_keys(text, lines)
    except json.JSONDecodeError as exc:
        line, column = lines.position(exc.pos)
        raise Unreadable(f"not valid JSON: {exc.msg}", line, column, _json_hint(text, exc)) from None
    except _Constant as exc:
        m = next((m for m in _CONSTANT.finditer(text) if m.group(1)), None)
        line, column = lines.position(m.start(1)) if m else (first_line, 1)
        raise Unreadable(f"not valid JSON: {exc} is not a JSON number", line, column) from None
    except RecursionError:
        depth, offset = deepest(text)
        line, column = lines.position(offset)
        raise Unreadable(f"nesting is too deep to read ({depth} levels)", line, column) from None
    except ValueError as exc:  # an integer longer than Python reads (sys.get_int_max_str_digits)
        raise _unreadable_number(text, lines, exc) from None
    return Document(value, JsonLocator(text, lines), first_line, duplicates)


def _unreadable_number(text: str, lines: Lines, exc: ValueError) -> Unreadable:
    limit = sys.get_int_max_str_digits()
    m = re.search(f"[0-9]{{{limit + 1},}}", text) if limit else None
    if m is None:
        return Unreadable(f"cannot read: {str(exc).split(';')[0]}", lines.first_line, 1)
    message = f"a number of {len(m.group()):,} digits is longer than can be read (at most {limit:,})"
    return Unreadable(message, *lines.position(m.start()), "quote it if it is an identifier")


def duplicate_keys(text: str, lines: Lines) -> list[Problem]:
    """Every key written again in its object, in one pass over a text that is valid JSON."""
    found: list[Problem] = []
    # one frame per open container: [keys seen → offset (objects) or None (arrays), current step]
    frames: list[list[Any]] = []
    expect_key = False
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token[0] == '"':
            if expect_key:
                seen, key = frames[-1][0], _scanstring(text, m.start() + 1)[0]
                frames[-1][1] = key
                if key in seen:
                    path = "".join("/" + escape(f[1]) for f in frames)
                    first = lines.position(seen[key])
                    found.append(duplicate_key(path, key, first, *lines.position(m.start())))
                else:
                    seen[key] = m.start()
        elif token == "{":
            frames.append([{}, ""])
        elif token == "[":
            frames.append([None, 0])
        elif token in "}]":
            frames.pop()
        elif token == "," and frames[-1][0] is None:
            frames[-1][1] += 1
        expect_key = token == "{" or (token == "," and frames[-1][0] is not None)
    return found


def _json_hint(text: str, exc: json.JSONDecodeError) -> str:
    pos = exc.pos
    if exc.msg == "Extra data":
        return "a .json file holds one document; write several as .jsonl, one per line"
    here = text[pos : pos + 1]
    before = text[:pos].rstrip()[-1:]
    if here in ("}", "]") and before == ",":
        return "JSON allows no comma before a closing bracket"
    if here == "'":
        return "JSON strings and names take double quotes"
    if here.isalpha() or here == "_":
        return "property names take double quotes in JSON; in a .yaml file they need none"
    if here in ("/", "#"):
        return "JSON has no comments"
    return ""


class JsonLocator:
    """Finds values by JSON pointer. Each object or array on the way is read once, at C speed, into
    the offsets of its members; later problems in it cost a dictionary look-up."""

    def __init__(self, text: str, lines: Lines) -> None:
        self.text = text
        self.lines = lines
        self._objects: dict[int, dict[str, tuple[int, int]]] = {}
        self._arrays: dict[int, list[int]] = {}

    def locate(self, where: str, at_key: bool = False) -> tuple[int, int] | None:
        try:
            offset = self._offset(parse_pointer(where), at_key)
        except (ValueError, RecursionError, IndexError):
            return None
        return None if offset is None else self.lines.position(offset)

    def _offset(self, parts: list[str], at_key: bool) -> int | None:
        text = self.text
        i = self._skip(0)
        key_at: int | None = None
        for part in parts:
            opening = text[i : i + 1]
            if opening == "{":
                found = self._members(i).get(part)
                if found is None:
                    return None
                key_at, i = found
            elif opening == "[" and part.isdigit():
                elements = self._elements(i)
                if int(part) >= len(elements):
                    return None
                key_at, i = None, elements[int(part)]
            else:
                return None
        return key_at if at_key and key_at is not None else i

    def _skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def _members(self, i: int) -> dict[str, tuple[int, int]]:
        """(key offset, value offset) of each member of the object at i; a repeated key, its last."""
        members = self._objects.get(i)
        if members is not None:
            return members
        text = self.text
        members = self._objects[i] = {}
        i = self._skip(i + 1)
        while text[i : i + 1] == '"':
            key, end = _scanstring(text, i + 1)
            start = self._skip(self._skip(end) + 1)
            members[key] = (i, start)
            i = self._skip(DECODER.raw_decode(text, start)[1])
            if text[i : i + 1] != ",":
                break
            i = self._skip(i + 1)
        return members

    def _elements(self, i: int) -> list[int]:
        """The offset of each element of the array at i."""
        elements = self._arrays.get(i)
        if elements is not None:
            return elements
        text = self.text
        elements = self._arrays[i] = []
        i = self._skip(i + 1)
        while text[i : i + 1] not in ("]", ""):
            elements.append(i)
            i = self._skip(DECODER.raw_decode(text, i)[1])
            if text[i : i + 1] != ",":
                break
            i = self._skip(i + 1)
        return elements


def parse_jsonl(lines: Iterable[tuple[int, str]]) -> Iterator[Document | Unreadable]:
    """One document per non-blank line; `lines` gives each line with its number."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            yield parse_json(line, number)
        except Unreadable as exc:
            yield exc
