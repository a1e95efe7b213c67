"""Wrapping comment text: textwrap, without its cost for the many lines that already fit."""

from __future__ import annotations

import re
import textwrap
from typing import Any

_OTHER_WHITESPACE = re.compile(r"[\t\n\v\f\r]")


def wrap(line: str, width: int, **options: Any) -> list[str]:
    """`textwrap.wrap(line, width, **options)`; a line that fits and that textwrap would leave as it
    is (no surrounding or special whitespace, no first-line indent) is returned at once."""
    if (
        0 < len(line) <= width
        and not options.get("initial_indent")
        and line[0] != " "
        and line[-1] != " "
        and not _OTHER_WHITESPACE.search(line)
    ):
        return [line]
    return textwrap.wrap(line, width, **options)
