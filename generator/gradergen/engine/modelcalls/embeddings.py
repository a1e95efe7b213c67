"""Embeddings from an OpenAI-compatible `/embeddings` endpoint (`[embeddings]`), for the cosine metric.

Texts already embedded come from the cache; the rest go in one request per batch of up to 256 texts,
with `encoding_format: "float"` (servers of your own do not all speak base64, the openai package's
default). A call that fails after the client's retries raises EmbeddingsFailed saying why.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Sequence
from typing import Any

from ..config import Cache as CacheSettings
from ..config import Embeddings
from .cache import Cache, CacheError, key_of
from .clients import Connection

BATCH = 256
log = logging.getLogger(__name__)


class EmbeddingsFailed(Exception):
    """No usable embeddings came back."""


class EmbeddingsClient:
    def __init__(self, settings: Embeddings, cache: CacheSettings) -> None:
        self.model = settings.model
        self.connection = Connection(
            settings.base_url,
            settings.api_key_env,
            settings.timeout,
            settings.max_retries,
            "embeddings",
        )
        self.cache = Cache(cache.file) if cache.enabled else None

    def _key(self, text: str) -> str:
        return key_of("embedding", self.connection.base_url, self.model, text)

    def _lookup(self, texts: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        if self.cache is None:
            return found
        for text in dict.fromkeys(texts):
            try:
                vector = self.cache.vector(self._key(text))
            except CacheError as exc:
                log.warning("%s", exc)
                return found
            if vector is not None:
                found[text] = vector
        return found

    def _keep(self, vectors: dict[str, list[float]]) -> None:
        if self.cache is None:
            return
        for text, vector in vectors.items():
            try:
                self.cache.store_vector(self._key(text), vector)
            except CacheError as exc:
                log.warning("%s", exc)
                return

    def _request(self, batch: list[str]) -> dict[str, Any]:
        return {"model": self.model, "input": batch, "encoding_format": "float"}

    def _vectors(self, batch: list[str], body: bytes) -> dict[str, list[float]]:
        where = self.connection.base_url
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError):
            raise EmbeddingsFailed(f"{where} sent an answer that is not an embeddings list") from None
        if (
            not isinstance(data, list)
            or len(data) != len(batch)
            or not all(isinstance(d, dict) for d in data)
        ):
            raise EmbeddingsFailed(f"{where} did not send one embedding for each of {len(batch)} texts")
        out: dict[str, list[float]] = {}
        for text, item in zip(batch, sorted(data, key=lambda d: _index(d.get("index"))), strict=True):
            vector = item.get("embedding")
            if not isinstance(vector, list) or not all(_is_number(x) for x in vector):
                raise EmbeddingsFailed(f"{where} sent an embedding that is not a list of numbers")
            out[text] = [float(x) for x in vector]
        return out

    def _batches(self, texts: Sequence[str], found: dict[str, list[float]]) -> list[list[str]]:
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        return [missing[i : i + BATCH] for i in range(0, len(missing), BATCH)]

    def _failed(self, exc: Exception) -> EmbeddingsFailed:
        detail, _ = self.connection.describe_failure(exc)
        return EmbeddingsFailed(f"embeddings of {self.model}: {detail}")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The embedding of each text, in order."""
        found = self._lookup(texts)
        for batch in self._batches(texts, found):
            request = self._request(batch)
            try:
                answer = self.connection.call_sync(functools.partial(_create, request=request))
            except Exception as exc:  # the openai package's errors, and whatever else its transport raises
                raise self._failed(exc) from None
            fresh = self._vectors(batch, answer.content)
            self._keep(fresh)
            found.update(fresh)
        return [found[t] for t in texts]

    async def aembed(self, texts: Sequence[str]) -> list[list[float]]:
        found = await asyncio.to_thread(self._lookup, texts)
        for batch in self._batches(texts, found):
            request = self._request(batch)
            try:
                answer = await self.connection.call(functools.partial(_create, request=request))
            except Exception as exc:
                raise self._failed(exc) from None
            fresh = self._vectors(batch, answer.content)
            await asyncio.to_thread(self._keep, fresh)
            found.update(fresh)
        return [found[t] for t in texts]

    def close(self) -> None:
        self.connection.close()
        if self.cache is not None:
            self.cache.close()


def _create(client: Any, request: dict[str, Any]) -> Any:
    return client.embeddings.with_raw_response.create(**request)


def _index(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
