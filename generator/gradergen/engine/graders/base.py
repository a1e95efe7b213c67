"""What every kind of grader is compiled into: an evaluator that turns one sample into an `Outcome`."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...language.templates import MissingVariable, Template, render, scan
from ..outcome import Outcome
from ..sample import Sample, SampleParseError

if TYPE_CHECKING:
    from ..services import Services

Scope = Mapping[str, Any]
"""{"item": the dataset row, "sample": a Sample}."""


def scope_of(sample: Sample, item: Any) -> Scope:
    return {"item": item, "sample": sample}


class Evaluator(ABC):
    """One compiled grader. Immutable once built, so one evaluator serves many threads at once."""

    def __init__(self, grader: Mapping[str, Any]) -> None:
        self.name = str(grader.get("name", ""))
        self.kind = str(grader["type"])

    @abstractmethod
    def evaluate(self, scope: Scope, services: Services) -> Outcome:
        """The outcome of this grader on one sample; never raises for anything the sample holds."""

    async def aevaluate(self, scope: Scope, services: Services) -> Outcome:
        """The same, without blocking the event loop; graders that wait on something (a sandbox, a
        model) override it."""
        return await asyncio.to_thread(self.evaluate, scope, services)


class TemplateField:
    """A string of the grader that may hold templates, read once."""

    __slots__ = ("template", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.template: Template = scan(text)

    def render(self, scope: Scope, outcome: Outcome) -> str | None:
        """The text with its variables filled in; None (and the flag set) when one has no value."""
        try:
            return render(self.template, scope)
        except SampleParseError as exc:
            outcome.fail("sample_parse_error")
            outcome.notes.append(str(exc))
        except MissingVariable as exc:
            outcome.fail("invalid_variable_error")
            outcome.notes.append(str(exc))
        return None
