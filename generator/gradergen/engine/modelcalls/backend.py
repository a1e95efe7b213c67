"""The model backend of score_model and label_model: one OpenAI-compatible API (`[models]`), its model
map, a limit on calls in flight shared by threads and event loops, and the reply cache.

`complete(request)` / `acomplete(request)` give the model's `Reply`, from the cache when the same request
was answered before, or raise `ModelCallFailed` when no reply came (after the client's retries).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..config import Cache as CacheSettings
from ..config import Models
from ..errors import EngineError
from .cache import Cache, CacheError, key_of
from .clients import Connection
from .reply import MalformedReply, ModelCallFailed, Reply, reply_of
from .request import ChatRequest


class ModelBackend:
    def __init__(self, models: Models, cache: CacheSettings) -> None:
        self.models = models
        self.connection = Connection(
            models.base_url, models.api_key_env, models.timeout, models.max_retries, "models"
        )
        self.cache = Cache(cache.file) if cache.enabled else None
        try:
            import aiologic
        except ImportError:
            raise EngineError("model graders need aiologic: pip install 'gradergen[engine]'") from None
        self._limit = aiologic.BoundedSemaphore(models.concurrency)

    def _prepare(self, request: ChatRequest) -> tuple[str, dict[str, Any], str]:
        served = self.models.model_for(request.model)
        body = request.body(served)
        return served, body, key_of(self.connection.base_url, body)

    def _cached(self, key: str, notes: list[str]) -> Reply | None:
        if self.cache is None:
            return None
        try:
            found = self.cache.reply(key)
        except CacheError as exc:
            notes.append(str(exc))
            return None
        if found is None:
            return None
        try:
            reply = Reply.from_stored(found)
        except (KeyError, TypeError):
            return None
        return reply

    def _store(self, key: str, reply: Reply, notes: list[str]) -> None:
        if self.cache is not None:
            try:
                self.cache.store_reply(key, reply.stored())
            except CacheError as exc:
                notes.append(str(exc))

    def _failed(self, exc: Exception) -> ModelCallFailed:
        detail, timed_out = self.connection.describe_failure(exc)
        return ModelCallFailed(detail, timed_out)

    def _reply(self, body: bytes, served: str) -> Reply:
        try:
            return reply_of(body, served)
        except MalformedReply as exc:
            raise ModelCallFailed(f"{self.connection.base_url} sent {exc}", False) from None

    def cached(self, request: ChatRequest) -> Reply | None:
        """The reply the cache holds for `request`, if any, without calling anything (a dry run asks)."""
        _, _, key = self._prepare(request)
        return self._cached(key, [])

    def complete(self, request: ChatRequest, notes: list[str] | None = None) -> Reply:
        """The reply to `request`; what a person should know (a cache that failed) goes to `notes`."""
        notes = [] if notes is None else notes
        served, body, key = self._prepare(request)
        cached = self._cached(key, notes)
        if cached is not None:
            return cached
        with self._limit:
            try:
                answer = self.connection.call_sync(
                    lambda client: client.chat.completions.with_raw_response.create(**body)
                )
            except Exception as exc:  # the openai package's errors, and whatever else its transport raises
                raise self._failed(exc) from None
        reply = self._reply(answer.content, served)
        self._store(key, reply, notes)
        return reply

    async def acomplete(self, request: ChatRequest, notes: list[str] | None = None) -> Reply:
        notes = [] if notes is None else notes
        served, body, key = self._prepare(request)
        cached = await asyncio.to_thread(self._cached, key, notes) if self.cache is not None else None
        if cached is not None:
            return cached
        async with self._limit:
            try:
                answer = await self.connection.call(
                    lambda client: client.chat.completions.with_raw_response.create(**body)
                )
            except Exception as exc:
                raise self._failed(exc) from None
        reply = self._reply(answer.content, served)
        if self.cache is not None:
            await asyncio.to_thread(self._store, key, reply, notes)
        return reply

    def close(self) -> None:
        self.connection.close()
        if self.cache is not None:
            self.cache.close()
