"""Render one language: read its manifest, name the IR, fill its templates, format the result."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.environment import TemplateExpression

from ..errors import GradergenError
from ..ir.model import IR, Alias, Enum, Struct, Union
from ..languages import Manifest, beside, function_beside, load_manifest
from ..naming.base import NamingTable, apply_naming
from ..naming.names import Names
from ..options import Options
from ..resources import templates_dir
from .guard import CODE_VERSION, GuardedEnvironment

Files = dict[str, str]


def naming_table(name: str) -> NamingTable:
    try:
        module = importlib.import_module(f"gradergen.naming.{name}")
    except ModuleNotFoundError:
        raise GradergenError(f"no naming table {name!r} (gradergen/naming/{name}.py is missing)") from None
    table = getattr(module, "TABLE", None)
    if not isinstance(table, NamingTable):
        raise GradergenError(f"gradergen/naming/{name}.py has no TABLE, a NamingTable")
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
    template work. Keyed by each template's source and by the version of the guard's compiler, so it
    can never serve a stale one."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "gradergen", f"jinja-{jinja2.__version__}-{CODE_VERSION}")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(directory) if os.access(directory, os.W_OK) else None


def _environment(manifest: Manifest, table: NamingTable, names: Names) -> jinja2.Environment:
    lang = manifest.lang
    env = GuardedEnvironment(
        table.escapers(),
        loader=jinja2.FileSystemLoader(str(templates_dir(lang))),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # an environment lives for one run: no need to look at each template's date
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
    if manifest.printer is not None:
        env.add_filters(getattr(beside(lang, manifest.printer), "FILTERS", {}))
    env.add_filters({"name": names})  # `t | name`, `u | name("fallback")`: this language's names
    return env


def compiled_string(env: jinja2.Environment, source: str) -> jinja2.Template:
    """`env.from_string(source)` for the manifest's short templates (output paths), compiled once and
    then kept in the bytecode cache like the template files: compiling them all took longer than
    rendering a small spec."""
    cache = env.bytecode_cache
    if cache is None:
        return env.from_string(source)
    bucket = cache.get_bucket(env, f"<manifest>{source}", None, source)
    if bucket.code is None:
        bucket.code = env.compile(source)
        cache.set_bucket(bucket)
    return env.template_class.from_code(env, bucket.code, env.make_globals(None))


def compiled_expression(env: jinja2.Environment, source: str) -> TemplateExpression:
    """`env.compile_expression(source)`, kept in the bytecode cache the same way."""
    if env.bytecode_cache is None:
        return env.compile_expression(source)
    return TemplateExpression(compiled_string(env, "{% set result = " + source + " %}"), True)


@dataclass
class Prepared:
    """A language ready to render: its manifest, naming table, its names of the IR and template context."""

    manifest: Manifest
    table: NamingTable
    names: Names
    env: jinja2.Environment
    context: dict[str, Any]


def prepare(lang: str, ir: IR, options: Options, names: Names | None = None) -> Prepared:
    """Name `ir` for `lang` (unless `names` are its names already) and set up its templates: the
    templates, printer and steps of the language all read this one naming."""
    manifest = load_manifest(lang)
    table = naming_table(manifest.naming)
    if names is None:
        names = apply_naming(ir, table)
    elif names.ir is not ir or names.lang != table.lang:
        raise ValueError(f"{lang}: these are {names.lang}'s names of another IR")
    env = _environment(manifest, table, names)
    context: dict[str, Any] = {"ir": ir, "options": options, "lang": table.lang}
    if manifest.printer is not None:
        context.update(function_beside(lang, manifest.printer, "context")(ir, table, names, options))
    # the environment's globals, so that a template of macros is imported once, without the context
    # (an import `with context` runs it again for every file), and its macros still see the helpers
    env.globals.update(context)
    return Prepared(manifest, table, names, env, context)


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
    output = compiled_string(env, entry["output"])
    when = compiled_expression(env, entry["when"]) if "when" in entry else None
    selector = entry.get("each")
    items: Iterable[Any] = [None] if selector is None else _SELECTORS[selector](ir)
    for item in items:
        local = {"item": item}
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


def run_steps(prepared: Prepared, ir: IR, options: Options) -> Files:
    """Run the manifest's steps (files another tool writes, such as Python's models); unformatted."""
    lang = prepared.manifest.lang
    files: Files = {}
    for step in prepared.manifest.steps:
        path = compiled_string(prepared.env, step.output).render().strip()
        step_generate = function_beside(lang, step.module, "generate")
        files[path] = step_generate(ir, prepared.table, prepared.names, options)
    return files


def run_named_steps(lang: str, names: Names, options: Options) -> Files:
    """`run_steps` for a language already named (its names carry their IR): what the generation worker
    runs, taking only picklable arguments."""
    return run_steps(prepare(lang, names.ir, options, names), names.ir, options)


def format_files(prepared: Prepared, files: Files) -> Files:
    manifest = prepared.manifest
    if manifest.formatter is None:
        return files
    formatted: Files = function_beside(manifest.lang, manifest.formatter, "format_files")(files)
    return formatted


def warm_up(langs: list[str]) -> None:
    """Import ahead of time what the background steps of `langs` need (in the generation worker)."""
    for lang in langs:
        manifest = load_manifest(lang)
        for step in manifest.steps:
            warm = getattr(beside(lang, step.module), "warm_up", None) if step.background else None
            if callable(warm):
                warm()


def render(lang: str, ir: IR, options: Options) -> Files:
    """One language, start to finish, in this process: named once, its templates and steps run and the
    result formatted."""
    prepared = prepare(lang, ir, options)
    files = render_templates(prepared, ir)
    files.update(run_steps(prepared, ir, options))
    return format_files(prepared, files)
