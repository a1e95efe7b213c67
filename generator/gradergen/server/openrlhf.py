"""OpenRLHF's remote reward model, answered by `gradergen serve --reward-grader FILE` (the reward itself
is `gradergen.rewards.openrlhf`)."""

from __future__ import annotations

from typing import Any

from ..engine import EngineError
from ..rewards.openrlhf import PATH, RewardRequestError, from_environment, log


def route(service: Any) -> Any:
    """The Starlette route the graders API app mounts: POST PATH."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from .body import ClientGone, parse, receive_body
    from .errors import ApiError
    from .operations import dumps

    reward = from_environment(service.config)
    if reward is not None:
        log.info("serving grader %r as OpenRLHF's remote reward model at %s", reward.rewarder.name, PATH)

    async def get_reward(request: Request) -> Response:
        key = request.query_params.get("key")
        service.authorize(request.headers.get("authorization") or (f"Bearer {key}" if key else None))
        if reward is None:
            raise ApiError(
                404,
                "no_reward_grader",
                f"This server serves no reward: start it with `gradergen serve --reward-grader FILE` to "
                f"answer {PATH}.",
            )
        raw = await receive_body(request.receive, service.max_body)
        try:
            answer = await reward.answer(parse(raw))
        except RewardRequestError as exc:
            raise ApiError(400, "invalid_request_body", f"Invalid reward request: {exc}") from None
        except EngineError as exc:  # the engine cannot run this grader here (no sandbox, no WordNet…)
            raise ApiError(503, "engine_unavailable", str(exc), type_="server_error") from None
        return Response(dumps(answer), media_type="application/json")

    async def endpoint(request: Request) -> Response:
        try:
            return await get_reward(request)
        except ClientGone:
            return Response(status_code=499)

    return Route(PATH, endpoint, methods=["POST"])
