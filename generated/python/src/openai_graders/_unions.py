"""Unions are told apart as the spec says, not by pydantic's guess."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

_KINDS: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("boolean", lambda v: isinstance(v, bool)),
    (
        "integer",
        lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and v.is_integer())
        ),
    ),
    ("number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    ("string", lambda v: isinstance(v, str)),
    ("array", lambda v: isinstance(v, (list, tuple))),
    ("object", lambda v: isinstance(v, dict)),
)


def dispatcher(
    tag_name: str, tags: set[str], by_kind: dict[str, str], classes: dict[str, str]
) -> Callable[[Any], str | None]:
    """The member a value of a union is, as its pydantic tag: an object by its `tag_name` property
    when the members are tagged (`tags`), any other value by its JSON kind (a bool before an integer,
    an integer before a number); a model instance by its class. None where no member reads the value,
    which pydantic reports as an error of the union."""

    def member(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            return next(
                (classes[cls.__name__] for cls in type(value).__mro__ if cls.__name__ in classes),
                None,
            )
        if isinstance(value, dict) and tags:
            tag = value.get(tag_name)
            return tag if isinstance(tag, str) and tag in tags else None
        return next(
            (by_kind[kind] for kind, is_kind in _KINDS if kind in by_kind and is_kind(value)), None
        )

    return member
