"""gradergen.rewards called as each trainer calls its reward functions.

None of the trainers installs here without its GPU stack (each pulls torch and more), so each test holds
a faithful copy of the trainer's own call — the keyword arguments, the dispatch between sync and async
rewards, what it does with the answer — read from the released package (PyPI wheel, without its
dependencies) and cited where it is used:

- TRL 1.16.0: trl/trainer/grpo_trainer.py `GRPOTrainer._calculate_rewards`; trl/trainer/utils.py
  `get_callable_name`, `is_async_callable`.
- verl 0.9.1: verl/trainer/ppo/reward.py `get_custom_reward_fn` (with `_call_with_kwargs[_async]`);
  verl/utils/import_utils.py `load_extern_object` (`pkg://`); verl/workers/reward_manager/naive.py
  `NaiveRewardManager.__call__`; verl/experimental/reward_loop/reward_manager/naive.py (async path);
  verl/workers/reward_manager/batch.py `BatchRewardManager.verify`.
- OpenRLHF 0.11.2: openrlhf/utils/agent.py `SingleTurnAgentExecutor.execute` and
  `_fetch_rewards_via_http` (POST json=payload with no headers of its own, `raise_for_status`, then
  `rewards`, `scores` or else `rewards`, `extra_logs`), against a real `gradergen serve` on 127.0.0.1.

Expected rewards are worked out by hand from the graders below (string_check eq), never from the engine.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import math
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from gradergen.rewards.trl import AsyncTRLReward, TRLReward, async_trl_reward

EQUALS_SOLUTION = {
    "type": "string_check",
    "name": "equals_solution",
    "input": "{{ sample.output_text }}",
    "operation": "eq",
    "reference": "{{ item.solution }}",
}
EQUALS_TRUTH = {**EQUALS_SOLUTION, "name": "equals_truth", "reference": "{{ item.ground_truth }}"}
EQUALS_LABEL = {**EQUALS_SOLUTION, "name": "equals_label", "reference": "{{ item.label.answer }}"}
GRADERGEN = str(Path(sys.executable).with_name("gradergen"))


# ----------------------------------------------------------------------------- TRL 1.16.0
def trl_get_callable_name(func: Any) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__name__", type(func).__name__)


def trl_is_async_callable(func: Any) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(func.__call__)


class TRLCaller:
    """`GRPOTrainer._calculate_rewards` without torch: the same reward_kwargs, the same dispatch, the
    async rewards gathered on the trainer's own loop thread, None made NaN, the length checked."""

    def __init__(self, reward_funcs: list[Any]) -> None:
        self.reward_funcs = reward_funcs
        self.reward_func_names = [trl_get_callable_name(f) for f in reward_funcs]
        self.extra: dict[str, list[Any]] = {}
        self.metrics: dict[str, float] = {}
        self.async_loop = asyncio.new_event_loop()
        threading.Thread(target=self.async_loop.run_forever, daemon=True).start()

    def _log_completion_extra(self, column: str, values: list[Any]) -> None:
        self.extra[column] = values

    def _log_metric(self, name: str, value: float) -> None:
        self.metrics[name] = value

    def calculate(
        self, inputs: list[dict[str, Any]], prompts: list[Any], completions: list[Any]
    ) -> list[list[float]]:
        completion_ids_list = [[1, 2, 3] for _ in completions]
        keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
        reward_kwargs: dict[str, Any] = {key: [example[key] for example in inputs] for key in keys}
        reward_kwargs["trainer_state"] = object()
        reward_kwargs["log_extra"] = self._log_completion_extra
        reward_kwargs["log_metric"] = self._log_metric
        columns: list[list[float]] = [[] for _ in self.reward_funcs]
        async_funcs_info = []
        for i, (func, name) in enumerate(zip(self.reward_funcs, self.reward_func_names, strict=True)):
            if trl_is_async_callable(func):
                async_funcs_info.append((i, func, name))
            else:
                output = func(
                    prompts=prompts,
                    completions=completions,
                    completion_ids=completion_ids_list,
                    **reward_kwargs,
                )
                output = [r if r is not None else math.nan for r in output]
                assert len(output) == len(prompts), f"{name} returned {len(output)} rewards"
                columns[i] = output
        if async_funcs_info:

            async def invoke(index: int, func: Any, name: str) -> tuple[int, list[float]]:
                output = await func(
                    prompts=prompts,
                    completions=completions,
                    completion_ids=completion_ids_list,
                    **reward_kwargs,
                )
                output = [r if r is not None else math.nan for r in output]
                assert len(output) == len(prompts), f"{name} returned {len(output)} rewards"
                return index, output

            async def run_all() -> list[tuple[int, list[float]]]:
                return await asyncio.gather(*(invoke(i, f, n) for i, f, n in async_funcs_info))

            for index, output in asyncio.run_coroutine_threadsafe(run_all(), self.async_loop).result():
                columns[index] = output
        return columns


def test_trl_standard_dataset_rewards_in_order_named_after_the_grader() -> None:
    reward = TRLReward(EQUALS_SOLUTION)
    caller = TRLCaller([reward])
    assert caller.reward_func_names == ["equals_solution"]
    inputs = [
        {"prompt": "2+2=", "solution": "4"},
        {"prompt": "2+3=", "solution": "5"},
        {"prompt": "2+4=", "solution": "6"},
    ]
    [rewards] = caller.calculate(inputs, [r["prompt"] for r in inputs], ["4", "6", "6"])
    assert rewards == [1.0, 0.0, 1.0]
    assert caller.extra == {"equals_solution/errors": ["", "", ""]}
    assert caller.metrics == {"equals_solution/failed": 0.0}


def test_trl_conversational_completions_are_graded_on_the_assistant_message() -> None:
    caller = TRLCaller([TRLReward(EQUALS_SOLUTION)])
    prompts = [[{"role": "user", "content": "2+2?"}], [{"role": "user", "content": "3+3?"}]]
    inputs = [{"prompt": prompts[0], "solution": "4"}, {"prompt": prompts[1], "solution": "6"}]
    completions = [[{"role": "assistant", "content": "5"}], [{"role": "assistant", "content": "6"}]]
    assert caller.calculate(inputs, prompts, completions) == [[0.0, 1.0]]


def test_trl_failures_score_zero_in_place_and_reach_its_logs(caplog: Any) -> None:
    # `{{ item.answers[0] }}` where the rows have answers for the first and last only
    by_answers = {**EQUALS_SOLUTION, "name": "by_answers", "reference": "{{ item.answers[0] }}"}
    caller = TRLCaller([TRLReward(by_answers)])
    rows = [
        {"prompt": "a", "answers": ["x"]},
        {"prompt": "b", "answers": []},
        {"prompt": "c", "answers": ["z"]},
    ]
    [rewards] = caller.calculate(rows, [r["prompt"] for r in rows], ["x", "y", "q"])
    assert rewards == [1.0, 0.0, 0.0]
    assert caller.extra["by_answers/errors"] == ["", "invalid_variable_error", ""]
    assert caller.metrics["by_answers/failed"] == pytest.approx(1 / 3)
    assert (
        "grader 'by_answers': 1 of 3 samples failed and scored 0: invalid_variable_error at 1" in caplog.text
    )


def test_trl_failed_reward_none_gives_trl_a_nan() -> None:
    grader_missing = {**EQUALS_SOLUTION, "name": "missing", "reference": "{{ item.answers[0] }}"}
    caller = TRLCaller([TRLReward(grader_missing, failed_reward=None)])
    [column] = caller.calculate([{"prompt": "p", "x": 1}], ["p"], ["a"])
    assert math.isnan(column[0])


def test_trl_awaits_the_async_reward_on_its_loop_beside_the_sync_one() -> None:
    async_reward = AsyncTRLReward(EQUALS_SOLUTION, name="async_equals")
    function = async_trl_reward(EQUALS_SOLUTION, name="function_equals")
    assert trl_is_async_callable(async_reward) and trl_is_async_callable(function)
    assert inspect.iscoroutinefunction(function)  # TRL 1.10 and older check only this
    caller = TRLCaller([TRLReward(EQUALS_SOLUTION), async_reward, function])
    assert caller.reward_func_names == ["equals_solution", "async_equals", "function_equals"]
    rows = [{"prompt": "p", "solution": "a"}, {"prompt": "q", "solution": "b"}]
    assert caller.calculate(rows, ["p", "q"], ["a", "a"]) == [[1.0, 0.0]] * 3


def test_trl_rewards_pickle_for_trainers_that_send_them_to_other_processes() -> None:
    for reward in (TRLReward(EQUALS_SOLUTION), AsyncTRLReward(EQUALS_SOLUTION)):
        copy = pickle.loads(pickle.dumps(reward))
        assert copy.__name__ == "equals_solution"
        caller = TRLCaller([copy])
        assert caller.calculate([{"prompt": "p", "solution": "a"}], ["p"], ["a"]) == [[1.0]]


def test_trl_columns_of_the_wrong_length_are_refused() -> None:
    reward = TRLReward(EQUALS_SOLUTION)
    with pytest.raises(ValueError, match="dataset column 'solution': TRL passes a list of 2 values"):
        reward(prompts=["a", "b"], completions=["a", "b"], completion_ids=None, solution=["a"])
    with pytest.raises(ValueError, match="1 prompts but 2 completions"):
        reward(prompts=["a"], completions=["a", "b"])


# ----------------------------------------------------------------------------- verl 0.9.1
def verl_load_extern_object(module_path: str, object_name: str) -> Any:
    assert module_path.startswith("pkg://")
    module = importlib.import_module(module_path[len("pkg://") :].replace("/", "."))
    return getattr(module, object_name)


def verl_get_custom_reward_fn(custom_reward_function: dict[str, Any]) -> Any:
    def call_with_kwargs(raw_fn: Any, extra_kwargs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        return raw_fn(*args, **{**kwargs, **extra_kwargs})

    async def call_with_kwargs_async(
        raw_fn: Any, extra_kwargs: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        return await raw_fn(*args, **{**kwargs, **extra_kwargs})

    raw_fn = verl_load_extern_object(custom_reward_function["path"], custom_reward_function["name"])
    reward_kwargs = dict(custom_reward_function.get("reward_kwargs", {}))
    if not inspect.iscoroutinefunction(raw_fn):
        return functools.partial(call_with_kwargs, raw_fn, reward_kwargs)
    return functools.partial(call_with_kwargs_async, raw_fn, reward_kwargs)


VERL_DATA = [("gsm8k", "4", "4"), ("gsm8k", "5", "6"), ("math", "7", "7")]


def verl_rows() -> list[dict[str, Any]]:
    """non_tensor_batch rows as verl's datasets hold them: data_source, reward_model.ground_truth,
    extra_info; the responses decoded."""
    return [
        {"data_source": source, "reward_model": {"ground_truth": truth}, "extra_info": {"index": n},
         "response": response}
        for n, (source, truth, response) in enumerate(VERL_DATA)
    ]  # fmt: skip


def verl_naive(compute_score: Any, rows: list[dict[str, Any]]) -> tuple[list[float], dict[str, list[Any]]]:
    """NaiveRewardManager.__call__'s loop over the batch (the reward-loop manager awaits the async form)."""
    rewards: list[float] = []
    reward_extra_info: dict[str, list[Any]] = defaultdict(list)
    loop = asyncio.new_event_loop()
    try:
        for row in rows:
            extra_info = dict(row.get("extra_info", {}))
            extra_info["num_turns"] = None
            extra_info["rollout_reward_scores"] = {}
            kwargs = {
                "data_source": row["data_source"],
                "solution_str": row["response"],
                "ground_truth": row["reward_model"]["ground_truth"],
                "extra_info": extra_info,
            }
            if inspect.iscoroutinefunction(compute_score):
                score = loop.run_until_complete(compute_score(**kwargs))
            else:
                score = loop.run_until_complete(loop.run_in_executor(None, lambda: compute_score(**kwargs)))  # noqa: B023
            if isinstance(score, dict):
                reward = score["score"]
                for key, value in score.items():
                    reward_extra_info[key].append(value)
            else:
                reward = score
            rewards.append(reward)
    finally:
        loop.close()
    return rewards, reward_extra_info


@pytest.mark.parametrize("name", ["compute_score", "compute_score_async"])
def test_verl_custom_reward_function_by_pkg_path(tmp_path: Path, name: str) -> None:
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps(EQUALS_TRUTH))
    compute_score = verl_get_custom_reward_fn(
        {"path": "pkg://gradergen.rewards.verl", "name": name, "reward_kwargs": {"grader": str(grader)}}
    )
    assert inspect.iscoroutinefunction(compute_score) == (name == "compute_score_async")
    rewards, extra = verl_naive(compute_score, verl_rows())
    assert rewards == [1.0, 0.0, 1.0]
    assert extra["acc"] == [1.0, 0.0, 1.0]
    assert extra["grader_failed"] == [0.0, 0.0, 0.0] and extra["grader_errors"] == ["", "", ""]
    assert set(extra) == {"score", "acc", "grader_failed", "grader_errors"}  # the same keys every response


def test_verl_an_item_field_from_extra_info_and_a_failure_flagged(tmp_path: Path) -> None:
    grader = {**EQUALS_TRUTH, "name": "by_extra", "reference": "{{ item.expected }}"}
    path = tmp_path / "grader.json"
    path.write_text(json.dumps(grader))
    compute_score = verl_get_custom_reward_fn(
        {
            "path": "pkg://gradergen.rewards.verl",
            "name": "compute_score",
            "reward_kwargs": {"grader": str(path)},
        }
    )
    rows = verl_rows()
    rows[0]["extra_info"]["expected"] = "4"
    rows[2]["extra_info"]["expected"] = "no"
    rewards, extra = verl_naive(compute_score, rows)
    assert rewards == [1.0, 0.0, 0.0]
    assert extra["grader_failed"] == [0.0, 1.0, 0.0]
    assert extra["grader_errors"] == ["", "invalid_variable_error", ""]


def test_verl_batch_reward_manager_calls_the_batch_form(tmp_path: Path) -> None:
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps(EQUALS_TRUTH))
    compute_score = verl_get_custom_reward_fn(
        {"path": "pkg://gradergen.rewards.verl", "name": "compute_score_batch", "reward_kwargs": {}}
    )
    rows = verl_rows()
    # BatchRewardManager.verify: numpy arrays from non_tensor_batch, its own reward_kwargs passed along
    data_sources = np.array([r["data_source"] for r in rows], dtype=object)
    extras = np.array([dict(r["extra_info"], rollout_reward_scores={}) for r in rows], dtype=object)
    scores = compute_score(
        data_sources=data_sources,
        solution_strs=[r["response"] for r in rows],
        ground_truths=[r["reward_model"].get("ground_truth", None) for r in rows],
        extra_infos=extras,
        grader=str(grader),
    )
    assert [s["score"] for s in scores] == [1.0, 0.0, 1.0]


def test_verl_without_a_grader_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradergen.engine import EngineError
    from gradergen.rewards.verl import compute_score

    monkeypatch.delenv("GRADERGEN_REWARD_GRADER", raising=False)
    with pytest.raises(EngineError, match=r"reward_kwargs\.grader"):
        compute_score(data_source="d", solution_str="s", ground_truth="g", extra_info={})


# ----------------------------------------------------------------------------- OpenRLHF 0.11.2
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def reward_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("openrlhf")
    grader = folder / "grader.json"
    grader.write_text(json.dumps(EQUALS_LABEL))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("GRADERGEN_REWARD_GRADER", "GRADERGEN_CONFIG")}
    process = subprocess.Popen(
        [GRADERGEN, "serve", "--port", str(port), "--api-key", "sekret",
         "--reward-grader", str(grader), "--reward-strip", "<|im_end|>", "--log-level", "warning"],
        env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while True:
        try:
            if httpx.get(f"{base}/healthz", headers={"Authorization": "Bearer sekret"}).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() - started > 60:
            output = process.stdout.read().decode() if process.stdout else ""
            process.kill()
            pytest.fail(f"gradergen serve did not start: {output}")
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(30)


def openrlhf_fetch(url: str, queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, Any]:
    """`_fetch_rewards_via_http` for one server: POST json=payload (no headers of its own), raise on an
    error status, the JSON answer."""
    payload = {"query": queries, "prompts": prompts, "labels": labels}
    response = httpx.post(url, json=payload, timeout=180)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def test_openrlhf_remote_reward_model(reward_server: str) -> None:
    url = f"{reward_server}/openrlhf/get_reward?key=sekret"
    prompts = ["<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"] * 3
    queries = [prompts[0] + "4<|im_end|>", prompts[1] + "5<|im_end|>", prompts[2] + "4"]
    answer = openrlhf_fetch(url, queries, prompts, [{"answer": "4"}] * 3)
    assert answer["rewards"] == [1.0, 0.0, 1.0]
    # SingleTurnAgentExecutor.execute: scores, or else rewards; extra_logs a mapping
    score_value = answer.get("scores")
    if score_value is None:
        score_value = answer.get("rewards")
    assert score_value == [1.0, 0.0, 1.0]
    assert answer["extra_logs"] == {"grader_failed": [0.0, 0.0, 0.0]}


def test_openrlhf_one_query_a_request_as_the_single_turn_executor_sends(reward_server: str) -> None:
    url = f"{reward_server}/openrlhf/get_reward?key=sekret"
    answer = openrlhf_fetch(url, ["Q: 1+1? A: 2"], ["Q: 1+1? A: "], ['{"answer": "2"}'])  # JSON text
    assert answer["rewards"] == [1.0] and answer["scores"] == [1.0]


def test_openrlhf_failures_are_flagged_in_place(reward_server: str) -> None:
    url = f"{reward_server}/openrlhf/get_reward?key=sekret"
    answer = openrlhf_fetch(url, ["p:x", "p:y", "p:z"], ["p:"] * 3, [{"other": "x"}, {"answer": "y"}, None])
    assert answer["rewards"] == [0.0, 1.0, 0.0]
    assert answer["gradergen"]["flags"] == [["invalid_variable_error"], [], ["invalid_variable_error"]]
    assert answer["extra_logs"]["grader_failed"] == [1.0, 0.0, 1.0]


def test_openrlhf_requests_that_are_not_its_protocol_are_refused(reward_server: str) -> None:
    url = f"{reward_server}/openrlhf/get_reward"
    assert httpx.post(url, json={"query": ["a"]}).status_code == 401  # no key
    bad = httpx.post(f"{url}?key=sekret", json={"query": "a"})
    assert bad.status_code == 400
    assert "'query' is a list of texts" in bad.json()["error"]["message"]
    short = httpx.post(f"{url}?key=sekret", json={"query": ["a", "b"], "prompts": ["a"]})
    assert short.status_code == 400 and "'prompts' is a list of 2 texts" in short.json()["error"]["message"]
    header = httpx.post(url, json={"query": ["a"], "labels": [{"answer": "a"}]},
                        headers={"Authorization": "Bearer sekret"})  # fmt: skip
    assert header.status_code == 200 and header.json()["rewards"] == [1.0]


def test_serve_refuses_a_reward_grader_that_does_not_exist(tmp_path: Path) -> None:
    done = subprocess.run(
        [GRADERGEN, "serve", "--reward-grader", str(tmp_path / "no.json")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--reward-grader: no such file" in done.stderr
