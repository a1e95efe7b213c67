"""Java spellings: class, member and constant names, the names they may not take, and the escapers
for Java string literals and Javadoc.

Types nest where the IR gives them an owner (StringCheckGrader.Operation). Packages, type expressions
and the code the templates print are the printer's (templates/java/printer.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import ClassVar

from ..ir.model import (
    IR,
    Alias,
    Enum,
    EnumValue,
    Field,
    Named,
    NamedType,
    Operation,
    Resource,
    Struct,
    Union,
    Variant,
)
from ..literals import c_string, escaper, markdown_code, markdown_inline, visible, xml_text
from .base import NamingTable, camel, pascal, words
from .names import Names

ASYNC = "async"
"""The role of a resource's class in the async client among its names."""

KEYWORDS = frozenset(
    """abstract assert boolean break byte case catch char class const continue default do double else enum
    extends final finally float for goto if implements import instanceof int interface long native new
    package private protected public return short static strictfp super switch synchronized this throw
    throws transient try void volatile while true false null var yield record sealed permits""".split()
)
MEMBER_NAMES = frozenset(
    """equals hashCode toString getClass notify notifyAll wait clone finalize builder toBuilder build
    additionalProperties putAdditionalProperty putAllAdditionalProperties removeAdditionalProperty
    accept value known isKnown of""".split()
)
"""Methods every generated class (or its builder) already has: a field of that name gets a suffix."""

NESTED_CLASS_NAMES = frozenset(
    {"Builder", "Known", "Visitor", "Serializer", "Deserializer", "WithRawResponse"}
)
"""Classes the templates declare inside models: an IR type nested there may not take these names."""

JDK_AND_JACKSON = {
    "ArrayList": "java.util.ArrayList",
    "CancellationException": "java.util.concurrent.CancellationException",
    "CompletionException": "java.util.concurrent.CompletionException",
    "ObjectNode": "com.fasterxml.jackson.databind.node.ObjectNode",
    "ZonedDateTime": "java.time.ZonedDateTime",
    "URLEncoder": "java.net.URLEncoder",
    "UUID": "java.util.UUID",
    "ByteArrayOutputStream": "java.io.ByteArrayOutputStream",
    "ByteBuffer": "java.nio.ByteBuffer",
    "Collections": "java.util.Collections",
    "CompletableFuture": "java.util.concurrent.CompletableFuture",
    "CompletionStage": "java.util.concurrent.CompletionStage",
    "DeserializationContext": "com.fasterxml.jackson.databind.DeserializationContext",
    "DeserializationFeature": "com.fasterxml.jackson.databind.DeserializationFeature",
    "DateTimeFormatter": "java.time.format.DateTimeFormatter",
    "DateTimeParseException": "java.time.format.DateTimeParseException",
    "Duration": "java.time.Duration",
    "ExecutionException": "java.util.concurrent.ExecutionException",
    "Flow": "java.util.concurrent.Flow",
    "Function": "java.util.function.Function",
    "HttpClient": "java.net.http.HttpClient",
    "HttpHeaders": "java.net.http.HttpHeaders",
    "HttpRequest": "java.net.http.HttpRequest",
    "HttpResponse": "java.net.http.HttpResponse",
    "HttpTimeoutException": "java.net.http.HttpTimeoutException",
    "IOException": "java.io.IOException",
    "JsonAnyGetter": "com.fasterxml.jackson.annotation.JsonAnyGetter",
    "JsonAutoDetect": "com.fasterxml.jackson.annotation.JsonAutoDetect",
    "JsonAnySetter": "com.fasterxml.jackson.annotation.JsonAnySetter",
    "JsonCreator": "com.fasterxml.jackson.annotation.JsonCreator",
    "JsonDeserialize": "com.fasterxml.jackson.databind.annotation.JsonDeserialize",
    "JsonFactory": "com.fasterxml.jackson.core.JsonFactory",
    "JsonGenerator": "com.fasterxml.jackson.core.JsonGenerator",
    "JsonIgnoreProperties": "com.fasterxml.jackson.annotation.JsonIgnoreProperties",
    "JsonInclude": "com.fasterxml.jackson.annotation.JsonInclude",
    "JsonMappingException": "com.fasterxml.jackson.databind.JsonMappingException",
    "JsonMapper": "com.fasterxml.jackson.databind.json.JsonMapper",
    "JsonNode": "com.fasterxml.jackson.databind.JsonNode",
    "JsonParser": "com.fasterxml.jackson.core.JsonParser",
    "JsonPOJOBuilder": "com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder",
    "JsonProcessingException": "com.fasterxml.jackson.core.JsonProcessingException",
    "JsonProperty": "com.fasterxml.jackson.annotation.JsonProperty",
    "JsonPropertyOrder": "com.fasterxml.jackson.annotation.JsonPropertyOrder",
    "JsonSerialize": "com.fasterxml.jackson.databind.annotation.JsonSerialize",
    "JsonValue": "com.fasterxml.jackson.annotation.JsonValue",
    "LinkedHashMap": "java.util.LinkedHashMap",
    "List": "java.util.List",
    "Map": "java.util.Map",
    "ObjectMapper": "com.fasterxml.jackson.databind.ObjectMapper",
    "Objects": "java.util.Objects",
    "Optional": "java.util.Optional",
    "SerializerProvider": "com.fasterxml.jackson.databind.SerializerProvider",
    "StdDeserializer": "com.fasterxml.jackson.databind.deser.std.StdDeserializer",
    "StdSerializer": "com.fasterxml.jackson.databind.ser.std.StdSerializer",
    "StreamReadConstraints": "com.fasterxml.jackson.core.StreamReadConstraints",
    "ThreadLocalRandom": "java.util.concurrent.ThreadLocalRandom",
    "TimeUnit": "java.util.concurrent.TimeUnit",
    "TimeoutException": "java.util.concurrent.TimeoutException",
    "TypeReference": "com.fasterxml.jackson.core.type.TypeReference",
    "StandardCharsets": "java.nio.charset.StandardCharsets",
    "URI": "java.net.URI",
    "URISyntaxException": "java.net.URISyntaxException",
}
"""Every library class the templates use, by simple name: a file imports those its code mentions."""

JAVA_LANG = frozenset(
    """Boolean Double Integer Long Math Number Object Override String StringBuilder SuppressWarnings
    System Thread Class Iterable Exception RuntimeException Error IllegalArgumentException
    IllegalStateException NullPointerException InterruptedException Deprecated Record Enum Void
    Character Byte Short Float Runnable Comparable CharSequence""".split()
)
RESERVED_TYPE_NAMES = frozenset(JDK_AND_JACKSON) | JAVA_LANG | NESTED_CLASS_NAMES
"""A spec type may not shadow a class the generated code refers to by its simple name."""

RUNTIME_CLASSES = {
    "core": ["JsonField", "ModelSupport", "ObjectMappers"],
    "client": ["OpenAIClient", "OpenAIClientAsync", "RequestOptions", "ApiResponse"],
    "errors": [
        "OpenAIException",
        "OpenAIServiceException",
        "OpenAIIoException",
        "OpenAITimeoutException",
        "OpenAIInvalidDataException",
        "OpenAIResponseTooLargeException",
    ],
}
"""The hand-written runtime's public classes, by package under the root; the class of each error
status comes from the IR's client policy (`ir.client.all_errors`) and goes to "errors" too."""
RUNTIME_CLASS_NAMES = frozenset(
    [*(c for classes in RUNTIME_CLASSES.values() for c in classes), "HttpTransport", "OpenAIClient"]
)

_VARIANT_KIND_NAMES = {
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
    "array": "List",
    "object": "Map",
}
_DOC_MARKUP = re.compile(r"[\n&<>\\@*`\[]")
"""What `doc` escapes or converts (a list starts with "- " as well): text without any is printed as it is."""
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_CODE_SAFE = re.compile(r"[A-Za-z0-9_.,<>?/\[\] -]+")
"""Text {@code} can hold: nothing that could unbalance its braces or end the comment."""
_BACKTICKS = re.compile(r"`([^`\n]*[^`\s][^`\n]*)`")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


@escaper
def java_string(value: str) -> str:
    """A Java string literal in ASCII. Line breaks, quotes and backslashes get their own escapes: a
    \\u escape of them would be read before the literal is (JLS 3.3) and end it."""
    return c_string(value, '"', specials={"\b": "\\b", "\f": "\\f"})


def _identifier(name: str) -> str:
    """Make a spelled name a legal identifier: one that starts with a digit gets a leading underscore."""
    name = _NOT_IDENTIFIER.sub("_", name) or "_value"
    return "_" + name if name[0].isdigit() or name == "_" else name


class JavaNaming(NamingTable):
    lang = "java"
    reserved = KEYWORDS | MEMBER_NAMES
    nests_types = True
    fold_case_types = True  # a class is a file, or a file of its own once compiled (Outer$Inner.class)
    error_class_suffix = "Exception"
    error_class_renames: ClassVar[dict[str, str]] = {"authentication": "UnauthorizedException"}
    """The official Java SDK's name for 401, which Java users know."""
    runtime_error_classes = RUNTIME_CLASS_NAMES | RESERVED_TYPE_NAMES

    # ------------------------------------------------------------------ names
    def type_scope(self, t: NamedType, ir: IR) -> str:
        """Every top-level class shares one scope, whatever its package: the code imports them all by
        their simple names. An alias is no class, so what it owns is declared at top level."""
        owner = ir.types.get(t.owner) if t.owner else None
        return "" if owner is None or isinstance(owner, Alias) else str.__str__(owner.name)

    def type_suffix_for(self, scope: str) -> str:
        return "Model" if scope == "" else "Type"

    def reserved_type_names(self, scope: str, ir: IR, names: Names) -> frozenset[str]:
        """A spec type may not shadow a class the code names by its simple name; a nested one may not
        take the name of a class the templates nest beside it, nor of a class enclosing it."""
        reserved = RESERVED_TYPE_NAMES | RUNTIME_CLASS_NAMES | {names(e) for e in ir.client.all_errors}
        owner = ir.types.get(scope) if scope else None
        while owner is not None:
            reserved |= {names(owner)}
            owner = ir.types.get(owner.owner) if owner.owner else None
        return reserved

    def type_name(self, t: NamedType, ir: IR) -> str:
        """The simple class name: nested types take their short name (StringCheckGrader.Operation)."""
        local = t.local_name if self.type_scope(t, ir) else t.name
        return _identifier(pascal(local) if "_" in local or "-" in local else local[:1].upper() + local[1:])

    def field_name(self, f: Field, owner: Struct) -> str:
        return _identifier(camel(f.wire_name))

    def enum_value_name(self, v: EnumValue, e: Enum, names: Names) -> str:
        """The wire value in capitals, other characters as underscores: mp3 → MP3, rouge_1 → ROUGE_1."""
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", v.wire)
        return _identifier(re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").upper() or "EMPTY")

    def variant_name(self, v: Variant, u: Union, ir: IR) -> str:
        """A named member keeps its class's name, less the word the union and all its named members end
        with (Grader.ofStringCheck); a plain member is named by its JSON kind (TokenUsage.ofInteger)."""
        named = [m for m in u.variants if isinstance(m.type, Named)]
        last = words(u.name)[-1:] if u.name else []
        if isinstance(v.type, Named):
            name = ir.types[v.type.name].name
            shared = len(named) > 1 and all(words(ir.types[m.type.name].name)[-1:] == last for m in named)  # type: ignore[union-attr]
            if last and shared:
                trimmed = pascal("_".join(words(name)[:-1]))
                name = trimmed or name
            name = pascal(name) if "_" in name else name
        else:
            name = _VARIANT_KIND_NAMES[v.json_kind]
        return "UnknownMember" if name == "Unknown" else _identifier(name)

    def fallback_name(self, u: Union, ir: IR) -> str:
        """ofUnknown, isUnknown, unknown(), visitUnknown: a member named Unknown is UnknownMember."""
        return "Unknown"

    def operation_name(self, op: Operation) -> str:
        return _identifier(camel(op.name))

    def resource_name(self, r: Resource) -> str:
        return pascal("_".join(r.path)) + "Service"

    def claim_extras(self, ir: IR, names: Names, claim: Callable[[str, str, str], str]) -> None:
        """Each resource's class in the async client: FineTuningService beside FineTuningServiceAsync."""
        for r in ir.all_resources():
            pointer = next(op for node in r.walk() for op in node.operations).pointer + "/x-sdk-resource"
            names.record(r, claim(self.resource_scope(r), names(r) + "Async", pointer), ASYNC)

    def resource_attr_name(self, r: Resource) -> str:
        return _identifier(camel(r.segment))

    @escaper
    def doc(self, text: str) -> str:
        """HTML for a Javadoc comment: escaped so that no description can end the comment, start a
        block tag or a \\u escape; Markdown code spans, links, lists and paragraphs become HTML;
        invisible characters are shown by their code point."""
        text = visible(text).strip()
        if not _DOC_MARKUP.search(text) and not text.startswith("- "):
            return text  # one plain line: nothing to escape or convert
        escaped = html.escape(text, quote=False).replace("\\", "&#92;").replace("@", "&#64;")
        escaped = escaped.replace("*/", "*&#47;")
        escaped = _BACKTICKS.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)
        escaped = _LINK.sub(lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', escaped)
        blocks: list[str] = []
        for para in _PARAGRAPH_BREAK.split(escaped):
            lines = [line.strip() for line in para.split("\n") if line.strip()]
            if lines and all(line.startswith("- ") for line in lines):
                items = "".join(f"<li>{line[2:]}</li>\n" for line in lines)
                blocks.append(f"<ul>\n{items}</ul>")
            elif lines:
                # a paragraph after the first opens with <p>; a list is a block of its own
                blocks.append(("<p>\n" if blocks else "") + " ".join(lines))
        return "\n".join(blocks)

    @escaper
    def code(self, text: str) -> str:
        """Inline code in a Javadoc comment; {@code} only where its content cannot unbalance it."""
        if _CODE_SAFE.fullmatch(text):
            return "{@code " + text + "}"
        return "<code>" + self.doc(text) + "</code>"

    def escapers(self) -> dict[str, Callable[..., str]]:
        return {
            "java_string": java_string,
            "doc": self.doc,
            "code": self.code,
            "xml": xml_text,
            "md": markdown_inline,
            "md_code": markdown_code,
        }


TABLE = JavaNaming()
