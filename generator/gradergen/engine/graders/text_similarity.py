"""text_similarity: how close `input` is to `reference`, from 0 to 1, by one of eleven metrics."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..outcome import Outcome
from .base import Evaluator, Scope, TemplateField

if TYPE_CHECKING:
    from ..services import Services


class TextSimilarity(Evaluator):
    def __init__(self, grader: Mapping[str, Any]) -> None:
        super().__init__(grader)
        self.input = TemplateField(grader["input"])
        self.reference = TemplateField(grader["reference"])
        self.metric_name = str(grader["evaluation_metric"])

    def _texts(self, scope: Scope, outcome: Outcome) -> tuple[str, str] | None:
        given = self.input.render(scope, outcome)
        reference = self.reference.render(scope, outcome)
        return None if given is None or reference is None else (given, reference)

    def evaluate(self, scope: Scope, services: Services) -> Outcome:
        outcome = Outcome()
        texts = self._texts(scope, outcome)
        if texts is not None:
            metric = services.metric(self.metric_name)
            self._score(outcome, lambda: metric.score(*texts), metric.note(*texts))
        return outcome

    async def aevaluate(self, scope: Scope, services: Services) -> Outcome:
        outcome = Outcome()
        texts = self._texts(scope, outcome)
        if texts is not None:
            metric = services.metric(self.metric_name)
            ascore = getattr(metric, "ascore", None)
            if ascore is not None:
                try:
                    value = await ascore(*texts)
                except Exception as exc:
                    outcome.notes.append(f"{self.metric_name}: {exc}")
                    return outcome.fail("other_error")
                self._score(outcome, lambda: value, metric.note(*texts))
            else:
                scored = await asyncio.to_thread(self.evaluate, scope, services)
                return scored
        return outcome

    def _score(self, outcome: Outcome, compute: Any, note: str | None) -> None:
        try:
            value = float(compute())
        except Exception as exc:
            outcome.notes.append(f"{self.metric_name}: {exc}")
            outcome.fail("other_error")
            return
        if math.isnan(value):
            outcome.notes.append(f"{self.metric_name} gave NaN")
            outcome.fail("other_error")
            return
        outcome.reward = min(1.0, max(0.0, value))
        if note:
            outcome.notes.append(note)
