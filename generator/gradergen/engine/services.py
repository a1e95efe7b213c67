"""What graders share while they run: metrics, the python sandbox, the model client. Built on first use,
one set per configuration and process (a forked or pickled-to process builds its own)."""

from __future__ import annotations

import os
import threading
from typing import Any

from .config import EngineConfig
from .errors import EngineError
from .metrics import Metric, build_metric


class Services:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metrics: dict[str, Metric] = {}
        self._sandbox: Any = None
        self._models: Any = None

    def metric(self, name: str) -> Metric:
        found = self._metrics.get(name)
        if found is None:
            with self._lock:
                found = self._metrics.get(name)
                if found is None:
                    found = self._metrics[name] = build_metric(name, self.config)
        return found

    def sandbox(self) -> Any:
        if self._sandbox is None:
            with self._lock:
                if self._sandbox is None:
                    self._sandbox = _build("sandbox", self.config)
        return self._sandbox

    def models(self) -> Any:
        if self._models is None:
            with self._lock:
                if self._models is None:
                    self._models = _build("models", self.config)
        return self._models

    def close(self) -> None:
        for part in (self._sandbox, self._models, *self._metrics.values()):
            close = getattr(part, "close", None)
            if close is not None:
                close()
        self._sandbox = self._models = None
        self._metrics = {}


def _build(part: str, config: EngineConfig) -> Any:
    if part == "sandbox":
        try:
            from .sandbox.pool import SandboxPool  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise EngineError("python graders need the sandbox, which this build lacks") from None
        return SandboxPool(config.python)
    try:
        from .modelcalls.backend import ModelBackend  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise EngineError("model graders need the model client, which this build lacks") from None
    return ModelBackend(config.models, config.cache)


_SHARED: dict[tuple[int, str], Services] = {}
_SHARED_LOCK = threading.Lock()


_BY_IDENTITY: dict[int, tuple[int, EngineConfig, Services]] = {}
"""The services of a config object already asked for (the object kept, so its id is not reused): a
server asks for them on every request, and the config's repr costs more than the rest of the call."""


def services_for(config: EngineConfig) -> Services:
    """The services of `config` in this process."""
    known = _BY_IDENTITY.get(id(config))
    if known is not None and known[0] == os.getpid() and known[1] is config:
        return known[2]
    key = (os.getpid(), repr(config))
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is None:
            found = _SHARED[key] = Services(config)
        _BY_IDENTITY[id(config)] = (os.getpid(), config, found)
    return found


def close_all() -> None:
    """End every sandbox and client this process started (at exit, or between tests)."""
    with _SHARED_LOCK:
        for services in _SHARED.values():
            services.close()
        _SHARED.clear()
        _BY_IDENTITY.clear()
