"""Go spellings, following the official Go SDK: exported PascalCase with Go's initialisms (ImageURL,
FileID), unions as `…Union` structs whose members are `Of<Variant>` fields, enum constants prefixed with
their type (StringCheckGraderOperationEq), operation bodies named after their resource
(FineTuningAlphaGraderRunParams), request-side spellings of shared types as aliases
(StringCheckGraderParam = StringCheckGrader, FineTuningAlphaGraderValidateParamsGraderUnion = GraderUnion).

How each field is held, its struct tag and the other code fragments are the printer's
(templates/go/printer.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import GradergenError
from ..ir.model import (
    IR,
    Alias,
    Enum,
    EnumValue,
    Field,
    Named,
    NamedType,
    Operation,
    Primitive,
    Resource,
    Struct,
    Union,
    Variant,
)
from ..literals import c_string, escaper, markdown_code, markdown_inline, u4_or_u8, visible
from .base import NamingTable, singular, words
from .memo import per_ir
from .names import Names
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
COMMENT_WIDTH = 100
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


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
    def reserved_type_names(self, scope: str, ir: IR, names: Names) -> frozenset[str]:
        return RUNTIME_NAMES

    def enum_value_scope(self, e: Enum, ir: IR) -> str:
        return ""  # Go's constants live in the package scope, beside its types

    def claim_extras(self, ir: IR, names: Names, claim: Callable[[str, str, str], str]) -> None:
        for a in self.aliases(names):
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

    def enum_value_name(self, v: EnumValue, e: Enum, names: Names) -> str:
        return names(e) + (go_pascal(v.wire) or "Empty")

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

    def fallback_name(self, u: Union, ir: IR) -> str:
        """The union struct's field that holds a value no member reads (members are Of…)."""
        return "Unknown"

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

    # ------------------------------------------------------------------ second names
    @per_ir
    def field_union_aliases(self, names: Names) -> dict[tuple[str, str], str]:
        """A union-typed field of an operation body has the name the official SDK gives it:
        FineTuningAlphaGraderValidateParams.Grader is a FineTuningAlphaGraderValidateParamsGraderUnion."""
        ir = names.ir
        out: dict[tuple[str, str], str] = {}
        prefixes = self._operation_prefixes(ir)
        for s in ir.of_kind(Struct):
            if s.name not in prefixes:
                continue
            for f in s.fields:
                if isinstance(f.type, Named) and isinstance(ir.types[f.type.name], Union):
                    alias = names(s) + names(f) + "Union"
                    if alias != names.type(f.type):
                        out[(s.name, f.wire_name)] = alias
        return out

    def aliases(self, names: Names) -> list[TypeAlias]:
        ir = names.ir
        out: list[TypeAlias] = []
        field_aliases = self.field_union_aliases(names)
        for s in ir.of_kind(Struct):
            for f in s.fields:
                alias = field_aliases.get((s.name, f.wire_name))
                if alias is not None and isinstance(f.type, Named):
                    target = names.type(f.type)
                    where = f"{names(s)}.{names(f)}"
                    out.append(TypeAlias(alias, target, f"{alias} is the {target} of {where}.", s.name))
        for name in self.request_variants(ir):
            go = names.type(name)
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
