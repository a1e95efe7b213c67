"""The floor of the server benchmark: an ASGI app that reads each request's body and answers one fixed
JSON body, doing nothing else, served by uvicorn as `gradergen serve` is served (httptools, uvloop, as
many workers). What wrk measures against it is the cost of HTTP alone on this machine, the part of a
request no grading server written this way can avoid; bench_server.py reports it beside the others."""

from __future__ import annotations

from typing import Any

ANSWER = b'{"reward":1.0}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(ANSWER)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body", False):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
