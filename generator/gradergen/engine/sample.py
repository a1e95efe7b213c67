"""The `sample` namespace a grader's templates read: what the model answered.

On `/run` a sample is the text `model_sample`: `output_text` is that text and `output_json` its parsed
value when it is JSON. A batch or an RL trainer may pass the whole namespace instead — a mapping with
`output_text` and any of `output_json`, `output_tools` (chat-completions tool calls), `choices` and
`output_audio` ({data, transcript}). `output_json` is parsed only when a template reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..language.templates import SAMPLE_VARIABLES

_UNSET: Any = object()
_JSON_STARTS = frozenset('{["-0123456789tfnNI')
"""The characters a text json.loads accepts can begin with after its whitespace (NaN and Infinity
included): a text beginning with any other is not JSON, known without the cost of a parse error."""
_JSON_SPACE = " \t\n\r"


class SampleParseError(ValueError):
    """The sample is not what a template needs (`output_json` of text that is not JSON)."""


class Sample(Mapping[str, Any]):
    """The sample namespace; a read-only mapping of the sample variables."""

    __slots__ = ("_json", "_text", "_values")

    def __init__(self, model_sample: str | Mapping[str, Any]) -> None:
        if isinstance(model_sample, str):
            self._text = model_sample
            self._values: dict[str, Any] = {"output_text": model_sample}
            self._json = _UNSET
            return
        if not isinstance(model_sample, Mapping):
            raise TypeError(
                f"a model sample is text or a mapping of sample variables, not {type(model_sample).__name__}"
            )
        unknown = sorted(set(model_sample) - set(SAMPLE_VARIABLES))
        if unknown:
            raise TypeError(f"unknown sample variables {unknown}: a sample has {', '.join(SAMPLE_VARIABLES)}")
        text = model_sample.get("output_text", "")
        if not isinstance(text, str):
            raise TypeError("output_text must be text")
        self._text = text
        self._values = {k: v for k, v in model_sample.items() if k != "output_json"}
        self._values["output_text"] = text
        self._json = model_sample["output_json"] if "output_json" in model_sample else _UNSET

    @property
    def text(self) -> str:
        return self._text

    @property
    def output_json(self) -> Any:
        """The parsed `output_text`; SampleParseError when it is not JSON."""
        if self._json is _UNSET:
            try:
                self._json = json.loads(self._text)
            except ValueError as exc:
                self._json = SampleParseError(f"the model sample is not valid JSON ({exc})")
        if isinstance(self._json, SampleParseError):
            raise self._json
        return self._json

    def __getitem__(self, key: str) -> Any:
        if key == "output_json":
            return self.output_json
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key == "output_json" or key in self._values

    def __iter__(self) -> Iterator[str]:
        yield from self._values
        if "output_json" not in self._values:
            yield "output_json"

    def __len__(self) -> int:
        return len(self._values) + 1

    def _may_be_json(self) -> bool:
        text = self._text
        first = text[:1]
        if first in _JSON_SPACE:
            first = text.lstrip(_JSON_SPACE)[:1]
        return first in _JSON_STARTS

    def as_dict(self) -> dict[str, Any]:
        """The namespace as plain data, as a python grader's `sample` argument sees it."""
        out = dict(self._values)
        if self._json is _UNSET and not self._may_be_json():
            out["output_json"] = None
            return out
        try:
            out["output_json"] = self.output_json
        except SampleParseError:
            out["output_json"] = None
        return out
