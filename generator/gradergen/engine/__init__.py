"""Run graders locally: the reward the service would give, for every grader type.

from gradergen.engine import compile_grader
grader = compile_grader({"type": "string_check", "name": "exact", "input": "{{ sample.output_text }}",
                         "operation": "eq", "reference": "{{ item.label }}"})
grader.run("positive", {"label": "positive"}).reward   # 1.0
"""

from .compiled import CompiledGrader, compile_grader, run_grader
from .config import EngineConfig
from .errors import EngineError, GraderInvalid
from .outcome import FLAGS, Outcome

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
