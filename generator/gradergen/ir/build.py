"""Turn the OpenAPI document into the IR, deciding every question a language would otherwise guess."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from ..errors import SpecError
from ..spec import resolve_local
from .model import (
    IR,
    MISSING,
    Alias,
    AnyJson,
    ArrayOf,
    Constraints,
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
    reachable,
    referenced_names,
)
from .policy import build_policy

SCHEMAS = "#/components/schemas/"
PRIMITIVES = ("string", "integer", "number", "boolean")
MAX_NESTING = 5
"""How many levels of types may nest inside a top-level one (Outer.A.B.C.D.E)."""


def build_ir(doc: dict[str, Any], source: str = "") -> IR:
    try:
        return _Builder(doc).build()
    except SpecError as exc:
        if source and not exc.source:
            raise SpecError(exc.pointer, exc.message, source) from None
        raise


def _resource_tree(operations: list[Operation]) -> list[Resource]:
    roots: list[Resource] = []
    for op in operations:
        level, node = roots, None
        for depth in range(1, len(op.resource) + 1):
            path = op.resource[:depth]
            node = next((r for r in level if r.path == path), None)
            if node is None:
                node = Resource(path=path)
                level.append(node)
            level = node.children
        assert node is not None
        node.operations.append(op)
    return roots


def _ptr(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _text(schema: dict[str, Any]) -> str:
    return _plain_text(schema.get("description", ""), "").strip()


def _plain_text(value: Any, pointer: str) -> str:
    if not isinstance(value, str):
        raise SpecError(pointer, f"expected text, found {type(value).__name__}")
    return value


VERSION = re.compile(r"[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?")
VERSION_RULE = (
    "a version such as 1.2.3 or 1.2.3-beta.1: it is printed into package manifests (pyproject.toml, "
    "pom.xml, the gemspec), which take nothing else"
)
BASE_URL = re.compile(
    r"https?://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*"
)
BASE_URL_RULE = "an absolute http(s) URL without query or fragment, of the characters RFC 3986 allows"
URL_PATH = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)+")
URL_PATH_RULE = "a URL path: /segments of the characters RFC 3986 allows"
SDK_NAME = re.compile(r"[a-z][a-z0-9_]*")
SDK_RESOURCE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
SDK_NAME_RULE = "lower-case words joined by _ (a resource path joins them with dots): they become names"


def _checked(value: Any, pattern: re.Pattern[str], pointer: str, rule: str) -> str:
    """`value`, a string matching `pattern` in full: spec text that becomes part of a manifest, a URL or
    a name must have the form those take."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = repr(value) if not isinstance(value, str) or len(value) <= 80 else repr(value[:77] + "...")
        raise SpecError(pointer, f"{shown} is not {rule}")
    return value


def _split_nullable(schema: dict[str, Any], pointer: str) -> tuple[dict[str, Any], bool]:
    """Separate "may be null" from the rest: `type: [T, 'null']` or `anyOf/oneOf: [X, {type: 'null'}]`."""
    t = schema.get("type")
    if isinstance(t, list):
        kinds = [k for k in t if k != "null"]
        if len(kinds) != 1:
            raise SpecError(pointer, f"a type list may only add 'null' to one type, found {t}")
        return {**schema, "type": kinds[0]}, "null" in t
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list) and len(members) == 2 and {"type": "null"} in members:
            other = next(m for m in members if m != {"type": "null"})
            rest = {k: v for k, v in schema.items() if k != key}
            return {**rest, **other}, True
    return schema, False


class _Builder:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.schemas: dict[str, Any] = doc["components"]["schemas"]
        self.types: dict[str, NamedType] = {}
        self.decisions: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ entry
    def build(self) -> IR:
        for name, schema in self.schemas.items():
            pointer = _ptr("components", "schemas", name)
            if not isinstance(schema, dict):
                raise SpecError(pointer, "a schema must be an object")
            self.types[name] = self._named(name, schema, pointer)
        for t in self.types.values():
            if isinstance(t, Union):
                self._resolve_union(t)
        operations = self._operations()
        self._check_refs()
        self._mark_null_members()
        self._assign_owners()
        self._assign_groups(operations)
        self._collect_decisions(self.doc, "")
        info = self.doc.get("info")
        if not isinstance(info, dict):
            raise SpecError("/info", "missing or not an object")
        return IR(
            title=_plain_text(info.get("title", ""), "/info/title"),
            version=_checked(info.get("version"), VERSION, "/info/version", VERSION_RULE),
            description=_text(info),
            base_url=self._base_url(),
            types=self.types,
            operations=operations,
            decisions=self.decisions,
            resources=_resource_tree(operations),
            client=build_policy(self.doc),
            homepage=self._homepage(),
        )

    def _mark_null_members(self) -> None:
        """A field whose union lists null as a member takes null too, whatever its own schema says."""
        for t in self.types.values():
            if isinstance(t, Struct):
                for f in t.fields:
                    held = _resolved(self.types, f.type)
                    union = self.types.get(held.name) if isinstance(held, Named) else None
                    f.null_member = isinstance(union, Union) and union.nullable

    def _homepage(self) -> str:
        docs = self.doc.get("externalDocs")
        if docs is None:
            return ""
        if not isinstance(docs, dict):
            raise SpecError("/externalDocs", "must be an object with a `url`")
        return _checked(docs.get("url"), BASE_URL, "/externalDocs/url", BASE_URL_RULE)

    def _base_url(self) -> str:
        servers = self.doc.get("servers")
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
            raise SpecError("/servers", "needs a list whose first entry has the API's base `url`")
        return _checked(servers[0].get("url"), BASE_URL, "/servers/0/url", BASE_URL_RULE)

    # ------------------------------------------------------------------ named schemas
    def _named(self, name: str, schema: dict[str, Any], pointer: str) -> NamedType:
        common: dict[str, Any] = {
            "name": name,
            "description": _text(schema),
            "pointer": pointer,
            "decision": schema.get("x-decision"),
        }
        if "oneOf" in schema or "anyOf" in schema:
            return Union(**common, discriminator=(schema.get("discriminator") or {}).get("propertyName"))
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._struct(schema, pointer, common)
        if "enum" in schema:
            return self._enum(schema, pointer, common)
        if kind in PRIMITIVES or kind == "array":
            return Alias(**common, target=self._type(schema, pointer))
        raise SpecError(pointer, "unsupported schema: expected an object, enum, union, primitive or array")

    def _struct(self, schema: dict[str, Any], pointer: str, common: dict[str, Any]) -> Struct:
        properties = schema.get("properties") or {}
        required = schema.get("required") or []
        for r in required:
            if r not in properties:
                raise SpecError(pointer + "/required", f"{r!r} is required but not a property")
        extra = schema.get("additionalProperties", True)
        if extra not in (True, False, {}):
            raise SpecError(
                pointer, "an object with properties cannot also be a map; name the map separately"
            )
        fields = [
            self._field(wire, prop, wire in required, f"{pointer}/properties/{wire}")
            for wire, prop in properties.items()
        ]
        return Struct(**common, fields=fields, keeps_unknown_fields=extra is not False)

    def _enum(self, schema: dict[str, Any], pointer: str, common: dict[str, Any]) -> Enum:
        if schema.get("type") != "string":
            raise SpecError(pointer, "only string enums are supported")
        wires = schema["enum"]
        if not wires or len(set(wires)) != len(wires) or not all(isinstance(w, str) for w in wires):
            raise SpecError(pointer + "/enum", "an enum needs distinct string values")
        docs = schema.get("x-enum-descriptions") or []
        values = [EnumValue(w, str(docs[i]) if i < len(docs) else "") for i, w in enumerate(wires)]
        return Enum(**common, values=values)

    def _field(self, wire: str, prop: Any, required: bool, pointer: str) -> Field:
        if not isinstance(prop, dict):
            raise SpecError(pointer, "a property schema must be an object")
        inner, nullable = _split_nullable(prop, pointer)
        description = _text(prop) or _text(inner) or self._ref_description(inner)
        const = inner.get("const")
        if const is not None and not isinstance(const, str):
            raise SpecError(pointer + "/const", "only string constants (type tags) are supported")
        return Field(
            wire_name=wire,
            type=self._type(inner, pointer),
            required=required,
            nullable=nullable,
            description=description,
            pointer=pointer,
            default=prop.get("default", inner.get("default", MISSING)),
            const=const,
            constraints=Constraints(
                min_items=inner.get("minItems"),
                max_items=inner.get("maxItems"),
                min_properties=inner.get("minProperties"),
            ),
            decision=prop.get("x-decision"),
        )

    def _ref_description(self, schema: dict[str, Any]) -> str:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS):
            target = self.schemas.get(ref[len(SCHEMAS) :])
            if isinstance(target, dict):
                return _text(target)
        return ""

    def _type(self, schema: dict[str, Any], pointer: str) -> TypeRef:
        ref = schema.get("$ref")
        if ref is not None:
            if not isinstance(ref, str) or not ref.startswith(SCHEMAS):
                raise SpecError(pointer + "/$ref", f"references must point into {SCHEMAS}, found {ref!r}")
            return Named(ref[len(SCHEMAS) :])
        if "enum" in schema or "oneOf" in schema or "anyOf" in schema:
            raise SpecError(pointer, "inline enums and unions must be named under components/schemas")
        kind = schema.get("type")
        if kind in PRIMITIVES:
            return Primitive(kind)
        if kind == "array":
            items = schema.get("items")
            if not isinstance(items, dict):
                raise SpecError(pointer, "an array needs an `items` schema")
            inner, nullable = _split_nullable(items, pointer + "/items")
            if nullable:
                raise SpecError(pointer + "/items", "nullable array items are not supported")
            return ArrayOf(self._type(inner, pointer + "/items"))
        if kind == "object":
            if schema.get("properties"):
                raise SpecError(pointer, "inline objects must be named under components/schemas")
            extra = schema.get("additionalProperties", True)
            if extra is True or extra == {}:
                return MapOf(AnyJson())
            if isinstance(extra, dict):
                return MapOf(self._type(extra, pointer + "/additionalProperties"))
            raise SpecError(pointer, "an object without properties must allow additionalProperties")
        if kind is None:
            return AnyJson()
        raise SpecError(pointer + "/type", f"unsupported type {kind!r}")

    # ------------------------------------------------------------------ unions
    def _resolve_union(self, union: Union) -> None:
        schema = self.schemas[union.name]
        pointer = union.pointer
        members = schema.get("oneOf") or schema.get("anyOf")
        if not isinstance(members, list) or not members:
            raise SpecError(pointer, "a union needs a non-empty oneOf")
        mapping = (schema.get("discriminator") or {}).get("mapping") or {}
        by_ref = {ref: tag for tag, ref in mapping.items()}
        if len(by_ref) != len(mapping):
            raise SpecError(pointer + "/discriminator/mapping", "two tags map to the same schema")
        seen_kinds: dict[JsonKind, str] = {}
        for i, member in enumerate(members):
            mp = f"{pointer}/oneOf/{i}"
            if member == {"type": "null"}:
                union.nullable = True
                continue
            variant = self._variant(union, member, mp, by_ref)
            if variant.tag is None:
                if variant.json_kind in seen_kinds:
                    raise SpecError(
                        mp,
                        f"cannot be told apart from {seen_kinds[variant.json_kind]}: both are JSON "
                        f"{variant.json_kind}s without a discriminator tag",
                    )
                seen_kinds[variant.json_kind] = variant.key
            union.variants.append(variant)
        tags = [v.tag for v in union.variants if v.tag]
        missing = sorted(set(mapping) - set(tags))
        if missing:
            raise SpecError(pointer + "/discriminator/mapping", f"tags {missing} name no member of oneOf")
        if tags and "object" in seen_kinds:
            raise SpecError(pointer, "an untagged object member cannot sit beside tagged ones")
        union.unknown_name = f"Unknown{union.name}"

    def _variant(self, union: Union, member: Any, pointer: str, by_ref: dict[str, str]) -> Variant:
        if not isinstance(member, dict):
            raise SpecError(pointer, "a oneOf member must be a schema object")
        ref = member.get("$ref")
        if ref is None:
            t = self._type(member, pointer)
            if isinstance(t, AnyJson):
                raise SpecError(pointer, "a union member needs a type")
            return Variant(type=t, json_kind=self._json_kind(t, pointer))
        t = self._type(member, pointer)
        assert isinstance(t, Named)
        target = self.types.get(t.name)
        if target is None:
            raise SpecError(pointer + "/$ref", f"reference {ref!r} does not resolve")
        if isinstance(target, Union):
            raise SpecError(pointer, "unions of unions are not supported; list the members instead")
        if not isinstance(target, Struct):
            return Variant(type=t, json_kind=self._json_kind(t, pointer))
        if union.discriminator is None:
            return Variant(type=t, json_kind="object")
        tag_field = next((f for f in target.fields if f.wire_name == union.discriminator), None)
        if tag_field is None or tag_field.const is None or not tag_field.required:
            raise SpecError(
                target.pointer,
                f"a member of {union.name} needs a required `{union.discriminator}` property with a const",
            )
        mapped = by_ref.get(ref)
        if mapped is not None and mapped != tag_field.const:
            raise SpecError(
                union.pointer + "/discriminator/mapping",
                f"maps {mapped!r} to {t.name}, whose {union.discriminator} is {tag_field.const!r}",
            )
        if mapped is None and by_ref:
            raise SpecError(union.pointer + "/discriminator/mapping", f"{t.name} has no entry in the mapping")
        return Variant(type=t, json_kind="object", tag=tag_field.const)

    def _json_kind(self, t: TypeRef, pointer: str) -> JsonKind:
        if isinstance(t, Named):
            target = self.types.get(t.name)
            if isinstance(target, Alias):
                return self._json_kind(target.target, pointer)
            if isinstance(target, Enum):
                return "string"
            if isinstance(target, Struct):
                return "object"
            raise SpecError(pointer, f"cannot tell which JSON kind {t.name} is")
        if isinstance(t, (Primitive, ArrayOf, MapOf)):
            return t.json_kind
        raise SpecError(pointer, "a union member needs a type")

    # ------------------------------------------------------------------ operations
    def _operations(self) -> list[Operation]:
        ops: list[Operation] = []
        for path, item in self.doc["paths"].items():
            if not isinstance(item, dict):
                raise SpecError(_ptr("paths", path), "a path item must be an object")
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                ops.append(self._operation(path, method, op, _ptr("paths", path, method)))
        if not ops:
            raise SpecError("/paths", "the spec defines no operations")
        return ops

    def _operation(self, path: str, method: str, op: dict[str, Any], pointer: str) -> Operation:
        resource = op.get("x-sdk-resource")
        name = op.get("x-sdk-method")
        if resource is None or name is None:
            raise SpecError(pointer, "an operation needs x-sdk-resource and x-sdk-method")
        _checked(resource, SDK_RESOURCE, pointer + "/x-sdk-resource", SDK_NAME_RULE)
        _checked(name, SDK_NAME, pointer + "/x-sdk-method", SDK_NAME_RULE)
        _checked(path, URL_PATH, _ptr("paths", path), URL_PATH_RULE)
        request = self._body_ref(op.get("requestBody"), pointer + "/requestBody")
        responses = op.get("responses") or {}
        if "200" not in responses:
            raise SpecError(pointer + "/responses", "an operation needs a 200 response")
        response = self._body_ref(responses["200"], pointer + "/responses/200")
        error = None
        for code in ("4XX", "default", "5XX"):
            if code in responses:
                error = self._body_ref(responses[code], f"{pointer}/responses/{code}")
                break
        return Operation(
            name=name,
            resource=resource.split("."),
            http_method=method.upper(),
            path=path,
            summary=str(op.get("summary", "")),
            description=_text(op),
            request=request,
            response=response,
            error=error,
            pointer=pointer,
        )

    def _body_ref(self, node: Any, pointer: str) -> Named:
        if isinstance(node, dict) and "$ref" in node:
            node = resolve_local(self.doc, node["$ref"], pointer)
        try:
            schema = node["content"]["application/json"]["schema"]
        except (TypeError, KeyError):
            raise SpecError(pointer, "needs content application/json with a schema") from None
        t = self._type(schema, pointer + "/content/application~1json/schema")
        if not isinstance(t, Named) or not isinstance(self.types.get(t.name), Struct):
            raise SpecError(pointer, "a body must reference a named object schema")
        return t

    # ------------------------------------------------------------------ structure
    def _check_refs(self) -> None:
        for t in self.types.values():
            for name in referenced_names(t):
                if name not in self.types:
                    raise SpecError(t.pointer, f"refers to {SCHEMAS}{name}, which does not exist")

    def _assign_owners(self) -> None:
        """A type used by exactly one other type, and named after it, nests under it (Operation in
        StringCheckGrader). Languages that nest types (Java, Ruby) print it there; the rest ignore it."""
        referrers: dict[str, set[str]] = defaultdict(set)
        for t in self.types.values():
            for name in referenced_names(t):
                referrers[name].add(t.name)
        for t in self.types.values():
            users = referrers.get(t.name, set())
            if len(users) == 1:
                (owner,) = users
                if owner != t.name and t.name.startswith(owner) and t.name[len(owner)].isupper():
                    t.owner, t.short_name = owner, t.name[len(owner) :]
        self._limit_nesting()

    def _limit_nesting(self) -> None:
        """A type more than MAX_NESTING levels below a top-level one is declared at top level itself
        (and what it owns nests under it again): nesting without end reads like no hand-written code,
        and Java's class files, named after every enclosing class, would outgrow a file name."""
        depth: dict[str, int] = {}
        for t in self.types.values():
            chain = [t]  # from t up to the first type whose depth is known, or a top-level one
            while chain[-1].owner is not None and chain[-1].name not in depth:
                chain.append(self.types[chain[-1].owner])
            level = depth.get(chain[-1].name, -1)  # a top-level type not seen yet gets 0
            for link in reversed(chain):
                if link.name in depth:
                    continue
                level += 1
                if level > MAX_NESTING:
                    link.owner, link.short_name, level = None, None, 0
                depth[link.name] = level

    def _assign_groups(self, operations: list[Operation]) -> None:
        """Operation bodies and what only one of them reaches belong to the operations; the rest
        (graders and their parts, shared by several bodies) are models."""
        bodies = {r.name for op in operations for r in (op.request, op.response, op.error) if r}
        reached_by: dict[str, set[str]] = defaultdict(set)
        for body in bodies:
            for name in reachable(self.types, [body]):
                reached_by[name].add(body)
        for t in self.types.values():
            t.group = "operations" if t.name in bodies or len(reached_by[t.name]) == 1 else "models"

    def _collect_decisions(self, node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("x-decision"), str):
                self.decisions.append((pointer or "/", " ".join(node["x-decision"].split())))
            for key, value in node.items():
                self._collect_decisions(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self._collect_decisions(value, f"{pointer}/{i}")


def _resolved(types: dict[str, NamedType], ref: TypeRef) -> TypeRef:
    """`ref` with aliases replaced by what they name (an alias of an alias too)."""
    seen: set[str] = set()
    while isinstance(ref, Named) and ref.name not in seen and isinstance(types.get(ref.name), Alias):
        seen.add(ref.name)
        alias = types[ref.name]
        assert isinstance(alias, Alias)
        ref = alias.target
    return ref
