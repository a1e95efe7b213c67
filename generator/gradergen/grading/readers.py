"""A dataset's records one at a time, in constant memory: JSONL, a JSON array, CSV and Parquet.

Each reader yields `Record`s in file order. A record that cannot be read (a line that is not JSON,
a CSV line with the wrong number of fields, a row over the size limit) is a record with an `error`
naming where it is and what is wrong, so that the rows after it keep their places. A file that cannot
be read any further (a JSON array broken in the middle, a Parquet file that is not one) raises
`InputFileError` at the point where reading stopped.

Nothing holds more than one record (JSONL, JSON, CSV) or one batch of Parquet rows at a time: a line
longer than `max_row_bytes` is skipped a megabyte at a time, never held.
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import GradergenError

FORMATS = ("jsonl", "json", "csv", "parquet")
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
MAX_ROW_BYTES = 64 << 20
"""The default limit on one row (one JSONL line, one CSV record, one element of a JSON array)."""
PARQUET_BATCH_BYTES = 16 << 20
"""About how much decoded data one batch of Parquet rows may hold."""
STDIN = "-"


class InputFileError(GradergenError):
    """A data file that cannot be read (any further); the message names the file and where."""


@dataclass(slots=True)
class Record:
    index: int
    """The record's place among the file's rows, from 0."""
    where: str
    """Where it is, for messages: `data.jsonl:12` (a line), `data.json: row 13`."""
    value: Any
    """The parsed row; None when `error` is set."""
    error: str | None
    size: int
    """About how many bytes it took in the file."""


def detect_format(path: str, given: str | None) -> str:
    """The format named with --format, else the one the file's extension says."""
    if given is not None:
        if given not in FORMATS:
            raise InputFileError(f"unknown format {given!r} (formats: {', '.join(FORMATS)})")
        return given
    if path == STDIN:
        raise InputFileError("standard input has no file name to tell its format by: give --format")
    suffix = Path(path).suffix.lower()
    found = EXTENSIONS.get(suffix)
    if found is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise InputFileError(f"{path}: cannot tell the format from {suffix or 'no extension'!r} "
                             f"(known: {known}); give --format")  # fmt: skip
    return found


class RecordReader:
    """The records of one file; `position` and `total` tell how far reading has come (in `unit`s)."""

    unit = "bytes"

    def __init__(self, path: str, max_row_bytes: int = MAX_ROW_BYTES) -> None:
        self.path = path
        self.name = "<stdin>" if path == STDIN else path
        self.max_row_bytes = max_row_bytes
        self.position = 0
        self.total: int | None = None
        self._file: IO[bytes] | None = None

    def _open(self) -> IO[bytes]:
        if self.path == STDIN:
            self._file = sys.stdin.buffer
            return self._file
        try:
            file = open(self.path, "rb")
        except FileNotFoundError:
            raise InputFileError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise InputFileError(f"{self.path}: is a directory, not a data file") from None
        except OSError as exc:
            raise InputFileError(f"{self.path}: cannot open it: {exc.strerror or exc}") from None
        stat = os.fstat(file.fileno())
        self.total = stat.st_size if stat.st_size > 0 and _is_regular(stat.st_mode) else None
        self._file = file
        return file

    def __iter__(self) -> Iterator[Record]:
        raise NotImplementedError

    def close(self) -> None:
        if self._file is not None and self._file is not sys.stdin.buffer:
            self._file.close()
        self._file = None


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _too_large(size: int, limit: int) -> str:
    return f"the row is over {limit / 2**20:g} MiB ({size / 2**20:.1f} MiB), the limit (--max-row-mib)"


class JsonlRecords(RecordReader):
    """One JSON value a line; blank lines are not rows."""

    def __iter__(self) -> Iterator[Record]:
        file = self._open()
        limit = self.max_row_bytes
        index = 0
        line_number = 0
        readline = file.readline
        loads = json.loads
        name = self.name
        while True:
            line = readline(limit + 1)
            if not line:
                return
            line_number += 1
            size = len(line)
            if size > limit and not line.endswith(b"\n"):
                while True:  # the rest of the line, a megabyte at a time
                    more = readline(1 << 20)
                    size += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                self.position += size
                yield Record(index, f"{name}:{line_number}", None, _too_large(size, limit), size)
                index += 1
                continue
            self.position += size
            if line.isspace():
                continue
            try:
                value = loads(line)
            except UnicodeDecodeError as exc:
                yield Record(index, f"{name}:{line_number}", None, f"not UTF-8 text ({exc.reason})", size)
            except json.JSONDecodeError as exc:
                yield Record(
                    index,
                    f"{name}:{line_number}",
                    None,
                    f"not valid JSON: {exc.msg} at column {exc.colno}",
                    size,
                )
            except (ValueError, RecursionError) as exc:
                yield Record(index, f"{name}:{line_number}", None, f"not valid JSON: {exc}", size)
            else:
                yield Record(index, f"{name}:{line_number}", value, None, size)
            index += 1


class _Replay(io.RawIOBase):
    """A stream whose first bytes were read already (to see what the file starts with)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class JsonArrayRecords(RecordReader):
    """The elements of a top-level JSON array, parsed incrementally (ijson)."""

    def __iter__(self) -> Iterator[Record]:
        try:
            import ijson
        except ImportError:
            raise InputFileError("reading a JSON array needs ijson: pip install 'gradergen[grade]'") from None
        file = self._open()
        head = file.read(4096)
        first = head.lstrip()[:1]
        if not first:
            raise InputFileError(f"{self.name}: the file is empty; a JSON input is an array of rows")
        if first != b"[":
            what = "an object" if first == b"{" else f"{first.decode('latin-1')!r}"
            raise InputFileError(
                f"{self.name}: the top level is {what}; a JSON input is an array of rows "
                "(give one row a line as .jsonl, or --format jsonl)"
            )
        stream = _Replay(head, file)
        counted = _Counting(stream)
        index = 0
        before = 0
        try:
            for value in ijson.items(counted, "item", use_float=True, buf_size=1 << 16):
                size = max(1, counted.count - before)
                before = counted.count
                self.position = counted.count
                where = f"{self.name}: row {index + 1}"
                if size > self.max_row_bytes:
                    yield Record(index, where, None, _too_large(size, self.max_row_bytes), size)
                else:
                    yield Record(index, where, value, None, size)
                index += 1
        except ijson.JSONError as exc:
            reason = (str(exc).strip().splitlines() or ["broken"])[0]
            raise InputFileError(
                f"{self.name}: after row {index}, near byte {counted.count}: not valid JSON ({reason}); "
                "the rows after it cannot be read"
            ) from None
        except UnicodeDecodeError:
            raise InputFileError(f"{self.name}: after row {index}: not UTF-8 text") from None


class _Counting(io.RawIOBase):
    def __init__(self, inner: io.RawIOBase) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size >= 0 else 1 << 16) or b""
        self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer) or 0
        self.count += n
        return n


class CsvRecords(RecordReader):
    """A header line, then one row a line; every value is text. Blank lines are not rows."""

    def __iter__(self) -> Iterator[Record]:
        binary = self._open()
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        csv.field_size_limit(self.max_row_bytes)
        reader = csv.reader(text)
        index = 0
        seekable = binary.seekable()  # a pipe is not: count the rows' text instead
        try:
            header = next(reader, None)
            if header is None:
                raise InputFileError(f"{self.name}: the file is empty; a CSV input starts with a header line")
            seen: dict[str, int] = {}
            for column, title in enumerate(header, 1):
                if title in seen:
                    raise InputFileError(
                        f"{self.name}:1: column {column} is named {title!r} like column {seen[title]}; "
                        "every column needs its own name"
                    )
                seen[title] = column
            width = len(header)
            for fields in reader:
                if not fields:
                    continue
                where = f"{self.name}:{reader.line_num}"
                size = sum(map(len, fields)) + len(fields)
                self.position = binary.tell() if seekable else self.position + size
                if len(fields) != width:
                    error = f"{len(fields)} fields where the header has {width}"
                    yield Record(index, where, None, error, size)
                else:
                    yield Record(index, where, dict(zip(header, fields, strict=True)), None, size)
                index += 1
        except csv.Error as exc:
            raise InputFileError(f"{self.name}:{reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise InputFileError(f"{self.name}: after line {reader.line_num}: not UTF-8 text") from None
        finally:
            text.detach()


class ParquetRecords(RecordReader):
    """The rows of a Parquet file, a batch at a time (pyarrow); values made JSON data (timestamps as
    ISO 8601 text, decimals as numbers, bytes as text, or base64 when they are not UTF-8)."""

    unit = "rows"

    def __iter__(self) -> Iterator[Record]:
        if self.path == STDIN:
            raise InputFileError("Parquet cannot be read from standard input (its index is at the end)")
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise InputFileError("reading Parquet needs pyarrow: pip install 'gradergen[grade]'") from None
        try:
            parquet = pq.ParquetFile(self._open())
        except (pa.ArrowException, OSError) as exc:
            raise InputFileError(f"{self.path}: not a Parquet file pyarrow can read: {exc}") from None
        metadata = parquet.metadata
        self.total = metadata.num_rows
        self.position = 0
        row_bytes = max(1, sum(metadata.row_group(g).total_byte_size for g in range(metadata.num_row_groups))
                        // max(1, metadata.num_rows))  # fmt: skip
        batch_rows = max(1, min(4096, PARQUET_BATCH_BYTES // row_bytes))
        convert = any(_needs_conversion(field.type) for field in parquet.schema_arrow)
        index = 0
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                rows = batch.to_pylist(maps_as_pydicts="lossy")
                size = max(1, batch.nbytes // max(1, batch.num_rows))
                for value in rows:
                    self.position = index + 1
                    yield Record(
                        index,
                        f"{self.name}: row {index + 1}",
                        json_data(value) if convert else value,
                        None,
                        size,
                    )
                    index += 1
        except (pa.ArrowException, OSError) as exc:
            raise InputFileError(f"{self.path}: after row {index}: {exc}") from None


def _needs_conversion(arrow_type: Any) -> bool:
    """Whether values of this Arrow type come out of pyarrow as something other than JSON data."""
    import pyarrow.types as t

    if t.is_struct(arrow_type):
        return any(_needs_conversion(arrow_type.field(i).type) for i in range(arrow_type.num_fields))
    if t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type):
        return _needs_conversion(arrow_type.value_type)
    return not (
        t.is_string(arrow_type)
        or t.is_large_string(arrow_type)
        or t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_boolean(arrow_type)
        or t.is_null(arrow_type)
    )


def json_data(value: Any) -> Any:
    """`value` with every part JSON can hold as it is, and the rest made so."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): json_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_data(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(data).decode("ascii")
    return str(value)


READERS: dict[str, type[RecordReader]] = {
    "jsonl": JsonlRecords,
    "json": JsonArrayRecords,
    "csv": CsvRecords,
    "parquet": ParquetRecords,
}


def open_records(path: str, format: str | None = None, max_row_bytes: int = MAX_ROW_BYTES) -> RecordReader:
    """A reader of the records of `path` (`-` is standard input) in `format` (else by its extension)."""
    return READERS[detect_format(path, format)](path, max_row_bytes)
