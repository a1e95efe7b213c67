"""The ASGI app: the graders API's two operations answered by the local engine and validator, in the
shapes of the canonical spec, with /healthz and the spec itself at /v1/openapi.yaml.

    POST /v1/fine_tuning/alpha/graders/run        GraderRunParams → GraderRunResponse
    POST /v1/fine_tuning/alpha/graders/validate   GraderValidateParams → GraderValidateResponse
    GET  /healthz                                 {"status": "ok", the pools' occupancy}
    GET  /v1/openapi.yaml                         the canonical spec
    POST /openrlhf/get_reward                     OpenRLHF's remote reward model (serve --reward-grader)

Every answer that is not 200 carries the API's error envelope. A /run whose grader has a python grader
says the sandbox's isolation level in the `X-Gradergen-Isolation` header.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import anyio.to_thread
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine import EngineError
from ..engine.outcome import as_json
from ..engine.services import close_all
from ..resources import default_spec
from .accesslog import AccessLog, note, noted_fields
from .body import ClientGone, declared_size, read
from .errors import ApiError
from .service import Prepared, Service, Settings

log = logging.getLogger("gradergen.server")

API = "/v1/fine_tuning/alpha/graders"
OFFLOAD_BYTES = 64 << 10
"""Bodies larger than this are parsed, validated and compiled on a worker thread, off the loop."""
ISOLATION_HEADER = "X-Gradergen-Isolation"
JSON = "application/json"


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers past 64 bits, lone surrogates: the standard library writes them
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def error_response(request: Request, error: ApiError) -> Response:
    note(request.scope, error=error.code)
    return Response(dumps(error.envelope()), error.status, headers=error.headers, media_type=JSON)


async def _prepared(request: Request, run: bool) -> Prepared:
    service: Service = request.app.state.service
    service.authorize(request.headers.get("authorization"))
    declared_size(request.headers.get("content-length"), service.max_body)
    try:
        raw = await read(request.stream(), service.max_body)
    except ClientDisconnect:
        raise ClientGone() from None
    noted = noted_fields(request.scope)
    if len(raw) > OFFLOAD_BYTES:
        return await anyio.to_thread.run_sync(service.prepare, raw, run, noted)
    return service.prepare(raw, run, noted)


async def validate(request: Request) -> Response:
    try:
        prepared = await _prepared(request, run=False)
    except ClientGone:
        return Response(status_code=499)
    return Response(dumps({"grader": prepared.grader}), media_type=JSON)


async def run(request: Request) -> Response:
    service: Service = request.app.state.service
    try:
        prepared = await _prepared(request, run=True)

        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        response, timed_out = await service.grade(prepared, disconnected)
        if timed_out:
            note(request.scope, error="deadline_exceeded")
        isolation = service.isolation(prepared.entry)
    except ClientGone:
        return Response(status_code=499)
    except EngineError as exc:  # the engine cannot serve this grader here (no sandbox, no WordNet…)
        raise ApiError(503, "engine_unavailable", str(exc), type_="server_error") from None
    headers = {}
    if isolation is not None:
        headers[ISOLATION_HEADER] = isolation
        note(request.scope, isolation=isolation)
    return Response(dumps(as_json(response)), headers=headers, media_type=JSON)


async def healthz(request: Request) -> Response:
    service: Service = request.app.state.service
    return Response(dumps(service.status()), media_type=JSON)


@cache
def _spec() -> bytes:
    return default_spec().read_bytes()


async def openapi(request: Request) -> Response:
    return Response(_spec(), media_type="application/yaml")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError(404, "unknown_url", f"Unknown request URL: {request.method} {request.url.path}.")
    elif exc.status_code == 405:
        error = ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}.",
            headers=dict(exc.headers or {}),
        )
    else:
        error = ApiError(exc.status_code, None, str(exc.detail))
    return error_response(request, error)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A bug of ours: the envelope for the client; uvicorn logs the traceback."""
    return error_response(
        request,
        ApiError(500, None, "The server had an error while processing your request.", type_="server_error"),
    )


def create_app(settings: Settings | None = None) -> Any:
    """The app, configured by `settings` (default: from the environment, see Settings)."""
    settings = settings or Settings.from_environment()
    service = Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(service.start)
        # What is loaded by now (the engine, the validator's checkers, the libraries) lives as long
        # as the process: out of the collector's sight, a full collection no longer walks it, which
        # took some 20 ms each time, every request in flight waiting.
        gc.freeze()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(close_all)

    app = Starlette(
        routes=[
            Route(f"{API}/run", run, methods=["POST"]),
            Route(f"{API}/validate", validate, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/openapi.yaml", openapi, methods=["GET"]),
            _openrlhf_route(service),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.service = service
    return AccessLog(app)


def _openrlhf_route(service: Any) -> Any:
    from .openrlhf import route  # it uses this module's dumps

    return route(service)
