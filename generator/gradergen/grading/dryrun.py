"""`gradergen grade --dry-run`: what a run would cost, calling nothing.

Every row is read and every model grader's messages are rendered for it, exactly as a run would;
nothing is sent. For each model call it counts whether the reply cache already holds the answer
(a run would not call for those) and the prompt's tokens: the text of every message counted by the
model's tokenizer (o200k_base for the gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and o-series models and any
model it does not know; cl100k_base for gpt-4 and gpt-3.5), plus 3 tokens a message and 3 for the
reply, as OpenAI counts chat prompts. Not counted: images and audio (listed apart) and the
structured-output schema the engine sends with each call. Python graders' calls are counted too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.compiled import CompiledGrader
from ..engine.config import EngineConfig
from ..engine.errors import EngineError
from ..engine.graders.base import scope_of
from ..engine.outcome import Outcome
from ..engine.sample import Sample
from .rows import Row
from .terminal import count

TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3
CL100K_PREFIXES = ("gpt-4-", "gpt-4", "gpt-3.5", "gpt-35")
O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")


def encoding_name(model: str) -> str:
    """The tokenizer a model's prompt is counted with."""
    name = model.lower()
    if name.startswith(O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


class TokenCounter:
    def __init__(self) -> None:
        try:
            import bpe_openai
        except ImportError:
            raise EngineError(
                "--dry-run counts tokens with bpe-openai: pip install 'gradergen[grade]'"
            ) from None
        self._module = bpe_openai
        self._encodings: dict[str, Any] = {}

    def text(self, text: str, model: str) -> int:
        name = encoding_name(model)
        encoding = self._encodings.get(name)
        if encoding is None:
            encoding = self._encodings[name] = self._module.get_encoding(name)
        return len(encoding.encode_ordinary(text))

    def prompt(self, messages: Iterable[Mapping[str, Any]], model: str) -> tuple[int, int]:
        """The prompt's tokens, and how many images and audio parts it holds (not in the count)."""
        tokens = TOKENS_PER_REPLY
        media = 0
        for message in messages:
            tokens += TOKENS_PER_MESSAGE + self.text(str(message.get("role", "")), model)
            content = message.get("content")
            if isinstance(content, str):
                tokens += self.text(content, model)
                continue
            for part in content or []:
                if part.get("type") == "text":
                    tokens += self.text(str(part.get("text", "")), model)
                else:
                    media += 1
        return tokens, media


@dataclass
class ModelCalls:
    """One model grader's calls."""

    where: str
    """The grader's place: its name, or its key in a multi grader."""
    model: str
    calls: int = 0
    cached: int = 0
    tokens: int = 0
    """Prompt tokens of the calls a run would make (not those the cache answers)."""
    media: int = 0
    stopped: int = 0
    """Rows where a template had no value, so the grader would fail before calling."""


@dataclass
class DryRun:
    rows: int = 0
    unreadable: int = 0
    unreadable_examples: list[str] = field(default_factory=list)
    models: list[ModelCalls] = field(default_factory=list)
    python_calls: int = 0
    python_graders: int = 0
    cache_note: str | None = None


def _model_graders(grader: Mapping[str, Any], where: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if grader.get("type") in ("score_model", "label_model"):
        yield where, grader
    subs = grader.get("graders")
    if isinstance(subs, Mapping):
        for key, sub in subs.items():
            if isinstance(sub, Mapping):
                yield from _model_graders(sub, f"{where} > {key}")


def _python_graders(grader: Mapping[str, Any]) -> int:
    subs = grader.get("graders")
    inner = (
        sum(_python_graders(s) for s in subs.values() if isinstance(s, Mapping))
        if isinstance(subs, Mapping)
        else 0
    )
    return inner + (grader.get("type") == "python")


def dry_run(graders: list[CompiledGrader], rows: Iterable[Row], config: EngineConfig) -> DryRun:
    from ..engine.graders.model import ModelGrader

    found = DryRun()
    evaluators: list[tuple[ModelCalls, ModelGrader]] = []
    for compiled in graders:
        for where, node in _model_graders(compiled.grader, compiled.name or compiled.kind):
            evaluators.append((ModelCalls(where, str(node["model"])), ModelGrader(node)))
        found.python_graders += _python_graders(compiled.grader)
    found.models = [calls for calls, _ in evaluators]
    counter = TokenCounter() if evaluators else None
    backend = None
    if evaluators and config.cache.enabled:
        if not config.cache.file.exists():
            found.cache_note = f"no reply cache at {config.cache.file} yet: every call would be made"
        else:
            try:
                from ..engine.modelcalls.backend import ModelBackend

                backend = ModelBackend(config.models, config.cache)
            except EngineError as exc:
                found.cache_note = f"the cache was not looked in: {exc}"
    elif evaluators:
        found.cache_note = "the cache is off (--no-cache): every call would be made"
    try:
        for row in rows:
            found.rows += 1
            if row.error is not None:
                found.unreadable += 1
                if len(found.unreadable_examples) < 5:
                    found.unreadable_examples.append(row.error)
                continue
            found.python_calls += found.python_graders
            if not evaluators:
                continue
            scope = scope_of(Sample(row.sample), row.item)
            for calls, evaluator in evaluators:
                request = evaluator.request(scope, Outcome())
                if request is None:
                    calls.stopped += 1
                    continue
                calls.calls += 1
                if backend is not None and backend.cached(request) is not None:
                    calls.cached += 1
                    continue
                assert counter is not None
                tokens, media = counter.prompt(request.messages, calls.model)
                calls.tokens += tokens
                calls.media += media
    finally:
        if backend is not None:
            backend.close()
    return found


def dry_run_lines(found: DryRun) -> list[str]:
    lines = ["dry run: nothing was called and nothing written"]
    line = f"rows: {count(found.rows)}"
    if found.unreadable:
        line += f" ({count(found.unreadable)} could not be graded)"
    lines.append(line)
    lines.extend(f"  {e}" for e in found.unreadable_examples)
    if not found.models:
        lines.append("model calls: none (no score_model or label_model grader)")
    for calls in found.models:
        to_make = calls.calls - calls.cached
        lines.append(
            f"model calls of {calls.where} ({calls.model}): {count(calls.calls)}, "
            f"{count(calls.cached)} answered by the cache, {count(to_make)} to make"
        )
        average = f", about {count(round(calls.tokens / to_make))} a call" if to_make else ""
        lines.append(f"  prompt tokens of the calls to make, estimated: {count(calls.tokens)}{average}")
        if calls.media:
            lines.append(f"  images and audio parts (not in the estimate): {count(calls.media)}")
        if calls.stopped:
            lines.append(
                "  rows where a template has no value (the grader fails before calling): "
                f"{count(calls.stopped)}"
            )
    if found.models:
        total = sum(c.tokens for c in found.models)
        calls_to_make = sum(c.calls - c.cached for c in found.models)
        lines.append(
            f"in all: {count(calls_to_make)} model calls to make, about {count(total)} prompt tokens"
        )
    if found.cache_note:
        lines.append(f"note: {found.cache_note}")
    if found.python_graders:
        lines.append(f"python grader calls: {count(found.python_calls)} (in the sandbox; no cost but time)")
    return lines
