"""verl: a grader as verl's custom reward function.

    reward.custom_reward_function.path=pkg://gradergen.rewards.verl
    reward.custom_reward_function.name=compute_score          # or compute_score_async
    +reward.custom_reward_function.reward_kwargs.grader=/abs/path/grader.json

verl (0.9.1, `verl.trainer.ppo.reward.get_custom_reward_fn`) loads the function named `name` from the
module at `path` and calls it with `reward_kwargs` merged in. Its reward managers call it once per
response with keyword arguments `data_source`, `solution_str` (the decoded response), `ground_truth`
(the row's `reward_model.ground_truth`) and `extra_info` (the row's `extra_info`, with `num_turns`
and `rollout_reward_scores` added); an `async def` one is awaited on the manager's loop. A dict it
returns gives the reward as `score` and every other key to `reward_extra_info`, whose keys must be
the same for every response. verl's batch reward manager calls `compute_score_batch` instead, with
the plural names and lists.

The grader's `sample` is `solution_str`; its `item` is `extra_info` with `data_source` and
`ground_truth` added. The grader — `grader=` (from reward_kwargs), else $GRADERGEN_REWARD_GRADER — is
compiled once per process and keeps its sandbox pool warm: verl's Ray reward workers call this
thousands of times without starting a sandbox again. The answer is
`{"score", "acc", "grader_failed", "grader_errors"}`: `acc` is the score (what verl reports for a
float), `grader_failed` 1.0 for a failed sample (its mean is the failure rate), `grader_errors` its
flags, comma-separated ("" when none).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..engine import EngineConfig, EngineError
from .core import DEFAULT_DEADLINE, RewardBatch, Rewarder, shared_rewarder

GRADER_VARIABLE = "GRADERGEN_REWARD_GRADER"
CONFIG_VARIABLE = "GRADERGEN_CONFIG"


def _rewarder(grader: Any, config: EngineConfig | str | Path | None, deadline: float | None) -> Rewarder:
    grader = grader if grader is not None else os.environ.get(GRADER_VARIABLE)
    if grader is None:
        raise EngineError(
            "no grader for the reward: set reward_kwargs.grader "
            f"(+reward.custom_reward_function.reward_kwargs.grader=/path/grader.json) or ${GRADER_VARIABLE}"
        )
    return shared_rewarder(grader, config, deadline)


def _item(data_source: Any, ground_truth: Any, extra_info: Any) -> dict[str, Any]:
    if extra_info is not None and not isinstance(extra_info, Mapping):
        raise TypeError(f"extra_info is a mapping (the row's extra_info), not {type(extra_info).__name__}")
    return {**(extra_info or {}), "data_source": data_source, "ground_truth": ground_truth}


def _answers(batch: RewardBatch) -> list[dict[str, Any]]:
    return [
        {
            "score": reward,
            "acc": reward,
            "grader_failed": 1.0 if flags else 0.0,
            "grader_errors": ",".join(flags),
        }
        for reward, flags in zip(batch.rewards, batch.flags, strict=True)
    ]


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    grader: Any = None,
    config: EngineConfig | str | Path | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    **_: Any,
) -> dict[str, Any]:
    """One response's reward (verl's naive, dapo and limited managers; verl's thread pool calls it)."""
    rewarder = _rewarder(grader, config, deadline)
    batch = rewarder.grade_sync(
        [solution_str], [_item(data_source, ground_truth, extra_info)], what="solution_str"
    )
    return _answers(batch)[0]


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    grader: Any = None,
    config: EngineConfig | str | Path | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    **_: Any,
) -> dict[str, Any]:
    """The same, awaited on the reward manager's event loop."""
    rewarder = _rewarder(grader, config, deadline)
    batch = await rewarder.grade(
        [solution_str], [_item(data_source, ground_truth, extra_info)], what="solution_str"
    )
    return _answers(batch)[0]


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    grader: Any = None,
    config: EngineConfig | str | Path | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    **_: Any,
) -> list[dict[str, Any]]:
    """A whole batch at once (verl's batch reward manager): one answer per response, in order."""
    count = len(solution_strs)
    infos: Sequence[Any] = extra_infos if extra_infos is not None else [None] * count
    for name, values in (
        ("data_sources", data_sources),
        ("ground_truths", ground_truths),
        ("extra_infos", infos),
    ):
        if len(values) != count:
            raise ValueError(
                f"{len(values)} {name} but {count} solution_strs: verl passes one of each per response"
            )
    items = [_item(d, g, e) for d, g, e in zip(data_sources, ground_truths, infos, strict=True)]
    rewarder = _rewarder(grader, config, deadline)
    return _answers(rewarder.grade_sync(list(solution_strs), items, what="solution_strs"))
