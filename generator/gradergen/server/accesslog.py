"""One structured line per request on the `gradergen.server.access` logger (standard output by
default): time, method, path, status, duration, grader type, isolation level, the error code of an
answer that is not 200 (or "deadline_exceeded" for a grading the deadline ended), and the request id,
which the answer also carries as `x-request-id`."""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

log = logging.getLogger("gradergen.server.access")
_KEY = "gradergen"
GONE = 499
"""The status logged for a client that closed its connection before the answer (nginx's)."""


_ids = random.Random(os.urandom(32))
"""Request ids, drawn without a system call each: os.urandom per request cost more than the rest of
the line, letting the sandbox pool's thread take the interpreter at every call."""
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))


def new_request_id() -> str:
    return f"req_{_ids.getrandbits(128):032x}"


def note(scope: Any, **fields: Any) -> None:
    """Add fields to the request's log line."""
    found = scope.get(_KEY)
    if found is not None:
        found.update(fields)


def noted_fields(scope: Any) -> dict[str, Any]:
    """The request's log fields, to fill in (a scratch dict when the app runs without AccessLog)."""
    found: dict[str, Any] = scope.get(_KEY, {})
    return found


class LineHandler(logging.StreamHandler[TextIO]):
    """Each record's message on a line of its own, as it is (standard output by default): the access
    log's handler, whether `ensure_handler` or `gradergen serve`'s logging setup adds it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stdout)
        self.line_format = logging.Formatter("%(message)s")
        self.setFormatter(self.line_format)


def ensure_handler() -> None:
    """Without a logging setup of the host's, the lines go to standard output, one JSON per line."""
    if not log.handlers:
        log.addHandler(LineHandler())
        log.setLevel(logging.INFO)
        log.propagate = False


def emit(line: str) -> None:
    """`log.info(line)`. While the logger's one handler is a LineHandler as it was made, the line goes
    straight to its stream, as the handler would write it: a log record and its formatting cost more
    than the rest of the line's work. Any other setup (a handler, formatter or filter of the host's)
    gets the record."""
    handler = log.handlers[0] if len(log.handlers) == 1 else None
    if (
        type(handler) is not LineHandler
        or handler.formatter is not handler.line_format
        or handler.filters
        or handler.level > logging.INFO
        or log.filters
        or log.disabled
        or not log.isEnabledFor(logging.INFO)
    ):
        log.info(line)
        return
    with handler.lock:  # type: ignore[union-attr]  # a StreamHandler always has one
        try:
            handler.stream.write(line + handler.terminator)
            handler.stream.flush()
        except Exception:  # what the handler does with a failed write: reported on stderr, not raised
            handler.handleError(log.makeRecord(log.name, logging.INFO, __file__, 0, line, (), None))


class AccessLog:
    def __init__(self, app: Any) -> None:
        self.app = app
        ensure_handler()

    def __getattr__(self, name: str) -> Any:  # app.state, app.routes… of the wrapped Starlette app
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id()
        fields: dict[str, Any] = {}
        scope[_KEY] = fields
        status = 500

        logged = False

        def write_line() -> None:
            nonlocal logged
            logged = True
            if log.isEnabledFor(logging.INFO):
                record = {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "grader_type": fields.get("grader_type"),
                    "isolation": fields.get("isolation"),
                    "error": fields.get("error"),
                    "request_id": request_id,
                }
                emit(orjson.dumps(record).decode())

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                write_line()  # before the answer's last bytes: whoever has the answer finds its line
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not logged:  # no answer was completed: an error, or a client that went away
                write_line()
