"""`gradergen serve` at the HTTP level: a request that offers an upgrade the server does not take
(`Upgrade: h2c`, as Java's java.net.http client sends its first request on a connection, and curl
--http2) is served as the HTTP/1.1 request it also is, its body read by its own framing, split across
packets, chunked, pipelined, or followed by another request on the same connection. uvicorn's own
httptools protocol hands the app an empty body there (uvicorn issue #2722).

Raw sockets, so that the bytes on the wire are the test's; curl as a real client that makes the offer."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Any

import pytest

from conftest import SERVER_API_KEY
from graders_server import API, GradersServer
from harness import require_tool

GRADER = {"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}", "operation": "eq",
          "reference": "{{ item.label }}"}  # fmt: skip
RUN_BODY = json.dumps({"grader": GRADER, "model_sample": "yes", "item": {"label": "yes"}}).encode()
OFFER = b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"


def head(server: GradersServer, operation: str, extra: bytes = b"", framing: bytes | None = None) -> bytes:
    if framing is None:
        framing = f"Content-Length: {len(RUN_BODY)}\r\n".encode()
    lines = [
        f"POST {API}/{operation} HTTP/1.1\r\n".encode(),
        f"Host: 127.0.0.1:{server.port}\r\n".encode(),
        f"Authorization: Bearer {SERVER_API_KEY}\r\n".encode(),
        b"Content-Type: application/json\r\n",
        extra,
        framing,
        b"\r\n",
    ]
    return b"".join(lines)


class Connection:
    def __init__(self, server: GradersServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed the connection; so far: {self.buffer!r}")
        self.buffer += chunk

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """The next response: status, headers (lower-case names), body (by its Content-Length)."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        top, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = top.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def connection(graders_server: GradersServer) -> Any:
    conn = Connection(graders_server)
    yield conn
    conn.close()


def assert_graded(response: tuple[int, dict[str, str], bytes]) -> None:
    status, _, body = response
    assert status == 200, body
    assert json.loads(body)["reward"] == 1.0  # "yes" eq the item's "yes": the body arrived whole


def test_an_h2c_offer_with_its_body_in_one_packet(graders_server: GradersServer, connection: Any) -> None:
    connection.send(head(graders_server, "run", OFFER) + RUN_BODY)
    assert_graded(connection.response())


def test_an_h2c_offer_with_its_body_in_later_packets(graders_server: GradersServer, connection: Any) -> None:
    connection.send(head(graders_server, "run", OFFER))
    time.sleep(0.2)
    connection.send(RUN_BODY[:10])
    time.sleep(0.2)
    connection.send(RUN_BODY[10:])
    assert_graded(connection.response())


def test_an_h2c_offer_with_a_chunked_body(graders_server: GradersServer, connection: Any) -> None:
    chunks = [RUN_BODY[:17], RUN_BODY[17:]]
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    connection.send(head(graders_server, "run", OFFER, b"Transfer-Encoding: chunked\r\n") + body)
    assert_graded(connection.response())


def test_the_connection_serves_on_after_an_offer(graders_server: GradersServer, connection: Any) -> None:
    offered = head(graders_server, "run", OFFER) + RUN_BODY
    plain = head(graders_server, "run") + RUN_BODY
    connection.send(offered + plain + offered)  # pipelined
    for _ in range(3):
        assert_graded(connection.response())
    connection.send(plain)  # and kept alive
    assert_graded(connection.response())


def test_the_offer_is_declined_not_taken(graders_server: GradersServer, connection: Any) -> None:
    connection.send(head(graders_server, "run", OFFER) + RUN_BODY)
    status, headers, _ = connection.response()
    assert status == 200 and "upgrade" not in headers
    assert "Unsupported upgrade request" not in graders_server.stderr()


def test_a_connect_request_is_refused(graders_server: GradersServer, connection: Any) -> None:
    connection.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    status, _, body = connection.response()
    assert status == 400, body


def test_curl_offering_http2_gets_its_answer(graders_server: GradersServer) -> None:
    curl = require_tool("curl")
    result = subprocess.run(
        [curl, "-sS", "--http2", "-H", "Content-Type: application/json", "-H",
         f"Authorization: Bearer {SERVER_API_KEY}", "--data-binary", RUN_BODY.decode(),
         graders_server.endpoint("run")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reward"] == 1.0, result.stdout
