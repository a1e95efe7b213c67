"""What a trainer hands over, made into what a grader reads: the `sample` namespace and a plain item.

A completion is text, the namespace itself (a mapping of `output_text`, `output_tools`, …), or a
conversation: a list of chat messages (`{"role": "assistant", "content": …, "tool_calls": […]}`), as
TRL gives for conversational datasets. Of a conversation, `output_text` is the text of the last
assistant message, `output_tools` every tool call the assistant made, in order, in the chat-completions
shape (`arguments` a JSON string, as the graders API has it), and `choices` the last assistant message
as a chat-completions choice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..engine.sample import Sample

ModelSample = str | Mapping[str, Any]


class SampleShapeError(ValueError):
    """A completion is none of the shapes above; the message names the position and what was found."""


def model_sample(completion: Any, where: str) -> ModelSample:
    """`completion` as the engine's model sample (text or the namespace)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        if "role" in completion:
            return from_messages([completion], where)
        try:
            Sample(completion)
        except TypeError as exc:
            raise SampleShapeError(f"{where}: {exc}") from None
        return completion
    if isinstance(completion, Sequence) and not isinstance(completion, (bytes, bytearray)):
        return from_messages(completion, where)
    raise SampleShapeError(
        f"{where}: a completion is text, a list of chat messages or a mapping of sample variables, "
        f"not {type(completion).__name__}"
    )


def from_messages(messages: Sequence[Any], where: str) -> dict[str, Any]:
    last: Mapping[str, Any] | None = None
    last_tools: list[dict[str, Any]] = []
    tools: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise SampleShapeError(
                f"{where}[{index}]: a chat message is a mapping with a 'role', not {_shown(message)}"
            )
        if message["role"] != "assistant":
            continue
        last = message
        last_tools = [
            _tool_call(call, f"{where}[{index}].tool_calls[{number}]")
            for number, call in enumerate(message.get("tool_calls") or ())
        ]
        tools.extend(last_tools)
    text = _text(last.get("content"), where) if last is not None else ""
    sample: dict[str, Any] = {"output_text": text, "output_tools": tools}
    if last is not None:
        final: dict[str, Any] = {"role": "assistant", "content": text}
        if last_tools:
            final["tool_calls"] = last_tools
        sample["choices"] = [{"index": 0, "message": final}]
    else:
        sample["choices"] = []
    return sample


def _text(content: Any, where: str) -> str:
    """A message's content: text, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif (
                isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)
            ):
                parts.append(part["text"])
        return "".join(parts)
    raise SampleShapeError(f"{where}: a message's content is text or a list of parts, not {_shown(content)}")


def _tool_call(call: Any, where: str) -> dict[str, Any]:
    """A tool call in the chat-completions shape: {id?, type, function: {name, arguments: JSON text}}."""
    if not isinstance(call, Mapping):
        raise SampleShapeError(f"{where}: a tool call is a mapping, not {_shown(call)}")
    function = call.get("function", call)  # some templates put name and arguments at the top
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise SampleShapeError(f"{where}: a tool call needs a function name")
    arguments = function.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(plain(arguments), ensure_ascii=False, separators=(",", ":"))
    out: dict[str, Any] = {}
    if isinstance(call.get("id"), str):
        out["id"] = call["id"]
    out["type"] = call.get("type") if isinstance(call.get("type"), str) else "function"
    out["function"] = {"name": function["name"], "arguments": arguments}
    return out


def plain(value: Any) -> Any:
    """`value` as JSON data: tuples become lists, numpy and torch values their Python equivalents
    (`tolist()`), mapping keys text; anything else is left for the grader to report."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return plain(tolist())
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"
