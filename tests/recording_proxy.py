"""A recording reverse proxy on 127.0.0.1: forwards every request to an upstream server unchanged and
keeps each exchange, so a test can check what a client it did not write sent and what the server
answered, whichever server sits behind it (the mock or `gradergen serve`).

    with RecordingProxy("http://127.0.0.1:8000") as proxy:
        ...                             # point the client at proxy.url + "/v1"
        proxy.exchanges                 # [Exchange(method, path, headers, body, status, answer), ...]
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business; everything else is passed on.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names, as the client sent them
    body: bytes
    status: int
    answer: bytes
    answer_headers: dict[str, str]

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)

    def answer_json(self) -> Any:
        return json.loads(self.answer)


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname or parsed.port is None:
            raise ValueError(f"upstream must be http://HOST:PORT, not {upstream!r}")
        self._upstream = (parsed.hostname, parsed.port)
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="recording-proxy",
            daemon=True,
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
        """The proxy's origin, without a path."""
        if self._httpd is None:
            raise RuntimeError("the proxy is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def clear(self) -> None:
        with self._lock:
            self._exchanges.clear()

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)


class _Handler(BaseHTTPRequestHandler):
    proxy: RecordingProxy
    protocol_version = "HTTP/1.1"
    _upstream_connection: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def finish(self) -> None:
        super().finish()
        if self._upstream_connection is not None:
            self._upstream_connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        # One upstream connection per client connection, kept alive like the client's own.
        if self._upstream_connection is None:
            self._upstream_connection = http.client.HTTPConnection(*self.proxy._upstream, timeout=300)
        return self._upstream_connection

    def _forward(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        sent = {k: v for k, v in headers.items() if k not in HOP_BY_HOP and k != "content-length"}
        sent["content-length"] = str(len(body))
        try:
            connection = self._connection()
            connection.request(self.command, self.path, body=body, headers=sent)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            self._upstream_connection = None
            message = json.dumps({"error": {"message": f"recording proxy: upstream failed: {error}"}})
            self._reply(502, {"content-type": "application/json"}, message.encode())
            return
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        self.proxy._record(
            Exchange(self.command, self.path, headers, body, response.status, answer, answer_headers)
        )
        passed = {k: v for k, v in answer_headers.items() if k not in HOP_BY_HOP and k != "content-length"}
        self._reply(response.status, passed, answer)

    def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
