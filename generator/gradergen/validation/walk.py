"""Walk a document along the IR: which spec type each value is meant to be, and where it is.

Unions are resolved as the IR says (JSON kind first, then the tag), so the walk reaches exactly the
values the schema describes. It never assumes a value is well formed: what does not fit is skipped.
Each type's way through its values is worked out once, when the walker is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ..ir.model import IR, Alias, ArrayOf, MapOf, Named, Struct, TypeRef, Union, Variant
from .problem import Path

Nodes = list["Node"]
Expander = Callable[[Any, Path, Nodes], None]
"""Appends the named values a value of some type is or holds."""


class Node(NamedTuple):
    """A value of a named struct, union or alias type, found at `path`."""

    type_name: str
    value: Any
    path: Path


class Misplaced(NamedTuple):
    """An object whose tag belongs to another union than the one expected here."""

    union: str
    tag: str
    other: str
    path: Path


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


class Walker:
    def __init__(self, ir: IR) -> None:
        self.ir = ir
        self.owners: dict[str, list[tuple[str, Variant]]] = {}
        for t in ir.types.values():
            if isinstance(t, Union):
                for v in t.tagged_variants:
                    self.owners.setdefault(str(v.tag), []).append((t.name, v))
        self.inside: dict[str, Callable[[Any, Path, Nodes], Misplaced | None]] = {
            name: self._inside(t) for name, t in ir.types.items() if isinstance(t, (Struct, Union, Alias))
        }

    # ------------------------------------------------------------------ compiled once per type
    def expander(self, ref: TypeRef) -> Expander | None:
        """How to find the named values inside a value of type `ref`; None when there are none."""
        if isinstance(ref, Named):
            if not isinstance(self.ir.types[ref.name], (Struct, Union, Alias)):
                return None
            name = ref.name

            def named(value: Any, path: Path, out: Nodes) -> None:
                out.append(Node(name, value, path))

            return named
        if isinstance(ref, (ArrayOf, MapOf)):
            inner = self.expander(ref.item if isinstance(ref, ArrayOf) else ref.value)
            if inner is None:
                return None
            found = inner
            if isinstance(ref, ArrayOf):

                def items(value: Any, path: Path, out: Nodes) -> None:
                    if isinstance(value, list):
                        for i, item in enumerate(value):
                            found(item, (*path, i), out)

                return items

            def values(value: Any, path: Path, out: Nodes) -> None:
                if isinstance(value, dict):
                    for key, item in value.items():
                        found(item, (*path, key), out)

            return values
        return None

    def _inside(self, t: Struct | Union | Alias) -> Callable[[Any, Path, Nodes], Misplaced | None]:
        if isinstance(t, Struct):
            fields = [
                (f.wire_name, f.nullable, e) for f in t.fields if (e := self.expander(f.type)) is not None
            ]

            def struct(value: Any, path: Path, out: Nodes) -> None:
                if isinstance(value, dict):
                    for wire, nullable, expand in fields:
                        if wire in value and not (nullable and value[wire] is None):
                            expand(value[wire], (*path, wire), out)

            return struct
        if isinstance(t, Alias):
            target = self.expander(t.target)

            def alias(value: Any, path: Path, out: Nodes) -> None:
                if target is not None:
                    target(value, path, out)

            return alias
        return self._union(t)

    def _union(self, t: Union) -> Callable[[Any, Path, Nodes], Misplaced | None]:
        dispatch = t.dispatch
        tag_name = dispatch.tag_name
        by_tag = {tag: self.expander(v.type) for tag, v in dispatch.by_tag.items()}
        by_kind: dict[str, Expander | None] = {
            kind: self.expander(v.type) for kind, v in dispatch.by_kind.items()
        }
        elsewhere: dict[str, tuple[str, Expander | None]] = {}
        for tag, owners in self.owners.items():
            other = next((name for name, _ in owners if name != t.name), None)
            if tag not in by_tag and other is not None:
                member = next(v for name, v in owners if name == other)
                elsewhere[tag] = (other, self.expander(member.type))

        def union(value: Any, path: Path, out: Nodes) -> Misplaced | None:
            if by_tag and isinstance(value, dict):
                tag = value.get(tag_name)
                if not isinstance(tag, str):
                    return None
                if tag in by_tag:
                    expand = by_tag[tag]
                    if expand is not None:
                        expand(value, path, out)
                    return None
                if tag in elsewhere:  # checked as the member it is, and reported as misplaced
                    other, expand = elsewhere[tag]
                    if expand is not None:
                        expand(value, path, out)
                    return Misplaced(t.name, tag, other, path)
                return None
            expand = by_kind.get(json_kind(value))
            if expand is not None:
                expand(value, path, out)
            return None

        return union

    # ------------------------------------------------------------------ walking
    def children(self, node: Node) -> tuple[Nodes, Misplaced | None]:
        out: Nodes = []
        misplaced = self.inside[node.type_name](node.value, node.path, out)
        return out, misplaced

    def walk(self, root: Node) -> Iterator[Node | Misplaced]:
        """Every named value in the document, parents before children, in document order; and a
        Misplaced after every union value whose member belongs to another union."""
        stack = [root]
        while stack:
            node = stack.pop()
            yield node
            kids, misplaced = self.children(node)
            if misplaced is not None:
                yield misplaced
            stack.extend(reversed(kids))
