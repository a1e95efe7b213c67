"""`gradergen serve`: the graders API (`/v1/fine_tuning/alpha/graders/run` and `/validate`) answered by
the local engine and validator, for any client that speaks it.

`gradergen.server:app` is the ASGI app for any ASGI server, configured from the environment
($GRADERGEN_CONFIG, the GRADERGEN_* variables, $GRADERGEN_API_KEY); `create_app(Settings(...))` builds
one with settings of your own. Nothing is imported, and no configuration read, until one is asked for:
the `gradergen` command loads this package for `serve` alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Settings", "app", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from .app import create_app

        built = globals()["app"] = create_app()
        return built
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .service import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
