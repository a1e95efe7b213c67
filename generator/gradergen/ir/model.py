"""The language-neutral intermediate representation.

Everything a template needs is decided here, once: how a union is told apart, whether a field may be
absent or null, what its default is, where a type nests. What each language calls its nodes is not
here: naming returns it (naming/names.py), and nothing changes the IR once it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..spectext import taint
from .policy import ClientPolicy, build_policy

PrimitiveName = Literal["string", "integer", "number", "boolean"]
JsonKind = Literal["string", "integer", "number", "boolean", "array", "object", "null"]
Presence = Literal["required", "required_nullable", "optional", "optional_nullable"]


class _Missing:
    """The marker for "no default": distinct from a default of null."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


# --------------------------------------------------------------------------- references to types
@dataclass(frozen=True)
class Primitive:
    name: PrimitiveName
    kind: Literal["primitive"] = "primitive"

    @property
    def json_kind(self) -> JsonKind:
        return self.name


@dataclass(frozen=True)
class Named:
    """A reference to a named type in `IR.types`."""

    name: str
    kind: Literal["named"] = "named"


@dataclass(frozen=True)
class ArrayOf:
    item: TypeRef
    kind: Literal["array"] = "array"

    @property
    def json_kind(self) -> JsonKind:
        return "array"


@dataclass(frozen=True)
class MapOf:
    """A JSON object used as a map from string keys to values of one type."""

    value: TypeRef
    kind: Literal["map"] = "map"

    @property
    def json_kind(self) -> JsonKind:
        return "object"


@dataclass(frozen=True)
class AnyJson:
    """Any JSON value, kept as it is."""

    kind: Literal["any"] = "any"


TypeRef = Primitive | Named | ArrayOf | MapOf | AnyJson


# --------------------------------------------------------------------------- named types
@dataclass
class Constraints:
    min_items: int | None = None
    max_items: int | None = None
    min_properties: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.min_items, self.max_items, self.min_properties))


@dataclass
class Field:
    wire_name: str
    type: TypeRef
    required: bool
    nullable: bool
    description: str
    pointer: str
    default: Any = MISSING
    const: str | None = None
    """The fixed value of a union variant's tag field (e.g. "string_check")."""
    constraints: Constraints = field(default_factory=Constraints)
    decision: str | None = None
    null_member: bool = False
    """The union the field holds lists null as a member: null is a value of the field even where the
    property itself is not nullable (`nullable` says what the property's schema says)."""

    def __post_init__(self) -> None:
        self.wire_name = taint(self.wire_name)
        self.description = taint(self.description)
        self.default = taint(self.default)
        self.const = taint(self.const)
        self.decision = taint(self.decision)

    @property
    def presence(self) -> Presence:
        """Whether the field may be absent and whether null is one of its values (its own schema says
        so, or its union lists null): what every binding reads, none recomputes."""
        takes_null = self.nullable or self.null_member
        if self.required:
            return "required_nullable" if takes_null else "required"
        return "optional_nullable" if takes_null else "optional"

    @property
    def is_tag(self) -> bool:
        return self.const is not None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass
class NamedType:
    name: str
    description: str
    pointer: str
    decision: str | None = None
    owner: str | None = None
    """The type this one nests under, for languages that nest (Java, Ruby); None for top level."""
    short_name: str | None = None
    """The name relative to the owner (StringCheckGraderOperation under StringCheckGrader: Operation)."""
    group: Literal["operations", "models"] = "models"
    """Operation bodies and what only they reach are "operations"; graders and their parts are "models"."""
    kind: str = ""

    def __post_init__(self) -> None:
        self.name = taint(self.name)
        self.description = taint(self.description)
        self.decision = taint(self.decision)
        self.short_name = taint(self.short_name)

    @property
    def local_name(self) -> str:
        return self.short_name or self.name


@dataclass
class Struct(NamedType):
    fields: list[Field] = field(default_factory=list)
    keeps_unknown_fields: bool = True
    """Unknown properties are kept and written back: the API may add fields before the spec does. False
    (`additionalProperties: false`): the spec lists every property; another is left out when parsing
    and cannot be set when building."""
    kind: str = "struct"

    @property
    def tag_field(self) -> Field | None:
        return next((f for f in self.fields if f.is_tag), None)

    @property
    def value_fields(self) -> list[Field]:
        """The fields a caller sets: every field but the implied tag."""
        return [f for f in self.fields if not f.is_tag]


@dataclass
class EnumValue:
    wire: str
    description: str = ""

    def __post_init__(self) -> None:
        self.wire = taint(self.wire)
        self.description = taint(self.description)


@dataclass
class Enum(NamedType):
    values: list[EnumValue] = field(default_factory=list)
    accepts_unknown: bool = True
    """The enum is open: a value the spec does not list is kept as it is when parsing and written back,
    never an error. False: the values are closed and another one is an error, parsing or building."""
    kind: str = "enum"


@dataclass
class Variant:
    """One member of a union, and how it is recognised."""

    type: TypeRef
    json_kind: JsonKind
    tag: str | None = None
    """The discriminator value selecting this variant, for object variants of a tagged union."""

    def __post_init__(self) -> None:
        self.tag = taint(self.tag)

    @property
    def key(self) -> str:
        """A language-neutral name for the variant: its type's name, or its JSON kind."""
        if isinstance(self.type, Named):
            return self.type.name
        if isinstance(self.type, Primitive):
            return self.type.name
        return self.json_kind


@dataclass
class Union(NamedType):
    variants: list[Variant] = field(default_factory=list)
    discriminator: str | None = None
    """The property whose value picks among the object variants ("type"), if any."""
    nullable: bool = False
    unknown_name: str = ""
    """The name of the fallback that keeps an unrecognised member's raw JSON."""
    kind: str = "union"

    @property
    def tag_name(self) -> str:
        """The property that names an object member: the discriminator, else `type`, the API's own
        convention, which is where an unknown member of an untagged union would say what it is."""
        return self.discriminator or "type"

    @property
    def tagged_variants(self) -> list[Variant]:
        return [v for v in self.variants if v.tag is not None]

    @property
    def untagged_variants(self) -> list[Variant]:
        return [v for v in self.variants if v.tag is None]

    @property
    def is_tagged_only(self) -> bool:
        """Every variant is an object told apart by the discriminator (the grader unions)."""
        return bool(self.variants) and all(v.tag is not None for v in self.variants)

    def variant_for_kind(self, json_kind: JsonKind) -> Variant | None:
        return next((v for v in self.untagged_variants if v.json_kind == json_kind), None)

    @property
    def dispatch(self) -> Dispatch:
        by_kind = {kind: v for v in self.untagged_variants for kind in self.kinds_read_by(v)}
        return Dispatch(
            nullable=self.nullable,
            by_kind={kind: by_kind[kind] for kind in KIND_ORDER if kind in by_kind},
            tag_name=self.tag_name,
            by_tag={v.tag: v for v in self.tagged_variants if v.tag is not None},
        )

    def kinds_read_by(self, variant: Variant) -> list[JsonKind]:
        """The JSON kinds of value that select `variant`: its own kind, and for a number member also
        integer literals when no member is an integer (JSON Schema counts 2 as a number)."""
        kinds: list[JsonKind] = [variant.json_kind]
        if variant.json_kind == "number" and self.variant_for_kind("integer") is None:
            kinds.append("integer")
        return kinds


@dataclass(frozen=True)
class Dispatch:
    """How a value of a union picks its member: one rule, read by every binding and by the validator.

    `null` is the union's own null when it is nullable; any other value is picked by its JSON kind (an
    integer reads as the number member when there is no integer member); an object, when the members are
    tagged, by the value of its `tag_name` property. A value that matches nothing is an unknown member."""

    nullable: bool
    by_kind: dict[JsonKind, Variant]
    """The untagged members by each JSON kind that selects them, in checking order (integer before number)."""
    tag_name: str
    by_tag: dict[str, Variant]
    """The tagged members (all objects) by their tag."""


KIND_ORDER: tuple[JsonKind, ...] = ("boolean", "integer", "number", "string", "array", "object")
"""The order JSON kinds are told apart in: a bool before an integer (Python's bool is an int), an integer
before a number."""


@dataclass
class Alias(NamedType):
    """A name for a primitive or an array (TextInput, GraderInputs)."""

    target: TypeRef = field(default_factory=AnyJson)
    kind: str = "alias"


# --------------------------------------------------------------------------- operations
@dataclass
class Operation:
    name: str
    """The method name, e.g. "run"."""
    resource: list[str]
    """The resource path, e.g. ["fine_tuning", "alpha", "graders"]."""
    http_method: str
    path: str
    summary: str
    description: str
    request: Named
    response: Named
    error: Named | None
    pointer: str = ""

    def __post_init__(self) -> None:
        self.name = taint(self.name)
        self.resource = taint(self.resource)
        self.path = taint(self.path)
        self.summary = taint(self.summary)
        self.description = taint(self.description)


@dataclass
class Resource:
    """A node of the client's resource tree: client.fine_tuning.alpha.graders."""

    path: list[str]
    children: list[Resource] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = taint(self.path)

    @property
    def segment(self) -> str:
        return self.path[-1]

    def walk(self) -> list[Resource]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass
class IR:
    title: str
    version: str
    description: str
    base_url: str
    types: dict[str, NamedType]
    operations: list[Operation]
    decisions: list[tuple[str, str]]
    """Every `x-decision` note in the spec, as (JSON pointer, text)."""
    resources: list[Resource] = field(default_factory=list)
    """The top-level resources of the client (fine_tuning), each with its children and operations."""
    client: ClientPolicy = field(default_factory=lambda: build_policy({}))
    """Retries, backoff, caps, timeout, environment variables, headers and error classes by status."""
    homepage: str = ""
    """The spec's `externalDocs` URL, if any: package manifests name it as the project's home page."""

    def __post_init__(self) -> None:
        self.title = taint(self.title)
        self.version = taint(self.version)
        self.homepage = taint(self.homepage)
        self.description = taint(self.description)
        self.base_url = taint(self.base_url)
        self.decisions = taint(self.decisions)

    def get(self, ref: Named | str) -> NamedType:
        name = ref if isinstance(ref, str) else ref.name
        return self.types[name]

    def of_kind(self, kind: type) -> list[Any]:
        return [t for t in self.types.values() if isinstance(t, kind)]

    def all_resources(self) -> list[Resource]:
        return [r for top in self.resources for r in top.walk()]

    def children(self, owner: str) -> list[NamedType]:
        return [t for t in self.types.values() if t.owner == owner]

    def reachable(self, roots: list[str]) -> set[str]:
        """The named types the roots use, directly or not, the roots included."""
        return reachable(self.types, roots)


def reachable(types: dict[str, NamedType], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(referenced_names(types[name]))
    return seen


def referenced_names(t: NamedType) -> list[str]:
    """The named types that `t` refers to directly, through arrays and maps too."""
    refs: list[TypeRef] = []
    if isinstance(t, Struct):
        refs = [f.type for f in t.fields]
    elif isinstance(t, Union):
        refs = [v.type for v in t.variants]
    elif isinstance(t, Alias):
        refs = [t.target]
    names: list[str] = []
    while refs:
        r = refs.pop()
        if isinstance(r, Named):
            names.append(r.name)
        elif isinstance(r, ArrayOf):
            refs.append(r.item)
        elif isinstance(r, MapOf):
            refs.append(r.value)
    return names
