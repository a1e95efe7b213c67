"""What Python's templates print beyond names: the imports and exports of the package's modules, and
the keyword arguments' types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradergen.ir.jsonschema import lenient_unions
from gradergen.ir.model import IR, Field, Named, Struct, Union
from gradergen.literals import NUMBER_FILTERS, bytes_literal
from gradergen.naming.base import FALLBACK, NamingTable, pascal, resource_chain, snake
from gradergen.naming.names import Names
from gradergen.naming.python import (
    ASYNC,
    ASYNC_RAW,
    RAW,
    RUNTIME_ERRORS,
    RUNTIME_EXPORTS,
    export_order,
    param_name,
)
from gradergen.options import Options

FILTERS: dict[str, Callable[..., Any]] = {
    "snake": snake,
    "pascal": pascal,
    **NUMBER_FILTERS,
    "bytes_literal": bytes_literal,
}


def context(ir: IR, table: NamingTable, names: Names, options: Options) -> dict[str, Any]:
    py = names.type

    def param_type(f: Field) -> str:
        """A keyword argument takes the model or its plain-dict form."""
        expr = table.type_expr(f.type, names)
        if isinstance(f.type, Named) and isinstance(ir.types[f.type.name], (Struct, Union)):
            expr = f"{expr} | dict[str, Any]"
        if f.nullable and expr != "Any":
            expr += " | None"
        return expr

    used_by_resources = {py(r.name) for op in ir.operations for r in (op.request, op.response)}
    for op in ir.operations:
        request = ir.get(op.request)
        assert isinstance(request, Struct)
        used_by_resources |= {py(f.type.name) for f in request.fields if isinstance(f.type, Named)}
    errors = {names(e) for e in ir.client.all_errors}
    models = {py(name) for name in ir.types} | {names(u, FALLBACK) for u in lenient_unions(ir)}
    return {
        "package": options.python_package,
        "resource_imports": sorted(used_by_resources, key=export_order),
        "models": sorted(models, key=export_order),
        "exports": sorted(models | set(RUNTIME_EXPORTS) | errors, key=export_order),
        "error_exports": sorted(set(RUNTIME_ERRORS) | errors),
        "accessor": lambda r: ".".join(resource_chain(names, r)),
        "param_name": lambda f: param_name(names, f),
        "param_type": param_type,
        "resource_classes": sorted(
            names(r, role)
            for r in ir.all_resources()
            for role in ("", ASYNC, RAW, ASYNC_RAW)
            if names.has(r, role)
        ),
        "top_resource_classes": sorted(names(r, role) for r in ir.resources for role in ("", ASYNC)),
    }
