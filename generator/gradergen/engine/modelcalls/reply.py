"""A model's reply to a grader, as the engine keeps it (and caches it), and the failure of a call that got
none."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..outcome import Usage


@dataclass(frozen=True)
class Reply:
    """What the model answered: the first choice of a chat completion."""

    model: str
    """The model that answered, as the backend names it (the response's `model`)."""
    content: str | None
    refusal: str | None
    finish_reason: str | None
    usage: Usage = field(default_factory=Usage)
    from_cache: bool = False

    def stored(self) -> dict[str, Any]:
        data = asdict(self)
        del data["from_cache"]
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Reply:
        return cls(
            model=str(data["model"]),
            content=data.get("content"),
            refusal=data.get("refusal"),
            finish_reason=data.get("finish_reason"),
            usage=Usage(**data.get("usage", {})),
            from_cache=True,
        )


class ModelCallFailed(Exception):
    """No reply came: `detail` says why, for model_grader_server_error_details."""

    def __init__(self, detail: str, timed_out: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.timed_out = timed_out


class MalformedReply(ValueError):
    """A 2XX answer that is not a chat completion."""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise MalformedReply(f"a chat completion whose {what} is {type(value).__name__}, not text")


def reply_of(body: bytes, served_model: str) -> Reply:
    """The Reply in the JSON body of a chat completion; MalformedReply when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedReply(f"an answer that is not JSON: {body[:200]!r}") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply(f"an answer that is not a chat completion with choices: {body[:200]!r}")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise MalformedReply("a chat completion whose first choice has no message")
    usage = _mapping(data.get("usage"))
    details = _mapping(usage.get("prompt_tokens_details"))
    prompt, completion = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
    return Reply(
        model=_text(data.get("model"), "model") or served_model,
        content=_text(message.get("content"), "content"),
        refusal=_text(message.get("refusal"), "refusal"),
        finish_reason=_text(choice.get("finish_reason"), "finish_reason"),
        usage=Usage(
            prompt,
            completion,
            _int(usage.get("total_tokens")) or prompt + completion,
            _int(details.get("cached_tokens")),
        ),
    )
