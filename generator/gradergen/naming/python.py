"""Python spellings. Model classes keep the spec's names (datamodel-code-generator writes them);
the client's resources, methods, keyword arguments and CLI flags are named here."""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Callable

from ..ir.model import IR, Field, NamedType, Struct
from ..literals import (
    c_string,
    escaper,
    markdown_code,
    markdown_inline,
    normalize_breaks,
    toml_string,
    u4_or_u8,
)
from .base import FALLBACK, Namespace, NamingTable, pascal, snake, words
from .names import Names

FLAG = "flag"
"""The role of a request field's command-line flag among its names."""


@escaper
def python_string(text: str) -> str:
    """A Python string literal in ASCII."""
    return c_string(text, '"', unicode_escape=u4_or_u8)


@escaper
def description_string(text: str) -> str:
    """A string literal for argparse's description, which is %-formatted only when it names %(prog)."""
    text = str(text)
    return c_string(text.replace("%", "%%") if "%(prog)" in text else text, '"', unicode_escape=u4_or_u8)


@escaper
def help_string(text: str) -> str:
    """A string literal for argparse's help, which %-formats it (every % doubled) and reflows it (so
    its line breaks can go)."""
    return c_string(" ".join(str(text).split()).replace("%", "%%"), '"', unicode_escape=u4_or_u8)


RUNTIME_EXPORTS = (
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseTooLargeError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "Client",
    "DEFAULT_BASE_URL",
    "GradersError",
    "NOT_GIVEN",
    "RequestOptions",
)
"""What the package exports besides its models and the error class of each status (from the IR)."""


RUNTIME_ERRORS = tuple(name for name in RUNTIME_EXPORTS if name.endswith("Error"))
"""The error classes of the runtime (_exceptions.py) besides those of each status."""


ASYNC, RAW, ASYNC_RAW = "async", "raw", "async_raw"
"""The roles of a resource's async, raw-response and async raw-response classes among its names."""

CALL_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})
"""The keyword arguments every operation takes besides the request's properties."""


def param_name(names: Names, f: Field) -> str:
    """The keyword argument of a request property: its name, unless a per-call option holds it."""
    name = names(f)
    return name + "_" if name in CALL_OPTIONS else name


def export_order(name: str) -> tuple[int, str]:
    """The order ruff expects of __all__: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


_PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}

BASE_MODEL_ATTRIBUTES = frozenset(
    """construct copy dict from_orm json model_computed_fields model_config model_construct model_copy
    model_dump model_dump_json model_extra model_fields model_fields_set model_json_schema
    model_parametrized_name model_post_init model_rebuild model_validate model_validate_json
    model_validate_strings parse_file parse_obj parse_raw schema schema_json update_forward_refs
    validate""".split()
)
"""What every pydantic model has: a property of the same name gets another attribute name."""

PROTECTED_PREFIXES = ("model_dump", "model_validate")
"""Pydantic warns, at every import, about a field whose name starts with one of these."""

MODULE_NAMES = frozenset(
    """annotations Annotated Any Literal BaseModel ConfigDict Field RootModel TypeAliasType AwareDatetime
    TYPE_CHECKING NOT_GIVEN Discriminator Tag dispatcher Mapping RequestOptions APIResponse AsyncClient
    Client""".split()
)
"""Names the generated modules import or define beside the models (models.py, _resources.py)."""


@escaper
def python_docstring(text: str) -> str:
    """The body of a triple-quoted docstring, in ASCII: no backslash, quote or line break of the
    text can end it or start an escape."""
    out = []
    text = normalize_breaks(str(text))
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"' and (i + 1 == len(text) or text[i + 1] == '"'):
            out.append('\\"')
        elif ch == "\n" or " " <= ch <= "~":
            out.append(ch)
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(u4_or_u8(ch))
    return "".join(out)


class PythonNaming(NamingTable):
    lang = "python"
    primitive_types = _PRIMITIVES
    array_type = "list[{}]"
    map_type = "dict[str, {}]"
    any_type = "Any"
    reserved = (
        frozenset(keyword.kwlist)
        | frozenset(keyword.softkwlist)
        | BASE_MODEL_ATTRIBUTES
        | frozenset({"self"})
    )

    reserved_method_names = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
    names_enum_values = False
    runtime_error_classes = frozenset(RUNTIME_EXPORTS) | frozenset(dir(builtins))

    def type_name(self, t: NamedType, ir: IR) -> str:
        """A spec name that is a Python identifier stays as it is (the names of the documented SDK);
        any other is spelled in PascalCase."""
        name = str(t.name)
        if name.isascii() and name.isidentifier() and not keyword.iskeyword(name):
            return name
        name = pascal(name)
        return name if name[:1].isalpha() else "T" + name

    def reserved_type_names(self, scope: str, ir: IR, names: Names) -> frozenset[str]:
        errors = {names(e) for e in ir.client.all_errors}
        return frozenset(dir(builtins)) | MODULE_NAMES | frozenset(RUNTIME_EXPORTS) | errors

    def field_name(self, f: Field, owner: Struct) -> str:
        name = snake(f.wire_name) or "field"
        if name.startswith(PROTECTED_PREFIXES) or name[0].isdigit():
            name = "field_" + name
        return name

    def claim_extras(self, ir: IR, names: Names, claim: Callable[[str, str, str], str]) -> None:
        from ..ir.jsonschema import lenient_unions

        for u in lenient_unions(ir):
            names.record(u, claim("", "Unknown" + names(u), u.pointer + "/oneOf"), FALLBACK)
        for r in ir.all_resources():
            pointer = next(op for node in r.walk() for op in node.operations).pointer + "/x-sdk-resource"
            kinds = [
                (ASYNC, "Async{}"),
                *(
                    [(RAW, "{}WithRawResponse"), (ASYNC_RAW, "Async{}WithRawResponse")]
                    if r.operations
                    else []
                ),
            ]
            for role, pattern in kinds:
                names.record(r, claim("", pattern.format(names(r)), pointer), role)
        reserved_flags = ["--api-key", "--base-url", "--timeout", "--max-retries", "--help", "-h"]
        for op in ir.operations:
            request = ir.get(op.request)
            assert isinstance(request, Struct)
            flags = Namespace(self.lang, f"as a flag of {op.name}", reserved_flags)
            for f in request.fields:
                spelled = "--" + "-".join(words(f.wire_name))
                names.record(f, flags.claim(spelled, f.pointer, "-value"), FLAG)

    def escapers(self) -> dict[str, Callable[..., str]]:
        return {
            "doc": python_docstring,
            "py_str": python_string,
            "help_str": help_string,
            "description_str": description_string,
            "toml_str": toml_string,
            "md": markdown_inline,
            "md_code": markdown_code,
        }


TABLE = PythonNaming()
