"""Namespace options: where the generated code lives when it is generated into another repo.

Each language declares its own in its manifest (name, default, the pattern a value must match); a value
is read as `options.<lang>_<name>` and set with `--<lang>-<name>`.
"""

from __future__ import annotations

from typing import Any

from .errors import GradergenError
from .languages import OptionSpec, declared_options


class Options:
    """The namespace options of every discovered language; unset ones take their declared default."""

    __slots__ = ("_values",)
    _values: dict[str, str]

    def __init__(self, **values: str) -> None:
        declared = declared_options()
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise GradergenError(
                f"unknown namespace option {unknown[0]!r}: expected one of {', '.join(sorted(declared))}"
            )
        checked: dict[str, str] = {}
        for key, spec in declared.items():
            value = values.get(key, spec.default)
            if not isinstance(value, str) or not spec.pattern.fullmatch(value):
                raise GradergenError(f"{spec.flag} {value!r} is not valid: expected {spec.example}")
            checked[key] = value
        object.__setattr__(self, "_values", checked)

    def __getattr__(self, key: str) -> str:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no namespace option {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Options are read-only")

    def __getstate__(self) -> dict[str, str]:
        return self._values

    def __setstate__(self, state: dict[str, str]) -> None:
        object.__setattr__(self, "_values", dict(state))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Options) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


__all__ = ["OptionSpec", "Options"]
