"""Errors that reach the user as one clear line, never as a traceback."""

from __future__ import annotations


class GradergenError(Exception):
    """A problem the user can fix; the CLI prints it and exits with status 2."""


class SpecError(GradergenError):
    """The spec cannot be used: names the JSON pointer of the offending part."""

    def __init__(self, pointer: str, message: str, source: str = "") -> None:
        self.pointer = pointer or "/"
        self.message = message
        self.source = source
        where = f"{source}#{self.pointer}" if source else self.pointer
        super().__init__(f"{where}: {message}")
