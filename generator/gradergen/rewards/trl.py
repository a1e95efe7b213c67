"""TRL: a grader as a reward function of `GRPOTrainer(reward_funcs=[...])`.

    from gradergen.rewards.trl import TRLReward
    trainer = GRPOTrainer(model=..., reward_funcs=[TRLReward("grader.json")], train_dataset=...)

TRL (1.16.0, trl/trainer/grpo_trainer.py `GRPOTrainer._calculate_rewards`) calls a reward function
with keyword arguments only: `prompts` and `completions` (lists, one per completion; text, or lists
of chat messages for a conversational dataset), `completion_ids`, every other dataset column as a
list, and `trainer_state`, `log_extra`, `log_metric` (and `environments` when it has them). It wants
one float per completion, in order; None means "no reward" (NaN, left out of the sum). A reward is
named by its `__name__` (the grader's name here) in the logs (trl/trainer/utils.py
`get_callable_name`). A reward whose `__call__` is `async def` (`is_async_callable`) is awaited on
TRL's own loop beside its other async rewards: `AsyncTRLReward` (`async_trl_reward` for TRL 1.10 and
older, which check the object alone).

The grader's `item` is the dataset row: `{"prompt": …, <column>: …}`; its `sample` is the completion
(for a conversation: the last assistant message's text, its tool calls, see samples.py). A sample
that fails gets `failed_reward` (0.0, as the graders API gives; None hands TRL a NaN instead), the
batch's failures are logged, and when TRL passes `log_extra`/`log_metric` each completion's flags go
to the completions table (`<name>/errors`) and the failed fraction to the metrics (`<name>/failed`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from ..engine import EngineConfig
from .core import DEFAULT_DEADLINE, RewardBatch, Rewarder

TRAINER_ARGUMENTS = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})
"""What TRL passes besides the dataset's columns."""


class TRLReward:
    """A synchronous reward function for TRL (graded on this process's rewards loop)."""

    def __init__(
        self,
        grader: Any,
        config: EngineConfig | str | Path | None = None,
        *,
        deadline: float | None = DEFAULT_DEADLINE,
        failed_reward: float | None = 0.0,
        name: str | None = None,
    ) -> None:
        self.rewarder = Rewarder(grader, config, deadline=deadline)
        self.failed_reward = failed_reward
        self.__name__ = name or self.rewarder.name

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Any] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        samples, items, extras = _arguments(prompts, completions, columns)
        batch = self.rewarder.grade_sync(samples, items, what="completions")
        return self._answer(batch, extras)

    def _answer(self, batch: RewardBatch, extras: dict[str, Any]) -> list[float | None]:
        log_extra: Callable[[str, list[Any]], None] | None = extras.get("log_extra")
        log_metric: Callable[[str, float], None] | None = extras.get("log_metric")
        if callable(log_extra):
            log_extra(f"{self.__name__}/errors", [",".join(flags) for flags in batch.flags])
        if callable(log_metric) and len(batch):
            log_metric(f"{self.__name__}/failed", len(batch.flagged) / len(batch))
        if self.failed_reward == 0.0:
            return list(batch.rewards)
        return [self.failed_reward if f else r for r, f in zip(batch.rewards, batch.flags, strict=True)]

    def __repr__(self) -> str:
        return f"TRLReward({self.rewarder.compiled!r})"


class AsyncTRLReward(TRLReward):
    """The same, awaited by TRL on its event loop, overlapping its other async reward functions."""

    async def __call__(  # type: ignore[override]
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Any] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        samples, items, extras = _arguments(prompts, completions, columns)
        batch = await self.rewarder.grade(samples, items, what="completions")
        return self._answer(batch, extras)


def async_trl_reward(
    grader: Any,
    config: EngineConfig | str | Path | None = None,
    *,
    deadline: float | None = DEFAULT_DEADLINE,
    failed_reward: float | None = 0.0,
    name: str | None = None,
) -> Callable[..., Coroutine[Any, Any, list[float | None]]]:
    """AsyncTRLReward as an `async def` function, for TRL releases before `is_async_callable` (1.10
    and older tell async rewards apart with `inspect.iscoroutinefunction`, false for an instance)."""
    reward = TRLReward(grader, config, deadline=deadline, failed_reward=failed_reward, name=name)

    async def graded(
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Any] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        samples, items, extras = _arguments(prompts, completions, columns)
        batch = await reward.rewarder.grade(samples, items, what="completions")
        return reward._answer(batch, extras)

    graded.__name__ = graded.__qualname__ = reward.__name__
    return graded


def _arguments(
    prompts: Sequence[Any], completions: Sequence[Any], columns: dict[str, Any]
) -> tuple[list[Any], list[dict[str, Any]], dict[str, Any]]:
    """The samples, the items (one dataset row each) and TRL's own arguments."""
    count = len(completions)
    if len(prompts) != count:
        raise ValueError(
            f"{len(prompts)} prompts but {count} completions: TRL passes one prompt per completion"
        )
    extras = {k: v for k, v in columns.items() if k in TRAINER_ARGUMENTS}
    data = {k: v for k, v in columns.items() if k not in TRAINER_ARGUMENTS}
    for key, values in data.items():
        if not isinstance(values, Sequence) or isinstance(values, (str, bytes)) or len(values) != count:
            found = len(values) if isinstance(values, Sequence) else type(values).__name__
            raise ValueError(
                f"dataset column {key!r}: TRL passes a list of {count} values (one per completion), "
                f"found {found}"
            )
    items = [{"prompt": prompts[i], **{k: v[i] for k, v in data.items()}} for i in range(count)]
    return list(completions), items, extras
