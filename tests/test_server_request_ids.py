"""Request ids: `req_` and 32 hex digits, drawn without a system call each, and never the same in two
processes forked from one server."""

from __future__ import annotations

import os
import re

from gradergen.server.accesslog import new_request_id as next_id


def test_ids_are_32_hex_digits_and_distinct() -> None:
    ids = {next_id() for _ in range(10_000)}
    assert len(ids) == 10_000 and all(re.fullmatch(r"req_[0-9a-f]{32}", i) for i in ids)


def test_a_forked_process_draws_other_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, " ".join(next_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {next_id() for _ in range(3)}
    assert len(child) == 3 and not child & parent
