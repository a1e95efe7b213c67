"""Forward-compatibility cases made from the IR, for every binding: for each union, enum and struct of the
spec, a document a newer API could send that no member, value or property of this version reads.

- a union: an object whose tag no member has (when objects are told apart by their tag), an object
  (when no member is one), and a value of every JSON kind no member takes — each must land in the
  union's fallback and be written back unchanged;
- an open enum (`accepts_unknown`): a value the spec does not list, kept and written back (a closed
  one must refuse it);
- a struct: a valid object (its required properties, made from the IR) with a property the spec does not
  list — kept and written back where the struct `keeps_unknown_fields`, left out where it does not.

The cases come from the IR, not from a list: a new union, enum or struct in the spec is covered as it is
added. Each binding's program parses `document` as the named type, says whether the value landed where
the rule puts it (`landed`), and writes it back (`written`); `check` judges one result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gradergen.ir.model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    MapOf,
    Named,
    Primitive,
    Struct,
    TypeRef,
    Union,
)

FUTURE = "x_future"
"""The prefix of every tag, value and property name a newer API could add (none of the spec's has it)."""

KIND_SAMPLES: dict[str, Any] = {
    "string": "x future text",
    "integer": 7,
    "number": 2.5,
    "boolean": True,
    "array": [1, "two", {"three": None}],
}
"""A value of each JSON kind but object (objects are made per union, with its tag)."""

_PRIMITIVE_SAMPLES: dict[str, Any] = {"string": "s", "integer": 1, "number": 1.5, "boolean": True}


@dataclass(frozen=True)
class Case:
    id: str
    type: str
    """The IR name of the type the document is parsed as."""
    kind: str
    """"union", "enum" or "struct"."""
    document: Any
    expected: Any
    """What writing the parsed value back must give."""
    extra: str | None = None
    """The property a struct case adds (for the binding to look for among the kept ones)."""
    refused: bool = False
    """The document must be an error: a value a closed enum does not list."""

    def as_json(self, names: dict[str, Any]) -> dict[str, Any]:
        """The case for a binding's program, with the names it needs in that language."""
        return {"id": self.id, "kind": self.kind, "document": self.document, "extra": self.extra, **names}


def sample(ir: IR, ref: TypeRef, depth: int = 0) -> Any:
    """A valid value of `ref`: required properties only, the first member of a union, the first value of
    an enum."""
    if depth > 20:
        raise AssertionError(f"no finite sample value of {ref}: every member refers back")
    if isinstance(ref, Primitive):
        return _PRIMITIVE_SAMPLES[ref.name]
    if isinstance(ref, ArrayOf):
        return [sample(ir, ref.item, depth + 1)]
    if isinstance(ref, MapOf):
        return {"k": sample(ir, ref.value, depth + 1)}
    if isinstance(ref, AnyJson):
        return {"any": [1, "json"]}
    assert isinstance(ref, Named)
    t = ir.types[ref.name]
    if isinstance(t, Alias):
        return sample(ir, t.target, depth + 1)
    if isinstance(t, Enum):
        return str(t.values[0].wire)
    if isinstance(t, Union):
        member = t.variants[0]
        value = sample(ir, member.type, depth + 1)
        if member.tag is not None:
            value[str(t.tag_name)] = str(member.tag)
        return value
    assert isinstance(t, Struct)
    return sample_struct(ir, t, depth)


def sample_struct(ir: IR, s: Struct, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in s.fields:
        if f.const is not None:
            out[str(f.wire_name)] = str(f.const)
        elif f.required:
            value = sample(ir, f.type, depth + 1)
            wanted = max(f.constraints.min_items or 0, f.constraints.min_properties or 0)
            if isinstance(value, list) and len(value) < wanted:
                value = value * wanted
            if isinstance(value, dict) and isinstance(f.type, MapOf) and len(value) < wanted:
                value = {f"k{i}": next(iter(value.values())) for i in range(wanted)}
            out[str(f.wire_name)] = value
    return out


def union_cases(ir: IR, u: Union) -> list[Case]:
    dispatch = u.dispatch
    cases: list[Case] = []
    tag = str(dispatch.tag_name)
    if dispatch.by_tag or "object" not in dispatch.by_kind:
        document = {tag: f"{FUTURE}_member", f"{FUTURE}_property": [1, {"deep": True}]}
        cases.append(Case(f"{u.name}-unknown-object", u.name, "union", document, document))
    for kind, value in KIND_SAMPLES.items():
        if kind not in dispatch.by_kind:
            cases.append(Case(f"{u.name}-unknown-{kind}", u.name, "union", value, value))
    return cases


def enum_cases(ir: IR, e: Enum) -> list[Case]:
    value = f"{FUTURE}_value"
    if not e.accepts_unknown:
        return [Case(f"{e.name}-unlisted-value", e.name, "enum", value, None, refused=True)]
    return [Case(f"{e.name}-unknown-value", e.name, "enum", value, value)]


def struct_cases(ir: IR, s: Struct) -> list[Case]:
    known = sample_struct(ir, s)
    extra = f"{FUTURE}_property"
    document = {**known, extra: {"nested": [1, "two"], "null": None}}
    expected = document if s.keeps_unknown_fields else known
    return [Case(f"{s.name}-unknown-property", s.name, "struct", document, expected, extra)]


def cases(ir: IR) -> list[Case]:
    """Every case of `ir`: each union, enum and struct, in the spec's order."""
    out: list[Case] = []
    for t in ir.types.values():
        if isinstance(t, Union):
            out += union_cases(ir, t)
        elif isinstance(t, Enum):
            out += enum_cases(ir, t)
        elif isinstance(t, Struct):
            out += struct_cases(ir, t)
    return out


def landed_where_expected(ir: IR, case: Case) -> bool:
    """Whether the binding must report the value as kept aside: a union's fallback, an enum's unknown
    value, a struct's kept property (not where the struct keeps none)."""
    t = ir.types[case.type]
    return not (isinstance(t, Struct) and not t.keeps_unknown_fields)


def check(ir: IR, case: Case, result: dict[str, Any] | None, lang: str) -> None:
    """One binding's result for `case`: no error, kept where the rule says, written back as expected."""
    assert result is not None, f"{lang}: the program gave no result for {case.id}"
    if case.refused:
        assert result.get("error"), f"{lang}: {case.id}: the closed enum took {json.dumps(case.document)}"
        return
    assert not result.get("error"), f"{lang}: {case.id}: {result['error']}"
    where = {"union": "its fallback", "enum": "an unknown value", "struct": "the kept properties"}[case.kind]
    expected_landed = landed_where_expected(ir, case)
    verb = "did not land in" if expected_landed else "landed in"
    assert result.get("landed") is expected_landed, (
        f"{lang}: {case.id}: {json.dumps(case.document)} {verb} {where}"
    )
    assert result.get("written") == case.expected, (
        f"{lang}: {case.id}: written back as {json.dumps(result.get('written'))}, "
        f"expected {json.dumps(case.expected)}"
    )


def closed(ir: IR) -> IR:
    """`ir` with its first struct and its first enum closed (`additionalProperties: false` and an enum
    that refuses unlisted values), for the branches the spec itself does not reach."""
    next(t for t in ir.types.values() if isinstance(t, Struct)).keeps_unknown_fields = False
    next(t for t in ir.types.values() if isinstance(t, Enum)).accepts_unknown = False
    return ir
