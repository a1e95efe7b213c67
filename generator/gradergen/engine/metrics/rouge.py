"""ROUGE-1 … ROUGE-5 and ROUGE-L: the F-measure of rouge-score 0.1.2's `RougeScorer([type],
use_stemmer=False)`, computed by rouge-score-rs, a Rust implementation of the same scorer.

rouge-score-rs is used because it gives rouge-score's numbers exactly — tests/test_engine_metrics.py
checks it on 10,000 random pairs, quirks included — at many times the speed, and scores a batch on every
core. The tokenizer is rouge-score's: lowercase, then only runs of a-z and 0-9 are tokens, so text in
other scripts has no tokens at all (two identical Chinese strings score 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import EngineError
from . import Metric

ROUGE_TYPES = {
    "rouge_1": "rouge1",
    "rouge_2": "rouge2",
    "rouge_3": "rouge3",
    "rouge_4": "rouge4",
    "rouge_5": "rouge5",
    "rouge_l": "rougeL",
}
"""text_similarity's metric name → rouge-score's type."""


def _scorer(rouge_type: str) -> Any:
    try:
        import rouge_score_rs
    except ImportError:
        raise EngineError("the rouge metrics need rouge-score-rs: pip install 'gradergen[engine]'") from None
    scorer_class: Any = rouge_score_rs.RougeScorer  # untyped
    return scorer_class([rouge_type], use_stemmer=False)


def dropped_characters(text: str) -> str:
    """The letters and digits of `text` that rouge-score's tokenizer drops (those outside a-z, 0-9
    once lowercased), each once, in order."""
    if text.isascii():
        return ""
    seen: dict[str, None] = {}
    for ch in text.lower():
        if ch.isalnum() and not ch.isascii():
            seen.setdefault(ch, None)
    return "".join(seen)


class Rouge(Metric):
    def __init__(self, name: str) -> None:
        self.name = name
        self.rouge_type = ROUGE_TYPES[name]
        self._scorer = _scorer(self.rouge_type)

    def score(self, given: str, reference: str) -> float:
        # rouge-score's (target, prediction): the reference is the target.
        return float(self._scorer.score(reference, given)[self.rouge_type].fmeasure)

    def score_many(self, given: Sequence[str], references: Sequence[str]) -> list[float]:
        if len(given) != len(references):
            raise ValueError("as many inputs as references are needed")
        kind = self.rouge_type
        return [float(s[kind].fmeasure) for s in self._scorer.score_batch(list(references), list(given))]

    def note(self, given: str, reference: str) -> str | None:
        dropped = dropped_characters(given + reference)
        if dropped:
            sample = dropped[:12] + ("…" if len(dropped) > 12 else "")
            return (
                f"{self.name}: rouge-score's tokenizer keeps only a-z and 0-9 and dropped these "
                f"characters before scoring: {sample} (text in other scripts scores 0, even against itself)"
            )
        return None
