"""Python spellings. Model classes keep the spec's names (datamodel-code-generator writes them);
the client's resources, methods, keyword arguments and CLI flags are named here."""

from __future__ import annotations

import keyword
from typing import Any

from ..ir.model import IR, Field, Named, Struct, Union
from ..options import Options
from .base import NamingTable, pascal, resource_chain, snake

RUNTIME_EXPORTS = (
    "APIConnectionError",
    "APIError",
    "APIResponseTooLargeError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "DEFAULT_BASE_URL",
    "GradersError",
    "InternalServerError",
    "NOT_GIVEN",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
)
"""What the package exports besides its models: the client and its errors."""


def _export_order(name: str) -> tuple[int, str]:
    """The order ruff expects of __all__: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


_PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class PythonNaming(NamingTable):
    lang = "python"
    primitive_types = _PRIMITIVES
    array_type = "list[{}]"
    map_type = "dict[str, {}]"
    any_type = "Any"
    reserved = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

    def field_name(self, f: Field, owner: Struct) -> str:
        return snake(f.wire_name)

    def doc(self, text: str) -> str:
        # a docstring ends at the first triple quote, and a backslash starts an escape
        return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


    def param_type(self, f: Field, ir: IR) -> str:
        """A keyword argument takes the model or its plain-dict form."""
        expr = self.type_expr(f.type, ir)
        if isinstance(f.type, Named) and isinstance(ir.types[f.type.name], (Struct, Union)):
            expr = f"{expr} | dict[str, Any]"
        if f.nullable and expr != "Any":
            expr += " | None"
        return expr

    def flag(self, f: Field) -> str:
        return "--" + f.wire_name.replace("_", "-")

    def jinja_filters(self) -> dict[str, Any]:
        return {"snake": snake, "pascal": pascal, "flag": self.flag}

    def context(self, ir: IR, options: Options) -> dict[str, Any]:
        from ..emit.jsonschema import lenient_unions

        def py(name: str) -> str:
            return ir.types[name].names[self.lang]

        used_by_resources = {py(r.name) for op in ir.operations for r in (op.request, op.response)}
        for op in ir.operations:
            request = ir.get(op.request)
            assert isinstance(request, Struct)
            used_by_resources |= {py(f.type.name) for f in request.fields if isinstance(f.type, Named)}
        models = {py(name) for name in ir.types} | {u.unknown_name for u in lenient_unions(ir)}
        return {
            "package": options.python_package,
            "resource_imports": sorted(used_by_resources),
            "models": sorted(models),
            "exports": sorted(models | set(RUNTIME_EXPORTS), key=_export_order),
            "accessor": lambda r: ".".join(resource_chain(ir, r, self.lang)),
        }


TABLE = PythonNaming()
