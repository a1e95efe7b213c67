"""Casing, reserved words and collisions: the shared half of every language's naming table.

A language's table (naming/<lang>.py) says how it spells each kind of name; `apply_naming` walks the IR
once, stores each result in the `names[lang]` slot of the type, field, enum value, variant or operation,
and makes names unique within their scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from ..ir.model import (
    IR,
    ArrayOf,
    Enum,
    EnumValue,
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
    Variant,
)

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words(name: str) -> list[str]:
    """Split snake_case, camelCase, PascalCase, kebab-case and digits into lower-case words."""
    return [w.lower() for w in _WORD.findall(name.replace("-", "_"))]


def snake(name: str) -> str:
    return "_".join(words(name))


def screaming(name: str) -> str:
    return snake(name).upper()


def pascal(name: str, initialisms: Iterable[str] = ()) -> str:
    upper = {i.lower(): i for i in initialisms}
    return "".join(upper.get(w, w[:1].upper() + w[1:]) for w in words(name))


def camel(name: str, initialisms: Iterable[str] = ()) -> str:
    p = pascal(name, initialisms)
    head = words(name)[:1]
    if head and head[0] in {i.lower() for i in initialisms}:
        return head[0] + p[len(head[0]) :]
    return p[:1].lower() + p[1:]


class NamingTable:
    """How one language spells names. Subclasses override what differs; the defaults are identities."""

    lang: str = ""
    reserved: frozenset[str] = frozenset()
    """Words that cannot be used as field or parameter names as they are."""
    nests_types: bool = False
    """Whether a type with an owner is declared inside it (Java, Ruby) rather than at top level."""

    primitive_types: ClassVar[dict[str, str]] = {}
    """How string, integer, number and boolean are spelled."""
    array_type = "{}"
    """How an array is spelled, its item type standing for {}."""
    map_type = "{}"
    """How a map from strings is spelled, its value type standing for {}."""
    any_type = ""
    """How any JSON value is spelled."""

    def type_expr(self, ref: TypeRef, ir: IR) -> str:
        """The spelling of a type reference, from the four settings above and the types' names."""
        if isinstance(ref, Primitive):
            return self.primitive_types[ref.name]
        if isinstance(ref, Named):
            return ir.types[ref.name].names[self.lang]
        if isinstance(ref, ArrayOf):
            return self.array_type.format(self.type_expr(ref.item, ir))
        if isinstance(ref, MapOf):
            return self.map_type.format(self.type_expr(ref.value, ir))
        return self.any_type

    def escape(self, name: str) -> str:
        return name + "_" if name in self.reserved else name

    # each hook returns the unescaped spelling; apply_naming escapes and de-duplicates
    def type_name(self, t: NamedType, ir: IR) -> str:
        return t.name

    def field_name(self, f: Field, owner: Struct) -> str:
        return f.wire_name

    def enum_value_name(self, v: EnumValue, e: Enum) -> str:
        return screaming(v.wire)

    def variant_name(self, v: Variant, u: Union, ir: IR) -> str:
        return v.key

    def operation_name(self, op: Operation) -> str:
        return op.name

    def resource_name(self, r: Resource) -> str:
        """The class of a resource; named by its whole path so that two `alpha`s cannot clash."""
        return pascal("_".join(r.path))

    def resource_attr_name(self, r: Resource) -> str:
        return snake(r.segment)

    def doc(self, text: str) -> str:
        """Make a description safe inside this language's doc comments."""
        return text


def unique(names: list[str]) -> list[str]:
    """Keep the first of each spelling; later clashes get a numeric suffix (deterministic)."""
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name}{n}", n + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def resource_chain(ir: IR, r: Resource, lang: str) -> list[str]:
    """The accessors from the client down to `r`: ["fine_tuning", "alpha", "graders"]."""
    by_path = {tuple(node.path): node for node in ir.all_resources()}
    return [by_path[tuple(r.path[: i + 1])].attr_names[lang] for i in range(len(r.path))]


def apply_naming(ir: IR, table: NamingTable) -> None:
    lang = table.lang
    types = list(ir.types.values())
    # type names are unique within their scope: the owner for nested names, the package otherwise
    scopes: dict[str | None, list[NamedType]] = {}
    for t in types:
        scopes.setdefault(t.owner, []).append(t)
    type_names = {t.name: table.type_name(t, ir) for t in types}
    if table.nests_types:
        for members in scopes.values():
            for t, name in zip(members, unique([type_names[m.name] for m in members]), strict=True):
                t.names[lang] = name
    else:
        for t, name in zip(types, unique([type_names[t.name] for t in types]), strict=True):
            t.names[lang] = name
    for t in types:
        if isinstance(t, Struct):
            spelled = [table.escape(table.field_name(f, t)) for f in t.fields]
            for f, name in zip(t.fields, unique(spelled), strict=True):
                f.names[lang] = name
        elif isinstance(t, Enum):
            spelled = [table.escape(table.enum_value_name(v, t)) for v in t.values]
            for v, name in zip(t.values, unique(spelled), strict=True):
                v.names[lang] = name
        elif isinstance(t, Union):
            spelled = [table.variant_name(member, t, ir) for member in t.variants]
            for member, name in zip(t.variants, unique(spelled), strict=True):
                member.names[lang] = name
    for op in ir.operations:
        op.names[lang] = table.escape(table.operation_name(op))
    for r in ir.all_resources():
        r.names[lang] = table.resource_name(r)
        r.attr_names[lang] = table.escape(table.resource_attr_name(r))
