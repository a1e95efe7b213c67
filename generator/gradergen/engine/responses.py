"""GraderRunResponse objects for many clean results, fast.

Validating a response costs about 20 µs, more than most metrics take to score a pair. A result without
flags, usage or sub-rewards differs from the next only in its reward and time, so `CleanResponses`
validates one response per grader and builds the others as copies of it with pydantic's
`model_construct` protocol (the field values, the set of fields given, no extra or private values),
each with containers of its own. The copies are equal to what `Outcome.response` gives, fields set
included (tests/test_engine_metrics.py checks it); should pydantic store a model differently, the
builder notices on the validated one and validates every response instead.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .outcome import Outcome

_RESPONSE_FIELDS = ("metadata", "model_grader_token_usage_per_model", "reward", "sub_rewards")
_METADATA_FIELDS = ("errors", "execution_time", "name", "sampled_model_name", "scores", "token_usage", "type")
"""The order pydantic keeps the fields in (the models' declaration order), which the copies keep too."""


def _slot_setters() -> tuple[Any, ...] | None:
    """The setters of the four slots pydantic keeps a model in, or None if it keeps it otherwise."""
    from pydantic import BaseModel

    slots = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
    found = [getattr(BaseModel.__dict__.get(name), "__set__", None) for name in slots]
    return tuple(found) if all(found) else None


class CleanResponses:
    """Responses of one grader for rewards that came with no flag set."""

    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind
        model = Outcome().response(name, kind, 0.0)
        metadata, errors = model.metadata, model.metadata.errors
        setters = _slot_setters()
        self._fast = (
            setters is not None
            and all(
                getattr(m, "__pydantic_extra__", None) == {}
                and getattr(m, "__pydantic_private__", ...) is None
                for m in (model, metadata, errors)
            )
            and (tuple(vars(model)), tuple(vars(metadata))) == (_RESPONSE_FIELDS, _METADATA_FIELDS)
        )
        self._setters = setters
        self._classes = (type(model), type(metadata), type(errors))
        self._fields_set = (
            frozenset(model.__pydantic_fields_set__),
            frozenset(metadata.__pydantic_fields_set__),
            frozenset(errors.__pydantic_fields_set__),
        )
        self._errors = dict(vars(errors))

    def responses(self, results: Sequence[float | Outcome], execution_time: float) -> list[Any]:
        """A response for each result: a reward (no flag set) as a copy, an Outcome validated."""
        name, kind = self.name, self.kind
        if not self._fast or self._setters is None:
            return [
                (r if isinstance(r, Outcome) else Outcome(reward=r)).response(name, kind, execution_time)
                for r in results
            ]
        set_dict, set_fields, set_extra, set_private = self._setters
        response_class, metadata_class, errors_class = self._classes
        response_fields, metadata_fields, errors_fields = self._fields_set
        errors_values = self._errors
        new = object.__new__
        out: list[Any] = []
        append = out.append
        with _collector_paused():
            for reward in results:
                if isinstance(reward, Outcome):
                    append(reward.response(name, kind, execution_time))
                    continue
                errors = new(errors_class)
                set_dict(errors, errors_values.copy())
                set_fields(errors, set(errors_fields))
                set_extra(errors, {})
                set_private(errors, None)
                metadata = new(metadata_class)
                set_dict(
                    metadata,
                    {
                        "errors": errors,
                        "execution_time": execution_time,
                        "name": name,
                        "sampled_model_name": None,
                        "scores": {},
                        "token_usage": None,
                        "type": kind,
                    },
                )
                set_fields(metadata, set(metadata_fields))
                set_extra(metadata, {})
                set_private(metadata, None)
                response = new(response_class)
                set_dict(
                    response,
                    {
                        "metadata": metadata,
                        "model_grader_token_usage_per_model": {},
                        "reward": reward,
                        "sub_rewards": {},
                    },
                )
                set_fields(response, set(response_fields))
                set_extra(response, {})
                set_private(response, None)
                append(response)
        return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a batch of responses is made: they hold no cycles, and
    its passes over the growing list cost as much as building them. Left as it was found."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
