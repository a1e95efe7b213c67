"""text_similarity's metrics, each with the scorer settings the engine pins (README: engine decisions).

A metric scores an `input` against a `reference`, 0 to 1. `score_many` scores many pairs at once, in
order, with the same results as `score` on each; batch grading and the benchmarks use it, and a metric
whose library is faster on a batch says so by overriding it. Each library is imported when its metric
is built, so that validating graders never loads nltk.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..config import EngineConfig
from ..errors import EngineError

METRICS = (
    "cosine",
    "fuzzy_match",
    "bleu",
    "gleu",
    "meteor",
    "rouge_1",
    "rouge_2",
    "rouge_3",
    "rouge_4",
    "rouge_5",
    "rouge_l",
)


class Metric(ABC):
    name: str = ""

    @abstractmethod
    def score(self, given: str, reference: str) -> float:
        """The similarity of `given` to `reference`, from 0 to 1."""

    def score_many(self, given: Sequence[str], references: Sequence[str]) -> list[float]:
        return [self.score(g, r) for g, r in zip(given, references, strict=True)]

    def note(self, given: str, reference: str) -> str | None:
        """Something a person should know about this score (a quirk of the library), or None."""
        return None


def build_metric(name: str, config: EngineConfig) -> Metric:
    """The metric called `name`, ready to score; EngineError when its library is missing."""
    if name not in METRICS:
        raise EngineError(f"unknown text_similarity metric {name!r} (metrics: {', '.join(METRICS)})")
    if name == "fuzzy_match":
        from .fuzzy import FuzzyMatch

        return FuzzyMatch()
    if name in ("bleu", "gleu", "meteor"):
        from .translation import Bleu, Gleu, Meteor

        return {"bleu": Bleu, "gleu": Gleu, "meteor": Meteor}[name]()
    if name.startswith("rouge_"):
        from .rouge import Rouge

        return Rouge(name)
    from .cosine import Cosine  # cosine similarity of embeddings, through the embeddings client

    return Cosine(config)
