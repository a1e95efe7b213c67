"""The languages gradergen generates, discovered from `templates/<lang>/manifest.yaml`.

A language is its templates folder and its naming table (`naming/<name>.py`). The manifest declares the
rest: the Python modules beside the templates that print code fragments (`printer`), format the output
(`formatter`) or produce files another tool writes (`steps`), and the namespace options that become the
`--<lang>-<name>` flags of `gradergen generate`. Nothing outside the folder names a language.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from .errors import GradergenError
from .resources import data_root, templates_dir

MANIFEST = "manifest.yaml"
_KEYS = frozenset({"naming", "printer", "formatter", "options", "steps", "files"})
_OPTION_KEYS = frozenset({"name", "default", "pattern", "example", "help"})
_STEP_KEYS = frozenset({"module", "output", "background"})
_OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class OptionSpec:
    """One namespace option: `options.<lang>_<name>` in templates, `--<lang>-<name>` on the command line."""

    lang: str
    name: str
    default: str
    pattern: re.Pattern[str]
    example: str
    help: str

    @property
    def key(self) -> str:
        return f"{self.lang}_{self.name}"

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


@dataclass(frozen=True)
class StepSpec:
    """A file written by a module beside the templates rather than by a template."""

    module: str
    output: str
    background: bool
    """Slow enough (to import, mostly) to be worth the forked worker process."""


@dataclass
class Manifest:
    lang: str
    naming: str
    files: list[dict[str, Any]]
    printer: str | None = None
    formatter: str | None = None
    options: list[OptionSpec] = field(default_factory=list)
    steps: list[StepSpec] = field(default_factory=list)

    @property
    def in_background(self) -> bool:
        return any(step.background for step in self.steps)


def languages() -> list[str]:
    root = data_root() / "templates"
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


_manifests: dict[Path, Manifest] = {}


def load_manifest(lang: str) -> Manifest:
    path = templates_dir(lang) / MANIFEST
    if path not in _manifests:
        _manifests[path] = _read_manifest(lang, path)
    return _manifests[path]


def _read_manifest(lang: str, path: Path) -> Manifest:
    where = f"templates/{lang}/{MANIFEST}"
    try:
        raw = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except FileNotFoundError:
        raise GradergenError(f"no templates for language {lang!r} ({path} is missing)") from None
    except yaml.YAMLError as exc:
        raise GradergenError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise GradergenError(f"{where}: expected a mapping of {', '.join(sorted(_KEYS))}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise GradergenError(
            f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(_KEYS))}"
        )
    return Manifest(
        lang=lang,
        naming=_text(raw, "naming", where, default=lang),
        files=_entries(raw, "files", where),
        printer=_module_name(raw, "printer", where),
        formatter=_module_name(raw, "formatter", where),
        options=[
            _option(lang, entry, f"{where}: options[{i}]")
            for i, entry in enumerate(_entries(raw, "options", where))
        ],
        steps=[_step(entry, f"{where}: steps[{i}]") for i, entry in enumerate(_entries(raw, "steps", where))],
    )


def _text(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise GradergenError(f"{where}: {key!r} must be a non-empty string")
    return value


def _entries(raw: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise GradergenError(f"{where}: {key!r} must be a list of mappings")
    return value


def _module_name(raw: dict[str, Any], key: str, where: str) -> str | None:
    if raw.get(key) is None:
        return None
    name = _text(raw, key, where)
    if "/" in name or not name.endswith(".py"):
        raise GradergenError(f"{where}: {key!r} must name a .py file beside the templates, not {name!r}")
    return name


def _option(lang: str, raw: dict[str, Any], where: str) -> OptionSpec:
    unknown = sorted(set(raw) - _OPTION_KEYS)
    if unknown:
        raise GradergenError(f"{where}: unknown key {unknown[0]!r}")
    name = _text(raw, "name", where)
    if not _OPTION_NAME.match(name):
        raise GradergenError(f"{where}: option name {name!r} must be lower_snake_case")
    try:
        pattern = re.compile(_text(raw, "pattern", where))
    except re.error as exc:
        raise GradergenError(f"{where}: 'pattern' is not a regular expression: {exc}") from None
    default = _text(raw, "default", where)
    if not pattern.fullmatch(default):
        raise GradergenError(f"{where}: the default {default!r} does not match its own pattern")
    return OptionSpec(
        lang=lang,
        name=name,
        default=default,
        pattern=pattern,
        example=_text(raw, "example", where),
        help=_text(raw, "help", where),
    )


def _step(raw: dict[str, Any], where: str) -> StepSpec:
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise GradergenError(f"{where}: unknown key {unknown[0]!r}")
    background = raw.get("background", False)
    if not isinstance(background, bool):
        raise GradergenError(f"{where}: 'background' must be true or false")
    module = _module_name(raw, "module", where)
    assert module is not None
    return StepSpec(module=module, output=_text(raw, "output", where), background=background)


def declared_options() -> dict[str, OptionSpec]:
    """Every discovered language's namespace options, by `<lang>_<name>`."""
    return {spec.key: spec for lang in languages() for spec in load_manifest(lang).options}


def beside(lang: str, filename: str) -> ModuleType:
    """The Python module `templates/<lang>/<filename>`, loaded once. It is registered under a name of its
    own so that functions defined in it can be sent to the generation worker."""
    path = templates_dir(lang) / filename
    name = f"gradergen._languages.{lang}.{filename.removesuffix('.py')}"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise GradergenError(f"templates/{lang}/{filename}: declared in its manifest but missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def function_beside(lang: str, filename: str, function: str) -> Any:
    module = beside(lang, filename)
    found = getattr(module, function, None)
    if not callable(found):
        raise GradergenError(f"templates/{lang}/{filename}: has no function {function}()")
    return found
