"""score_model and label_model: a model reads the grader's messages and answers in structured output.

score_model: `result` is a number, clamped to `range` (default [0, 1]); the reward is the clamped
number. label_model: `result` is one of `labels`; the reward is 1 when it is in `passing_labels`, else
0. `steps` are the model's reasoning and never count.

What goes wrong is a flag, never an exception:
- no reply (an HTTP error, a timeout, a refused connection, after the retries) → model_grader_server_error
  with model_grader_server_error_details; a timeout also sets unresponsive_reward_error;
- `message.refusal`, or `finish_reason: "content_filter"` → model_grader_refusal_error;
- `finish_reason: "length"` (the answer was cut off) → truncated_observation_error; the cut answer is
  not read;
- content that is not a JSON object with a finite number (score_model) or one of the labels
  (label_model) as `result` → model_grader_parse_error.
Each scores 0. The reply's token usage is counted under the model that answered, which is also
`sampled_model_name`, whether the answer could be used or not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..modelcalls.messages import Messages
from ..modelcalls.reply import ModelCallFailed, Reply
from ..modelcalls.request import (
    LABEL_SCHEMA_NAME,
    SCORE_SCHEMA_NAME,
    ChatRequest,
    label_schema,
    sampling_params,
    score_schema,
)
from ..outcome import Outcome
from .base import Evaluator, Scope

if TYPE_CHECKING:
    from ..modelcalls.backend import ModelBackend
    from ..services import Services

SHOWN_REPLY = 300
"""How much of an unreadable reply a note quotes."""


class ModelGrader(Evaluator):
    def __init__(self, grader: Mapping[str, Any]) -> None:
        super().__init__(grader)
        self.model = str(grader["model"])
        self.messages = Messages(grader["input"])
        if self.kind == "label_model":
            self.labels = [str(x) for x in grader["labels"]]
            self.passing = frozenset(str(x) for x in grader["passing_labels"])
            self.params: dict[str, Any] = {}
            self.schema_name, self.schema = LABEL_SCHEMA_NAME, label_schema(self.labels)
        else:
            low, high = grader.get("range") or (0, 1)
            self.range = (float(low), float(high))
            self.params = sampling_params(grader.get("sampling_params"))
            self.schema_name, self.schema = SCORE_SCHEMA_NAME, score_schema()

    def request(self, scope: Scope, outcome: Outcome) -> ChatRequest | None:
        """The model call for this sample, or None when a template has no value (flag set)."""
        messages = self.messages.render(scope, outcome)
        if messages is None:
            return None
        return ChatRequest(self.model, messages, dict(self.params), self.schema_name, self.schema)

    def evaluate(self, scope: Scope, services: Services) -> Outcome:
        outcome = Outcome()
        request = self.request(scope, outcome)
        if request is None:
            return outcome
        backend: ModelBackend = services.models()
        try:
            reply = backend.complete(request, outcome.notes)
        except ModelCallFailed as failure:
            return _server_error(outcome, failure)
        return self.judge(reply, outcome)

    async def aevaluate(self, scope: Scope, services: Services) -> Outcome:
        outcome = Outcome()
        request = self.request(scope, outcome)
        if request is None:
            return outcome
        backend: ModelBackend = services.models()
        try:
            reply = await backend.acomplete(request, outcome.notes)
        except ModelCallFailed as failure:
            return _server_error(outcome, failure)
        return self.judge(reply, outcome)

    def judge(self, reply: Reply, outcome: Outcome) -> Outcome:
        """The outcome of the model's reply: the reward, or the flag of what is wrong with it."""
        outcome.sampled_model_name = reply.model
        outcome.add_usage(reply.model, reply.usage)
        if reply.from_cache:
            outcome.notes.append(f"{reply.model}'s answer came from the cache")
        if reply.refusal:
            outcome.notes.append(f"{reply.model} refused: {_shown(reply.refusal)}")
            return outcome.fail("model_grader_refusal_error")
        if reply.finish_reason == "content_filter":
            outcome.notes.append(f"{reply.model}'s answer was withheld by a content filter")
            return outcome.fail("model_grader_refusal_error")
        if reply.finish_reason == "length":
            outcome.notes.append(f"{reply.model}'s answer was cut off at its token limit")
            return outcome.fail("truncated_observation_error")
        result, problem = _result(reply.content)
        if problem is None:
            problem = self._score(result, outcome)
        if problem is not None:
            outcome.notes.append(f"{reply.model}'s answer {problem}: {_shown(reply.content or '')}")
            outcome.fail("model_grader_parse_error")
        return outcome

    def _score(self, result: Any, outcome: Outcome) -> str | None:
        """Set the reward from `result`; what is wrong with it, if anything."""
        if self.kind == "label_model":
            if not isinstance(result, str):
                return "has a result that is not a label"
            if result not in self.labels:
                return f"has the label {result!r}, which is not one of {self.labels}"
            outcome.reward = 1.0 if result in self.passing else 0.0
            return None
        if isinstance(result, bool) or not isinstance(result, (int, float)):
            return "has a result that is not a number"
        value = float(result)
        if not math.isfinite(value):
            return "has a result that is not a finite number"
        low, high = self.range
        outcome.reward = min(high, max(low, value))
        if outcome.reward != value:
            outcome.notes.append(f"the model's score {value:g} was clamped to the range [{low:g}, {high:g}]")
        return None


def _result(content: str | None) -> tuple[Any, str | None]:
    if not content:
        return None, "is empty"
    try:
        answer = json.loads(content)
    except ValueError:
        return None, "is not JSON"
    if not isinstance(answer, dict):
        return None, "is not a JSON object"
    if "result" not in answer:
        return None, "has no result"
    return answer["result"], None


def _server_error(outcome: Outcome, failure: ModelCallFailed) -> Outcome:
    if failure.timed_out:
        outcome.fail("unresponsive_reward_error")
    return outcome.fail("model_grader_server_error", failure.detail, "model_grader_server_error_details")


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_REPLY else text[:SHOWN_REPLY] + "…"
