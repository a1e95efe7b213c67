"""fuzzy_match: rapidfuzz's `fuzz.ratio` / 100 — no preprocessing, case-sensitive. It reproduces the
service's published figures (the engine facts); WRatio and the other scorers do not."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import EngineError
from . import Metric


class FuzzyMatch(Metric):
    """1 - the Indel distance over the two lengths: 2·(longest common subsequence) / (len a + len b);
    two empty texts are equal (1.0)."""

    name = "fuzzy_match"

    def __init__(self) -> None:
        try:
            import numpy
            from rapidfuzz import fuzz, process
        except ImportError:
            raise EngineError(
                "fuzzy_match needs rapidfuzz and numpy: pip install 'gradergen[engine]'"
            ) from None
        self._ratio = fuzz.ratio
        self._cpdist = process.cpdist
        self._float64 = numpy.float64

    def score(self, given: str, reference: str) -> float:
        return float(self._ratio(given, reference)) / 100.0

    def score_many(self, given: Sequence[str], references: Sequence[str]) -> list[float]:
        if len(given) != len(references):
            raise ValueError("as many inputs as references are needed")
        if not given:
            return []
        # float64: cpdist's default float32 would round the ratios that `score` returns exactly.
        ratios = self._cpdist(given, references, scorer=self._ratio, dtype=self._float64, workers=-1)
        scores: list[float] = (ratios / 100.0).tolist()
        return scores
