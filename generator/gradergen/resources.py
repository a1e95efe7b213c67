"""Where the spec and templates live: inside the installed wheel, or in the source tree."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_data"
_SOURCE_TREE = _PACKAGE.parent.parent


def data_root() -> Path:
    """The wheel carries spec/ and templates/ under gradergen/_data; a checkout has them at its root."""
    return _BUNDLED if (_BUNDLED / "spec").is_dir() else _SOURCE_TREE


def default_spec() -> Path:
    return data_root() / "spec" / "graders.openapi.yaml"


def templates_dir(lang: str) -> Path:
    return data_root() / "templates" / lang
