"""Line layout in the shape prettier gives it, for what the printer writes once per schema (types,
decoders, import lists) and the calls and signatures the templates write once per operation, so that
the bindings need no prettier run (format.py).

Each function lays out one construct the way prettier 3 does at 100 columns, and only where that choice
is certain. Where it is not (a name so long that prettier would break inside a type or a call), it
leaves the line over-long: format.py sends every file with a code line over 100 columns to prettier,
so an uncertain layout costs time, never a difference from prettier's output. tests/test_typescript.py
checks that the files format.py leaves alone are the ones prettier would leave alone, on specs that
reach every branch here.
"""

from __future__ import annotations

import re

WIDTH = 100
"""prettier's --print-width for the bindings (format.py's PRETTIER_OPTIONS)."""

INDENT = "  "

UNBREAKABLE = re.compile(r"export const [A-Za-z_$][\w$]*: [\w$.]+<[\w$.]+> =")
"""A declaration's head that prettier keeps whole however long it is: a name and a type with one
simple argument cannot break (`const_declaration` moves the value to the next line)."""


def fits(line: str) -> bool:
    """Whether prettier would keep `line` (ASCII code, as every code line here is) as it is."""
    return len(line) <= WIDTH


def import_list(names: list[str], source: str, type_only: bool = False) -> str:
    """`import { a, b } from "./x.js";`, one name a line when that does not fit."""
    return _name_list("import", names, source, type_only)


def export_list(names: list[str], source: str, type_only: bool = False) -> str:
    """`export { a, b } from "./x.js";`, one name a line when that does not fit."""
    return _name_list("export", names, source, type_only)


def _name_list(keyword: str, names: list[str], source: str, type_only: bool) -> str:
    head = f"{keyword} type {{" if type_only else f"{keyword} {{"
    one = f'{head} {", ".join(names)} }} from "{source}";'
    if fits(one):
        return one
    return head + "\n" + "".join(f"{INDENT}{name},\n" for name in names) + f'}} from "{source}";'


def call(indent: str, callee: str, args: list[str], after: str = "") -> str:
    """`callee(a, b)` and what follows it on its line (`;`, `: T {`), at `indent`; one argument a line,
    each with a comma, when that does not fit. Also a signature: its parameters are its arguments."""
    one = f"{indent}{callee}({', '.join(args)}){after}"
    if fits(one):
        return one
    inner = "".join(f"{indent}{INDENT}{arg},\n" for arg in args)
    return f"{indent}{callee}(\n{inner}{indent}){after}"


def arrow_to_call(indent: str, head: str, callee: str, args: list[str], after: str = "") -> str:
    """`head => callee(a, b)after`; when it does not fit, the call on the next line, indented, and
    laid out as `call` there."""
    one = f"{indent}{head} => {callee}({', '.join(args)}){after}"
    if fits(one):
        return one
    return f"{indent}{head} =>\n" + call(indent + INDENT, callee, args, after)


def type_alias(name: str, members: list[str]) -> str:
    """`export type X = A | B;`; broken after `=` when it does not fit; a union that does not fit on
    the next line either, one member a line, each after a `|`."""
    head = f"export type {name} ="
    joined = " | ".join(members) + ";"
    if fits(f"{head} {joined}"):
        return f"{head} {joined}"
    if len(members) < 2:  # prettier would break inside the type: left to it
        return f"{head} {joined}"
    if fits(INDENT + joined):
        return f"{head}\n{INDENT}{joined}"
    return head + "\n" + "\n".join(f"{INDENT}| {m}" for m in members) + ";"


def const_declaration(name: str, annotation: str, value: str) -> str:
    """`export const X: T = value;`. A one-line value that does not fit moves to the next line; a
    value that opens a call on its first line (`d.object({`) stays on the `=` line while that line
    fits, else moves to the next line, indented."""
    head = f"export const {name}: {annotation} ="
    first, _, rest = value.partition("\n")
    if fits(f"{head} {first}" if rest else f"{head} {value};"):
        return f"{head} {value};"
    if rest and not first.endswith("({"):  # a call whose arguments break one a line: left to prettier
        return f"{head} {value};"
    moved = "\n".join(INDENT + line if line else line for line in value.split("\n"))
    return f"{head}\n{moved};"


def class_declaration(head: str, body: list[str]) -> str:
    """`export class X extends Y {` and its body lines; `{}` when there are none."""
    if not body:
        return f"{head} {{}}"
    return f"{head} {{\n" + "\n".join(body) + "\n}"


_STRING = "|".join(
    (
        r'"[^"\\]*(?:\\.[^"\\]*)*"',  # "double", with escapes
        r"'[^'\\]*(?:\\.[^'\\]*)*'",  # 'single'
        r"`[^`$\\]*(?:(?:\\.|\$(?!\{)|\$\{[^{}`]*\})[^`$\\]*)*`",  # `template ${with} ${holes}`
    )
)
ONE_STRING = re.compile(rf"\s*(?:(?:{_STRING}|[A-Za-z_$][\w$]*): )?(?:{_STRING})[,;]?")
"""A line that is one string (a key before it at most): prettier cannot break it, however long."""


def is_laid_out(text: str, markdown: bool = False) -> bool:
    """Whether every code line of `text` fits, so prettier would leave the file as the printer laid it
    out. Comment lines do not count: prettier never reflows a comment; nor does Markdown prose, whose
    code blocks prettier formats as code."""
    in_code = not markdown
    for line in text.split("\n"):
        stripped = line.lstrip()
        if markdown and stripped.startswith("```"):
            in_code = not in_code
            continue
        if not in_code or stripped.startswith(("/**", "* ", "*/", "//")) or stripped == "*":
            continue
        if not line.isascii():
            return False
        if not (fits(line) or UNBREAKABLE.fullmatch(line) or ONE_STRING.fullmatch(line)):
            return False
    return True
