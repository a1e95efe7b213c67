"""Casing, reserved words and collisions: the shared half of every language's naming table.

A language's table (naming/<lang>.py) says how it spells each kind of name; `apply_naming` walks the IR
once, makes each name unique within its scope, and returns them all as that language's `Names` (see
naming/names.py): the IR is left as it is, so every language reads the same IR.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable
from typing import ClassVar

from ..errors import SpecError
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
from ..ir.policy import StatusError
from .names import Names

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words(name: str) -> list[str]:
    """Split snake_case, camelCase, PascalCase, kebab-case and digits into lower-case words."""
    return list(_words(name))


@functools.lru_cache(maxsize=1 << 16)
def _words(name: str) -> tuple[str, ...]:
    # remembered: every language spells the same property and type names, and specs repeat them
    return tuple(w.lower() for w in _WORD.findall(name.replace("-", "_")))


def snake(name: str) -> str:
    return "_".join(_words(name))


def screaming(name: str) -> str:
    return snake(name).upper()


def pascal(name: str, initialisms: Iterable[str] = ()) -> str:
    if not initialisms:
        return _pascal(name)
    upper = {i.lower(): i for i in initialisms}
    return "".join(upper.get(w, w[:1].upper() + w[1:]) for w in _words(name))


@functools.lru_cache(maxsize=1 << 16)
def _pascal(name: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in _words(name))


def camel(name: str, initialisms: Iterable[str] = ()) -> str:
    if not initialisms:
        return _camel(name)
    p = pascal(name, initialisms)
    head = _words(name)[:1]
    if head and head[0] in {i.lower() for i in initialisms}:
        return head[0] + p[len(head[0]) :]
    return p[:1].lower() + p[1:]


def singular(word: str) -> str:
    """The element of a plural name: graders → grader, labels → label, entries → entry,
    addresses → address; a word that is not an English plural (status, analysis, class) stays."""
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 1:
        return word[:-1]
    return word


@functools.lru_cache(maxsize=1 << 16)
def _camel(name: str) -> str:
    p = _pascal(name)
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

    def type_expr(self, ref: TypeRef, names: Names) -> str:
        """The spelling of a type reference, from the four settings above and the types' names."""
        if isinstance(ref, Primitive):
            return self.primitive_types[ref.name]
        if isinstance(ref, Named):
            return names.type(ref)
        if isinstance(ref, ArrayOf):
            return self.array_type.format(self.type_expr(ref.item, names))
        if isinstance(ref, MapOf):
            return self.map_type.format(self.type_expr(ref.value, names))
        return self.any_type

    identifier = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    """A legal name in the language, in ASCII: every name the table makes must match it in full."""
    type_suffix = "Model"
    """Appended to a type name that a name of the runtime already holds in its scope."""
    member_suffix = "_"
    """Appended to a field, value, member or method name that is reserved (see `reserved`)."""
    fold_case_types = False
    """Type names that differ only in case clash (each names a file)."""
    names_enum_values = True
    """False where enum values are only strings (Python's Literal types): nothing is named after them."""
    reserved_value_names: frozenset[str] | None = None
    """Names an enum constant cannot take; None: the same as `reserved`."""
    reserved_method_names: frozenset[str] | None = None
    """Names an operation or a resource accessor cannot take; None: the same as `reserved`."""
    reserved_variant_names: frozenset[str] = frozenset()

    def escape(self, name: str) -> str:
        return name + self.member_suffix if name in self.reserved else name

    # ---------------------------------------------------------------- scopes
    def type_scope(self, t: NamedType, ir: IR) -> str:
        """The scope a type's name lives in: "" for the package; the owner when types nest."""
        if self.nests_types and t.owner is not None:
            return str.__str__(t.owner)
        return ""

    def type_suffix_for(self, scope: str) -> str:
        return self.type_suffix

    def reserved_type_names(self, scope: str, ir: IR, names: Names) -> Iterable[str]:
        """Names in `scope` that the runtime, the imports or the language already use (`names`: the
        error classes and the types named so far)."""
        return ()

    def enum_value_scope(self, e: Enum, ir: IR) -> str | None:
        """The type scope enum constants share (Go's package), or None for a scope per enum."""
        return None

    def resource_scope(self, r: Resource) -> str:
        """The type scope resource classes are declared in."""
        return ""

    def claim_extras(self, ir: IR, names: Names, claim: Callable[[str, str, str], str]) -> None:
        """Claim names the templates declare beside the IR's own, e.g. `claim(scope, name, pointer)`
        for the fallback class of a union, and keep those the templates print with
        `names.record(node, name, role)`; called once everything else is named."""

    # each hook returns the unescaped spelling; apply_naming checks, escapes and de-duplicates
    def type_name(self, t: NamedType, ir: IR) -> str:
        return t.name

    def field_name(self, f: Field, owner: Struct) -> str:
        return f.wire_name

    def enum_value_name(self, v: EnumValue, e: Enum, names: Names) -> str:
        return screaming(v.wire)

    def variant_name(self, v: Variant, u: Union, ir: IR) -> str:
        return v.key

    def fallback_name(self, u: Union, ir: IR) -> str | None:
        """The name of the union's fallback (`Union.unknown_name`: the member that keeps a value no
        member reads) among its members, its name under the role "fallback"; None where the table
        names it elsewhere (`claim_extras`)."""
        return None

    def operation_name(self, op: Operation) -> str:
        return op.name

    def resource_name(self, r: Resource) -> str:
        """The class of a resource; named by its whole path so that two `alpha`s cannot clash."""
        return pascal("_".join(r.path))

    def resource_attr_name(self, r: Resource) -> str:
        return snake(r.segment)

    error_class_suffix = "Error"
    """Appended to an error's name (bad_request) to make its class (BadRequestError)."""
    error_class_renames: ClassVar[dict[str, str]] = {}
    """Error names whose class this language's users know by another name (Java's 401)."""
    runtime_error_classes: frozenset[str] = frozenset()
    """The classes of the runtime beside the per-status ones: a status class may not take their names."""

    def error_class_name(self, e: StatusError) -> str:
        """The class of the errors of one status (the IR's client policy)."""
        return self.error_class_renames.get(str(e.name)) or pascal(e.name) + self.error_class_suffix

    def escapers(self) -> dict[str, Callable[..., str]]:
        """The filters that print spec text, one per literal context the templates print into (a
        string literal, a doc comment, ...). Each is marked with `literals.escaper`: nothing else can
        print text taken from the spec."""
        return {}

RUNTIME = "the generated runtime"
"""Who holds a reserved name: the hand-written half of the bindings, which the spec cannot rename."""


class Namespace:
    """The names one scope of one language holds, and who holds each.

    A spec name that meets a reserved one (a runtime class, an import, a method every model has) is
    renamed with the language's suffix, again until it is free; two names taken from the spec that
    come out the same are an error naming both places in the spec. With `fold_case`, names that
    differ only in case clash too (they name files, and file systems may ignore case)."""

    def __init__(self, lang: str, scope: str, reserved: Iterable[str] = (), fold_case: bool = False) -> None:
        self.lang = lang
        self.scope = scope
        self.fold_case = fold_case
        self.holders: dict[str, tuple[str, str]] = dict(_reserved_holders(reserved, fold_case))

    def _key(self, name: str) -> str:
        return name.lower() if self.fold_case else name

    def reserve(self, names: Iterable[str]) -> None:
        for name in names:
            self.holders.setdefault(self._key(name), (RUNTIME, name))

    def claim(self, name: str, pointer: str, suffix: str | Callable[[str], str] = "_") -> str:
        """Take `name` for what `pointer` names; returns the name it got: `name`, else (when the
        runtime holds it) `name` with the suffix, then with the suffix and 2, 3, …"""
        holder = self.holders.get(self._key(name))
        if holder is None:  # the common case, without making the renamed candidates
            self.holders[self._key(name)] = (pointer, name)
            return name
        renamed = suffix(name) if callable(suffix) else name + suffix
        for candidate in itertools.chain([name, renamed], (f"{renamed}{n}" for n in range(2, 100))):
            holder = self.holders.get(self._key(candidate))
            if holder is None:
                self.holders[self._key(candidate)] = (pointer, candidate)
                return candidate
            if holder[0] != RUNTIME:
                raise SpecError(
                    pointer,
                    f"{self.lang}: this and {holder[0]} are both named {candidate} {self.scope}; "
                    "rename one of them in the spec",
                )
        raise SpecError(pointer, f"{self.lang}: no free name {self.scope} for {name!r}")


_HOLDERS_OF_RESERVED: dict[tuple[frozenset[str], bool], dict[str, tuple[str, str]]] = {}
"""The holders a fixed set of reserved names starts a namespace with: every struct's fields start from
the same set, so it is made once."""


def _reserved_holders(reserved: Iterable[str], fold_case: bool) -> dict[str, tuple[str, str]]:
    if isinstance(reserved, frozenset):
        cached = _HOLDERS_OF_RESERVED.get((reserved, fold_case))
        if cached is not None:
            return cached
    holders = {(name.lower() if fold_case else name): (RUNTIME, name) for name in reserved}
    if isinstance(reserved, frozenset):
        _HOLDERS_OF_RESERVED[(reserved, fold_case)] = holders
    return holders


ACCESSOR, FALLBACK = "accessor", "fallback"
"""The roles of a resource's attribute on its parent and of a union's member for unknown values."""


def resource_chain(names: Names, r: Resource) -> list[str]:
    """The accessors from the client down to `r`: ["fine_tuning", "alpha", "graders"]."""
    by_path = {tuple(node.path): node for node in names.ir.all_resources()}
    return [names(by_path[tuple(r.path[: i + 1])], ACCESSOR) for i in range(len(r.path))]


def apply_naming(ir: IR, table: NamingTable) -> Names:
    """Name every type, field, enum value, variant, operation, resource and error class of `ir` for
    `table`'s language: each name a legal identifier, unique in its scope. The IR is not changed."""
    return _NamingPass(ir, table).run()


class _NamingPass:
    def __init__(self, ir: IR, table: NamingTable) -> None:
        self.ir = ir
        self.table = table
        self.lang = table.lang
        self.names = Names(table.lang, ir)
        self.scopes: dict[str, Namespace] = {}
        values = table.reserved_value_names
        self.value_reserved = table.reserved if values is None else values
        methods = table.reserved_method_names
        self.method_reserved = table.reserved if methods is None else methods

    def type_scope(self, key: str) -> Namespace:
        """The namespace of types in `key` ("" for the package)."""
        if key not in self.scopes:
            reserved = self.table.reserved_type_names(key, self.ir, self.names)
            self.scopes[key] = Namespace(
                self.lang, "in " + (key or "the package"), reserved, self.table.fold_case_types
            )
        return self.scopes[key]

    def checked(self, name: str, pointer: str, what: str) -> str:
        """`name` as plain text once it is a legal identifier of the language."""
        if not self.table.identifier.fullmatch(name):
            raise SpecError(pointer, f"{self.lang}: cannot name {what}: {str(name)!r} is not an identifier")
        return str.__str__(name)

    def run(self) -> Names:
        ir, table, lang, names = self.ir, self.table, self.lang, self.names
        self._name_errors()
        for t in sorted(ir.types.values(), key=self._depth):
            spelled = self.checked(table.type_name(t, ir), t.pointer, "the type")
            key = table.type_scope(t, ir)
            names.record(t, self.type_scope(key).claim(spelled, t.pointer, table.type_suffix_for(key)))
        for t in ir.types.values():
            if isinstance(t, Struct):
                fields = Namespace(lang, f"in {names(t)}", table.reserved)
                for f in t.fields:
                    spelled = self.checked(table.field_name(f, t), f.pointer, "the property")
                    names.record(f, fields.claim(spelled, f.pointer, table.member_suffix))
            elif isinstance(t, Enum) and table.names_enum_values:
                scope_key = table.enum_value_scope(t, ir)
                values = (
                    self.type_scope(scope_key)
                    if scope_key is not None
                    else Namespace(lang, f"in {names(t)}", self.value_reserved)
                )
                for i, v in enumerate(t.values):
                    pointer = f"{t.pointer}/enum/{i}"
                    value = table.enum_value_name(v, t, names)
                    spelled = self.checked(value, pointer, f"the value {str(v.wire)!r}")
                    names.record(v, values.claim(spelled, pointer, table.member_suffix))
            elif isinstance(t, Union):
                variants = Namespace(lang, f"in {names(t)}", table.reserved_variant_names)
                for i, member in enumerate(t.variants):
                    pointer = f"{t.pointer}/oneOf/{i}"
                    spelled = self.checked(table.variant_name(member, t, ir), pointer, "the member")
                    names.record(member, variants.claim(spelled, pointer, table.member_suffix))
                fallback = table.fallback_name(t, ir)
                if fallback is not None:
                    pointer = f"{t.pointer}/oneOf"
                    spelled = self.checked(fallback, pointer, "the fallback for unknown members")
                    names.record(t, variants.claim(spelled, pointer, table.member_suffix), FALLBACK)
        for top in ir.resources:
            self._name_resources(top, Namespace(lang, "on the client", self.method_reserved))
        table.claim_extras(ir, names, self._claim_extra)
        return names.complete()

    def _name_errors(self) -> None:
        """The class of each status in the client policy: named first, the types' scopes reserve them."""
        classes = Namespace(self.lang, "among the error classes")
        for e in self.ir.client.all_errors:
            pointer = e.pointer + "/name"
            spelled = self.checked(self.table.error_class_name(e), pointer, "the error class")
            if spelled in self.table.runtime_error_classes:
                raise SpecError(
                    pointer, f"{self.lang}: {spelled} is a class of the runtime; choose another name"
                )
            self.names.record(e, classes.claim(spelled, pointer))

    def _claim_extra(self, key: str, name: str, pointer: str) -> str:
        checked = self.checked(name, pointer, "the type")
        return self.type_scope(key).claim(checked, pointer, self.table.type_suffix_for(key))

    def _name_resources(self, r: Resource, siblings: Namespace) -> None:
        table, lang, names = self.table, self.lang, self.names
        first = next(op for node in r.walk() for op in node.operations)
        pointer = f"{first.pointer}/x-sdk-resource"
        ns = self.type_scope(table.resource_scope(r))
        spelled = self.checked(table.resource_name(r), pointer, "the resource")
        names.record(r, ns.claim(spelled, pointer, table.type_suffix_for(table.resource_scope(r))))
        accessor = self.checked(table.resource_attr_name(r), pointer, "the resource")
        names.record(r, siblings.claim(accessor, pointer, table.member_suffix), ACCESSOR)
        members = Namespace(lang, f"in {names(r)}", self.method_reserved)
        for op in r.operations:
            op_pointer = f"{op.pointer}/x-sdk-method"
            method = self.checked(table.operation_name(op), op_pointer, "the operation")
            names.record(op, members.claim(method, op_pointer, table.member_suffix))
        for child in r.children:
            self._name_resources(child, members)

    def _depth(self, t: NamedType) -> int:
        """Owners are named before what they own."""
        depth, owner = 0, t.owner
        while owner is not None and depth < len(self.ir.types):
            depth, owner = depth + 1, self.ir.types[owner].owner
        return depth
