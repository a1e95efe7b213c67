"""Mock of the fine-tuning graders API for the SDK test suites.

In-process (Python tests)::

    with MockServer("spec/graders.openapi.yaml") as server:
        server.enqueue(429)            # next request: 429 with an error envelope
        ...                            # point the client at server.url
        server.requests                # what the client sent

Standalone (Go, Java, Ruby tests)::

    python tests/mock_server.py --spec spec/graders.openapi.yaml [--port 0] [--api-key KEY]

prints one line ``MOCK_URL=http://127.0.0.1:PORT/v1`` and serves until killed or, when stdin is a
pipe or a terminal, until stdin reaches EOF. It is driven over HTTP via ``/__mock/enqueue``,
``/__mock/requests`` and ``/__mock/reset``.

Request bodies are validated against the operation's requestBody schema in the OpenAPI spec.
Scripted answers (the FIFO queue) take precedence over authentication and validation: the next
request to an API route gets the next one, whatever it sends. Unknown routes (404) do not consume it.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import relevance
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE_PATH = "/v1"
CONTROL_PREFIX = "/__mock/"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_RUN_RESPONSE = FIXTURES / "responses" / "run" / "000_cli.json"
SPEC_URI = "urn:gradergen:spec"

# Error envelope used when a scripted error status comes without a body.
DEFAULT_ERRORS = {
    400: ("invalid_request", "Bad request.", "invalid_request_error"),
    401: ("invalid_api_key", "Incorrect API key provided.", "invalid_request_error"),
    403: ("forbidden", "Forbidden.", "invalid_request_error"),
    404: ("not_found", "Not found.", "invalid_request_error"),
    409: ("conflict", "Conflict.", "invalid_request_error"),
    422: ("unprocessable_entity", "Unprocessable entity.", "invalid_request_error"),
    429: ("rate_limit_exceeded", "Rate limit reached for requests.", "requests"),
}


def error_body(
    code: str | None, message: str, param: str | None = None, type_: str = "invalid_request_error"
) -> dict:
    return {"error": {"code": code, "message": message, "param": param, "type": type_}}


def default_error_body(status: int) -> dict:
    if status in DEFAULT_ERRORS:
        code, message, type_ = DEFAULT_ERRORS[status]
    elif status >= 500:
        code, message, type_ = None, "The server had an error while processing your request.", "server_error"
    else:
        code, message, type_ = None, f"HTTP {status}.", "invalid_request_error"
    return error_body(code, message, None, type_)


def best_error(errors):
    """Pick the error to report, like jsonschema's best_match, but inside oneOf/anyOf follow the
    branch the instance was meant for: drop branches whose JSON kind (`type` at the union's own
    location) or tag (a `const` property, e.g. the grader's "type") does not match, then take the
    branch with the fewest errors. So a string_check grader with a bad operation is reported at
    /grader/operation, not against another grader kind."""
    error = max(errors, key=relevance, default=None)
    while error is not None and error.context:
        branches: dict = {}
        for e in error.context:
            branches.setdefault(e.relative_schema_path[0], []).append(e)
        plausible = [errs for errs in branches.values() if not any(_wrong_variant(e) for e in errs)]
        if not plausible:
            break  # no branch fits: report the union error itself
        error = max(min(plausible, key=len), key=relevance)
    return error


def _wrong_variant(error) -> bool:
    depth = len(error.relative_path)
    return (depth == 0 and error.validator == "type") or (depth == 1 and error.validator == "const")


def json_pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class Scripted:
    """One queued answer. ``body=None`` means the default body for ``status``."""

    status: int = 200
    body: Any = None
    delay: float = 0.0
    headers: dict = field(default_factory=dict)
    disconnect: bool = False


class MockServer:
    def __init__(self, spec_path: str | os.PathLike, api_key: str | None = None):
        """``api_key=None`` accepts any non-empty bearer token."""
        self.api_key = api_key
        self._validators = self._load_validators(Path(spec_path))
        self._run_response = DEFAULT_RUN_RESPONSE.read_bytes()
        self._lock = threading.Lock()
        self._queue: list[Scripted] = []
        self._requests: list[dict] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- spec -----------------------------------------------------------------------------------

    @staticmethod
    def _load_validators(spec_path: Path) -> dict[str, Draft202012Validator]:
        """Map each POST path (with BASE_PATH) to a validator for its JSON request body."""
        spec = yaml.safe_load(spec_path.read_text())
        registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))
        resolver = registry.resolver(base_uri=SPEC_URI)
        validators = {}
        for path, item in (spec.get("paths") or {}).items():
            op = (item or {}).get("post")
            if op is None:
                continue
            body = op.get("requestBody") or {}
            pointer = json_pointer(["paths", path, "post", "requestBody"])
            if "$ref" in body:  # e.g. '#/components/requestBodies/...'
                pointer = body["$ref"].lstrip("#")
                body = resolver.lookup(body["$ref"]).contents
            if "schema" in (body.get("content") or {}).get("application/json", {}):
                # Refer to the schema where it sits in the registered spec, so that the
                # '#/components/...' refs inside it resolve against the whole document.
                pointer += json_pointer(["content", "application/json", "schema"])
                schema = {"$ref": SPEC_URI + "#" + pointer}
            else:
                schema = {}  # no declared JSON body: accept anything
            validators[BASE_PATH + path] = Draft202012Validator(schema, registry=registry)
        return validators

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self, port: int = 0) -> MockServer:
        handler = type("Handler", (_Handler,), {"mock": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="mock-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE_PATH}"

    # --- scripting and inspection ---------------------------------------------------------------

    def enqueue(self, status: int, body: Any = None, delay: float = 0.0, headers: dict | None = None) -> None:
        """Queue an answer; queued answers go, first in first out, to the next requests to API routes.

        ``body``: a JSON value (sent as JSON), or str/bytes (sent as-is); None means the default
        (the endpoint's normal answer for 2xx, an error envelope otherwise).
        """
        self._push(Scripted(status, body, delay, dict(headers or {})))

    def enqueue_disconnect(self, delay: float = 0.0) -> None:
        """The next API request is read, then the connection is closed without an answer."""
        self._push(Scripted(delay=delay, disconnect=True))

    def _push(self, item: Scripted) -> None:
        with self._lock:
            self._queue.append(item)

    def _pop(self) -> Scripted | None:
        with self._lock:
            return self._queue.pop(0) if self._queue else None

    @property
    def requests(self) -> list[dict]:
        """Recorded API requests: method, path, headers (lowercased names), body (text), json."""
        with self._lock:
            return [dict(r) for r in self._requests]

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    def _record(self, record: dict) -> int:
        """Store an API request; return its 1-based number (restarts after reset)."""
        with self._lock:
            self._requests.append(record)
            return len(self._requests)

    # --- answers --------------------------------------------------------------------------------

    def _check_auth(self, headers: dict) -> dict | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return error_body(
                "missing_api_key", "Missing bearer authentication in header 'Authorization: Bearer <key>'."
            )
        if self.api_key is not None and key != self.api_key:
            return error_body("invalid_api_key", "Incorrect API key provided.")
        return None

    def _validate(self, path: str, instance: Any) -> dict | None:
        error = best_error(self._validators[path].iter_errors(instance))
        if error is None:
            return None
        parts = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            # Point at the missing property rather than at its parent.
            missing = [p for p in error.validator_value if p not in error.instance]
            parts += missing[:1]
        pointer = json_pointer(parts)
        return error_body(
            "invalid_request_body", f"Invalid request body at {pointer or '(root)'}: {error.message}", pointer
        )

    def _default_answer(self, path: str, parsed: Any) -> bytes | dict:
        if path.endswith("/run"):
            return self._run_response
        if path.endswith("/validate"):
            return {"grader": parsed.get("grader") if isinstance(parsed, dict) else None}
        return {}

    def _answer(self, path: str, headers: dict, text: str, parsed: Any, json_ok: bool):
        """Return (status, body, extra headers) for an unscripted API request."""
        auth_error = self._check_auth(headers)
        if auth_error:
            return 401, auth_error, {}
        if not json_ok:
            return 400, error_body("invalid_json", "The request body is not valid JSON."), {}
        invalid = self._validate(path, parsed)
        if invalid:
            return 400, invalid, {}
        return 200, self._default_answer(path, parsed), {}

    def _scripted_answer(self, item: Scripted, path: str, parsed: Any):
        body = item.body
        if body is None:
            body = (
                self._default_answer(path, parsed) if item.status < 400 else default_error_body(item.status)
            )
        return item.status, body, item.headers


class _Handler(BaseHTTPRequestHandler):
    mock: MockServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real SDK clients expect
    server_version = "gradergen-mock"
    sys_version = ""

    def log_message(self, format, *args):  # silence per-request logging
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str):
        try:
            raw = self._read_body()
            if self.path.startswith(CONTROL_PREFIX):
                self._control(method, raw)
            else:
                self._api(method, raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. it timed out)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self._send(
                500,
                error_body(
                    "mock_internal_error",
                    "The mock server failed to handle the request.",
                    None,
                    "server_error",
                ),
            )

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any, headers: dict | None = None):
        if isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body).encode()
        self.send_response(status)
        sent = {k.lower() for k in (headers or {})}
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _api(self, method: str, raw: bytes):
        mock = self.mock
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed, json_ok = json.loads(text), True
        except ValueError:
            parsed, json_ok = None, False
        number = mock._record(
            {"method": method, "path": self.path, "headers": headers, "body": text, "json": parsed}
        )
        request_id = {"x-request-id": f"req_mock_{number}"}

        path = self.path.split("?", 1)[0]
        if path not in mock._validators:
            return self._send(
                404, error_body("unknown_url", f"Unknown request URL: {method} {path}."), request_id
            )
        if method != "POST":
            return self._send(
                405,
                error_body("method_not_allowed", f"{method} is not allowed on {path}."),
                {**request_id, "Allow": "POST"},
            )

        item = mock._pop()
        if item is not None:
            if item.delay:
                time.sleep(item.delay)
            if item.disconnect:
                self.close_connection = True
                return
            status, body, extra = mock._scripted_answer(item, path, parsed)
        else:
            status, body, extra = mock._answer(path, headers, text, parsed, json_ok)
        self._send(status, body, {**request_id, **extra})

    def _control(self, method: str, raw: bytes):
        mock = self.mock
        route = (method, self.path.split("?", 1)[0])
        if route == ("GET", "/__mock/requests"):
            return self._send(200, mock.requests)
        if route == ("POST", "/__mock/reset"):
            mock.reset()
            return self._send(200, {"ok": True})
        if route == ("POST", "/__mock/enqueue"):
            try:
                item = _scripted_from_json(json.loads(raw or b"{}"))
            except (ValueError, TypeError) as exc:
                return self._send(400, error_body("invalid_enqueue", str(exc)))
            mock._push(item)
            return self._send(200, {"queued": mock.queued})
        self._send(404, error_body("unknown_url", f"Unknown control URL: {method} {self.path}."))


def _scripted_from_json(spec: Any) -> Scripted:
    """Build a Scripted answer from {"status", "body", "delay", "headers", "disconnect"}."""
    if not isinstance(spec, dict):
        raise TypeError("enqueue expects a JSON object")
    unknown = set(spec) - {"status", "body", "delay", "headers", "disconnect"}
    if unknown:
        raise ValueError(f"unknown enqueue fields: {sorted(unknown)}")
    disconnect = spec.get("disconnect", False)
    status = spec.get("status", 200)
    delay = spec.get("delay", 0)
    headers = spec.get("headers")
    if not isinstance(disconnect, bool):
        raise TypeError("'disconnect' must be a boolean")
    if not disconnect and "status" not in spec:
        raise ValueError("'status' is required unless 'disconnect' is true")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError("'status' must be an integer HTTP status")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise ValueError("'delay' must be a non-negative number of seconds")
    if headers is not None and not isinstance(headers, dict):
        raise ValueError("'headers' must be an object")
    return Scripted(status, spec.get("body"), float(delay), dict(headers or {}), disconnect)


def _watch_stdin() -> bool:
    """Only a pipe or a terminal signals the parent's intent by EOF; /dev/null is EOF at once."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or sys.stdin.isatty()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", required=True, help="path to the OpenAPI spec")
    parser.add_argument("--port", type=int, default=0, help="port to bind on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--api-key", default=None, help="accept only this bearer token (default: any)")
    args = parser.parse_args(argv)

    server = MockServer(args.spec, api_key=args.api_key).start(args.port)
    print(f"MOCK_URL={server.url}", flush=True)
    try:
        if _watch_stdin():
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
