"""One structured line per request on the `gradergen.server.access` logger (standard output by
default): time, method, path, status, duration, grader type, isolation level, the error code of an
answer that is not 200 (or "deadline_exceeded" for a grading the deadline ended), and the request id,
which the answer also carries as `x-request-id`."""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

log = logging.getLogger("gradergen.server.access")
_KEY = "gradergen"
GONE = 499
"""The status logged for a client that closed its connection before the answer (nginx's)."""


def note(scope: Any, **fields: Any) -> None:
    """Add fields to the request's log line."""
    found = scope.get(_KEY)
    if found is not None:
        found.update(fields)


def noted_fields(scope: Any) -> dict[str, Any]:
    """The request's log fields, to fill in (a scratch dict when the app runs without AccessLog)."""
    found: dict[str, Any] = scope.get(_KEY, {})
    return found


_own_handler: logging.StreamHandler[Any] | None = None
"""The handler `ensure_handler` added, if it did."""


def ensure_handler() -> None:
    """Without a logging setup of the host's, the lines go to standard output, one JSON per line."""
    global _own_handler
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        _own_handler = handler


def emit(line: str) -> None:
    """`log.info(line)`. While the only handler is the one `ensure_handler` added, the line goes
    straight to its stream, as that handler would write it: a log record and its formatting cost more
    than the rest of the line's work. Any other setup (a handler or filter of the host's) gets the
    record."""
    handler = _own_handler
    if (
        handler is None
        or log.handlers != [handler]
        or log.filters
        or handler.filters
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
        request_id = "req_" + os.urandom(16).hex()
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
