"""python: `grade(sample, item)` from the grader's source, run in the sandbox.

A number is the reward. Anything else — an exception, a value that is not a number (a bool counts as
not one), NaN or infinity — scores 0 with python_grader_runtime_error and what happened in its
details. A grade that runs past the time limit sets unresponsive_reward_error and
python_grader_server_error of type "timeout"; a sandbox that runs out of memory or whose interpreter
ends sets python_grader_server_error with the type saying which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..outcome import Outcome
from ..sandbox import PythonResult
from .base import Evaluator, Scope

if TYPE_CHECKING:
    from ..services import Services

SERVER_ERROR_TYPES = {
    "timeout": "timeout",
    "memory": "memory_limit",
    "crashed": "crashed",
    "server": "sandbox",
}


class PythonGrader(Evaluator):
    def __init__(self, grader: Mapping[str, Any], default_image: str) -> None:
        super().__init__(grader)
        self.source = str(grader["source"])
        self.image = str(grader.get("image_tag") or default_image)

    def _call(self, scope: Scope) -> tuple[dict[str, Any], Any]:
        return scope["sample"].as_dict(), scope["item"]

    def evaluate(self, scope: Scope, services: Services) -> Outcome:
        sample, item = self._call(scope)
        return outcome_of(services.sandbox().run(self.source, sample, item, self.image))

    async def aevaluate(self, scope: Scope, services: Services) -> Outcome:
        sample, item = self._call(scope)
        return outcome_of(await services.sandbox().arun(self.source, sample, item, self.image))

    def evaluate_many(self, scopes: Sequence[Scope], services: Services) -> list[Outcome]:
        """Many samples at once: the sandbox sends them to its workers in batches."""
        calls = [self._call(scope) for scope in scopes]
        return [outcome_of(r) for r in services.sandbox().run_many(self.source, calls, self.image)]


def outcome_of(result: PythonResult) -> Outcome:
    outcome = Outcome()
    outcome.notes.extend(result.notes)
    if result.failure is None and result.value is not None:
        outcome.reward = result.value
        return outcome
    if result.failure == "runtime" or result.failure is None:
        return outcome.fail(
            "python_grader_runtime_error", result.details or "", "python_grader_runtime_error_details"
        )
    if result.failure == "timeout":
        outcome.fail("unresponsive_reward_error")
    if result.details:
        outcome.notes.append(result.details)
    return outcome.fail(
        "python_grader_server_error", SERVER_ERROR_TYPES[result.failure], "python_grader_server_error_type"
    )
