"""spec → IR → per-language files on disk."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from .errors import GradergenError, SpecError
from .ir.build import build_ir
from .ir.model import IR
from .languages import load_manifest
from .options import Options
from .spec import load_spec

FILE_LIST = ".gradergen-files"
"""Written into each output root: the files the last run wrote, so the next run can remove stale ones."""


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
    return {lang: outputs[lang] for lang in langs}


@dataclass(frozen=True)
class TreeChanges:
    """What writing a tree would do to its output root, each list sorted and relative to the root."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    """What the added and changed files (the listing among them) are written with."""

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def plan_tree(root: Path, files: Files) -> TreeChanges:
    """What `write_tree(root, files)` would add, change and remove (the file listing included), without
    touching anything: what `gradergen generate --check` reports, and what `apply_plan` carries out."""
    changes = TreeChanges()
    for rel, data in sorted([*_encoded(root, files).items(), (FILE_LIST, _listing(files))]):
        target = root / rel
        if not target.exists():
            changes.added.append(rel)
        elif not target.is_file() or target.read_bytes() != data:
            changes.changed.append(rel)
        else:
            continue
        changes.contents[rel] = data
    changes.removed.extend(rel for rel in _stale(root, files) if (root / rel).is_file())
    return changes


def write_tree(root: Path, files: Files) -> list[str]:
    """Write `files` under `root`, touching only files whose content changed, and remove the files a
    previous run wrote that this one no longer does. Returns the paths written."""
    return apply_plan(root, plan_tree(root, files))


def apply_plan(root: Path, changes: TreeChanges) -> list[str]:
    """Carry out a `plan_tree`: write what it adds and changes, remove what it removes, and write the
    file listing last (a run cut short leaves the previous listing, which still names what it wrote).
    Returns the paths written, the listing aside."""
    root.mkdir(parents=True, exist_ok=True)
    files = {rel: data for rel, data in changes.contents.items() if rel != FILE_LIST}
    for rel, data in sorted(files.items()):
        _replace(root / rel, data)
    for rel in changes.removed:
        stale_file = root / rel
        if stale_file.is_file():
            stale_file.unlink()
            _remove_empty_parents(stale_file.parent, root)
    if FILE_LIST in changes.contents:
        _replace(root / FILE_LIST, changes.contents[FILE_LIST])
    return sorted(files)


def _replace(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:  # a full disk, or a signal: no half-written file is left behind
        tmp.unlink(missing_ok=True)
        raise


def _encoded(root: Path, files: Files) -> dict[str, bytes]:
    for rel in files:
        if not (root / rel).resolve().is_relative_to(root.resolve()):
            raise GradergenError(f"refusing to write outside the output directory: {rel}")
    return {rel: text.encode("utf-8") for rel, text in files.items()}


def _listing(files: Files) -> bytes:
    return "".join(f"{rel}\n" for rel in sorted(files)).encode("utf-8")


def _stale(root: Path, files: Files) -> list[str]:
    """The files an earlier run wrote (by its listing) that this one does not."""
    listing = root / FILE_LIST
    previous = set(listing.read_text(encoding="utf-8").split()) if listing.is_file() else set()
    for rel in sorted(previous):
        if not (root / rel).resolve().is_relative_to(root.resolve()):  # removing it would reach outside
            raise GradergenError(f"{listing} names {rel}, outside the output directory: remove that line")
    return sorted(previous - set(files))


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
