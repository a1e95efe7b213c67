"""Errors that reach the user as one clear line, never as a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


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


EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def run_guarded(prog: str, action: Callable[[], int], user_errors: tuple[type[Exception], ...] = ()) -> int:
    """Run a command so that nothing reaches the user as a traceback: `user_errors` are one `error:`
    line (exit 2), an interrupt exits 130, a reader that went away (`| head`) ends the output quietly,
    and a bug of ours is one `internal error:` line (exit 70), its traceback shown under GRADERGEN_DEBUG."""
    try:
        return action()
    except user_errors as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except Exception as exc:
        if os.environ.get("GRADERGEN_DEBUG"):
            raise
        print(
            f"{prog}: internal error: {type(exc).__name__}: {exc} "
            "(set GRADERGEN_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _quiet_stdout() -> None:
    """Send the rest of the output nowhere, without a second error when Python flushes it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's captured one): nothing to quiet
        pass
