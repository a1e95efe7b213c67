"""One grader as the reward every popular RL trainer expects, in input order, failures reported:

    gradergen.rewards.trl.TRLReward(grader)          TRL: GRPOTrainer(reward_funcs=[...]) (AsyncTRLReward)
    gradergen.rewards.verl.compute_score            verl: custom_reward_function (pkg://gradergen.rewards.verl)
    gradergen serve --reward-grader FILE             OpenRLHF: --reward.remote_url http://HOST:PORT/openrlhf/get_reward
    await gradergen.rewards.grade_batch(grader, completions, items, deadline=60)   anything else

Each keeps its compiled grader, and the process's warm sandbox pool, for the life of the process.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_DEADLINE", "RewardBatch", "Rewarder", "grade_batch", "grade_batch_detailed"]


def __getattr__(name: str) -> Any:
    if name in ("DEFAULT_DEADLINE", "RewardBatch", "Rewarder"):
        from . import core

        return getattr(core, name)
    if name in ("grade_batch", "grade_batch_detailed"):
        from . import batch

        return getattr(batch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
