"""Compiled graders kept between requests: a grader sent again (the usual case: one grader, many
samples) is neither validated nor compiled again. Keyed by the grader's canonical JSON, so key order
does not matter; bounded by the size of that JSON ([server] cache_mb)."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cachetools
import orjson

from ..engine import CompiledGrader, EngineConfig, EngineError, GraderInvalid
from ..validation import Problem, validate

MODEL_KINDS = frozenset({"score_model", "label_model"})


@dataclass(frozen=True)
class Entry:
    """What a grader compiled into: the CompiledGrader, or the validator's problems."""

    compiled: CompiledGrader | None
    problems: tuple[Problem, ...]
    kinds: frozenset[str]
    """Its type and its sub-graders' types, and "embeddings" when a text_similarity uses cosine."""
    size: int


def canonical(grader: Any) -> bytes:
    try:
        return orjson.dumps(grader, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers past 64 bits, lone surrogates: the standard library writes them
        return json.dumps(grader, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass")


def kinds_of(grader: Mapping[str, Any]) -> frozenset[str]:
    found = {str(grader.get("type"))}
    if grader.get("evaluation_metric") == "cosine":
        found.add("embeddings")
    subs = grader.get("graders")
    if isinstance(subs, Mapping):
        for sub in subs.values():
            if isinstance(sub, Mapping):
                found |= kinds_of(sub)
    return frozenset(found)


class Graders:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._budget = config.server.cache_mb << 20
        self._cache: cachetools.LRUCache[bytes, Entry] = cachetools.LRUCache(
            maxsize=max(1, self._budget), getsizeof=lambda entry: entry.size
        )
        self._lock = threading.Lock()

    def entry(self, grader: dict[str, Any]) -> Entry:
        """Compile `grader` or take it from the cache. Thread-safe: big bodies are read off the loop."""
        key = canonical(grader)
        with self._lock:
            found = self._cache.get(key)
        if found is not None:
            return found
        size = len(key) + 512
        try:
            entry = Entry(CompiledGrader(grader, self.config), (), kinds_of(grader), size)
        except GraderInvalid as exc:
            entry = Entry(None, tuple(exc.problems), kinds_of(grader), size)
        except EngineError:  # refused before validation (a request body given as the grader)
            problems = tuple(validate(grader))
            if not any(p.severity == "error" for p in problems):
                raise
            entry = Entry(None, problems, kinds_of(grader), size)
        if size <= self._budget:
            with self._lock:
                self._cache[key] = entry
        return entry

    def problems(self, grader: dict[str, Any]) -> tuple[Problem, ...]:
        """What the validator finds wrong with `grader` (empty when it is valid), for /validate: from
        the cache when /run compiled it, else validated now and not kept. Validating needs no compiled
        grader, and graders validated once (each one new, as an editor sends them) would only fill
        the cache, and so the heap that every full collection of the garbage collector walks."""
        with self._lock:
            found = self._cache.get(canonical(grader))
        problems = found.problems if found is not None else tuple(validate(grader))
        return problems if any(p.severity == "error" for p in problems) else ()

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
