"""A control group per worker: the hard stop for memory (the kernel kills past it), a ceiling on
processes (a fork bomb stops there) and CPU bandwidth, and a way to kill everything a worker started.

Groups are made under the pool process's own group in each hierarchy, so they stay within whatever
limits the caller runs under; cgroup v1 (one hierarchy per controller) and v2 (one unified
hierarchy with the controllers delegated) both work. Each is named gradergen-<pid>-<n> after the
process that made it, so one left by a process that died is recognised and removed.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "gradergen-"
_counter = itertools.count(1)
_swept: set[Path] = set()
_sweep_lock = threading.Lock()


@dataclass(frozen=True)
class Hierarchy:
    """Where this process's groups are made, and how they are read."""

    version: int
    memory: Path
    pids: Path
    cpu: Path | None


def _own_paths() -> dict[str, str]:
    """controller → this process's group path in that controller's hierarchy ("" for v2)."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup", encoding="utf-8") as cgroup:
        for line in cgroup:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


def locate() -> tuple[Hierarchy | None, str]:
    """The hierarchy to use, or None and why not."""
    try:
        own = _own_paths()
    except OSError as exc:
        return None, f"cannot read /proc/self/cgroup ({exc})"
    if "memory" in own and "pids" in own and (ROOT / "memory").is_dir():
        cpu_dir = next(
            (ROOT / n for n in ("cpu,cpuacct", "cpu") if (ROOT / n / "cpu.cfs_quota_us").exists()), None
        )
        cpu = cpu_dir / own["cpu"].lstrip("/") if cpu_dir is not None and "cpu" in own else None
        return Hierarchy(
            1, ROOT / "memory" / own["memory"].lstrip("/"), ROOT / "pids" / own["pids"].lstrip("/"), cpu
        ), ""
    if "" in own and (ROOT / "cgroup.controllers").exists():
        base = ROOT / own[""].lstrip("/")
        try:
            enabled = (base / "cgroup.subtree_control").read_text().split()
        except OSError as exc:
            return None, f"cgroup v2: cannot read {base}/cgroup.subtree_control ({exc})"
        if not {"memory", "pids"} <= set(enabled):
            delegated = " ".join(enabled) or "none"
            return None, f"cgroup v2: memory and pids are not delegated to {base} (it delegates: {delegated})"
        return Hierarchy(2, base, base, base if "cpu" in enabled else None), ""
    return None, "no memory and pids cgroup controllers are mounted under /sys/fs/cgroup"


class WorkerGroup:
    """The groups of one worker (one directory per hierarchy, a single one on v2)."""

    def __init__(self, hierarchy: Hierarchy, memory_bytes: int, processes: int, cpus: int) -> None:
        self.hierarchy = hierarchy
        _sweep(hierarchy)
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
        self.memory = hierarchy.memory / name
        self.pids = hierarchy.pids / name
        self.cpu = hierarchy.cpu / name if hierarchy.cpu is not None else None
        self.dirs = list(dict.fromkeys(d for d in (self.memory, self.pids, self.cpu) if d is not None))
        for directory in self.dirs:
            directory.mkdir()
        try:
            self._limit(memory_bytes, processes, cpus)
        except OSError:
            self.remove()
            raise

    def _limit(self, memory_bytes: int, processes: int, cpus: int) -> None:
        if self.hierarchy.version == 1:
            _write(self.memory / "memory.limit_in_bytes", memory_bytes)
            swap = self.memory / "memory.memsw.limit_in_bytes"
            if swap.exists():
                _write(swap, memory_bytes)
            _write(self.pids / "pids.max", processes)
            if self.cpu is not None:
                period = int((self.cpu / "cpu.cfs_period_us").read_text())
                _write(self.cpu / "cpu.cfs_quota_us", period * cpus)
        else:
            _write(self.memory / "memory.max", memory_bytes)
            if (self.memory / "memory.swap.max").exists():
                _write(self.memory / "memory.swap.max", 0)
            _write(self.pids / "pids.max", processes)
            if self.cpu is not None and (self.cpu / "cpu.max").exists():
                _write(self.cpu / "cpu.max", f"{100_000 * cpus} 100000")

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid to, to join every group of this worker."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def members(self) -> list[int]:
        found: set[int] = set()
        for directory in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL every process in the groups, again until none is left (a fork bomb races it, but
        pids.max bounds it)."""
        for _ in range(50):
            members = self.members()
            if not members:
                return
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of this worker for going past the memory limit."""
        name = "memory.oom_control" if self.hierarchy.version == 1 else "memory.events"
        try:
            for line in (self.memory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def remove(self) -> None:
        self.kill_all()
        for directory in self.dirs:
            _rmdir(directory)


def _write(path: Path, value: object) -> None:
    path.write_text(f"{value}\n")


def _rmdir(directory: Path) -> None:
    for _ in range(200):  # the last processes take a moment to leave once killed
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            time.sleep(0.005)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(hierarchy: Hierarchy) -> None:
    """Remove groups left by gradergen processes that have died."""
    with _sweep_lock:
        for base in dict.fromkeys(d for d in (hierarchy.memory, hierarchy.pids, hierarchy.cpu) if d):
            if base in _swept:
                continue
            _swept.add(base)
            with contextlib.suppress(OSError):
                for entry in base.iterdir():
                    owner = (
                        entry.name[len(PREFIX) :].split("-", 1)[0] if entry.name.startswith(PREFIX) else ""
                    )
                    if owner.isdigit() and int(owner) != os.getpid() and not _alive(int(owner)):
                        with contextlib.suppress(OSError, ValueError):
                            for pid in (entry / "cgroup.procs").read_text().split():
                                with contextlib.suppress(OSError):
                                    os.kill(int(pid), signal.SIGKILL)
                        _rmdir(entry)


def probe(hierarchy: Hierarchy) -> str:
    """ "" when a worker group can be made and limited here, else why not."""
    try:
        group = WorkerGroup(hierarchy, 64 << 20, 16, 1)
    except OSError as exc:
        return f"cannot create a control group under {hierarchy.memory} ({exc.strerror or exc})"
    group.remove()
    return ""
