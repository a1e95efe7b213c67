"""Run graders locally: the reward the service would give, for every grader type.

from gradergen.engine import compile_grader
grader = compile_grader({"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                         "operation": "eq", "reference": "{{ item.label }}"})
grader.run("positive", {"label": "positive"}).reward   # 1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from .config import EngineConfig
from .errors import EngineError, GraderInvalid

if TYPE_CHECKING:
    from .compiled import CompiledGrader, compile_grader, run_grader
    from .outcome import FLAGS, Outcome

# the graders load the generated bindings and pydantic: not at every command's start-up
__getattr__ = lazy_exports(
    __name__,
    {
        "CompiledGrader": "compiled",
        "compile_grader": "compiled",
        "run_grader": "compiled",
        "FLAGS": "outcome",
        "Outcome": "outcome",
    },
)

__all__ = [
    "FLAGS",
    "CompiledGrader",
    "EngineConfig",
    "EngineError",
    "GraderInvalid",
    "Outcome",
    "compile_grader",
    "run_grader",
]
