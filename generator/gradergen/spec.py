"""Load the OpenAPI document and check the parts the generator relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

try:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


def load_spec(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("/", "spec file not found", source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("/", f"cannot read spec: {exc}", source) from None
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError("/", f"not valid YAML{where}: {problem}", source) from None
    if not isinstance(doc, dict):
        raise SpecError("/", "the spec must be a YAML or JSON object", source)
    version = str(doc.get("openapi", ""))
    if not version.startswith("3.1"):
        raise SpecError(
            "/openapi", f"expected an OpenAPI 3.1 document, found {version or 'no version'!r}", source
        )
    for key in ("paths", "components"):
        if not isinstance(doc.get(key), dict):
            raise SpecError(f"/{key}", "missing or not an object", source)
    if not isinstance(doc["components"].get("schemas"), dict):
        raise SpecError("/components/schemas", "missing or not an object", source)
    return doc


def resolve_local(doc: dict[str, Any], ref: str, pointer: str) -> Any:
    """Follow a `#/...` reference inside the document."""
    if not ref.startswith("#/"):
        raise SpecError(pointer, f"only local references are supported, found {ref!r}")
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SpecError(pointer, f"reference {ref!r} does not resolve")
        node = node[part]
    return node
