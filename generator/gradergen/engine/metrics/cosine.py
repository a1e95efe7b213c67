"""cosine: the cosine similarity of the two texts' embeddings.

The service embeds with `text-embedding-3-large`; locally the embeddings come from the OpenAI-compatible
endpoint of `[embeddings]` (its `model`, default text-embedding-3-large). The similarity is
a·b / (|a| |b|); text_similarity clamps it to [0, 1], so texts pointing apart score 0. An embedding of
zero length, or two of different sizes, cannot be compared and is an error (other_error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..config import EngineConfig
from ..modelcalls.embeddings import EmbeddingsClient
from . import Metric


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"embeddings of different sizes ({len(a)} and {len(b)}) cannot be compared")
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    if norms == 0.0:
        raise ValueError("an embedding of length zero has no direction to compare")
    return math.fsum(x * y for x, y in zip(a, b, strict=True)) / norms


class Cosine(Metric):
    name = "cosine"

    def __init__(self, config: EngineConfig) -> None:
        self.client = EmbeddingsClient(config.embeddings, config.cache)

    def score(self, given: str, reference: str) -> float:
        a, b = self.client.embed([given, reference])
        return cosine_similarity(a, b)

    async def ascore(self, given: str, reference: str) -> float:
        a, b = await self.client.aembed([given, reference])
        return cosine_similarity(a, b)

    def score_many(self, given: Sequence[str], references: Sequence[str]) -> list[float]:
        if len(given) != len(references):
            raise ValueError("as many inputs as references are needed")
        vectors = self.client.embed([*given, *references])
        n = len(given)
        return [cosine_similarity(vectors[i], vectors[n + i]) for i in range(n)]

    def close(self) -> None:
        self.client.close()
