"""Model graders (score_model, label_model) and the cosine metric against a scripted OpenAI-compatible
server on 127.0.0.1 (tests/fake_openai.py). Each test scripts what the "model" answers and asserts the
exact request the engine sent and the response it made of the answer; every expected value is written
out by hand from the documented semantics and the README's engine decisions."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gradergen.engine import EngineConfig, EngineError, compile_grader
from gradergen.engine.outcome import as_json
from gradergen.engine.services import close_all

from fake_openai import FakeOpenAI, error, label, raw, refusal, reply, score
from harness import load_fixture

KEY_VARIABLE = "GRADERGEN_TEST_MODEL_KEY"

STEPS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"description": {"type": "string"}, "conclusion": {"type": "string"}},
        "required": ["description", "conclusion"],
        "additionalProperties": False,
    },
}
SCORE_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "float_score_classification",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"steps": STEPS_SCHEMA, "result": {"type": "number"}},
            "required": ["steps", "result"],
            "additionalProperties": False,
        },
    },
}


def label_format(labels: list[str]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "label_classification",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"steps": STEPS_SCHEMA, "result": {"type": "string", "enum": labels}},
                "required": ["steps", "result"],
                "additionalProperties": False,
            },
        },
    }


@pytest.fixture(scope="module")
def fake_session() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake(fake_session: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv(KEY_VARIABLE, "test-key")
    fake_session.reset()
    yield fake_session
    close_all()
    fake_session.reset()


Configure = Callable[..., EngineConfig]


@pytest.fixture
def configure(fake: FakeOpenAI, tmp_path: Path) -> Configure:
    """An engine configuration pointing at the fake; keyword arguments set [models] settings, `cache`
    switches the cache (in this test's own directory) on."""

    def make(cache: bool = False, base_url: str | None = None, **models: Any) -> EngineConfig:
        settings = {"base_url": base_url or fake.url, "api_key_env": KEY_VARIABLE, "max_retries": 1}
        settings.update(models)
        return EngineConfig.load(
            environ={},
            overrides={
                "models": settings,
                "embeddings": {"base_url": base_url or fake.url, "api_key_env": KEY_VARIABLE},
                "cache": {"enabled": cache, "path": str(tmp_path / "cache" / "models.sqlite")},
            },
        )

    return make


def score_grader(content: Any = "Rate {{ sample.output_text }}", **extra: Any) -> dict[str, Any]:
    return {
        "type": "score_model",
        "name": "judge",
        "model": "judge-model",
        "input": [{"role": "user", "content": content}],
        **extra,
    }


def label_multi(labels: list[str], passing: list[str]) -> dict[str, Any]:
    return {
        "type": "multi",
        "name": "labelled",
        "graders": {
            "tone": {
                "type": "label_model",
                "name": "tone",
                "model": "labeller",
                "input": [{"role": "user", "content": "Tone of: {{ sample.output_text }}"}],
                "labels": labels,
                "passing_labels": passing,
            }
        },
        "calculate_output": "tone",
    }


def errors_set(response: Any) -> list[str]:
    return sorted(k for k, v in response.metadata.errors.model_dump().items() if v is True)


# ----------------------------------------------------------------------------- the documented requests
def test_the_documented_text_request_is_sent_exactly_and_answered_in_the_live_shape(
    fake: FakeOpenAI, configure: Configure
) -> None:
    body = load_fixture("requests/run/002_curl_score_model_text.json")
    fake.script(score(1, steps=[("compare", "identical")], model="gpt-4o-2024-08-06", usage=(190, 134, 0)))
    response = compile_grader(body["grader"], configure()).run(body["model_sample"], body["item"])
    assert fake.chat_requests() == [
        {
            "model": "gpt-5-mini",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "text",
                            "text": "Score how close the reference answer is to the model answer on a 0-1 "
                            "scale. Return only the score.\n\nReference answer: fuzzy wuzzy was a bear\n\n"
                            "Model answer: fuzzy wuzzy was a bear",
                        }
                    ],
                }
            ],
            "response_format": SCORE_FORMAT,
            "temperature": 1,
            "top_p": 1,
            "seed": 42,
        }
    ]
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"]
    live = load_fixture("responses/run/002_score_model_live.json")
    data = as_json(response)
    assert data["metadata"].pop("execution_time") >= 0
    del live["metadata"]["execution_time"]
    assert json.dumps(data) == json.dumps(live)  # same values and the same order as the live service


def test_the_documented_image_request_sends_an_image_part(fake: FakeOpenAI, configure: Configure) -> None:
    body = load_fixture("requests/run/002_curl_score_model_image.json")
    fake.script(score(0.75))
    response = compile_grader(body["grader"], configure()).run(body["model_sample"], body["item"])
    assert fake.chat_requests() == [
        {
            "model": "gpt-5-mini",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "text",
                            "text": "Score how well the provided caption matches the image on a 0-1 scale. "
                            "Only return the score.\n\nCaption: A dog leaps to grab a tennis ball mid-air",
                        },
                        {
                            "type": "image_url",
                            "image_url": {
                                "url": "https://example.com/dog-catching-ball.png",
                                "detail": "high",
                            },
                        },
                    ],
                }
            ],
            "response_format": SCORE_FORMAT,
            "temperature": 0.2,
        }
    ]
    assert response.reward == 0.75 and errors_set(response) == []


def test_the_documented_audio_request_sends_an_audio_part(fake: FakeOpenAI, configure: Configure) -> None:
    body = load_fixture("requests/run/002_curl_score_model_audio.json")
    fake.script(score(0.5))
    response = compile_grader(body["grader"], configure()).run(body["model_sample"], body["item"])
    assert fake.chat_requests() == [
        {
            "model": "gpt-audio",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "text",
                            "text": "Listen to the clip and return a confidence score from 0 to 1 that the "
                            "speaker said: Please deliver the package on Tuesday",
                        },
                        {
                            "type": "input_audio",
                            "input_audio": {"data": "<base64-encoded mp3>", "format": "mp3"},
                        },
                    ],
                }
            ],
            "response_format": SCORE_FORMAT,
            "temperature": 0.2,
            "top_p": 1,
            "seed": 123,
        }
    ]
    assert response.reward == 0.5


def test_every_role_and_content_form_is_rendered(fake: FakeOpenAI, configure: Configure) -> None:
    grader = score_grader()
    grader["input"] = [
        {"role": "system", "content": "You grade {{ item.topic }}."},
        {"role": "developer", "content": {"type": "input_text", "text": "Be strict."}, "type": "message"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Earlier: {{ item.topic }}"}]},
        {
            "role": "user",
            "content": [
                "Answer: {{ sample.output_text }}",
                {"type": "input_image", "image_url": "{{ item.picture }}"},
            ],
        },
    ]
    fake.script(score(0.5))
    compile_grader(grader, configure()).run("42", {"topic": "maths", "picture": "https://x.test/p.png"})
    assert fake.chat_requests()[0]["messages"] == [
        {"role": "system", "content": "You grade maths."},
        {"role": "developer", "content": [{"type": "text", "text": "Be strict."}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Earlier: maths"}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Answer: 42"},
                {"type": "image_url", "image_url": {"url": "https://x.test/p.png"}},
            ],
        },
    ]


def test_an_image_file_id_is_not_sent_and_a_note_says_so(fake: FakeOpenAI, configure: Configure) -> None:
    part = {
        "type": "input_image",
        "image_url": "https://x.test/a.png",
        "file_id": "file-abc",
        "detail": "low",
    }
    fake.script(score(1))
    _, outcome = compile_grader(score_grader([part]), configure()).run_explained("x")
    assert fake.chat_requests()[0]["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}}
    ]
    assert "input_image file_id 'file-abc' is not sent: chat takes the image_url" in outcome.notes


def test_sampling_params_are_renamed_and_null_ones_left_out(fake: FakeOpenAI, configure: Configure) -> None:
    params = {"max_completions_tokens": 300, "reasoning_effort": "low", "seed": None, "temperature": None}
    fake.script(score(1))
    compile_grader(score_grader(sampling_params=params), configure()).run("x")
    sent = fake.chat_requests()[0]
    assert {k: v for k, v in sent.items() if k not in ("model", "messages", "response_format")} == {
        "max_completion_tokens": 300,
        "reasoning_effort": "low",
    }


def test_a_missing_variable_sends_nothing(fake: FakeOpenAI, configure: Configure) -> None:
    response = compile_grader(score_grader("Compare with {{ item.answer }}"), configure()).run("x", {})
    assert (response.reward, errors_set(response)) == (0.0, ["invalid_variable_error"])
    assert fake.requests == [] and response.metadata.token_usage is None


def test_the_key_is_sent_and_a_server_of_your_own_needs_none(
    fake: FakeOpenAI, configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.always(score(1))
    compile_grader(score_grader(), configure()).run("x")
    monkeypatch.delenv(KEY_VARIABLE)
    compile_grader(score_grader(name="other"), configure(timeout=3)).run("x")
    assert [r.headers["authorization"] for r in fake.requests] == ["Bearer test-key", "Bearer no-key-set"]


def test_openai_itself_without_a_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    config = EngineConfig.load(environ={}, overrides={"models": {"api_key_env": "GRADERGEN_UNSET_KEY"}})
    monkeypatch.delenv("GRADERGEN_UNSET_KEY", raising=False)
    with pytest.raises(EngineError, match=r"needs a key: set \$GRADERGEN_UNSET_KEY"):
        compile_grader(score_grader(), config).run("x")
    close_all()


# ----------------------------------------------------------------------------- score_model answers
@pytest.mark.parametrize(
    ("answer", "grader_range", "reward"),
    [
        (0.8, None, 0.8),
        (3, None, 1.0),
        (-2.5, None, 0.0),
        (0, [1, 7], 1.0),
        (9, [1, 7], 7.0),
        (4.5, [1, 7], 4.5),
        (-1, [-5, 5], -1.0),
    ],
)
def test_the_score_is_clamped_to_the_range(
    answer: float, grader_range: list[float] | None, reward: float, fake: FakeOpenAI, configure: Configure
) -> None:
    extra = {} if grader_range is None else {"range": grader_range}
    fake.script(score(answer))
    response = compile_grader(score_grader(**extra), configure()).run("x")
    assert (response.reward, errors_set(response)) == (reward, [])


@pytest.mark.parametrize(
    "content",
    [
        "I would say 0.8",
        '{"result": "0.8", "steps": []}',
        '{"steps": []}',
        '{"result": true, "steps": []}',
        '{"result": NaN, "steps": []}',
        '{"result": null}',
        "[0.8]",
        "",
        None,
    ],
)
def test_an_answer_without_a_numeric_result_is_a_parse_error(
    content: str | None, fake: FakeOpenAI, configure: Configure
) -> None:
    fake.script(reply(content, usage=(20, 7, 4)))
    response = compile_grader(score_grader(), configure()).run("x")
    assert (response.reward, errors_set(response)) == (0.0, ["model_grader_parse_error"])
    assert response.model_grader_token_usage_per_model["judge-model"] == {
        "prompt_tokens": 20,
        "completion_tokens": 7,
        "total_tokens": 27,
        "cached_tokens": 4,
    }


def test_steps_are_not_needed_and_never_count(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(reply('{"result": 0.5}'), score(0.25, steps=[("everything", "perfect, 1.0")]))
    grader = compile_grader(score_grader(), configure())
    assert [grader.run("x").reward, grader.run("y").reward] == [0.5, 0.25]


def test_a_refusal_sets_its_flag_and_still_counts_the_tokens(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(refusal("I can't help with that.", usage=(30, 6, 0)))
    response, outcome = compile_grader(score_grader(), configure()).run_explained("x")
    assert (response.reward, errors_set(response)) == (0.0, ["model_grader_refusal_error"])
    assert response.metadata.token_usage.total_tokens == 36
    assert "judge-model refused: I can't help with that." in outcome.notes


def test_a_content_filter_stop_is_a_refusal(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(reply(None, finish_reason="content_filter"))
    response = compile_grader(score_grader(), configure()).run("x")
    assert errors_set(response) == ["model_grader_refusal_error"]


def test_an_answer_cut_off_at_the_token_limit_is_a_truncated_observation(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.script(reply('{"steps": [{"description": "first', finish_reason="length"))
    response = compile_grader(score_grader(), configure()).run("x")
    assert (response.reward, errors_set(response)) == (0.0, ["truncated_observation_error"])


def test_the_model_that_answered_is_the_sampled_model_and_keys_the_usage(
    fake: FakeOpenAI, configure: Configure
) -> None:
    config = configure(map={"judge-model": "my-local-model"})
    fake.script(score(1, usage=(5, 1, 0)), score(1, model="my-local-model-q4", usage=(7, 2, 1)))
    grader = compile_grader(score_grader(), config)
    first, second = grader.run("x"), grader.run("y")
    assert [r["model"] for r in fake.chat_requests()] == ["my-local-model", "my-local-model"]
    assert first.metadata.sampled_model_name == "my-local-model"
    assert second.metadata.sampled_model_name == "my-local-model-q4"
    assert list(second.model_grader_token_usage_per_model) == ["my-local-model-q4"]
    assert second.metadata.token_usage.model_dump() == {
        "prompt_tokens": 7,
        "completion_tokens": 2,
        "total_tokens": 9,
        "cached_tokens": 1,
    }


def test_a_reply_without_usage_counts_no_tokens(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(score(0.5, usage=None))
    response = compile_grader(score_grader(), configure()).run("x")
    assert response.reward == 0.5
    assert response.metadata.token_usage.model_dump() == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cached_tokens": 0,
    }


# ----------------------------------------------------------------------------- label_model
@pytest.mark.parametrize(
    ("answer", "reward", "flags"),
    [("good", 1.0, []), ("fine", 1.0, []), ("bad", 0.0, []), ("Good", 0.0, ["model_grader_parse_error"])],
)
def test_a_label_passes_when_it_is_a_passing_label(
    answer: str, reward: float, flags: list[str], fake: FakeOpenAI, configure: Configure
) -> None:
    fake.script(label(answer))
    response = compile_grader(label_multi(["good", "fine", "bad"], ["good", "fine"]), configure()).run("x")
    assert (response.reward, response.sub_rewards, errors_set(response)) == (reward, {"tone": reward}, flags)
    assert fake.chat_requests() == [
        {
            "model": "labeller",
            "messages": [{"role": "user", "content": "Tone of: x"}],
            "response_format": label_format(["good", "fine", "bad"]),
        }
    ]


def test_a_label_result_that_is_not_text_is_a_parse_error(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(reply('{"steps": [], "result": 1}'))
    response = compile_grader(label_multi(["1", "2"], ["1"]), configure()).run("x")
    assert errors_set(response) == ["model_grader_parse_error"]


def test_a_multi_grader_adds_up_the_usage_of_its_models(fake: FakeOpenAI, configure: Configure) -> None:
    grader = label_multi(["good", "bad"], ["good"])
    grader["graders"]["score"] = score_grader(name="score")
    grader["calculate_output"] = "(tone + score) / 2"
    fake.script(label("good", usage=(10, 2, 0)), model="labeller")
    fake.script(score(0.5, model="judge-served", usage=(20, 3, 5)), model="judge-model")
    response = compile_grader(grader, configure()).run("x")
    assert response.reward == 0.75 and response.sub_rewards == {"tone": 1.0, "score": 0.5}
    per_model = response.model_grader_token_usage_per_model
    assert per_model == {
        "labeller": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, "cached_tokens": 0},
        "judge-served": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23, "cached_tokens": 5},
    }
    assert response.metadata.token_usage.total_tokens == 35
    assert response.metadata.sampled_model_name == "labeller"


# ----------------------------------------------------------------------------- failures and retries
def test_a_server_error_is_retried_and_the_retry_sends_the_same_request(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.script(error(500, "overloaded", retry_after_ms="20"), score(0.6))
    response = compile_grader(score_grader(), configure()).run("x")
    assert (response.reward, errors_set(response)) == (0.6, [])
    first, second = fake.requests
    assert first.body == second.body


def test_a_rate_limit_waits_as_retry_after_asks(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(error(429, "slow down", retry_after_ms="30"), error(429, "slow down", retry_after_ms="30"))
    fake.script(score(0.4))
    response = compile_grader(score_grader(), configure(max_retries=2)).run("x")
    assert response.reward == 0.4 and len(fake.requests) == 3


def test_a_server_error_on_every_attempt_sets_the_server_error_with_details(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.always(error(503, "the model is loading", retry_after_ms="10"))
    response = compile_grader(score_grader(), configure(max_retries=2)).run("x")
    assert (response.reward, errors_set(response)) == (0.0, ["model_grader_server_error"])
    details = response.metadata.errors.model_grader_server_error_details
    assert details == f"HTTP 503 from {fake.url} after 3 attempts: the model is loading"
    assert len(fake.requests) == 3 and response.metadata.token_usage is None


def test_a_client_error_is_not_retried(fake: FakeOpenAI, configure: Configure) -> None:
    fake.script(error(404, "The model `judge-model` does not exist"))
    response = compile_grader(score_grader(), configure(max_retries=3)).run("x")
    details = response.metadata.errors.model_grader_server_error_details
    assert details == f"HTTP 404 from {fake.url}: The model `judge-model` does not exist"
    assert len(fake.requests) == 1


def test_an_answer_that_is_not_a_chat_completion_is_a_server_error(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.script(raw(200, "<html>proxy login</html>"), raw(200, '{"object": "list"}', "application/json"))
    grader = compile_grader(score_grader(), configure())
    html, listing = grader.run("x"), grader.run("y")
    assert errors_set(html) == errors_set(listing) == ["model_grader_server_error"]
    assert html.metadata.errors.model_grader_server_error_details.startswith(
        f"{fake.url} sent an answer that is not JSON"
    )
    assert "not a chat completion with choices" in listing.metadata.errors.model_grader_server_error_details


def test_a_slow_model_times_out_as_unresponsive(fake: FakeOpenAI, configure: Configure) -> None:
    fake.always(score(1, delay=3))
    response = compile_grader(score_grader(), configure(timeout=0.3, max_retries=0)).run("x")
    assert (response.reward, errors_set(response)) == (
        0.0,
        ["model_grader_server_error", "unresponsive_reward_error"],
    )
    assert (
        response.metadata.errors.model_grader_server_error_details
        == f"no complete answer within 0.3 s from {fake.url}"
    )


@pytest.mark.timeout(60)  # the whole answer would take minutes: a test that hangs fails here
@pytest.mark.parametrize("asynchronous", [False, True])
def test_an_answer_dribbled_a_byte_at_a_time_times_out_at_the_deadline(
    fake: FakeOpenAI, configure: Configure, asynchronous: bool
) -> None:
    fake.always(replace(score(1), drip=0.2))  # the whole answer would take minutes
    grader = compile_grader(score_grader(), configure(timeout=1, max_retries=1))
    response = asyncio.run(grader.arun("x")) if asynchronous else grader.run("x")
    assert errors_set(response) == ["model_grader_server_error", "unresponsive_reward_error"]
    assert response.metadata.errors.model_grader_server_error_details == (
        f"no complete answer within 1 s after 2 attempts from {fake.url}"
    )
    assert len(fake.chat_requests()) == 2


def test_a_server_that_is_not_there_is_a_server_error(configure: Configure) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    response = compile_grader(score_grader(), configure(base_url=url, max_retries=0)).run("x")
    assert errors_set(response) == ["model_grader_server_error"]
    assert response.metadata.errors.model_grader_server_error_details.startswith(f"cannot connect to {url}")


# ----------------------------------------------------------------------------- concurrency
def test_calls_in_flight_are_limited_across_threads_and_event_loops(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.always(score(1, delay=0.15))
    grader = compile_grader(score_grader(), configure(concurrency=2))
    rewards: list[float] = []

    def sync_work(i: int) -> None:
        rewards.append(grader.run(f"thread {i}").reward)

    async def async_work() -> None:
        done = await asyncio.gather(*(grader.arun(f"task {i}") for i in range(4)))
        rewards.extend(r.reward for r in done)

    threads = [threading.Thread(target=sync_work, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=lambda: asyncio.run(async_work())))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rewards == [1.0] * 8 and len(fake.requests) == 8
    assert fake.peak_in_flight == 2


def test_async_runs_go_through_the_async_client(fake: FakeOpenAI, configure: Configure) -> None:
    fake.always(score(0.25))
    grader = compile_grader(score_grader(), configure(concurrency=3))

    async def many() -> list[Any]:
        return list(await asyncio.gather(*(grader.arun(str(i)) for i in range(6))))

    responses = asyncio.run(many())
    assert [r.reward for r in responses] == [0.25] * 6
    assert {r.headers["x-stainless-async"] for r in fake.requests} == {"async:asyncio"}
    assert sorted(b["messages"][0]["content"] for b in fake.chat_requests()) == [
        f"Rate {i}" for i in range(6)
    ]


# ----------------------------------------------------------------------------- the cache
def test_grading_again_comes_from_the_cache_and_a_changed_range_regrades_free(
    fake: FakeOpenAI, configure: Configure
) -> None:
    config = configure(cache=True)
    fake.script(score(5, usage=(40, 10, 0)))
    first = compile_grader(score_grader(range=[0, 10]), config).run("x")
    again, outcome = compile_grader(score_grader(range=[0, 10]), config).run_explained("x")
    narrower = compile_grader(score_grader(range=[0, 1]), config).run("x")
    assert (first.reward, again.reward, narrower.reward) == (5.0, 5.0, 1.0)
    assert len(fake.requests) == 1
    assert again.metadata.token_usage.total_tokens == 50  # the usage of the reply the reward came from
    assert "judge-model's answer came from the cache" in outcome.notes


def test_a_changed_request_misses_the_cache(fake: FakeOpenAI, configure: Configure) -> None:
    config = configure(cache=True)
    fake.always(score(0.5))
    compile_grader(score_grader(), config).run("x")
    compile_grader(score_grader(), config).run("other sample")
    compile_grader(score_grader(sampling_params={"seed": 7}), config).run("x")
    compile_grader(score_grader(), configure(cache=True, map={"judge-model": "served"})).run("x")
    assert len(fake.requests) == 4


def test_the_cache_is_per_backend(fake: FakeOpenAI, configure: Configure) -> None:
    with FakeOpenAI() as other:
        other.always(score(0.9))
        fake.always(score(0.1))
        here = compile_grader(score_grader(), configure(cache=True)).run("x")
        there = compile_grader(score_grader(), configure(cache=True, base_url=other.url)).run("x")
        assert (here.reward, there.reward) == (0.1, 0.9)
        assert len(fake.requests) == len(other.requests) == 1


def test_failed_calls_are_not_cached_and_a_disabled_cache_calls_every_time(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.script(error(400, "bad"), score(0.3), score(0.3), score(0.3))
    cached = configure(cache=True)
    assert errors_set(compile_grader(score_grader(), cached).run("x")) == ["model_grader_server_error"]
    assert compile_grader(score_grader(), cached).run("x").reward == 0.3
    assert compile_grader(score_grader(), cached).run("x").reward == 0.3
    assert len(fake.requests) == 2
    uncached = configure()
    compile_grader(score_grader(), uncached).run("x")
    compile_grader(score_grader(), uncached).run("x")
    assert len(fake.requests) == 4


def test_a_file_that_is_not_a_cache_is_a_clear_error(configure: Configure, tmp_path: Path) -> None:
    config = configure(cache=True)
    config.cache.file.parent.mkdir(parents=True)
    config.cache.file.write_bytes(b"this is not a database" * 100)
    with pytest.raises(EngineError, match="cannot be used") as caught:
        compile_grader(score_grader(), config).run("x")
    assert str(config.cache.file) in str(caught.value) and "GRADERGEN_CACHE=off" in str(caught.value)


def cli(fake: FakeOpenAI, cache: Path, *args: str, **env: str) -> Any:
    from harness import gradergen

    environ = {
        "GRADERGEN_MODEL_BASE_URL": fake.url,
        "GRADERGEN_MODEL_API_KEY_ENV": KEY_VARIABLE,
        "GRADERGEN_CACHE_PATH": str(cache),
        **env,
    }
    saved = {k: os.environ.get(k) for k in environ}
    os.environ.update(environ)
    try:
        return gradergen("run", "--grader", json.dumps(score_grader()), "--model-sample", "x", *args)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_gradergen_run_uses_the_cache_across_processes_unless_told_not_to(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    cache = tmp_path / "models.sqlite"
    fake.always(score(0.7, model="served-judge", usage=(3, 4, 0)))
    first = cli(fake, cache)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["metadata"]["sampled_model_name"] == "served-judge"
    second = cli(fake, cache, "--format", "text")
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[:3] == ["reward: 0.7", "grader: judge (score_model)", "errors: none"]
    assert "tokens: 7 (served-judge)" in second.stdout
    assert "note: served-judge's answer came from the cache" in second.stdout
    assert len(fake.requests) == 1
    assert cli(fake, cache, "--no-cache").returncode == 0
    assert cli(fake, cache, GRADERGEN_CACHE="off").returncode == 0
    assert len(fake.requests) == 3


def test_gradergen_run_reports_a_server_error_and_exits_0(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.always(error(401, "Incorrect API key provided"))
    result = cli(fake, tmp_path / "c.sqlite", "--format", "text")
    assert result.returncode == 0, result.stderr
    assert (
        f"  model_grader_server_error: HTTP 401 from {fake.url}: Incorrect API key provided "
        f"(is ${KEY_VARIABLE} set?)" in result.stdout.splitlines()
    )


# ----------------------------------------------------------------------------- cosine
def cosine_grader(**extra: Any) -> dict[str, Any]:
    return {
        "type": "text_similarity",
        "name": "close",
        "input": "{{ sample.output_text }}",
        "reference": "{{ item.reference }}",
        "evaluation_metric": "cosine",
        **extra,
    }


def test_cosine_is_the_similarity_of_the_two_embeddings(fake: FakeOpenAI, configure: Configure) -> None:
    fake.embedding("a cat sat", [1.0, 0.0, 0.0])
    fake.embedding("the cat sat", [0.6, 0.8, 0.0])
    response = compile_grader(cosine_grader(), configure()).run("a cat sat", {"reference": "the cat sat"})
    assert response.reward == pytest.approx(0.6, abs=1e-12) and errors_set(response) == []
    assert [r.body for r in fake.requests] == [
        {"model": "text-embedding-3-large", "input": ["a cat sat", "the cat sat"], "encoding_format": "float"}
    ]
    assert fake.requests[0].path == "/v1/embeddings"


def test_cosine_of_texts_pointing_apart_is_zero_and_of_the_same_text_one(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.embedding("up", [0.0, 3.0])
    fake.embedding("down", [0.0, -2.0])
    grader = compile_grader(cosine_grader(), configure())
    assert grader.run("up", {"reference": "down"}).reward == 0.0
    assert grader.run("up", {"reference": "up"}).reward == pytest.approx(1.0, abs=1e-12)
    assert fake.requests[-1].body["input"] == ["up"]  # one text is embedded once


def test_cosine_embeddings_come_from_the_cache_the_second_time(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.embedding("one", [1.0, 2.0])
    fake.embedding("two", [2.0, 1.0])
    config = configure(cache=True)
    first = compile_grader(cosine_grader(), config).run("one", {"reference": "two"})
    close_all()
    second = asyncio.run(compile_grader(cosine_grader(), config).arun("two", {"reference": "one"}))
    assert first.reward == second.reward == pytest.approx(0.8, abs=1e-12)
    assert len(fake.requests) == 1


def test_cosine_embeddings_model_is_configurable_and_async_works(
    fake: FakeOpenAI, configure: Configure
) -> None:
    fake.embedding("p", [1.0, 1.0])
    fake.embedding("q", [1.0, 0.0])
    config = EngineConfig.load(
        environ={},
        overrides={
            "embeddings": {"base_url": fake.url, "api_key_env": KEY_VARIABLE, "model": "local-embedder"},
            "cache": {"enabled": False},
        },
    )
    response = asyncio.run(compile_grader(cosine_grader(), config).arun("p", {"reference": "q"}))
    assert response.reward == pytest.approx(2**-0.5, abs=1e-12)
    assert fake.requests[0].body["model"] == "local-embedder"
    assert fake.requests[0].headers["x-stainless-async"] == "async:asyncio"


@pytest.mark.parametrize(
    ("vectors", "message"),
    [
        ({"a": [0.0, 0.0], "b": [1.0, 0.0]}, "an embedding of length zero"),
        ({"a": [1.0, 0.0], "b": [1.0, 0.0, 0.0]}, "embeddings of different sizes (2 and 3)"),
        ({"a": [1.0, 0.0]}, "HTTP 400 from"),
    ],
)
def test_cosine_that_cannot_be_computed_is_an_other_error(
    vectors: dict[str, list[float]], message: str, fake: FakeOpenAI, configure: Configure
) -> None:
    for text, vector in vectors.items():
        fake.embedding(text, vector)
    response, outcome = compile_grader(cosine_grader(), configure(max_retries=0)).run_explained(
        "a", {"reference": "b"}
    )
    assert (response.reward, errors_set(response)) == (0.0, ["other_error"])
    assert any(message in note for note in outcome.notes), outcome.notes


def test_the_metric_scores_many_pairs_in_one_request(fake: FakeOpenAI, configure: Configure) -> None:
    from gradergen.engine.metrics import build_metric

    for text, vector in {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 1.0]}.items():
        fake.embedding(text, vector)
    metric = build_metric("cosine", configure())
    scores = metric.score_many(["a", "a", "c"], ["b", "a", "a"])
    assert scores == pytest.approx([0.0, 1.0, 2**-0.5], abs=1e-12)
    assert [r.body["input"] for r in fake.requests] == [["a", "c", "b"]]
