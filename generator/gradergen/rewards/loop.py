"""An event loop of this process's own, on a thread, for the reward functions trainers call without
one (TRL's synchronous reward functions, verl's `compute_score`): their calls from any thread run
there and overlap, and the sandbox pool answers them without a thread each. A forked child makes its
own."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_running: tuple[int, asyncio.AbstractEventLoop, threading.Thread] | None = None


def _loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    global _running
    with _lock:
        if _running is None or _running[0] != os.getpid() or not _running[2].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="gradergen-rewards", daemon=True)
            thread.start()
            _running = (os.getpid(), loop, thread)
        return _running[1], _running[2]


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on the rewards loop and wait for its result; an interrupt cancels it."""
    loop, thread = _loop()
    if threading.current_thread() is thread:
        coroutine.close()
        raise RuntimeError(
            "a synchronous reward function was called from the rewards loop: await its async form"
        )
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise
