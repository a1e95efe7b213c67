"""What the engine raises: a grader it refuses to run, or a setting it cannot use. Everything that goes
wrong while a grader runs on a sample is a flag in the result instead, never an exception."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import GradergenError

if TYPE_CHECKING:
    from ..validation import Problem


class EngineError(GradergenError):
    """The engine cannot be used as configured (a missing package, a bad setting)."""


class GraderInvalid(EngineError):
    """The grader fails validation; nothing ran. `problems` are the validator's, located."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        first = errors[0] if errors else self.problems[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"the grader is not valid: {first.pointer or '/'}: {first.message}{more}")
