"""Reading input in bounded memory: only regular files are opened, and no read holds more than one
document (a JSONL line is read up to the limit; the rest of an over-long line is skipped in chunks)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from .document import Unreadable, decode, too_large
from .run import Report

SKIP_CHUNK = 1 << 20
"""How much of an over-long line is held at a time while it is skipped."""

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_regular(mode: int) -> Unreadable:
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return Unreadable(
        f"not a regular file: this is {kind}",
        hint="only regular files are read; to check a stream, pipe it in: … | gradergen validate -",
    )


def open_regular(path: str) -> BinaryIO:
    """The file at `path`, opened for reading, or Unreadable when it is not a regular file. Opening
    never blocks: a FIFO with no writer is refused, not waited on."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise not_regular(mode)
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the two looks
            raise not_regular(mode)
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_regular(stream: BinaryIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # an in-memory stream
        return False


def read_capped(stream: BinaryIO, limit: int) -> bytes:
    """The whole of a stream that holds one document: at most `limit` bytes, else Unreadable."""
    try:
        size: int | None = os.fstat(stream.fileno()).st_size if is_regular(stream) else None
    except (OSError, ValueError, AttributeError):
        size = None
    if size is not None and size > limit:
        raise too_large(size, limit)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(None, limit)
    return data


def skip_line(stream: BinaryIO, until: int | None = None) -> int:
    """Move a regular file's stream past the rest of the current line, reading a chunk at a time, or
    up to offset `until` if that comes first; the bytes skipped."""
    skipped = 0
    while until is None or stream.tell() < until:
        chunk = stream.read(SKIP_CHUNK)
        newline = chunk.find(b"\n")
        if newline != -1:
            stream.seek(newline + 1 - len(chunk), os.SEEK_CUR)
            return skipped + newline + 1
        skipped += len(chunk)
        if not chunk:
            break
    return skipped


class JsonlLines:
    """The lines of a JSONL stream, decoded and numbered from `first`. A line over `limit` bytes, or one
    that is not text, is reported to `report` and left out. Over-long lines are skipped when the
    stream is a regular file (it ends); on any other stream, which may never end (/dev/zero on
    standard input), reading stops there and the report says so. `end`: stop before a line that
    starts at or after this offset."""

    def __init__(
        self,
        stream: BinaryIO,
        limit: int,
        report: Report,
        skippable: bool,
        end: int | None = None,
        first: int = 1,
    ) -> None:
        self.stream = stream
        self.limit = limit
        self.report = report
        self.skippable = skippable
        self.end = end
        self.number = first - 1
        """The number of the line read last."""

    def __iter__(self) -> Iterator[tuple[int, str]]:
        stream, limit = self.stream, self.limit
        while self.end is None or stream.tell() < self.end:
            raw = stream.readline(limit + 1)
            if not raw:
                return
            self.number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                if not self.skippable:
                    exc = too_large(None, limit)
                    self._unreadable(exc, exc.message + "; reading stops here, the rest is not checked")
                    return
                self._unreadable(too_large(len(raw) + skip_line(stream), limit))
                continue
            try:
                yield self.number, decode(raw.removesuffix(b"\n"), self.number)
            except Unreadable as exc:
                self.report.documents += 1
                self.report.add_unreadable(exc)

    def _unreadable(self, exc: Unreadable, message: str | None = None) -> None:
        self.report.documents += 1
        self.report.add_unreadable(Unreadable(message or exc.message, self.number, 1, exc.hint))
