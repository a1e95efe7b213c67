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
import logging
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine.services import close_all
from ..resources import default_spec
from .accesslog import AccessLog
from .errors import ApiError
from .openrlhf import route as openrlhf_route
from .operations import RUN, VALIDATE, Operation, Operations, dumps, error_answer, run, server_error, validate
from .service import Service, Settings

log = logging.getLogger("gradergen.server")

JSON = "application/json"


def error_response(request: Request, error: ApiError) -> Response:
    status, body, headers = error_answer(request.scope, error)
    return Response(body, status, headers=dict(headers), media_type=JSON)


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
    return error_response(request, server_error())


def create_app(settings: Settings | None = None) -> Any:
    """The app, configured by `settings` (default: from the environment, see Settings)."""
    settings = settings or Settings.from_environment()
    service = Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(service.start)
        service.drive_sandbox()
        # What is loaded by now (the engine, the validator's checkers, the libraries) lives as long
        # as the process: out of the collector's sight, a full collection no longer walks it, which
        # took some 20 ms each time, every request in flight waiting.
        gc.freeze()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(close_all)

    operations = {RUN: Operation(service, run), VALIDATE: Operation(service, validate)}
    app = Starlette(
        routes=[
            *(Route(path, operation, methods=["POST"]) for path, operation in operations.items()),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/openapi.yaml", openapi, methods=["GET"]),
            openrlhf_route(service),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.service = service
    return AccessLog(Operations(app, operations))

