"""One forked worker process that runs the generation steps while the main process renders templates.

The worker never outlives the generation: an error in either process, or a signal to the main one, ends
both. The main process kills the worker when it leaves `background()` for any reason (without waiting
for a step to finish), and on Linux the kernel kills the worker if the main process dies without
getting the chance (SIGKILL). The worker ignores SIGINT, which a terminal sends to both: the main
process decides when it stops. Otherwise a worker blocked on its pipe would hold the caller's output
open, and whoever reads that output would wait forever.

The signals that end a run are held (blocked) while the worker is forked: Python's own at-fork
callbacks (logging's, for one) run Python code in the main process around fork(), and an exception
a signal handler raises in one of them is only printed, so the signal would be lost and the run
would go on to the end. Held, the signal waits in the kernel and is raised once the fork is done.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any

from .errors import GradergenError

PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>: the signal the kernel sends this process when its parent dies."""

Job = tuple[Callable[..., Any], tuple[Any, ...]]

HELD = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
"""The signals that end a run, which must not arrive while the main process forks."""


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold the signals that end a run in the kernel for the duration of the block: one that arrives
    meanwhile is handled as the block ends (its handler raises there). One already received is raised
    on entry, before anything is held. Where signals cannot be held (Windows), nothing is."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # reads the mask; runs pending handlers
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # what was held is handled here


class WorkerError(RuntimeError):
    """A bug showed in the worker: the exception it raised there, by name and message, with the
    worker's traceback as a note (shown where tracebacks are)."""

    def __init__(self, kind: str, message: str, worker_traceback: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.add_note("in the generation worker:\n" + worker_traceback.rstrip())


class Worker:
    """Runs jobs (a function and its arguments, all picklable) one after another, in submission order."""

    def __init__(self, initializer: Callable[[], None]) -> None:
        context = multiprocessing.get_context("fork")
        jobs_end, self._jobs = context.Pipe(duplex=False)
        self._results, results_end = context.Pipe(duplex=False)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # the worker's, once its handlers are set
        self._process: BaseProcess = context.Process(
            target=_serve,
            args=(jobs_end, results_end, initializer, os.getpid(), mask),
            name="gradergen-steps",
            daemon=True,
        )
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        try:
            with signals_held():
                self._process.start()
                # the worker holds the only other ends: its death reads as EOF here, and fails a send
                jobs_end.close()
                results_end.close()
                # A big IR outgrows the pipe's buffer: a thread sends it, so that submitting never
                # waits for the worker (still importing) to read. Started while the signals are
                # held, it keeps them held for good: they go to the main thread, which acts on them.
                threading.Thread(target=self._send, name="gradergen-steps-feeder", daemon=True).start()
        except BaseException:  # a signal, say: no worker may be left without an owner
            if self._process.pid is not None:
                self._process.kill()
            raise

    def _send(self) -> None:
        try:
            while (message := self._outbox.get()) is not None:
                self._jobs.send_bytes(message)
        except OSError:  # the worker is gone (EPIPE)
            pass
        finally:
            self._jobs.close()

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue `function(*args)`; both are pickled here, so that what cannot be raises here."""
        job: Job = (function, args)
        self._outbox.put(bytes(ForkingPickler.dumps(job)))

    def result(self) -> Any:
        """The result of the oldest job not yet collected; its exception if it raised one."""
        try:
            kind, value = self._results.recv()
        except EOFError:
            self._process.join(5)
            status = _status(self._process)
            raise GradergenError(f"the generation worker died unexpectedly ({status})") from None
        if kind == "error":
            raise GradergenError(value)
        if kind == "bug":
            raise WorkerError(*value)
        return value

    def stop(self) -> None:
        """Kill the worker at once, busy or not, and reap it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._results.close()
        self._outbox.put(None)  # ends the feeder thread


def _status(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _serve(
    jobs: Connection,
    results: Connection,
    initializer: Callable[[], None],
    parent: int,
    mask: set[signal.Signals],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):  # the handlers of the main process came with the fork
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # forked while the main process held them
    _die_with_parent(parent)
    try:
        initializer()
        broken = None
    except BaseException as exc:  # then every job gets this answer, which the main process reports
        broken = _bug(exc)
    while True:
        try:
            message = jobs.recv_bytes()
        except EOFError:  # the main process is done with us
            return
        reply = ("bug", broken) if broken is not None else _answer(message)
        try:
            results.send(reply)
        except Exception as exc:  # a result that cannot be pickled
            results.send(("bug", _bug(exc)))


def _answer(message: bytes) -> tuple[str, Any]:
    try:
        function, args = ForkingPickler.loads(message)
        return ("ok", function(*args))
    except GradergenError as exc:
        return ("error", str(exc))
    except BaseException as exc:  # a bug of ours: the main process reports it
        return ("bug", _bug(exc))


def _bug(exc: BaseException) -> tuple[str, str, str]:
    return type(exc).__name__, str(exc), traceback.format_exc()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when the one that forked it dies; elsewhere only the main
    process's own cleanup stops the worker."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


@contextmanager
def background(initializer: Callable[[], None]) -> Iterator[Worker | None]:
    """A worker forked from this process, already running `initializer` (imports, say), or None where
    fork does not exist (the caller then runs the jobs itself)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    worker = Worker(initializer)
    try:
        yield worker
    finally:
        worker.stop()
