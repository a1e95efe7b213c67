"""The generated Python bindings (`openai_graders`), as the wheel bundles them or as a checkout installs
them: the engine's results are their models, so their shape is the spec's by construction."""

from __future__ import annotations

from types import ModuleType


def _models() -> ModuleType:
    try:
        from ._client import models as bundled  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            import openai_graders.models as installed
        except ImportError:
            raise ImportError(
                "the generated Python bindings are not installed: in a checkout, run "
                "`pip install -e generated/python` (make does it)"
            ) from None
        return installed
    return bundled  # type: ignore[no-any-return,unused-ignore]


models = _models()
