"""OpenRLHF: a grader as its remote reward model, served by `gradergen serve --reward-grader FILE`.

    gradergen serve --host 0.0.0.0 --api-key KEY --reward-grader grader.json
    python -m openrlhf.cli.train_ppo_ray ... --reward.remote_url "http://HOST:8000/openrlhf/get_reward?key=KEY"

OpenRLHF (0.11.2, `openrlhf.utils.agent.SingleTurnAgentExecutor._fetch_rewards_via_http`) POSTs
`{"query": [...], "prompts": [...], "labels": [...]}` — `query` the prompt and response decoded
together (special tokens kept), `prompts` the prompt text, `labels` the row's label — with no headers
of its own and a 180 s total timeout, retrying up to 5 times on an error status; it reads `rewards`,
`scores` (used for dynamic filtering; `rewards` when absent) and `extra_logs` (each value a list of
numbers, logged) from the JSON answer.

The grader's `sample` is the response: `query` after the prompt (as OpenRLHF's own examples cut it),
with any `--reward-strip` token (an end-of-turn token the decoding kept) removed from its end; its
`item` is `{"prompt", "label"}`. The answer is `{"rewards", "scores", "extra_logs": {"grader_failed"},
"gradergen": {"flags", "details"}}`: `scores` are the rewards, `grader_failed` 1.0 for each failed
sample. Since OpenRLHF sends no Authorization header, a server with an API key also takes it as
`?key=` in the URL (the access log records the path alone).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a reward is served: `gradergen serve --help` reads this module
    from ..engine import EngineConfig
    from .core import Rewarder

log = logging.getLogger("gradergen.rewards")

PATH = "/openrlhf/get_reward"
GRADER_VARIABLE = "GRADERGEN_REWARD_GRADER"
DEADLINE_VARIABLE = "GRADERGEN_REWARD_DEADLINE"
STRIP_VARIABLE = "GRADERGEN_REWARD_STRIP"
DEFAULT_DEADLINE = 150.0
"""Under OpenRLHF's 180 s client timeout, so that a slow batch is answered (late samples flagged)
rather than retried from the start."""


class RewardRequestError(ValueError):
    """The body is not OpenRLHF's request; the message names the field and what was found."""


def response_of(query: str, prompt: str | None, strip: Sequence[str]) -> str:
    """The response part of a query: what follows the prompt, less a trailing end-of-turn token."""
    text = query
    if prompt:
        at = query.find(prompt)
        if at >= 0:
            text = query[at + len(prompt) :]
    changed = True
    while changed:
        changed = False
        for token in strip:
            if token and text.endswith(token):
                text = text[: -len(token)]
                changed = True
    return text


def parse_request(body: Any) -> tuple[list[str], list[str | None], list[Any]]:
    """The queries, prompts and labels of a request, each as long as `query`."""
    if not isinstance(body, Mapping):
        raise RewardRequestError(f"the body is a JSON object, not {_kind(body)}")
    queries = body.get("query")
    if not isinstance(queries, list):
        raise RewardRequestError(f"'query' is a list of texts (prompt and response), found {_kind(queries)}")
    for index, query in enumerate(queries):
        if not isinstance(query, str):
            raise RewardRequestError(f"query[{index}] is a text, found {_kind(query)}")
    count = len(queries)
    prompts = body.get("prompts")
    if prompts is None:
        prompts = [None] * count
    elif not isinstance(prompts, list) or len(prompts) != count:
        raise RewardRequestError(
            f"'prompts' is a list of {count} texts (one per query), found {_kind(prompts)}"
        )
    for index, prompt in enumerate(prompts):
        if prompt is not None and not isinstance(prompt, str):
            raise RewardRequestError(f"prompts[{index}] is a text, found {_kind(prompt)}")
    labels = body.get("labels")
    if labels is None:
        labels = [None] * count
    elif not isinstance(labels, list) or len(labels) != count:
        raise RewardRequestError(
            f"'labels' is a list of {count} values (one per query), found {_kind(labels)}"
        )
    return queries, prompts, labels


class OpenRLHFReward:
    """The remote reward model's work apart from HTTP: a request body in, the answer out."""

    def __init__(self, rewarder: Rewarder, strip: Sequence[str] = ()) -> None:
        self.rewarder = rewarder
        self.strip = tuple(strip)

    async def answer(self, body: Any) -> dict[str, Any]:
        queries, prompts, labels = parse_request(body)
        samples = [response_of(q, p, self.strip) for q, p in zip(queries, prompts, strict=True)]
        items = [{"prompt": p, "label": label} for p, label in zip(prompts, labels, strict=True)]
        batch = await self.rewarder.grade(samples, items, what="query")
        return {
            "rewards": batch.rewards,
            "scores": batch.rewards,
            "extra_logs": {"grader_failed": [1.0 if f else 0.0 for f in batch.flags]},
            "gradergen": {"flags": [list(f) for f in batch.flags], "details": batch.details},
        }


def from_environment(config: EngineConfig) -> OpenRLHFReward | None:
    """The reward `gradergen serve --reward-grader` configured ($GRADERGEN_REWARD_GRADER and the
    deadline and strip settings beside it), or None when it serves no reward."""
    grader = os.environ.get(GRADER_VARIABLE)
    if not grader:
        return None
    deadline_text = os.environ.get(DEADLINE_VARIABLE)
    deadline = float(deadline_text) if deadline_text else DEFAULT_DEADLINE
    strip = json.loads(os.environ.get(STRIP_VARIABLE) or "[]")
    from .core import Rewarder

    return OpenRLHFReward(Rewarder(grader, config, deadline=deadline), strip)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
