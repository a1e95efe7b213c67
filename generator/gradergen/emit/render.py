"""Render one language: read its manifest, fill its templates with the named IR, format the result."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jinja2
import yaml

from ..errors import GradergenError
from ..ir.model import IR, Alias, Enum, Struct, Union
from ..naming.base import NamingTable, apply_naming
from ..options import Options
from ..resources import templates_dir
from . import formatters, steps
from .guard import GuardedEnvironment

Files = dict[str, str]


@dataclass
class Manifest:
    lang: str
    naming: str
    formatter: str
    files: list[dict[str, Any]]
    steps: list[dict[str, Any]] = field(default_factory=list)


def load_manifest(lang: str) -> Manifest:
    path = templates_dir(lang) / "manifest.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradergenError(f"no templates for language {lang!r} ({path} is missing)") from None
    return Manifest(
        lang=lang,
        naming=raw.get("naming", lang),
        formatter=raw.get("formatter", "none"),
        files=raw.get("files", []),
        steps=raw.get("steps", []),
    )


def naming_table(name: str) -> NamingTable:
    module = importlib.import_module(f"gradergen.naming.{name}")
    table: NamingTable = module.TABLE
    return table


_SELECTORS: dict[str, Callable[[IR], Iterable[Any]]] = {
    "type": lambda ir: ir.types.values(),
    "struct": lambda ir: ir.of_kind(Struct),
    "enum": lambda ir: ir.of_kind(Enum),
    "union": lambda ir: ir.of_kind(Union),
    "alias": lambda ir: ir.of_kind(Alias),
    "operation": lambda ir: ir.operations,
    "status_error": lambda ir: ir.client.all_errors,
}


@functools.cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, like .pyc files: compiling them is most of a run's
    template work. Keyed by each template's source, so it can never serve a stale one."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "gradergen", f"jinja-{jinja2.__version__}")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(directory) if os.access(directory, os.W_OK) else None


def _environment(lang: str, table: NamingTable) -> jinja2.Environment:
    env = GuardedEnvironment(
        table.escapers(),
        loader=jinja2.FileSystemLoader(str(templates_dir(lang))),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests.update(
        struct=lambda t: isinstance(t, Struct),
        enum=lambda t: isinstance(t, Enum),
        union=lambda t: isinstance(t, Union),
        alias=lambda t: isinstance(t, Alias),
    )
    env.add_filters(table.jinja_filters())
    return env


@dataclass
class Prepared:
    """A language ready to render: its manifest, naming table (already applied) and template context."""

    manifest: Manifest
    table: NamingTable
    env: jinja2.Environment
    context: dict[str, Any]


def prepare(lang: str, ir: IR, options: Options) -> Prepared:
    manifest = load_manifest(lang)
    table = naming_table(manifest.naming)
    apply_naming(ir, table)
    env = _environment(lang, table)
    context: dict[str, Any] = {"ir": ir, "options": options, "names": table, "lang": table.lang}
    context.update(table.context(ir, options))
    return Prepared(manifest, table, env, context)


def render_templates(prepared: Prepared, ir: IR) -> Files:
    """Fill the manifest's templates; unformatted."""
    files: Files = {}
    for entry in prepared.manifest.files:
        try:
            _render_entry(prepared, ir, entry, files)
        except jinja2.TemplateError as exc:
            where = f"templates/{prepared.manifest.lang}/{entry.get('template')}"
            line = _template_line(exc, str(entry.get("template")))
            if line:
                where += f", line {line}"
            raise GradergenError(f"{where}: {type(exc).__name__}: {exc}") from None
    return files


def _template_line(exc: jinja2.TemplateError, template: str) -> int | None:
    """The template line an error happened on: syntax errors carry it, runtime errors leave it in the
    traceback, which Jinja rewrites to point into the template."""
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    tb, found = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(template):
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


def _render_entry(prepared: Prepared, ir: IR, entry: dict[str, Any], files: Files) -> None:
    lang, env = prepared.manifest.lang, prepared.env
    template = env.get_template(entry["template"])
    output = env.from_string(entry["output"])
    when = env.compile_expression(entry["when"]) if "when" in entry else None
    selector = entry.get("each")
    items: Iterable[Any] = [None] if selector is None else _SELECTORS[selector](ir)
    for item in items:
        local = {**prepared.context, "item": item}
        if when is not None and not when(**local):
            continue
        path = output.render(local).strip()
        if path in files:
            what = getattr(item, "pointer", None)
            raise GradergenError(
                f"{what}: {lang}: this and another part of the spec are both written to {path}"
                if what
                else f"{lang}: two templates write {path}"
            )
        files[path] = template.render(local)


def run_steps(lang: str, ir: IR, options: Options) -> Files:
    """Run the manifest's non-template steps (datamodel-code-generator for Python); unformatted.
    Takes only picklable arguments so that it can run in another process; `ir` is already named."""
    prepared = prepare(lang, ir, options)
    files: Files = {}
    for step in prepared.manifest.steps:
        path = prepared.env.from_string(step["output"]).render(prepared.context).strip()
        files[path] = steps.run(step["name"], ir, options, prepared.table)
    return files


def format_files(prepared: Prepared, files: Files) -> Files:
    return formatters.run(prepared.manifest.formatter, files)


def render(lang: str, ir: IR, options: Options) -> Files:
    """One language, start to finish, in this process."""
    prepared = prepare(lang, ir, options)
    files = render_templates(prepared, ir)
    files.update(run_steps(lang, ir, options))
    return format_files(prepared, files)
