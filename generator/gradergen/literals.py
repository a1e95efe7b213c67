"""Escaping for the literal contexts generated code prints spec text into, shared by the languages.

Two rules hold everywhere:
- string literals are printed in ASCII: every other character becomes the language's escape, so no
  invisible or look-alike character reaches source code;
- comments and documentation keep readable text (letters of any script, emoji), but characters that
  are invisible or change how source is displayed — controls, bidirectional overrides and isolates,
  zero-width characters, line and paragraph separators — are shown as `<U+202E>` instead, and every
  kind of line break becomes a newline.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., str])

LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Everything `str.splitlines` breaks at, besides \\n: each one becomes \\n in comments and docs."""

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ASCII_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""The invisible characters of ASCII: its controls, but for the newline and the tab."""
_ASCII_TO_REWRITE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
"""What `visible` changes in ASCII text: its controls (line breaks and tabs among them), but the newline."""


def escaper(func: _F) -> _F:
    """Mark `func` as an escaper: its result is plain text, safe in its context, never spec text."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        return str.__str__(func(*args, **kwargs))

    wrapper.is_escaper = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def is_invisible(ch: str) -> bool:
    """Characters that must not appear raw in source: they are unseen, or reorder what is seen."""
    return ch not in "\n\t" and unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def normalize_breaks(text: str) -> str:
    return LINE_BREAKS.sub("\n", text)


def visible(text: str) -> str:
    """Text for a comment or doc: one kind of line break, tabs as spaces, invisible characters
    shown by their code point."""
    text = str(text)
    if text.isascii() and not _ASCII_TO_REWRITE.search(text):  # most text: printed as it is
        return text
    text = normalize_breaks(text).replace("\t", "    ")
    if text.isascii():
        if not _ASCII_INVISIBLE.search(text):
            return text
    elif not any(is_invisible(ch) for ch in set(text)):
        return text
    return "".join(f"<U+{ord(ch):04X}>" if is_invisible(ch) else ch for ch in text)


def utf16_units(ch: str) -> list[int]:
    data = ch.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def c_string(
    text: str,
    quote: str = '"',
    specials: dict[str, str] | None = None,
    unicode_escape: Callable[[str], str] | None = None,
) -> str:
    """A double- or single-quoted string literal in the C family: backslash escapes for the quote,
    the backslash, newlines, tabs and `specials`; `unicode_escape` for every other character outside
    printable ASCII (\\uXXXX by default)."""
    text = str(text)
    if _PLAIN_IN_QUOTES[quote].fullmatch(text) and not (specials and any(k in text for k in specials)):
        return quote + text + quote
    table = {quote: "\\" + quote, "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", **(specials or {})}
    escape = unicode_escape or _u4
    out = [quote]
    for ch in text:
        if ch in table:
            out.append(table[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(escape(ch))
    out.append(quote)
    return "".join(out)


_PLAIN_IN_QUOTES = {q: re.compile(f"[^{q}\\\\\\x00-\\x1f\\x7f-\\U0010ffff]*") for q in ('"', "'")}
"""Text that needs no escape inside the quote: printable ASCII other than the quote and backslash."""


def _u4(ch: str) -> str:
    return "".join(f"\\u{unit:04x}" for unit in utf16_units(ch))


def u4_or_u8(ch: str) -> str:
    """\\uXXXX for the basic plane, \\UXXXXXXXX beyond it (Python, Go)."""
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def comment_lines(text: str, prefix: str) -> str:
    """`text` as line comments: every line (after `visible`) starts with `prefix`, so no line break in
    the text can end the comment."""
    lines = visible(text).split("\n")
    return "\n".join((prefix + line).rstrip() for line in lines)


@escaper
def xml_text(text: str) -> str:
    """Character data for XML 1.0 text or attribute values: markup characters as entities, characters
    XML forbids (most controls) and invisible ones as visible code points."""
    out = []
    for ch in normalize_breaks(str(text)):
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == '"':
            out.append("&quot;")
        elif ch == "\n":
            out.append(" ")
        elif is_invisible(ch) or ch in "\ufffe\uffff":
            out.append(f"&lt;U+{ord(ch):04X}&gt;")
        else:
            out.append(ch)
    return "".join(out)


@escaper
def toml_string(text: str) -> str:
    """A TOML basic string (one line), ASCII only."""
    return c_string(text, '"', unicode_escape=_toml_escape)


def _toml_escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


@escaper
def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar on one line, ASCII only."""
    return c_string(text, '"', unicode_escape=_toml_escape)


@escaper
def json_string(text: str) -> str:
    """A JSON string, ASCII only."""
    return c_string(text, '"', specials={"/": "/"})


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>#|!&~])")


@escaper
def markdown_inline(text: str) -> str:
    """Text on one line of a Markdown document (a heading, a list item): no HTML, no formatting, no
    line break."""
    one_line = " ".join(visible(text).split())
    return _MARKDOWN_SPECIALS.sub(r"\\\1", one_line)


@escaper
def markdown_code(text: str) -> str:
    """An inline code span of Markdown, backticks included: fenced by more backticks than the text
    holds in a row, on one line."""
    one_line = " ".join(visible(text).split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", one_line)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{padding}{one_line}{padding}{fence}"


# --------------------------------------------------------------------------- numbers of the client policy
# Durations in milliseconds, sizes in bytes and fractions as each language writes them by hand
# (`10 * time.Minute`, `Duration.ofMinutes(10)`, `600.0`, `32 * 1024 * 1024`). The values are checked in
# ir/policy.py (whole milliseconds, finite, in range); these only spell them, exactly.
_UNITS = (("hours", 3_600_000), ("minutes", 60_000), ("seconds", 1000), ("millis", 1))


def _largest_unit(ms: int) -> tuple[int, str]:
    """`ms` as a whole count of the largest unit that divides it."""
    for unit, size in _UNITS:
        if ms and ms % size == 0:
            return ms // size, unit
    return ms, "millis"


def seconds_literal(ms: int) -> str:
    """Seconds as a float literal (Python, Ruby): 600.0, 0.5."""
    return repr(int(ms) / 1000)


def fraction_literal(value: float) -> str:
    """A fraction as a float literal in every language here: 0.25."""
    return repr(float(value))


def go_duration(ms: int) -> str:
    count, unit = _largest_unit(int(ms))
    name = {
        "hours": "time.Hour",
        "minutes": "time.Minute",
        "seconds": "time.Second",
        "millis": "time.Millisecond",
    }
    return name[unit] if count == 1 else f"{count} * {name[unit]}"


def java_duration(ms: int) -> str:
    count, unit = _largest_unit(int(ms))
    method = {"hours": "ofHours", "minutes": "ofMinutes", "seconds": "ofSeconds", "millis": "ofMillis"}
    return f"Duration.{method[unit]}({count})"


def _binary_parts(n: int) -> tuple[int, int]:
    """`n` as count * 1024**power, the largest power (up to MiB) that divides it."""
    for power in (2, 1):
        if n % 1024**power == 0:
            return n // 1024**power, power
    return n, 0


def bytes_literal(n: int, long_suffix: str = "") -> str:
    """A size as `32 * 1024 * 1024` (Python, Ruby; Java with `long_suffix` "L")."""
    count, power = _binary_parts(int(n))
    return " * ".join([f"{count}{long_suffix}", *(["1024"] * power)])


def go_bytes(n: int) -> str:
    """A size as Go writes it: 32 << 20."""
    count, power = _binary_parts(int(n))
    return f"{count} << {10 * power}" if power else str(count)


def prose_seconds(ms: int) -> str:
    """A duration for documentation: 600 s, 0.5 s, 60 s."""
    seconds = int(ms) / 1000
    return f"{seconds:g} s"


def prose_bytes(n: int) -> str:
    """A size for documentation: 32 MiB, 512 KiB, 1000 bytes."""
    count, power = _binary_parts(int(n))
    return f"{count} {('bytes', 'KiB', 'MiB')[power]}"


NUMBER_FILTERS = {
    "prose_bytes": prose_bytes,
    "seconds_literal": seconds_literal,
    "fraction_literal": fraction_literal,
    "prose_seconds": prose_seconds,
}
"""The filters every language registers; each table adds its own spellings."""
