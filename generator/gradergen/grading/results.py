"""Result rows: their shape, the file they are written to, and continuing a run that was stopped.

One JSON object a line, in the data's order, one for every data row:

    {"index": 0, "id": "q-17", "reward": 1.0, "response": {…the GraderRunResponse…}}
    {"index": 1, "id": null, "reward": null, "response": null, "error": "data.jsonl:2: not valid JSON: …"}

`index` is the row's place in the data (from 0), `id` the value of `--id-field` (null without one),
`reward` the response's reward, `response` the full GraderRunResponse with its fields in the live
service's order. A row that could not be graded has a null reward and response and an `error`; a row
whose grader failed is a normal row whose response carries the flags. When comparing two graders the
row holds both: `{"index", "id", "old": {"reward", "response"}, "new": {"reward", "response"}}`.

The file is deterministic: `metadata.execution_time` is written as 0.0 unless timings are asked for,
so a run stopped at any moment and continued gives the file an uninterrupted run gives, byte for byte.

Writing appends whole rows in order and syncs them to disk after each batch (`os.fsync`). Beside the
file, `<out>.state.json` records what produced it (the grader's SHA-256, the data file and the fields
read); continuing checks it, cuts a last row the stop left half-written, and checks that every row
already there matches the data (index and id) before anything new is written.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..engine.outcome import Outcome, as_json
from ..errors import GradergenError

STATE_VERSION = 1
_dumps = json.JSONEncoder(separators=(",", ":")).encode


class ResumeRefused(GradergenError):
    """The results file cannot be continued (or written) as asked; the message says why and what to do."""


def dumps(value: Any) -> str:
    """A row as written: compact JSON, ASCII only (so that any text, even a lone surrogate, survives)."""
    return _dumps(value)


def grader_digest(grader: Mapping[str, Any]) -> str:
    """The SHA-256 of a grader's canonical JSON: what a results file records it was graded with."""
    text = json.dumps(grader, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def response_data(response: Any, timings: bool) -> dict[str, Any]:
    """A GraderRunResponse as a result row holds it."""
    data = as_json(response)
    if not timings:
        data["metadata"]["execution_time"] = 0.0
    return data


def result_row(
    index: int, row_id: Any, response: Mapping[str, Any] | None, error: str | None = None
) -> dict[str, Any]:
    """The result row of one data row: its response (as `response_data` gives it), or why it has none."""
    if error is not None or response is None:
        return {
            "index": index,
            "id": row_id,
            "reward": None,
            "response": None,
            "error": error or "not graded",
        }
    return {"index": index, "id": row_id, "reward": response["reward"], "response": response}


def compared_row(
    index: int,
    row_id: Any,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    error: str | None = None,
) -> dict[str, Any]:
    """The result row of one data row graded by two graders."""
    if error is not None or old is None or new is None:
        return {"index": index, "id": row_id, "old": None, "new": None, "error": error or "not graded"}
    return {
        "index": index,
        "id": row_id,
        "old": {"reward": old["reward"], "response": old},
        "new": {"reward": new["reward"], "response": new},
    }


def is_plain(outcome: Outcome) -> bool:
    """An outcome whose response differs from a clean one only in its reward: no flag, detail, usage,
    model, sub-reward or score."""
    return not (
        outcome.errors
        or outcome.details
        or outcome.usage
        or outcome.sampled_model_name
        or outcome.sub_rewards
        or outcome.scores
    ) and math.isfinite(outcome.reward)


class PlainLines:
    """The text of result rows whose response is plain (`is_plain`), made from one template: the
    same text `dumps(result_row(…))` gives, at a fraction of the cost (a test holds them equal)."""

    def __init__(self, name: str, kind: str) -> None:
        marks = ["\x00index", "\x00id", "\x00reward", "\x00time"]
        response = as_json(Outcome(reward=0.0).response(name, kind, 0.0))
        response["reward"] = marks[2]
        response["metadata"]["execution_time"] = marks[3]
        text = dumps({"index": marks[0], "id": marks[1], "reward": marks[2], "response": response})
        quoted = [dumps(m) for m in marks]
        parts: list[str] = []
        slots: list[int] = []
        rest = text
        while True:
            found = [(rest.find(q), n) for n, q in enumerate(quoted) if rest.find(q) >= 0]
            if not found:
                break
            at, which = min(found)
            parts.append(rest[:at])
            slots.append(which)
            rest = rest[at + len(quoted[which]) :]
        parts.append(rest)
        if slots != [0, 1, 2, 2, 3]:
            raise AssertionError(f"unexpected response layout: {slots}")  # as_json's order changed
        self._parts = parts

    def line(self, index: int, id_text: str, reward: float, time_text: str = "0.0") -> str:
        """One row's line (without the newline); `id_text` is the id as JSON."""
        p = self._parts
        r = float.__repr__(float(reward))
        return f"{p[0]}{index}{p[1]}{id_text}{p[2]}{r}{p[3]}{r}{p[4]}{time_text}{p[5]}"


def state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.json")


class ResultWriter:
    """A results file written row by row in order, whole rows synced to disk after each `write`.

    New: `ResultWriter(out, fingerprint)` refuses a file that exists and is not empty unless
    `overwrite`. Continuing: `resume=True`, then iterate `existing()` — each complete row already
    written, checked against the state recorded when the run started — and `write` the rest."""

    def __init__(
        self, out: Path, fingerprint: Mapping[str, Any], *, resume: bool = False, overwrite: bool = False
    ) -> None:
        self.out = out
        self.state = state_path(out)
        self.fingerprint = dict(fingerprint)
        self.resume = resume
        self.done = 0
        self.broken = False
        """A write failed: the file was put back as it was before it, and nothing more is written."""
        self._fd: int | None = None
        self._cut_at: int | None = None
        if out.exists() and not out.is_file():
            raise ResumeRefused(f"{out}: is not a regular file; --out names the results file to write")
        if resume:
            self._check_state()
        elif out.exists() and out.stat().st_size > 0 and not overwrite:
            raise ResumeRefused(
                f"{out} exists: --resume to continue that run, --overwrite to grade again from the start"
            )

    # ------------------------------------------------------------------ continuing
    def _check_state(self) -> None:
        has_rows = self.out.exists() and self.out.stat().st_size > 0
        if not self.state.exists():
            if has_rows:
                raise ResumeRefused(
                    f"--resume: {self.out} has rows but no {self.state.name} beside it, so what graded them "
                    "is unknown; grade into another file, or --overwrite"
                )
            return
        try:
            recorded = json.loads(self.state.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResumeRefused(
                f"--resume: {self.state} cannot be read ({exc}); --overwrite to start again"
            ) from None
        if not isinstance(recorded, dict):
            raise ResumeRefused(
                f"--resume: {self.state} is not a gradergen state file; --overwrite to start again"
            )
        differences = [
            f"{key}: {_shown(recorded.get(key))} then, {_shown(value)} now"
            for key, value in self.fingerprint.items()
            if recorded.get(key) != value
        ]
        if differences:
            raise ResumeRefused(
                f"--resume: {self.out} was graded differently — "
                + "; ".join(differences)
                + ". Continue it with the same grader and data, or grade into another file (or --overwrite)"
            )

    def existing(self) -> Iterator[dict[str, Any]]:
        """The rows written before (when continuing), in order, each checked to be a result row in its
        place; a last row cut short by the stop is dropped (and cut from the file by `open`)."""
        if not self.resume or not self.out.exists():
            return
        with self.out.open("rb") as file:
            offset = 0
            for number, line in enumerate(file, 1):
                if not line.endswith(b"\n"):
                    self._cut_at = offset  # written in part when the run stopped
                    return
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise ResumeRefused(
                        f"{self.out}:{number}: not a result row ({exc}); the file was changed since it was "
                        "written: remove that line and the ones after it, or --overwrite"
                    ) from None
                if not isinstance(row, dict) or row.get("index") != self.done:
                    raise ResumeRefused(
                        f"{self.out}:{number}: expected the result row of index {self.done}; the file was "
                        "changed since it was written (or is not a gradergen results file)"
                    )
                offset += len(line)
                self.done += 1
                yield row

    # ------------------------------------------------------------------ writing
    def open(self) -> None:
        """Ready to write: the state recorded (a new run), a half-written last row cut (continuing)."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if not self.resume or not self.state.exists():
            self._write_state()
            flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if self.resume else os.O_TRUNC)
        else:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        try:
            self._fd = os.open(self.out, flags, 0o644)
        except OSError as exc:
            raise ResumeRefused(f"{self.out}: cannot write it: {exc.strerror or exc}") from None
        if self._cut_at is not None:
            os.ftruncate(self._fd, self._cut_at)
            os.fsync(self._fd)

    def _write_state(self) -> None:
        data = {"gradergen_results": STATE_VERSION, **self.fingerprint}
        temporary = self.state.with_name(self.state.name + ".tmp")
        try:
            with temporary.open("w", encoding="utf-8") as file:
                json.dump(data, file, indent=2, sort_keys=True)
                file.write("\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.state)
            _sync_directory(self.state.parent)
        except OSError as exc:
            raise ResumeRefused(f"{self.state}: cannot write it: {exc.strerror or exc}") from None

    def write(self, text: str) -> None:
        """Append whole rows (`text` is lines, each ending in a newline) and sync them to disk."""
        if self._fd is None or self.broken:
            raise RuntimeError("ResultWriter.open() first" if self._fd is None else "an earlier write failed")
        data = memoryview(text.encode("ascii"))
        before = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            while data:
                written = os.write(self._fd, data)
                data = data[written:]
            os.fsync(self._fd)
        except OSError as exc:
            self.broken = True
            try:  # no row half-written: the file ends with the last whole batch
                os.ftruncate(self._fd, before)
            except OSError:
                pass
            raise ResumeRefused(f"{self.out}: cannot write it: {exc.strerror or exc}") from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "…"


def write_results(
    out: Path, rows: Any, fingerprint: Mapping[str, Any] | None = None, *, overwrite: bool = False
) -> int:
    """Write result rows (dicts from `result_row`/`compared_row`, in index order) to `out`, syncing every
    1,000 rows; the number written. For writers other than `gradergen grade` (a Ray job, say)."""
    count = 0
    with ResultWriter(out, fingerprint or {}, overwrite=overwrite) as writer:
        writer.open()
        lines: list[str] = []
        for row in rows:
            lines.append(dumps(row))
            count += 1
            if len(lines) >= 1000:
                writer.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            writer.write("\n".join(lines) + "\n")
    return count
