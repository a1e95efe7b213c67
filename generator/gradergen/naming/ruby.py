"""Ruby spellings: a gem whose types nest under their owners (StringCheckGrader::Operation), snake_case
readers and keywords, SCREAMING_CASE enum constants, and the RBS and YARD types that document them."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from typing import Any

from ..errors import SpecError
from ..ir.model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    EnumValue,
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
from ..literals import NUMBER_FILTERS, bytes_literal, c_string, escaper, markdown_inline, visible
from ..options import Options
from .base import Namespace, NamingTable, pascal, snake

KEYWORDS = frozenset(
    "__ENCODING__ __LINE__ __FILE__ BEGIN END alias and begin break case class def defined? do else elsif "
    "end ensure false for if in module next nil not or redo rescue retry return self super then true undef "
    "unless until when while yield".split()
)
"""Ruby's keywords: `BEGIN` and `END` also cannot be constants, the rest cannot be local variables."""

SHADOWED_METHODS = frozenset(
    # Kernel and Object methods a reader of the same name would hide (so `format` becomes `format_`,
    # as in the documented Ruby SDK) ...
    "abort at_exit binding block_given? caller catch class clone define_singleton_method display dup "
    "enum_for equal? eql? exec exit extend fail fork format freeze frozen? gets hash inspect "
    "instance_of? instance_variable_get instance_variable_set instance_variables is_a? itself kind_of? "
    "lambda load loop method methods nil? object_id open p pp print printf proc public_send putc puts "
    "raise rand readline readlines require require_relative respond_to? select send singleton_class "
    "sleep sprintf srand system tap test then throw to_enum to_s trap warn "
    # ... and the methods every generated model has.
    "additional_properties coerce deconstruct_keys from_h from_json initialize initialize_data key? "
    "pretty_print to_h to_json".split()
)

RUNTIME_CONSTANTS = frozenset(
    {"Client", "Errors", "Internal", "RawResponse", "Resources", "VERSION", "Version"}
)
"""Constants the gem defines beside the models: a top-level type of one of these names is renamed."""

CORE_CONSTANTS = frozenset(
    "Array BasicObject Class Comparable Data Enumerable Float Hash Integer JSON Kernel Module Net Numeric "
    "Object Proc Set String Struct Symbol URI".split()
)
"""Core classes the generated code names unqualified: a type must not hide them in its module."""

RUNTIME_FILES = frozenset({"client", "errors", "internal", "raw_response", "resources", "version"})
"""The gem's own files beside the models (lib/<gem>/<name>.rb)."""


def _no_rename(name: str) -> str:
    return name


UNKNOWN_VARIANT = "Unknown"
"""The class, nested in each union that has tagged members, that keeps a member this gem does not know."""

_CONSTANT = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_PLAIN_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_RUNTIME_PRIMITIVES = {"string": "String", "integer": "Integer", "number": "Float", "boolean": "Boolean"}
_RBS_PRIMITIVES = {"string": "String", "integer": "Integer", "number": "Float", "boolean": "bool"}
_YARD_PRIMITIVES = {"string": "String", "integer": "Integer", "number": "Float", "boolean": "Boolean"}


def _wrap(line: str, width: int = 100) -> list[str]:
    if len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    hanging = indent + ("  " if line.lstrip().startswith(("- ", "* ")) else "")
    return textwrap.wrap(
        line,
        width,
        initial_indent=indent,
        subsequent_indent=hanging,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [line]


@escaper
def ruby_string(text: str) -> str:
    """A double-quoted Ruby (and RBS) string literal in ASCII: no interpolation, no raw controls."""
    return c_string(text, '"', specials=_RUBY_SPECIALS, unicode_escape=_ruby_unicode)


_RUBY_SPECIALS = {"#": "\\#", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\x1b": "\\e"}


def _ruby_unicode(ch: str) -> str:
    return f"\\u{{{ord(ch):x}}}"


@escaper
def inline(text: str) -> str:
    """Text inside one `#` comment line: line breaks become spaces."""
    return " ".join(visible(text).split("\n"))


@escaper
def ruby_symbol(text: str) -> str:
    return ":" + text if _PLAIN_SYMBOL.match(text) else ":" + ruby_string(text)


@escaper
def ruby_literal(value: Any) -> str:
    """A frozen Ruby literal for a JSON default value."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return ruby_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(ruby_literal(v) for v in value) + "].freeze"
    if isinstance(value, dict):
        pairs = ", ".join(f"{ruby_string(str(k))} => {ruby_literal(v)}" for k, v in value.items())
        return "{" + pairs + "}.freeze"
    raise TypeError(f"no Ruby literal for {value!r}")


def require_path(module: str) -> str:
    """`require "openai"` for OpenAI, "openai_graders" for OpenAIGraders, "acme/graders" for
    Acme::Graders: words break only where a capitalised word starts, so acronyms stay whole."""
    return "/".join(re.sub(r"(?<=.)(?=[A-Z][a-z])", "_", part).lower() for part in module.split("::"))


class RubyNaming(NamingTable):
    lang = "ruby"
    runtime_error_classes = frozenset(
        """Error APIError APIConnectionError APITimeoutError APIResponseValidationError
        APIResponseTooLargeError APIStatusError STATUS_CLASSES""".split()
    )
    reserved = KEYWORDS | SHADOWED_METHODS
    nests_types = True

    def reserved_type_names(self, scope: str, ir: IR) -> frozenset[str]:
        if scope == "":
            return RUNTIME_CONSTANTS | CORE_CONSTANTS
        if scope == "Resources":
            return CORE_CONSTANTS
        return CORE_CONSTANTS | {UNKNOWN_VARIANT}

    def resource_scope(self, r: Resource) -> str:
        return "Resources"

    def claim_extras(self, ir: IR, claim: Callable[[str, str, str], str]) -> None:
        """Each top-level type is a file named after it: two names that make one file name clash."""
        files = Namespace(self.lang, "as a file name", reserved=RUNTIME_FILES, fold_case=True)
        for t in ir.types.values():
            if t.owner is None:
                name = snake(t.names[self.lang])
                if files.claim(name, t.pointer, suffix=_no_rename) != name:
                    raise SpecError(t.pointer, f"ruby: the file name {name}.rb is the runtime's")
        for op in ir.operations:
            request = ir.get(op.request)
            assert isinstance(request, Struct)
            for f in request.value_fields:
                if f.names[self.lang] == "request_options":
                    raise SpecError(
                        f.pointer,
                        "ruby: request_options is the keyword of every call's options; rename the property",
                    )

    def type_name(self, t: NamedType, ir: IR) -> str:
        name = t.local_name if _CONSTANT.match(t.local_name) else pascal(t.local_name)
        if t.owner is not None and (name in CORE_CONSTANTS or name == UNKNOWN_VARIANT):
            return t.name if _CONSTANT.match(t.name) else pascal(t.name)
        return name if name[:1].isupper() else "T" + name

    def field_name(self, f: Field, owner: Struct) -> str:
        return snake(f.wire_name) or "field"

    def enum_value_name(self, v: EnumValue, e: Enum) -> str:
        name = re.sub(r"[^A-Za-z0-9]+", "_", v.wire).strip("_").upper() or "EMPTY"
        return "V" + name if name[0].isdigit() else name

    def resource_name(self, r: Resource) -> str:
        return pascal(r.segment)

    @staticmethod
    @escaper
    def comment(text: str, first: str = "# ", rest: str = "# ") -> str:
        """`text` as comment lines, wrapped at 100 characters; `first` and `rest` prefix them (`rest`
        carries the indentation of lines after the first). Every kind of line break starts a new
        comment line, and invisible characters (Ruby stops reading a file at ^D or ^Z; bidirectional
        controls reorder what a reader sees) are shown by their code point."""
        text = "\n".join(line.rstrip() for line in visible(text).strip("\n").split("\n"))
        lines = [wrapped for line in text.split("\n") for wrapped in _wrap(line)]
        prefixes = [first] + [rest] * (len(lines) - 1)
        return "\n".join(p + line if line else p.rstrip() for p, line in zip(prefixes, lines, strict=True))

    # ------------------------------------------------------------------ names in code
    def bindings(self, ir: IR, options: Options) -> _Bindings:
        return _Bindings(ir, options, self.lang)

    def escapers(self) -> dict[str, Callable[..., str]]:
        return {
            "rb_str": ruby_string,
            "rb_sym": ruby_symbol,
            "rb_literal": ruby_literal,
            "comment": self.comment,
            "inline": inline,
            "md": markdown_inline,
        }

    def jinja_filters(self) -> dict[str, Callable[..., Any]]:
        return {"snake": snake, **NUMBER_FILTERS, "bytes_literal": bytes_literal}

    def context(self, ir: IR, options: Options) -> dict[str, Any]:
        b = self.bindings(ir, options)
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


class _Bindings:
    """Names that depend on the IR and the options: qualified constants and type expressions."""

    def __init__(self, ir: IR, options: Options, lang: str) -> None:
        self.ir = ir
        self.module = options.ruby_module
        self.lang = lang
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
            found = self._full[t.name] = f"{owner}::{t.names[self.lang]}"
        return found

    def file_name(self, t: NamedType) -> str:
        return snake(t.names[self.lang])

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
        """Whether nil is a value of the field (sent as null): the field says so, or its union does."""
        target = self.ir.types.get(f.type.name) if isinstance(f.type, Named) else None
        return f.nullable or (isinstance(target, Union) and target.nullable)

    def field_declaration(self, f: Field) -> str:
        name = f.names[self.lang]
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
        return f"{owner}::{snake(t.names[self.lang])}"

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
        name = f.names[self.lang]
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
                if any(v.tag for v in t.variants):
                    kinds.append(f"{self.full(t)}::{UNKNOWN_VARIANT}")
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
        names = [node.names[self.lang] for node in self.resource_chain(r)]
        return "::".join([self.module, "Resources", *names])

    def accessor(self, r: Resource) -> str:
        return ".".join(node.attr_names[self.lang] for node in self.resource_chain(r))

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


TABLE = RubyNaming()
