"""The output trees on disk: what a run would change under each root (`plan_tree`, what `--check`
reports), and writing it. A run stages each tree's new files while the generation worker still runs
and moves them into place once every language has generated, so an error or a signal leaves every
tree as it was."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .emit.render import Files
from .errors import GradergenError

FILE_LIST = ".gradergen-files"
"""Written into each output root: the files the last run wrote, so the next run can remove stale ones."""
STAGING = ".gradergen-staging-"
"""A staging directory's name in its root, before the pid of the run that made it."""


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
    touching anything: what `gradergen generate --check` reports, and what `StagedTree` carries out."""
    changes = TreeChanges()
    try:
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
    except OSError as exc:  # an unreadable file, or a file where a directory goes
        raise _unusable("read", root, exc) from None
    return changes


def write_tree(root: Path, files: Files) -> list[str]:
    """Write `files` under `root`, touching only files whose content changed, and remove the files a
    previous run wrote that this one no longer does. Returns the paths written."""
    staged = StagedTree(root, plan_tree(root, files))
    try:
        return staged.commit()
    finally:
        staged.discard()


class StagedTree:
    """A plan's new and changed files, written into a staging directory inside the root; `commit` moves
    each into place (a rename: the writing is done by then), removes the stale ones and writes the
    file listing last, so a run cut short leaves the previous listing, which still names what it wrote.
    Until then nothing in the tree has changed, and `discard` takes the staging away again."""

    def __init__(self, root: Path, changes: TreeChanges) -> None:
        self.root, self.changes = root, changes
        self._made_root = _missing_ancestor(root)
        self._staging = root / f"{STAGING}{os.getpid()}"
        self._files = sorted(rel for rel in changes.contents if rel != FILE_LIST)
        self._committed = False
        if not changes:
            return
        try:
            root.mkdir(parents=True, exist_ok=True)
            _remove_abandoned_staging(root)
            for rel in self._files:
                staged = self._staging / rel
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(changes.contents[rel])
        except BaseException as exc:  # a full disk, or a signal: nothing is left behind
            self.discard()
            if isinstance(exc, OSError):
                raise _unusable("write", root, exc) from None
            raise

    def commit(self) -> list[str]:
        """Move the staged files into place; returns them (the listing aside), relative to the root."""
        root, changes = self.root, self.changes
        made: set[Path] = set()
        self._committed = True  # from the first rename on, the root holds what this run wrote
        try:
            for rel in self._files:
                target = root / rel
                if target.parent not in made:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                os.replace(self._staging / rel, target)
            for rel in changes.removed:
                stale_file = root / rel
                if stale_file.is_file():
                    stale_file.unlink()
                    _remove_empty_parents(stale_file.parent, root)
            if FILE_LIST in changes.contents:
                _replace(root / FILE_LIST, changes.contents[FILE_LIST])
        except OSError as exc:  # a directory where a file goes, say
            raise _unusable("write", root, exc) from None
        return list(self._files)

    def discard(self) -> None:
        """Remove the staging directory (and the root, if staging made it and nothing was committed)."""
        shutil.rmtree(self._staging, ignore_errors=True)
        made = self._made_root
        if made is not None and not self._committed:
            _remove_empty_parents(self.root, made.parent)


def _unusable(verb: str, root: Path, exc: OSError) -> GradergenError:
    where = f" ({exc.filename})" if exc.filename else ""
    return GradergenError(f"cannot {verb} the output in {root}: {exc.strerror or exc}{where}")


def _missing_ancestor(path: Path) -> Path | None:
    """The outermost of `path` and its parents that does not exist yet, if any does not."""
    missing = None
    while not path.exists():
        missing = path
        if path.parent == path:
            break
        path = path.parent
    return missing


def _remove_abandoned_staging(root: Path) -> None:
    """Staging directories a run left when it was killed outright (SIGKILL): their pid is gone."""
    for entry in root.glob(STAGING + "*"):
        pid = entry.name[len(STAGING) :]
        if entry.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, and belongs to someone else
        return True
    return True


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
