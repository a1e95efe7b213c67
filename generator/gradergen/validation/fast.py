"""A checker generated from the IR as Python source: the fast path for valid documents.

Each named type becomes one plain function that returns CLEAN when a value matches the schema and has
nothing to report, NOTE when it matches but a semantic check or an unknown property has something to
say, and INVALID when it does not match the schema. It reports no details: a document that is not CLEAN
is checked again by the slow path, which explains every problem with its location. The functions
follow the same IR as the JSON Schema, and the tests hold them to jsonschema's verdicts.

A shallow checker treats every struct, union and alias inside a value as valid: it tells whether a
value fails on its own or only because of something inside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..ir.model import (
    IR,
    Alias,
    AnyJson,
    ArrayOf,
    Enum,
    Field,
    MapOf,
    Named,
    Primitive,
    Struct,
    TypeRef,
    Union,
)
from .semantics import Hook, Notes

CLEAN, NOTE, INVALID = 0, 1, 2
Check = Callable[[Any], int]

_KINDS = {
    "string": "isinstance({x}, str)",
    "boolean": "isinstance({x}, bool)",
    "number": "(isinstance({x}, (int, float)) and not isinstance({x}, bool))",
    "integer": "((isinstance({x}, int) and not isinstance({x}, bool))"
    " or (isinstance({x}, float) and {x}.is_integer()))",
    "array": "isinstance({x}, list)",
    "object": "isinstance({x}, dict)",
    "null": "{x} is None",
}


class _Writer:
    def __init__(self, ir: IR, hooks: dict[str, Hook], shallow: bool, notes: Notes) -> None:
        self.ir = ir
        self.hooks = {} if shallow else hooks
        self.notes = Notes() if shallow else notes
        self.shallow = shallow
        self.lines: list[str] = []
        self.names = {name: "check_" + re.sub(r"\W", "_", name) for name in ir.types}
        self.constants: dict[str, Any] = {"MISSING": object()}

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def close(self, depth: int, opened_at: int) -> None:
        """End a block that may have received no statement."""
        if len(self.lines) == opened_at:
            self.emit(depth, "pass")

    def constant(self, prefix: str, type_name: str, value: Any) -> str:
        name = f"{prefix}_{self.names[type_name][len('check_') :]}"
        self.constants[name] = value
        return name

    # ------------------------------------------------------------------ one function per named type
    def function(self, name: str) -> None:
        t = self.ir.types[name]
        self.emit(0, f"def {self.names[name]}(v):")
        if isinstance(t, Struct):
            self.struct(t)
        elif isinstance(t, Union):
            self.union(t)
        elif isinstance(t, Enum):
            values = self.constant("ENUM", name, frozenset(v.wire for v in t.values))
            self.emit(1, f"return 0 if isinstance(v, str) and v in {values} else 2")
        else:
            assert isinstance(t, Alias)
            self.emit(1, "f = 0")
            self.value(t.target, "v", 1)
            self.hook(name, 1)
            self.emit(1, "return f")
        self.lines.append("")

    def hook(self, type_name: str, depth: int) -> None:
        if type_name in self.hooks:
            hook = self.constant("HOOK", type_name, self.hooks[type_name])
            self.emit(depth, f"if {hook}(v):")
            self.emit(depth + 1, "f |= 1")

    def struct(self, t: Struct) -> None:
        self.emit(1, "if not isinstance(v, dict):")
        self.emit(2, "return 2")
        if self.shallow:
            self.emit(1, "f = 0")
        else:
            known = self.constant("KNOWN", t.name, frozenset(f.wire_name for f in t.fields))
            self.emit(1, f"f = 0 if {known}.issuperset(v) else 1")
        for f in t.fields:
            self.emit(1, f"x = v.get({f.wire_name!r}, MISSING)")
            if f.required:
                self.emit(1, "if x is MISSING:")
                self.emit(2, "return 2")
                self.field(f, 1)
            else:
                self.emit(1, "if x is not MISSING:")
                opened_at = len(self.lines)
                self.field(f, 2)
                self.close(2, opened_at)
                if f.wire_name == "name" and t.name in self.notes.named:
                    self.emit(1, "else:")
                    self.emit(2, "f |= 1")
            if f.wire_name in self.notes.finite.get(t.name, ()):
                self.finite(f)
        self.hook(t.name, 1)
        self.emit(1, "return f")

    def finite(self, f: Field) -> None:
        """Note an infinity or NaN in a number field, or in an array of numbers (x - x is NaN then)."""
        if isinstance(f.type, ArrayOf):
            self.emit(1, "if x.__class__ is list:")
            self.emit(2, "for y in x:")
            self.emit(3, "if y.__class__ is float and y - y:")
            self.emit(4, "f |= 1")
        else:
            self.emit(1, "if x.__class__ is float and x - x:")
            self.emit(2, "f |= 1")

    def field(self, f: Field, depth: int) -> None:
        if f.nullable:
            self.emit(depth, "if x is not None:")
            depth += 1
        opened_at = len(self.lines)
        if f.const is not None:
            self.emit(depth, f"if x != {f.const!r}:")
            self.emit(depth + 1, "return 2")
        else:
            c = f.constraints
            self.value(f.type, "x", depth, c.min_items, c.max_items, c.min_properties)
        if f.nullable:
            self.close(depth, opened_at)

    def value(
        self,
        ref: TypeRef,
        x: str,
        depth: int,
        min_items: int | None = None,
        max_items: int | None = None,
        min_properties: int | None = None,
    ) -> None:
        """Lines that return 2 when `x` is not a `ref`, and fold its flags into f otherwise."""
        if isinstance(ref, Primitive):
            self.emit(depth, f"if not {_KINDS[ref.name].format(x=x)}:")
            self.emit(depth + 1, "return 2")
        elif isinstance(ref, Named):
            t = self.ir.types[ref.name]
            if self.shallow and isinstance(t, (Struct, Union, Alias)):
                return  # checked as a value of its own
            self.emit(depth, f"r = {self.names[ref.name]}({x})")
            self.emit(depth, "if r & 2:")
            self.emit(depth + 1, "return 2")
            self.emit(depth, "f |= r")
        elif isinstance(ref, (ArrayOf, MapOf)):
            is_list = isinstance(ref, ArrayOf)
            self.emit(depth, f"if not isinstance({x}, {'list' if is_list else 'dict'}):")
            self.emit(depth + 1, "return 2")
            bounds = [(min_items, "<"), (max_items, ">")] if is_list else [(min_properties, "<")]
            for bound, test in bounds:
                if bound is not None:
                    self.emit(depth, f"if len({x}) {test} {bound}:")
                    self.emit(depth + 1, "return 2")
            inner = ref.item if isinstance(ref, ArrayOf) else ref.value
            if not self.trivial(inner):
                item = f"y{depth}"
                self.emit(depth, f"for {item} in {x if is_list else x + '.values()'}:")
                self.value(inner, item, depth + 1)
        else:
            assert isinstance(ref, AnyJson)

    def trivial(self, ref: TypeRef) -> bool:
        """Whether a value of this type needs no checking here."""
        if isinstance(ref, AnyJson):
            return True
        nested = isinstance(ref, Named) and isinstance(self.ir.types[ref.name], (Struct, Union, Alias))
        return self.shallow and nested

    def union(self, u: Union) -> None:
        dispatch = u.dispatch
        if dispatch.nullable:
            self.emit(1, "if v is None:")
            self.emit(2, "return 0")
        if dispatch.by_tag:
            self.emit(1, "if isinstance(v, dict):")
            self.emit(2, f"t = v.get({dispatch.tag_name!r})")
            for tag, variant in dispatch.by_tag.items():
                self.emit(2, f"if t == {tag!r}:")
                if self.trivial(variant.type):
                    self.emit(3, "return 0")
                else:
                    self.emit(3, "f = 0")
                    self.value(variant.type, "v", 3)
                    self.emit(3, "return f")
            self.emit(2, "return 2")
        for kind, variant in dispatch.by_kind.items():
            self.emit(1, f"if {_KINDS[kind].format(x='v')}:")
            self.emit(2, "f = 0")
            if not self.trivial(variant.type):
                self.value(variant.type, "v", 2)
            self.emit(2, "return f")
        self.emit(1, "return 2")


def checker_source(
    ir: IR, hooks: dict[str, Hook], shallow: bool = False, notes: Notes | None = None
) -> tuple[str, dict[str, Any]]:
    """The generated module: its source, and the constants it refers to."""
    writer = _Writer(ir, hooks, shallow, notes or Notes())
    for name in ir.types:
        writer.function(name)
    return "\n".join(writer.lines), writer.constants


def compile_checks(
    ir: IR, hooks: dict[str, Hook], shallow: bool = False, notes: Notes | None = None
) -> dict[str, Check]:
    """One checker per named type: `hooks` are called, `notes` tested inline."""
    source, namespace = checker_source(ir, hooks, shallow, notes)
    code = compile(source, f"<gradergen checker{' (shallow)' if shallow else ''}>", "exec")
    exec(code, namespace)  # the source is generated above from the IR, never from input
    names = {name: "check_" + re.sub(r"\W", "_", name) for name in ir.types}
    return {name: namespace[fn] for name, fn in names.items()}
