"""What the Go templates print beyond names: how each field is held (its type and struct tag), doc
comments, union members and the kind constants that select them.

Loaded by the renderer from the manifest's `printer:`; the naming table (gradergen/naming/go.py) only
names and escapes. How a field is held follows its presence in the IR:

- required: the plain Go type;
- required and nullable: a pointer (nil is null), or the slice, map or interface itself;
- optional: a pointer (nil is absent), or a slice, map, interface or union (their zero value is absent),
  tagged `omitzero`;
- optional and nullable: Nullable[T], which tells absent, null and a value apart, tagged `omitzero`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gradergen.errors import GradergenError
from gradergen.ir.model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    Field,
    JsonKind,
    MapOf,
    Named,
    NamedType,
    Operation,
    Resource,
    Struct,
    TypeRef,
    Union,
    Variant,
)
from gradergen.literals import NUMBER_FILTERS, go_bytes, go_duration
from gradergen.naming.base import NamingTable, resource_chain
from gradergen.naming.go import GoNaming, TypeAlias, comment, go_string, inline
from gradergen.naming.names import Names
from gradergen.options import Options
from gradergen.spectext import SpecText

_KIND_CONSTANTS: dict[JsonKind, str] = {
    "string": "kindString",
    "integer": "kindInteger",
    "number": "kindNumber",
    "boolean": "kindBoolean",
    "array": "kindArray",
    "object": "kindObject",
    "null": "kindNull",
}
_ARTICLES = ("A", "An", "The")
_TAG_NAME = re.compile(r"^[\w!#$%&()*+\-./:;<=>?@\[\]^{|}~ ]+$")
"""What encoding/json accepts as a property name in a struct tag."""


class GoPrinter:
    """The Go code fragments of one named IR."""

    def __init__(self, table: GoNaming, names: Names) -> None:
        self.table = table
        self.names = names
        self.ir = names.ir
        self.union_aliases = table.field_union_aliases(names)

    def type_expr(self, ref: TypeRef) -> str:
        return self.table.type_expr(ref, self.names)

    # ------------------------------------------------------------------ comments
    def type_doc(self, t: NamedType) -> str:
        """A declaration's doc comment starts with its name, as Go's tools expect. Spec text: print it
        with `comment`."""
        name = self.names(t)
        text = t.description.strip()
        if not text:
            return SpecText(f"{name} is the {t.name} schema of the spec.")
        first, _, rest = text.partition(" ")
        if first in _ARTICLES and rest:
            return SpecText(f"{name} is {first.lower()} {rest}")
        return SpecText(f"{name}: {text}")

    def operation_doc(self, op: Operation) -> str:
        """Spec text: print it with `comment`."""
        name = self.names(op)
        text = (op.description or op.summary).strip()
        if text.startswith(name + " "):
            return SpecText(text)
        return SpecText(f"{name} sends {op.http_method} {op.path}." + (f" {text}" if text else ""))

    def variant_comment(self, v: Variant, u: Union) -> str:
        """What selects the member: its tag, or the kind of JSON value."""
        if v.tag is not None and u.discriminator:
            return f"// {inline(u.discriminator)} {go_string(v.tag)}"
        return "// " + " or ".join(f"a JSON {k}" for k in u.kinds_read_by(v))

    def field_comment(self, f: Field) -> str:
        """The field's doc comment: its description, then what absence means and the size limits."""
        lines = [f.description] if f.description.strip() else []
        if f.has_default:
            lines.append(f"When absent, the API uses {json.dumps(f.default, ensure_ascii=True)}.")
        c = f.constraints
        if c.min_items is not None and c.min_items == c.max_items:
            lines.append(f"It holds exactly {c.min_items} items.")
        else:
            if c.min_items is not None:
                lines.append(f"It holds at least {c.min_items} item{'s' if c.min_items != 1 else ''}.")
            if c.max_items is not None:
                lines.append(f"It holds at most {c.max_items} items.")
        if c.min_properties is not None:
            lines.append(f"It has at least {c.min_properties} entr{'ies' if c.min_properties != 1 else 'y'}.")
        return comment("\n".join(lines), "\t")

    # ------------------------------------------------------------------ types
    def _nil_is_absence(self, ref: TypeRef) -> bool:
        """Slices, maps and interfaces have nil of their own; unions have an empty value."""
        if isinstance(ref, (ArrayOf, MapOf, AnyJson)):
            return True
        if isinstance(ref, Named):
            target = self.ir.types[ref.name]
            if isinstance(target, Alias):
                return self._nil_is_absence(target.target)
            return isinstance(target, Union)
        return False

    def _has_nil(self, ref: TypeRef) -> bool:
        if isinstance(ref, Named) and isinstance(self.ir.types[ref.name], Union):
            return False  # a union's null is a member (Null), not a nil
        return self._nil_is_absence(ref)

    def field_type(self, f: Field, owner: Struct) -> str:
        expr = self.union_aliases.get((owner.name, f.wire_name)) or self.type_expr(f.type)
        presence = f.presence
        if f.null_member:  # the union holds the null itself (its Null member): the field needs none
            presence = "required" if f.required else "optional"
        if presence == "required":
            return expr
        if presence == "required_nullable":
            return expr if self._has_nil(f.type) else "*" + expr
        if presence == "optional":
            return expr if self._nil_is_absence(f.type) else "*" + expr
        return f"Nullable[{expr}]"

    def field_tag(self, f: Field, owner: Struct) -> str:
        if not _TAG_NAME.match(f.wire_name):
            raise GradergenError(
                f"{owner.pointer}/properties/{f.wire_name}: Go cannot name the property {f.wire_name!r} in a "
                "struct tag (quotes, commas, backslashes and backquotes are not allowed)"
            )
        return f'`json:"{f.wire_name}{"" if f.required else ",omitzero"}"`'

    def variant_type(self, v: Variant) -> str:
        expr = self.type_expr(v.type)
        return expr if self._has_nil(v.type) else "*" + expr

    def variant_is_pointer(self, v: Variant) -> bool:
        return self.variant_type(v).startswith("*")

    def kind_constants(self, u: Union, v: Variant) -> list[str]:
        return [_KIND_CONSTANTS[k] for k in u.kinds_read_by(v)]


TEMPLATE_HELPERS = (
    "field_comment",
    "field_tag",
    "field_type",
    "kind_constants",
    "operation_doc",
    "type_doc",
    "type_expr",
    "variant_comment",
    "variant_is_pointer",
    "variant_type",
)
"""The GoPrinter methods the templates call."""


FILTERS: dict[str, Callable[..., Any]] = {**NUMBER_FILTERS, "go_duration": go_duration, "go_bytes": go_bytes}


def context(ir: IR, table: NamingTable, names: Names, options: Options) -> dict[str, Any]:
    assert isinstance(table, GoNaming)
    printer = GoPrinter(table, names)
    return {
        **{name: getattr(printer, name) for name in TEMPLATE_HELPERS},
        "module": options.go_module,
        "package": options.go_package,
        "aliases": _by_anchor(table.aliases(names)),
        "go_name": names.type,
        "first_value": lambda name: _first_enum_value(names, name),
        "member": lambda union, key: _member(names, union, key),
        "union_alias": lambda struct, wire: printer.union_aliases[(struct, wire)],
        "accessor": lambda op: ".".join(resource_chain(names, _resource_of(ir, op))),
        "closed_enums": any(isinstance(t, Enum) and not t.accepts_unknown for t in ir.types.values()),
        "uses_json": lambda group: any(
            isinstance(t, Union) or (isinstance(t, Struct) and t.keeps_unknown_fields)
            for t in ir.types.values()
            if t.group == group
        ),
    }


def _member(names: Names, union: str, key: str) -> str:
    """The Go name of the member of `union` whose key (type name or JSON kind) is `key`."""
    u = names.ir.types[union]
    assert isinstance(u, Union)
    return next(names(v) for v in u.variants if v.key == key)


def _first_enum_value(names: Names, name: str) -> str:
    enum = names.ir.types[name]
    assert isinstance(enum, Enum)
    return names(enum.values[0])


def _by_anchor(aliases: list[TypeAlias]) -> dict[str, list[TypeAlias]]:
    grouped: dict[str, list[TypeAlias]] = {}
    for a in aliases:
        grouped.setdefault(a.anchor, []).append(a)
    return grouped


def _resource_of(ir: IR, op: Operation) -> Resource:
    return next(r for r in ir.all_resources() if r.path == op.resource)
