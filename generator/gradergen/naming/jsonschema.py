"""JSON Schema keeps the spec's own names: every name is spelled as the spec spells it."""

from __future__ import annotations

import re

from ..ir.model import Enum, EnumValue
from .base import NamingTable
from .names import Names


class JsonSchemaNaming(NamingTable):
    lang = "jsonschema"
    identifier = re.compile(r".+", re.DOTALL)
    """A schema name or a value is a JSON string: any one is spelled as it is."""

    def enum_value_name(self, v: EnumValue, e: Enum, names: Names) -> str:
        return str(v.wire)


TABLE = JsonSchemaNaming()
