"""The generated Python models behave as the IR decides, for every union and every field of the spec.

Each case is derived from the IR, not listed by hand: a value for each entry of a union's dispatch (each
JSON kind, each tag) must land in the member the dispatch names, one no member reads in the union's
fallback, and both must be written back unchanged; every field keeps absent, null and a value apart as
its presence says.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import openai_graders as og
from gradergen.generate import load_ir
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
    Variant,
)
from gradergen.naming.base import apply_naming
from gradergen.naming.python import TABLE

from harness import SPEC

IR_ = load_ir(SPEC)
NAMES = apply_naming(IR_, TABLE)
UNIONS = [t for t in IR_.types.values() if isinstance(t, Union)]
STRUCTS = [t for t in IR_.types.values() if isinstance(t, Struct)]
KIND_SAMPLES: dict[str, Any] = {
    "boolean": True,
    "integer": 3,
    "number": 2.5,
    "string": "s",
    "array": [],
    "object": {},
}


def py(name: str) -> Any:
    return getattr(og.models, NAMES.type(name))


def sample(ref: TypeRef, ir: IR, depth: int = 0) -> Any:
    """A valid JSON value of `ref`: every required property filled, the first member of a union."""
    if isinstance(ref, Primitive):
        return {"string": "s", "integer": 3, "number": 2.5, "boolean": True}[ref.name]
    if isinstance(ref, ArrayOf):
        return [sample(ref.item, ir, depth + 1)]
    if isinstance(ref, MapOf):
        return {"k": sample(ref.value, ir, depth + 1)}
    if isinstance(ref, AnyJson):
        return {"any": 1}
    assert isinstance(ref, Named)
    t = ir.types[ref.name]
    if isinstance(t, Enum):
        return t.values[0].wire
    if isinstance(t, Alias):
        return sample(t.target, ir, depth + 1)
    if isinstance(t, Union):
        return member_sample(t, next(iter(t.variants)), ir, depth + 1)
    assert isinstance(t, Struct)
    return {
        f.wire_name: f.const if f.const is not None else sample(f.type, ir, depth + 1)
        for f in t.fields
        if f.required
    }


def member_sample(u: Union, v: Variant, ir: IR, depth: int = 0) -> Any:
    value = sample(v.type, ir, depth)
    if v.tag is not None:
        value[u.dispatch.tag_name] = v.tag
    return value


def expected_class(v: Variant) -> Any:
    """The Python class a value of member `v` is after parsing."""
    if isinstance(v.type, Named):
        t = IR_.types[v.type.name]
        if isinstance(t, Struct):
            return py(t.name)
        if isinstance(t, Alias):
            target = t.target
            return (
                list
                if isinstance(target, ArrayOf)
                else {"string": str, "integer": int, "number": float, "boolean": bool}[target.name]
            )  # type: ignore[union-attr]
    if isinstance(v.type, ArrayOf):
        return list
    assert isinstance(v.type, Primitive)
    return {"string": str, "integer": int, "number": float, "boolean": bool}[v.type.name]


def written_back(adapter: TypeAdapter[Any], parsed: Any) -> Any:
    return adapter.dump_python(parsed, mode="json", by_alias=True, exclude_unset=True)


def union_cases() -> list[Any]:
    cases = []
    for u in UNIONS:
        dispatch = u.dispatch
        for kind, v in dispatch.by_kind.items():
            value = sample(v.type, IR_) if kind == v.json_kind else KIND_SAMPLES[kind]
            cases.append(pytest.param(u, value, expected_class(v), id=f"{u.name}-{kind}"))
        for tag, v in dispatch.by_tag.items():
            cases.append(pytest.param(u, member_sample(u, v, IR_), expected_class(v), id=f"{u.name}-{tag}"))
    return cases


def unread_cases() -> list[Any]:
    cases = []
    for u in UNIONS:
        dispatch = u.dispatch
        if dispatch.by_tag:
            unknown = {dispatch.tag_name: "a_member_from_the_future"}
            cases.append(pytest.param(u, unknown, id=f"{u.name}-unknown-tag"))
        for kind in KIND_SAMPLES:
            if kind not in dispatch.by_kind and not (kind == "object" and dispatch.by_tag):
                cases.append(pytest.param(u, KIND_SAMPLES[kind], id=f"{u.name}-{kind}"))
    return cases


@pytest.mark.parametrize(("union", "value", "member"), union_cases())
def test_every_union_picks_the_member_its_dispatch_names(union: Union, value: Any, member: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(py(union.name))
    parsed = adapter.validate_python(value)
    assert type(parsed) is member or (member in (int, float) and type(parsed) in (int, float))
    assert written_back(adapter, parsed) == value


@pytest.mark.parametrize(("union", "value"), unread_cases())
def test_a_value_no_member_reads_is_an_error_of_the_union(union: Union, value: Any) -> None:
    """Where only responses reach, a field adds the union's fallback (test_python_models.py); the
    union itself, which requests are built from, takes only its members."""
    adapter: TypeAdapter[Any] = TypeAdapter(py(union.name))
    with pytest.raises(ValidationError):
        adapter.validate_python(value)


@pytest.mark.parametrize("union", [u for u in UNIONS if u.nullable], ids=lambda u: u.name)
def test_a_nullable_union_reads_null_as_none(union: Union) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(py(union.name))
    assert adapter.validate_python(None) is None


def field_cases() -> list[Any]:
    return [
        pytest.param(s, f, id=f"{s.name}.{f.wire_name}") for s in STRUCTS for f in s.fields if f.const is None
    ]


@pytest.mark.parametrize(("struct", "field"), field_cases())
def test_every_field_keeps_absent_null_and_a_value_apart(struct: Struct, field: Any) -> None:
    model: type[BaseModel] = py(struct.name)
    base = sample(Named(name=struct.name), IR_)
    value = sample(field.type, IR_)
    if isinstance(value, list) and field.constraints.min_items:
        value = value * field.constraints.min_items
    with_value = {**base, field.wire_name: value}
    assert (
        model.model_validate(with_value).model_dump(mode="json", by_alias=True, exclude_unset=True)
        == with_value
    )
    without = {k: v for k, v in base.items() if k != field.wire_name}
    if field.presence.startswith("required"):
        with pytest.raises(ValidationError):
            model.model_validate(without)
    else:
        assert (
            model.model_validate(without).model_dump(mode="json", by_alias=True, exclude_unset=True)
            == without
        )
    with_null = {**base, field.wire_name: None}
    if field.presence == "required":
        if not _accepts_null(field.type):
            with pytest.raises(ValidationError):
                model.model_validate(with_null)
    else:
        # nullable, or optional (typed `X | None = None`, pydantic's idiom): a null is kept as given,
        # never turned into an absent property or the other way round
        assert (
            model.model_validate(with_null).model_dump(mode="json", by_alias=True, exclude_unset=True)
            == with_null
        )


def _accepts_null(ref: TypeRef) -> bool:
    """Any JSON, or a union whose fallback keeps what no member reads, null among it."""
    if isinstance(ref, AnyJson):
        return True
    return isinstance(ref, Named) and isinstance(IR_.types[ref.name], Union)
