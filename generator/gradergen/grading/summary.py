"""What a grading run came to: the rewards' distribution, the flags, sub-graders, tokens, the worst and
slowest rows — and, for two graders, where they disagree.

`Summary` is fed one result row at a time (while grading, and from the rows an earlier part of the
run wrote), so a continued run summarises exactly as an uninterrupted one. Memory stays flat: the
rewards are kept as counts of each distinct value (rewards are mostly a few values: 0 and 1, a
score_model's steps), and only past 65,536 distinct values as the values themselves, 8 bytes each,
so that the quantiles are exact. Quantiles interpolate linearly between order statistics (the
median of 0 and 1 is 0.5), as numpy and `statistics.median` do.
"""

from __future__ import annotations

import heapq
import json
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.outcome import FLAGS
from .readers import InputFileError

DISTINCT_LIMIT = 1 << 16
WORST = 20
SLOWEST = 5
EXAMPLES = 5
_FLAGS = frozenset(FLAGS)


class Distribution:
    """Exact order statistics of a stream of numbers, in memory that stays flat while the values are
    few distinct ones."""

    __slots__ = ("_counts", "_values", "count", "not_numbers", "total")

    def __init__(self) -> None:
        self._counts: dict[float, int] | None = {}
        self._values: array[float] | None = None
        self.count = 0
        self.total = 0.0
        self.not_numbers = 0

    def add(self, value: float, times: int = 1) -> None:
        if value != value:  # NaN: counted apart, never in the order statistics
            self.not_numbers += times
            return
        self.count += times
        self.total += value * times
        counts = self._counts
        if counts is not None:
            counts[value] = counts.get(value, 0) + times
            if len(counts) > DISTINCT_LIMIT:
                self._values = array("d")
                for v, n in counts.items():
                    self._values.extend([v] * n)
                self._counts = None
        else:
            assert self._values is not None
            self._values.extend([value] * times)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def _sorted_counts(self) -> list[tuple[float, int]]:
        if self._counts is not None:
            return sorted(self._counts.items())
        import numpy

        values, counts = numpy.unique(
            numpy.frombuffer(self._values or array("d"), dtype=float), return_counts=True
        )
        return list(zip(values.tolist(), counts.tolist(), strict=True))

    def quantiles(self, *ps: float) -> list[float | None]:
        """The values at fractions `ps` of the way through the sorted values (0.5: the median)."""
        if not self.count:
            return [None for _ in ps]
        if self._values is not None:
            import numpy

            found = numpy.quantile(numpy.frombuffer(self._values, dtype=float), list(ps))
            return [float(v) for v in found]
        table = self._sorted_counts()
        return [self._at(table, p) for p in ps]

    def _at(self, table: list[tuple[float, int]], p: float) -> float:
        rank = (self.count - 1) * p
        low = math.floor(rank)
        fraction = rank - low
        below = _value_at(table, low)
        if fraction == 0:
            return below
        above = _value_at(table, low + 1)
        return below + (above - below) * fraction

    @property
    def low(self) -> float | None:
        table = self._sorted_counts()
        return table[0][0] if table else None

    @property
    def high(self) -> float | None:
        table = self._sorted_counts()
        return table[-1][0] if table else None

    def histogram(self, bins: int = 10) -> tuple[list[float], list[int]]:
        """Counts in `bins` equal bins: over [0, 1] when every value is in it, else over [lowest,
        highest]; the edges (bins + 1 of them) and the counts. The last bin includes its top edge."""
        table = self._sorted_counts()
        if not table:
            return [0.0, 1.0], [0]
        low, high = table[0][0], table[-1][0]
        if 0.0 <= low and high <= 1.0:
            low, high = 0.0, 1.0
        if high == low:
            return [low, high], [self.count]
        width = (high - low) / bins
        edges = [low + width * i for i in range(bins)] + [high]
        counts = [0] * bins
        for value, n in table:
            counts[min(bins - 1, int((value - low) / width))] += n
        return edges, counts


def _value_at(table: list[tuple[float, int]], rank: int) -> float:
    seen = 0
    for value, n in table:
        seen += n
        if rank < seen:
            return value
    return table[-1][0]


@dataclass(order=True)
class Ranked:
    """A row kept for a list (the worst, the slowest, the biggest disagreements)."""

    key: tuple[float, int]
    index: int = field(compare=False)
    id: Any = field(compare=False)
    reward: float | None = field(compare=False)
    flags: list[str] = field(compare=False, default_factory=list)
    extra: dict[str, Any] = field(compare=False, default_factory=dict)


class _Keep:
    """The `size` rows with the smallest keys (ties: the earlier row)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._heap: list[tuple[float, int, Ranked]] = []

    def would_keep(self, key: float, index: int) -> bool:
        heap = self._heap
        return len(heap) < self.size or (key, index) < (-heap[0][0], -heap[0][1])

    def add(self, entry: Ranked) -> None:
        key, index = entry.key
        item = (-key, -index, entry)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, item)
        elif (key, index) < (-self._heap[0][0], -self._heap[0][1]):
            heapq.heapreplace(self._heap, item)

    def sorted(self) -> list[Ranked]:
        return sorted(entry for _, _, entry in self._heap)


class Summary:
    """The summary of one grader's results; `add(row)` for each result row, in any order."""

    def __init__(self, worst: int = WORST, slowest: int = SLOWEST) -> None:
        self.rows = 0
        self.unreadable = 0
        self.unreadable_examples: list[str] = []
        self.rewards = Distribution()
        self.flags: Counter[str] = Counter()
        self.flagged_rows = 0
        self.sub_rewards: dict[str, Distribution] = {}
        self.tokens: dict[str, dict[str, int]] = {}
        self.worst = _Keep(worst)
        self.slowest = _Keep(slowest)

    @property
    def graded(self) -> int:
        return self.rows - self.unreadable

    def add_unreadable(self, index: int, error: str) -> None:
        self.rows += 1
        self.unreadable += 1
        if len(self.unreadable_examples) < EXAMPLES:
            self.unreadable_examples.append(error)

    def add_plain(self, index: int, row_id: Any, reward: float, seconds: float | None = None) -> None:
        """A row whose response set no flag, usage or sub-reward."""
        self.rows += 1
        self.rewards.add(reward)
        if self.worst.would_keep(reward, index):
            self.worst.add(Ranked((reward, index), index, row_id, reward))
        if seconds is not None and self.slowest.would_keep(-seconds, index):
            self.slowest.add(Ranked((-seconds, index), index, row_id, reward, extra={"seconds": seconds}))

    def add_response(
        self, index: int, row_id: Any, response: Mapping[str, Any], seconds: float | None = None
    ) -> None:
        """A row's response, as a result row holds it."""
        self.rows += 1
        reward = float(response.get("reward") or 0.0)
        self.rewards.add(reward)
        metadata = response.get("metadata") or {}
        errors = metadata.get("errors") or {}
        flags = [k for k, v in errors.items() if v is True and k in _FLAGS]
        if flags:
            self.flagged_rows += 1
            self.flags.update(flags)
        for key, value in (response.get("sub_rewards") or {}).items():
            if isinstance(value, (int, float)):
                self.sub_rewards.setdefault(key, Distribution()).add(float(value))
        for model, usage in (response.get("model_grader_token_usage_per_model") or {}).items():
            total = self.tokens.setdefault(model, {})
            for name, count in (usage or {}).items():
                if isinstance(count, int):
                    total[name] = total.get(name, 0) + count
        if self.worst.would_keep(reward, index):
            self.worst.add(Ranked((reward, index), index, row_id, reward, flags))
        if seconds is not None and self.slowest.would_keep(-seconds, index):
            self.slowest.add(Ranked((-seconds, index), index, row_id, reward, flags, {"seconds": seconds}))

    def add_row(self, row: Mapping[str, Any], seconds: float | None = None) -> None:
        """A result row as written (see results.py)."""
        index = int(row.get("index", self.rows))
        if row.get("response") is None:
            self.add_unreadable(index, str(row.get("error") or "not graded"))
        else:
            self.add_response(index, row.get("id"), row["response"], seconds)

    @property
    def total_tokens(self) -> int:
        return sum(usage.get("total_tokens", 0) for usage in self.tokens.values())

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON data."""
        mean = self.rewards.mean
        median, p10, p90 = self.rewards.quantiles(0.5, 0.1, 0.9)
        edges, counts = self.rewards.histogram()
        return {
            "rows": self.rows,
            "graded": self.graded,
            "unreadable": self.unreadable,
            "unreadable_examples": list(self.unreadable_examples),
            "reward": {
                "mean": mean,
                "median": median,
                "p10": p10,
                "p90": p90,
                "min": self.rewards.low,
                "max": self.rewards.high,
                "histogram": {"edges": edges, "counts": counts},
            },
            "flagged_rows": self.flagged_rows,
            "flags": dict(sorted(self.flags.items(), key=lambda kv: (-kv[1], kv[0]))),
            "sub_rewards": {
                key: {"mean": d.mean, "histogram": dict(zip(("edges", "counts"), d.histogram(), strict=True))}
                for key, d in self.sub_rewards.items()
            },
            "tokens": {m: dict(u) for m, u in sorted(self.tokens.items())},
            "worst": [_entry(r) for r in self.worst.sorted()],
            "slowest": [_entry(r) for r in self.slowest.sorted()],
        }


def _entry(ranked: Ranked) -> dict[str, Any]:
    return {
        "index": ranked.index,
        "id": ranked.id,
        "reward": ranked.reward,
        "flags": ranked.flags,
        **ranked.extra,
    }


class Comparison:
    """Two graders on the same rows: each one's summary, and how their rewards differ."""

    def __init__(self, disagreements: int = WORST) -> None:
        self.old = Summary()
        self.new = Summary()
        self.pairs = 0
        self.equal = 0
        self.sums = [0.0] * 5  # x, y, xx, yy, xy
        self.differences = Distribution()
        self.absolute_total = 0.0
        self.joint: Counter[tuple[float, float]] = Counter()
        self.joint_complete = True
        self.biggest = _Keep(disagreements)

    def add_row(self, row: Mapping[str, Any]) -> None:
        old, new = row.get("old"), row.get("new")
        index = int(row.get("index", self.old.rows))
        if old is None or new is None:
            error = str(row.get("error") or "not graded")
            self.old.add_unreadable(index, error)
            self.new.add_unreadable(index, error)
            return
        self.old.add_response(index, row.get("id"), old["response"])
        self.new.add_response(index, row.get("id"), new["response"])
        x, y = float(old["reward"]), float(new["reward"])
        self.pairs += 1
        if x == y:
            self.equal += 1
        s = self.sums
        s[0] += x
        s[1] += y
        s[2] += x * x
        s[3] += y * y
        s[4] += x * y
        self.differences.add(y - x)
        if self.joint_complete:
            self.joint[(x, y)] += 1
            if len(self.joint) > DISTINCT_LIMIT:
                self.joint.clear()
                self.joint_complete = False
        gap = abs(y - x)
        self.absolute_total += gap
        if gap > 0 and self.biggest.would_keep(-gap, index):
            self.biggest.add(Ranked((-gap, index), index, row.get("id"), y, extra={"old": x, "new": y}))

    @property
    def correlation(self) -> float | None:
        n = self.pairs
        if n < 2:
            return None
        sx, sy, sxx, syy, sxy = self.sums
        vx, vy = sxx - sx * sx / n, syy - sy * sy / n
        if vx <= 0 or vy <= 0:
            return None
        return (sxy - sx * sy / n) / math.sqrt(vx * vy)

    def as_dict(self) -> dict[str, Any]:
        mean_difference = self.differences.mean
        absolute = self.absolute_total / self.pairs if self.pairs else None
        return {
            "old": self.old.as_dict(),
            "new": self.new.as_dict(),
            "pairs": self.pairs,
            "equal": self.equal,
            "mean_difference": mean_difference,
            "mean_absolute_difference": absolute,
            "correlation": self.correlation,
            "joint": [[x, y, n] for (x, y), n in sorted(self.joint.items())] if self.joint_complete else None,
            "disagreements": [_entry(r) for r in self.biggest.sorted()],
        }


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a results file, each checked to be a JSON object."""
    try:
        file = path.open("rb")
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    with file:
        for number, line in enumerate(file, 1):
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InputFileError(f"{path}:{number}: not a result row: {exc}") from None
            if not isinstance(row, dict):
                raise InputFileError(f"{path}:{number}: not a result row (a JSON object)")
            yield row


def summarise(rows: Iterable[Mapping[str, Any]] | Path | str) -> Summary | Comparison:
    """The summary of result rows (or of a results file): a `Comparison` when the rows hold two
    graders' results, else a `Summary`."""
    source: Iterable[Mapping[str, Any]] = read_results(Path(rows)) if isinstance(rows, (str, Path)) else rows
    found: Summary | Comparison | None = None
    for row in source:
        if found is None:
            found = Comparison() if "old" in row else Summary()
        found.add_row(row)
    return found if found is not None else Summary()
