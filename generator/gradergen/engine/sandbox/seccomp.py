"""The system-call filter bubblewrap loads into every worker (libseccomp through pyseccomp).

It allows everything a Python program and its packages do, and refuses with an error (never a kill,
so a grader gets a Python exception it can read) what no grader needs: sockets other than Unix ones,
io_uring (which would go around the socket rule), tracing other processes, mounting, new namespaces,
loading kernel code, and the host-wide knobs (clock, swap, reboot, keys, bpf, perf).
"""

from __future__ import annotations

import errno
import functools
import socket
import tempfile
from typing import Any

REFUSED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "unshare", "setns",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "iopl", "ioperm", "vhangup", "uselib",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
)  # fmt: skip
NEW_NAMESPACES = (
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
)
"""CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME."""


@functools.lru_cache(maxsize=1)
def program() -> tuple[bytes | None, str]:
    """The compiled filter (BPF for this machine's architecture), or None and why there is none."""
    try:
        import pyseccomp as sc  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None, "pyseccomp is not installed (pip install pyseccomp==0.1.2)"
    except OSError as exc:  # the package is there, libseccomp is not
        return None, f"libseccomp cannot be loaded ({exc}): apt-get install libseccomp2"
    try:
        rules: Any = sc.SyscallFilter(defaction=sc.ALLOW)
        rules.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
        rules.add_rule(
            sc.ERRNO(errno.ENOSYS), "clone3"
        )  # its flags are out of reach: the C library falls back to clone
        for namespace_flag in _flags(NEW_NAMESPACES):
            rules.add_rule(
                sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, namespace_flag, namespace_flag)
            )
        for name in REFUSED:
            try:
                rules.add_rule(sc.ERRNO(errno.EPERM), name)
            except (ValueError, RuntimeError, OSError):
                continue  # not a system call of this architecture
        with tempfile.TemporaryFile() as out:
            rules.export_bpf(out)
            out.seek(0)
            return out.read(), ""
    except Exception as exc:  # libseccomp refused: an old library or an unknown architecture
        return None, f"libseccomp could not build the filter ({type(exc).__name__}: {exc})"


def _flags(mask: int) -> list[int]:
    return [1 << bit for bit in range(mask.bit_length()) if mask & (1 << bit)]
