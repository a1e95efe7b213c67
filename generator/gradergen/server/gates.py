"""Bounded admission to the pools that make requests wait: the python sandbox and the model calls.
A pool takes as many requests as it runs at once plus its queue; past that a request gets 429 with
Retry-After at once, instead of waiting without bound. Counted per server process, on its event loop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ApiError


class Gate:
    def __init__(self, name: str, running: int, waiting: int, retry_after: int) -> None:
        self.name = name
        self.running = running
        self.capacity = running + waiting
        self.retry_after = retry_after
        self.active = 0
        self.refused = 0

    @contextmanager
    def admitted(self) -> Iterator[None]:
        if self.active >= self.capacity:
            self.refused += 1
            raise ApiError(
                429,
                "rate_limit_exceeded",
                f"The {self.name} is busy: {self.active} requests are running or waiting, its limit "
                f"({self.running} at once and {self.capacity - self.running} waiting). Retry after "
                f"{self.retry_after} s.",
                type_="requests",
                headers={"Retry-After": str(self.retry_after)},
            )
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1

    def status(self) -> dict[str, int]:
        return {"active": self.active, "capacity": self.capacity, "refused": self.refused}
