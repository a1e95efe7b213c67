"""Model answers kept on disk, so grading the same samples again calls no model.

One sqlite file (`[cache] path`) in WAL mode: readers never wait for a writer, and any number of
threads and processes share it (each process opens its own connection; a busy file is waited on for
up to 30 s). Two tables:

- `replies`: a chat reply (the answering model, content, refusal, finish reason, token usage) by the
  hash of the backend's base URL and the request body — the served model, the messages, the sampling
  parameters and the response schema. The reply is kept, never the reward, so a grader whose `range`
  or `passing_labels` changed is graded again from the cache for free.
- `embeddings`: a vector by the hash of the base URL, the embeddings model and the text.

A cache that cannot be opened is a configuration error naming the file; one that fails later (a full
disk) is a miss or a lost write, reported as a note, never a failed grade.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from array import array
from pathlib import Path
from typing import Any

from ..errors import EngineError

FORMAT = 1
"""Part of every key: bump it when what is stored changes, and old entries are simply not found."""

_TABLES = (
    "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL, stored_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)",
)


def key_of(*parts: Any) -> str:
    """A stable hash of JSON-serialisable parts."""
    text = json.dumps([FORMAT, *parts], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class CacheError(Exception):
    """A read or write of an open cache failed; the caller notes it and carries on."""


class Cache:
    """The cache file; one connection per process, shared by its threads under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            hint = "; delete it, or run without the cache ([cache] enabled = false, GRADERGEN_CACHE=off)"
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                for statement in _TABLES:
                    connection.execute(statement)
                connection.commit()
            except (OSError, sqlite3.Error) as exc:
                raise EngineError(f"the model cache {self.path} cannot be used: {exc}{hint}") from None
            self._connection = connection
        return self._connection

    def _read(self, sql: str, key: str) -> Any:
        with self._lock:
            connection = self._connect()
            try:
                row = connection.execute(sql, (key,)).fetchone()
            except sqlite3.Error as exc:
                raise CacheError(f"reading the cache {self.path}: {exc}") from None
        return None if row is None else row[0]

    def _write(self, sql: str, values: tuple[Any, ...]) -> None:
        with self._lock:
            connection = self._connect()
            try:
                connection.execute(sql, values)
                connection.commit()
            except sqlite3.Error as exc:
                raise CacheError(f"writing the cache {self.path}: {exc}") from None

    def open(self) -> None:
        """Open the file now (EngineError when it cannot be used), instead of at the first lookup."""
        with self._lock:
            self._connect()

    def reply(self, key: str) -> dict[str, Any] | None:
        text = self._read("SELECT reply FROM replies WHERE key = ?", key)
        if text is None:
            return None
        try:
            found: dict[str, Any] = json.loads(text)
        except ValueError:
            return None  # a damaged entry is a miss; the next answer replaces it
        return found

    def store_reply(self, key: str, reply: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO replies (key, reply, stored_at) VALUES (?, ?, ?)",
            (key, json.dumps(reply, separators=(",", ":")), time.time()),
        )

    def vector(self, key: str) -> list[float] | None:
        blob = self._read("SELECT vector FROM embeddings WHERE key = ?", key)
        if blob is None:
            return None
        values = array("d")
        values.frombytes(blob)
        return values.tolist()

    def store_vector(self, key: str, vector: list[float]) -> None:
        self._write(
            "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
            (key, array("d", vector).tobytes()),
        )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
