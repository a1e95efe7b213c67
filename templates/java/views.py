"""What the Java model templates print about each field and union member, worked out once.

A struct's template asks a dozen questions of every field (its boxed and unboxed types, whether it is
nullable, wrapped, a collection, a union) in its fields, constructor, getters, builder and setters.
Asked through template calls, that dispatch cost more than the printing: a view answers them all once,
and the templates read attributes. Everything here is a name, a type expression made of names, or
text an escaper made (the field's literals and documentation); the rest of the spec text stays on
the IR field (`field`) for the templates to escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gradergen.ir.model import ArrayOf, Field, MapOf, NamedType, Presence, Struct, Union, Variant
from gradergen.naming.base import singular

if TYPE_CHECKING:
    from printer import JavaContext  # beside this file


UNBOXED = {"Long": "long", "Double": "double", "Boolean": "boolean"}
"""The boxed types of the primitives that have an unboxed form (the spec cannot name a class Long)."""


def article(word: str) -> str:
    return "an" if word[:1] in "AEIOUaeiou" else "a"


@dataclass(slots=True)
class MemberView:
    """A union member as a class that holds or accepts it (`context`) spells it."""

    variant: Variant
    name: str
    """Its name in the union: ofStringCheck, isStringCheck, asStringCheck."""
    member: str
    """Its accessor and parameter name: stringCheck."""
    type: str
    """The boxed type it holds (what `of…` stores)."""
    param_type: str
    """The type `of…` takes: unboxed for primitives."""
    type_code: str
    """`type` as inline code in Javadoc, with its article: "a {@code StringCheckGrader}"."""


@dataclass(slots=True)
class FieldView:
    """One property of a struct, as that struct's class declares, builds, reads and sets it."""

    field: Field
    name: str
    wire: str
    """The JSON name as a Java string literal."""
    wire_code: str
    """The JSON name as inline code in Javadoc."""
    doc: str
    """The description as Javadoc HTML (getter and setter both print it)."""
    where: str
    """The class and JSON name as two Java string literals, for the messages of ModelSupport checks."""
    type: str
    """The boxed type of a value."""
    unboxed: str
    getter_type: str
    setter_type: str
    presence: Presence
    """The IR's `Field.presence`: "optional_nullable" is kept in a JsonField (absent, null or a value)."""
    nullable: bool
    """Null is one of its values (the presence ends in "nullable")."""
    held_in_json_field: bool
    """Nullable: the builder keeps it in a JsonField (missing, null or a value)."""
    primitive: bool
    collection: str
    """"list" or "map" for an array or a map (aliases resolved) the builder can add single elements to
    (not nullable), else ""."""
    members: tuple[MemberView, ...]
    """The members of the union the field holds, if it holds one."""
    element_type: str
    element_unboxed: str
    element_primitive: bool
    element_members: tuple[MemberView, ...]
    """The members of the union a map field's values are, if they are one."""
    adder: str
    """The name part of the builder's single-element method: labels → Label (addLabel)."""
    built: str
    """What the constructor stores from `builder`: checked when required, collections copied."""
    rebuilt: str
    """What a builder made from an object (`source`) starts with: collections copied to be added to."""
    set: str
    """What the setter stores from its parameter."""


def _copy(kind: str, expr: str) -> str:
    """An immutable copy of the value `expr` (itself for a value that is no collection)."""
    if kind == "list":
        return f"List.copyOf({expr})"
    if kind == "map":
        return f"ModelSupport.copyOf({expr})"
    return expr


def _mutable_copy(kind: str, expr: str) -> str:
    if kind == "list":
        return f"new ArrayList<>({expr})"
    if kind == "map":
        return f"new LinkedHashMap<>({expr})"
    return expr


def _built(presence: Presence, kind: str, name: str, where: str) -> str:
    source = "builder." + name
    if presence == "optional_nullable":
        return source
    if presence == "required_nullable":
        return f"ModelSupport.requiredNullable({source}, {where})"
    if presence == "required":
        return _copy(kind, f"ModelSupport.required({source}, {where})")
    return f"{source} == null ? null : {_copy(kind, source)}" if kind else source


def _rebuilt(presence: Presence, kind: str, name: str) -> str:
    field = "source." + name
    if presence == "required_nullable":
        return f"JsonField.ofNullable({field})"
    if presence == "optional_nullable" or not kind:
        return field
    copied = _mutable_copy(kind, field)
    return copied if presence == "required" else f"{field} == null ? null : {copied}"


def _set(nullable: bool, primitive: bool, kind: str, name: str, where: str) -> str:
    if nullable and kind:
        return f"{name} == null ? JsonField.ofNull() : JsonField.of({_copy(kind, name)})"
    if nullable:
        return f"JsonField.ofNullable({name})"
    return name if primitive else _mutable_copy(kind, f"ModelSupport.notNull({name}, {where})")


@dataclass(slots=True)
class StructView:
    struct: Struct
    name: str
    literal: str
    """The class's name as its messages spell it (its shortest reference from the top level), a literal."""
    fields: tuple[FieldView, ...]
    """The fields a caller sets: all but the implied tag."""
    wires: tuple[str, ...]
    """The JSON name of every property the spec lists (the tag too), as Java string literals."""
    property_order: str
    """The @JsonPropertyOrder annotation that lists them."""


class JavaViews:
    """Builds the views of one named IR's types; each is built when first asked for, then kept."""

    def __init__(self, context: JavaContext) -> None:
        self.context = context
        self._structs: dict[str, StructView] = {}
        self._members: dict[tuple[str, str], tuple[MemberView, ...]] = {}

    def struct(self, t: Struct) -> StructView:
        view = self._structs.get(t.name)
        if view is None:
            view = self._structs[t.name] = self._struct(t)
        return view

    def _struct(self, t: Struct) -> StructView:
        c = self.context
        literal = c.java_string(c.ref(t, None))
        wires = tuple(c.java_string(f.wire_name) for f in t.fields)
        fields = tuple(
            self._field(f, wire, t, literal) for f, wire in zip(t.fields, wires, strict=True) if not f.is_tag
        )
        order = c.literals_annotation("JsonPropertyOrder", list(wires))
        return StructView(t, c.names(t), literal, fields, wires, order)

    def _field(self, f: Field, wire: str, t: Struct, literal: str) -> FieldView:
        c = self.context
        ref = c.resolved(f.type)
        element = ref.item if isinstance(ref, ArrayOf) else ref.value if isinstance(ref, MapOf) else None
        kind = "list" if isinstance(ref, ArrayOf) else "map" if isinstance(ref, MapOf) else ""
        union = c.union_of(ref)
        presence = f.presence
        nullable = presence.endswith("nullable")
        element_union = c.union_of(element) if element is not None and kind == "map" else None
        name = c.names(f)
        boxed = c.jtype(ref, t)
        unboxed = UNBOXED.get(boxed, boxed)
        element_type = c.jtype(element, t) if element is not None else ""
        where = f"{literal}, {wire}"
        primitive = boxed in UNBOXED
        return FieldView(
            field=f,
            name=name,
            wire=wire,
            wire_code=c.code(f.wire_name),
            doc=c.doc(f.description) if f.description else "",
            where=where,
            type=boxed,
            unboxed=unboxed,
            presence=presence,
            getter_type=unboxed if presence == "required" else f"Optional<{boxed}>",
            setter_type=boxed if nullable else unboxed,
            nullable=nullable,
            held_in_json_field=nullable,
            primitive=primitive,
            collection="" if nullable else kind,
            members=self.members(union, t) if union is not None else (),
            element_type=element_type,
            element_unboxed=UNBOXED.get(element_type, element_type),
            element_primitive=element_type in UNBOXED,
            element_members=self.members(element_union, t) if element_union is not None else (),
            adder=upper_first(singular(name)),
            built=_built(presence, kind, name, where),
            rebuilt=_rebuilt(presence, kind, name),
            set=_set(nullable, primitive, kind, name, where),
        )

    def members(self, u: Union, context: NamedType) -> tuple[MemberView, ...]:
        """The members of `u`, spelled from inside `context`."""
        key = (u.name, context.name)
        views = self._members.get(key)
        if views is None:
            views = self._members[key] = tuple(self._member(v, context) for v in u.variants)
        return views

    def _member(self, v: Variant, context: NamedType) -> MemberView:
        c = self.context
        java = c.variant_type(v, context)
        return MemberView(
            variant=v,
            name=c.names(v),
            member=c.variant_member(v),
            type=java,
            param_type=c.variant_param_type(v, context),
            type_code=f"{article(java)} {c.code(java)}",
        )


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
