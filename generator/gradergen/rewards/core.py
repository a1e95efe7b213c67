"""One grader as a reward: a batch of completions in, one reward per completion out, in input order.

`Rewarder` holds a compiled grader for its lifetime, and with it the process's warm sandbox pool and
model client (gradergen.engine.services): a trainer that calls it every step never starts a sandbox
twice. Every batch has a deadline; a sample that misses it scores 0 with `unresponsive_reward_error`
and is reported like any other failure. Failures never shift or drop a reward: each batch that had
any is logged on `gradergen.rewards` — how many, which flags, at which positions, what went wrong —
and `RewardBatch` carries the same per sample.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType
from typing import Any

import yaml

from ..engine import CompiledGrader, EngineConfig, EngineError, Outcome, compile_grader
from .loop import run_sync
from .samples import model_sample, plain

log = logging.getLogger("gradergen.rewards")

DEFAULT_DEADLINE = 300.0
"""Seconds a batch may take by default; a trainer sets its own (`deadline=`)."""
CHUNK = 256
"""Samples graded at once, off the event loop, by graders that wait on nothing: the deadline is
checked between chunks."""
LATE_FLAG = "unresponsive_reward_error"
LISTED = 10
"""Positions listed per flag in the log line."""


@dataclass(frozen=True)
class RewardBatch:
    """A batch's rewards, in input order, and what went wrong with each sample."""

    rewards: list[float]
    flags: list[tuple[str, ...]]
    """The error flags each sample set; () for a sample that graded cleanly."""
    details: list[str]
    """What went wrong with each sample ("" when nothing did)."""
    late: list[int]
    """The positions that missed the deadline (flagged unresponsive_reward_error)."""

    @property
    def flagged(self) -> list[int]:
        return [i for i, f in enumerate(self.flags) if f]

    def __len__(self) -> int:
        return len(self.rewards)


class Rewarder:
    """A grader ready to score batches.

    `grader` is a compiled grader, a grader (mapping, bindings model, JSON or YAML text) or the path of
    a grader file; `config` an EngineConfig or the path of a gradergen.toml (default: the usual
    lookup, EngineConfig.load)."""

    def __init__(
        self,
        grader: Any,
        config: EngineConfig | str | Path | None = None,
        *,
        deadline: float | None = DEFAULT_DEADLINE,
    ) -> None:
        self.compiled = as_compiled(grader, config)
        self.deadline = _checked_deadline(deadline)
        self.waits = waits(self.compiled.grader)

    @property
    def name(self) -> str:
        return self.compiled.name or self.compiled.kind

    async def grade(
        self,
        samples: Sequence[Any],
        items: Sequence[Any] | None = None,
        *,
        deadline: float | EllipsisType | None = ...,
        what: str = "samples",
    ) -> RewardBatch:
        """Grade a batch: `samples` are completions (text, chat messages or the sample namespace),
        `items` the dataset rows the templates read (None: no item). `deadline` (seconds; None: none)
        overrides the rewarder's."""
        limit = self.deadline if deadline is ... else _checked_deadline(deadline)
        if items is None:
            items = [None] * len(samples)
        if len(items) != len(samples):
            raise ValueError(f"{len(samples)} {what} but {len(items)} items: one item per sample")
        prepared = [model_sample(s, f"{what}[{i}]") for i, s in enumerate(samples)]
        rows = [plain(item) for item in items]
        loop = asyncio.get_running_loop()
        ends = math.inf if limit is None else loop.time() + limit
        if self.waits:
            outcomes = await self._each(prepared, rows, ends)
        else:
            outcomes = await self._chunks(prepared, rows, ends)
        batch = _batch(outcomes, limit)
        report(self.name, batch, limit)
        return batch

    def grade_sync(
        self,
        samples: Sequence[Any],
        items: Sequence[Any] | None = None,
        *,
        deadline: float | EllipsisType | None = ...,
        what: str = "samples",
    ) -> RewardBatch:
        """`grade` for a caller without an event loop (run on this process's rewards loop)."""
        return run_sync(self.grade(samples, items, deadline=deadline, what=what))

    async def _each(self, samples: list[Any], items: list[Any], ends: float) -> list[Outcome | None]:
        """One task a sample: graders that wait (a sandbox, a model) overlap, and a late one is
        cancelled, which frees its sandbox worker or its model call."""
        tasks = [
            asyncio.ensure_future(self.compiled.aoutcome(s, i)) for s, i in zip(samples, items, strict=True)
        ]
        if not tasks:
            return []
        remaining = ends - asyncio.get_running_loop().time()
        try:
            _, pending = await asyncio.wait(tasks, timeout=None if math.isinf(ends) else max(0.0, remaining))
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        outcomes: list[Outcome | None] = []
        for task in tasks:
            if task in pending or task.cancelled():
                outcomes.append(None)
                continue
            error = task.exception()
            if isinstance(error, EngineError):
                raise error  # the engine cannot run this grader here: no sample could succeed
            outcomes.append(task.result() if error is None else _unexpected(error))
        return outcomes

    async def _chunks(self, samples: list[Any], items: list[Any], ends: float) -> list[Outcome | None]:
        """Graders that wait on nothing: whole chunks at once through grade_many, on a thread."""
        outcomes: list[Outcome | None] = [None] * len(samples)
        loop = asyncio.get_running_loop()
        for start in range(0, len(samples), CHUNK):
            remaining = ends - loop.time()
            if remaining <= 0:
                break
            stop = start + CHUNK
            work = asyncio.to_thread(self._grade_chunk, samples[start:stop], items[start:stop])
            try:
                chunk = await (work if math.isinf(ends) else asyncio.wait_for(work, remaining))
            except TimeoutError:
                break
            outcomes[start : start + len(chunk)] = chunk
        return outcomes

    def _grade_chunk(self, samples: list[Any], items: list[Any]) -> list[Outcome]:
        try:
            results = self.compiled.grade_many(samples, items)
            return [results.outcome(i) for i in range(len(results))]
        except EngineError:
            raise
        except Exception:  # one sample broke the whole chunk: grade each alone, so only it fails
            return [self._grade_one(s, i) for s, i in zip(samples, items, strict=True)]

    def _grade_one(self, sample: Any, item: Any) -> Outcome:
        try:
            return self.compiled.run_explained(sample, item)[1]
        except EngineError:
            raise
        except Exception as exc:
            return _unexpected(exc)


def _unexpected(error: BaseException) -> Outcome:
    outcome = Outcome().fail("other_error")
    outcome.notes.append(f"the engine failed on this sample: {type(error).__name__}: {error}")
    return outcome


def _batch(outcomes: list[Outcome | None], limit: float | None) -> RewardBatch:
    rewards: list[float] = []
    flags: list[tuple[str, ...]] = []
    details: list[str] = []
    late: list[int] = []
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            late.append(index)
            rewards.append(0.0)
            flags.append((LATE_FLAG,))
            details.append(f"missed the batch deadline of {limit:g} s")
            continue
        rewards.append(float(outcome.reward))
        set_flags = tuple(sorted(flag for flag, on in outcome.errors.items() if on))
        flags.append(set_flags)
        details.append(_detail(outcome) if set_flags else "")
    return RewardBatch(rewards, flags, details, late)


def _detail(outcome: Outcome) -> str:
    said = [f"{name}: {text}" for name, text in outcome.details.items()] + list(outcome.notes)
    return "; ".join(said)


def report(name: str, batch: RewardBatch, limit: float | None) -> None:
    """One warning for a batch with failures: the flags, their positions, the first detail of each."""
    flagged = batch.flagged
    if not flagged:
        return
    by_flag: dict[str, list[int]] = {}
    for index in flagged:
        for flag in batch.flags[index]:
            by_flag.setdefault(flag, []).append(index)
    parts = []
    for flag, positions in sorted(by_flag.items()):
        shown = ", ".join(str(p) for p in positions[:LISTED])
        more = f" and {len(positions) - LISTED} more" if len(positions) > LISTED else ""
        parts.append(f"{flag} at {shown}{more} (first: {_brief(batch.details[positions[0]])})")
    log.warning(
        "grader %r: %d of %d samples failed and scored 0: %s",
        name,
        len(flagged),
        len(batch),
        "; ".join(parts),
    )


def _brief(detail: str) -> str:
    """A detail on one line: a traceback's last line (the exception), cut to 200 characters."""
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    if len(lines) > 1:
        head = lines[0].split(":", 1)[0] if ":" in lines[0] else ""
        text = f"{head}: {lines[-1]}" if head and not lines[-1].startswith(head) else lines[-1]
    else:
        text = lines[0] if lines else ""
    return text if len(text) <= 200 else text[:199] + "…"


def waits(grader: Mapping[str, Any]) -> bool:
    """Whether grading this grader waits on something outside the process (a sandbox, a model)."""
    kind = grader.get("type")
    if kind in ("python", "score_model", "label_model"):
        return True
    if kind == "text_similarity":
        return grader.get("evaluation_metric") == "cosine"
    if kind == "multi":
        subs = grader.get("graders") or {}
        return any(waits(sub) for sub in subs.values() if isinstance(sub, Mapping))
    return False


def _checked_deadline(deadline: Any) -> float | None:
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not deadline > 0:
        raise ValueError(f"deadline is a number of seconds above 0 (or None for none), not {deadline!r}")
    return float(deadline)


# ------------------------------------------------------------------------------ graders and configs
def load_config(config: EngineConfig | str | Path | None) -> EngineConfig:
    if isinstance(config, EngineConfig):
        return config
    if config is None:
        return EngineConfig.load()
    if isinstance(config, (str, Path)):
        return EngineConfig.load(config)
    raise TypeError(f"config is an EngineConfig or the path of a gradergen.toml, not {type(config).__name__}")


def load_grader(grader: Any) -> Any:
    """A grader given as the path of a file is read (JSON or YAML); anything else is passed on."""
    path: Path | None = None
    if isinstance(grader, Path):
        path = grader
    elif isinstance(grader, str) and not grader.lstrip().startswith(("{", "[")) and "\n" not in grader:
        if Path(grader).is_file():
            path = Path(grader)
        elif grader.endswith((".json", ".yaml", ".yml")) or os.sep in grader:
            raise EngineError(f"no such grader file: {grader}")
    if path is None:
        return grader
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EngineError(f"cannot read the grader file {path}: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EngineError(f"{path}: not valid JSON or YAML: {exc}") from None


def as_compiled(grader: Any, config: EngineConfig | str | Path | None = None) -> CompiledGrader:
    if isinstance(grader, CompiledGrader):
        return grader
    return compile_grader(load_grader(grader), load_config(config))


_SHARED: dict[tuple[int, str, str, float | None], Rewarder] = {}
_SHARED_LOCK = threading.Lock()


def shared_rewarder(
    grader: Any, config: EngineConfig | str | Path | None = None, deadline: float | None = DEFAULT_DEADLINE
) -> Rewarder:
    """This process's Rewarder of `grader` (compiled once, its sandbox pool kept warm): for trainers
    that call a reward function per sample with the grader's path in their settings."""
    grader_key = str(grader) if isinstance(grader, (str, Path)) else json.dumps(grader, sort_keys=True)
    config_key = repr(config) if isinstance(config, EngineConfig) else str(config)
    key = (os.getpid(), grader_key, config_key, deadline)
    found = _SHARED.get(key)
    if found is None:
        with _SHARED_LOCK:
            found = _SHARED.get(key)
            if found is None:
                found = _SHARED[key] = Rewarder(grader, config, deadline=deadline)
    return found
