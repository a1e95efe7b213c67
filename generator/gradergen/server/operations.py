"""The graders API's two operations, /run and /validate, as bare ASGI apps: each reads its body from
`receive` and sends its answer (a 200, or the error envelope) itself. A POST to either path goes
straight to it, ahead of Starlette's routing, middleware and request and response objects, which cost
more per request than the grading of a string_check does; Starlette still routes every other request
and answers a wrong method on these paths."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import anyio.to_thread
import orjson

from ..engine import EngineError
from .accesslog import GONE, note, noted_fields
from .body import ClientGone, declared_size, receive_body
from .errors import ApiError
from .service import Prepared, Service

API = "/v1/fine_tuning/alpha/graders"
RUN, VALIDATE = f"{API}/run", f"{API}/validate"
OFFLOAD_BYTES = 64 << 10
"""Bodies larger than this are parsed, validated and compiled on a worker thread, off the loop."""
ISOLATION_HEADER = "X-Gradergen-Isolation"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Answer = tuple[int, bytes, Mapping[str, str]]
"""Status, JSON body and extra headers."""


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers past 64 bits, lone surrogates: the standard library writes them
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def error_answer(scope: Scope, error: ApiError) -> Answer:
    note(scope, error=error.code)
    return error.status, dumps(error.envelope()), error.headers


SERVER_ERROR = "The server had an error while processing your request."


def server_error() -> ApiError:
    """What a bug of ours answers: the envelope for the client; the server logs the traceback."""
    return ApiError(500, None, SERVER_ERROR, type_="server_error")


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header, as Starlette's `request.headers.get` gives it."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


async def send_answer(send: Send, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    """The answer with the headers Starlette's Response would write, in its order: the extra ones,
    then the body's length and, for a body, its type."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode("latin-1")))
    if status != GONE:
        raw.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Operation:
    """One operation as an ASGI app: `answer` gives its 200; ApiError is the envelope, a client gone
    is a 499, and any other exception the 500 envelope, then raised for the server to log."""

    def __init__(
        self, service: Service, answer: Callable[[Service, Scope, Receive], Awaitable[Answer]]
    ) -> None:
        self.service = service
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, headers = await self.answer(self.service, scope, receive)
        except ApiError as error:
            status, body, headers = error_answer(scope, error)
        except ClientGone:
            status, body, headers = GONE, b"", {}
        except Exception:
            await send_answer(send, *error_answer(scope, server_error()))
            raise
        await send_answer(send, status, body, headers)


async def _prepared(service: Service, scope: Scope, receive: Receive, run: bool) -> Prepared:
    service.authorize(_header(scope, b"authorization"))
    declared_size(_header(scope, b"content-length"), service.max_body)
    raw = await receive_body(receive, service.max_body)
    noted = noted_fields(scope)
    if len(raw) > OFFLOAD_BYTES:
        return await anyio.to_thread.run_sync(service.prepare, raw, run, noted)
    return service.prepare(raw, run, noted)


async def validate(service: Service, scope: Scope, receive: Receive) -> Answer:
    prepared = await _prepared(service, scope, receive, run=False)
    return 200, dumps({"grader": prepared.grader}), {}


async def run(service: Service, scope: Scope, receive: Receive) -> Answer:
    prepared = await _prepared(service, scope, receive, run=True)

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        response, timed_out = await service.grade(prepared, disconnected)
        isolation = service.isolation(prepared.entry)
    except EngineError as exc:  # the engine cannot serve this grader here (no sandbox, no WordNet…)
        raise ApiError(503, "engine_unavailable", str(exc), type_="server_error") from None
    if timed_out:
        note(scope, error="deadline_exceeded")
    if isolation is None:
        return 200, dumps(response), {}
    note(scope, isolation=isolation)
    return 200, dumps(response), {ISOLATION_HEADER: isolation}


class Operations:
    """In front of the app: a POST to one of the operations' paths goes to the operation itself."""

    def __init__(self, app: Any, operations: Mapping[str, Operation]) -> None:
        self.app = app
        self.operations = dict(operations)

    def __getattr__(self, name: str) -> Any:  # app.state, app.routes… of the wrapped Starlette app
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            operation = self.operations.get(scope["path"])
            if operation is not None:
                await operation(scope, receive, send)
                return
        await self.app(scope, receive, send)
