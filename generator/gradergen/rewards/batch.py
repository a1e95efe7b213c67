"""Rewards for any trainer: an async batch function.

    rewards = await grade_batch(grader, completions, items, deadline=60)
    batch = await grade_batch_detailed(grader, completions, items)   # rewards, flags, details, late

`grader` is a Rewarder, a compiled grader, a grader or a grader file's path; the compiled grader
(and its warm sandbox pool) is kept for the process, so calling these every step costs no start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import EllipsisType
from typing import Any

from ..engine import CompiledGrader, EngineConfig
from .core import RewardBatch, Rewarder, shared_rewarder


def _rewarder(grader: Any, config: EngineConfig | str | Path | None) -> Rewarder:
    if isinstance(grader, Rewarder):
        return grader
    if isinstance(grader, CompiledGrader):
        return Rewarder(grader)
    return shared_rewarder(grader, config)


async def grade_batch_detailed(
    grader: Any,
    samples: Sequence[Any],
    items: Sequence[Any] | None = None,
    *,
    deadline: float | EllipsisType | None = ...,
    config: EngineConfig | str | Path | None = None,
) -> RewardBatch:
    """The rewards of `samples` in input order, with each sample's flags and what went wrong; a sample
    that misses `deadline` (seconds for the whole batch; default 300) scores 0, flagged."""
    return await _rewarder(grader, config).grade(samples, items, deadline=deadline)


async def grade_batch(
    grader: Any,
    samples: Sequence[Any],
    items: Sequence[Any] | None = None,
    *,
    deadline: float | EllipsisType | None = ...,
    config: EngineConfig | str | Path | None = None,
) -> list[float]:
    """The rewards of `samples`, in input order, one per sample; failures score 0 and are logged."""
    return (await grade_batch_detailed(grader, samples, items, deadline=deadline, config=config)).rewards
