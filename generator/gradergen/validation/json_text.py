"""JSON and JSONL through the C parser; positions found afterwards, only for values a problem names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .document import Document, Lines, Unreadable, deepest
from .problem import parse_pointer


class _Constant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_WS = re.compile(r"[ \t\n\r]*")
_STRING_OR = r'"(?:[^"\\]|\\.)*"|'
_CONSTANT = re.compile(_STRING_OR + r"(-?Infinity|NaN)", re.S)
_scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]


def parse_json(text: str, first_line: int = 1) -> Document:
    lines = Lines(text, first_line)
    try:
        value = DECODER.decode(text)
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
    return Document(value, JsonLocator(text, lines), first_line)


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
    def __init__(self, text: str, lines: Lines) -> None:
        self.text = text
        self.lines = lines

    def locate(self, where: str, at_key: bool = False) -> tuple[int, int] | None:
        try:
            offset = self._offset(parse_pointer(where), at_key)
        except (ValueError, RecursionError, IndexError):
            return None
        return None if offset is None else self.lines.position(offset)

    def _offset(self, parts: list[str], at_key: bool) -> int | None:
        text = self.text
        i = _WS.match(text, 0).end()  # type: ignore[union-attr]
        key_at: int | None = None
        for part in parts:
            opening = text[i : i + 1]
            if opening == "{":
                found = self._member(i, part)
                if found is None:
                    return None
                key_at, i = found
            elif opening == "[" and part.isdigit():
                found_at = self._element(i, int(part))
                if found_at is None:
                    return None
                key_at, i = None, found_at
            else:
                return None
        return key_at if at_key and key_at is not None else i

    def _skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def _member(self, i: int, name: str) -> tuple[int, int] | None:
        """(key offset, value offset) of the last member called `name` of the object at i."""
        text = self.text
        found = None
        i = self._skip(i + 1)
        while text[i : i + 1] == '"':
            key, end = _scanstring(text, i + 1)
            start = self._skip(self._skip(end) + 1)
            if key == name:
                found = (i, start)
            i = self._skip(DECODER.raw_decode(text, start)[1])
            if text[i : i + 1] != ",":
                break
            i = self._skip(i + 1)
        return found

    def _element(self, i: int, index: int) -> int | None:
        text = self.text
        i = self._skip(i + 1)
        for _ in range(index):
            if text[i : i + 1] in ("]", ""):
                return None
            i = self._skip(DECODER.raw_decode(text, i)[1])
            if text[i : i + 1] != ",":
                return None
            i = self._skip(i + 1)
        return None if text[i : i + 1] in ("]", "") else i


def parse_jsonl(lines: Iterable[tuple[int, str]]) -> Iterator[Document | Unreadable]:
    """One document per non-blank line; `lines` gives each line with its number."""
    for number, line in lines:
        if not line.strip():
            continue
        try:
            yield parse_json(line, number)
        except Unreadable as exc:
            yield exc
