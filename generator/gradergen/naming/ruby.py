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
    Enum,
    EnumValue,
    Field,
    NamedType,
    Resource,
    Struct,
    Union,
)
from ..literals import c_string, escaper, markdown_inline, visible
from .base import Namespace, NamingTable, pascal, snake
from .names import Names

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

    def reserved_type_names(self, scope: str, ir: IR, names: Names) -> frozenset[str]:
        if scope == "":
            return RUNTIME_CONSTANTS | CORE_CONSTANTS
        if scope == "Resources":
            return CORE_CONSTANTS
        return CORE_CONSTANTS | {UNKNOWN_VARIANT}

    def resource_scope(self, r: Resource) -> str:
        return "Resources"

    def claim_extras(self, ir: IR, names: Names, claim: Callable[[str, str, str], str]) -> None:
        """Each top-level type is a file named after it: two names that make one file name clash."""
        files = Namespace(self.lang, "as a file name", reserved=RUNTIME_FILES, fold_case=True)
        for t in ir.types.values():
            if t.owner is None:
                name = snake(names(t))
                if files.claim(name, t.pointer, suffix=_no_rename) != name:
                    raise SpecError(t.pointer, f"ruby: the file name {name}.rb is the runtime's")
        for op in ir.operations:
            request = ir.get(op.request)
            assert isinstance(request, Struct)
            for f in request.value_fields:
                if names(f) == "request_options":
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

    def enum_value_name(self, v: EnumValue, e: Enum, names: Names) -> str:
        name = re.sub(r"[^A-Za-z0-9]+", "_", v.wire).strip("_").upper() or "EMPTY"
        return "V" + name if name[0].isdigit() else name

    def fallback_name(self, u: Union, ir: IR) -> str:
        """The class nested in every union (no type nested there may take its name)."""
        return UNKNOWN_VARIANT

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

    def escapers(self) -> dict[str, Callable[..., str]]:
        return {
            "rb_str": ruby_string,
            "rb_sym": ruby_symbol,
            "rb_literal": ruby_literal,
            "comment": self.comment,
            "inline": inline,
            "md": markdown_inline,
        }


TABLE = RubyNaming()
