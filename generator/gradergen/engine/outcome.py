"""What one grader made of one sample, and the `GraderRunResponse` it becomes.

Every error flag the spec lists has a place here; a grader sets the flags of what went wrong and scores
0, and nothing that goes wrong on a sample is ever an exception. A multi grader's outcome carries its
sub-graders' rewards and merges their flags and token usage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..bindings import models

FLAGS = (
    "formula_parse_error",
    "invalid_variable_error",
    "model_grader_parse_error",
    "model_grader_refusal_error",
    "model_grader_server_error",
    "other_error",
    "python_grader_runtime_error",
    "python_grader_server_error",
    "sample_parse_error",
    "truncated_observation_error",
    "unresponsive_reward_error",
)
"""The boolean error fields of the response's metadata."""
DETAILS = (
    "model_grader_server_error_details",
    "python_grader_runtime_error_details",
    "python_grader_server_error_type",
)
"""The text fields that say more about a flag; null when it is not set."""


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.cached_tokens += other.cached_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "total_tokens": self.total_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
        }


@dataclass
class Outcome:
    reward: float = 0.0
    errors: dict[str, bool] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)
    """Token usage by the model that answered."""
    sampled_model_name: str | None = None
    sub_rewards: dict[str, float] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What the engine wants a person to know (a quirk of a metric, a defaulted image); logged and
    shown by `gradergen run --format text`, never part of the response."""

    def fail(self, flag: str, detail: str | None = None, detail_field: str | None = None) -> Outcome:
        """Set `flag` (and its detail), score 0."""
        if flag not in FLAGS:
            raise ValueError(f"unknown error flag {flag!r}")
        self.errors[flag] = True
        if detail is not None and detail_field is not None:
            self.details.setdefault(detail_field, detail)
        self.reward = 0.0
        return self

    @property
    def failed(self) -> bool:
        return any(self.errors.values())

    def add_usage(self, model: str, usage: Usage) -> None:
        self.usage.setdefault(model, Usage()).add(usage)

    def absorb(self, key: str, sub: Outcome) -> None:
        """Take in a multi grader's sub-grader: its reward by key, its flags, details and usage."""
        self.sub_rewards[key] = sub.reward
        for flag, value in sub.errors.items():
            if value:
                self.errors[flag] = True
        for name, text in sub.details.items():
            self.details.setdefault(name, text)
        for model, usage in sub.usage.items():
            self.add_usage(model, usage)
        if sub.sampled_model_name and not self.sampled_model_name:
            self.sampled_model_name = sub.sampled_model_name
        self.notes.extend(f"{key}: {note}" for note in sub.notes)

    def total_usage(self) -> Usage | None:
        if not self.usage:
            return None
        total = Usage()
        for usage in self.usage.values():
            total.add(usage)
        return total

    def response(self, name: str, kind: str, execution_time: float) -> Any:
        """The spec's GraderRunResponse, every metadata field set as the live service sets it."""
        return models.GraderRunResponse.model_validate(self.response_data(name, kind, execution_time))

    def response_data(self, name: str, kind: str, execution_time: float) -> dict[str, Any]:
        """What the GraderRunResponse is made from: its fields in the service's order."""
        total = self.total_usage()
        return {
            "reward": float(self.reward),
            "metadata": {
                "name": name,
                "type": kind,
                "errors": _errors(self.errors, self.details),
                "execution_time": float(execution_time),
                "scores": dict(self.scores),
                "token_usage": total.as_dict() if total is not None else None,
                "sampled_model_name": self.sampled_model_name,
            },
            "sub_rewards": dict(self.sub_rewards),
            "model_grader_token_usage_per_model": {m: u.as_dict() for m, u in self.usage.items()},
        }


_PLAIN = frozenset({float, int, str})


def _plain(value: Any) -> bool:
    """A score JSON writes as it is: a finite float, an int or a string."""
    kind = type(value)
    return kind in _PLAIN and (kind is not float or math.isfinite(value))


def response_json(outcome: Outcome, name: str, kind: str, execution_time: float) -> dict[str, Any]:
    """`as_json(outcome.response(name, kind, execution_time))` without the response object in between,
    for plain outcomes: what the server answers for each request (a test holds the two equal). Scores
    or sub-rewards of other kinds, or a reward, score or sub-reward that is not finite, take the
    response object's way, which decides how they are written."""
    if (
        not math.isfinite(outcome.reward)
        or not all(map(_plain, outcome.scores.values()))
        or not all(map(_plain, outcome.sub_rewards.values()))
    ):
        return as_json(outcome.response(name, kind, execution_time))
    return outcome.response_data(name, kind, execution_time)


ERROR_ORDER = (
    "formula_parse_error",
    "sample_parse_error",
    "truncated_observation_error",
    "unresponsive_reward_error",
    "invalid_variable_error",
    "other_error",
    "python_grader_server_error",
    "python_grader_server_error_type",
    "python_grader_runtime_error",
    "python_grader_runtime_error_details",
    "model_grader_server_error",
    "model_grader_refusal_error",
    "model_grader_parse_error",
    "model_grader_server_error_details",
)
"""The order the live service writes the error fields in (the 002 document)."""
_FLAG_FIELDS = frozenset(FLAGS)
_NO_ERRORS: dict[str, bool | str | None] = {key: None if key in DETAILS else False for key in ERROR_ORDER}


def _errors(flags: Mapping[str, bool], details: Mapping[str, str]) -> dict[str, bool | str | None]:
    """The metadata's error fields in the service's order: every flag, every detail (null unset)."""
    errors = dict(_NO_ERRORS)
    for flag, value in flags.items():
        if flag in _FLAG_FIELDS:
            errors[flag] = bool(value)
    for name in DETAILS:
        if name in details:
            errors[name] = details[name]
    return errors


METADATA_ORDER = ("name", "type", "errors", "execution_time", "scores", "token_usage", "sampled_model_name")
USAGE_ORDER = ("prompt_tokens", "total_tokens", "completion_tokens", "cached_tokens")


def as_json(response: Any) -> dict[str, Any]:
    """A GraderRunResponse as the live service writes it: its fields in the service's order."""
    data = response.model_dump(mode="json", by_alias=True, exclude_unset=True)
    metadata = data.get("metadata", {})
    errors = metadata.get("errors", {})
    ordered_errors = {k: errors[k] for k in ERROR_ORDER if k in errors} | errors
    ordered_metadata = {k: metadata[k] for k in METADATA_ORDER if k in metadata} | metadata
    ordered_metadata["errors"] = ordered_errors
    usage = ordered_metadata.get("token_usage")
    if isinstance(usage, dict):
        ordered_metadata["token_usage"] = {k: usage[k] for k in USAGE_ORDER if k in usage} | usage
    out = {"reward": data.get("reward"), "metadata": ordered_metadata}
    for key in ("sub_rewards", "model_grader_token_usage_per_model"):
        if key in data:
            out[key] = data[key]
    return out | {k: v for k, v in data.items() if k not in out}
