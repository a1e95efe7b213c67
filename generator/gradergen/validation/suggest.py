""" "Did you mean …?": the closest known spelling of a mistyped value or name."""

from __future__ import annotations

from collections.abc import Iterable


def _norm(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_").replace(".", "_")


def distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap neighbours) that turn a into b."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def closest(value: object, options: Iterable[str]) -> str | None:
    """The option `value` most likely meant, or None when nothing is close."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    choices = [o for o in options if o != value]
    if not choices:
        return None
    target = _norm(value)
    same = [o for o in choices if _norm(o) == target]
    if same:
        return same[0]
    prefixed = [o for o in choices if len(target) >= 3 and _norm(o).startswith(target)]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(target) < 3:
        return None  # one edit away from a one- or two-letter word is a guess, not a suggestion
    limit = max(1, min(3, len(target) // 3))
    scored = [
        (distance(target, norm), -_common_prefix(target, norm), o)
        for o in choices
        if abs(len(norm := _norm(o)) - len(target)) <= limit  # the length gap is a lower bound
    ]
    best = min(scored, default=None)
    return best[2] if best is not None and best[0] <= limit else None


def did_you_mean(value: object, options: Iterable[str]) -> str:
    match = closest(value, options)
    return f"did you mean {match!r}?" if match else ""
