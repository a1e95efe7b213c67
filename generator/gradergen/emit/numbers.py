"""Numbers of the client policy (durations in milliseconds, sizes in bytes, fractions) as each language
writes them by hand: `10 * time.Minute`, `Duration.ofMinutes(10)`, `600.0`, `32 * 1024 * 1024`.

The policy's values are checked in ir/policy.py (whole milliseconds, finite, in range); these only spell
them, exactly.
"""

from __future__ import annotations

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


FILTERS = {
    "prose_bytes": prose_bytes,
    "seconds_literal": seconds_literal,
    "fraction_literal": fraction_literal,
    "prose_seconds": prose_seconds,
}
"""The filters every language registers; each table adds its own spellings."""
