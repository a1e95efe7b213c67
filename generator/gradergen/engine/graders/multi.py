"""multi: its sub-graders by key, combined by `calculate_output`.

Each sub-grader runs on the sample; the formula sees each key as that sub-grader's reward and the
result is the multi grader's reward. A sub-grader that fails scores 0 in the formula and its flags are
set on the multi grader, so the failure is never hidden in a partial reward. A formula that cannot be
computed for these rewards (a division by zero, the log of 0) sets formula_parse_error and scores 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ...language.formula import Formula, FormulaError, FormulaEvaluationError, parse_formula
from ..outcome import Outcome
from .base import Evaluator, Scope

if TYPE_CHECKING:
    from ..services import Services


class Multi(Evaluator):
    def __init__(
        self, grader: Mapping[str, Any], compile_sub: Callable[[Mapping[str, Any]], Evaluator]
    ) -> None:
        super().__init__(grader)
        self.graders = {str(key): compile_sub(sub) for key, sub in grader["graders"].items()}
        self.formula_text = str(grader["calculate_output"])
        self.formula: Formula | None
        try:
            self.formula = parse_formula(self.formula_text)
            self.formula_problem = ""
        except FormulaError as exc:  # the validator refuses these; kept for graders built by hand
            self.formula = None
            self.formula_problem = f"calculate_output at character {exc.position}: {exc.message}"

    def _combine(self, outcomes: dict[str, Outcome]) -> Outcome:
        total = Outcome()
        for key, outcome in outcomes.items():
            total.absorb(key, outcome)
        if self.formula is None:
            total.notes.append(self.formula_problem)
            return total.fail("formula_parse_error")
        try:
            total.reward = self.formula.evaluate(total.sub_rewards)
        except FormulaEvaluationError as exc:
            total.notes.append(f"calculate_output: {exc}")
            total.fail("formula_parse_error")
        except KeyError as exc:
            total.notes.append(f"calculate_output names {exc.args[0]!r}, which is not a key of graders")
            total.fail("formula_parse_error")
        return total

    def evaluate(self, scope: Scope, services: Services) -> Outcome:
        return self._combine({key: g.evaluate(scope, services) for key, g in self.graders.items()})

    async def aevaluate(self, scope: Scope, services: Services) -> Outcome:
        results = await asyncio.gather(*(g.aevaluate(scope, services) for g in self.graders.values()))
        return self._combine(dict(zip(self.graders, results, strict=True)))
