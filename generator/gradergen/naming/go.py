"""Go spellings, and the Go types that represent each IR decision.

Names follow the official Go SDK: exported PascalCase with Go's initialisms (ImageURL, FileID), unions as
`…Union` structs whose members are `Of<Variant>` fields, enum constants prefixed with their type
(StringCheckGraderOperationEq), operation bodies named after their resource
(FineTuningAlphaGraderRunParams), request-side spellings of shared types as aliases
(StringCheckGraderParam = StringCheckGrader, FineTuningAlphaGraderValidateParamsGraderUnion = GraderUnion).

How a field is held follows its presence in the IR:

- required: the plain Go type;
- required and nullable: a pointer (nil is null), or the slice, map or interface itself;
- optional: a pointer (nil is absent), or a slice, map, interface or union (their zero value is absent),
  tagged `omitzero`;
- optional and nullable: Nullable[T], which tells absent, null and a value apart, tagged `omitzero`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import GradergenError
from ..ir.model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    EnumValue,
    Field,
    JsonKind,
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
from ..literals import (
    NUMBER_FILTERS,
    c_string,
    escaper,
    go_bytes,
    go_duration,
    markdown_code,
    markdown_inline,
    u4_or_u8,
    visible,
)
from ..options import Options
from ..spectext import SpecText
from .base import NamingTable, resource_chain, singular, words
from .memo import per_ir
from .text import wrap

INITIALISMS = frozenset(
    # the list Go's linters use, plus the audio formats the API names
    "ACL API ASCII CPU CSS DNS EOF GUID HTML HTTP HTTPS ID IP JSON LHS QPS RAM RHS RPC SLA SMTP SQL SSH TCP "
    "TLS TTL UDP UI UID UUID URI URL UTF8 VM XML XMPP XSRF XSS MP3 WAV".split()
)

RUNTIME_NAMES = frozenset(
    # what the package's hand-written half declares at package level
    "Client NewClient DefaultClientOptions DefaultBaseURL DefaultMaxRetries DefaultRequestTimeout Error "
    "Nullable Value Null Ptr String Int Float Bool IdempotencyHeader RequestIDHeader".split()
)

MEMBER_NAMES = frozenset({"ExtraFields", "MarshalJSON", "UnmarshalJSON", "IsKnown", "IsZero", "String"})
"""Names a generated struct already uses for its own members; a property spelled like one gets a suffix."""

_PRIMITIVES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}
_PRIMITIVE_VARIANTS = {"string": "String", "integer": "Int", "number": "Float", "boolean": "Bool"}
_KIND_CONSTANTS: dict[JsonKind, str] = {
    "string": "kindString",
    "integer": "kindInteger",
    "number": "kindNumber",
    "boolean": "kindBoolean",
    "array": "kindArray",
    "object": "kindObject",
    "null": "kindNull",
}
COMMENT_WIDTH = 100
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_ARTICLES = ("A", "An", "The")
_TAG_NAME = re.compile(r"^[\w!#$%&()*+\-./:;<=>?@\[\]^{|}~ ]+$")
"""What encoding/json accepts as a property name in a struct tag."""


@functools.lru_cache(maxsize=1 << 16)  # a spec repeats its property names
def go_pascal(name: str) -> str:
    """PascalCase with Go initialisms; a word followed by digits may form one (utf_8 → UTF8, mp3 → MP3)."""
    parts = words(name)
    out: list[str] = []
    i = 0
    while i < len(parts):
        word = parts[i]
        if i + 1 < len(parts) and parts[i + 1].isdigit() and (word + parts[i + 1]).upper() in INITIALISMS:
            out.append((word + parts[i + 1]).upper())
            i += 2
            continue
        out.append(word.upper() if word.upper() in INITIALISMS else word[:1].upper() + word[1:])
        i += 1
    return "".join(out)


@escaper
def go_string(text: str) -> str:
    """A Go interpreted string literal, in ASCII."""
    return c_string(
        text, '"', specials={"\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}, unicode_escape=u4_or_u8
    )


@escaper
def inline(text: str) -> str:
    """Text inside one `//` comment line: line breaks become spaces."""
    return " ".join(visible(text).split("\n"))


@dataclass(frozen=True)
class TypeAlias:
    """A second Go name for a type: the spelling a request or a field of the documented API uses."""

    name: str
    target: str
    doc: str
    anchor: str
    """The IR type after whose declaration the alias is printed."""


class GoNaming(NamingTable):
    lang = "go"
    primitive_types = _PRIMITIVES
    array_type = "[]{}"
    map_type = "map[string]{}"
    any_type = "any"
    reserved = MEMBER_NAMES
    identifier = re.compile(r"[A-Z][A-Za-z0-9_]*")  # exported
    type_suffix = "Type"
    member_suffix = "Value"

    # ------------------------------------------------------------------ names
    def reserved_type_names(self, scope: str, ir: IR) -> frozenset[str]:
        return RUNTIME_NAMES

    def enum_value_scope(self, e: Enum, ir: IR) -> str:
        return ""  # Go's constants live in the package scope, beside its types

    def claim_extras(self, ir: IR, claim: Callable[[str, str, str], str]) -> None:
        for a in self.aliases(ir):
            anchor = ir.types[a.anchor]
            got = claim("", a.name, anchor.pointer)
            if got != a.name:  # an alias is the documented API's spelling: a renamed one is no use
                raise GradergenError(f"{anchor.pointer}: go: the alias {a.name} is the name of the runtime")

    def type_name(self, t: NamedType, ir: IR) -> str:
        name = self._operation_prefixes(ir).get(t.name, "") + go_pascal(t.name)
        if isinstance(t, Union):
            name += "Union"
        return name if name[:1].isalpha() else "T" + name

    def field_name(self, f: Field, owner: Struct) -> str:
        name = go_pascal(f.wire_name)
        return name if name[:1].isalpha() else "P" + name

    def enum_value_name(self, v: EnumValue, e: Enum) -> str:
        return e.names[self.lang] + (go_pascal(v.wire) or "Empty")

    def variant_name(self, v: Variant, u: Union, ir: IR) -> str:
        ref = v.type
        if isinstance(ref, Named):
            target = ir.types[ref.name]
            if isinstance(target, Alias) and isinstance(target.target, Primitive):
                ref = target.target
            else:
                return "Of" + go_pascal(ref.name)
        if isinstance(ref, Primitive):
            return "Of" + _PRIMITIVE_VARIANTS[ref.name]
        return "Of" + go_pascal(v.json_kind)

    def operation_name(self, op: Operation) -> str:
        return go_pascal(op.name)

    def resource_name(self, r: Resource) -> str:
        return "".join(go_pascal(singular(segment)) for segment in r.path) + "Service"

    def resource_attr_name(self, r: Resource) -> str:
        return go_pascal(r.segment)

    @per_ir
    def _operation_prefixes(self, ir: IR) -> dict[str, str]:
        """Operation bodies, and the types nested under them, are named after their resource like the
        official SDK: GraderRunParams of fine_tuning.alpha.graders → FineTuningAlphaGraderRunParams."""
        prefixes: dict[str, str] = {}
        for op in ir.operations:
            namespace = [go_pascal(singular(s)) for s in op.resource]
            for body in (op.request.name, op.response.name):
                # the body's own name may already start with the last segment (Grader…)
                last = namespace[-1]
                prefix = "".join(namespace[:-1] if go_pascal(body).startswith(last) else namespace)
                prefixes.setdefault(body, prefix)
        for t in ir.types.values():
            root = t
            while root.owner is not None and root.name not in prefixes:
                root = ir.types[root.owner]
            if root.name in prefixes:
                prefixes.setdefault(t.name, prefixes[root.name])
        return prefixes

    def type_doc(self, t: NamedType) -> str:
        """A declaration's doc comment starts with its name, as Go's tools expect. Spec text: print it
        with `comment`."""
        name = t.names[self.lang]
        text = t.description.strip()
        if not text:
            return SpecText(f"{name} is the {t.name} schema of the spec.")
        first, _, rest = text.partition(" ")
        if first in _ARTICLES and rest:
            return SpecText(f"{name} is {first.lower()} {rest}")
        return SpecText(f"{name}: {text}")

    def operation_doc(self, op: Operation) -> str:
        """Spec text: print it with `comment`."""
        name = op.names[self.lang]
        text = (op.description or op.summary).strip()
        if text.startswith(name + " "):
            return SpecText(text)
        return SpecText(f"{name} sends {op.http_method} {op.path}." + (f" {text}" if text else ""))

    def variant_comment(self, v: Variant, u: Union) -> str:
        """What selects the member: its tag, or the kind of JSON value."""
        if v.tag is not None and u.discriminator:
            return f"// {inline(u.discriminator)} {go_string(v.tag)}"
        return "// " + " or ".join(f"a JSON {k}" for k in u.kinds_read_by(v))

    # ------------------------------------------------------------------ types

    def _nil_is_absence(self, ref: TypeRef, ir: IR) -> bool:
        """Slices, maps and interfaces have nil of their own; unions have an empty value."""
        if isinstance(ref, (ArrayOf, MapOf, AnyJson)):
            return True
        if isinstance(ref, Named):
            target = ir.types[ref.name]
            if isinstance(target, Alias):
                return self._nil_is_absence(target.target, ir)
            return isinstance(target, Union)
        return False

    def _has_nil(self, ref: TypeRef, ir: IR) -> bool:
        if isinstance(ref, Named) and isinstance(ir.types[ref.name], Union):
            return False  # a union's null is a member (Null), not a nil
        return self._nil_is_absence(ref, ir)

    def field_type(self, f: Field, owner: Struct, ir: IR) -> str:
        expr = self.field_union_aliases(ir).get((owner.name, f.wire_name)) or self.type_expr(f.type, ir)
        presence = f.presence
        if presence == "required":
            return expr
        if presence == "required_nullable":
            return expr if self._has_nil(f.type, ir) else "*" + expr
        if presence == "optional":
            return expr if self._nil_is_absence(f.type, ir) else "*" + expr
        return f"Nullable[{expr}]"

    def field_tag(self, f: Field, owner: Struct) -> str:
        if not _TAG_NAME.match(f.wire_name):
            raise GradergenError(
                f"{owner.pointer}/properties/{f.wire_name}: Go cannot name the property {f.wire_name!r} in a "
                "struct tag (quotes, commas, backslashes and backquotes are not allowed)"
            )
        return f'`json:"{f.wire_name}{"" if f.required else ",omitzero"}"`'

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

    def variant_type(self, v: Variant, ir: IR) -> str:
        expr = self.type_expr(v.type, ir)
        return expr if self._has_nil(v.type, ir) else "*" + expr

    def variant_is_pointer(self, v: Variant, ir: IR) -> bool:
        return self.variant_type(v, ir).startswith("*")

    def kind_constants(self, u: Union, v: Variant) -> list[str]:
        return [_KIND_CONSTANTS[k] for k in u.kinds_read_by(v)]

    # ------------------------------------------------------------------ second names
    @per_ir
    def field_union_aliases(self, ir: IR) -> dict[tuple[str, str], str]:
        """A union-typed field of an operation body has the name the official SDK gives it:
        FineTuningAlphaGraderValidateParams.Grader is a FineTuningAlphaGraderValidateParamsGraderUnion."""
        out: dict[tuple[str, str], str] = {}
        prefixes = self._operation_prefixes(ir)
        for s in ir.of_kind(Struct):
            if s.name not in prefixes:
                continue
            for f in s.fields:
                if isinstance(f.type, Named) and isinstance(ir.types[f.type.name], Union):
                    alias = s.names[self.lang] + f.names[self.lang] + "Union"
                    if alias != ir.types[f.type.name].names[self.lang]:
                        out[(s.name, f.wire_name)] = alias
        return out

    def aliases(self, ir: IR) -> list[TypeAlias]:
        out: list[TypeAlias] = []
        field_aliases = self.field_union_aliases(ir)
        for s in ir.of_kind(Struct):
            for f in s.fields:
                alias = field_aliases.get((s.name, f.wire_name))
                if alias is not None and isinstance(f.type, Named):
                    target = ir.types[f.type.name].names[self.lang]
                    where = f"{s.names[self.lang]}.{f.names[self.lang]}"
                    out.append(TypeAlias(alias, target, f"{alias} is the {target} of {where}.", s.name))
        for name in self.request_variants(ir):
            go = ir.types[name].names[self.lang]
            out.append(TypeAlias(go + "Param", go, f"{go}Param is {go} as a request takes it.", name))
        return out

    def request_variants(self, ir: IR) -> list[str]:
        """Object members of the unions a request reaches: the official SDK spells them …Param."""
        reached = ir.reachable([op.request.name for op in ir.operations])
        members = {
            v.type.name
            for u in ir.of_kind(Union)
            if u.name in reached
            for v in u.variants
            if isinstance(v.type, Named) and isinstance(ir.types[v.type.name], Struct)
        }
        return [name for name in ir.types if name in members]

    # ------------------------------------------------------------------ templates
    def escapers(self) -> dict[str, Callable[..., str]]:
        return {
            "comment": comment,
            "go_string": go_string,
            "inline": inline,
            "md": markdown_inline,
            "md_code": markdown_code,
        }

    def jinja_filters(self) -> dict[str, Callable[..., Any]]:
        return {**NUMBER_FILTERS, "go_duration": go_duration, "go_bytes": go_bytes}

    def context(self, ir: IR, options: Options) -> dict[str, Any]:
        aliases = self.aliases(ir)
        return {
            "module": options.go_module,
            "package": options.go_package,
            "aliases": _by_anchor(aliases),
            "go_name": lambda name: ir.types[name].names[self.lang],
            "first_value": lambda name: first_enum_value(ir, name, self.lang),
            "member": lambda union, key: next(
                v.names[self.lang]
                for v in ir.types[union].variants  # type: ignore[attr-defined]
                if v.key == key
            ),
            "union_alias": lambda struct, wire: self.field_union_aliases(ir)[(struct, wire)],
            "accessor": lambda op: ".".join(resource_chain(ir, _resource_of(ir, op), self.lang)),
            "uses_json": lambda group: any(
                isinstance(t, Union) or (isinstance(t, Struct) and t.keeps_unknown_fields)
                for t in ir.types.values()
                if t.group == group
            ),
        }


def first_enum_value(ir: IR, name: str, lang: str) -> str:
    enum = ir.types[name]
    assert isinstance(enum, Enum)
    return enum.values[0].names[lang]


def _by_anchor(aliases: list[TypeAlias]) -> dict[str, list[TypeAlias]]:
    grouped: dict[str, list[TypeAlias]] = {}
    for a in aliases:
        grouped.setdefault(a.anchor, []).append(a)
    return grouped


def _resource_of(ir: IR, op: Operation) -> Resource:
    return next(r for r in ir.all_resources() if r.path == op.resource)


@escaper
def comment(text: str, indent: str = "") -> str:
    """`text` as `//` lines starting with `indent`, wrapped to 100 columns. Each line of the text is
    wrapped on its own, so paragraphs, list items and code keep their shape; line breaks of every kind
    start a new `//` line, and invisible characters are shown by their code point."""
    text = visible(text)
    if not text.strip():
        return ""
    width = max(40, COMMENT_WIDTH - 4 * indent.count("\t") - len(indent.replace("\t", "")) - 3)
    out: list[str] = []
    for line in text.strip("\n").split("\n"):
        item = _LIST_ITEM.match(line)
        if not line.strip() or line.startswith(("\t", "    ")):
            out.append(line.rstrip())
            continue
        hanging = " " * len(item.group(0)) if item else ""
        out.extend(
            wrap(
                line.strip(), width, subsequent_indent=hanging, break_long_words=False, break_on_hyphens=False
            )
        )
    return "\n".join(f"{indent}// {line}".rstrip() for line in out)


TABLE = GoNaming()
