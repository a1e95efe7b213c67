"""The pool's side of the worker protocol (worker.py has the other): frames of a 4-byte big-endian
length and UTF-8 JSON. Nothing a worker sends is trusted: a frame over the size limit, text that is
not JSON, or a result that is not exactly what was asked for is a protocol error, and the worker is
ended."""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

from . import PythonResult

HEADER = struct.Struct(">I")
MAX_RESULT_FRAME = 256 * 1024
"""A result is a number or a failure with at most 16 kB of details and 8 kB of output: anything bigger
is not a result."""
MAX_DETAILS = 64 * 1024
FAILURES = ("runtime", "memory")
"""What a worker may report itself; timeout, crashed and server are the pool's to say."""


class ProtocolError(Exception):
    pass


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


class FrameReader:
    """Frames out of a byte stream, however it is cut."""

    def __init__(self, limit: int = MAX_RESULT_FRAME) -> None:
        self.limit = limit
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self.buffer
        buffer += data
        frames = []
        start, length = 0, len(buffer)
        while length - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            if size > self.limit:
                raise ProtocolError(f"the sandbox sent a frame of {size} bytes (the limit is {self.limit})")
            end = start + HEADER.size + size
            if length < end:
                break
            frames.append(bytes(buffer[start + HEADER.size : end]))
            start = end
        del buffer[:start]  # once per read: the frames of a read are many and small
        return frames


_PLAIN_REWARD = re.compile(rb'\{"i":(\d{1,18}),"v":(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\}\Z')


def fast_result(body: bytes, expected_id: int) -> PythonResult | None:
    """The result of the common frame `{"i":ID,"v":NUMBER}` read without a JSON parser; None for any
    other frame, which then takes the general path."""
    match = _PLAIN_REWARD.match(body)
    if match is None or int(match[1]) != expected_id:
        return None
    value = float(match[2])
    return PythonResult(value) if math.isfinite(value) else None


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("the sandbox sent something that is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("the sandbox sent JSON that is not an object")
    return message


@dataclass(frozen=True)
class Answer:
    result: PythonResult
    retire: bool


def result_of(message: dict[str, Any], expected_id: int) -> Answer:
    """The result a worker sent for the call `expected_id`, checked field by field."""
    if message.get("i") != expected_id or isinstance(message.get("i"), bool):
        raise ProtocolError(
            f"the sandbox answered call {message.get('i')!r} while call {expected_id} was running"
        )
    retire = message.get("r", False)
    if not isinstance(retire, bool) or not set(message) <= {"i", "v", "f", "d", "r"}:
        raise ProtocolError("the sandbox sent a result with unknown fields")
    if "v" in message:
        value = message["v"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProtocolError(f"the sandbox sent a reward that is not a finite number: {value!r:.100}")
        if "f" in message or "d" in message:
            raise ProtocolError("the sandbox sent a reward and a failure at once")
        return Answer(PythonResult(float(value)), retire)
    failure, details = message.get("f"), message.get("d")
    if failure not in FAILURES or not isinstance(details, str):
        raise ProtocolError(f"the sandbox sent an unknown failure {failure!r:.100}")
    if len(details) > MAX_DETAILS:
        details = details[:MAX_DETAILS] + "…"
    return Answer(PythonResult(None, failure, details), retire)
