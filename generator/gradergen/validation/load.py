"""Read JSON, JSONL and YAML: which format a text is, and its documents."""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from .document import Document, Unreadable
from .json_text import DECODER, parse_json, parse_jsonl
from .yaml_text import YamlLoader, parse_yaml


def sniff(text: str) -> str:
    """json, jsonl or yaml, for text that came without a file name."""
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "["):
        return "yaml"
    try:
        end = DECODER.raw_decode(text, len(text) - len(stripped))[1]
    except (ValueError, RecursionError):
        # YAML flow ({input: x, type: string_check}) when YAML reads it; else the JSON error is clearer
        return "yaml" if _reads_as_yaml(text) else "json"
    rest = text[end:]
    gap = rest[: len(rest) - len(rest.lstrip())]
    return "jsonl" if rest.strip() and "\n" in gap else "json"


def _reads_as_yaml(text: str) -> bool:
    try:
        for _ in yaml.compose_all(text, Loader=YamlLoader):
            pass
    except (yaml.YAMLError, RecursionError):
        return False
    return True


def format_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".jsonl") or lower.endswith(".ndjson"):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    return None


def parse_text(text: str, fmt: str) -> Iterator[Document | Unreadable]:
    if fmt == "json":
        try:
            yield parse_json(text)
        except Unreadable as exc:
            yield exc
    elif fmt == "jsonl":
        yield from parse_jsonl(enumerate(text.split("\n"), 1))
    else:
        yield from parse_yaml(text)
