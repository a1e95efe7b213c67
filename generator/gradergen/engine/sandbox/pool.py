"""SandboxPool: python graders run by warm sandboxed workers.

Every call — from `run`, `run_many` or `arun`, from any thread — goes into one queue. A dispatcher
thread owns the workers: it hands a waiting grader's calls to a worker in batches, reads each result
as it comes, and keeps a watchdog on the call that is running. A host whose event loop lives as long
as the pool (the server) may `attach` the pool to it instead: the loop then watches the workers'
pipes and does the dispatcher's work in its own thread, with no thread beside it.

A worker serves one grader source for its whole life (another grader gets a fresh worker, so no
grader sees another's data), at most `workers` of them run at once, and idle ones stay warm for their
grader until the pool needs room.

When a worker dies or hangs, the call it was running — and only that one — gets the failure
(timeout, memory, crashed) with what is known; the rest of its batch goes to another worker. A worker
that ends is replaced when there is work for it. Nothing a worker sends is trusted (protocol.py).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import hashlib
import itertools
import json
import logging
import math
import os
import selectors
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ...validation.semantics import PYTHON_IMAGE_TAGS
from ..config import ISOLATION_LEVELS, Python
from ..errors import EngineError
from . import PythonResult
from .image import Image, require
from .isolation import Limits, Machine, detect
from .process import WorkerProcess
from .protocol import ProtocolError, decode, fast_result, result_of

log = logging.getLogger("gradergen.engine.sandbox")

MAX_BATCH = 64
"""Calls sent to a worker at once: enough to make the pipe's cost small, few enough that the calls of
a big run spread over every worker."""
REFILL_AT = MAX_BATCH // 2
"""A busy worker is sent its next batch when this few of its calls are left, so that it never waits."""
CALM_PAUSE = 0.001
MAX_BATCH_BYTES = 4 << 20
MAX_CALL_BYTES = 64 << 20
SUBMIT_CHUNK = 256
START_TIMEOUT = 60.0
START_FAILURES = 3
"""Workers of an image that may fail to start in a row before its waiting calls fail."""

_POOLS: weakref.WeakSet[SandboxPool] = weakref.WeakSet()
_encode = json.JSONEncoder(separators=(",", ":")).encode


@functools.lru_cache(maxsize=256)
def _measure(source: str) -> tuple[int, str]:
    """The source's size in bytes and its digest, once per source (run() is called per sample)."""
    data = source.encode("utf-8", "surrogatepass")
    return len(data), hashlib.sha256(data).hexdigest()


@dataclass
class Waiter:
    """The caller's side of a set of calls: their results by position, and who to tell."""

    results: list[PythonResult | None]
    remaining: int
    event: threading.Event | None = None
    """Set when the last result is in, for a caller that blocks (an `arun` is told by `notify`)."""
    notify: Callable[[list[PythonResult | None]], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    """The dispatcher and the submitting thread (a sample that cannot be sent) both complete calls."""
    cancelled: bool = False
    """Nobody waits for these results any more (an `arun` was cancelled): the calls that have not run
    are dropped, and the worker running one of them is ended."""

    def complete(self, index: int, result: PythonResult) -> None:
        with self.lock:
            if self.results[index] is not None:
                return
            self.results[index] = result
            self.remaining -= 1
            done = self.remaining == 0
        if done:
            if self.event is not None:
                self.event.set()
            if self.notify is not None:
                self.notify(self.results)


class _Inbox:
    """Results for the coroutines of one event loop, handed over by the dispatcher: one wake-up of the
    loop for all the results that arrive before it runs, instead of one per result."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._items: list[Callable[[], None]] = []

    def put(self, settle: Callable[[], None]) -> None:
        with self._lock:
            first = not self._items
            self._items.append(settle)
        if first:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            items, self._items = self._items, []
        for settle in items:
            settle()


_INBOXES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox] = weakref.WeakKeyDictionary()


def _inbox(loop: asyncio.AbstractEventLoop) -> _Inbox:
    found = _INBOXES.get(loop)
    if found is None:
        found = _INBOXES[loop] = _Inbox(loop)
    return found


@dataclass
class Call:
    id: int
    key: tuple[str, str]
    source: str
    payload: bytes
    waiter: Waiter
    index: int
    notes: tuple[str, ...] = ()


class SandboxPool:
    """The `Sandbox` of the engine (see the package's __init__)."""

    def __init__(
        self,
        settings: Python,
        *,
        ceiling: str | None = None,
        samples_per_worker: int | None = None,
        warm: Sequence[str] | None = None,
    ) -> None:
        """`ceiling` caps the isolation below what the machine allows (to run or test a lower rung);
        `samples_per_worker` ends a worker after that many calls (1: a fresh process per call);
        `warm` replaces the image's list of modules imported before the first call."""
        self.settings = settings
        if settings.image not in PYTHON_IMAGE_TAGS:
            known = ", ".join(PYTHON_IMAGE_TAGS)
            raise EngineError(f"[python] image {settings.image!r} is not a known image (known: {known})")
        self.default_image = require(settings.image)
        machine = detect(self.default_image)
        if ceiling is not None:
            if ceiling not in ISOLATION_LEVELS:
                raise EngineError(
                    f"unknown isolation level {ceiling!r} (levels: {', '.join(ISOLATION_LEVELS)})"
                )
            machine = machine.capped(ceiling)
        self.machine = machine
        self._ceiling = ceiling
        self.isolation: str = machine.level
        self.isolation_detail = machine.describe()
        required = settings.require_isolation
        if required is not None and ISOLATION_LEVELS.index(self.isolation) < ISOLATION_LEVELS.index(required):
            raise EngineError(
                f"python graders need isolation {required!r}, but this machine allows only "
                f"{self.isolation!r} ({self.isolation_detail}). To get more: {machine.how_to_get_more()}"
            )
        if ISOLATION_LEVELS.index(self.isolation) < ISOLATION_LEVELS.index("namespaces"):
            log.warning(
                "python graders run with isolation %r only: a grader can read this machine's files and use "
                "its network (%s)",
                self.isolation,
                self.isolation_detail,
            )
        else:
            log.info("python graders run with isolation %r (%s)", self.isolation, self.isolation_detail)
        self.limits = Limits(
            settings.timeout, settings.memory_mb, settings.disk_mb, settings.processes, settings.cpus
        )
        self.workers = settings.workers or os.cpu_count() or 1
        self.samples_per_worker = samples_per_worker
        self.warm = tuple(warm) if warm is not None else self.default_image.warm
        self._live_max = max(2 * self.workers, 4)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._incoming: list[Call] = []
        self._pending: OrderedDict[tuple[str, str], deque[Call]] = OrderedDict()
        self._workers: list[WorkerProcess] = []
        self._start_failures: dict[str, int] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._pid = os.getpid()
        self._closed = False
        self._cancellations = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The event loop that drives the workers instead of the dispatcher thread (see `attach`)."""
        self._driver_thread: threading.Thread | None = None
        self._tick_due = False
        self._timer: asyncio.TimerHandle | None = None
        self._selector: selectors.BaseSelector | None = None
        _POOLS.add(self)

    # ------------------------------------------------------------------ the Sandbox protocol
    def run(self, source: str, sample: dict[str, Any], item: Any, image: str) -> PythonResult:
        return self.run_many(source, [(sample, item)], image)[0]

    def run_many(
        self, source: str, calls: Sequence[tuple[dict[str, Any], Any]], image: str
    ) -> list[PythonResult]:
        if not calls:
            return []
        loop = self._loop
        if loop is not None and loop.is_running() and threading.current_thread() is self._driver_thread:
            raise EngineError(
                "this sandbox pool is driven by the running event loop: call arun from it, not run"
            )
        done = threading.Event()
        waiter = Waiter([None] * len(calls), len(calls), done)
        self._submit(source, calls, image, waiter)
        done.wait()
        return [r for r in waiter.results if r is not None]

    async def arun(self, source: str, sample: dict[str, Any], item: Any, image: str) -> PythonResult:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PythonResult] = loop.create_future()
        inbox = _inbox(loop) if loop is not self._loop else None

        def settle(results: list[PythonResult | None]) -> None:
            if not future.done() and results[0] is not None:
                future.set_result(results[0])

        def notify(results: list[PythonResult | None]) -> None:
            assert inbox is not None
            inbox.put(functools.partial(settle, results))

        waiter = Waiter([None], 1, notify=settle if loop is self._loop else notify)
        self._submit(source, [(sample, item)], image, waiter)
        try:
            return await future
        except asyncio.CancelledError:  # a deadline, or a client that went away: free the sandbox
            self._cancel(waiter)
            raise

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drive the workers from `loop`, in its thread, instead of from a dispatcher thread of the
        pool's own: for a host whose event loop lives as long as the pool (the server). Its
        coroutines' calls then go to the workers and back without crossing threads, and the
        interpreter is never handed between the loop and a dispatcher at each system call. Calls from
        other threads still work, handed to the loop. Called in the loop's thread, before the first
        call."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            raise EngineError("attach a sandbox pool from the event loop that is to drive it, as it runs")
        with self._lock:
            if self._thread is not None or self._loop is not None or self._incoming:
                raise EngineError("a sandbox pool can be attached to a loop only before its first call")
            self._loop = loop
            self._driver_thread = threading.current_thread()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            loop = self._loop
        if loop is not None:
            self._close_on(loop)
        elif thread is not None and thread is not threading.current_thread():
            self._wake()
            thread.join()
        else:
            self._shutdown()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _close_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """The workers are the loop's: ended in its thread while it runs, else here (it has stopped)."""
        if threading.current_thread() is self._driver_thread or not loop.is_running():
            self._shutdown()
            return
        done = threading.Event()

        def shutdown() -> None:
            try:
                self._shutdown()
            finally:
                done.set()

        try:
            loop.call_soon_threadsafe(shutdown)
        except RuntimeError:  # closed meanwhile
            self._shutdown()
            return
        if not done.wait(START_TIMEOUT) or not loop.is_running():
            self._shutdown()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ submitting
    def _image(self, tag: str) -> tuple[Image, tuple[str, ...]]:
        if not tag or tag == self.default_image.tag:
            return self.default_image, ()
        if tag not in PYTHON_IMAGE_TAGS:
            note = f"image_tag {tag!r} is not a known image; the grader ran in {self.default_image.tag}"
            return self.default_image, (note,)
        return require(tag), ()

    def _submit(
        self, source: str, calls: Sequence[tuple[dict[str, Any], Any]], image: str, waiter: Waiter
    ) -> None:
        if os.getpid() != self._pid:
            raise EngineError("this sandbox pool belongs to another process (make one per process)")
        if self._closed:
            raise EngineError("the sandbox pool is closed")
        resolved, notes = self._image(image)
        size, digest = _measure(source)
        limit = self.settings.source_limit_kb * 1024
        if size >= limit:
            failed = PythonResult(
                None,
                "runtime",
                f"the source is {size / 1024:.0f} kB; it must be under {limit // 1024} kB",
                notes,
            )
            for index in range(len(calls)):
                waiter.complete(index, failed)
            return
        key = (resolved.tag, digest)
        ready: list[Call] = []
        for index, (sample, item) in enumerate(calls):
            call_id = next(self._ids)
            try:
                payload = _encode([call_id, sample, item]).encode("ascii")
            except (TypeError, ValueError, RecursionError) as exc:
                waiter.complete(
                    index, PythonResult(None, "server", f"the sample or item is not JSON data: {exc}", notes)
                )
                continue
            if len(payload) > MAX_CALL_BYTES:
                waiter.complete(
                    index,
                    PythonResult(
                        None, "server", f"the sample and item are {len(payload) >> 20} MB, over 64 MB", notes
                    ),
                )
                continue
            ready.append(Call(call_id, key, source, payload, waiter, index, notes))
            if len(ready) == SUBMIT_CHUNK:  # the workers start on these while the rest are encoded
                self._enqueue(ready)
                ready = []
        if ready:
            self._enqueue(ready)

    def _enqueue(self, calls: list[Call]) -> None:
        with self._lock:
            if self._closed:
                raise EngineError("the sandbox pool is closed")
            # calls already waiting mean a wake-up already sent that the dispatcher has not taken
            # them for: it takes these with them
            woken = bool(self._incoming)
            self._incoming.extend(calls)
            if self._loop is not None:
                if self._loop.is_closed():
                    raise EngineError("the event loop that drove this sandbox pool has closed")
            elif self._thread is None:
                # Workers are started from this thread only: bubblewrap ends a sandbox when the thread
                # that started it ends (--die-with-parent), so it must live as long as the pool.
                self._thread = threading.Thread(target=self._dispatch, name="gradergen-sandbox", daemon=True)
                self._thread.start()
        if not woken:
            self._wake()

    def _cancel(self, waiter: Waiter) -> None:
        waiter.cancelled = True
        with self._lock:
            self._cancellations = True
        self._wake()

    def _wake(self) -> None:
        loop = self._loop
        if loop is None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self._wake_w, b"x")
        elif threading.current_thread() is self._driver_thread:
            self._tick_soon()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: close() ends the workers
                loop.call_soon_threadsafe(self._tick_soon)

    # ------------------------------------------------------------------ the dispatcher
    def _dispatch(self) -> None:
        """The dispatcher thread: its selector's events, then a tick, until the pool closes."""
        selector = self._selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            while True:
                for key, _ in selector.select(self._next_deadline()):
                    if key.data is None:
                        with contextlib.suppress(BlockingIOError):
                            while os.read(self._wake_r, 4096):
                                pass
                        continue
                    self._handle(*key.data)
                if self._tick():
                    return
                if self._calm():
                    time.sleep(CALM_PAUSE)  # let results gather: one wake-up reads many
        except BaseException as exc:  # a bug of ours: fail what waits rather than hang it
            self._dispatcher_failed(exc)
            raise
        finally:
            self._shutdown()

    def _handle(self, worker: WorkerProcess, what: str) -> None:
        """One of a worker's pipes is ready."""
        if worker not in self._workers:
            return
        if what == "out":
            self._on_output(worker)
        elif what == "err":
            if not worker.read_errors():
                self._unwatch(worker.stderr)
        elif what == "in" and worker.flush():
            self._unwatch_write(worker)

    def _tick(self) -> bool:
        """After the pipes' events: the watchdog, the calls that came in, the workers fed. True once
        the pool is closed."""
        self._watchdog()
        with self._lock:
            incoming, self._incoming = self._incoming, []
            closed = self._closed
            cancellations, self._cancellations = self._cancellations, False
        for call in incoming:
            self._pending.setdefault(call.key, deque()).append(call)
        if closed:
            return True
        if cancellations:
            self._drop_cancelled()
        self._schedule()
        return False

    def _dispatcher_failed(self, exc: BaseException) -> None:
        log.error("the python sandbox's dispatcher failed", exc_info=exc)
        self._fail_everything(f"the sandbox's dispatcher failed: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ driven by an event loop
    def _on_ready(self, worker: WorkerProcess, what: str) -> None:
        """A loop's reader or writer callback."""
        try:
            self._handle(worker, what)
        except Exception as exc:
            self._dispatcher_failed(exc)
        self._tick_soon()
        if what == "out" and worker in self._workers and self._calm() and self._loop is not None:
            # what the dispatcher thread's sleep does when calm: results gather, one read takes many.
            # Read as they come, one at a time, they cost the loop twice the CPU a request (measured
            # with two server processes on two cores)
            self._loop.remove_reader(worker.stdout)
            self._loop.call_later(CALM_PAUSE, self._resume, worker)

    def _resume(self, worker: WorkerProcess) -> None:
        if worker in self._workers and self._loop is not None:
            self._loop.add_reader(worker.stdout, self._on_ready, worker, "out")

    def _tick_soon(self) -> None:
        """One tick at the loop's next turn, whatever asks for it meanwhile: the calls of many
        requests go to a worker in one batch."""
        if not self._tick_due and self._loop is not None:
            self._tick_due = True
            if self._calm():
                self._loop.call_later(CALM_PAUSE, self._loop_tick)
            else:
                self._loop.call_soon(self._loop_tick)

    def _loop_tick(self) -> None:
        self._tick_due = False
        try:
            if self._tick():
                self._shutdown()
                return
        except Exception as exc:
            self._dispatcher_failed(exc)
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wait = self._next_deadline()
        if wait is not None and self._loop is not None:
            self._timer = self._loop.call_later(wait, self._tick_soon)

    # ------------------------------------------------------------------ watching the pipes
    def _watch(self, fd: int, worker: WorkerProcess, what: str) -> None:
        if self._loop is not None:
            self._loop.add_reader(fd, self._on_ready, worker, what)
        else:
            assert self._selector is not None
            self._selector.register(fd, selectors.EVENT_READ, (worker, what))

    def _watch_write(self, worker: WorkerProcess) -> None:
        if self._loop is not None:
            self._loop.add_writer(worker.stdin, self._on_ready, worker, "in")
            return
        assert self._selector is not None
        try:
            self._selector.register(worker.stdin, selectors.EVENT_WRITE, (worker, "in"))
        except KeyError:
            self._selector.modify(worker.stdin, selectors.EVENT_WRITE, (worker, "in"))

    def _unwatch(self, fd: int, writing: bool = False) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError, ValueError, OSError):  # a closed loop, a closed fd
                (self._loop.remove_writer if writing else self._loop.remove_reader)(fd)
        elif self._selector is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)

    def _drop_cancelled(self) -> None:
        """Forget the calls nobody waits for: out of the queues, and a worker running one is ended."""
        for key in list(self._pending):
            queue = self._pending[key]
            kept = deque(c for c in queue if not c.waiter.cancelled)
            if len(kept) != len(queue):
                if kept:
                    self._pending[key] = kept
                else:
                    del self._pending[key]
        for worker in list(self._workers):
            self._stop_if_cancelled(worker)

    def _stop_if_cancelled(self, worker: WorkerProcess) -> None:
        """End a worker whose running call nobody waits for; the rest of its batch goes to another."""
        if not worker.calls or not worker.calls[0].waiter.cancelled:
            return
        worker.kill()
        worker.calls.popleft()
        worker.retiring = True
        self._requeue(worker)
        self._remove(worker)

    def _calm(self) -> bool:
        """Every busy worker has plenty queued: nobody waits on the dispatcher for a while."""
        busy = [w for w in self._workers if w.calls]
        return bool(busy) and all(len(w.calls) > REFILL_AT // 2 and not w.pending for w in busy)

    def _unwatch_write(self, worker: WorkerProcess) -> None:
        self._unwatch(worker.stdin, writing=True)

    def _next_deadline(self) -> float | None:
        now = time.monotonic()
        deadlines = []
        for worker in self._workers:
            if worker.calls:
                deadlines.append(worker.since + self.limits.timeout)
            elif not worker.ready:
                deadlines.append(worker.started + START_TIMEOUT)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def _watchdog(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.calls and now - worker.since > self.limits.timeout:
                worker.kill()
                self._ended(
                    worker, "timeout", f"grade ran for more than {self.limits.timeout:g} s and was stopped"
                )
            elif not worker.ready and now - worker.started > START_TIMEOUT:
                worker.kill()
                self._ended(worker, "server", f"the sandbox did not start within {START_TIMEOUT:g} s")

    def _on_output(self, worker: WorkerProcess) -> None:
        try:
            frames = worker.read()
            for body in frames or ():
                if worker not in self._workers:
                    return
                fast = fast_result(body, worker.calls[0].id) if worker.ready and worker.calls else None
                if fast is not None:
                    self._answered(worker, fast, False)
                else:
                    self._on_message(worker, decode(body))
        except ProtocolError as exc:
            worker.kill()
            self._ended(worker, "crashed", f"{exc}; the sandbox was ended")
            return
        if frames is None and worker in self._workers:
            self._ended(worker, None, None)

    def _on_message(self, worker: WorkerProcess, message: dict[str, Any]) -> None:
        if not worker.ready:
            if message != {"ready": True}:
                raise ProtocolError("the sandbox did not start as a worker")
            worker.ready = True
            self._start_failures.pop(worker.image.tag, None)
            return
        if not worker.calls:
            raise ProtocolError("the sandbox sent a result when no call was running")
        answer = result_of(message, worker.calls[0].id)
        self._answered(worker, answer.result, answer.retire)

    def _answered(self, worker: WorkerProcess, result: PythonResult, retire: bool) -> None:
        call = worker.calls.popleft()
        worker.served += 1
        worker.since = worker.last_used = time.monotonic()
        self._complete(call, result)
        if retire or (self.samples_per_worker is not None and worker.served >= self.samples_per_worker):
            worker.retiring = True
            self._requeue(worker)
            if not retire:
                self._remove(worker)
        else:
            self._stop_if_cancelled(worker)

    def _complete(self, call: Call, result: PythonResult) -> None:
        if call.notes:
            result = replace(result, notes=call.notes + result.notes)
        call.waiter.complete(call.index, result)

    def _requeue(self, worker: WorkerProcess) -> None:
        """The calls a worker was given but did not start go back to the front of their queue."""
        calls = [c for c in worker.calls if not c.waiter.cancelled]
        worker.calls.clear()
        if not calls:
            return
        queue = self._pending.setdefault(calls[0].key, deque())
        queue.extendleft(reversed(calls))
        self._pending.move_to_end(calls[0].key, last=False)

    def _ended(self, worker: WorkerProcess, failure: str | None, details: str | None) -> None:
        """The worker is gone (or is being ended): its running call gets the failure."""
        how = worker.how_it_ended()
        if worker.calls:
            call = worker.calls.popleft()
            if failure is None:
                if worker.oom_killed():
                    failure = "memory"
                    details = (
                        f"the sandbox went past its memory limit ({self.limits.memory_mb} MB) and was killed"
                    )
                elif "SIGXCPU" in how:
                    failure = "timeout"
                    details = f"grade used more than {self.limits.timeout:g} s of CPU time and was stopped"
                else:
                    failure = "crashed"
                    details = f"the interpreter ended while grading ({how}): os._exit, a signal, or a crash"
            said = worker.stderr_text()
            if said and failure in ("crashed", "server"):
                details = f"{details}\n{said}"
            self._complete(call, PythonResult(None, failure, details))  # type: ignore[arg-type]
            self._requeue(worker)
        elif not worker.ready and not worker.retiring:
            self._start_failed(worker, details or f"the sandbox ended before it was ready ({how})")
        self._remove(worker)

    def _start_failed(self, worker: WorkerProcess, why: str) -> None:
        tag = worker.image.tag
        count = self._start_failures[tag] = self._start_failures.get(tag, 0) + 1
        said = worker.stderr_text()
        why = f"{why}: {said}" if said else why
        log.warning("a python sandbox worker did not start (%d in a row): %s", count, why)
        if count >= START_FAILURES:
            self._start_failures.pop(tag, None)
            for key in [k for k in self._pending if k[0] == tag]:
                for call in self._pending.pop(key):
                    self._complete(call, PythonResult(None, "server", f"the sandbox cannot start: {why}"))

    def _remove(self, worker: WorkerProcess) -> None:
        self._unwatch(worker.stdout)
        self._unwatch(worker.stderr)
        self._unwatch_write(worker)
        if worker in self._workers:
            self._workers.remove(worker)
        worker.close()

    def _spawn(self, image: Image) -> WorkerProcess | None:
        machine = self.machine if image == self.default_image else self._machine_for(image)
        try:
            worker = WorkerProcess(image, machine, self.limits, self.warm)
        except OSError as exc:  # no process, or no control group, could be made
            why = f"the sandbox cannot start: {exc}"
            log.warning("a python sandbox worker could not be started: %s", exc)
            for key in [k for k in self._pending if k[0] == image.tag]:
                for call in self._pending.pop(key):
                    self._complete(call, PythonResult(None, "server", why))
            return None
        self._workers.append(worker)
        self._watch(worker.stdout, worker, "out")
        self._watch(worker.stderr, worker, "err")
        return worker

    def _machine_for(self, image: Image) -> Machine:
        machine = detect(image)
        return machine.capped(self._ceiling) if self._ceiling is not None else machine

    def _schedule(self) -> None:
        for busy_worker in self._workers:  # keep the busy ones fed: the next batch waits in their pipe
            bound = busy_worker.key
            waiting = self._pending.get(bound) if bound is not None else None
            if bound is not None and waiting and busy_worker.calls and len(busy_worker.calls) <= REFILL_AT:
                if not busy_worker.retiring:
                    self._start(busy_worker, bound, waiting)
                    if not waiting:
                        self._pending.pop(bound, None)
        busy = sum(1 for w in self._workers if w.calls)
        for key in list(self._pending):
            queue = self._pending.get(key)
            while queue and busy < self.workers:
                worker = self._worker_for(key)
                if worker is None:
                    self._grow(key, len(queue))
                    break
                self._start(worker, key, queue)
                busy += 1
            if not queue:
                self._pending.pop(key, None)

    def _worker_for(self, key: tuple[str, str]) -> WorkerProcess | None:
        idle = [w for w in self._workers if w.ready and not w.calls and not w.retiring]
        for worker in idle:
            if worker.key == key:
                return worker
        for worker in idle:
            if worker.key is None and worker.image.tag == key[0]:
                return worker
        return None

    def _grow(self, key: tuple[str, str], waiting: int) -> None:
        """Start workers for `key` while it has fewer than it could use."""
        tag = key[0]
        serving = sum(1 for w in self._workers if w.key == key and not w.retiring)
        starting = sum(1 for w in self._workers if not w.ready and w.image.tag == tag)
        wanted = min(self.workers, waiting) - serving - starting
        for _ in range(max(0, wanted)):
            if len(self._workers) >= self._live_max and not self._evict(key):
                return
            image = self.default_image if tag == self.default_image.tag else require(tag)
            if self._spawn(image) is None:
                return

    def _evict(self, keep: tuple[str, str]) -> bool:
        """End the least recently used idle worker of another grader, to make room."""
        idle = [w for w in self._workers if w.ready and not w.calls and w.key not in (None, keep)]
        if not idle:
            return False
        self._remove(min(idle, key=lambda w: w.last_used))
        return True

    def _start(self, worker: WorkerProcess, key: tuple[str, str], queue: deque[Call]) -> None:
        share = math.ceil(len(queue) / self.workers)
        room = MAX_BATCH
        if self.samples_per_worker is not None:
            room = min(room, self.samples_per_worker - worker.served)
        count = max(1, min(room, share))
        batch: list[Call] = []
        size = 0
        while queue and len(batch) < count and (not batch or size + len(queue[0].payload) <= MAX_BATCH_BYTES):
            call = queue.popleft()
            if call.waiter.cancelled:
                continue
            batch.append(call)
            size += len(call.payload)
        if not batch:
            return
        source = None
        if worker.key is None:
            worker.key = key
            source = batch[0].source
        worker.start_batch(batch, source)
        if worker.pending:
            self._watch_write(worker)

    def _fail_everything(self, why: str) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, []
        stranded = [c for w in self._workers for c in w.calls] + incoming
        stranded += [c for q in self._pending.values() for c in q]
        self._pending.clear()
        for worker in self._workers:
            worker.calls.clear()
        for call in stranded:
            self._complete(call, PythonResult(None, "server", why))

    def _shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._fail_everything("the sandbox pool was closed")
        for worker in list(self._workers):
            with contextlib.suppress(Exception):
                self._remove(worker)
        self._workers.clear()


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        with contextlib.suppress(Exception):
            pool.close()
