"""Run a command under an address-space limit and report the command's own peak resident memory.

Linux gives a process started by exec the high-water mark of the address space it replaced, so a
command forked from pytest reports pytest's size as its ru_maxrss (hundreds of MiB late in a run).
Forked from this small process instead, the figure is the command's own, plus at most this
process's ~10 MiB.

    python tests/peak_memory.py LIMIT_MIB REPORT_FILE COMMAND [ARG...]

writes `{"exit": CODE, "peak_kib": KIB}` to REPORT_FILE (CODE as subprocess gives it: -N for a
signal) and exits with the command's code, 128 + N for a signal, as a shell does.
"""

from __future__ import annotations

import json
import os
import resource
import sys


def main(argv: list[str]) -> int:
    limit_mib, report, command = int(argv[0]), argv[1], argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit_mib << 20, limit_mib << 20))
            os.execvp(command[0], command)
        except OSError as error:
            print(f"peak_memory.py: cannot run {command[0]}: {error}", file=sys.stderr)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(report, "w") as f:
        json.dump({"exit": code, "peak_kib": usage.ru_maxrss}, f)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
