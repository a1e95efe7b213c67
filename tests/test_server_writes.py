"""How the server writes an answer: in one write to its socket, nothing held past the loop's next turn
or a close; and its access line before the answer's last bytes, so that whoever holds an answer finds
its line. (The end-to-end tests in test_server.py and test_server_http.py read the answers and lines
these writes carry; here the order and the writes themselves are checked.)"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from gradergen.server.accesslog import AccessLog, log
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


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("gone", [False, True], ids=["answered", "client gone"])
def test_the_access_line_is_written_before_the_answers_last_bytes(gone: bool) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if gone:
            raise ConnectionResetError  # the answer never completes: the line is still written
        await send({"type": "http.response.body", "body": b"{}", "more_body": False})

    lines = Lines()
    seen_at_last_body: list[int] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            seen_at_last_body.append(len(lines.lines))

    async def scenario() -> None:
        scope = {"type": "http", "method": "POST", "path": "/v1/fine_tuning/alpha/graders/run"}
        try:
            await AccessLog(app)(scope, None, send)
        except ConnectionResetError:
            assert gone

    level = log.level
    log.addHandler(lines)
    log.setLevel(logging.INFO)
    try:
        asyncio.run(scenario())
    finally:
        log.removeHandler(lines)
        log.setLevel(level)
    assert len(lines.lines) == 1 and '"status":200' in lines.lines[0]
    assert seen_at_last_body == ([] if gone else [1])  # the line was there when the last bytes went


@pytest.mark.parametrize("setup", ["without a setup", "gradergen serve's"])
def test_a_line_handler_gets_the_line_as_logging_would_write_it_and_a_hosts_handler_the_record(
    setup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the access logger's one handler is a LineHandler, a line goes straight to its stream; the
    bytes are what that handler writes for a record of the line. A handler of the host's beside it, or
    a formatter of its own, gets the record."""
    import io
    import logging.config

    from gradergen.server import accesslog
    from gradergen.server.command import log_config

    monkeypatch.setattr(log, "handlers", [])
    monkeypatch.setattr(log, "propagate", log.propagate)
    monkeypatch.setattr(log, "level", log.level)
    if setup == "without a setup":
        accesslog.ensure_handler()
    else:
        served = log_config("info")  # only its access logger and handler: the rest is global state
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "handlers": {"access_lines": served["handlers"]["access_lines"]},
                "loggers": {log.name: served["loggers"][log.name]},
            }
        )
    [handler] = log.handlers
    assert type(handler) is accesslog.LineHandler
    direct, by_logging = io.StringIO(), io.StringIO()
    handler.setStream(direct)
    accesslog.emit('{"status":200}')
    handler.setStream(by_logging)
    handler.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, '{"status":200}', (), None))
    assert direct.getvalue() == by_logging.getvalue() == '{"status":200}\n'

    handler.setStream(direct)
    handler.setFormatter(logging.Formatter("access %(message)s"))
    accesslog.emit('{"status":201}')
    lines = Lines()
    log.addHandler(lines)
    accesslog.emit('{"status":404}')
    assert lines.lines == ['{"status":404}']
    assert direct.getvalue().splitlines() == [
        '{"status":200}',
        'access {"status":201}',
        'access {"status":404}',
    ]
