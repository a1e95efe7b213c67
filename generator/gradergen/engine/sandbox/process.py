"""One sandboxed worker as the pool sees it: the process, its pipes (non-blocking, read by the pool's
dispatcher), its control group, the batch it is running, and how it ended."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from typing import TYPE_CHECKING

from . import cgroups
from .image import Image
from .isolation import (
    SANDBOX_TMP,
    SANDBOX_WORKER,
    UNPRIVILEGED,
    WORKER_SCRIPT,
    Limits,
    Machine,
    _setpriv,
    bwrap_argv,
    interpreter,
    joining,
    sandbox_env,
    seccomp_fd,
    worker_settings,
)
from .protocol import FrameReader, frame

if TYPE_CHECKING:
    from .pool import Call

MAX_STDERR = 8 * 1024


class WorkerProcess:
    def __init__(self, image: Image, machine: Machine, limits: Limits, warm: tuple[str, ...]) -> None:
        self.image = image
        self.limits = limits
        self.key: tuple[str, str] | None = None
        """(image tag, source digest): the one grader this worker serves, once it has one."""
        self.ready = False
        self.retiring = False
        self.calls: deque[Call] = deque()
        self.since = self.started = time.monotonic()
        self.last_used = self.started
        self.served = 0
        self.errors = bytearray()
        self.reader = FrameReader()
        self.pending = bytearray()
        self.in_bwrap = machine.bwrap is not None
        self._hostdir: str | None = None
        self.group = (
            cgroups.WorkerGroup(machine.hierarchy, limits.memory_mb << 20, limits.processes, limits.cpus)
            if machine.hierarchy is not None
            else None
        )
        try:
            self.proc = self._spawn(machine, warm)
        except BaseException:
            self._discard_files()
            raise
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.stdin, self.stdout, self.stderr = (
            self.proc.stdin.fileno(),
            self.proc.stdout.fileno(),
            self.proc.stderr.fileno(),
        )
        for fd in (self.stdin, self.stdout, self.stderr):
            os.set_blocking(fd, False)

    def _spawn(self, machine: Machine, warm: tuple[str, ...]) -> subprocess.Popen[bytes]:
        limits = self.limits
        nproc = limits.processes * 64 if machine.hierarchy is not None else limits.processes
        fd: int | None = None
        if machine.bwrap is not None:
            settings = worker_settings(limits, SANDBOX_TMP, True, warm, nproc)
            fd = seccomp_fd(machine.seccomp_program)
            argv = [
                *bwrap_argv(machine, self.image, limits, fd),
                *interpreter(self.image),
                SANDBOX_WORKER,
                settings,
            ]
            env, cwd = {"PATH": "/usr/bin:/bin"}, "/"
        else:
            self._hostdir = tempfile.mkdtemp(prefix="gradergen-worker-")
            drop = machine.unprivileged_plain and machine.drop_with is not None
            if drop:
                os.chown(self._hostdir, UNPRIVILEGED, UNPRIVILEGED)
            settings = worker_settings(limits, self._hostdir, False, warm, nproc)
            prefix = _setpriv(machine.drop_with) if drop and machine.drop_with else []
            argv = [*prefix, *interpreter(self.image), str(WORKER_SCRIPT), settings]
            env, cwd = sandbox_env(self.image, self._hostdir, limits.cpus), self._hostdir
        if self.group is not None:
            argv = joining(self.group.procs_files, argv)
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(fd,) if fd is not None else (),
                env=env,
                cwd=cwd,
                start_new_session=True,
                bufsize=0,
            )
        finally:
            if fd is not None:
                os.close(fd)

    # ------------------------------------------------------------------ pipes
    def send(self, data: bytes) -> bool:
        """Queue `data` for the worker and write what the pipe takes; True when all is written."""
        self.pending += data
        return self.flush()

    def flush(self) -> bool:
        while self.pending:
            try:
                written = os.write(self.stdin, self.pending)
            except BlockingIOError:
                return False
            except (BrokenPipeError, OSError):
                self.pending.clear()  # it died: the read side sees the end
                return True
            del self.pending[:written]
        return True

    def read(self) -> list[bytes] | None:
        """The frames that have arrived; None when the worker's end closed. ProtocolError on garbage."""
        frames: list[bytes] = []
        while True:
            try:
                data = os.read(self.stdout, 1 << 16)
            except BlockingIOError:
                return frames
            except OSError:
                return None if not frames else frames
            if not data:
                return None if not frames else frames
            frames += self.reader.feed(data)

    def read_errors(self) -> bool:
        """Drain its stderr (keeping the first 8 kB); False at its end."""
        while True:
            try:
                data = os.read(self.stderr, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            room = MAX_STDERR - len(self.errors)
            if room > 0:
                self.errors += data[:room]

    def start_batch(self, calls: list[Call], source: str | None) -> None:
        parts = [b'{"calls":[', b",".join(c.payload for c in calls), b"]"]
        if source is not None:
            import json

            parts += [b',"source":', json.dumps(source).encode("ascii")]
        parts.append(b"}")
        if not self.calls:  # a batch sent while a call runs must not restart that call's clock
            self.since = time.monotonic()
        self.calls.extend(calls)
        self.send(frame(b"".join(parts)))

    # ------------------------------------------------------------------ ending
    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.group is not None:
            self.group.kill_all()

    def how_it_ended(self) -> str:
        """Reap the process: 'exit status N' or 'killed by SIGNAME'."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        if code < 0 or (self.in_bwrap and 128 < code < 160):
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return f"killed by {name}"
        return f"exit status {code}"

    def stderr_text(self) -> str:
        return self.errors.decode("utf-8", "replace").strip()

    def oom_killed(self) -> bool:
        return self.group is not None and self.group.oom_killed()

    def close(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            self.how_it_ended()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        self._discard_files()

    def _discard_files(self) -> None:
        if self.group is not None:
            with contextlib.suppress(OSError):
                self.group.remove()
            self.group = None
        if self._hostdir is not None:
            shutil.rmtree(self._hostdir, ignore_errors=True)
            self._hostdir = None
