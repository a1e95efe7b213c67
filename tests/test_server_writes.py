"""How the server writes: each answer in one write to its socket, and the access lines of one turn of the
event loop in one write to the log stream, in order, nothing held past the loop's next turn or a
flush at exit. (The end-to-end tests in test_server.py and test_server_http.py read the answers and
the log lines these writes carry; here the writes themselves are counted.)"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

from gradergen.server.accesslog import BatchedLines
from gradergen.server.protocol import OneWrite


class RecordingTransport:
    """Stands in for the socket's transport: records each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 9) if name == "peername" else default


def test_headers_and_body_written_in_one_step_go_out_in_one_write() -> None:
    async def scenario() -> RecordingTransport:
        transport = RecordingTransport()
        one = OneWrite(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        one.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        one.write(b"{}")
        assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        await asyncio.sleep(0)
        return transport

    assert len(asyncio.run(scenario()).writes) == 1


def test_a_write_nothing_follows_goes_out_at_the_next_turn() -> None:
    async def scenario() -> None:
        transport = RecordingTransport()
        one = OneWrite(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        one.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        assert transport.writes == []
        await asyncio.sleep(0)
        assert transport.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
        one.write(b"chunk one")
        one.write(b"chunk two")
        one.write(b"chunk three")  # held again: a later write or the next turn sends it
        await asyncio.sleep(0)
        assert transport.writes[1:] == [b"chunk onechunk two", b"chunk three"]

    asyncio.run(scenario())


def test_closing_sends_what_is_held_first() -> None:
    async def scenario() -> None:
        transport = RecordingTransport()
        one = OneWrite(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        one.write(b"HTTP/1.1 400 Bad Request\r\n\r\nrefused")
        one.close()
        assert transport.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\nrefused"] and transport.closed
        await asyncio.sleep(0)  # the scheduled flush finds nothing, and writes nothing after close
        assert len(transport.writes) == 1

    asyncio.run(scenario())


def test_the_rest_of_the_transport_is_the_sockets() -> None:
    async def scenario() -> None:
        transport = RecordingTransport()
        one = OneWrite(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        assert one.get_extra_info("peername") == ("127.0.0.1", 9)
        assert one.is_closing() is False

    asyncio.run(scenario())


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.write_calls = 0

    def write(self, text: str) -> int:
        self.write_calls += 1
        return super().write(text)


def logger_with(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def test_the_lines_of_one_turn_are_one_write_in_order() -> None:
    stream = CountingStream()
    log = logger_with(BatchedLines(stream), "test.batched.turn")

    async def scenario() -> None:
        for n in range(100):
            log.info(json.dumps({"n": n}))
        assert stream.getvalue() == ""  # nothing yet: the batch goes at the next turn
        await asyncio.sleep(0)
        log.info(json.dumps({"n": 100}))
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert [json.loads(line)["n"] for line in stream.getvalue().splitlines()] == list(range(101))
    assert stream.write_calls == 2


def test_lines_off_the_loop_and_a_flush_at_exit_lose_nothing() -> None:
    stream = CountingStream()
    handler = BatchedLines(stream)
    log = logger_with(handler, "test.batched.exit")
    log.info("off the loop")
    assert stream.getvalue() == "off the loop\n"

    async def scenario() -> None:
        log.info("last line")
        handler.flush()  # what logging.shutdown does at exit, before the loop's next turn

    asyncio.run(scenario())
    assert stream.getvalue() == "off the loop\nlast line\n"
