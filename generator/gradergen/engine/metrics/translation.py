"""BLEU, GLEU and METEOR as nltk computes them, with the settings Microsoft's local evaluators use (the
engine facts reproduce the published figures with them).

Texts are split into tokens by `nltk.word_tokenize(text, preserve_line=True)`: the Treebank tokenizer
without the punkt sentence splitter, which no package registry ships (the two differ only across
sentence breaks). nltk is imported when a metric is built, never before: `gradergen validate` and the
other metrics do not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from ..errors import EngineError
from . import Metric, wordnet

METEOR_ALPHA, METEOR_BETA, METEOR_GAMMA = 0.9, 3.0, 0.5
_MEMO_SIZE = 1 << 16
"""Entries kept by METEOR's memo of stems and synsets (pure functions of a word)."""


def _word_tokenize(metric: str) -> Callable[[str], list[str]]:
    try:
        import nltk
    except ImportError:
        raise EngineError(f"the {metric} metric needs nltk: pip install 'gradergen[engine]'") from None
    tokenize = nltk.word_tokenize

    def split(text: str) -> list[str]:
        tokens: list[str] = tokenize(text, preserve_line=True)
        return tokens

    return split


class TokenMetric(Metric):
    """A metric of the two texts' tokens."""

    def __init__(self) -> None:
        self._tokenize = _word_tokenize(self.name)

    def score_tokens(self, given: list[str], reference: list[str]) -> float:
        raise NotImplementedError

    def score(self, given: str, reference: str) -> float:
        return self.score_tokens(self._tokenize(given), self._tokenize(reference))

    def score_many(self, given: Sequence[str], references: Sequence[str]) -> list[float]:
        if len(given) != len(references):
            raise ValueError("as many inputs as references are needed")
        tokenize, score = self._tokenize, self.score_tokens
        scores: list[float] = []
        last: str | None = None
        last_tokens: list[str] = []
        for text, reference in zip(given, references, strict=True):
            if reference != last:  # the samples of one prompt, side by side, share its reference
                last, last_tokens = reference, tokenize(reference)
            scores.append(score(tokenize(text), last_tokens))
        return scores

    def note(self, given: str, reference: str) -> str | None:
        empty = [what for what, text in (("input", given), ("reference", reference)) if not text.strip()]
        if empty:
            return f"{self.name}: the {' and the '.join(empty)} has no words, so the score is 0"
        return None


class Bleu(TokenMetric):
    """nltk `sentence_bleu([reference], input)`: up to 4-grams, equal weights, smoothing method 4."""

    name = "bleu"

    def __init__(self) -> None:
        super().__init__()
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

        self._bleu = sentence_bleu
        self._smoothing = SmoothingFunction().method4

    def score_tokens(self, given: list[str], reference: list[str]) -> float:
        return float(self._bleu([reference], given, smoothing_function=self._smoothing))


class Gleu(TokenMetric):
    """nltk `sentence_gleu([reference], input)`: 1- to 4-grams, the lesser of precision and recall."""

    name = "gleu"

    def __init__(self) -> None:
        super().__init__()
        from nltk.translate.gleu_score import sentence_gleu

        self._gleu = sentence_gleu

    def score_tokens(self, given: list[str], reference: list[str]) -> float:
        return float(self._gleu([reference], given))


class _MemoStemmer:
    """nltk's Porter stemmer, remembering the words it has stemmed."""

    def __init__(self) -> None:
        from nltk.stem.porter import PorterStemmer

        self.stem: Callable[[str], str] = lru_cache(maxsize=_MEMO_SIZE)(PorterStemmer().stem)


class _MemoWordNet:
    """The WordNet reader as METEOR uses it (`synsets(word)`), remembering the words looked up."""

    def __init__(self, reader: Any) -> None:
        self.synsets: Callable[[str], list[Any]] = lru_cache(maxsize=_MEMO_SIZE)(reader.synsets)


class Meteor(TokenMetric):
    """nltk `meteor_score([reference], input, alpha=0.9, beta=3.0, gamma=0.5)`: exact, Porter-stem
    and WordNet-synonym matches of the lowercased tokens, with a fragmentation penalty."""

    name = "meteor"

    def __init__(self) -> None:
        super().__init__()
        from nltk.translate.meteor_score import meteor_score

        self._meteor = meteor_score
        self._wordnet = _MemoWordNet(wordnet.load())
        self._stemmer = _MemoStemmer()

    def score_tokens(self, given: list[str], reference: list[str]) -> float:
        return float(
            self._meteor(
                [reference],
                given,
                stemmer=self._stemmer,
                wordnet=self._wordnet,
                alpha=METEOR_ALPHA,
                beta=METEOR_BETA,
                gamma=METEOR_GAMMA,
            )
        )
