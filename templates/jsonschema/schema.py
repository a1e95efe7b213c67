"""The JSON Schema of grader files is the validator's own schema, printed."""

from __future__ import annotations

from gradergen.ir.model import IR
from gradergen.naming.base import NamingTable
from gradergen.naming.names import Names
from gradergen.options import Options
from gradergen.validation.schema import dumps, schema_for


def generate(ir: IR, table: NamingTable, names: Names, options: Options) -> str:
    return dumps(schema_for(ir))
