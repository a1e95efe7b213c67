"""gradergen.rewards: one grader as a reward, in input order, failures flagged in their place and logged,
a deadline per batch; the plain batch functions. The trainers' conventions are in test_rewards_trainers.py.

Expected rewards are worked out by hand from the graders here (string_check eq, a python grader that
returns a number it is given), never taken from the engine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradergen.engine import EngineConfig, EngineError, GraderInvalid, compile_grader
from gradergen.engine.config import DEFAULT_IMAGE
from gradergen.engine.sandbox.image import installed
from gradergen.engine.services import close_all, services_for
from gradergen.rewards import RewardBatch, Rewarder, grade_batch, grade_batch_detailed
from gradergen.rewards.samples import SampleShapeError, model_sample

EXACT = {
    "type": "string_check",
    "name": "exact",
    "input": "{{ sample.output_text }}",
    "operation": "eq",
    "reference": "{{ item.answer }}",
}
SCORE = {
    "type": "python",
    "name": "given",
    "source": (
        "import time\n"
        "def grade(sample, item):\n"
        "    if item.get('fail'):\n"
        "        raise ValueError('asked to fail')\n"
        "    time.sleep(item.get('sleep', 0))\n"
        "    return float(item['score'])\n"
    ),
}
CONFIG = EngineConfig.load(environ={}, overrides={"python": {"timeout": 60, "workers": 2}})


@pytest.fixture(scope="module")
def python_image() -> Iterator[None]:
    if installed(DEFAULT_IMAGE) is None:
        pytest.fail(f"the python image {DEFAULT_IMAGE} is not built: run `make images` "
                    f"(gradergen image build {DEFAULT_IMAGE})")  # fmt: skip
    yield
    close_all()


def worker_pids(config: EngineConfig) -> list[int]:
    pool = services_for(config).sandbox()
    return sorted(w.proc.pid for w in pool._workers)


# ----------------------------------------------------------------------------- order and shape
def test_rewards_come_back_in_input_order_one_per_sample() -> None:
    rewarder = Rewarder(EXACT, CONFIG)
    samples = ["a", "b", "c", "d", "e"]
    items = [{"answer": "a"}, {"answer": "x"}, {"answer": "c"}, {"answer": "c"}, {"answer": "e"}]
    batch = rewarder.grade_sync(samples, items)
    assert batch.rewards == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert batch.flags == [(), (), (), (), ()]
    assert batch.late == [] and batch.flagged == [] and len(batch) == 5


def test_a_conversation_is_graded_on_its_last_assistant_message() -> None:
    rewarder = Rewarder(EXACT, CONFIG)
    conversation = [
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "f"}}]},
        {"role": "tool", "name": "f", "content": "42"},
        {"role": "assistant", "content": [{"type": "text", "text": "4"}, {"type": "text", "text": "2"}]},
    ]
    namespace = {"output_text": "42", "output_json": 42}
    batch = rewarder.grade_sync(
        [conversation, namespace, {"role": "assistant", "content": "41"}], [{"answer": "42"}] * 3
    )
    assert batch.rewards == [1.0, 1.0, 0.0]


def test_a_conversation_becomes_the_sample_namespace() -> None:
    conversation = [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": {"city": "Oslo"}}},
        ]},
        {"role": "tool", "name": "lookup", "content": "rain"},
        {"role": "assistant", "content": "It rains.", "tool_calls": [
            {"type": "function", "function": {"name": "done", "arguments": "{}"}},
        ]},
    ]  # fmt: skip
    assert model_sample(conversation, "completions[0]") == {
        "output_text": "It rains.",
        "output_tools": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"city":"Oslo"}'}},
            {"type": "function", "function": {"name": "done", "arguments": "{}"}},
        ],
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "It rains.",
                    "tool_calls": [{"type": "function", "function": {"name": "done", "arguments": "{}"}}],
                },
            }
        ],
    }


def test_a_tool_call_is_read_by_a_template() -> None:
    grader = {
        "type": "string_check",
        "name": "tool",
        "input": "{{ sample.output_tools[0].function.arguments.city }}",
        "operation": "eq",
        "reference": "Oslo",
    }
    call = {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "lookup", "arguments": {"city": "Oslo"}}}
    ]}  # fmt: skip
    other = {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "lookup", "arguments": {"city": "Rome"}}}
    ]}  # fmt: skip
    assert Rewarder(grader, CONFIG).grade_sync([[call], [other]]).rewards == [1.0, 0.0]


@pytest.mark.parametrize(
    ("completion", "said"),
    [
        (None, "samples[1]: a completion is text, a list of chat messages or a mapping of sample variables, "
               "not NoneType"),
        ({"output_txt": "a"}, "samples[1]: unknown sample variables ['output_txt']"),
        ([{"content": "a"}], "samples[1][0]: a chat message is a mapping with a 'role'"),
        ([{"role": "assistant", "content": 5}], "samples[1]: a message's content is text or a list of parts"),
        ([{"role": "assistant", "tool_calls": [{"function": {}}]}],
         "samples[1][0].tool_calls[0]: a tool call needs a function name"),
    ],
)  # fmt: skip
def test_a_completion_of_no_known_shape_is_refused_naming_its_place(completion: Any, said: str) -> None:
    with pytest.raises(SampleShapeError) as caught:
        Rewarder(EXACT, CONFIG).grade_sync(["a", completion], [{"answer": "a"}] * 2)
    assert str(caught.value).startswith(said), str(caught.value)


def test_items_and_samples_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 samples but 2 items: one item per sample"):
        Rewarder(EXACT, CONFIG).grade_sync(["a", "b", "c"], [{}, {}])


def test_an_invalid_grader_is_refused_when_the_rewarder_is_made() -> None:
    with pytest.raises(GraderInvalid, match="operation"):
        Rewarder({**EXACT, "operation": "equals"}, CONFIG)


def test_a_grader_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "grader.yaml"
    path.write_text("type: string_check\nname: exact\ninput: '{{ sample.output_text }}'\n"
                    "operation: eq\nreference: '{{ item.answer }}'\n")  # fmt: skip
    assert Rewarder(str(path), CONFIG).grade_sync(["x", "y"], [{"answer": "x"}] * 2).rewards == [1.0, 0.0]
    with pytest.raises(EngineError, match=r"no such grader file: .*missing\.json"):
        Rewarder(str(tmp_path / "missing.json"), CONFIG)


@pytest.mark.parametrize("deadline", [0, -1, "10", True])
def test_a_deadline_is_a_positive_number_of_seconds(deadline: Any) -> None:
    with pytest.raises(ValueError, match="deadline is a number of seconds above 0"):
        Rewarder(EXACT, CONFIG, deadline=deadline)


def test_a_batch_past_its_deadline_on_a_quick_grader_is_flagged_not_dropped(caplog: Any) -> None:
    caplog.set_level(logging.WARNING, "gradergen.rewards")
    batch = Rewarder(EXACT, CONFIG).grade_sync(["a"] * 600, [{"answer": "a"}] * 600, deadline=1e-9)
    assert len(batch) == 600
    assert batch.rewards == [0.0] * 600
    assert batch.late == list(range(600))
    assert set(batch.flags) == {("unresponsive_reward_error",)}
    assert "600 of 600 samples failed" in caplog.text


# ----------------------------------------------------------------------------- failures and deadlines
def test_a_failed_sample_scores_zero_in_its_place_and_is_logged_with_its_flag(
    python_image: None, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, "gradergen.rewards")
    items = [{"score": 0.5}, {"fail": True}, {"score": 0.25}, {"fail": True}, {"score": 1}]
    batch = Rewarder(SCORE, CONFIG).grade_sync(["s"] * 5, items)
    assert batch.rewards == [0.5, 0.0, 0.25, 0.0, 1.0]
    assert batch.flagged == [1, 3]
    assert batch.flags[1] == ("python_grader_runtime_error",)
    assert "ValueError: asked to fail" in batch.details[1]
    assert batch.details[0] == ""
    [record] = [r for r in caplog.records if r.name == "gradergen.rewards"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "grader 'given': 2 of 5 samples failed and scored 0" in message
    assert "python_grader_runtime_error at 1, 3" in message
    assert "ValueError: asked to fail" in message


def test_samples_past_the_deadline_are_flagged_and_their_sandbox_freed(
    python_image: None, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, "gradergen.rewards")
    rewarder = Rewarder(SCORE, CONFIG)
    items = [{"score": 1}, {"score": 0.5, "sleep": 40}, {"score": 0.75}]
    started = time.monotonic()
    batch = rewarder.grade_sync(["s"] * 3, items, deadline=3)
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"the batch took {elapsed:.1f} s: the deadline of 3 s did not end it"
    assert batch.rewards[0] == 1.0 and batch.rewards[1] == 0.0
    assert 1 in batch.late and batch.flags[1] == ("unresponsive_reward_error",)
    assert batch.details[1] == "missed the batch deadline of 3 s"
    assert "unresponsive_reward_error at 1" in caplog.text
    # the sleeping sample's call was dropped and its worker ended: no worker is busy any more
    pool = services_for(CONFIG).sandbox()
    waited = time.monotonic()
    while any(w.calls for w in pool._workers) and time.monotonic() - waited < 10:
        time.sleep(0.05)
    assert not any(w.calls for w in pool._workers), "a worker still runs the late sample"
    again = rewarder.grade_sync(["s"] * 2, [{"score": 0.5}, {"score": 0.25}], deadline=30)
    assert again.rewards == [0.5, 0.25] and again.flagged == []


def test_a_sandbox_is_started_once_for_many_batches(python_image: None) -> None:
    rewarder = Rewarder(SCORE, CONFIG)
    assert rewarder.grade_sync(["s"] * 4, [{"score": 1}] * 4).rewards == [1.0] * 4
    pool, before = services_for(CONFIG).sandbox(), worker_pids(CONFIG)
    for _ in range(5):
        assert rewarder.grade_sync(["s"] * 4, [{"score": 0.5}] * 4).rewards == [0.5] * 4
    after = worker_pids(CONFIG)
    # the same pool and its warm workers: none replaced; a second may have joined (workers = 2) when
    # the first was busy as a batch arrived, which is timing, not a restart
    assert services_for(CONFIG).sandbox() is pool
    assert before and set(before) <= set(after) and len(after) <= 2, (before, after)


def test_synchronous_calls_from_many_threads_each_get_their_own_rewards(python_image: None) -> None:
    rewarder = Rewarder(SCORE, CONFIG)
    answers: dict[int, list[float]] = {}

    def call(n: int) -> None:
        answers[n] = rewarder.grade_sync(["s"] * 3, [{"score": n}, {"score": n + 0.5}, {"score": -n}]).rewards

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == {n: [float(n), n + 0.5, float(-n)] for n in range(8)}


# ----------------------------------------------------------------------------- the plain batch functions
def test_grade_batch_gives_rewards_and_the_detailed_form_flags(python_image: None) -> None:
    async def main() -> tuple[list[float], RewardBatch]:
        rewards = await grade_batch(
            SCORE, ["s"] * 3, [{"score": 1}, {"fail": 1}, {"score": 2}], config=CONFIG
        )
        detailed = await grade_batch_detailed(SCORE, ["s"] * 2, [{"fail": 1}, {"score": 3}], config=CONFIG)
        return rewards, detailed

    rewards, detailed = asyncio.run(main())
    assert rewards == [1.0, 0.0, 2.0]
    assert detailed.rewards == [0.0, 3.0] and detailed.flagged == [0]


def test_grade_batch_compiles_a_grader_once_per_process(python_image: None) -> None:
    from gradergen.rewards.core import shared_rewarder

    first = shared_rewarder(SCORE, CONFIG)
    asyncio.run(grade_batch(SCORE, ["s"], [{"score": 1}], config=CONFIG))
    assert shared_rewarder(dict(SCORE), CONFIG) is first


def test_a_compiled_grader_is_taken_as_it_is() -> None:
    compiled = compile_grader(EXACT, CONFIG)
    assert asyncio.run(grade_batch(compiled, ["a", "b"], [{"answer": "b"}] * 2)) == [0.0, 1.0]
