"""A POST to /run or /validate goes straight to its operation, ahead of Starlette; a request Starlette
routes to the same operation (one under a root path, say) gets the same answer, status, headers and
body alike. In process, through httpx's ASGI transport: what is compared is the app's own answer."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from gradergen.engine import EngineConfig
from gradergen.server.app import create_app
from gradergen.server.operations import RUN, VALIDATE, Operations
from gradergen.server.service import Settings

GRADER = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
          "reference": "{{item.label}}", "operation": "eq"}  # fmt: skip


def run_body(said: str) -> bytes:
    return json.dumps({"grader": GRADER, "model_sample": said, "item": {"label": "cat"}}).encode()


REQUESTS: dict[str, tuple[str, bytes]] = {
    "run": (RUN, run_body("cat")),
    "run, wrong": (RUN, run_body("dog")),
    "validate": (VALIDATE, json.dumps({"grader": GRADER}).encode()),
    "invalid grader": (VALIDATE, json.dumps({"grader": {**GRADER, "operation": "equals"}}).encode()),
    "not JSON": (RUN, b'{"grader": '),
    "no grader": (RUN, b"{}"),
    "no model_sample": (RUN, json.dumps({"grader": GRADER}).encode()),
    "empty": (VALIDATE, b""),
    "too large": (VALIDATE, b"[" * (2 << 20)),
}  # fmt: skip


def answer(app: Any, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(path, content=body, headers={"content-type": "application/json"})

    response = asyncio.run(post())
    assert response.headers["content-length"] == str(len(response.content))
    # what differs from one request to the next: its id, and its time (and so, the body's length)
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "content-length")}
    data = response.json()
    if isinstance(data, dict) and "metadata" in data:
        data["metadata"]["execution_time"] = 0.0
    return response.status_code, headers, data


@pytest.fixture(scope="module")
def apps() -> tuple[Any, Any]:
    """The app as served, and the same app with every request routed by Starlette."""
    config = EngineConfig.load(environ={})
    served = create_app(Settings(replace(config, server=replace(config.server, max_body_mb=1))))
    operations = served.app
    assert isinstance(operations, Operations)
    starlette_routed = type(served)(operations.app)
    return served, starlette_routed


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_operation_answers_as_starlette_routing_to_it_does(apps: tuple[Any, Any], name: str) -> None:
    served, starlette_routed = apps
    path, body = REQUESTS[name]
    direct = answer(served, path, body)
    routed = answer(starlette_routed, path, body)
    assert direct == routed


def test_the_answers_are_the_apis(apps: tuple[Any, Any]) -> None:
    served, _ = apps
    status, headers, data = answer(served, *REQUESTS["run"])
    assert (status, headers["content-type"], data["reward"]) == (200, "application/json", 1.0)
    status, headers, data = answer(served, *REQUESTS["too large"])
    assert (status, headers["connection"], data["error"]["code"]) == (413, "close", "request_too_large")
    status, _, data = answer(served, *REQUESTS["no model_sample"])
    assert (status, data["error"]["code"], data["error"]["param"]) == (
        400,
        "invalid_request_body",
        "model_sample",
    )


def test_a_wrong_method_on_an_operation_is_starlettes_405(apps: tuple[Any, Any]) -> None:
    served, _ = apps

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=served), base_url="http://x"
        ) as client:
            return await client.get(RUN)

    response = asyncio.run(get())
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
