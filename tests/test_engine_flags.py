"""Every one of the response's 14 error fields has a local trigger: one grader and sample per field, run
through `compile_grader` end to end (the sandbox for python graders, the fake OpenAI server for model
graders), each setting its flag (and its details) and scoring 0. The README's table of flags says the
same in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradergen.engine import FLAGS, EngineConfig, compile_grader
from gradergen.engine.outcome import DETAILS
from gradergen.engine.services import close_all

from fake_openai import FakeOpenAI, error, refusal, reply, score

KEY = "GRADERGEN_FLAGS_TEST_KEY"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def config(fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineConfig]:
    monkeypatch.setenv(KEY, "k")
    fake.reset()
    yield EngineConfig.load(
        environ={},
        overrides={
            "models": {"base_url": fake.url, "api_key_env": KEY, "max_retries": 0, "timeout": 2},
            "embeddings": {"base_url": fake.url, "api_key_env": KEY, "max_retries": 0},
            "python": {"timeout": 2, "workers": 1, "memory_mb": 256},
            "cache": {"enabled": False, "path": str(tmp_path / "cache.sqlite")},
        },
    )
    close_all()


def check(input_: str, reference: str = "x") -> dict[str, Any]:
    return {"type": "string_check", "name": "c", "input": input_, "reference": reference, "operation": "eq"}


def python(body: str) -> dict[str, Any]:
    return {"type": "python", "name": "p", "source": "def grade(sample, item):\n" + body}


def judge() -> dict[str, Any]:
    return {
        "type": "score_model",
        "name": "judge",
        "model": "judge-model",
        "input": [{"role": "user", "content": "Score {{ sample.output_text }}"}],
    }


CASES: list[tuple[str, dict[str, Any], str, Any, Any]] = [
    # flag, grader, model sample, item, what the fake model answers (None: no model call)
    ("formula_parse_error",
     {"type": "multi", "name": "m", "graders": {"a": check("x"), "b": check("y")},
      "calculate_output": "a / b"},
     "s", None, None),
    ("invalid_variable_error", check("{{ item.missing }}"), "s", {}, None),
    ("sample_parse_error", check("{{ sample.output_json.answer }}"), "not json", None, None),
    ("other_error",
     {"type": "text_similarity", "name": "t", "input": "a", "reference": "b", "evaluation_metric": "cosine"},
     "s", None, error(500, "no embeddings today")),
    ("python_grader_runtime_error", python("    raise ValueError('bad sample')\n"), "s", None, None),
    ("python_grader_server_error", python("    import os\n    os._exit(3)\n"), "s", None, None),
    ("unresponsive_reward_error", python("    while True:\n        pass\n"), "s", None, None),
    ("model_grader_parse_error", judge(), "s", None, reply("not a score")),
    ("model_grader_refusal_error", judge(), "s", None, refusal("I cannot grade this.")),
    ("model_grader_server_error", judge(), "s", None, error(400, "model not found")),
    ("truncated_observation_error", judge(), "s", None, score(0.7, finish_reason="length")),
]  # fmt: skip

EXPECTED_DETAILS = {
    "python_grader_runtime_error": ("python_grader_runtime_error_details", "ValueError: bad sample"),
    "python_grader_server_error": ("python_grader_server_error_type", "crashed"),
    "unresponsive_reward_error": ("python_grader_server_error_type", "timeout"),
    "model_grader_server_error": ("model_grader_server_error_details", "model not found"),
}


def test_every_flag_and_detail_field_is_covered() -> None:
    assert sorted({case[0] for case in CASES}) == sorted(FLAGS)
    assert sorted({field for field, _ in EXPECTED_DETAILS.values()}) == sorted(DETAILS)
    assert len(FLAGS) + len(DETAILS) == 14


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("flag", "grader", "sample", "item", "answer"), CASES, ids=[c[0] for c in CASES])
def test_each_flag_has_a_local_trigger(
    flag: str,
    grader: dict[str, Any],
    sample: str,
    item: Any,
    answer: Any,
    fake: FakeOpenAI,
    config: EngineConfig,
) -> None:
    if answer is not None:
        fake.always(answer)
    response = compile_grader(grader, config).run(sample, item)
    errors = response.metadata.errors.model_dump()
    assert errors[flag] is True, errors
    assert response.reward == 0.0
    if flag in EXPECTED_DETAILS:
        field, text = EXPECTED_DETAILS[flag]
        assert text in (errors[field] or ""), errors[field]
    set_details = {d for d in DETAILS if errors[d] is not None}
    allowed = {EXPECTED_DETAILS[f][0] for f in EXPECTED_DETAILS if errors.get(f)}
    assert set_details <= allowed, errors
