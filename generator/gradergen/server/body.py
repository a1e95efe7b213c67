"""Reading a request body: its size held to the limit while it arrives, its JSON read as `gradergen
validate` reads a file (the same messages, exact integers, no NaN), and its shape held to what a grader
request can need: at most MAX_DEPTH levels of nesting, and no object of the grader with more than
MAX_PROPERTIES properties (a validator's report on each one costs time a hostile body should not buy)."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..validation.document import Unreadable, decode
from ..validation.json_text import parse_json
from ..validation.problem import Path, kind_of, pointer
from .errors import ApiError, param_of

MAX_DEPTH = 128
MAX_PROPERTIES = 1000


class ClientGone(Exception):
    """The client closed the connection before the answer: nobody is left to answer."""


def too_large(limit: int, size: int | None = None) -> ApiError:
    said = f"{size:,} bytes" if size is not None else f"over {limit:,} bytes"
    return ApiError(
        413,
        "request_too_large",
        f"The request body is {said}; the limit is {limit:,} bytes ({limit >> 20} MiB, [server] max_body_mb)",
        headers={"Connection": "close"},
    )


def declared_size(value: str | None, limit: int) -> None:
    """A Content-Length over the limit is refused before a byte of the body is read."""
    if value is None:
        return
    try:
        size = int(value)
    except ValueError:
        raise ApiError(400, "invalid_request", f"Content-Length {value!r} is not a number") from None
    if size > limit:
        raise too_large(limit, size)


async def receive_body(receive: Callable[[], Awaitable[MutableMapping[str, Any]]], limit: int) -> bytes:
    """The whole body, read from an ASGI `receive`; 413 as soon as it passes `limit` bytes, ClientGone
    when the client leaves first."""
    received: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        received.append(chunk)
        if not message.get("more_body", False):
            return b"".join(received)


class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotFinite(text)
    return value


def _reject(name: str) -> Any:
    raise _NotFinite(name)


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_reject)


def parse(raw: bytes) -> Any:
    """The body as JSON, or 400 naming what is wrong and where (line and column). Numbers are kept
    exactly (integers of any size) or refused: a number past what a double holds would otherwise
    come back as something else."""
    if not raw.strip():
        raise ApiError(400, "invalid_json", "The request body is empty: send a JSON object")
    try:
        text = decode(raw)
        try:
            value = _DECODER.decode(text)
        except _NotFinite as exc:
            raise ApiError(
                400, "invalid_json", f"The request body holds {exc}, which is not a finite JSON number"
            ) from None
        except RecursionError:
            value = parse_json(text).value  # raises with the depth and where it is
        except ValueError as exc:  # the reader's own message and position, as `gradergen validate`'s
            if not isinstance(exc, json.JSONDecodeError):  # an integer of more digits than Python reads
                message = f"The request body holds a number Python cannot read: {exc}"
                raise ApiError(400, "invalid_json", message) from None
            value = parse_json(text).value
    except Unreadable as exc:
        where = f" at line {exc.line}, column {exc.column}" if exc.line is not None else ""
        hint = f" ({exc.hint})" if exc.hint else ""
        message = f"The request body{where} is {_reads(exc.message)}{hint}"
        raise ApiError(400, "invalid_json", message) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH or raw.count(b":") > MAX_PROPERTIES:
        _hold_shape(value)
    return value


def _reads(message: str) -> str:
    """The reader's message after "The request body is": "not valid JSON: …", "binary data: …"."""
    return message if message.startswith("not ") else f"unreadable: {message}"


def _hold_shape(body: Any) -> None:
    """400 for nesting deeper than MAX_DEPTH anywhere, or an object of the grader wider than
    MAX_PROPERTIES."""
    stack: list[tuple[Any, Path, bool]] = [(body, (), False)]
    while stack:
        node, path, in_grader = stack.pop()
        if len(path) > MAX_DEPTH:
            field = param_of(pointer(path[:1]), body)
            raise ApiError(
                400,
                "invalid_request_body",
                f"Invalid request body at {field}: nested more than {MAX_DEPTH} levels deep",
                field,
            )
        if isinstance(node, dict):
            grader = in_grader or path == ("grader",)
            if grader and len(node) > MAX_PROPERTIES:
                where = param_of(pointer(path), body)
                raise ApiError(
                    400,
                    "invalid_request_body",
                    f"Invalid request body at {where}: an object with {len(node):,} properties; an object "
                    f"of a grader has at most {MAX_PROPERTIES:,}",
                    where,
                )
            for key, value in node.items():
                if isinstance(value, (dict, list)):
                    stack.append((value, (*path, key), grader or (path == () and key == "grader")))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, (dict, list)):
                    stack.append((value, (*path, index), in_grader))


def request_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_request_body",
            f"Invalid request body: expected a JSON object, found {kind_of(body)}",
        )
    return body
