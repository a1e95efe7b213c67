"""Reading a template for many samples at once: the common shapes (`{{ sample.output_text }}` of a text
sample, `{{ item.key.key }}` leading to text in plain dicts, text without templates) are read directly,
and anything else — and every case that goes wrong — takes `TemplateField.render`, which sets the flags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...language.templates import Key
from .base import TemplateField

TextGetter = Callable[[Any, Any], "str | None"]
"""(model_sample, item) → the rendered text, or None when the general path must decide."""

_MISSING: Any = object()


def text_getter(field: TemplateField) -> TextGetter | None:
    """A direct reader of `field` for the shapes above, or None when it has another shape."""
    parts = field.template.parts
    if not parts or (len(parts) == 1 and isinstance(parts[0], str)):
        constant = parts[0] if parts else ""
        assert isinstance(constant, str)
        return lambda model_sample, item: constant
    variable = field.template.single
    if variable is None or not all(isinstance(step, Key) for step in variable.steps):
        return None
    keys = tuple(step.name for step in variable.steps if isinstance(step, Key))
    if variable.namespace == "sample":
        if keys != ("output_text",):
            return None
        return lambda model_sample, item: model_sample if type(model_sample) is str else None

    def from_item(model_sample: Any, item: Any) -> str | None:
        value = item
        for key in keys:
            if type(value) is not dict:
                return None
            value = value.get(key, _MISSING)
        return value if type(value) is str else None

    return from_item


def text_column(field: TemplateField, model_samples: Sequence[Any], items: Sequence[Any]) -> list[str] | None:
    """The rendered text of `field` for every sample at once, when its shape allows reading a whole
    column in one pass and every value is text; None when any sample needs the general path."""
    parts = field.template.parts
    if not parts or (len(parts) == 1 and isinstance(parts[0], str)):
        return [parts[0] if parts else ""] * len(model_samples)  # type: ignore[list-item]
    variable = field.template.single
    if variable is None or not all(isinstance(step, Key) for step in variable.steps):
        return None
    keys = [step.name for step in variable.steps if isinstance(step, Key)]
    if variable.namespace == "sample":
        if keys != ["output_text"]:
            return None
        column = list(model_samples)
    else:
        column = list(items)
        try:
            for key in keys:
                column = [value[key] for value in column]
        except (KeyError, TypeError, IndexError):
            return None
        if not all(type(value) is dict for value in items):
            return None  # a mapping of another kind: the general path reads it
    return column if all(type(value) is str for value in column) else None
