"""Names a package exports but imports only when first asked for (PEP 562): every `gradergen` command
imports the packages whose commands it lists, and the engine's graders load the generated bindings
and pydantic, which `gradergen validate` and `--help` do not need."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: each name of `exports` from the submodule it maps to,
    imported on first use and kept in the package from then on."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__
