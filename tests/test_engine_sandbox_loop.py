"""The sandbox pool driven by an event loop (`SandboxPool.attach`, what the server does): no dispatcher
thread, and the same results, failures, watchdog, cancellation and closing as the thread gives. Each
test attaches a pool of its own to the loop it runs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from test_engine_sandbox import BATCH_GRADER as TROUBLE
from test_engine_sandbox import SAMPLE, SETTINGS
from test_engine_sandbox import image as image  # the fixture: a built image, or a failure saying how

from gradergen.engine import EngineError
from gradergen.engine.config import DEFAULT_IMAGE, Python
from gradergen.engine.sandbox import PythonResult
from gradergen.engine.sandbox.pool import SandboxPool

pytestmark = pytest.mark.usefixtures("image")
DOUBLE = "def grade(sample, item):\n    return item['n'] * 2.0\n"
LOOPS = "def grade(sample, item):\n    while True:\n        pass\n"


def attached(test: Callable[[SandboxPool], Awaitable[Any]], settings: Python = SETTINGS) -> Any:
    """`test(pool)` on a pool attached to the running loop; the pool closed afterwards."""

    async def main() -> Any:
        pool = SandboxPool(settings)
        pool.attach(asyncio.get_running_loop())
        try:
            return await test(pool)
        finally:
            pool.close()

    return asyncio.run(main())


def test_many_calls_each_get_their_own_result_with_no_dispatcher_thread() -> None:
    async def test(pool: SandboxPool) -> list[PythonResult]:
        results = await asyncio.gather(
            *(pool.arun(DOUBLE, SAMPLE, {"n": n}, DEFAULT_IMAGE) for n in range(300))
        )
        assert pool._thread is None
        assert not [t for t in threading.enumerate() if t.name == "gradergen-sandbox"]
        return list(results)

    assert attached(test) == [PythonResult(n * 2.0) for n in range(300)]


def test_a_dead_or_hung_worker_fails_its_own_call_only() -> None:
    trouble = {3: "exit", 7: "hang", 9: "raise", 10: "exit"}

    async def test(pool: SandboxPool) -> list[PythonResult]:
        calls = [pool.arun(TROUBLE, SAMPLE, {"n": n, "do": trouble.get(n, "grade")}, DEFAULT_IMAGE)
                 for n in range(14)]  # fmt: skip
        return list(await asyncio.gather(*calls))

    results = attached(test)
    for n, result in enumerate(results):
        if trouble.get(n) == "exit":
            assert result.failure == "crashed", n
        elif trouble.get(n) == "hang":
            assert result.failure == "timeout", n  # the loop's timer ran the watchdog
        elif trouble.get(n) == "raise":
            assert result.failure == "runtime" and "RuntimeError: asked to" in (result.details or ""), n
        else:
            assert result == PythonResult(n * 2.0), n


def test_a_cancelled_call_ends_its_worker_and_the_pool_serves_on() -> None:
    async def test(pool: SandboxPool) -> PythonResult:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pool.arun(LOOPS, SAMPLE, {}, DEFAULT_IMAGE), 1.0)
        looping = [w.proc for w in pool._workers if w.key is not None and w.key[1]]
        deadline = time.monotonic() + 10
        while any(p.poll() is None for p in looping) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert all(p.poll() is not None for p in looping), "the looping worker outlived its cancelled call"
        return await pool.arun(DOUBLE, SAMPLE, {"n": 4}, DEFAULT_IMAGE)

    assert attached(test, replace(SETTINGS, timeout=60)) == PythonResult(8.0)


def test_calls_from_other_threads_are_handed_to_the_loop() -> None:
    async def test(pool: SandboxPool) -> tuple[list[PythonResult], PythonResult]:
        many = await asyncio.to_thread(
            pool.run_many, DOUBLE, [(SAMPLE, {"n": n}) for n in range(20)], DEFAULT_IMAGE
        )
        one = await asyncio.to_thread(pool.run, DOUBLE, SAMPLE, {"n": 21}, DEFAULT_IMAGE)
        return many, one

    many, one = attached(test)
    assert many == [PythonResult(n * 2.0) for n in range(20)] and one == PythonResult(42.0)


def test_a_blocking_call_from_the_loop_itself_is_refused() -> None:
    """It would wait for the loop it blocks."""

    async def test(pool: SandboxPool) -> None:
        with pytest.raises(EngineError, match="call arun"):
            pool.run(DOUBLE, SAMPLE, {"n": 1}, DEFAULT_IMAGE)

    attached(test)


def test_attach_only_from_the_running_loop_and_before_the_first_call() -> None:
    pool = SandboxPool(SETTINGS)
    try:
        other = asyncio.new_event_loop()
        with pytest.raises(EngineError, match="as it runs"):
            pool.attach(other)
        other.close()
        assert pool.run(DOUBLE, SAMPLE, {"n": 1}, DEFAULT_IMAGE) == PythonResult(2.0)

        async def late() -> None:
            pool.attach(asyncio.get_running_loop())

        with pytest.raises(EngineError, match="before its first call"):
            asyncio.run(late())
    finally:
        pool.close()


@pytest.mark.parametrize("where", ["another thread, the loop running", "after the loop has ended"])
def test_closing_leaves_no_worker_behind(where: str) -> None:
    pools: list[SandboxPool] = []

    async def main() -> list[Any]:
        pool = SandboxPool(SETTINGS)
        pools.append(pool)
        pool.attach(asyncio.get_running_loop())
        await asyncio.gather(*(pool.arun(DOUBLE, SAMPLE, {"n": n}, DEFAULT_IMAGE) for n in range(10)))
        processes = [w.proc for w in pool._workers]
        assert processes
        if where.startswith("another thread"):
            await asyncio.to_thread(pool.close)
        return processes

    processes = asyncio.run(main())
    if where.startswith("after"):
        pools[0].close()
    assert all(p.poll() is not None for p in processes)
    assert pools[0]._workers == []
    with pytest.raises(EngineError, match="closed"):
        pools[0].run(DOUBLE, SAMPLE, {}, DEFAULT_IMAGE)


def test_the_server_s_loop_drives_its_sandbox() -> None:
    from starlette.testclient import TestClient

    from gradergen.engine import EngineConfig
    from gradergen.engine.services import services_for
    from gradergen.server.app import create_app
    from gradergen.server.operations import RUN
    from gradergen.server.service import Settings

    config = EngineConfig.load(environ={}, overrides={"python": {"timeout": 30, "workers": 1}})
    grader = {
        "type": "python",
        "name": "double",
        "source": DOUBLE.replace("item['n']", "len(sample['output_text'])"),
    }
    with TestClient(create_app(Settings(config))) as client:
        answer = client.post(RUN, json={"grader": grader, "model_sample": "four"})
        sandbox = services_for(config).sandbox()
        assert sandbox._loop is not None and sandbox._thread is None
    assert answer.status_code == 200 and answer.json()["reward"] == 8.0
