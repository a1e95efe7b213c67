"""TypeScript spellings: PascalCase types, properties exactly as on the wire (the objects a caller writes
are the JSON that is sent), camelCase resources and methods; and the escapers for TypeScript literals,
JSDoc comments and the package's JSON and Markdown files."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..ir.model import IR, Field, NamedType, Operation, Resource, Struct, Union
from ..literals import c_string, escaper, json_string, markdown_code, markdown_inline, visible
from .base import FALLBACK, NamingTable, camel, pascal
from .names import Names
from .text import wrap

RUNTIME_EXPORTS = frozenset(
    # what src/index.ts exports beside the models: the client, its options and the errors ...
    "Client ClientOptions RequestOptions UnknownMember JsonValue "
    "DEFAULT_BASE_URL VERSION Types Transport Settings Decoder "
    # ... and the globals the generated code names unqualified, which a model must not hide.
    "AbortController AbortSignal Array ArrayBuffer Boolean Date Error Headers JSON Map Math Number Object "
    "Partial Promise Readonly ReadonlyArray Record Response Set String Symbol TextDecoder TypeError "
    "Uint8Array URL globalThis process".split()
)

RUNTIME_ERRORS = frozenset(
    "GradersError ParseError APIError APIConnectionError APITimeoutError APIUserAbortError APIStatusError "
    "APIResponseTooLargeError APIResponseValidationError STATUS_ERRORS".split()
)
"""The error classes beside the per-status ones (which the IR's client policy names)."""

CLIENT_MEMBERS = frozenset({"constructor", "baseURL", "timeout", "maxRetries", "maxResponseBytes", "request"})
"""Members of the client and of every resource class: an operation or accessor must not take them."""

_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@escaper
def ts_string(text: str) -> str:
    """A TypeScript string literal in ASCII (U+2028 and U+2029 escaped too), in the quotes prettier
    prefers: double, unless the text holds more double quotes than single ones."""
    quote = "'" if str(text).count('"') > str(text).count("'") else '"'
    return c_string(text, quote, specials={"\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\x00"})


@escaper
def ts_property(text: str) -> str:
    """A property key: bare when it is an identifier, else a string literal."""
    text = str(text)
    return text if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", text) else ts_string(text)


@escaper
def ts_key(text: str) -> str:
    """A key of an object literal: as `ts_property`, but `["__proto__"]`, which sets a property where
    `__proto__: x` would set the prototype."""
    return '["__proto__"]' if str(text) == "__proto__" else ts_property(text)


@escaper
def jsdoc(text: str, indent: str = "") -> str:
    """`text` as a JSDoc block (`/** ... */`), each line prefixed by `indent`: nothing in it can end
    the comment, and what would start a JSDoc tag is escaped."""
    body = visible(str(text)).strip("\n").replace("*/", "*\\/")
    width = max(40, 100 - len(indent) - 3)
    lines = [wrapped for line in body.split("\n") for wrapped in _wrap(line.rstrip(), width)]
    lines = [("\\" + line if line.lstrip().startswith("@") else line) for line in lines]
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */"
    inner = "\n".join(f"{indent} * {line}".rstrip() for line in lines)
    return f"{indent}/**\n{inner}\n{indent} */"


@escaper
def inline(text: str) -> str:
    """Text inside one `//` comment or one JSDoc line: line breaks become spaces."""
    return " ".join(visible(str(text)).replace("*/", "*\\/").split("\n"))


def _wrap(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    hanging = indent + ("  " if line.lstrip().startswith(("- ", "* ")) else "")
    options = {"break_long_words": False, "break_on_hyphens": False}
    return wrap(line, width, initial_indent=indent, subsequent_indent=hanging, **options) or [line]


class TypeScriptNaming(NamingTable):
    lang = "typescript"
    identifier = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
    # properties keep their wire names, and TypeScript allows every word as a property name
    reserved = frozenset()
    reserved_method_names = CLIENT_MEMBERS
    names_enum_values = False  # enums are string literal types: "eq" | "ne" | ...
    type_suffix = "Model"
    runtime_error_classes = RUNTIME_ERRORS

    def reserved_type_names(self, scope: str, ir: IR, names: Names) -> frozenset[str]:
        return RUNTIME_EXPORTS | RUNTIME_ERRORS | {names(e) for e in ir.client.all_errors}

    def claim_extras(self, ir: IR, names: Names, claim: Callable[[str, str, str], str]) -> None:
        """Each union's fallback class (UnknownGrader) is declared beside it."""
        for u in ir.of_kind(Union):
            names.record(u, claim("", "Unknown" + names(u), u.pointer + "/oneOf"), FALLBACK)

    def type_name(self, t: NamedType, ir: IR) -> str:
        return t.name if _PASCAL.match(t.name) else pascal(t.name)

    def field_name(self, f: Field, owner: Struct) -> str:
        """Properties are printed as their wire names (`ts_property`); this name only has to be unique,
        so every character an identifier cannot hold is spelled by its code point."""
        if _IDENTIFIER.fullmatch(f.wire_name):  # most are: nothing to spell
            return str.__str__(f.wire_name)
        name = "".join(
            ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"${ord(ch):x}$" for ch in f.wire_name
        )
        return name if name[:1].isalpha() or name[:1] == "_" else "$" + name

    def operation_name(self, op: Operation) -> str:
        return camel(op.name)

    def resource_attr_name(self, r: Resource) -> str:
        return camel(r.segment)

    def escapers(self) -> dict[str, Callable[..., str]]:
        return {
            "ts_str": ts_string,
            "ts_prop": ts_property,
            "ts_key": ts_key,
            "jsdoc": jsdoc,
            "inline": inline,
            "json_str": json_string,
            "md": markdown_inline,
            "md_code": markdown_code,
        }

    def jinja_filters(self) -> dict[str, Callable[..., Any]]:
        return {}


TABLE = TypeScriptNaming()
