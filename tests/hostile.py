"""A copy of the canonical spec whose every string field carries code for all four languages.

If any of it ever ran — at import, at build, at parse time of a CLI, when a client is constructed — it
writes the marker file. The payloads aim at every literal context the generators print into: string
literals, docstrings, doc and line comments, struct tags, XML text, TOML and YAML strings, Jinja itself.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from harness import SPEC

BIDI = "\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
"""Bidirectional controls: the trojan-source characters."""

LONG_LINE = "x" * 10_000


def payload(marker: Path, ending: str) -> str:
    """Text that runs code if printed raw into Python, Go, Java or Ruby, in any literal context."""
    m = str(marker)
    return "".join(
        [
            f"quote\" single' backtick` {ending}",
            f'\n__import__("pathlib").Path("{m}").write_text("python")\n',
            f'"; __import__("pathlib").Path("{m}").write_text("python-string"); "',
            f'\' + __import__("os").system("touch {m}") + \'',
            f'""" + str(__import__("pathlib").Path("{m}").write_text("docstring")) + """',
            f"''' + str(__import__(\"pathlib\").Path(\"{m}\").write_text(\"docstring\")) + '''",
            "\r\nCRLF line\r\n",
            f'*/ static {{ new java.io.File("{m}").mkdir(); }} /*',
            f'\\u000a static {{ new java.io.File("{m}").mkdir(); }}',
            f'" + new java.io.File("{m}").mkdir() + "',
            f'\n=begin\n#{{File.write("{m}", "ruby")}}\n=end\n',
            f'#{{File.write("{m}", "ruby-interpolation")}}',
            f'\nFile.write("{m}", "ruby-line")\n',
            f'`\nfunc init() {{ _ = os.WriteFile("{m}", nil, 0o600) }}\n',
            f'" + func() string {{ _ = os.WriteFile("{m}", nil, 0o600); return "" }}() + "',
            "%s %d %n %v %1$s ${HOME} $(id) ",
            "{{ ir.title }} {% if true %}jinja{% endif %} {# comment #} ",
            "<![CDATA[ ]]> </name> &amp; <!-- --> ",
            "\\",  # a backslash before the newline that follows
            '\nname = "toml"\n[tool.injected]\n',
            "\n- yaml: list\nkey: value\n",
            f" {BIDI} bidi ",
            "\u2028 line separator \u2029 paragraph separator \x85 next line \x0b \x0c \x00 nul \x1b[31m ",
            "emoji \U0001f600 rtl \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 cjk \u4e2d\u6587 ",
            "confusables \u0430\u0435\u043e \uff21 \u00a0nbsp ",
            f"\n{LONG_LINE}\n",
            ending,
        ]
    )


TEXT_KEYS = frozenset({"description", "summary", "title", "x-decision"})
"""Free text: carries the whole payload."""


def hostile_spec(marker: Path) -> dict[str, Any]:
    """The canonical spec with payloads in every free-text field and in every enum value and type tag;
    descriptions end in a quote, a backslash, an apostrophe or a backquote in turn. (Versions, URLs,
    paths and SDK names must have their own form: the generator refuses payloads there.)"""
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    endings = ['"', "\\", "'", "`"]
    counter = [0]

    def text() -> str:
        counter[0] += 1
        return payload(marker, endings[counter[0] % len(endings)])

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in TEXT_KEYS and isinstance(value, str):
                    out[key] = value + text()
                elif key == "x-enum-descriptions" and isinstance(value, list):
                    out[key] = [v + text() for v in value]
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    doc = walk(doc)
    schemas = doc["components"]["schemas"]
    suffix = wire_suffix(marker)
    for schema in schemas.values():
        if "enum" in schema:
            schema["enum"] = [v + suffix for v in schema["enum"]]
        for prop in (schema.get("properties") or {}).values():
            if "const" in prop:
                prop["const"] = prop["const"] + suffix
        mapping = (schema.get("discriminator") or {}).get("mapping")
        if mapping:
            schema["discriminator"]["mapping"] = {tag + suffix: ref for tag, ref in mapping.items()}
    for schema in schemas.values():  # defaults that name an enum value follow it
        for prop in (schema.get("properties") or {}).values():
            if isinstance(prop.get("default"), str):
                prop["default"] = prop["default"] + suffix
    return doc


def wire_suffix(marker: Path) -> str:
    """What is appended to wire values (enum values, type tags): quotes, escapes, interpolation."""
    m = str(marker)
    return f'"\'`\n\\#{{File.write("{m}","w")}} #{{File.write("{m}","w2")}}\u202e'
