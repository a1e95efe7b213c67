"""Rows to grade: each a dataset item and the model's sample, read from one file or paired from two.

From one file, each row holds both: the sample is the field `sample_field` (default `model_sample`)
and the item is the rest of the row, or the field `item_field` when one is named. With `samples`, the
items come from the data file and the samples from a second file, paired by position, or by the
`id_field` both files carry (the samples are then indexed in a temporary SQLite file, so that memory
stays flat whatever their size).

A sample is text (the `model_sample` of /run) or an object of sample variables (`output_text`,
`output_json`, `output_tools`, `choices`, `output_audio`); an object's other fields (an evals
sample's `model` or `usage`, say) are not sample variables and graders never see them.

A row that cannot be graded — unreadable, no sample, a sample of the wrong kind — keeps its place with
`error` saying why, so results line up with the data row for row.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..language.templates import SAMPLE_VARIABLES
from .readers import MAX_ROW_BYTES, InputFileError, Record, RecordReader, open_records

DEFAULT_SAMPLE_FIELD = "model_sample"
_SAMPLE_VARIABLES = frozenset(SAMPLE_VARIABLES)


@dataclass(slots=True)
class Row:
    index: int
    """The row's place in the data, from 0; results are written in this order."""
    where: str
    """Where it is in the data file, for messages."""
    id: Any
    """The value of the id field, or None."""
    item: Any
    """What a grader's `{{ item.… }}` templates read."""
    sample: Any
    """The model's output: text, or a mapping of sample variables."""
    error: str | None
    """Why the row cannot be graded, with where it is; None for a row to grade."""
    size: int
    """About how many bytes it took in the file."""


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def check_sample(value: Any, field: str) -> tuple[Any, str | None]:
    """The sample a grader gets from a row's `value`, or what is wrong with it."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, Mapping):
        sample = {k: v for k, v in value.items() if k in _SAMPLE_VARIABLES}
        if not sample:
            return None, (
                f"the sample {field!r} is an object with none of the sample variables "
                f"({', '.join(SAMPLE_VARIABLES)})"
            )
        if not isinstance(sample.get("output_text", ""), str):
            return None, f"the sample's output_text is {_describe(sample['output_text'])}, not text"
        return sample, None
    return None, (
        f"the sample {field!r} is {_describe(value)}; a sample is text or an object of sample variables"
    )


def _fields(value: Mapping[str, Any]) -> str:
    names = list(value)
    shown = ", ".join(map(str, names[:12])) + (", …" if len(names) > 12 else "")
    return shown or "none"


def id_key(value: Any) -> str:
    """The key two files' ids are matched by: text as it is, anything else as JSON (so the number 7
    of a JSONL file matches the text "7" of a CSV file)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


class RowReader:
    """The rows of a dataset, in order. Iterate once; `position`/`total`/`unit` tell the progress
    through the data file, `warnings` what was noticed about the files along the way.

    When the first row that can be read lacks the sample field, iterating raises InputFileError (the
    field was misnamed); later rows without it are rows with an error."""

    def __init__(
        self,
        data: RecordReader,
        *,
        sample_field: str = DEFAULT_SAMPLE_FIELD,
        item_field: str | None = None,
        id_field: str | None = None,
        samples: RecordReader | None = None,
    ) -> None:
        self.data = data
        self.samples = samples
        self.sample_field = sample_field
        self.item_field = item_field
        self.id_field = id_field
        self.warnings: list[str] = []
        self._index: _SampleIndex | None = None

    @property
    def position(self) -> int:
        return self.data.position

    @property
    def total(self) -> int | None:
        return self.data.total

    @property
    def unit(self) -> str:
        return self.data.unit

    def __iter__(self) -> Iterator[Row]:
        if self.samples is None:
            return self._single()
        if self.id_field is None:
            return self._by_position(self.samples)
        return self._by_id(self.samples, self.id_field)

    def __enter__(self) -> RowReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.data.close()
        if self.samples is not None:
            self.samples.close()
        if self._index is not None:
            self._index.close()

    # ------------------------------------------------------------------ one file
    def _single(self) -> Iterator[Row]:
        field, id_field = self.sample_field, self.id_field
        first = True
        for record in self.data:
            value = record.value
            if record.error is not None:
                yield Row(record.index, record.where, None, None, None,
                          f"{record.where}: {record.error}", record.size)  # fmt: skip
                continue
            if not isinstance(value, dict):
                yield self._not_an_object(record)
                continue
            row_id = value.get(id_field) if id_field is not None else None
            if field not in value:
                error = (
                    f"{record.where}: no field {field!r} (fields: {_fields(value)}); --sample-field names it"
                )
                if first:  # a wrong --sample-field, not a broken row: stop before grading anything
                    raise InputFileError(error)
                yield Row(record.index, record.where, row_id, None, None, error, record.size)
                continue
            first = False
            raw = value[field]
            problem: str | None = None
            if type(raw) is str:
                sample = raw
            else:
                sample, problem = check_sample(raw, field)
            item, item_problem = self._item(value, record)
            problem = problem or item_problem
            failure = f"{record.where}: {problem}" if problem else None
            yield Row(record.index, record.where, row_id, item, sample, failure, record.size)

    def _item(self, value: dict[str, Any], record: Record) -> tuple[Any, str | None]:
        if self.item_field is None:
            if self.samples is not None:
                return value, None
            item = value.copy()
            del item[self.sample_field]
            return item, None
        if self.item_field not in value:
            return None, f"no field {self.item_field!r} (fields: {_fields(value)}); --item-field names it"
        return value[self.item_field], None

    def _not_an_object(self, record: Record) -> Row:
        error = f"{record.where}: a row is an object of fields, not {_describe(record.value)}"
        return Row(record.index, record.where, None, None, None, error, record.size)

    # ------------------------------------------------------------------ two files
    def _sample_of(self, record: Record) -> tuple[Any, str | None]:
        """A samples file's record: an object holding the sample field, or the sample itself (text)."""
        if record.error is not None:
            return None, f"{record.where}: {record.error}"
        value = record.value
        if isinstance(value, str):
            return value, None
        if isinstance(value, dict):
            if self.sample_field not in value:
                return None, (
                    f"{record.where}: no field {self.sample_field!r} (fields: {_fields(value)}); "
                    "--sample-field names it"
                )
            sample, problem = check_sample(value[self.sample_field], self.sample_field)
            return sample, (f"{record.where}: {problem}" if problem else None)
        return None, f"{record.where}: a sample row is text or an object, not {_describe(value)}"

    def _paired(self, record: Record, sample: Any, sample_problem: str | None) -> Row:
        if record.error is not None:
            return Row(record.index, record.where, None, None, None,
                       f"{record.where}: {record.error}", record.size)  # fmt: skip
        value = record.value
        if not isinstance(value, dict):
            return self._not_an_object(record)
        row_id = value.get(self.id_field) if self.id_field is not None else None
        item, problem = self._item(value, record)
        error = sample_problem or (f"{record.where}: {problem}" if problem else None)
        return Row(
            record.index, record.where, row_id, item, sample if error is None else None, error, record.size
        )

    def _by_position(self, samples: RecordReader) -> Iterator[Row]:
        sample_records = iter(samples)
        count = 0
        ended = False
        for record in self.data:
            found = None if ended else next(sample_records, None)
            if found is None:
                ended = True
                problem = f"no sample: {samples.name} ended after {count} rows"
                yield self._paired(record, None, f"{record.where}: {problem}")
                continue
            count += 1
            sample, sample_problem = self._sample_of(found)
            yield self._paired(record, sample, sample_problem)
        if not ended and next(sample_records, None) is not None:
            self.warnings.append(
                f"{samples.name} has more rows than {self.data.name}: "
                f"the samples after row {count} were not used"
            )

    def _by_id(self, samples: RecordReader, id_field: str) -> Iterator[Row]:
        self._index = index = _SampleIndex(samples, id_field, self)
        for record in self.data:
            if record.error is not None or not isinstance(record.value, dict):
                yield self._paired(record, None, None)
                continue
            if id_field not in record.value:
                problem = f"{record.where}: no field {id_field!r} to find its sample by (--id-field)"
                yield self._paired(record, None, problem)
                continue
            found = index.sample(record.value[id_field])
            if found is None:
                problem = (
                    f"{record.where}: no sample with {id_field} {record.value[id_field]!r} in {samples.name}"
                )
                yield self._paired(record, None, problem)
                continue
            sample, sample_problem = found
            yield self._paired(record, sample, sample_problem)


class _SampleIndex:
    """A samples file's samples by id, in a temporary SQLite file (deleted when closed)."""

    def __init__(self, samples: RecordReader, id_field: str, rows: RowReader) -> None:
        handle, self.path = tempfile.mkstemp(prefix="gradergen-samples-", suffix=".sqlite")
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE samples (id TEXT PRIMARY KEY, sample TEXT, problem TEXT, place TEXT)")
        batch: list[tuple[str, str | None, str | None, str]] = []
        try:
            for record in samples:
                if record.error is not None:
                    raise InputFileError(f"{record.where}: {record.error} (a samples file paired by id "
                                         "must be readable throughout)")  # fmt: skip
                if not isinstance(record.value, dict) or id_field not in record.value:
                    raise InputFileError(f"{record.where}: no field {id_field!r} to pair the sample by")
                sample, problem = rows._sample_of(record)
                batch.append((id_key(record.value[id_field]), json.dumps(sample), problem, record.where))
                if len(batch) >= 10_000:
                    self._insert(batch)
                    batch = []
            self._insert(batch)
            self.db.commit()
        except BaseException:
            self.close()
            raise

    def _insert(self, batch: list[tuple[str, str | None, str | None, str]]) -> None:
        before = self.db.total_changes
        self.db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING", batch)
        if self.db.total_changes - before == len(batch):
            return
        for key, _, _, where in batch:  # which id came again, in file order
            (place,) = self.db.execute("SELECT place FROM samples WHERE id = ?", (key,)).fetchone()
            if place != where:
                raise InputFileError(f"{where}: the id {key!r} was given before, at {place}")

    def sample(self, row_id: Any) -> tuple[Any, str | None] | None:
        found = self.db.execute(
            "SELECT sample, problem FROM samples WHERE id = ?", (id_key(row_id),)
        ).fetchone()
        if found is None:
            return None
        text, problem = found
        return (json.loads(text) if problem is None else None), problem

    def close(self) -> None:
        self.db.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def read_rows(
    path: str,
    format: str | None = None,
    *,
    sample_field: str = DEFAULT_SAMPLE_FIELD,
    item_field: str | None = None,
    id_field: str | None = None,
    samples: str | None = None,
    samples_format: str | None = None,
    max_row_bytes: int = MAX_ROW_BYTES,
) -> RowReader:
    """The rows of the dataset at `path` (`-`: standard input), in order, each with its item and
    sample; see the module's documentation. Use as a context manager (or call `close()`)."""
    data = open_records(path, format, max_row_bytes)
    second = open_records(samples, samples_format, max_row_bytes) if samples is not None else None
    return RowReader(
        data, sample_field=sample_field, item_field=item_field, id_field=id_field, samples=second
    )
