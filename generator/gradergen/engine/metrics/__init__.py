"""text_similarity's metrics, each with the scorer settings the engine pins (README: engine decisions).

A metric scores an `input` against a `reference`, 0 to 1. `score_many` scores many pairs at once, in
order; batch grading and the benchmarks use it, and a metric whose library is faster on a batch says so
by overriding it.
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


class FuzzyMatch(Metric):
    """rapidfuzz's `fuzz.ratio` / 100: no preprocessing, case-sensitive (reproduces the service's
    published figures; see the engine facts)."""

    name = "fuzzy_match"

    def __init__(self) -> None:
        try:
            from rapidfuzz import fuzz, process
        except ImportError:
            raise EngineError("fuzzy_match needs rapidfuzz: pip install 'gradergen[engine]'") from None
        self._ratio = fuzz.ratio
        self._process = process

    def score(self, given: str, reference: str) -> float:
        return float(self._ratio(given, reference)) / 100.0

    def score_many(self, given: Sequence[str], references: Sequence[str]) -> list[float]:
        if len(given) != len(references):
            raise ValueError("as many inputs as references are needed")
        if not given:
            return []
        scores = self._process.cpdist(given, references, scorer=self._ratio, workers=-1)
        return [float(s) / 100.0 for s in scores]


def build_metric(name: str, config: EngineConfig) -> Metric:
    """The metric called `name`, ready to score."""
    if name == "fuzzy_match":
        return FuzzyMatch()
    if name == "cosine":
        from .cosine import Cosine

        return Cosine(config)
    if name not in METRICS:
        raise EngineError(f"unknown text_similarity metric {name!r} (metrics: {', '.join(METRICS)})")
    raise EngineError(f"the {name} metric is not available in this build")
