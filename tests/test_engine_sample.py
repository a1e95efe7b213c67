"""A python grader's `sample["output_json"]`: the parsed `output_text` when it is JSON, else None —
decided without a parse for texts no JSON value can start like, with the same answer as a parse."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from gradergen.engine.sample import Sample, SampleParseError

TEXTS = [
    "", " ", "\n\t\r ", "plain words", "The answer is 42", "\ufeff{}", "\u00a0{}", "  {\"a\": 1}", "[1, 2]",
    "\n 42", "-3.5", "\"quoted\"", "true", "false", "null", "tru", "nul", "NaN", "Infinity", "-Infinity",
    "Inf", "{", "[1,", "42 and more", "0x10", ".5", "+1", "'single'", "\x00", "é", "🙂 {}", "\u2028[]",
]  # fmt: skip


def reference(text: str) -> Any:
    """What a parse says: the value, or None for text that is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b and type(a) is type(b))


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_output_json_in_the_grader_s_sample_is_what_a_parse_gives(text: str) -> None:
    assert same(Sample(text).as_dict()["output_json"], reference(text))


@pytest.mark.parametrize("text", TEXTS, ids=repr)
def test_a_template_s_output_json_still_says_why_the_text_is_not_json(text: str) -> None:
    sample = Sample(text)
    sample.as_dict()
    if reference(text) is None and text.strip() != "null":
        with pytest.raises(SampleParseError) as caught:
            _ = sample.output_json
        with pytest.raises(ValueError) as parsed:
            json.loads(text)
        assert str(caught.value) == f"the model sample is not valid JSON ({parsed.value})"
    else:
        assert same(sample.output_json, reference(text))


def test_a_given_output_json_is_kept() -> None:
    sample = Sample({"output_text": "not json", "output_json": {"given": True}})
    assert sample.as_dict()["output_json"] == {"given": True}
