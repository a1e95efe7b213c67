"""Grading a dataset on a Ray cluster: the same result rows as the local engine, from many machines.

    from gradergen.grading.ray_engine import RowSource, grade_with_ray

    source = RowSource("rows.jsonl", sample_field="output_text", id_field="id")
    for row in grade_with_ray(grader, source, config, address="auto"):  # in data order
        ...  # {"index", "id", "reward", "response"}, or "error" for a row not graded

Ray Data reads the input: one read task, pinned to the driver's node (where the file is), streams the
rows through gradergen's own readers (so every format, `--samples` pairing and unreadable-row error is
the local engine's) in blocks of `batch_size`. `map_batches` hands the blocks to a pool of actors; each
actor compiles the grader once and keeps it — and with it its warm sandbox pool and model client
(gradergen.engine.services) — for its lifetime, grading every block it gets exactly as the local engine
grades a chunk. The driver reads the graded blocks back in data order (Ray Data's `preserve_order`)
and checks that no row shifted or vanished. Values cross the cluster pickled, so a Parquet timestamp
or a CSV text reaches the grader as the local reader gave it.

`metadata.execution_time` is 0.0 unless `timings=True`, as in `gradergen grade`: the output is then
byte-identical to the local engine's on the same input.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import pickle
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from ..engine import CompiledGrader, EngineConfig, EngineError, compile_grader
from .pipeline import Job, kinds_in, one_at_a_time
from .readers import MAX_ROW_BYTES
from .results import PlainLines, dumps, is_plain, response_data, result_row
from .rows import DEFAULT_SAMPLE_FIELD, read_rows
from .summary import Summary

BATCH_ROWS = 1000
"""Rows in a block: what one actor grades at once (the local engine's chunk)."""
_COLUMNS = ("index", "row")


class RayUnavailable(EngineError):
    """Ray is not installed, or the cluster cannot be reached; the message says what to do."""


@dataclass(frozen=True)
class RowSource:
    """Where the rows are and how to read them: `gradergen.grading.read_rows`'s arguments."""

    path: str
    format: str | None = None
    sample_field: str = DEFAULT_SAMPLE_FIELD
    item_field: str | None = None
    id_field: str | None = None
    samples: str | None = None
    samples_format: str | None = None
    max_row_bytes: int = MAX_ROW_BYTES


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # ray without its data extra has no ray.data
    except ImportError as exc:
        raise RayUnavailable(f"--engine ray needs Ray Data ({exc}): pip install 'gradergen[ray]'") from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> Any:
    """The Ray module, connected: to `address` ("auto": the cluster this node belongs to), to the
    cluster this process is already connected to, or to a new local one of `num_cpus` CPUs."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    try:
        if address:
            ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise RayUnavailable(f"cannot connect to {where}: {exc}") from None
    return ray


# ------------------------------------------------------------------------------ reading
def _read_blocks(source: RowSource, batch_rows: int, skip: int) -> Iterator[Any]:
    """The rows of `source` from row `skip` on, as Arrow blocks of (index, pickled row, the reader's
    position after the block) — what Ray Data's read task runs."""
    import pyarrow as pa

    def block(indexes: list[int], rows: list[bytes], position: int) -> Any:
        return pa.table(
            {
                "index": pa.array(indexes, pa.int64()),
                "row": pa.array(rows, pa.binary()),
                "position": pa.array([position] * len(rows), pa.int64()),
            }
        )

    indexes: list[int] = []
    rows: list[bytes] = []
    with read_rows(**asdict(source)) as reader:
        for row in reader:
            if row.index < skip:
                continue
            indexes.append(row.index)
            rows.append(pickle.dumps((row.id, row.item, row.sample, row.error), pickle.HIGHEST_PROTOCOL))
            if len(rows) >= batch_rows:
                yield block(indexes, rows, reader.position)
                indexes, rows = [], []
        if rows:
            yield block(indexes, rows, reader.position)


def _datasource(source: RowSource, batch_rows: int, skip: int) -> Any:
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class Rows(Datasource):
        """One read task over the whole file: the readers stream, and the order is the file's."""

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[Any]:
            metadata = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
            return [ReadTask(lambda: _read_blocks(source, batch_rows, skip), metadata)]

    return Rows()  # type: ignore[no-untyped-call]


# ------------------------------------------------------------------------------ grading
class GradingActor:
    """A Ray actor grading blocks of rows into result lines; the compiled grader, and so the sandbox
    pool and model client it builds on first use, live as long as the actor."""

    def __init__(self, compiled: CompiledGrader, timings: bool) -> None:
        self.compiled = compiled
        self.timings = timings
        self.plain = PlainLines(compiled.name, compiled.kind)
        self.one_at_a_time = one_at_a_time(compiled.grader)
        self.loop: asyncio.AbstractEventLoop | None = None
        """One event loop for the actor's life, which its model client's connections stay on."""

    def __call__(self, block: Any) -> dict[str, list[Any]]:
        indexes = block["index"].to_pylist()
        rows = [pickle.loads(raw) for raw in block["row"].to_pylist()]
        lines, plain = self.lines(indexes, rows)
        return {
            "index": indexes,
            "line": lines,
            "plain_reward": plain,
            "id": [pickle.dumps(row[0], pickle.HIGHEST_PROTOCOL) for row in rows],
            "position": block["position"].to_pylist(),
        }

    def lines(
        self, indexes: list[int], rows: list[tuple[Any, Any, Any, str | None]]
    ) -> tuple[list[str], list[float | None]]:
        """Each row's result line, and its reward when the row is plain (`is_plain`: a summary needs
        no more of it), None otherwise."""
        good = [n for n, row in enumerate(rows) if row[3] is None]
        samples = [rows[n][2] for n in good]
        items = [rows[n][1] for n in good]
        lines: list[str] = [""] * len(rows)
        plain: list[float | None] = [None] * len(rows)
        for n, row in enumerate(rows):
            if row[3] is not None:
                lines[n] = dumps(result_row(indexes[n], row[0], None, row[3]))
        if not good:
            return lines, plain
        if self.one_at_a_time:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
            responses = self.loop.run_until_complete(self._each(samples, items))
            for n, response in zip(good, responses, strict=True):
                lines[n] = dumps(result_row(indexes[n], rows[n][0], response_data(response, self.timings)))
            return lines, plain
        started = time.perf_counter()
        results = self.compiled.grade_many(samples, items)
        each = (time.perf_counter() - started) / len(good)
        name, kind = self.compiled.name, self.compiled.kind
        for position, n in enumerate(good):
            outcome = results.outcome(position)
            if is_plain(outcome):
                time_text = float.__repr__(each) if self.timings else "0.0"
                lines[n] = self.plain.line(indexes[n], dumps(rows[n][0]), outcome.reward, time_text)
                plain[n] = float(outcome.reward)
            else:
                data = response_data(outcome.response(name, kind, each), self.timings)
                lines[n] = dumps(result_row(indexes[n], rows[n][0], data))
        return lines, plain

    async def _each(self, samples: list[Any], items: list[Any]) -> list[Any]:
        async def one(sample: Any, item: Any) -> Any:
            started = time.perf_counter()
            response = await self.compiled.arun(sample, item)
            if self.timings:
                response.metadata.execution_time = time.perf_counter() - started
            return response

        return list(await asyncio.gather(*(one(s, i) for s, i in zip(samples, items, strict=True))))


def ray_blocks(
    compiled: CompiledGrader,
    rows: RowSource,
    address: str | None = None,
    *,
    actors: int | None = None,
    batch_rows: int = BATCH_ROWS,
    timings: bool = False,
    skip: int = 0,
) -> Iterator[Any]:
    """The graded blocks (Arrow tables: index, line, plain_reward, id, position), in data order,
    from row `skip` on; a row out of its place is an error, never written."""
    ray = connect(address)
    compiled = for_actors(compiled)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    here = ray.get_runtime_context().get_node_id()
    size = actors if actors is not None else default_actors(ray, compiled)
    if size < 1:
        raise EngineError(f"actors is at least 1, not {size}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ray_remote_args: named ones from Ray 2.64
        read = ray.data.read_datasource(
            _datasource(rows, batch_rows, skip),
            num_cpus=0,  # reading is light, and must not wait for a CPU the actors hold
            ray_remote_args={"scheduling_strategy": NodeAffinitySchedulingStrategy(here, soft=False)},
        )
    dataset = read.map_batches(
        GradingActor,
        fn_constructor_args=(compiled, timings),
        batch_size=None,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=_actor_cpus(compiled),
    )
    expected = skip
    for block in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        indexes = block["index"].to_pylist()
        if indexes != list(range(expected, expected + len(indexes))):
            found = next(i for n, i in enumerate(indexes) if i != expected + n)
            raise EngineError(
                f"the Ray path returned row {found} where row {expected + indexes.index(found)} belongs"
            )
        expected += len(indexes)
        yield block


def ray_lines(
    grader: Any,
    rows: RowSource,
    config: EngineConfig | None = None,
    address: str | None = None,
    **options: Any,
) -> Iterator[str]:
    """The result rows of `rows` graded on a Ray cluster, as the JSON lines `gradergen grade` writes,
    in data order. Options: `actors` (default: as many as the cluster's CPUs hold, a python-grader
    actor taking one CPU per sandbox worker), `batch_rows`, `timings`, `skip` (rows to leave out
    at the start)."""
    compiled = grader if isinstance(grader, CompiledGrader) else compile_grader(grader, config)
    for block in ray_blocks(compiled, rows, address, **options):
        yield from block["line"].to_pylist()


def grade_with_ray(
    grader: Any,
    rows: RowSource,
    config: EngineConfig | None = None,
    address: str | None = None,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """The result rows (`{"index", "id", "reward", "response"}`, or with `"error"`), in data order;
    see `ray_lines` for the options."""
    for line in ray_lines(grader, rows, config, address, **options):
        yield json.loads(line)


def _actor_cpus(compiled: CompiledGrader) -> float:
    """A python-grader actor mostly waits on its sandbox workers, which use the CPUs: it reserves
    one per worker so that the cluster starts no more sandbox workers than it has CPUs."""
    if "python" in kinds_in(compiled.grader):
        return float(max(1, compiled.config.python.workers or 1))
    return 1.0


def for_actors(compiled: CompiledGrader) -> CompiledGrader:
    """The grader as the actors compile it. `[python] workers` unset means one sandbox worker per CPU:
    on a cluster that is one per actor, each actor reserving its CPU (a node's os.cpu_count() would
    start every node's CPUs' worth of workers in each actor)."""
    if "python" not in kinds_in(compiled.grader) or compiled.config.python.workers is not None:
        return compiled
    python = dataclasses.replace(compiled.config.python, workers=1)
    return compile_grader(compiled.grader, dataclasses.replace(compiled.config, python=python))


def default_actors(ray: Any, compiled: CompiledGrader) -> int:
    """As many actors as the cluster's CPUs hold (the read task reserves none)."""
    cpus = float(ray.cluster_resources().get("CPU", 1))
    return max(1, int(cpus // _actor_cpus(compiled)))


class RayJob(Job):
    """`gradergen grade --engine ray`: the local Job's resume checks, writer, summary and progress,
    with the rows graded on a Ray cluster. One grader (no --compare)."""

    def __init__(
        self,
        graders: Any,
        rows: Any,
        writer: Any,
        *,
        source: RowSource,
        address: str | None = None,
        actors: int | None = None,
        **options: Any,
    ) -> None:
        if len(graders) != 1:
            raise EngineError("--engine ray grades with one grader: --compare runs on the local engine")
        super().__init__(graders, rows, writer, **options)
        self.source = source
        self.address = address
        self.actors = actors
        self._position = 0

    def run(self) -> Summary:
        rows = iter(self.rows)
        self._skip_written(rows)  # what a stopped run wrote is checked against the data here
        self._position = self.rows.position
        summary = self.summary
        assert isinstance(summary, Summary)
        self.writer.open()
        blocks = ray_blocks(
            self.graders[0],
            self.source,
            self.address,
            actors=self.actors,
            batch_rows=self.chunk_rows,
            timings=self.timings,
            skip=self.tally.rows,
        )
        for block in blocks:
            lines = block["line"].to_pylist()
            ids = block["id"].to_pylist()
            for index, line, reward, raw_id in zip(
                block["index"].to_pylist(), lines, block["plain_reward"].to_pylist(), ids, strict=True
            ):
                if reward is None:
                    summary.add_row(json.loads(line))
                else:
                    summary.add_plain(index, pickle.loads(raw_id), reward)
            positions = block["position"].to_pylist()
            self._position = positions[-1] if positions else self._position
            self._flush(lines)
        self.tally.finished = True
        self._report()
        return summary

    def _report(self) -> None:
        shown = self.progress
        if shown is None:
            return

        def at_ray_position(tally: Any) -> None:
            tally.position = self._position  # the local reader stopped where the written rows end
            shown(tally)

        self.progress = at_ray_position
        try:
            super()._report()
        finally:
            self.progress = shown
