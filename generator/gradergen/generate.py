"""spec → IR → per-language files on disk."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .background import Worker, background
from .emit.render import (
    Files,
    Prepared,
    format_files,
    prepare,
    render_templates,
    run_named_steps,
    run_steps,
    warm_up,
)
from .errors import SpecError
from .ir.build import build_ir
from .ir.model import IR
from .languages import load_manifest
from .options import Options
from .spec import load_spec


def load_ir(spec: Path) -> IR:
    return build_ir(load_spec(spec), source=str(spec))


@contextmanager
def _located(spec: Path) -> Iterator[None]:
    """Errors found after the spec was read (naming a clash, say) name the spec file too."""
    try:
        yield
    except SpecError as exc:
        if exc.source:
            raise
        raise SpecError(exc.pointer, exc.message, str(spec)) from None


Ready = Callable[[str, Files], None]
"""Told each language's files as soon as they are final, in this process: while the worker still runs
the background steps, the caller can compare them with what is on disk (`plan_tree`)."""


def generate(spec: Path, langs: list[str], options: Options, ready: Ready | None = None) -> dict[str, Files]:
    """Render every language, each named once, here. Steps a manifest marks as background (slow, mostly
    to import) run in a forked process that starts importing at once and receives the IR with the
    language's names, while this process loads the spec and renders and formats the templates: the two
    cores share the work. `ready` hears of each language when it is done, the background ones last."""
    if not any(load_manifest(lang).in_background for lang in langs):
        with _located(spec):
            return _generate(spec, langs, options, None, ready or _ignore)
    with background(initializer=functools.partial(warm_up, langs)) as worker, _located(spec):
        return _generate(spec, langs, options, worker, ready or _ignore)


def _ignore(lang: str, files: Files) -> None:
    pass


def _generate(
    spec: Path, langs: list[str], options: Options, worker: Worker | None, ready: Ready
) -> dict[str, Files]:
    ir = load_ir(spec)
    backgrounded = [lang for lang in langs if worker is not None and load_manifest(lang).in_background]
    prepared: dict[str, Prepared] = {}
    # named and submitted first: the worker's share is the longer one (measured: this process waits
    # for it), so it starts as soon as it has the names, and does not name the IR again
    for lang in backgrounded:
        assert worker is not None
        prepared[lang] = prepare(lang, ir, options)
        worker.submit(run_named_steps, lang, prepared[lang].names, options)
    for lang in langs:
        if lang not in prepared:
            prepared[lang] = prepare(lang, ir, options)
    outputs = {lang: format_files(prepared[lang], render_templates(prepared[lang], ir)) for lang in langs}
    for lang in langs:
        if lang not in backgrounded:
            outputs[lang].update(format_files(prepared[lang], run_steps(prepared[lang], ir, options)))
            ready(lang, outputs[lang])
    for lang in backgrounded:  # results come back in the order the jobs were submitted
        assert worker is not None
        outputs[lang].update(format_files(prepared[lang], worker.result()))
        ready(lang, outputs[lang])
    return outputs
