"""A model grader's `input` messages, read once and rendered into chat-completions messages per sample.

Every role (user, assistant, system, developer) is sent as written. Content that is a string stays a
string; a single part or a list of parts becomes a list of chat content parts:

    input_text, output_text, a string in a list  →  {"type": "text", "text": …}
    input_image  →  {"type": "image_url", "image_url": {"url": …, "detail": …}}
    input_audio  →  {"type": "input_audio", "input_audio": {"data": …, "format": …}}

Templates are filled in every text, image URL and audio data. An image's `detail` is sent only when
the grader gives it (the API's default is `auto`); a message's `type: "message"` and a text part's
`prompt_cache_breakpoint` have no chat counterpart and are not sent. An image's `file_id` is not sent
either (chat takes images by URL): a grader that sets one gets a note saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..graders.base import TemplateField

if TYPE_CHECKING:
    from ..graders.base import Scope
    from ..outcome import Outcome

RenderedPart = dict[str, Any]
PartRenderer = Callable[["Scope", "Outcome"], "RenderedPart | None"]


def _text_part(text: str) -> PartRenderer:
    field = TemplateField(text)

    def render(scope: Scope, outcome: Outcome) -> RenderedPart | None:
        value = field.render(scope, outcome)
        return None if value is None else {"type": "text", "text": value}

    return render


def _image_part(part: Mapping[str, Any]) -> PartRenderer:
    url = TemplateField(str(part["image_url"]))
    detail = part.get("detail")
    file_id = part.get("file_id")

    def render(scope: Scope, outcome: Outcome) -> RenderedPart | None:
        value = url.render(scope, outcome)
        if value is None:
            return None
        if file_id is not None:
            outcome.notes.append(f"input_image file_id {file_id!r} is not sent: chat takes the image_url")
        image: dict[str, Any] = {"url": value}
        if detail is not None:
            image["detail"] = detail
        return {"type": "image_url", "image_url": image}

    return render


def _audio_part(part: Mapping[str, Any]) -> PartRenderer:
    audio = part["input_audio"]
    data = TemplateField(str(audio["data"]))
    audio_format = audio["format"]

    def render(scope: Scope, outcome: Outcome) -> RenderedPart | None:
        value = data.render(scope, outcome)
        if value is None:
            return None
        return {"type": "input_audio", "input_audio": {"data": value, "format": audio_format}}

    return render


def _part(part: Any) -> PartRenderer:
    if isinstance(part, str):
        return _text_part(part)
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return _text_part(str(part["text"]))
    if kind == "input_image":
        return _image_part(part)
    if kind == "input_audio":
        return _audio_part(part)
    raise ValueError(f"a content part of type {kind!r} cannot be sent to a model")


class MessageTemplate:
    """One message of a grader's `input`, its templates read."""

    def __init__(self, message: Mapping[str, Any]) -> None:
        self.role = str(message["role"])
        content = message["content"]
        self.text: TemplateField | None = None
        self.parts: list[PartRenderer] = []
        if isinstance(content, str):
            self.text = TemplateField(content)
        elif isinstance(content, Sequence):
            self.parts = [_part(p) for p in content]
        else:
            self.parts = [_part(content)]

    def render(self, scope: Scope, outcome: Outcome) -> dict[str, Any] | None:
        if self.text is not None:
            text = self.text.render(scope, outcome)
            return None if text is None else {"role": self.role, "content": text}
        rendered = [part(scope, outcome) for part in self.parts]
        if any(p is None for p in rendered):
            return None
        return {"role": self.role, "content": rendered}


class Messages:
    """A grader's `input`: `render(scope, outcome)` gives the chat messages, or None when a template has
    no value (its flag is set on the outcome)."""

    def __init__(self, messages: Sequence[Mapping[str, Any]]) -> None:
        self.messages = [MessageTemplate(m) for m in messages]

    def render(self, scope: Scope, outcome: Outcome) -> list[dict[str, Any]] | None:
        rendered = [m.render(scope, outcome) for m in self.messages]
        if any(m is None for m in rendered):
            return None
        return [m for m in rendered if m is not None]
