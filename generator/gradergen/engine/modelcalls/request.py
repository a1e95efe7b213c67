"""What a model grader asks a model: its messages, sampling parameters and the structured output it
must answer in, as one chat-completions request body.

The model answers `{"steps": [{"description", "conclusion"}, …], "result": …}` under a strict JSON
schema: `result` is a number for score_model, one of the labels for label_model. `steps` come first so
that a model writing its answer in schema order reasons before it scores; they are never part of the
reward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCORE_SCHEMA_NAME = "float_score_classification"
LABEL_SCHEMA_NAME = "label_classification"

SAMPLING_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "max_completions_tokens": "max_completion_tokens",
    "reasoning_effort": "reasoning_effort",
}
"""A grader's sampling_params → the chat-completions parameter each becomes."""


def _steps() -> dict[str, Any]:
    step = {
        "type": "object",
        "properties": {"description": {"type": "string"}, "conclusion": {"type": "string"}},
        "required": ["description", "conclusion"],
        "additionalProperties": False,
    }
    return {"type": "array", "items": step}


def _schema(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"steps": _steps(), "result": dict(result)},
        "required": ["steps", "result"],
        "additionalProperties": False,
    }


def score_schema() -> dict[str, Any]:
    return _schema({"type": "number"})


def label_schema(labels: Sequence[str]) -> dict[str, Any]:
    return _schema({"type": "string", "enum": list(labels)})


def sampling_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The chat parameters of a grader's sampling_params: the ones given and not null, renamed."""
    if not params:
        return {}
    return {SAMPLING_PARAMS[k]: v for k, v in params.items() if k in SAMPLING_PARAMS and v is not None}


@dataclass(frozen=True)
class ChatRequest:
    """One model call of a grader on one sample."""

    model: str
    """The model the grader names; the backend's model map may serve it under another name."""
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    schema_name: str
    schema: dict[str, Any]

    def body(self, served_model: str) -> dict[str, Any]:
        """The JSON body sent to /chat/completions."""
        return {
            "model": served_model,
            "messages": self.messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "strict": True, "schema": self.schema},
            },
            **self.params,
        }
