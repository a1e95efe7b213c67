"""Python graders run in a sandbox: the interface the engine uses. The sandbox itself lives in this
package's other modules: `pool` (the warm workers), `isolation` (the ladder and the command that starts
a worker), `worker` (what runs inside), `protocol`, `cgroups`, `seccomp` and `image` (the package sets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Failure = Literal["runtime", "timeout", "memory", "crashed", "server"]
"""runtime: grade raised or returned something other than a number. timeout: it ran past the limit.
memory: the sandbox ran out of memory. crashed: the interpreter ended (os._exit, a signal).
server: the sandbox could not run it at all."""


@dataclass(frozen=True)
class PythonResult:
    value: float | None
    failure: Failure | None = None
    details: str | None = None
    notes: tuple[str, ...] = ()
    """What a person should know about how it ran (a grader's unknown image ran in the default one)."""


class Sandbox(Protocol):
    isolation: str
    """The isolation level in force (config.ISOLATION_LEVELS)."""

    def run(self, source: str, sample: dict[str, Any], item: Any, image: str) -> PythonResult: ...

    def run_many(
        self, source: str, calls: Sequence[tuple[dict[str, Any], Any]], image: str
    ) -> list[PythonResult]: ...

    async def arun(self, source: str, sample: dict[str, Any], item: Any, image: str) -> PythonResult: ...

    def close(self) -> None: ...
