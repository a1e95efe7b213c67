"""text_similarity: how close `input` is to `reference`, from 0 to 1, by one of eleven metrics.

A score outside [0, 1] is clipped to it; a metric that fails or gives NaN sets other_error and scores 0
(README: engine decisions). `score_batch` grades many samples with one call of the metric's batch scorer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from ..outcome import Outcome
from ..sample import Sample
from .base import Evaluator, Scope, TemplateField, scope_of
from .batch import text_column, text_getter

if TYPE_CHECKING:
    from ..services import Services


class TextSimilarity(Evaluator):
    def __init__(self, grader: Mapping[str, Any]) -> None:
        super().__init__(grader)
        self.input = TemplateField(grader["input"])
        self.reference = TemplateField(grader["reference"])
        self.metric_name = str(grader["evaluation_metric"])
        self._input_getter = text_getter(self.input)
        self._reference_getter = text_getter(self.reference)

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

    def _score(self, outcome: Outcome, compute: Callable[[], float], note: str | None) -> None:
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

    def _score_columns(
        self, model_samples: Sequence[Any], items: Sequence[Any], services: Services
    ) -> list[float | Outcome] | None:
        """The common batch, scored in whole columns: every input and reference read in one pass each,
        the metric's batch scorer called once, its scores checked at once. None when any sample needs
        more care (a template with no value, a score out of range); `score_batch` then goes one by one."""
        given = text_column(self.input, model_samples, items)
        references = text_column(self.reference, model_samples, items) if given is not None else None
        if given is None or references is None or not given:
            return None
        try:
            values = services.metric(self.metric_name).score_many(given, references)
        except Exception:  # one pair fails: the general path finds which
            return None
        if len(values) != len(given):
            return None
        floats = values.tolist() if hasattr(values, "tolist") else list(values)
        if not floats or not (0.0 <= min(floats) and max(floats) <= 1.0) or any(v != v for v in floats):
            return None
        if not all(type(v) is float for v in floats):
            floats = [float(v) for v in floats]
        return floats

    def score_batch(
        self, model_samples: Sequence[Any], items: Sequence[Any], services: Services
    ) -> list[float | Outcome]:
        """Each sample's reward, or its Outcome when something went wrong (a flag is set): the same as
        `evaluate` on each, with the templates read directly where they can be and the metric's batch
        scorer called once. Notes are not collected (run one sample with `run_explained` for them)."""
        fast = self._score_columns(model_samples, items, services)
        if fast is not None:
            return fast
        results: list[float | Outcome] = [0.0] * len(model_samples)
        given: list[str] = []
        references: list[str] = []
        scored: list[int] = []
        read_input, read_reference = self._input_getter, self._reference_getter
        for i, (model_sample, item) in enumerate(zip(model_samples, items, strict=True)):
            text = read_input(model_sample, item) if read_input is not None else None
            reference = read_reference(model_sample, item) if read_reference is not None else None
            if text is None or reference is None:
                outcome = Outcome()
                texts = self._texts(scope_of(Sample(model_sample), item), outcome)
                if texts is None:
                    results[i] = outcome
                    continue
                text, reference = texts
            given.append(text)
            references.append(reference)
            scored.append(i)
        if not scored:
            return results
        metric = services.metric(self.metric_name)
        values: list[float] | None
        try:
            values = metric.score_many(given, references)
        except Exception:
            values = None  # one of the pairs fails: score them one at a time to find it
        if values is not None and len(values) != len(given):
            values = None
        for k, i in enumerate(scored):
            value = values[k] if values is not None else None
            if type(value) is float and 0.0 <= value <= 1.0:
                results[i] = value
                continue
            # NaN, out of range, not a float, or failed: the way `evaluate` scores one sample
            outcome = Outcome()
            again = (
                partial(float, value) if value is not None else partial(metric.score, given[k], references[k])
            )
            self._score(outcome, again, None)
            results[i] = outcome if outcome.failed else outcome.reward
        return results
