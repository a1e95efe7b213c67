"""string_check: 1 when `input` and `reference` compare as the operation says, else 0.

eq and ne compare exactly; like passes when `reference` occurs in `input`, ilike the same ignoring case.
No wildcards, no trimming: the text is compared as the templates render it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..outcome import Outcome
from .base import Evaluator, Scope, TemplateField

if TYPE_CHECKING:
    from ..services import Services

OPERATIONS: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda given, reference: given == reference,
    "ne": lambda given, reference: given != reference,
    "like": lambda given, reference: reference in given,
    "ilike": lambda given, reference: reference.casefold() in given.casefold(),
}


class StringCheck(Evaluator):
    def __init__(self, grader: Mapping[str, Any]) -> None:
        super().__init__(grader)
        self.input = TemplateField(grader["input"])
        self.reference = TemplateField(grader["reference"])
        self.compare = OPERATIONS[grader["operation"]]

    def evaluate(self, scope: Scope, services: Services) -> Outcome:
        outcome = Outcome()
        given = self.input.render(scope, outcome)
        reference = self.reference.render(scope, outcome)
        if given is not None and reference is not None:
            outcome.reward = 1.0 if self.compare(given, reference) else 0.0
        return outcome

    async def aevaluate(self, scope: Scope, services: Services) -> Outcome:
        return self.evaluate(scope, services)
