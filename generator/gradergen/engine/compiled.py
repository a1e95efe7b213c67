"""Compile a grader once, run it on many samples.

`compile_grader` validates the grader (a grader that fails validation never runs) and builds its
evaluators: templates read, the formula parsed, the python source kept for the sandbox. A compiled
grader is immutable, so threads share one; it pickles as its grader and configuration, so processes
(multiprocessing, Ray) get their own copy with their own sandbox and clients.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from ..validation import validate
from .config import EngineConfig
from .errors import EngineError, GraderInvalid
from .graders.base import Evaluator, scope_of
from .graders.multi import Multi
from .graders.python import PythonGrader
from .graders.string_check import StringCheck
from .graders.text_similarity import TextSimilarity
from .outcome import Outcome
from .responses import CleanResponses
from .sample import Sample
from .services import Services, services_for

ModelSample = str | Mapping[str, Any]


def _as_grader(grader: Any) -> dict[str, Any]:
    """A grader given as a mapping, a model of the generated bindings, or JSON or YAML text."""
    if hasattr(grader, "model_dump"):
        grader = grader.model_dump(mode="json", by_alias=True, exclude_unset=True)
    elif isinstance(grader, (str, bytes)):
        try:
            grader = yaml.safe_load(grader)
        except yaml.YAMLError as exc:
            raise EngineError(f"the grader is not valid JSON or YAML: {exc}") from None
    if not isinstance(grader, Mapping):
        raise EngineError(f"a grader is an object, not {type(grader).__name__}")
    if "type" not in grader and "grader" in grader:
        raise EngineError("this is a request body; pass its grader (the value of 'grader')")
    copied: dict[str, Any] = json.loads(json.dumps(grader))  # a plain, private copy
    return copied


def _build(grader: Mapping[str, Any], config: EngineConfig) -> Evaluator:
    kind = grader.get("type")
    if kind == "string_check":
        return StringCheck(grader)
    if kind == "text_similarity":
        return TextSimilarity(grader)
    if kind == "python":
        return PythonGrader(grader, config.python.image)
    if kind in ("score_model", "label_model"):
        from .graders.model import ModelGrader  # type: ignore[import-untyped,unused-ignore]

        model_grader: Evaluator = ModelGrader(grader)
        return model_grader
    if kind == "multi":
        return Multi(grader, lambda sub: _build(sub, config))
    raise EngineError(f"the engine cannot run a grader of type {kind!r}")


class Results(Sequence[Any]):
    """The results of a batch, in input order: `rewards` and `flagged` at once, each GraderRunResponse
    built the first time it is read."""

    def __init__(
        self, results: list[float | Outcome], builder: CleanResponses, execution_time: float
    ) -> None:
        self._results = results
        self._builder = builder
        self._each = execution_time
        self._built: list[Any] | None = None

    @property
    def rewards(self) -> list[float]:
        return [r.reward if isinstance(r, Outcome) else r for r in self._results]

    @property
    def flagged(self) -> list[int]:
        """The positions of the samples that set an error flag."""
        return [i for i, r in enumerate(self._results) if isinstance(r, Outcome) and r.failed]

    def outcome(self, index: int) -> Outcome:
        """The outcome of one sample, with its flags and the engine's notes."""
        result = self._results[index]
        return result if isinstance(result, Outcome) else Outcome(reward=result)

    def responses(self) -> list[Any]:
        """Every response, in order."""
        if self._built is None:
            self._built = self._builder.responses(self._results, self._each)
        return list(self._built)

    def __len__(self) -> int:
        return len(self._results)

    def __getitem__(self, index: Any) -> Any:
        if self._built is not None:
            return self._built[index]
        if isinstance(index, slice):
            return self._builder.responses(self._results[index], self._each)
        return self._builder.responses([self._results[index]], self._each)[0]


class CompiledGrader:
    """A grader ready to run: `run(model_sample, item)` gives the `GraderRunResponse`."""

    def __init__(self, grader: Any, config: EngineConfig | None = None) -> None:
        self.grader = _as_grader(grader)
        self.config = config or EngineConfig.load()
        problems = validate(self.grader)
        if any(p.severity == "error" for p in problems):
            raise GraderInvalid(problems)
        self.warnings = [p for p in problems if p.severity == "warning"]
        self._root = _build(self.grader, self.config)
        self._clean: CleanResponses | None = None

    @property
    def name(self) -> str:
        return self._root.name

    @property
    def kind(self) -> str:
        return self._root.kind

    @property
    def services(self) -> Services:
        return services_for(self.config)

    def _scope(self, model_sample: ModelSample, item: Any) -> Any:
        return scope_of(Sample(model_sample), item)

    def run(self, model_sample: ModelSample, item: Any = None) -> Any:
        """Grade one sample: the spec's GraderRunResponse, every flag set as it happened."""
        return self.run_explained(model_sample, item)[0]

    def run_explained(self, model_sample: ModelSample, item: Any = None) -> tuple[Any, Outcome]:
        """The response, and the outcome it was made from, with the engine's notes for a person."""
        started = time.perf_counter()
        outcome = self._root.evaluate(self._scope(model_sample, item), self.services)
        return outcome.response(self.name, self.kind, time.perf_counter() - started), outcome

    async def arun(self, model_sample: ModelSample, item: Any = None) -> Any:
        started = time.perf_counter()
        outcome = await self._root.aevaluate(self._scope(model_sample, item), self.services)
        return outcome.response(self.name, self.kind, time.perf_counter() - started)

    async def aoutcome(self, model_sample: ModelSample, item: Any = None) -> Outcome:
        """The outcome of one sample (reward, flags, notes) without building a response; cancelling it
        frees what it waits on (a sandbox worker, a model call)."""
        return await self._root.aevaluate(self._scope(model_sample, item), self.services)

    def run_many(self, model_samples: Sequence[ModelSample], items: Sequence[Any] | None = None) -> list[Any]:
        """Grade many samples, in order; the same responses as `run` on each."""
        return self.grade_many(model_samples, items).responses()

    def grade_many(self, model_samples: Sequence[ModelSample], items: Sequence[Any] | None = None) -> Results:
        """Grade many samples, in order: the rewards and flags at once, each sample's GraderRunResponse
        built when it is read (`results[i]`, `results.responses()`). A caller that needs only rewards —
        an RL trainer, the benchmarks — pays for no response objects."""
        items = [None] * len(model_samples) if items is None else items
        if len(items) != len(model_samples):
            raise ValueError(f"{len(model_samples)} samples but {len(items)} items")
        started = time.perf_counter()
        results: list[float | Outcome]
        if isinstance(self._root, TextSimilarity):
            results = self._root.score_batch(model_samples, items, self.services)
        elif isinstance(self._root, PythonGrader):  # every sample to the sandbox, which batches them
            scopes = [self._scope(s, i) for s, i in zip(model_samples, items, strict=True)]
            results = list(self._root.evaluate_many(scopes, self.services))
        else:
            services = self.services
            results = [
                self._root.evaluate(self._scope(s, i), services)
                for s, i in zip(model_samples, items, strict=True)
            ]
        each = (time.perf_counter() - started) / max(1, len(results))
        if self._clean is None:
            self._clean = CleanResponses(self.name, self.kind)
        return Results(results, self._clean, each)

    def __getstate__(self) -> dict[str, Any]:
        return {"grader": self.grader, "config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["grader"], state["config"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"CompiledGrader({self.kind} {self.name!r})"


def compile_grader(grader: Any, config: EngineConfig | None = None) -> CompiledGrader:
    """Validate and prepare `grader` (a mapping, a bindings model, or JSON/YAML text) to run on many
    samples; GraderInvalid, with the validator's located problems, when it is not valid."""
    return CompiledGrader(grader, config)


def run_grader(
    grader: Any, model_sample: ModelSample, item: Any = None, config: EngineConfig | None = None
) -> Any:
    """Grade one sample with a grader used once."""
    return compile_grader(grader, config).run(model_sample, item)
