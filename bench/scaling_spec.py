"""Synthetic specs for the scaling benchmark: the real spec plus N extra schemas of 20 properties each.

The extra schemas are a realistic mix: strings (with formats and descriptions), integers, numbers,
booleans, enums nested under the object that uses them, references to other objects (required, optional
and nullable), arrays of strings and of objects, string maps, and a few tagged unions of three members.
They form two trees about log2(N) deep hanging off the real spec: one reached from the run request
(`catalog`), one only from its response (`report`), so that both request and response-only handling is
exercised. The same N always gives the same document.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "graders.openapi.yaml"
REF = "#/components/schemas/"

FIELDS_PER_SCHEMA = 20
UNION_EVERY = 25
"""One schema in this many is a tagged union of three new member objects."""
ENUM_EVERY = 4
"""One object in this many owns an enum (named after it, so the languages that nest types nest it)."""

_NOUNS = (
    "Account Invoice Ledger Shipment Parcel Route Vendor Contract Policy Claim Asset Batch Channel Ticket "
    "Session Token Quota Region Tenant Project Report Metric Signal Budget Order Refund Coupon Profile"
).split()
_ADJECTIVES = "Primary Pending Archived Shared Billing Public Internal Legacy Draft Audit".split()
_WORDS = (
    "status label owner created_at updated_at region priority summary notes currency amount weight "
    "ratio enabled tags children parent source target limits contact title code url file_id"
).split()


def _name(i: int) -> str:
    return f"{_ADJECTIVES[i % len(_ADJECTIVES)]}{_NOUNS[(i // len(_ADJECTIVES)) % len(_NOUNS)]}{i}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


class _Builder:
    def __init__(self, count: int, seed: int) -> None:
        self.count = count
        self.rng = random.Random(seed)
        self.schemas: dict[str, Any] = {}
        self.objects: list[str] = []
        self.unions: list[str] = []

    def build(self) -> dict[str, Any]:
        """`count` schemas in all: objects, their enums, and the unions with their members."""
        i = 0
        while len(self.schemas) < self.count:
            name = _name(i)
            if i % UNION_EVERY == UNION_EVERY - 1 and self.count - len(self.schemas) >= 4:
                self._union(name)
            else:
                self.objects.append(name)
                self.schemas[name] = {}  # filled below, once every name is known
                if i % ENUM_EVERY == 0 and len(self.schemas) < self.count:
                    self._enum(name + "Kind")
            i += 1
        for group in self.groups():
            for position, name in enumerate(group):
                # like a heap: the objects at 2p+1 ... 2p+8, so that nesting stays about log2(N) deep
                self.schemas[name] = self._object(name, group[2 * position + 1 : 2 * position + 9])
        return self.schemas

    def groups(self) -> tuple[list[str], list[str]]:
        """The objects the request reaches and those only the response reaches (alternating)."""
        return self.objects[0::2], self.objects[1::2]

    def _enum(self, name: str) -> None:
        values = self.rng.sample(["draft", "active", "paused", "closed", "failed", "in_review", "v2"], 4)
        self.schemas[name] = {"type": "string", "description": f"The kind of {name[:-4]}.", "enum": values}

    def _union(self, name: str) -> None:
        members = [f"{name}{suffix}" for suffix in ("Text", "Image", "File")]
        for member in members:
            tag = member[len(name) :].lower()
            self.schemas[member] = {
                "type": "object",
                "description": f"The {tag} form of {name}.",
                "properties": {
                    "type": {"type": "string", "const": tag, "description": "The member's tag."},
                    "content": {"type": "string", "description": f"The {tag} itself."},
                    "size": {"type": ["integer", "null"], "description": "Its size in bytes."},
                },
                "required": ["type", "content"],
            }
        self.schemas[name] = {
            "description": f"One of three forms of {name}.",
            "oneOf": [_ref(m) for m in members],
            "discriminator": {
                "propertyName": "type",
                "mapping": {m[len(name) :].lower(): REF + m for m in members},
            },
        }
        self.unions.append(name)

    def _object(self, name: str, later: list[str]) -> dict[str, Any]:
        """Twenty properties; references point only to `later` objects of the same group (no cycles)."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        position = self.objects.index(name)
        for n, kind in enumerate(_KINDS[:FIELDS_PER_SCHEMA]):
            wire = f"{_WORDS[(position + n) % len(_WORDS)]}_{n}"
            prop = self._property(name, kind, later)
            properties[wire] = prop or {"type": "string", "description": f"The {wire.replace('_', ' ')}."}
            if n % 3 == 0 and kind not in ("optional_ref", "nullable_ref"):
                required.append(wire)
        return {
            "type": "object",
            "description": f"A {name} record.",
            "properties": properties,
            "required": required,
        }

    def _property(self, name: str, kind: str, later: list[str]) -> dict[str, Any] | None:
        if kind == "string":
            return {"type": "string", "description": f"A text of {name}."}
        if kind == "nullable_string":
            return {"type": ["string", "null"], "description": "May be null."}
        if kind == "date":
            return {"type": "string", "format": "date-time", "description": "When it happened."}
        if kind in ("integer", "number", "boolean"):
            return {"type": kind}
        if kind == "enum":
            return _ref(name + "Kind") if name + "Kind" in self.schemas else None
        if kind == "strings":
            return {"type": "array", "items": {"type": "string"}, "description": "A list of labels."}
        if kind == "map":
            return {"type": "object", "additionalProperties": {"type": "string"}}
        if kind == "union":
            return _ref(self.rng.choice(self.unions)) if self.unions else None
        if not later:
            return None
        target = self.rng.choice(later)
        if kind in ("ref", "optional_ref"):
            return _ref(target)
        if kind == "nullable_ref":
            return {"anyOf": [_ref(target), {"type": "null"}]}
        assert kind == "refs"
        return {"type": "array", "items": _ref(target), "description": "The related records."}


_KINDS = [
    "string", "string", "string", "string", "string", "date", "integer", "integer", "number", "boolean",
    "enum", "ref", "ref", "optional_ref", "nullable_ref", "strings", "refs", "map", "union",
    "nullable_string",
]  # fmt: skip


def scaling_spec(count: int, seed: int = 9) -> dict[str, Any]:
    """The real spec with `count` extra schemas: the run request reaches one half of the objects, its
    response the other half (and the unions are shared)."""
    doc: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    builder = _Builder(count, seed)
    extra = builder.build()
    schemas = doc["components"]["schemas"]
    clashes = set(extra) & set(schemas)
    if clashes:
        raise ValueError(f"synthetic names clash with the spec: {sorted(clashes)}")
    schemas.update(extra)
    referenced = {ref[len(REF) :] for s in extra.values() for ref in _refs(s)}
    request_side, response_side = builder.groups()
    schemas["SyntheticCatalog"] = _root(
        "Everything the request carries besides the grader.", [n for n in request_side if n not in referenced]
    )
    schemas["SyntheticReport"] = _root(
        "Everything the response reports besides the reward.",
        [n for n in response_side if n not in referenced],
    )
    schemas["GraderRunParams"]["properties"]["catalog"] = _ref("SyntheticCatalog")
    schemas["GraderRunResponse"]["properties"]["report"] = _ref("SyntheticReport")
    return doc


def _root(description: str, members: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {f"entry_{i}": _ref(m) for i, m in enumerate(members)},
    }


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def write_scaling_spec(count: int, path: Path) -> Path:
    path.write_text(yaml.safe_dump(scaling_spec(count), sort_keys=False, width=120), encoding="utf-8")
    return path
