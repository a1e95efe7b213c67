"""Print IR types back as JSON Schema: the input of datamodel-code-generator and the schema export."""

from __future__ import annotations

from typing import Any, Protocol

from .model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    Field,
    MapOf,
    Named,
    Primitive,
    Struct,
    TypeRef,
    Union,
)

Schema = dict[str, Any]


class LanguageNames(Protocol):
    """A language's names of the IR's nodes (naming/names.py `Names`)."""

    def __call__(self, node: object, role: str = "") -> str: ...

    def has(self, node: object, role: str = "") -> bool: ...


class SchemaPrinter:
    def __init__(
        self, ir: IR, prefix: str = "#/components/schemas/", names: LanguageNames | None = None
    ) -> None:
        self.ir = ir
        self.prefix = prefix
        self.names = names
        """The language whose names the schemas take; None: the spec's own names."""

    def name(self, type_name: str) -> str:
        t = self.ir.types.get(type_name)
        if t is None:  # a fallback the printer adds, such as UnknownGrader
            return type_name
        return self.names(t) if self.names is not None else t.name

    def ref(self, type_name: str) -> Schema:
        return {"$ref": self.prefix + self.name(type_name)}

    def type(self, ref: TypeRef) -> Schema:
        if isinstance(ref, Primitive):
            return {"type": ref.name}
        if isinstance(ref, Named):
            return self.ref(ref.name)
        if isinstance(ref, ArrayOf):
            return {"type": "array", "items": self.type(ref.item)}
        if isinstance(ref, MapOf):
            value = self.type(ref.value)
            return {"type": "object", "additionalProperties": value or True}
        assert isinstance(ref, AnyJson)
        return {}

    def field(self, f: Field, lenient: bool = False) -> Schema:
        schema = self.type(f.type)
        if f.const is not None:
            schema["const"] = f.const
        if lenient and isinstance(f.type, Named):
            schema = self._open(f.type.name, schema)
        if f.nullable:
            if set(schema) == {"type"} and isinstance(schema["type"], str):
                schema = {"type": [schema["type"], "null"]}
            else:
                schema = {"anyOf": [schema, {"type": "null"}]}
        if f.description:
            schema["description"] = f.description
        if f.has_default:
            schema["default"] = f.default
        c = f.constraints
        for key, value in (
            ("minItems", c.min_items),
            ("maxItems", c.max_items),
            ("minProperties", c.min_properties),
        ):
            if value is not None:
                schema[key] = value
        return schema

    def _open(self, type_name: str, schema: Schema) -> Schema:
        """Accept what a newer API may send: an unknown union member, an unknown enum value."""
        t = self.ir.types[type_name]
        if isinstance(t, Union) and t.is_tagged_only:
            named = self.names is not None and self.names.has(t, "fallback")
            fallback = self.names(t, "fallback") if self.names is not None and named else t.unknown_name
            return {"anyOf": [schema, self.ref(fallback)]}
        if isinstance(t, Enum) and t.accepts_unknown:
            return {"anyOf": [schema, {"type": "string"}]}
        return schema

    def named(self, t: Any, lenient: bool = False) -> Schema:
        schema: Schema
        if isinstance(t, Struct):
            schema = {"type": "object", "properties": {f.wire_name: self.field(f, lenient) for f in t.fields}}
            required = [f.wire_name for f in t.fields if f.required]
            if required:
                schema["required"] = required
            if not t.keeps_unknown_fields:
                schema["additionalProperties"] = False
        elif isinstance(t, Enum):
            schema = {"type": "string", "enum": [v.wire for v in t.values]}
        elif isinstance(t, Union):
            members = [self.type(v.type) for v in t.variants]
            if t.nullable:
                members.append({"type": "null"})
            schema = {"oneOf": members}
            if t.discriminator and t.is_tagged_only:
                schema["discriminator"] = {
                    "propertyName": t.discriminator,
                    "mapping": {v.tag: self.prefix + self.name(v.type.name) for v in t.tagged_variants},  # type: ignore[union-attr]
                }
        else:
            assert isinstance(t, Alias)
            schema = self.type(t.target)
        if t.description:
            schema = {"description": t.description, **schema}
        return schema

    def unknown_variant(self, u: Union) -> Schema:
        tag = u.tag_name
        return {
            "type": "object",
            "description": (
                f"A {u.name} member this version of the bindings does not know. Every property is kept "
                "as it was received and written back unchanged."
            ),
            "properties": {tag: {"type": "string", "description": "The member's type tag."}},
            "required": [tag],
        }


def response_only_types(ir: IR) -> set[str]:
    """Types that only responses reach: where parsing must accept what a newer API sends."""
    requests = ir.reachable([op.request.name for op in ir.operations])
    responses = ir.reachable([r.name for op in ir.operations for r in (op.response, op.error) if r])
    return responses - requests


def lenient_unions(ir: IR) -> list[Union]:
    """The tagged unions that response-only fields refer to: they get an unknown-member fallback."""
    lenient = response_only_types(ir)
    found: list[Union] = []
    for t in ir.types.values():
        if t.name in lenient and isinstance(t, Struct):
            for f in t.fields:
                target = ir.types.get(getattr(f.type, "name", ""))
                if isinstance(target, Union) and target.is_tagged_only and target not in found:
                    found.append(target)
    return found
