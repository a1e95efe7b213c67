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

from ..ir.model import IR

T = TypeVar("T")
S = TypeVar("S")


def per_ir(method: Callable[[S, IR], T]) -> Callable[[S, IR], T]:
    """Memoise `method(self, ir)` for as long as `ir` lives. Ask it only once the IR is complete (and,
    for answers made of names, named): the IR must not change afterwards."""
    cache: dict[tuple[int, int], tuple[weakref.ref[IR], Any]] = {}

    @functools.wraps(method)
    def remembered(self: S, ir: IR) -> T:
        key = (id(self), id(ir))
        hit = cache.get(key)
        if hit is not None and hit[0]() is ir:
            value: T = hit[1]
            return value
        value = method(self, ir)
        cache[key] = (weakref.ref(ir, lambda _: cache.pop(key, None)), value)
        return value

    return remembered
