"""Remembering what a naming table works out about a whole IR, so that asking again is free.

A table is one object shared by every run, while its questions (which prefix every type takes, which
fields get a second name) are about one IR and are asked once per field: answering each from scratch
would make generation quadratic in the size of the spec.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
S = TypeVar("S")
K = TypeVar("K")


def per_ir(method: Callable[[S, K], T]) -> Callable[[S, K], T]:
    """Memoise `method(self, ir)` for as long as `ir` lives: an IR, which does not change once built,
    or a language's `Names` of one, for answers made of names (ask only once the names it reads are
    recorded)."""
    cache: dict[tuple[int, int], tuple[weakref.ref[Any], Any]] = {}

    @functools.wraps(method)
    def remembered(self: S, ir: K) -> T:
        key = (id(self), id(ir))
        hit = cache.get(key)
        if hit is not None and hit[0]() is ir:
            value: T = hit[1]
            return value
        value = method(self, ir)
        cache[key] = (weakref.ref(ir, lambda _: cache.pop(key, None)), value)
        return value

    return remembered
