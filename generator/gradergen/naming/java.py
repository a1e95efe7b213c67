"""Java spellings, packages and type expressions.

Types nest where the IR gives them an owner (StringCheckGrader.Operation); every reference to a type is
printed as the shortest name that resolves to it from the class it appears in. Packages follow the
documented Java SDK: operation bodies under models.<resource path>, graders and their parts under
models.graders.gradermodels, error bodies beside the exceptions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import GradergenError
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
    bytes_literal,
    c_string,
    escaper,
    java_duration,
    markdown_code,
    markdown_inline,
    visible,
    xml_text,
)
from ..options import Options
from .base import NamingTable, camel, pascal, resource_chain, singular, words
from .java_views import UNBOXED as _UNBOXED
from .java_views import JavaViews, StructView, article, upper_first
from .text import wrap

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
    "URLEncoder": "java.net.URLEncoder",
    "UUID": "java.util.UUID",
    "ByteArrayOutputStream": "java.io.ByteArrayOutputStream",
    "ByteBuffer": "java.nio.ByteBuffer",
    "Collections": "java.util.Collections",
    "CompletableFuture": "java.util.concurrent.CompletableFuture",
    "CompletionStage": "java.util.concurrent.CompletionStage",
    "DeserializationContext": "com.fasterxml.jackson.databind.DeserializationContext",
    "DeserializationFeature": "com.fasterxml.jackson.databind.DeserializationFeature",
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

MODELS_PACKAGE = "models.graders.gradermodels"
"""Where the documented Java SDK keeps the graders and their parts (shared by several operations)."""

_PRIMITIVES = {"string": "String", "integer": "Long", "number": "Double", "boolean": "Boolean"}
_VARIANT_KIND_NAMES = {
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
    "array": "List",
    "object": "Map",
}
_JSON_TESTS = {
    "string": "json.isTextual()",
    "integer": "json.isIntegralNumber() && json.canConvertToLong()",
    "number": "json.isNumber()",
    "boolean": "json.isBoolean()",
    "array": "json.isArray()",
    "object": "json.isObject()",
}
_JSON_READS = {
    "String": "json.textValue()",
    "Long": "json.longValue()",
    "Double": "json.doubleValue()",
    "Boolean": "json.booleanValue()",
}

_CODE_TOKENS = re.compile(
    r'/\*[^*]*\*+(?:[^/*][^*]*\*+)*/|//[^\n]*|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'(?:\\.|[^\'\\\n])*\'', re.S
)
"""Comments and literals, blanked before names are looked for (each written to be matched in long runs)."""
_IDENTIFIER = re.compile(r"\b[A-Z]\w*", re.ASCII)
"""A class name: a word that starts with a capital (literals and comments are blanked first)."""
_WORDS_ONLY = str.maketrans(
    {chr(i): " " for i in range(128) if not (chr(i).isascii() and (chr(i).isalnum() or chr(i) == "_"))}
)
_DECLARED = tuple(
    re.compile(keyword + r"[^\S\n]+([A-Z][A-Za-z0-9_]*)")
    for keyword in ("class", "interface", "enum", "record")
)
"""One search per keyword: one that starts with a literal word is several times faster than one search
for all four, or one with a leading word boundary; a match inside a longer word (`subclass Foo`) is
dropped afterwards."""
_DOC_REFERENCE = re.compile(r"@(?:throws|exception|see|(?<=\{@)(?:link|linkplain))\s+([A-Z][A-Za-z0-9_]*)")
"""Classes a Javadoc comment refers to: javadoc resolves them through the file's imports. Starting with
a literal `@` makes the search fast."""
_BREAK_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"?|\((?!\))|, ', re.S)
"""For `fit`: a string literal (to its end, or the line's), or a place a line may break after."""
_DOC_MARKUP = re.compile(r"[\n&<>\\@*`\[]")
"""What `doc` escapes or converts (a list starts with "- " as well): text without any is printed as it is."""
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
_BREAKS_OR_TABS = re.compile(r"[\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]")
"""Where `str.splitlines` breaks a line, and the whitespace `textwrap` would rewrite."""
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_CODE_SAFE = re.compile(r"[A-Za-z0-9_.,<>?/\[\] -]+")
"""Text {@code} can hold: nothing that could unbalance its braces or end the comment."""
_BACKTICKS = re.compile(r"`([^`\n]*[^`\s][^`\n]*)`")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")

LINE_WIDTH = 120

HEADER = "// Code generated by gradergen from the graders OpenAPI spec. DO NOT EDIT."


@escaper
def java_string(value: str) -> str:
    """A Java string literal in ASCII. Line breaks, quotes and backslashes get their own escapes: a
    \\u escape of them would be read before the literal is (JLS 3.3) and end it."""
    return c_string(value, '"', specials={"\b": "\\b", "\f": "\\f"})


def fit(line: str, width: int = LINE_WIDTH) -> str:
    """Break a code line that is too long after an opening parenthesis or a comma (outside string
    literals), continuing 8 columns further in; comments are wrapped when they are written."""
    stripped = line.lstrip()
    if len(line) <= width or stripped.startswith(("*", "/*", "//")):
        return line
    indent = len(line) - len(stripped)
    cut = 0
    for token in _BREAK_TOKENS.finditer(line, indent):
        start = token.start()
        if start >= width:
            break
        if start > indent and line[start] != '"':
            cut = start + 1
    if not cut:
        return line
    rest = " " * (indent + 8) + line[cut:].lstrip()
    return line[:cut].rstrip() + "\n" + fit(rest, width)


def class_names(body: str) -> tuple[set[str], set[str]]:
    """The class names Java source uses (outside comments and literals, and in Javadoc references),
    and those it declares."""
    code = _CODE_TOKENS.sub(" ", body)
    if code.isascii():  # words are what is left once every other character is a space
        used = {word for word in set(code.translate(_WORDS_ONLY).split()) if "A" <= word[0] <= "Z"}
    else:
        used = set(_IDENTIFIER.findall(code))
    used.update(_DOC_REFERENCE.findall(body))
    declared = {
        m[1] for search in _DECLARED for m in search.finditer(code) if not _is_word_end(code, m.start())
    }
    return used, declared


def _is_word_end(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def _identifier(name: str) -> str:
    """Make a spelled name a legal identifier: one that starts with a digit gets a leading underscore."""
    name = _NOT_IDENTIFIER.sub("_", name) or "_value"
    return "_" + name if name[0].isdigit() or name == "_" else name


def declared_owner(t: NamedType, ir: IR) -> NamedType | None:
    """The class `t` is declared in; an alias has no class, so what it owns is declared at top level."""
    owner = ir.types.get(t.owner) if t.owner else None
    return None if owner is None or isinstance(owner, Alias) else owner


def declaration_chain(t: NamedType, ir: IR) -> list[NamedType]:
    """The classes from the top-level one down to `t`."""
    chain = [t]
    while (owner := declared_owner(chain[-1], ir)) is not None:
        chain.append(owner)
    return chain[::-1]


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

    def reserved_type_names(self, scope: str, ir: IR) -> frozenset[str]:
        """A spec type may not shadow a class the code names by its simple name; a nested one may not
        take the name of a class the templates nest beside it, nor of a class enclosing it."""
        names = RESERVED_TYPE_NAMES | RUNTIME_CLASS_NAMES | {e.names[self.lang] for e in ir.client.all_errors}
        owner = ir.types.get(scope) if scope else None
        while owner is not None:
            names |= {owner.names[self.lang]}
            owner = ir.types.get(owner.owner) if owner.owner else None
        return names

    def type_name(self, t: NamedType, ir: IR) -> str:
        """The simple class name: nested types take their short name (StringCheckGrader.Operation)."""
        local = t.local_name if self.type_scope(t, ir) else t.name
        return _identifier(pascal(local) if "_" in local or "-" in local else local[:1].upper() + local[1:])

    def field_name(self, f: Field, owner: Struct) -> str:
        return _identifier(camel(f.wire_name))

    def enum_value_name(self, v: EnumValue, e: Enum) -> str:
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

    def operation_name(self, op: Operation) -> str:
        return _identifier(camel(op.name))

    def resource_name(self, r: Resource) -> str:
        return pascal("_".join(r.path)) + "Service"

    def claim_extras(self, ir: IR, claim: Callable[[str, str, str], str]) -> None:
        """Each resource's class in the async client: FineTuningService beside FineTuningServiceAsync."""
        for r in ir.all_resources():
            pointer = next(op for node in r.walk() for op in node.operations).pointer + "/x-sdk-resource"
            r.names[self.lang + ".async"] = claim(
                self.resource_scope(r), r.names[self.lang] + "Async", pointer
            )

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

    # ------------------------------------------------------------------ comments and literals
    def javadoc(self, text: str, indent: int = 0, width: int = 110) -> str:
        """A /** ... */ block for `text` already passed through `doc`."""
        pad = " " * indent
        if (
            0 < len(text) <= width - indent - 3
            and text[0] != " "
            and text[-1] != " "
            and not _BREAKS_OR_TABS.search(text)
        ):  # one line that fits, the common case: what the loop below would make of it
            return f"{pad}/**\n{pad} * {text}\n{pad} */"
        out = [pad + "/**"]
        for line in text.splitlines() or [""]:
            wrapped = wrap(line, width=width - indent - 3, break_long_words=False, break_on_hyphens=False)
            out.extend(f"{pad} * {w}" for w in wrapped or [""])
        out.append(pad + " */")
        return "\n".join(out)

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

    def jinja_filters(self) -> dict[str, Callable[..., Any]]:
        return {
            **NUMBER_FILTERS,
            "java_duration": java_duration,
            "java_bytes": lambda n: bytes_literal(n, "L"),
            "javadoc": self.javadoc,
            "pascal": pascal,
            "camel": camel,
            "singular": singular,
            "upper_first": upper_first,
            "article": article,
        }

    def context(self, ir: IR, options: Options) -> dict[str, Any]:
        return JavaContext(self, ir, options).as_dict()


class JavaContext:
    """What the templates ask about one named IR: packages, paths, type expressions, imports."""

    def __init__(self, table: JavaNaming, ir: IR, options: Options) -> None:
        self.table = table
        self.ir = ir
        self.root = options.java_package
        self.lang = table.lang
        # Everything a reference asks is looked up in tables built once here: scanning the types
        # for each of the many references a large spec makes would be quadratic in its size.
        self._chains = {t.name: declaration_chain(t, ir) for t in ir.types.values()}
        self._packages = self._assign_packages()
        self._nested: dict[str, list[NamedType]] = {}
        self._members: dict[str | None, dict[str, NamedType]] = {None: {}}
        """By enclosing class (None: top level), the first class of each simple name declared there."""
        for t in ir.types.values():
            owner = self.owner(t)
            if owner is not None and self.is_class(t):
                self._nested.setdefault(owner.name, []).append(t)
            if self.is_class(t):
                scope = self._members.setdefault(owner.name if owner else None, {})
                scope.setdefault(t.names[self.lang], t)
        self._qualified = {t.name: self._qualify(t) for t in ir.types.values()}
        self._refs: dict[tuple[str, str | None], str] = {}
        self._imports: dict[str, str] | None = None
        self.java_string = java_string
        self.code = table.code
        self.doc = table.doc
        self._views = JavaViews(self)

    # ------------------------------------------------------------------ placement
    def _assign_packages(self) -> dict[str, str]:
        """The package of each top-level type."""
        ir = self.ir
        body_reach: dict[str, list[Operation]] = {}
        for op in ir.operations:
            for name in ir.reachable([op.request.name, op.response.name]):
                body_reach.setdefault(name, []).append(op)
        error_reach = ir.reachable([op.error.name for op in ir.operations if op.error])
        packages: dict[str, str] = {}
        for t in ir.types.values():
            if self.owner(t) is not None:
                continue
            if t.name in error_reach and t.name not in body_reach:
                packages[t.name] = f"{self.root}.errors"
            elif t.group == "operations" and t.name in body_reach:
                resource = body_reach[t.name][0].resource
                packages[t.name] = ".".join([self.root, "models", *(self._segment(s) for s in resource)])
            else:
                packages[t.name] = f"{self.root}.{MODELS_PACKAGE}"
        return packages

    @staticmethod
    def _segment(name: str) -> str:
        segment = re.sub(r"[^a-z0-9]", "", name.lower()) or "api"
        return segment + "_" if segment in KEYWORDS or segment[0].isdigit() else segment

    def owner(self, t: NamedType) -> NamedType | None:
        """The class `t` is declared in; an alias has no class, so what it owns is declared at top level."""
        return declared_owner(t, self.ir)

    def chain(self, t: NamedType) -> list[NamedType]:
        """The classes from the top-level one down to `t`."""
        return self._chains[t.name]

    def is_class(self, t: NamedType) -> bool:
        return not isinstance(t, Alias)

    def is_file(self, t: NamedType) -> bool:
        return self.is_class(t) and self.owner(t) is None

    def nested(self, t: NamedType) -> list[NamedType]:
        return self._nested.get(t.name, [])

    def package(self, t: NamedType) -> str:
        return self._packages[self.chain(t)[0].name]

    def runtime_package(self, name: str) -> str:
        return f"{self.root}.{name}"

    def source_path(self, package: str, class_name: str) -> str:
        return "src/main/java/" + package.replace(".", "/") + f"/{class_name}.java"

    def type_path(self, t: NamedType) -> str:
        return self.source_path(self.package(t), t.names[self.lang])

    def qualified(self, t: NamedType) -> str:
        return self._qualified[t.name]

    def _qualify(self, t: NamedType) -> str:
        return ".".join([self.package(t), *(c.names[self.lang] for c in self.chain(t))])

    # ------------------------------------------------------------------ references
    def _resolve(self, simple: str, context: NamedType | None) -> NamedType | None:
        """The class that a simple name means inside `context`: a member class of it or of a class
        enclosing it, nearest first, else a top-level class."""
        scope = context
        while scope is not None:
            member = self._members.get(scope.name, {}).get(simple)
            if member is not None:
                return member
            scope = self.owner(scope)
        return self._members[None].get(simple)

    def ref(self, target: NamedType, context: NamedType | None) -> str:
        """The shortest spelling of `target` that means it inside the class `context`."""
        key = (target.name, context.name if context is not None else None)
        if key not in self._refs:
            self._refs[key] = self._shortest(target, context)
        return self._refs[key]

    def _shortest(self, target: NamedType, context: NamedType | None) -> str:
        chain = self.chain(target)
        names = [c.names[self.lang] for c in chain]
        for i in range(len(chain) - 1, -1, -1):
            if self._resolve(names[i], context) is chain[i]:
                return ".".join(names[i:])
        return self.qualified(target)

    def jtype(self, ref: TypeRef, context: NamedType | None) -> str:
        """The (boxed) Java type of a value."""
        if isinstance(ref, Primitive):
            return _PRIMITIVES[ref.name]
        if isinstance(ref, Named):
            t = self.ir.types[ref.name]
            if isinstance(t, Alias):
                return self.jtype(t.target, context)
            return self.ref(t, context)
        if isinstance(ref, ArrayOf):
            return f"List<{self.jtype(ref.item, context)}>"
        if isinstance(ref, MapOf):
            return f"Map<String, {self.jtype(ref.value, context)}>"
        assert isinstance(ref, AnyJson)
        return "JsonNode"

    def unboxed(self, ref: TypeRef, context: NamedType | None) -> str:
        boxed = self.jtype(ref, context)
        return _UNBOXED.get(boxed, boxed)

    def resolved(self, ref: TypeRef) -> TypeRef:
        """`ref` with aliases replaced by what they name."""
        while isinstance(ref, Named) and isinstance(self.ir.types[ref.name], Alias):
            alias = self.ir.types[ref.name]
            assert isinstance(alias, Alias)
            ref = alias.target
        return ref

    def union_of(self, ref: TypeRef) -> Union | None:
        ref = self.resolved(ref)
        t = self.ir.types.get(ref.name) if isinstance(ref, Named) else None
        return t if isinstance(t, Union) else None

    # ------------------------------------------------------------------ fields
    def nullable(self, f: Field) -> bool:
        """A field may hold null when it says so or when the union it holds lists null as a member."""
        union = self.union_of(f.type)
        return f.nullable or (union is not None and union.nullable)

    def copy(self, ref: TypeRef, expr: str) -> str:
        """An immutable copy of a collection value (a no-op for the rest)."""
        ref = self.resolved(ref)
        if isinstance(ref, ArrayOf):
            return f"List.copyOf({expr})"
        if isinstance(ref, MapOf):
            return f"ModelSupport.copyOf({expr})"
        return expr

    def is_primitive(self, ref: TypeRef) -> bool:
        return self.unboxed(ref, None) in _UNBOXED.values()

    # ------------------------------------------------------------------ unions
    def variant_type(self, v: Variant, context: NamedType) -> str:
        return self.jtype(v.type, context)

    def variant_param_type(self, v: Variant, context: NamedType) -> str:
        return self.unboxed(v.type, context)

    def variant_member(self, v: Variant) -> str:
        """The accessor of a variant: ofStringCheck → stringCheck()."""
        return self.table.escape(camel(v.names[self.lang]))

    def json_test(self, u: Union, v: Variant) -> str:
        """The Java condition on `json` (a JsonNode) under which `v` is read, for an untagged member."""
        tests = []
        for kind in u.kinds_read_by(v):
            test = _JSON_TESTS[kind]
            if kind == "number" and u.variant_for_kind("integer") is not None:
                test = "json.isNumber() && !json.isIntegralNumber()"
            tests.append(test)
        return " || ".join(tests)

    def json_read(self, v: Variant, context: NamedType) -> str:
        """The expression that reads the member `v` from `json`, given `context` (DeserializationContext)."""
        java = self.jtype(v.type, context)
        if java in _JSON_READS:
            return _JSON_READS[java]
        if java == "JsonNode":
            return "json"
        if "<" in java:
            generic = f"new TypeReference<{java}>() {{}}"
            return f"context.readTreeAsValue(json, context.getTypeFactory().constructType({generic}))"
        return f"context.readTreeAsValue(json, {java}.class)"

    def instanceof_type(self, v: Variant, context: NamedType) -> str:
        """The type `instanceof` can test for a member: generic types with wildcards."""
        java = self.jtype(v.type, context)
        if java.startswith("List<"):
            return "List<?>"
        if java.startswith("Map<"):
            return "Map<?, ?>"
        return java

    def struct_view(self, t: Struct) -> StructView:
        """Everything the templates print about `t` and its fields, worked out once."""
        return self._views.struct(t)

    def call_chain(self, op: Operation) -> str:
        """How a client reaches an operation: fineTuning().alpha().graders().run."""
        by_path = {tuple(r.path): r for r in self.ir.all_resources()}
        resource = by_path[tuple(op.resource)]
        accessors = "".join(f"{name}()." for name in resource_chain(self.ir, resource, self.lang))
        return accessors + op.names[self.lang]

    def error_object(self) -> str | None:
        """The class of the object inside the error envelope ({"error": {...}}), if the spec names one."""
        for op in self.ir.operations:
            envelope = self.ir.get(op.error) if op.error else None
            if isinstance(envelope, Struct):
                inner = next((f for f in envelope.fields if f.wire_name == "error"), None)
                if inner is not None and isinstance(inner.type, Named):
                    return self.ref(self.ir.get(inner.type), None)
        return None

    # ------------------------------------------------------------------ layout
    @staticmethod
    def literals_annotation(name: str, literals: list[str], indent: int = 0, width: int = 110) -> str:
        """@Name({"a", "b"}) of values already printed as Java string literals, one a line when they
        would not fit on one."""
        one_line = f"@{name}({{{', '.join(literals)}}})"
        if indent + len(one_line) <= width:
            return one_line
        pad = " " * (indent + 4)
        return f"@{name}({{\n" + ",\n".join(pad + lit for lit in literals) + "\n" + " " * indent + "})"

    # ------------------------------------------------------------------ files
    def java_unit(self, body: str, package: str) -> str:
        """A compilation unit: the generated-code header, the package, and the imports `body` needs."""
        used, declared = class_names(body)
        importable = self._importable()
        # class_names counts Javadoc references as used; one no import covers would fail only javadoc
        # (javac never reads them), far later: only templates write these, spec text escapes `@`
        if unknown := sorted(set(_DOC_REFERENCE.findall(body)) - declared - JAVA_LANG - importable.keys()):
            raise GradergenError(
                f"a Javadoc @throws/@see/@link in package {package} names {', '.join(unknown)}, which the "
                "generated file cannot import: add it to JDK_AND_JACKSON or RUNTIME_CLASSES, or write it "
                "fully qualified"
            )
        imports = sorted(
            fqn
            for fqn in (importable.get(simple) for simple in used - declared)
            if fqn is not None and fqn.rsplit(".", 1)[0] != package
        )
        lines = [HEADER, "", f"package {package};", ""]
        if imports:
            lines += [f"import {fqn};" for fqn in imports] + [""]
        code_lines = [
            fit(line) if len(line) > LINE_WIDTH else line for line in body.strip("\n").rstrip().splitlines()
        ]
        return "\n".join(lines + code_lines) + "\n"

    def _importable(self) -> dict[str, str]:
        if self._imports is None:
            self._imports = self._collect_importable()
        return self._imports

    def _collect_importable(self) -> dict[str, str]:
        names = dict(JDK_AND_JACKSON)
        for sub, classes in RUNTIME_CLASSES.items():
            names.update({c: f"{self.root}.{sub}.{c}" for c in classes})
        for e in self.ir.client.all_errors:
            names[e.names[self.lang]] = f"{self.root}.errors.{e.names[self.lang]}"
        for t in self.ir.types.values():
            if self.is_file(t):
                names[t.names[self.lang]] = self.qualified(t)
        return names

    def as_dict(self) -> dict[str, Any]:
        helpers: dict[str, Callable[..., Any]] = {name: getattr(self, name) for name in TEMPLATE_HELPERS}
        return {
            **helpers,
            "root_package": self.root,
            "artifact_id": "openai-graders",
        }


TEMPLATE_HELPERS = (
    "call_chain",
    "copy",
    "error_object",
    "instanceof_type",
    "is_file",
    "is_primitive",
    "java_unit",
    "json_read",
    "json_test",
    "nested",
    "package",
    "ref",
    "runtime_package",
    "source_path",
    "struct_view",
    "type_path",
    "variant_member",
    "variant_param_type",
    "variant_type",
)
"""The JavaContext methods the templates call."""

TABLE = JavaNaming()
