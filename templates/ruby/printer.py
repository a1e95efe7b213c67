"""What the Ruby templates print beyond names: constant paths, the model DSL's declarations, the RBS and
YARD types, and the layout of nested modules.

Loaded by the renderer from the manifest's `printer:`; the naming table (gradergen/naming/ruby.py) only
names and escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
    Primitive,
    Resource,
    Struct,
    TypeRef,
    Union,
)
from gradergen.literals import NUMBER_FILTERS, bytes_literal
from gradergen.naming.base import ACCESSOR, FALLBACK, NamingTable, snake
from gradergen.naming.names import Names
from gradergen.naming.ruby import (
    UNKNOWN_VARIANT,
    RubyNaming,
    require_path,
    ruby_literal,
    ruby_string,
    ruby_symbol,
)
from gradergen.options import Options

_RUNTIME_PRIMITIVES = {"string": "String", "integer": "Integer", "number": "Float", "boolean": "Boolean"}
_RBS_PRIMITIVES = {"string": "String", "integer": "Integer", "number": "Float", "boolean": "bool"}
_YARD_PRIMITIVES = {"string": "String", "integer": "Integer", "number": "Float", "boolean": "Boolean"}


def context(ir: IR, table: NamingTable, names: Names, options: Options) -> dict[str, Any]:
    b = _Bindings(names, options)
    top = [t for t in ir.types.values() if t.owner is None]
    return {
        "module": options.ruby_module,
        "module_parts": options.ruby_module.split("::"),
        "gem_path": b.gem_path,
        "gem_name": b.gem_path.replace("/", "-"),
        "gem_dir": b.gem_path.rsplit("/", 1)[-1],
        "top_types": sorted(top, key=b.file_name),
        "rb": b,
        "unknown_variant": UNKNOWN_VARIANT,
    }


FILTERS: dict[str, Callable[..., Any]] = {"snake": snake, **NUMBER_FILTERS, "bytes_literal": bytes_literal}


class _Bindings:
    """Names that depend on the IR and the options: qualified constants and type expressions."""

    def __init__(self, names: Names, options: Options) -> None:
        self.ir = ir = names.ir
        self.names = names
        self.module = options.ruby_module
        self.gem_path = require_path(options.ruby_module)
        # built once: the templates ask for children and constant paths of every type, many times
        self._children: dict[str, list[NamedType]] = {}
        for t in ir.types.values():
            if t.owner is not None:
                self._children.setdefault(t.owner, []).append(t)
        self._full: dict[str, str] = {}

    # -------------------------------------------------------------- layout
    def full(self, t: NamedType | str) -> str:
        """The constant path of a type: OpenAI::StringCheckGrader::Operation."""
        t = self.ir.types[t] if isinstance(t, str) else t
        found = self._full.get(t.name)
        if found is None:
            owner = self.full(t.owner) if t.owner is not None else self.module
            found = self._full[t.name] = f"{owner}::{self.names(t)}"
        return found

    def file_name(self, t: NamedType) -> str:
        return snake(self.names(t))

    def children(self, t: NamedType) -> list[NamedType]:
        return self._children.get(t.name, [])

    def wrap(self, body: str, openers: list[str]) -> str:
        """Nest `body` in `module`/`class` openers, indenting two spaces a level, with blank lines
        only between declarations: never two in a row, after an opener or before an `end`."""
        pad = "  " * len(openers)
        lines = [("  " * i) + o for i, o in enumerate(openers)]
        lines += [(pad + line) if line.strip() else "" for line in body.strip("\n").split("\n")]
        lines.extend(("  " * i) + "end" for i in reversed(range(len(openers))))
        return "\n".join(_tidy(lines))

    def module_openers(self) -> list[str]:
        return [f"module {part}" for part in self.module.split("::")]

    # -------------------------------------------------------------- runtime type descriptors
    def runtime_type(self, ref: TypeRef) -> str:
        """The descriptor the model DSL coerces a value with."""
        if isinstance(ref, Primitive):
            name = _RUNTIME_PRIMITIVES[ref.name]
            return f"{self.module}::Internal::Boolean" if name == "Boolean" else name
        if isinstance(ref, Named):
            return f"-> {{ {self.full(ref.name)} }}"
        if isinstance(ref, ArrayOf):
            return f"{self.module}::Internal::ArrayOf[{self.runtime_type(ref.item)}]"
        if isinstance(ref, MapOf):
            return f"{self.module}::Internal::HashOf[{self.runtime_type(ref.value)}]"
        assert isinstance(ref, AnyJson)
        return f"{self.module}::Internal::Unknown"

    def nullable(self, f: Field) -> bool:
        """Whether nil is a value of the field (sent as null), as the IR's presence says."""
        return f.presence.endswith("nullable")

    def field_declaration(self, f: Field) -> str:
        name = self.names(f)
        api = f", api_name: {ruby_string(f.wire_name)}" if name != f.wire_name else ""
        if f.const is not None:
            return f"tag :{name}, {ruby_symbol(f.const)}{api}"
        parts = [f"{'required' if f.required else 'optional'} :{name}, {self.runtime_type(f.type)}"]
        if self.nullable(f):
            parts.append("nullable: true")
        if f.has_default:
            parts.append(f"default: {ruby_literal(f.default)}")
        return ", ".join(parts) + api

    def variant_declaration(self, u: Union, index: int) -> str:
        v = u.variants[index]
        head = f"variant {self.runtime_type(v.type)}"
        if v.tag is not None:
            return f"{head}, tag: {ruby_symbol(v.tag)}"
        kinds = [f":{k}" for k in u.kinds_read_by(v)]
        return f"{head}, kind: {kinds[0] if len(kinds) == 1 else '[' + ', '.join(kinds) + ']'}"

    # -------------------------------------------------------------- RBS
    def rbs_alias(self, t: NamedType) -> str:
        """The RBS type alias of an enum (`value`), a union (`variant`) or an alias type."""
        if isinstance(t, Enum):
            return f"{self.full(t)}::value"
        if isinstance(t, Union):
            return f"{self.full(t)}::variant"
        owner = self.full(t.owner) if t.owner else self.module
        return f"{owner}::{snake(self.names(t))}"

    def rbs_type(self, ref: TypeRef) -> str:
        if isinstance(ref, Primitive):
            return _RBS_PRIMITIVES[ref.name]
        if isinstance(ref, Named):
            t = self.ir.types[ref.name]
            return self.full(t) if isinstance(t, Struct) else self.rbs_alias(t)
        if isinstance(ref, ArrayOf):
            return f"::Array[{self.rbs_type(ref.item)}]"
        if isinstance(ref, MapOf):
            return f"::Hash[Symbol, {self.rbs_type(ref.value)}]"
        return "untyped"

    def rbs_input_type(self, ref: TypeRef) -> str:
        """What a keyword argument accepts: models also as hashes, enum values also as strings."""
        if isinstance(ref, Named):
            t = self.ir.types[ref.name]
            if isinstance(t, Union):
                return f"{self.full(t)}::input"
            if isinstance(t, Struct):
                return f"{self.rbs_type(ref)} | ::Hash[untyped, untyped]"
            if isinstance(t, Enum):
                return f"{self.rbs_type(ref)} | String"
            if isinstance(t, Alias):
                return self.rbs_input_type(t.target)
        if isinstance(ref, ArrayOf):
            return f"::Array[{self.rbs_input_type(ref.item)}]"
        if isinstance(ref, MapOf):
            return f"::Hash[untyped, {self.rbs_input_type(ref.value)}]"
        if isinstance(ref, Primitive) and ref.name == "number":
            return "Float | Integer"
        return self.rbs_type(ref)

    def rbs_union_input(self, u: Union) -> str:
        """The RBS `input` alias of a union: what building accepts for each member, hashes included."""
        members: list[str] = []
        for v in u.variants:
            for part in self.rbs_input_type(v.type).split(" | "):
                if part not in members:
                    members.append(part)
        hashes = [m for m in members if m.startswith("::Hash[")]
        return " | ".join([m for m in members if m not in hashes] + hashes)

    def rbs_reader(self, f: Field) -> str:
        if f.const is not None:
            return ruby_symbol(f.const)
        t = self.rbs_type(f.type)
        may_be_nil = self.nullable(f) or (not f.required and not f.has_default)
        return _optional(t) if may_be_nil and t != "untyped" else t

    def rbs_keyword(self, f: Field) -> str:
        name = self.names(f)
        if f.const is not None:
            return f"?{name}: {ruby_symbol(f.const)} | String"
        t = self.rbs_input_type(f.type)
        if f.required:
            return f"{name}: {_optional(t) if self.nullable(f) else t}"
        return f"?{name}: {_optional(t)}" if t != "untyped" else f"?{name}: untyped"

    def rbs_constant(self, t: Alias) -> str:
        """The RBS type of the constant that holds an alias's runtime descriptor."""
        ref = t.target
        if isinstance(ref, Primitive):
            name = _RUNTIME_PRIMITIVES[ref.name]
            return (
                f"singleton({self.module}::Internal::Boolean)" if name == "Boolean" else f"singleton({name})"
            )
        if isinstance(ref, ArrayOf):
            return f"{self.module}::Internal::ArrayOf"
        if isinstance(ref, MapOf):
            return f"{self.module}::Internal::HashOf"
        return "untyped"

    # -------------------------------------------------------------- YARD
    def yard_type(self, ref: TypeRef, nested: bool = False) -> str:
        """A YARD type list; a union inside an array or hash is named by its module."""
        if isinstance(ref, Primitive):
            return _YARD_PRIMITIVES[ref.name]
        if isinstance(ref, Named):
            t = self.ir.types[ref.name]
            if isinstance(t, Enum):
                return f"Symbol, {self.full(t)}"
            if isinstance(t, Union) and nested:
                return self.full(t)
            if isinstance(t, Union):
                kinds = [self.yard_type(v.type) for v in t.variants]
                kinds.append(f"{self.full(t)}::{self.names(t, FALLBACK)}")
                return ", ".join([*kinds, "nil"] if t.nullable else kinds)
            if isinstance(t, Alias):
                return self.yard_type(t.target, nested)
            return self.full(t)
        if isinstance(ref, ArrayOf):
            return f"Array<{self.yard_type(ref.item, nested=True)}>"
        if isinstance(ref, MapOf):
            return f"Hash{{Symbol => {self.yard_type(ref.value, nested=True)}}}"
        return "Object"

    def yard_reader(self, f: Field) -> str:
        if f.const is not None:
            return "Symbol"
        t = self.yard_type(f.type)
        may_be_nil = self.nullable(f) or (not f.required and not f.has_default and f.const is None)
        return f"{t}, nil" if may_be_nil and not t.endswith("nil") else t

    # -------------------------------------------------------------- helpers for templates
    def is_tagged(self, u: Union) -> bool:
        return any(v.tag is not None for v in u.variants)

    def unknown_tag_field(self, u: Union) -> tuple[str, str]:
        """The Ruby and wire name of the tag an unknown member is read by."""
        wire = u.tag_name
        ruby = snake(wire)
        return (ruby + "_" if ruby in RubyNaming.reserved else ruby), wire

    def resource_chain(self, r: Resource) -> list[Resource]:
        by_path = {tuple(node.path): node for node in self.ir.all_resources()}
        return [by_path[tuple(r.path[: i + 1])] for i in range(len(r.path))]

    def resource_full(self, r: Resource) -> str:
        names = [self.names(node) for node in self.resource_chain(r)]
        return "::".join([self.module, "Resources", *names])

    def accessor(self, r: Resource) -> str:
        return ".".join(self.names(node, ACCESSOR) for node in self.resource_chain(r))

    def body_fields(self, op_request: Named) -> list[Field]:
        t = self.ir.types[op_request.name]
        assert isinstance(t, Struct)
        return t.fields

    def keyword_default(self, f: Field) -> str:
        """An optional keyword's default: nil leaves a non-nullable field out; a nullable one needs OMIT
        so that nil can mean null."""
        return f"{self.module}::Internal::OMIT" if self.nullable(f) else "nil"

    def get(self, name: str) -> NamedType:
        return self.ir.types[name]

    def rbs_initialize(self, t: Struct) -> str:
        return _parameters([*(self.rbs_keyword(f) for f in t.fields), "**untyped"])

    def rbs_operation(self, request: Struct) -> str:
        options = "?request_options: " + self.module + "::Client::request_options"
        return _parameters([*(self.rbs_keyword(f) for f in request.value_fields), options])


_OPENER = re.compile(r"^\s*(class|module) ")


def _tidy(lines: list[str]) -> list[str]:
    """`lines` (blank ones empty) with a blank line kept only between declarations: not first, not
    after another or an opener, not before an `end`."""
    out: list[str] = []
    blank = False  # a blank line is waiting for the line after it
    for line in lines:
        if not line:
            blank = blank or bool(out and out[-1] and not _OPENER.match(out[-1]))
            continue
        if blank and line.strip() != "end":
            out.append("")
        blank = False
        out.append(line)
    if blank:
        out.append("")
    return out


def _parameters(params: list[str]) -> str:
    """An RBS parameter list, one parameter a line when it is long."""
    line = "(" + ", ".join(params) + ")"
    if len(line) <= 90:
        return line
    return "(\n" + ",\n".join("  " + p for p in params) + "\n)"


def _optional(rbs: str) -> str:
    return f"({rbs})?" if " " in rbs or "|" in rbs else f"{rbs}?"
