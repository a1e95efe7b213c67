"""What the validator needs to know about grader files, read off the IR once.

A grader file holds a grader (a member of the union that request bodies carry) or a request body of
one of the operations. Which one is told apart by the property every request body requires: an object
with it is a body, anything else is a grader. Among the bodies, the one whose own properties appear
wins; the body with the fewest properties is the fallback.

The validator reads the spec as the service applies it, which is laxer than the spec in one place:
a grader's `name`. The graders guide and cookbook run graders without one, so a missing name is a
warning (semantics.missing_name), not a schema error; the bindings keep requiring it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from ..errors import GradergenError
from ..ir.build import build_ir
from ..ir.model import IR, Field, Named, Struct, Union
from ..resources import default_spec
from ..spec import load_spec


@dataclass(frozen=True)
class Body:
    name: str
    """The request body's type (GraderRunParams)."""
    marks: tuple[str, ...]
    """Properties only this body declares among the bodies tried after it; empty for the fallback."""


@dataclass(frozen=True)
class GraderFile:
    ir: IR
    grader: str
    """The union a grader file's grader belongs to (Grader)."""
    body_key: str
    """The property that makes an object a request body (grader)."""
    bodies: tuple[Body, ...]
    graders: tuple[str, ...] = ()
    """The grader types (every member of a union that shares a member with `grader`)."""

    def kind_of(self, doc: object) -> str:
        """The type a document is meant to be: a request body's name, or the grader union's."""
        if not isinstance(doc, dict) or self.body_key not in doc:
            return self.grader
        for body in self.bodies:
            if not body.marks or any(m in doc for m in body.marks):
                return body.name
        return self.bodies[-1].name

    def struct(self, name: str) -> Struct:
        t = self.ir.types[name]
        assert isinstance(t, Struct)
        return t

    def union(self, name: str) -> Union:
        t = self.ir.types[name]
        assert isinstance(t, Union)
        return t


SERVICE_OPTIONAL = ("name",)
"""Grader properties the spec and the SDK types require but the service does without."""
SERVICE_OPTIONAL_NOTE = (
    "The service runs a grader without one (the graders guide has examples), but the official SDK "
    "types and the generated bindings require it: `gradergen validate` warns when it is missing."
)


def grader_types(ir: IR, grader: str) -> tuple[str, ...]:
    """The struct types of every union that shares a member with the grader union (SubGrader too)."""
    members = {v.type.name for v in _union(ir, grader).tagged_variants if isinstance(v.type, Named)}
    found: dict[str, None] = {}
    for t in ir.of_kind(Union):
        names = [v.type.name for v in t.tagged_variants if isinstance(v.type, Named)]
        if members.intersection(names):
            found.update(dict.fromkeys(n for n in names if isinstance(ir.types[n], Struct)))
    return tuple(found)


def _union(ir: IR, name: str) -> Union:
    t = ir.types[name]
    assert isinstance(t, Union)
    return t


def as_the_service_reads(ir: IR, graders: tuple[str, ...]) -> IR:
    """A copy of the IR in which the grader types do not require SERVICE_OPTIONAL properties."""
    types = dict(ir.types)
    for name in graders:
        t = types[name]
        assert isinstance(t, Struct)
        types[name] = replace(
            t, fields=[_optional(f) if f.wire_name in SERVICE_OPTIONAL else f for f in t.fields]
        )
    return replace(ir, types=types)


def _optional(f: Field) -> Field:
    description = f"{f.description} {SERVICE_OPTIONAL_NOTE}" if f.description else SERVICE_OPTIONAL_NOTE
    return replace(f, required=False, description=description)


def grader_file(ir: IR) -> GraderFile:
    structs: list[Struct] = []
    for name in dict.fromkeys(op.request.name for op in ir.operations):
        t = ir.types[name]
        if not isinstance(t, Struct):
            raise GradergenError(f"request body {name} must be an object schema")
        structs.append(t)
    shared = set.intersection(*({f.wire_name for f in s.fields if f.required} for s in structs))
    keys = [
        f
        for f in structs[0].fields
        if f.wire_name in shared and isinstance(f.type, Named) and isinstance(ir.types[f.type.name], Union)
    ]
    if len(keys) != 1 or not isinstance(keys[0].type, Named):
        raise GradergenError("the request bodies must share exactly one required property holding a grader")
    ordered = sorted(structs, key=lambda s: -len(s.fields))
    bodies: list[Body] = []
    for i, s in enumerate(ordered):
        if i == len(ordered) - 1:
            bodies.append(Body(s.name, ()))
            break
        later = {f.wire_name for o in ordered[i + 1 :] for f in o.fields}
        own = tuple(f.wire_name for f in s.fields if f.wire_name not in later)
        if not own:
            raise GradergenError(f"request body {s.name} cannot be told apart from the others")
        bodies.append(Body(s.name, own))
    grader = keys[0].type.name
    graders = grader_types(ir, grader)
    return GraderFile(
        ir=as_the_service_reads(ir, graders),
        grader=grader,
        body_key=keys[0].wire_name,
        bodies=tuple(bodies),
        graders=graders,
    )


@cache
def bundled() -> GraderFile:
    """The grader file shape of the bundled spec, built once per process."""
    spec = default_spec()
    return grader_file(build_ir(load_spec(spec), source=str(spec)))
