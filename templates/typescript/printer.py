"""The TypeScript code fragments the templates print: type expressions, interface members, JSDoc and the
decoders that read answers (src/shapes.ts). Everything here is built from names the naming table made
and from spec text passed through its escapers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradergen.ir.model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    Field,
    MapOf,
    Named,
    NamedType,
    Operation,
    Primitive,
    Resource,
    Struct,
    TypeRef,
    Union,
)
from gradergen.languages import beside
from gradergen.literals import NUMBER_FILTERS, bytes_literal
from gradergen.naming.base import FALLBACK, resource_chain
from gradergen.naming.names import Names
from gradergen.naming.typescript import inline, jsdoc, ts_key, ts_property, ts_string
from gradergen.options import Options
from gradergen.spectext import SpecText

HERE = Path(__file__).resolve().parent
layout = beside("typescript", "layout.py")

_PRIMITIVES = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}
_PRIMITIVE_DECODERS = {
    "string": "d.string",
    "integer": "d.integer",
    "number": "d.number",
    "boolean": "d.boolean",
}


class Printer:
    def __init__(self, names: Names, options: Options) -> None:
        self.ir = names.ir
        self.names = names
        self.options = options

    # ------------------------------------------------------------------ names
    def name(self, t: NamedType | str) -> str:
        t = self.ir.types[t] if isinstance(t, str) else t
        return self.names(t)

    def fallback(self, u: Union) -> str:
        return self.names(u, FALLBACK)

    def group(self, group: str) -> list[NamedType]:
        """The types of one module (models.ts or operations.ts), in the spec's order."""
        return [t for t in self.ir.types.values() if t.group == group]

    def imports_from(self, group: str) -> list[str]:
        """The types a module of `group` names that the other module declares."""
        other: set[str] = set()
        for t in self.group(group):
            for ref in _refs(t):
                target = self.ir.types[ref]
                if target.group != group:
                    other.add(self.name(target))
        return sorted(other)

    def group_has_unions(self, group: str) -> bool:
        return any(isinstance(t, Union) for t in self.group(group))

    def unions(self) -> list[Union]:
        return [t for t in self.ir.types.values() if isinstance(t, Union)]

    # ------------------------------------------------------------------ types
    def type_expr(self, ref: TypeRef) -> str:
        if isinstance(ref, Primitive):
            return _PRIMITIVES[ref.name]
        if isinstance(ref, Named):
            return self.name(ref.name)
        if isinstance(ref, ArrayOf):
            return self.type_expr(ref.item) + "[]"
        if isinstance(ref, MapOf):
            return f"Record<string, {self.type_expr(ref.value)}>"
        assert isinstance(ref, AnyJson)
        return "unknown"

    def member(self, f: Field) -> str:
        """An interface member: `name: string;`, `name?: string | null;`, `type: "string_check";`."""
        key = ts_property(f.wire_name)
        if f.const is not None:
            return f"{key}: {ts_string(f.const)};"
        expr = self.type_expr(f.type)
        target = self.ir.types.get(f.type.name) if isinstance(f.type, Named) else None
        null_in_type = expr == "unknown" or (isinstance(target, Union) and target.nullable)
        if f.presence.endswith("_nullable") and not null_in_type:
            expr += " | null"
        return f"{key}{'' if f.required else '?'}: {expr};"

    def member_doc(self, f: Field) -> str:
        lines = [f.description.strip()] if f.description.strip() else []
        if f.has_default:
            default = json.dumps(f.default, ensure_ascii=True)
            lines.append(f"When absent, the API uses `{default}`.")
        c = f.constraints
        if c.min_items is not None and c.min_items == c.max_items:
            lines.append(f"Exactly {c.min_items} items.")
        else:
            if c.min_items is not None:
                lines.append(f"At least {c.min_items} item{'s' if c.min_items != 1 else ''}.")
            if c.max_items is not None:
                lines.append(f"At most {c.max_items} items.")
        if c.min_properties is not None:
            lines.append(f"At least {c.min_properties} entr{'ies' if c.min_properties != 1 else 'y'}.")
        if not lines:
            return ""
        return jsdoc(SpecText("\n\n".join(lines)), "  ") + "\n"

    def type_doc(self, t: NamedType, extra: str = "") -> str:
        text = t.description.strip() or SpecText(f"The {t.name} schema of the spec.")
        if extra:
            text = text + "\n\n" + extra
        return jsdoc(text)

    def enum_members(self, e: Enum) -> list[str]:
        known = [ts_string(v.wire) for v in e.values]
        if e.accepts_unknown:
            known.append("(string & {})")
        return known or ["string"]

    def enum_doc(self, e: Enum) -> str:
        described = [v for v in e.values if v.description.strip()]
        extra = "\n".join(f"- `{inline(v.wire)}`: {inline(v.description)}" for v in described)
        if e.accepts_unknown:
            extra += ("\n\n" if extra else "") + "A value this package does not list is kept as a string."
        return self.type_doc(e, extra)

    def union_members(self, u: Union) -> list[str]:
        members = [self.type_expr(v.type) for v in u.variants]
        members.append(self.fallback(u))
        if u.nullable:
            members.append("null")
        return members

    def union_doc(self, u: Union) -> str:
        if u.discriminator and u.is_tagged_only:
            how = (
                f"Told apart by `{inline(u.discriminator)}`; a member this package does not know is an "
                f"`{self.fallback(u)}`, which keeps the JSON it came as."
            )
        else:
            how = (
                f"A value none of the members reads is an `{self.fallback(u)}`, which keeps the JSON it "
                "came as."
            )
        return self.type_doc(u, how)

    def fallback_class(self, u: Union) -> str:
        """The class a member this package does not know decodes to."""
        body: list[str] = []
        tag = self.tag_property(u)
        if tag:
            body.append(f"  /** Absent, so that `{inline(u.tag_name)}` tells the known members apart. */")
            body.append(f"  declare readonly {tag}?: never;")
        return str(layout.class_declaration(f"export class {self.fallback(u)} extends UnknownMember", body))

    # ------------------------------------------------------------------ layout (layout.py)
    def type_alias(self, t: NamedType, members: list[str]) -> str:
        return str(layout.type_alias(self.name(t), members))

    def decoder_declaration(self, t: NamedType) -> str:
        """`export const X: d.Decoder<m.X> = ...;`, the decoder of one type in src/shapes.ts."""
        annotation = f"d.Decoder<{self.qualified(t)}>"
        return str(layout.const_declaration(self.name(t), annotation, self.type_decoder(t)))

    def tag_property(self, u: Union) -> str | None:
        """The tag as a property key, for the fallback's `type?: never`."""
        return ts_property(u.tag_name) if u.tagged_variants else None

    def alias_type(self, a: Alias) -> str:
        return self.type_expr(a.target)

    # ------------------------------------------------------------------ decoders
    def qualified(self, t: NamedType) -> str:
        """The type as src/shapes.ts names it: m.StringCheckGrader, o.GraderRunResponse."""
        return ("m." if t.group == "models" else "o.") + self.name(t)

    def error_classes(self) -> list[str]:
        return [self.names(e) for e in self.ir.client.all_errors]

    def fallbacks_of(self, group: str) -> list[str]:
        return sorted(self.fallback(u) for u in self.unions() if u.group == group)

    def decoder(self, ref: TypeRef) -> str:
        if isinstance(ref, Primitive):
            return _PRIMITIVE_DECODERS[ref.name]
        if isinstance(ref, Named):
            return f"d.lazy(() => {self.name(ref.name)})"
        if isinstance(ref, ArrayOf):
            return f"d.arrayOf({self.decoder(ref.item)})"
        if isinstance(ref, MapOf):
            return f"d.recordOf({self.decoder(ref.value)})"
        return "d.json"

    def field_decoder(self, f: Field) -> str:
        inner = f"d.literal({ts_string(f.const)})" if f.const is not None else self.decoder(f.type)
        wrapper = {
            "required": "d.required",
            "required_nullable": "d.requiredNullable",
            "optional": "d.optional",
            "optional_nullable": "d.optionalNullable",
        }[f.presence]
        return f"{ts_key(f.wire_name)}: {wrapper}({inner}),"

    def type_decoder(self, t: NamedType) -> str:
        """The right-hand side of `const X: d.Decoder<m.X> = ...`."""
        if isinstance(t, Struct):
            fields = "\n".join("  " + self.field_decoder(f) for f in t.fields)
            if t.keeps_unknown_fields:
                return f"d.object({{\n{fields}\n}})"
            return f"d.object(\n  {{\n{fields}\n  }},\n  {{ keepsUnknown: false }},\n)"
        if isinstance(t, Enum):
            if t.accepts_unknown:
                return "d.string"
            return "d.oneOf([" + ", ".join(ts_string(v.wire) for v in t.values) + "])"
        if isinstance(t, Alias):
            return self.decoder(t.target)
        assert isinstance(t, Union)
        dispatch = t.dispatch  # the one rule every binding reads: null, then the JSON kind, then the tag
        parts: list[str] = []
        if dispatch.by_tag:
            parts.append(f"discriminator: {ts_string(dispatch.tag_name)},")
            tags = [f"    {ts_key(tag)}: {self.decoder(v.type)}," for tag, v in dispatch.by_tag.items()]
            parts.append("tags: {\n" + "\n".join(tags) + "\n  },")
        kinds = [f"    {kind}: {self.decoder(v.type)}," for kind, v in dispatch.by_kind.items()]
        if kinds:
            parts.append("kinds: {\n" + "\n".join(kinds) + "\n  },")
        if dispatch.nullable:
            parts.append("nullable: true,")
        parts.append(f"fallback: (json) => new {self.fallback(t)}(json),")
        return "d.union({\n" + "\n".join("  " + p for p in parts) + "\n})"

    # ------------------------------------------------------------------ client
    def resources(self) -> list[Resource]:
        return self.ir.all_resources()

    def resource_class(self, r: Resource) -> str:
        return self.names(r)

    def resource_classes(self) -> list[str]:
        return [self.resource_class(r) for r in self.resources()]

    def accessor(self, r: Resource) -> str:
        """fineTuning.alpha.graders"""
        return ".".join(resource_chain(self.names, r))

    def operation_types(self) -> list[str]:
        names = {self.name(op.request.name) for op in self.ir.operations}
        names |= {self.name(op.response.name) for op in self.ir.operations}
        return sorted(names)

    def operation_doc(self, op: Operation) -> str:
        text = (op.description or op.summary).strip()
        lines = [text] if text else []
        lines.append(SpecText(f"`{op.http_method} {op.path}`"))
        return jsdoc(SpecText("\n\n".join(lines)), "  ")


def _refs(t: NamedType) -> list[str]:
    from gradergen.ir.model import referenced_names

    return referenced_names(t)


def tooling() -> dict[str, str]:
    """The exact versions of the TypeScript tooling (tooling/package.json, locked in its lockfile)."""
    manifest = json.loads((HERE / "tooling" / "package.json").read_text(encoding="utf-8"))
    deps: dict[str, str] = manifest["dependencies"]
    return deps


def context(ir: IR, table: Any, names: Names, options: Options) -> dict[str, Any]:
    package = options.typescript_package
    return {
        "ts": Printer(names, options),
        "layout": layout,  # lists, calls and signatures laid out as prettier would (layout.py)
        "package": package,
        "policy": ir.client,
        "tools": tooling(),
    }


def ts_number(value: int) -> str:
    """An integer literal with digit separators: 600_000."""
    return f"{int(value):_}"


FILTERS = {"ts_number": ts_number, **NUMBER_FILTERS, "bytes_literal": bytes_literal}
