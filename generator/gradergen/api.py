"""`gradergen api`: the generated Python CLI binding, as bundled in the wheel or installed beside it."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    try:
        from ._client.cli import main as client_main  # the copy the wheel bundles
    except ImportError:
        try:
            from openai_graders.cli import main as client_main  # a checkout: generated/python installed
        except ImportError:
            print(
                "gradergen: error: the API client is not installed; "
                "run `pip install generated/python` in a checkout",
            )
            return 2
    code: int = client_main(argv)
    return code
