"""A misbehaving HTTP server for the clients' failure tests: the first segment of the path picks how it
misbehaves.

A client under test gets a base URL such as ``http://127.0.0.1:PORT/slow-drip/100/go-1`` and posts to
``<base>/fine_tuning/alpha/graders/validate``. The base path (everything before ``/fine_tuning/``) is the
scenario, its argument if it takes one, and any tag the test adds to keep its hit count apart.

Scenarios:

  never-answers         reads the request, sends nothing, holds the connection until the client leaves
  reset-mid-body        headers announcing 1000 bytes, 100 of them, then a TCP reset (SO_LINGER 0)
  slow-drip[/MS]        headers at once, then a valid answer one byte every MS ms (default 1000)
  invalid-json          200 with a body that is not JSON
  wrong-shape           200 with JSON that is not the operation's answer (an array)
  oversized             200, chunked: a valid answer of 64 MiB, streamed until the client hangs up
  oversized-declared    the same with its Content-Length announced
  json-of-size/N        200 with a valid validate answer of exactly N bytes (one long grader name)
  retry-after-huge      the first request of a base path: 429 with Retry-After: 99999; later ones: 200
  retry-after-date/S    the first request of a base path: 429 with Retry-After as an HTTP date S seconds
                        ahead (default 3; the date has whole seconds); later ones: 200
  html-400              400 with an HTML page as the body
  corrupt-gzip          200 with Content-Encoding: gzip, a gzip header and then a deflate stream that is
                        not one (a reserved block type): no client can decode it
  deep-json/N           200 with a valid validate answer whose grader holds an unknown property nested N
                        arrays deep (default 500)

Control: ``GET /__fault/hits`` gives ``{"<base path>": requests}``; ``POST /__fault/reset`` clears it.

In-process (Python tests)::

    with FaultServer() as server:
        client = Client(base_url=f"{server.url}/slow-drip/100", timeout=1)

Standalone (Go, Java, Ruby suites)::

    python tests/fault_server.py [--port 0]

prints one line ``FAULT_URL=http://127.0.0.1:PORT`` and serves until killed or, when stdin is a pipe or a
terminal, until stdin reaches EOF.
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import socket
import stat
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

OPERATIONS = "/fine_tuning/"
CONTROL_PREFIX = "/__fault/"
VALIDATE_ANSWER = {
    "grader": {
        "input": "input",
        "name": "name",
        "operation": "eq",
        "reference": "reference",
        "type": "string_check",
    }
}
OVERSIZED_BYTES = 64 * 1024 * 1024
"""Twice the clients' default limit of 32 MiB: a client without a limit reads it and succeeds."""
ANSWER_HEAD = b'{"grader":{"input":"input","name":"'
ANSWER_TAIL = b'","operation":"eq","reference":"reference","type":"string_check"}}'
HOLD_SECONDS = 120.0
"""How long a connection that gets no answer is held when the client does not hang up first."""
CORRUPT_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * 32
"""A gzip header (no flags, no mtime) followed by deflate blocks of the reserved type 11."""
DEEP_JSON_DEFAULT = 500
RETRY_AFTER_DATE_DEFAULT = 3
"""Seconds ahead the retry-after-date scenario's date is, unless its argument says."""
HTML_PAGE = "<html><head><title>400 Bad Request</title></head><body><h1>Bad Request</h1></body></html>"


def answer_of_size(size: int) -> bytes:
    """A valid validate answer of exactly ``size`` bytes: the grader's name is that many 'x' as fit."""
    padding = size - len(ANSWER_HEAD) - len(ANSWER_TAIL)
    if padding < 0:
        raise ValueError(f"an answer takes at least {len(ANSWER_HEAD) + len(ANSWER_TAIL)} bytes, not {size}")
    return ANSWER_HEAD + b"x" * padding + ANSWER_TAIL


def deep_answer(depth: int) -> bytes:
    """A valid validate answer whose grader has the unknown property ``deep``: ``depth`` nested arrays,
    so that the whole document is ``depth + 2`` levels deep."""
    grader = json.dumps(VALIDATE_ANSWER["grader"], separators=(",", ":")).encode()
    return b'{"grader":' + grader[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}}"


def watch_stdin() -> bool:
    """Only a pipe or a terminal signals the parent's intent by EOF; /dev/null is EOF at once."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or sys.stdin.isatty()


class FaultServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._busy: Counter[str] = Counter()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0) -> FaultServer:
        handler = type("Handler", (_Handler,), {"faults": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None and self._thread is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the fault server is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def hits(self, base: str) -> int:
        """How many API requests came for a base path such as ``/reset-mid-body/tag``."""
        with self._lock:
            return self._hits[base]

    def busy(self, base: str) -> int:
        """How many requests for a base path are being answered (or held) right now."""
        with self._lock:
            return self._busy[base]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _record(self, base: str) -> int:
        with self._lock:
            self._hits[base] += 1
            return self._hits[base]

    def _set_busy(self, base: str, change: int) -> None:
        with self._lock:
            self._busy[base] += change

    def _all_hits(self) -> dict[str, int]:
        with self._lock:
            return dict(self._hits)


class _Handler(BaseHTTPRequestHandler):
    faults: FaultServer
    protocol_version = "HTTP/1.1"
    server_version = "gradergen-faults"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # silence per-request logging
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        try:
            if self.path.startswith(CONTROL_PREFIX):
                self._control()
            else:
                self._scenario()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up, as it should

    def _control(self) -> None:
        if (self.command, self.path) == ("GET", "/__fault/hits"):
            return self._answer(200, json.dumps(self.faults._all_hits()).encode())
        if (self.command, self.path) == ("POST", "/__fault/reset"):
            self.faults.reset()
            return self._answer(200, b'{"ok": true}')
        self._answer(404, json.dumps({"error": f"unknown control URL {self.command} {self.path}"}).encode())

    def _scenario(self) -> None:
        base = self.path.split("?", 1)[0].split(OPERATIONS, 1)[0]
        segments = base.strip("/").split("/")
        name, argument = segments[0], segments[1] if len(segments) > 1 else ""
        hit = self.faults._record(base)
        scenario = SCENARIOS.get(name)
        if scenario is None:
            message = f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}"
            return self._answer(404, json.dumps({"error": {"message": message}}).encode())
        self.faults._set_busy(base, +1)
        try:
            scenario(self, argument, hit)
        finally:
            self.faults._set_busy(base, -1)

    # --- building blocks ----------------------------------------------------------------------------

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _answer(self, status: int, body: bytes, content_type: str = "application/json", **extra: str) -> None:
        self._head(status, {"Content-Type": content_type, "Content-Length": str(len(body)), **extra})
        self.wfile.write(body)

    def _reset(self) -> None:
        """Abort the connection: with SO_LINGER 0, closing sends RST instead of FIN."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the file holds a reference: the socket closes only when both are gone
        self.connection.close()
        self.close_connection = True

    # --- the scenarios ------------------------------------------------------------------------------

    def never_answers(self, argument: str, hit: int) -> None:
        self.close_connection = True
        self.connection.settimeout(HOLD_SECONDS)
        try:
            while self.connection.recv(65536):
                pass  # until the client hangs up
        except OSError:
            pass

    def reset_mid_body(self, argument: str, hit: int) -> None:
        self._head(200, {"Content-Type": "application/json", "Content-Length": "1000"})
        self.wfile.write(b'{"grader": {"name": "' + b"x" * 79)
        time.sleep(0.2)  # let the client read the headers and start on the body
        self._reset()

    def slow_drip(self, argument: str, hit: int) -> None:
        interval = int(argument or 1000) / 1000
        body = json.dumps(VALIDATE_ANSWER).encode()
        self.close_connection = True
        self._head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        for i in range(len(body)):
            self.wfile.write(body[i : i + 1])
            time.sleep(interval)

    def invalid_json(self, argument: str, hit: int) -> None:
        self._answer(200, b'{"grader": {"type": "string_check", "name": ')

    def wrong_shape(self, argument: str, hit: int) -> None:
        self._answer(200, b"[1, 2, 3]")

    def oversized(self, argument: str, hit: int) -> None:
        self.close_connection = True
        self._head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        for chunk in _oversized_chunks():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def oversized_declared(self, argument: str, hit: int) -> None:
        self.close_connection = True
        self._head(200, {"Content-Type": "application/json", "Content-Length": str(OVERSIZED_BYTES)})
        for chunk in _oversized_chunks():
            self.wfile.write(chunk)

    def json_of_size(self, argument: str, hit: int) -> None:
        try:
            body = answer_of_size(int(argument))
        except ValueError as exc:
            return self._refused(str(exc))
        self._answer(200, body)

    def retry_after_huge(self, argument: str, hit: int) -> None:
        if hit > 1:
            return self._answer(200, json.dumps(VALIDATE_ANSWER).encode())
        self._rate_limited("Rate limit reached; come back in a day.", "99999")

    def retry_after_date(self, argument: str, hit: int) -> None:
        if hit > 1:
            return self._answer(200, json.dumps(VALIDATE_ANSWER).encode())
        try:
            ahead = float(argument or RETRY_AFTER_DATE_DEFAULT)
        except ValueError:
            return self._refused(f"retry-after-date takes seconds, not {argument!r}")
        self._rate_limited("Slow down.", email.utils.formatdate(time.time() + ahead, usegmt=True))

    def _rate_limited(self, message: str, retry_after: str) -> None:
        """A 429 with the API's error envelope and the Retry-After header given."""
        envelope = {
            "error": {"code": "rate_limit_exceeded", "message": message, "param": None, "type": "requests"}
        }
        self._answer(429, json.dumps(envelope).encode(), **{"Retry-After": retry_after})

    def _refused(self, message: str) -> None:
        """A scenario's argument it cannot use: a 400 saying why."""
        self._answer(400, json.dumps({"error": {"message": message}}).encode())

    def html_400(self, argument: str, hit: int) -> None:
        self._answer(400, HTML_PAGE.encode(), content_type="text/html; charset=utf-8")

    def corrupt_gzip(self, argument: str, hit: int) -> None:
        self._answer(200, CORRUPT_GZIP, **{"Content-Encoding": "gzip"})

    def deep_json(self, argument: str, hit: int) -> None:
        try:
            depth = int(argument or DEEP_JSON_DEFAULT)
        except ValueError:
            return self._refused(f"deep-json takes a depth, not {argument!r}")
        self._answer(200, deep_answer(depth))


def _oversized_chunks() -> Iterator[bytes]:
    """A valid validate answer of OVERSIZED_BYTES, made a MiB at a time rather than held whole."""
    padding = OVERSIZED_BYTES - len(ANSWER_HEAD) - len(ANSWER_TAIL)
    yield ANSWER_HEAD
    block = b"x" * (1 << 20)
    while padding > 0:
        yield block[:padding]
        padding -= len(block)
    yield ANSWER_TAIL


SCENARIOS: dict[str, Callable[[_Handler, str, int], None]] = {
    "never-answers": _Handler.never_answers,
    "reset-mid-body": _Handler.reset_mid_body,
    "slow-drip": _Handler.slow_drip,
    "invalid-json": _Handler.invalid_json,
    "wrong-shape": _Handler.wrong_shape,
    "oversized": _Handler.oversized,
    "oversized-declared": _Handler.oversized_declared,
    "json-of-size": _Handler.json_of_size,
    "retry-after-huge": _Handler.retry_after_huge,
    "retry-after-date": _Handler.retry_after_date,
    "html-400": _Handler.html_400,
    "corrupt-gzip": _Handler.corrupt_gzip,
    "deep-json": _Handler.deep_json,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port to bind on 127.0.0.1 (0 = any free port)")
    args = parser.parse_args(argv)

    server = FaultServer().start(args.port)
    print(f"FAULT_URL={server.url}", flush=True)
    try:
        if watch_stdin():
            while sys.stdin.buffer.read(65536):
                pass
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
