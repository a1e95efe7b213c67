"""jsonschema's errors, in words a person fixing a grader file can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from ..ir.model import IR, Alias, ArrayOf, Enum, MapOf, Named, Primitive, Struct, TypeRef, Union
from .problem import Path, Problem, kind_of, pointer, shown
from .suggest import closest, did_you_mean

_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def describe(ir: IR, ref: TypeRef) -> str:
    """What a value of this type looks like, for "add it" hints."""
    if isinstance(ref, Primitive):
        return _KINDS[ref.name]
    if isinstance(ref, ArrayOf):
        return "an array"
    if isinstance(ref, MapOf):
        return "an object"
    if isinstance(ref, Named):
        t = ir.types[ref.name]
        if isinstance(t, Enum):
            return "one of " + ", ".join(v.wire for v in t.values)
        if isinstance(t, Alias):
            return describe(ir, t.target)
        if isinstance(t, Struct):
            return f"a {t.name} object"
        if isinstance(t, Union):
            return f"a {t.name}"
    return "a value"


class Explainer:
    def __init__(self, ir: IR) -> None:
        self.ir = ir
        self.fields: dict[str, dict[str, TypeRef]] = {
            t.name: {f.wire_name: f.type for f in t.fields}
            for t in ir.types.values()
            if isinstance(t, Struct)
        }

    def problems(
        self, error: ValidationError, path: Path, struct: str | None, or_null: bool = False
    ) -> list[Problem]:
        """The problems one error stands for. `struct` is the type that declares the erring value's
        properties, when known: it names what a missing property should hold. `or_null`: the value
        may also be null (the error comes from the other branch of `anyOf: [X, null]`)."""
        keyword = str(error.validator)
        value = error.instance
        expected: Any = error.validator_value
        where = pointer(path)
        code = f"schema.{keyword}"
        if keyword in ("anyOf", "oneOf") and error.context:
            return self._branches(error, path, struct)
        if keyword == "required":
            present = set(value) if isinstance(value, dict) else set()
            return [self._missing(name, present, where, struct) for name in expected if name not in present]
        if keyword == "enum":
            options = [str(o) for o in expected]
            listed = ", ".join(options) + (", or null" if or_null else "")
            message = f"{shown(value)} is not one of {listed}"
            return [Problem("error", where, message, did_you_mean(value, options), code)]
        if keyword == "const":
            return [Problem("error", where, f"must be {shown(expected)}, found {shown(value)}", "", code)]
        if keyword == "type":
            kinds = ([expected] if isinstance(expected, str) else list(expected)) + (
                ["null"] if or_null else []
            )
            message = f"expected {_either([_KINDS.get(k, k) for k in kinds])}, found {kind_of(value)}"
            if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
                message += f" ({shown(value)})"
            return [Problem("error", where, message, _type_hint(value), code)]
        if keyword in ("minItems", "maxItems"):
            return [Problem("error", where, _count_message(error), "", code)]
        if keyword == "minProperties":
            message = "must not be empty" if expected == 1 else f"must have at least {expected} properties"
            return [Problem("error", where, message, "", code)]
        return [Problem("error", where, error.message, "", code)]

    def _branches(self, error: ValidationError, path: Path, struct: str | None) -> list[Problem]:
        """A value that may be X or null: explain why it is not an X."""
        branches = error.validator_value
        null = {"type": "null"}
        or_null = null in branches
        out: list[Problem] = []
        for sub in error.context:
            if branches[sub.relative_schema_path[0]] != null:
                out.extend(self.problems(sub, path + tuple(sub.relative_path), struct, or_null))
        return out or [Problem("error", pointer(path), error.message, "", f"schema.{error.validator}")]

    def _missing(self, name: str, present: set[str], where: str, struct: str | None) -> Problem:
        unknown = [p for p in present if struct is None or p not in self.fields.get(struct, {})]
        typo = closest(name, [str(p) for p in unknown])
        t = self.ir.types.get(struct or "")
        if typo is not None:
            hint = f"is {typo!r} a misspelling of it?"
        elif isinstance(t, Struct) and name in self.fields[t.name]:
            hint = f'add "{name}": {describe(self.ir, self.fields[t.name][name])}'
        elif isinstance(t, Union) and name == t.tag_name:
            hint = f'add "{name}": one of ' + ", ".join(str(v.tag) for v in t.tagged_variants)
        else:
            hint = ""
        return Problem("error", where, f"missing required property {name!r}", hint, "schema.required")


def _count_message(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    low, high = schema.get("minItems"), schema.get("maxItems")
    count = len(error.instance) if isinstance(error.instance, list) else 0
    if low is not None and low == high:
        return f"must have exactly {low} items, found {count}"
    if error.validator == "minItems":
        return "must not be empty" if low == 1 else f"must have at least {low} items, found {count}"
    return f"must have at most {high} items, found {count}"


def _type_hint(value: Any) -> str:
    name = type(value).__name__
    if name in ("date", "datetime"):
        return f"YAML reads unquoted dates as dates: quote it, '{value}'"
    if name == "bytes":
        return "YAML !!binary is not a JSON value"
    return ""
