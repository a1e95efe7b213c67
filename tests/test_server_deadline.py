"""The deadline and the client watch of a waiting grading (server/service.py `_within`): the grading
runs in the request's own task, a timer ends it at the deadline, a watch on the client starts only
once it has run WATCH_AFTER seconds, and nothing of either outlives the call."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gradergen.server.service import _GONE, _LATE, WATCH_AFTER, _within


class Client:
    """A client's `disconnected()`: it leaves `leaves_after` seconds after it is first watched (never,
    for None); when that was, is recorded."""

    def __init__(self, leaves_after: float | None = None) -> None:
        self.leaves_after = leaves_after
        self.watched_at: float | None = None

    async def disconnected(self) -> None:
        self.watched_at = time.monotonic()
        if self.leaves_after is None:
            await asyncio.Event().wait()
        await asyncio.sleep(self.leaves_after or 0)


class Grading:
    """A grading that takes `seconds` (forever, for None) and records whether it was cancelled."""

    def __init__(self, seconds: float | None, value: Any = 1.0) -> None:
        self.seconds, self.value = seconds, value
        self.cancelled = False

    async def run(self) -> Any:
        try:
            if self.seconds is None:
                await asyncio.Event().wait()
            await asyncio.sleep(self.seconds or 0)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return self.value


async def settled(task: asyncio.Task[Any]) -> None:
    """The request task, after `_within`, is not cancelled by anything left behind: it can still wait."""
    await asyncio.sleep(3 * WATCH_AFTER)
    assert task.cancelling() == 0


def test_a_quick_grading_answers_and_the_client_is_never_watched() -> None:
    client, grading = Client(leaves_after=0), Grading(0.001, 0.75)

    async def request() -> Any:
        result = await _within(grading.run(), 30, client.disconnected)
        await settled(asyncio.current_task())  # type: ignore[arg-type]
        return result

    assert asyncio.run(request()) == 0.75
    assert client.watched_at is None and not grading.cancelled


def test_the_deadline_ends_the_grading() -> None:
    grading = Grading(None)

    async def request() -> tuple[Any, float]:
        began = time.monotonic()
        result = await _within(grading.run(), 0.3, Client().disconnected)
        elapsed = time.monotonic() - began
        await settled(asyncio.current_task())  # type: ignore[arg-type]
        return result, elapsed

    result, elapsed = asyncio.run(request())
    assert result is _LATE and grading.cancelled
    assert 0.3 <= elapsed < 2


def test_a_deadline_shorter_than_the_watch_delay_holds() -> None:
    client, grading = Client(leaves_after=0), Grading(None)

    async def request() -> Any:
        return await _within(grading.run(), WATCH_AFTER / 4, client.disconnected)

    assert asyncio.run(request()) is _LATE and grading.cancelled
    assert client.watched_at is None


def test_a_client_that_leaves_ends_the_grading_once_watched() -> None:
    client, grading = Client(leaves_after=0.05), Grading(None)

    async def request() -> tuple[Any, float]:
        began = time.monotonic()
        result = await _within(grading.run(), 30, client.disconnected)
        await settled(asyncio.current_task())  # type: ignore[arg-type]
        assert client.watched_at is not None
        return result, client.watched_at - began

    result, watched_after = asyncio.run(request())
    assert result is _GONE and grading.cancelled
    assert watched_after >= WATCH_AFTER * 0.9


def test_a_client_gone_as_the_grading_ends_leaves_no_cancellation_behind() -> None:
    """The watch finds the client gone at the moment the grading answers: whichever wins, the request
    task is not cancelled after `_within` has returned."""
    for _ in range(5):
        client, grading = Client(leaves_after=0), Grading(WATCH_AFTER)

        async def request() -> Any:
            result = await _within(grading.run(), 30, client.disconnected)  # noqa: B023
            await settled(asyncio.current_task())  # type: ignore[arg-type]
            return result

        assert asyncio.run(request()) in (1.0, _GONE)


def test_a_request_cancelled_from_outside_is_cancelled() -> None:
    """The server stopping cancels the request: that is not a deadline, and it is not swallowed."""
    grading = Grading(None)

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(_within(grading.run(), 30, Client().disconnected))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert grading.cancelled


def test_a_request_cancelled_from_outside_after_the_deadline_fired_is_cancelled() -> None:
    grading = Grading(None)

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(_within(grading.run(), 0.05, Client().disconnected))
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, task.cancel)  # in the same turn as the deadline, or just after it
        try:
            result = await task
        except asyncio.CancelledError:
            return
        assert result is _LATE

    asyncio.run(main())
    assert grading.cancelled
