"""How a worker is isolated: the best the machine allows, found once per process, and the command that
starts a worker under it.

The ladder, from strongest to weakest (config.ISOLATION_LEVELS):
  namespaces+cgroups+seccomp  bubblewrap, a control group per worker, a system-call filter
  namespaces+cgroups          bubblewrap and control groups
  namespaces                  bubblewrap: no network, its own pids, a read-only view of only the
                              interpreter and the image, a private size-limited /tmp, an unprivileged
                              uid with no capabilities, a clean environment
  rlimits                     a plain process with resource limits, a clean environment and its own
                              working directory (and an unprivileged uid where the interpreter is
                              readable by one): it can read the machine's files and use the network
  none                        a plain process (no resource limits on this platform)
Each rung is tried by running the image's interpreter under it; what failed is kept, to say why.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ISOLATION_LEVELS
from . import cgroups, seccomp
from .image import Image

WORKER_SCRIPT = Path(__file__).resolve().parent / "worker.py"
SANDBOX_WORKER = "/opt/gradergen/worker.py"
SANDBOX_TMP = "/tmp"
UNPRIVILEGED = 65534
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
"""Kept from the caller's environment: some processors need them for OpenBLAS to compute correctly."""
SHM_BYTES = 64 << 20


@dataclass(frozen=True)
class Machine:
    """What works here, and why each missing part is missing."""

    bwrap: str | None
    drop_with: str | None
    """setpriv, when running as root: bubblewrap makes the namespaces, setpriv becomes uid 65534."""
    hierarchy: cgroups.Hierarchy | None
    seccomp_program: bytes | None
    rlimits: bool
    unprivileged_plain: bool
    """Whether a plain (rlimits) worker can run as uid 65534."""
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def level(self) -> str:
        if self.bwrap is None:
            return "rlimits" if self.rlimits else "none"
        if self.hierarchy is None:
            return "namespaces"
        return "namespaces+cgroups+seccomp" if self.seccomp_program is not None else "namespaces+cgroups"

    def capped(self, ceiling: str) -> Machine:
        """This machine as if it allowed no more than `ceiling` (to run, or test, a lower rung)."""
        rank = ISOLATION_LEVELS.index(ceiling)
        bwrap, hierarchy, program, rlimits = self.bwrap, self.hierarchy, self.seccomp_program, self.rlimits
        missing = dict(self.missing)
        if rank < ISOLATION_LEVELS.index("namespaces+cgroups+seccomp"):
            program = None
            missing.setdefault("seccomp", f"capped at {ceiling}")
        if rank < ISOLATION_LEVELS.index("namespaces+cgroups"):
            hierarchy = None
            missing.setdefault("cgroups", f"capped at {ceiling}")
        if rank < ISOLATION_LEVELS.index("namespaces"):
            bwrap = None
            missing.setdefault("namespaces", f"capped at {ceiling}")
        if rank < ISOLATION_LEVELS.index("rlimits"):
            rlimits = False
            missing.setdefault("rlimits", f"capped at {ceiling}")
        return Machine(bwrap, self.drop_with, hierarchy, program, rlimits, self.unprivileged_plain, missing)

    def describe(self) -> str:
        parts = [self.level]
        if self.bwrap is not None:
            uid = "uid 65534 (setpriv)" if self.drop_with else "uid 65534 (user namespace)"
            parts.append(f"bubblewrap: no network, own pid/ipc/uts/mount namespaces, {uid}, no capabilities")
        elif self.rlimits:
            parts.append("plain process: resource limits only, the machine's files and network are reachable")
        if self.hierarchy is not None:
            parts.append(f"cgroup v{self.hierarchy.version} memory and pids limits")
        if self.seccomp_program is not None:
            parts.append("seccomp filter")
        for what, why in self.missing.items():
            parts.append(f"no {what}: {why}")
        unbounded = self.bwrap is None and self.hierarchy is None and not self.unprivileged_plain
        if unbounded and os.geteuid() == 0:  # RLIMIT_NPROC does not bind root
            parts.append("as root with no pids control group, nothing bounds a grader's processes")
        return "; ".join(parts)

    def how_to_get_more(self) -> str:
        hints = []
        if self.bwrap is None:
            hints.append("install bubblewrap (apt-get install bubblewrap) and allow user namespaces")
        if self.hierarchy is None:
            hints.append("give the process a writable cgroup with the memory and pids controllers")
        if self.seccomp_program is None:
            hints.append("install pyseccomp==0.1.2 and libseccomp2")
        return "; ".join(hints) or "nothing: this is the strongest level"


@dataclass(frozen=True)
class Limits:
    timeout: float
    memory_mb: int
    disk_mb: int
    processes: int
    cpus: int


def sandbox_env(image: Image, workdir: str, cpus: int) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "NLTK_DATA": str(image.nltk_data),
    }
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
        env[name] = str(cpus)
    for name in PASSED_THROUGH:
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def _ancestors(*paths: str) -> list[str]:
    found: set[str] = set()
    for path in paths:
        parent = Path(path).parent
        while str(parent) != "/":
            found.add(str(parent))
            parent = parent.parent
    return sorted(found, key=lambda p: (p.count("/"), p))


def bwrap_argv(machine: Machine, image: Image, limits: Limits, seccomp_fd: int | None) -> list[str]:
    assert machine.bwrap is not None
    argv = [machine.bwrap, "--die-with-parent", "--new-session"]
    argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if machine.drop_with is None:
        argv += [
            "--unshare-user",
            "--uid",
            str(UNPRIVILEGED),
            "--gid",
            str(UNPRIVILEGED),
            "--cap-drop",
            "ALL",
        ]
    argv += ["--clearenv"]
    for key, value in sandbox_env(image, SANDBOX_TMP, limits.cpus).items():
        argv += ["--setenv", key, value]
    argv += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        argv += ["--ro-bind-try", etc, etc]
    mounted = [str(image.root), SANDBOX_WORKER]
    base = str(image.base_prefix)
    if not base.startswith("/usr/") and base != "/usr":
        mounted.append(base)
    for directory in _ancestors(*mounted):
        if directory not in ("/usr", "/etc") and not directory.startswith("/usr/"):
            argv += ["--perms", "0755", "--dir", directory]
    if base in mounted:
        argv += ["--ro-bind", base, base]
    argv += ["--ro-bind", str(image.root), str(image.root)]
    argv += ["--ro-bind", str(WORKER_SCRIPT), SANDBOX_WORKER]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--size", str(SHM_BYTES), "--perms", "1777", "--tmpfs", "/dev/shm"]
    argv += ["--size", str(limits.disk_mb << 20), "--perms", "1777", "--tmpfs", SANDBOX_TMP]
    argv += ["--chdir", SANDBOX_TMP]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    if machine.drop_with is not None:  # root: setpriv needs these three to become uid 65534, then has none
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        argv += ["--cap-add", "CAP_SETPCAP"]
    argv.append("--")
    if machine.drop_with is not None:
        argv += _setpriv(machine.drop_with)
    return argv


def _setpriv(setpriv: str) -> list[str]:
    return [
        setpriv, f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
    ]  # fmt: skip


def joining(procs_files: list[str], argv: list[str]) -> list[str]:
    """`argv`, run from a shell that first moves itself into the worker's control groups (so that
    everything it starts is counted there from its first instruction)."""
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *procs_files, "--", *argv]


def worker_settings(limits: Limits, workdir: str, in_bwrap: bool, warm: tuple[str, ...], nproc: int) -> str:
    """The worker's command-line argument: its limits and where it may write."""
    memory = limits.memory_mb << 20
    rlimits = {
        "RLIMIT_AS": memory,
        "RLIMIT_FSIZE": limits.disk_mb << 20,
        "RLIMIT_NOFILE": 1024,
        "RLIMIT_CORE": 0,
        "RLIMIT_NPROC": nproc,
    }
    return json.dumps(
        {
            "workdir": workdir,
            "scratch": [workdir, "/dev/shm"] if in_bwrap else [workdir],
            "scratch_tmpfs": in_bwrap,
            "timeout": limits.timeout,
            "memory_mb": limits.memory_mb,
            "rlimits": rlimits,
            "warm": list(warm),
            "pid_namespace": in_bwrap,
            "parent_pid": os.getpid(),
        }
    )


def interpreter(image: Image) -> list[str]:
    return [str(image.python), "-I", "-B", "-X", "faulthandler"]


# ----------------------------------------------------------------------------- detection
@functools.lru_cache(maxsize=8)
def detect(image: Image) -> Machine:
    """What isolation works here for this image, tried once per process."""
    missing: dict[str, str] = {}
    if not _has_rlimits():
        missing["rlimits"] = "this platform has no resource limits (not Linux)"
        return Machine(None, None, None, None, False, False, missing)
    setpriv = shutil.which("setpriv") if os.geteuid() == 0 else None
    program, why = seccomp.program()
    if program is None:
        missing["seccomp"] = why
    bwrap, why = _working_bwrap(image, setpriv)
    if bwrap is None:
        missing["namespaces"] = why
        if program is not None:
            missing["seccomp"] = "the filter is loaded by bubblewrap, which does not run here"
        program = None
    elif program is not None:
        failure = _try(Machine(bwrap, setpriv, None, program, True, False), image)
        if failure:
            missing["seccomp"] = f"bubblewrap refused the filter: {failure}"
            program = None
    hierarchy, why = cgroups.locate()
    if hierarchy is not None:
        why = cgroups.probe(hierarchy)
        hierarchy = None if why else hierarchy
    if hierarchy is None:
        missing["cgroups"] = why
    unprivileged_plain = setpriv is not None and not _try(
        Machine(None, setpriv, None, None, True, True), image
    )
    return Machine(bwrap, setpriv, hierarchy, program, True, unprivileged_plain, missing)


def _working_bwrap(image: Image, setpriv: str | None) -> tuple[str | None, str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap is not installed (apt-get install bubblewrap)"
    if os.geteuid() == 0 and setpriv is None:
        return None, "running as root, and setpriv (util-linux) is not there to become an unprivileged uid"
    failure = _try(Machine(bwrap, setpriv, None, None, True, False), image)
    if failure:
        return None, f"bubblewrap does not work here: {failure}"
    return bwrap, ""


def _has_rlimits() -> bool:
    if sys.platform != "linux":
        return False
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def _try(machine: Machine, image: Image) -> str:
    """ "" when the image's interpreter starts under `machine`, else what it said."""
    argv, pass_fds, cleanup = probe_command(machine, image)
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=pass_fds,
            env={"PATH": "/usr/bin:/bin"},
            check=False,
            cwd="/",
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        cleanup()
    if done.returncode == 0 and done.stdout.strip() == "ok":
        return ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def probe_command(machine: Machine, image: Image) -> tuple[list[str], tuple[int, ...], Callable[[], None]]:
    # The image's own environment must be the one running (an unreadable one falls back to another
    # Python on the machine, without the packages).
    code = f"import sys; print('ok' if sys.prefix == {str(image.root / 'venv')!r} else sys.prefix)"
    limits = Limits(10, 256, 16, 16, 1)
    if machine.bwrap is not None:
        fd = seccomp_fd(machine.seccomp_program)
        argv = [*bwrap_argv(machine, image, limits, fd), *interpreter(image), "-c", code]
        return (
            argv,
            (fd,) if fd is not None else (),
            (lambda: os.close(fd)) if fd is not None else (lambda: None),
        )
    prefix = _setpriv(machine.drop_with) if machine.unprivileged_plain and machine.drop_with else []
    return [*prefix, *interpreter(image), "-c", code], (), lambda: None


def seccomp_fd(program: bytes | None) -> int | None:
    """A descriptor bubblewrap reads the filter from (a fresh one per worker: it is read to the end)."""
    if program is None:
        return None
    fd = os.memfd_create("gradergen-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
