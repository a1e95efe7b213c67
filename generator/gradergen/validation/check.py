"""Check one document: the compiled fast path first, and for anything it flags, the full report.

The full report joins three sources, gathered in one walk over the document: jsonschema's errors (each
value that fails on its own is checked against its own definition, which gives the errors of checking
the whole document at a fraction of the cost), the semantic hooks, and unknown properties. A semantic
finding that explains a schema error better replaces it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..ir.model import Struct, Union
from .explain import Explainer
from .fast import INVALID, compile_checks
from .problem import INPUT, MAX_SHOWN_BITS, Finding, Path, Problem, huge_integer, kind_of, pointer
from .schema import build_schema, shallow_definitions
from .semantics import HOOKS, hooks_for, misplaced, notes_for, unknown_property
from .shape import GraderFile, bundled
from .walk import Misplaced, Node, Walker

EDITOR_KEYS = frozenset({"$schema"})
"""Top-level properties editors use to find the schema; not part of the grader."""


class Validator:
    def __init__(self, shape: GraderFile) -> None:
        self.shape = shape
        ir = shape.ir
        notes = notes_for(shape)
        self.hooks = hooks_for(notes)
        """Every semantic check, for the full report."""
        missing = sorted(set(self.hooks) - set(ir.types))
        if missing:
            raise ValueError(f"semantic checks name types the spec lacks: {', '.join(missing)}")
        self.deep = compile_checks(ir, HOOKS, notes=notes)
        self.shallow = compile_checks(ir, {}, shallow=True)
        self.walker = Walker(ir)
        self.explainer = Explainer(ir)
        self.schema = build_schema(shape)
        self.shallow_defs = shallow_definitions(ir, set(self.schema["$defs"]))
        self._validators: dict[str, Any] = {}
        self.declared = {t.name: [f.wire_name for f in t.fields] for t in ir.of_kind(Struct)}

    def check(self, doc: Any) -> list[Problem]:
        """Every problem of one document, in document order, without line numbers."""
        if not isinstance(doc, dict):
            message = f"expected an object (a grader or a request body), found {kind_of(doc)}"
            return [Problem("error", "", message, "", INPUT)]
        if not EDITOR_KEYS.isdisjoint(doc):
            doc = {k: v for k, v in doc.items() if k not in EDITOR_KEYS}
        kind = self.shape.kind_of(doc)
        flags = self.deep[kind](doc)
        if not flags:
            return []
        problems = self._report(Node(kind, doc, ()), schema=bool(flags & INVALID))
        order = _DocumentOrder(doc)
        return sorted(problems, key=lambda p: order(p.pointer))

    def _report(self, root: Node, schema: bool) -> list[Problem]:
        """Walk every named value: its unknown properties, its semantic checks, and, when the
        document breaks the schema, jsonschema's errors for each value that fails on its own."""
        ir = self.shape.ir
        found: list[tuple[Path, Finding]] = []
        errors: list[tuple[Path, Path, Any, str]] = []
        for node in self.walker.walk(root):
            if isinstance(node, Misplaced):
                message, hint = misplaced(node.union, node.tag, node.other)
                union = ir.types[node.union]
                assert isinstance(union, Union)
                at = (union.tag_name,)
                found.append((node.path, Finding(at, "error", "placement", message, hint, replaces=True)))
                continue
            t = ir.types[node.type_name]
            if isinstance(t, Struct) and isinstance(node.value, dict):
                found.extend(self._unknown_properties(t, node))
            hook = self.hooks.get(node.type_name)
            if hook is not None:
                found.extend((node.path, f) for f in hook(node.value))
            if schema and self.shallow[node.type_name](node.value) & INVALID:
                for error in self._validator(node.type_name).iter_errors(clipped(node.value)):
                    errors.append((node.path, tuple(error.absolute_path), error, node.type_name))
        replaced = [path + f.path for path, f in found if f.replaces]
        problems = [
            Problem(f.severity, pointer(path + f.path), f.message, f.hint, f.code) for path, f in found
        ]
        for base, inner, error, type_name in errors:
            path = base + inner
            if not any(path[: len(r)] == r for r in replaced):
                problems.extend(self.explainer.problems(error, path, None if inner else type_name))
        return _unique(problems)

    def _unknown_properties(self, t: Struct, node: Node) -> list[tuple[Path, Finding]]:
        declared = self.declared[t.name]
        unknown = [k for k in node.value if k not in declared]
        if not unknown:
            return []
        present = set(node.value)
        return [(node.path, unknown_property(str(key), declared, present, t.name)) for key in unknown]

    def _validator(self, type_name: str) -> Any:
        """jsonschema's validator of one shallow definition; imported only once a document fails,
        which keeps it out of the start-up of a run over valid files."""
        found = self._validators.get(type_name)
        if found is None:
            from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

            found = self._validators[type_name] = Draft202012Validator(self.shallow_defs[type_name])
        return found


CLIP_DEPTH = 4
"""A shallow definition looks at most this deep into a value (a struct's field, an array in it, the
array's items): what lies below is checked as a value of its own, or is free-form JSON."""


class _HugeInt(int):
    """An integer that jsonschema can put in a message: Python will not print one of more than
    4,300 digits, and jsonschema prints every value it reports on."""

    def __repr__(self) -> str:
        return huge_integer(self)


def clipped(value: Any, depth: int = CLIP_DEPTH) -> Any:
    """`value` as its shallow definition sees it: containers deeper than `depth` emptied (which keeps
    jsonschema's messages from printing a deeply nested value, and failing to), huge integers
    wrapped. Verdicts and error paths are those of the value itself."""
    if isinstance(value, dict):
        return {k: clipped(v, depth - 1) for k, v in value.items()} if depth else {}
    if isinstance(value, list):
        return [clipped(v, depth - 1) for v in value] if depth else []
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_SHOWN_BITS:
        return _HugeInt(value)
    return value


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


class _DocumentOrder:
    """Where a pointer falls in the document: the index of each step among its siblings. Each object
    is indexed once, so ordering n problems stays linear in the document."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.objects: dict[int, dict[str, tuple[int, Any]]] = {}

    def __call__(self, where: str) -> tuple[int, ...]:
        order: list[int] = []
        node = self.doc
        for part in (p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:]):
            if isinstance(node, dict):
                members = self.objects.get(id(node))
                if members is None:
                    members = {str(k): (i, v) for i, (k, v) in enumerate(node.items())}
                    self.objects[id(node)] = members
                found = members.get(part)
                if found is None:
                    order.append(len(members))
                    break
                order.append(found[0])
                node = found[1]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                order.append(int(part))
                node = node[int(part)]
            else:
                break
        return tuple(order)


@cache
def bundled_validator() -> Validator:
    return Validator(bundled())
