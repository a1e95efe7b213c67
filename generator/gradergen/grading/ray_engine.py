"""Grading a dataset on a Ray cluster: the same result rows as the local engine, from many machines.

    from gradergen.grading.ray_engine import RowSource, grade_with_ray

    source = RowSource("rows.jsonl", sample_field="output_text", id_field="id")
    for row in grade_with_ray(grader, source, config, address="auto"):   # in data order
        ...                                                              # {"index", "id", "reward", "response"}

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
import pickle
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..engine import CompiledGrader, EngineConfig, EngineError, compile_grader
from .results import PlainLines, dumps, is_plain, response_data, result_row
from .rows import DEFAULT_SAMPLE_FIELD, read_rows

BATCH_ROWS = 1000
"""Rows in a block: what one actor grades at once (the local engine's chunk)."""
MODEL_KINDS = frozenset({"score_model", "label_model"})
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


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (ray without its data extra has no ray.data)
    except ImportError as exc:
        raise RayUnavailable(
            f"--engine ray needs Ray Data ({exc}): pip install 'gradergen[ray]'"
        ) from None
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
def _read_blocks(source: RowSource, batch_rows: int) -> Iterator[Any]:
    """The rows of `source` as Arrow blocks of (index, pickled row) — run by Ray Data's read task."""
    import pyarrow as pa

    indexes: list[int] = []
    rows: list[bytes] = []
    with read_rows(**asdict(source)) as reader:
        for row in reader:
            indexes.append(row.index)
            rows.append(pickle.dumps((row.id, row.item, row.sample, row.error), pickle.HIGHEST_PROTOCOL))
            if len(rows) >= batch_rows:
                yield pa.table({"index": pa.array(indexes, pa.int64()), "row": pa.array(rows, pa.binary())})
                indexes, rows = [], []
    if rows:
        yield pa.table({"index": pa.array(indexes, pa.int64()), "row": pa.array(rows, pa.binary())})


def _datasource(source: RowSource, batch_rows: int) -> Any:
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class Rows(Datasource):  # type: ignore[misc]
        """One read task over the whole file: the readers stream, and the order is the file's."""

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, **_: Any) -> list[Any]:
            metadata = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
            return [ReadTask(lambda: _read_blocks(source, batch_rows), metadata)]

    return Rows()


# ------------------------------------------------------------------------------ grading
def kinds_in(grader: Mapping[str, Any]) -> set[str]:
    """Every grader type in a grader, its sub-graders' included."""
    found = {str(grader.get("type"))}
    subs = grader.get("graders")
    if isinstance(subs, Mapping):
        for sub in subs.values():
            if isinstance(sub, Mapping):
                found |= kinds_in(sub)
    return found


def uses_arun(grader: Mapping[str, Any]) -> bool:
    """Whether the local engine grades this grader's rows one at a time with `arun` (model graders
    anywhere, or a multi grader holding a python grader) rather than in batches with `grade_many`."""
    every = kinds_in(grader)
    return bool(every & MODEL_KINDS) or (grader.get("type") == "multi" and "python" in every)


class GradingActor:
    """A Ray actor grading blocks of rows into result lines; the compiled grader, and so the sandbox
    pool and model client it builds on first use, live as long as the actor."""

    def __init__(self, compiled: CompiledGrader, timings: bool) -> None:
        self.compiled = compiled
        self.timings = timings
        self.plain = PlainLines(compiled.name, compiled.kind)
        self.one_at_a_time = uses_arun(compiled.grader)

    def __call__(self, block: Any) -> dict[str, list[Any]]:
        indexes = [int(i) for i in block["index"]]
        rows = [pickle.loads(bytes(raw)) for raw in block["row"]]
        lines = self.lines(indexes, rows)
        return {"index": indexes, "line": lines}

    def lines(self, indexes: list[int], rows: list[tuple[Any, Any, Any, str | None]]) -> list[str]:
        good = [n for n, row in enumerate(rows) if row[3] is None]
        samples = [rows[n][2] for n in good]
        items = [rows[n][1] for n in good]
        lines: list[str] = [""] * len(rows)
        for n, row in enumerate(rows):
            if row[3] is not None:
                lines[n] = dumps(result_row(indexes[n], row[0], None, row[3]))
        if not good:
            return lines
        if self.one_at_a_time:
            responses = asyncio.run(self._each(samples, items))
            for n, response in zip(good, responses, strict=True):
                lines[n] = dumps(result_row(indexes[n], rows[n][0], response_data(response, self.timings)))
            return lines
        started = time.perf_counter()
        results = self.compiled.grade_many(samples, items)
        each = (time.perf_counter() - started) / len(good)
        name, kind = self.compiled.name, self.compiled.kind
        for position, n in enumerate(good):
            outcome = results.outcome(position)
            if is_plain(outcome):
                time_text = float.__repr__(each) if self.timings else "0.0"
                lines[n] = self.plain.line(indexes[n], dumps(rows[n][0]), outcome.reward, time_text)
            else:
                data = response_data(outcome.response(name, kind, each), self.timings)
                lines[n] = dumps(result_row(indexes[n], rows[n][0], data))
        return lines

    async def _each(self, samples: list[Any], items: list[Any]) -> list[Any]:
        async def one(sample: Any, item: Any) -> Any:
            started = time.perf_counter()
            response = await self.compiled.arun(sample, item)
            if self.timings:
                response.metadata.execution_time = time.perf_counter() - started
            return response

        return list(await asyncio.gather(*(one(s, i) for s, i in zip(samples, items, strict=True))))


def ray_lines(
    grader: Any,
    rows: RowSource,
    config: EngineConfig | None = None,
    address: str | None = None,
    *,
    actors: int | None = None,
    batch_rows: int = BATCH_ROWS,
    timings: bool = False,
) -> Iterator[str]:
    """The result rows of `rows` graded on a Ray cluster, as the JSON lines `gradergen grade` writes,
    in data order. `actors`: how many grading actors (default: the cluster's CPUs, divided by the
    sandbox workers each python-grader actor starts)."""
    compiled = grader if isinstance(grader, CompiledGrader) else compile_grader(grader, config)
    ray = connect(address)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    here = ray.get_runtime_context().get_node_id()
    count = actors if actors is not None else default_actors(ray, compiled)
    dataset = ray.data.read_datasource(
        _datasource(rows, batch_rows),
        num_cpus=0,
        ray_remote_args={"scheduling_strategy": NodeAffinitySchedulingStrategy(here, soft=False)},
    ).map_batches(
        GradingActor,
        fn_constructor_args=(compiled, timings),
        batch_size=None,
        batch_format="pyarrow",
        concurrency=count,
        num_cpus=_actor_cpus(compiled),
    )
    expected = 0
    for block in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        for index, line in zip(block["index"].to_pylist(), block["line"].to_pylist(), strict=True):
            if index != expected:
                raise EngineError(
                    f"the Ray path returned row {index} where row {expected} belongs: rows would shift"
                )
            expected += 1
            yield line


def grade_with_ray(
    grader: Any,
    rows: RowSource,
    config: EngineConfig | None = None,
    address: str | None = None,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """The result rows (`{"index", "id", "reward", "response"}`, or with `"error"`), in data order;
    see `ray_lines` for the options."""
    import json

    for line in ray_lines(grader, rows, config, address, **options):
        yield json.loads(line)


def _actor_cpus(compiled: CompiledGrader) -> float:
    """A python-grader actor mostly waits on its sandbox workers, which use the CPUs: it reserves
    one per worker so that the cluster starts no more sandbox workers than it has CPUs."""
    if "python" in kinds_in(compiled.grader):
        return float(max(1, compiled.config.python.workers))
    return 1.0


def default_actors(ray: Any, compiled: CompiledGrader) -> int:
    """As many actors as the cluster's CPUs hold (the read task reserves none)."""
    cpus = float(ray.cluster_resources().get("CPU", 1))
    return max(1, int(cpus // _actor_cpus(compiled)))
