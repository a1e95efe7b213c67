"""Grading datasets: rows in, result rows out, and what they came to.

`gradergen grade` is built from these parts, which other runners (a Ray job, a trainer's evaluation
loop) can use as they are:

    from gradergen.grading import read_rows, result_row, response_data, write_results, summarise

    with read_rows("rows.jsonl", sample_field="output_text", id_field="id") as rows:  # .json .csv .parquet
        for row in rows:                  # Row(index, where, id, item, sample, error, size), in order
            if row.error: ...             # unreadable, no sample: keep its place, write it with the error
            response = compiled.run(row.sample, row.item)
            result = result_row(row.index, row.id, response_data(response, timings=False))

    write_results(Path("results.jsonl"), result_rows)    # one JSON object a line, synced to disk
    summary = summarise("results.jsonl")                 # Summary (or Comparison for two graders)
    summary.as_dict()                                    # count, mean, quantiles, histogram, flags, …

The shapes are stable: a result row is `{"index", "id", "reward", "response"}` (plus `"error"` with
a null reward and response when the row could not be graded); see `results` for the details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .readers import FORMATS, InputFileError, Record, open_records
    from .results import (
        ResultWriter,
        ResumeRefused,
        compared_row,
        dumps,
        grader_digest,
        response_data,
        result_row,
        write_results,
    )
    from .rows import DEFAULT_SAMPLE_FIELD, Row, RowReader, read_rows
    from .summary import Comparison, Distribution, Summary, read_results, summarise

_FROM = {
    "readers": ("FORMATS", "InputFileError", "Record", "open_records"),
    "results": (
        "ResultWriter",
        "ResumeRefused",
        "compared_row",
        "dumps",
        "grader_digest",
        "response_data",
        "result_row",
        "write_results",
    ),
    "rows": ("DEFAULT_SAMPLE_FIELD", "Row", "RowReader", "read_rows"),
    "summary": ("Comparison", "Distribution", "Summary", "read_results", "summarise"),
}
# results loads the engine's outcome (and with it the generated bindings): not at every command's start-up
__getattr__ = lazy_exports(__name__, {name: module for module, names in _FROM.items() for name in names})

__all__ = [
    "DEFAULT_SAMPLE_FIELD",
    "FORMATS",
    "Comparison",
    "Distribution",
    "InputFileError",
    "Record",
    "ResultWriter",
    "ResumeRefused",
    "Row",
    "RowReader",
    "Summary",
    "compared_row",
    "dumps",
    "grader_digest",
    "open_records",
    "read_results",
    "read_rows",
    "response_data",
    "result_row",
    "summarise",
    "write_results",
]
