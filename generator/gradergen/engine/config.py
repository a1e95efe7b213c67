"""The engine's settings: where model graders' models and embeddings are served, the python sandbox's
limits, the cache. From a TOML file (`gradergen.toml` in the working directory, `GRADERGEN_CONFIG`, or
`--config`), then the environment (`GRADERGEN_*`), then flags — each later one wins.

    [models]                      # score_model and label_model
    base_url = "http://127.0.0.1:8080/v1"   # any OpenAI-compatible server; default $OPENAI_BASE_URL
    api_key_env = "LOCAL_API_KEY" # the variable that holds its key; default OPENAI_API_KEY
    timeout = 120                 # seconds per attempt
    max_retries = 3               # on 429, 5XX, timeouts and connection errors
    concurrency = 8               # model calls in flight at once
    [models.map]                  # retired models, answered by another
    "gpt-4o-2024-08-06" = "my-local-model"

    [embeddings]                  # text_similarity's cosine
    base_url = "http://127.0.0.1:8081/v1"
    model = "text-embedding-3-large"

    [python]                      # python graders
    timeout = 120                 # seconds per sample
    memory_mb = 2048
    disk_mb = 1024
    processes = 64
    workers = 2                   # warm sandboxed interpreters; default: one per CPU
    require_isolation = "namespaces"   # refuse to run below this level
    image = "2025-05-08"          # the package set graders run with, when the grader names none

    [cache]                       # model answers, so that grading again costs nothing
    enabled = true
    path = "~/.cache/gradergen/models.sqlite"

    [server]                      # `gradergen serve`
    max_body_mb = 16              # a larger request body is refused (413)
    python_queue = 64             # python graders waiting beyond those running; more get 429
    model_queue = 64              # model graders waiting beyond [models] concurrency; more get 429
    deadline_slack = 10           # seconds a request may take beyond the python (or model) time limit
    retry_after = 1               # seconds a 429 asks the client to wait
    cache_mb = 64                 # compiled graders kept, by the size of their JSON
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import EngineError

ISOLATION_LEVELS = ("none", "rlimits", "namespaces", "namespaces+cgroups", "namespaces+cgroups+seccomp")
"""From weakest to strongest; what each means is in the README (python graders)."""
DEFAULT_IMAGE = "2025-05-08"
CONFIG_FILE = "gradergen.toml"


@dataclass(frozen=True)
class Models:
    base_url: str | None = None
    """An OpenAI-compatible API; None: $OPENAI_BASE_URL, else OpenAI's."""
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 120.0
    max_retries: int = 3
    concurrency: int = 8
    map: Mapping[str, str] = field(default_factory=dict)
    """A grader's model name → the name the backend serves it under."""

    def model_for(self, name: str) -> str:
        return self.map.get(name, name)


@dataclass(frozen=True)
class Embeddings:
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    model: str = "text-embedding-3-large"
    timeout: float = 60.0
    max_retries: int = 3


@dataclass(frozen=True)
class Python:
    timeout: float = 120.0
    memory_mb: int = 2048
    disk_mb: int = 1024
    processes: int = 64
    cpus: int = 2
    workers: int | None = None
    require_isolation: str | None = None
    image: str = DEFAULT_IMAGE
    source_limit_kb: int = 256


@dataclass(frozen=True)
class Cache:
    enabled: bool = True
    path: str = "~/.cache/gradergen/models.sqlite"

    @property
    def file(self) -> Path:
        return Path(os.path.expanduser(self.path))


@dataclass(frozen=True)
class Server:
    max_body_mb: int = 16
    python_queue: int = 64
    model_queue: int = 64
    deadline_slack: float = 10.0
    retry_after: int = 1
    cache_mb: int = 64


@dataclass(frozen=True)
class EngineConfig:
    models: Models = field(default_factory=Models)
    embeddings: Embeddings = field(default_factory=Embeddings)
    python: Python = field(default_factory=Python)
    cache: Cache = field(default_factory=Cache)
    server: Server = field(default_factory=Server)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> EngineConfig:
        """The file (`path`, else $GRADERGEN_CONFIG, else ./gradergen.toml if there is one), then the
        environment, then `overrides` ({"python": {"timeout": 5}})."""
        environ = os.environ if environ is None else environ
        config = cls()
        file = Path(path) if path is not None else _default_file(environ)
        if file is not None:
            config = config.merged(_read_toml(file), str(file))
        config = config.merged(_from_environment(environ), "the environment")
        if overrides:
            config = config.merged({k: dict(v) for k, v in overrides.items()}, "the command line")
        return config

    def merged(self, data: Mapping[str, Any], source: str) -> EngineConfig:
        """This configuration with the sections in `data` applied; unknown or mistyped settings are an
        error naming the setting and where it came from."""
        sections = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, values in data.items():
            if name not in sections:
                raise EngineError(f"{source}: unknown section [{name}] (sections: {', '.join(sections)})")
            if not isinstance(values, Mapping):
                raise EngineError(f"{source}: [{name}] must be a table of settings")
            sections[name] = _apply(sections[name], values, f"{source}: [{name}]")
        return replace(self, **sections)


def _default_file(environ: Mapping[str, str]) -> Path | None:
    if environ.get("GRADERGEN_CONFIG"):
        return Path(environ["GRADERGEN_CONFIG"])
    local = Path(CONFIG_FILE)
    return local if local.is_file() else None


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EngineError(f"{file}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EngineError(f"{file}: cannot read it: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EngineError(f"{file}: not valid TOML: {exc}") from None


_TYPES: dict[str, type | tuple[type, ...]] = {
    "base_url": str,
    "api_key_env": str,
    "timeout": (int, float),
    "max_retries": int,
    "concurrency": int,
    "map": Mapping,
    "model": str,
    "memory_mb": int,
    "disk_mb": int,
    "processes": int,
    "cpus": int,
    "workers": int,
    "require_isolation": str,
    "image": str,
    "source_limit_kb": int,
    "enabled": bool,
    "path": str,
    "max_body_mb": int,
    "python_queue": int,
    "model_queue": int,
    "deadline_slack": (int, float),
    "retry_after": int,
    "cache_mb": int,
}


def _apply(section: Any, values: Mapping[str, Any], where: str) -> Any:
    known = {f.name for f in fields(section)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise EngineError(f"{where}: unknown setting {key!r} (settings: {', '.join(sorted(known))})")
        expected = _TYPES[key]
        if not _has_type(value, expected):
            raise EngineError(f"{where}: {key} must be {_describe(expected)}, found {value!r}")
        if key in ("timeout",) and not value > 0:
            raise EngineError(f"{where}: timeout must be more than 0 seconds, found {value!r}")
        if key in ("max_retries",) and value < 0:
            raise EngineError(f"{where}: max_retries must be 0 or more, found {value!r}")
        if key in (
            "concurrency", "memory_mb", "disk_mb", "processes", "cpus", "workers", "source_limit_kb",
            "max_body_mb", "retry_after",
        ):  # fmt: skip
            if value < 1:
                raise EngineError(f"{where}: {key} must be at least 1, found {value!r}")
        if key in ("python_queue", "model_queue", "cache_mb", "deadline_slack") and value < 0:
            raise EngineError(f"{where}: {key} must be 0 or more, found {value!r}")
        if key == "require_isolation" and value not in ISOLATION_LEVELS:
            raise EngineError(f"{where}: require_isolation must be one of {', '.join(ISOLATION_LEVELS)}")
        if key == "map":
            bad = [k for k, v in value.items() if not isinstance(v, str)]
            if bad:
                raise EngineError(f"{where}: map: the model {bad[0]!r} must map to a model name")
            value = dict(value)
        changes[key] = float(value) if key in ("timeout", "deadline_slack") else value
    return replace(section, **changes)


def _has_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and expected is not bool:
        return False
    return isinstance(value, expected)


def _describe(expected: type | tuple[type, ...]) -> str:
    if expected == (int, float):
        return "a number"
    names: dict[Any, str] = {str: "text", int: "a whole number", bool: "true or false", Mapping: "a table"}
    return names.get(expected, str(expected))


_ENVIRONMENT = {
    "GRADERGEN_MODEL_BASE_URL": ("models", "base_url", str),
    "GRADERGEN_MODEL_API_KEY_ENV": ("models", "api_key_env", str),
    "GRADERGEN_MODEL_TIMEOUT": ("models", "timeout", float),
    "GRADERGEN_MODEL_CONCURRENCY": ("models", "concurrency", int),
    "GRADERGEN_EMBEDDINGS_BASE_URL": ("embeddings", "base_url", str),
    "GRADERGEN_EMBEDDINGS_MODEL": ("embeddings", "model", str),
    "GRADERGEN_PYTHON_TIMEOUT": ("python", "timeout", float),
    "GRADERGEN_PYTHON_WORKERS": ("python", "workers", int),
    "GRADERGEN_REQUIRE_ISOLATION": ("python", "require_isolation", str),
    "GRADERGEN_CACHE_PATH": ("cache", "path", str),
}


def _from_environment(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for variable, (section, key, kind) in _ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            value = kind(raw)
        except ValueError:
            raise EngineError(f"${variable}: expected {kind.__name__}, found {raw!r}") from None
        out.setdefault(section, {})[key] = value
    if environ.get("GRADERGEN_CACHE", "").lower() in ("0", "off", "false", "no"):
        out.setdefault("cache", {})["enabled"] = False
    return out
