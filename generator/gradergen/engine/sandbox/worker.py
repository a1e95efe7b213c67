"""The program a sandboxed worker runs. It is started inside the sandbox with the image's interpreter,
where gradergen is not installed: it uses the standard library only.

It imports the image's common packages once, applies its limits, says it is ready, and then grades
batches of calls for the one grader source it was given first. Each call runs the source in a fresh
module namespace; afterwards whatever the call changed in the interpreter that the next call would see
is put back (working directory, environment, builtins, signal handlers, files in its temporary
directory, processes it left behind), and when that cannot be done (a thread still running) the worker
says so with the result and ends, so that the next call gets a fresh one. A result is sent as soon as
its call ends, so when the worker dies the pool knows which call was running.

Frames, both ways: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
    to the worker:   {"source": TEXT (first batch only), "calls": [[ID, SAMPLE, ITEM], ...]}
    from the worker: {"ready": true} once, then per call {"i": ID, "v": REWARD}
                     or {"i": ID, "f": "runtime" | "memory", "d": DETAILS}, with "r": true when it retires.
"""

import _signal  # type: ignore[import-not-found,unused-ignore]  # getsignal without enum lookups
import builtins
import io
import json
import math
import numbers
import os
import resource
import shutil
import signal
import struct
import sys
import threading
import time
import traceback
from types import CodeType
from typing import Any

HEADER = struct.Struct(">I")
MAX_REQUEST = 1 << 30
MAX_DETAILS = 16 * 1024
MAX_OUTPUT = 8 * 1024
GRADER_FILE = "grader.py"
RESTORED_SIGNALS = [
    getattr(signal, name)
    for name in (
        "SIGALRM",
        "SIGVTALRM",
        "SIGPROF",
        "SIGINT",
        "SIGTERM",
        "SIGCHLD",
        "SIGUSR1",
        "SIGUSR2",
        "SIGPIPE",
        "SIGHUP",
        "SIGXCPU",
    )
    if hasattr(signal, name)
]


class Channel:
    """The two protocol pipes, moved off descriptors 0 and 1 so that a grader's print or input()
    cannot reach them."""

    def __init__(self) -> None:
        self.inbound = os.dup(0)
        self.outbound = os.dup(1)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        self.null = null

    def _read_exactly(self, n: int) -> bytes | None:
        chunks = []
        while n:
            chunk = os.read(self.inbound, min(n, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self) -> Any:
        head = self._read_exactly(HEADER.size)
        if head is None:
            return None
        (size,) = HEADER.unpack(head)
        if size > MAX_REQUEST:
            raise SystemExit(f"gradergen worker: a request of {size} bytes is over the limit")
        body = self._read_exactly(size)
        if body is None:
            return None
        return json.loads(body)

    def send(self, message: dict[str, Any]) -> None:
        if len(message) == 2 and "v" in message:  # the common case, in a quarter of the time
            body = b'{"i":%d,"v":%s}' % (message["i"], repr(message["v"]).encode("ascii"))
        else:
            details = message.get("d")
            if isinstance(details, str) and len(details) > 2 * MAX_DETAILS:
                message["d"] = details[: 2 * MAX_DETAILS] + "…"
            body = json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8", "replace")
        data = HEADER.pack(len(body)) + body
        while data:
            written = os.write(self.outbound, data)
            data = data[written:]


class Capture(io.TextIOBase):
    """sys.stdout and sys.stderr while a call runs: keeps the first MAX_OUTPUT characters, counts
    the rest, never blocks and never grows."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.total = 0

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.total += len(text)
        room = MAX_OUTPUT - self.kept
        if room > 0:
            part = text[:room]
            self.parts.append(part)
            self.kept += len(part)
        return len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.parts)


def describe_size(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} characters"


def reward_of(value: object) -> tuple[float | None, str | None]:
    """(reward, None) for a number; (None, why not) for anything else."""
    kind = type(value)
    if (kind is float or kind is int) and math.isfinite(value):  # type: ignore[arg-type]
        return float(value), None  # type: ignore[arg-type]
    if isinstance(value, bool) or kind.__name__ in ("bool_", "bool"):
        return None, f"grade returned a bool ({value!r}); it must return a number"
    if isinstance(value, numbers.Real):
        try:
            reward = float(value)
        except (OverflowError, ValueError, TypeError) as exc:
            return None, f"grade returned {value!r:.200}, which is not a float: {exc}"
        if not math.isfinite(reward):
            return None, f"grade returned {reward!r}; a reward must be a finite number"
        return reward, None
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    shown = repr(value) if len(repr(value)) <= 200 else repr(value)[:200] + "…"
    return None, f"grade returned {name} ({shown}); it must return a number (an int or a float)"


def grader_traceback(exc: BaseException) -> str:
    """The traceback from the grader's frames down: the worker's own frames are left out."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    try:
        text = "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception:  # an exception whose str() fails
        text = f"{type(exc).__name__} (its message could not be shown)\n"
    if len(text) > MAX_DETAILS:
        text = "…\n" + text[-MAX_DETAILS:]
    return text


class Worker:
    def __init__(self, channel: Channel, settings: dict[str, Any]) -> None:
        self.channel = channel
        self.settings = settings
        self.pid = os.getpid()
        self.workdir = settings["workdir"]
        self.own_pid_namespace = settings.get("pid_namespace", False) and self._in_child_pid_namespace()
        self.code: CodeType | BaseException | None = None
        self.cpu_seconds = int(settings["timeout"]) + 1
        self.cpu_limit = 0.0
        self.environ = dict(os.environ._data)  # type: ignore[attr-defined]  # the bytes behind os.environ
        self.path = list(sys.path)
        self.builtins = dict(builtins.__dict__)
        self.builtin_names, self.builtin_values = list(self.builtins), list(self.builtins.values())
        self.recursion_limit = sys.getrecursionlimit()
        self.handlers = {s: _signal.getsignal(s) for s in RESTORED_SIGNALS}
        self.capture = Capture()
        self.scratch = [Scratch(p, settings.get("scratch_tmpfs", False)) for p in settings["scratch"]]
        self.stdin = open(os.devnull, encoding="utf-8")
        self.umask = os.umask(0o022)
        os.umask(self.umask)

    @staticmethod
    def _in_child_pid_namespace() -> bool:
        """True only inside bubblewrap's pid namespace, as an unprivileged user: this process's parent
        is the namespace's init (pid 1, bubblewrap), so killing every process it can see ends only
        what the grader started. Anywhere else it never does that."""
        if os.getuid() == 0 or os.getppid() != 1:
            return False
        try:
            with open("/proc/1/comm", encoding="utf-8") as comm:
                return comm.read().strip() == "bwrap"
        except OSError:
            return False

    def serve(self) -> None:
        while True:
            request = self.channel.receive()
            if request is None:
                return
            if "source" in request:
                self.load(request["source"])
            if self.code is None:
                raise SystemExit("gradergen worker: a batch came before the grader's source")
            for call_id, sample, item in request["calls"]:
                message = self.call(call_id, sample, item)
                retire = self.restore()
                if retire:
                    message["r"] = True
                self.channel.send(message)
                if retire:
                    os._exit(0)

    def load(self, source: str) -> None:
        if self.code is not None:
            raise SystemExit("gradergen worker: a worker grades one source only")
        import linecache

        lines = source.splitlines(keepends=True)
        linecache.cache[GRADER_FILE] = (len(source), None, lines, GRADER_FILE)
        try:
            self.code = compile(source, GRADER_FILE, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            self.code = exc

    def call(self, call_id: int, sample: Any, item: Any) -> dict[str, Any]:
        capture = self.capture if not self.capture.total else Capture()
        self.capture = capture
        sys.stdout = sys.stderr = capture
        sys.stdin = self.stdin
        try:
            if not isinstance(self.code, CodeType):
                detail = "".join(traceback.format_exception_only(type(self.code), self.code))
                return {"i": call_id, "f": "runtime", "d": f"the source does not compile: {detail}"}
            self.limit_cpu()
            namespace = {"__name__": "grader", "__file__": GRADER_FILE, "__builtins__": builtins}
            try:
                exec(self.code, namespace)
                grade = namespace.get("grade")
                if not callable(grade):
                    return {"i": call_id, "f": "runtime", "d": "the source defines no function grade"}
                value = grade(sample, item)
            finally:
                if os.getpid() != self.pid:  # a child the grader forked, returning: it must not answer
                    os._exit(0)
            reward, problem = reward_of(value)
            if problem is None:
                return {"i": call_id, "v": reward}
            return {"i": call_id, "f": "runtime", "d": problem + self.output(capture)}
        except MemoryError as exc:
            limit = self.settings["memory_mb"]
            details = f"grade ran out of memory (the limit is {limit} MB)\n" + grader_traceback(exc)
            return {"i": call_id, "f": "memory", "d": details, "r": True}
        except SystemExit as exc:
            return {
                "i": call_id,
                "f": "runtime",
                "d": f"grade called sys.exit({exc.code!r})" + self.output(capture),
            }
        except BaseException as exc:
            return {"i": call_id, "f": "runtime", "d": grader_traceback(exc) + self.output(capture)}

    def limit_cpu(self) -> None:
        """RLIMIT_CPU counts the worker's whole life: keep its soft limit at least one timeout (and at
        most two) past the CPU time used so far. The pool's watchdog is the real stop; this one holds
        even if the pool cannot act."""
        used = time.process_time()
        if used + self.cpu_seconds > self.cpu_limit:
            self.cpu_limit = int(used) + 2 * self.cpu_seconds
            resource.setrlimit(resource.RLIMIT_CPU, (int(self.cpu_limit), resource.RLIM_INFINITY))

    @staticmethod
    def output(capture: Capture) -> str:
        if not capture.total:
            return ""
        cut = (
            f" (the first {describe_size(capture.kept)} of {describe_size(capture.total)})"
            if capture.total > capture.kept
            else ""
        )
        return f"\n--- output{cut} ---\n{capture.text()}"

    def restore(self) -> bool:
        """Put back what a call changed; True when the worker cannot be made clean again."""
        sys.stdout = sys.stderr = sys.__stderr__
        dirty = False
        signal.alarm(0)  # and ITIMER_REAL with it; the two others would end the worker later too
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        for number, handler in self.handlers.items():
            if _signal.getsignal(number) is not handler:
                signal.signal(number, handler)
        if self.own_pid_namespace:
            dirty = not self.end_other_processes()
        elif self.reap():
            dirty = not self.end_descendants()
        if os.getcwd() != self.workdir:
            os.chdir(self.workdir)
        if os.environ._data != self.environ:  # type: ignore[attr-defined]
            os.environ.clear()
            for key, value in self.environ.items():
                os.environ[os.fsdecode(key)] = os.fsdecode(value)
        if sys.path != self.path:
            sys.path[:] = self.path
        namespace = builtins.__dict__  # compared by identity, value by value: a third of dict ==
        if list(namespace.values()) != self.builtin_values or list(namespace) != self.builtin_names:
            builtins.__dict__.clear()
            builtins.__dict__.update(self.builtins)
        if sys.getrecursionlimit() != self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
        os.umask(self.umask)
        for scratch in self.scratch:
            if not scratch.empty():
                dirty = not scratch.clean() or dirty
        if threading.active_count() > 1:
            dirty = True
        return dirty

    def end_other_processes(self) -> bool:
        """Kill every process in the sandbox but this one and its init, until none is left (a fork
        bomb keeps forking while the first kill goes round); False if some outlive the tries."""
        for attempt in range(200):
            try:
                os.kill(-1, signal.SIGKILL)  # every process but this one and the namespace's init
            except ProcessLookupError:
                return True  # nobody else, not even an unreaped zombie
            self.reap()
            if attempt:
                time.sleep(0.001)  # the init reaps the orphans' zombies
        return False

    def end_descendants(self) -> bool:
        """Outside a pid namespace: kill this process's children until it has none. Being a child
        subreaper, every orphan further down becomes its child in turn; nothing else is touched."""
        children = f"/proc/self/task/{self.pid}/children"
        for attempt in range(200):
            try:
                with open(children, encoding="ascii") as listed:
                    pids = [int(p) for p in listed.read().split()]
            except OSError:
                return False
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not self.reap():
                return True
            if attempt:
                time.sleep(0.001)
        return False

    @staticmethod
    def reap() -> bool:
        """Collect this process's ended children; True if some are still running."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True


class Scratch:
    """A directory a call may write to, emptied after each call. On a tmpfs a directory's size grows
    with its entries, so one stat tells whether anything is there; elsewhere it is listed."""

    def __init__(self, path: str, tmpfs: bool) -> None:
        self.path = path
        self.tmpfs = tmpfs
        self.empty_size = os.stat(path).st_size

    def empty(self) -> bool:
        if self.tmpfs:
            return os.stat(self.path).st_size == self.empty_size
        return not os.listdir(self.path)

    def clean(self) -> bool:
        return empty_directory(self.path)


def empty_directory(path: str) -> bool:
    def unlock(function: Any, target: str, _exc_info: object) -> None:
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
        except OSError:
            pass
        function(target)

    for entry in os.scandir(path):
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, onerror=unlock)
            else:
                os.unlink(entry.path)
        except OSError:
            return False
    return True


def apply_limits(settings: dict[str, Any]) -> None:
    limits = settings["rlimits"]
    for name, value in limits.items():
        number = getattr(resource, name)
        resource.setrlimit(number, (value, value))
    # The CPU limit is set again before every call (it counts the worker's whole life).
    resource.setrlimit(resource.RLIMIT_CPU, (int(settings["timeout"]) + 1, resource.RLIM_INFINITY))


def outside_bubblewrap(parent_pid: int) -> None:
    """What bubblewrap's namespaces do otherwise: end when the pool's process ends, and become the
    parent of every orphan the grader leaves (a child subreaper), so that they can be ended."""
    import ctypes

    pr_set_pdeathsig, pr_set_child_subreaper = 1, 36
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    libc.prctl(pr_set_child_subreaper, 1)
    if os.getppid() != parent_pid:  # it ended before the line above
        os._exit(1)


def main() -> None:
    settings = json.loads(sys.argv[1])
    channel = Channel()
    if not settings.get("pid_namespace"):
        outside_bubblewrap(settings["parent_pid"])
    for name in settings.get("warm", ()):
        __import__(name)
    apply_limits(settings)
    os.chdir(settings["workdir"])
    worker = Worker(channel, settings)
    channel.send({"ready": True})
    os.dup2(channel.null, 2)  # from now on the pool reads nothing but results
    worker.serve()


if __name__ == "__main__":
    main()
