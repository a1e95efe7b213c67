"""`gradergen grade --engine ray`: the same input through the local engine and through a local 2-CPU Ray
cluster the suite starts gives byte-identical results files.

The data mixes rows of every kind a results file holds: graded cleanly (both rewards), a grader failure
(a missing item field: invalid_variable_error), an unreadable line and a row without a sample. Besides
the two files being equal, the expected rewards are worked out by hand from the data.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradergen.cli import build_parser
from gradergen.engine import EngineConfig
from gradergen.engine.config import DEFAULT_IMAGE
from gradergen.engine.sandbox.image import installed
from gradergen.engine.services import close_all
from gradergen.grading import command

EXACT = {
    "type": "string_check",
    "name": "exact",
    "input": "{{ sample.output_text }}",
    "operation": "eq",
    "reference": "{{ item.answer }}",
}
KEY_VARIABLE = "GRADERGEN_RAY_TEST_KEY"
JUDGE = {
    "type": "score_model",
    "name": "judge",
    "model": "judge-model",
    "input": [{"role": "user", "content": "Rate {{ sample.output_text }} against {{ item.answer }}"}],
}
HALF = {
    "type": "python",
    "name": "half",
    "source": "def grade(sample, item):\n    return len(sample['output_text']) / 2\n",
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    try:
        import ray
    except ImportError:
        pytest.fail("Ray is not installed: pip install 'gradergen[ray]' (or -r requirements-dev.txt)")
    from gradergen.grading.ray_engine import connect

    os.environ[KEY_VARIABLE] = "test-key"  # before the cluster starts: its workers inherit it
    connect(num_cpus=2)  # a local cluster of 2 CPUs, in this process; every --engine ray below uses it
    yield
    ray.shutdown()
    close_all()


def grade(*argv: str) -> tuple[int, str]:
    """`gradergen grade --quiet ARGV` in this process (so that --engine ray finds the suite's cluster)."""
    err = io.StringIO()
    status = command.run(build_parser().parse_args(["grade", "--quiet", *argv]), io.StringIO(), err)
    return status, err.getvalue()


def write_rows(path: Path, count: int) -> list[float | None]:
    """`count` rows and the reward each must get (None: not graded)."""
    expected: list[float | None] = []
    with path.open("w") as out:
        for n in range(count):
            if n == 7:
                out.write("{not json\n")
                expected.append(None)
            elif n == 11:
                out.write(json.dumps({"id": f"r{n}", "answer": "a"}) + "\n")  # no sample
                expected.append(None)
            elif n % 5 == 3:
                out.write(json.dumps({"id": f"r{n}", "model_sample": "a"}) + "\n")  # no answer: flagged
                expected.append(0.0)
            else:
                answer = "a" if n % 2 else "b"
                out.write(json.dumps({"id": f"r{n}", "answer": answer, "model_sample": "a"}) + "\n")
                expected.append(1.0 if answer == "a" else 0.0)
    return expected


def grader_file(tmp_path: Path, grader: dict[str, Any]) -> str:
    path = tmp_path / f"{grader['name']}.json"
    path.write_text(json.dumps(grader))
    return str(path)


def test_ray_writes_the_local_engines_file_byte_for_byte(cluster: None, tmp_path: Path) -> None:
    data = tmp_path / "rows.jsonl"
    expected = write_rows(data, 2500)
    grader = grader_file(tmp_path, EXACT)
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common = ["--grader", grader, "--data", str(data), "--id-field", "id"]
    assert grade(*common, "--out", str(local))[0] == 3  # 3: some rows could not be graded
    status, said = grade(*common, "--out", str(ray_out), "--engine", "ray")
    assert status == 3, said
    assert ray_out.read_bytes() == local.read_bytes()
    rows = [json.loads(line) for line in ray_out.read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(2500))
    assert [r["reward"] for r in rows] == expected
    assert rows[3]["response"]["metadata"]["errors"]["invalid_variable_error"] is True
    assert "rows.jsonl:8: not valid JSON" in rows[7]["error"]
    assert rows[11]["id"] == "r11" and "model_sample" in rows[11]["error"]


def test_ray_resumes_a_stopped_run_without_regrading_its_rows(cluster: None, tmp_path: Path) -> None:
    data = tmp_path / "rows.jsonl"
    write_rows(data, 1200)
    grader = grader_file(tmp_path, EXACT)
    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    common = ["--grader", grader, "--data", str(data), "--id-field", "id"]
    assert grade(*common, "--out", str(whole))[0] == 3
    assert grade(*common, "--out", str(cut), "--engine", "ray")[0] == 3
    text = cut.read_bytes()
    lines = text.split(b"\n")
    cut.write_bytes(b"\n".join(lines[:500]) + b"\n" + lines[500][:40])  # a stop in the middle of row 500
    status, said = grade(*common, "--out", str(cut), "--engine", "ray", "--resume")
    assert status == 3, said
    assert cut.read_bytes() == whole.read_bytes()


def test_a_python_grader_on_ray_gives_the_local_file(cluster: None, tmp_path: Path) -> None:
    if installed(DEFAULT_IMAGE) is None:
        pytest.fail(f"the python image {DEFAULT_IMAGE} is not built: run `make images`")
    data = tmp_path / "rows.jsonl"
    with data.open("w") as out:
        for n in range(300):
            out.write(json.dumps({"model_sample": "x" * (n % 9)}) + "\n")
    grader = grader_file(tmp_path, HALF)
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert grade("--grader", grader, "--data", str(data), "--out", str(local))[0] == 0
    status, said = grade("--grader", grader, "--data", str(data), "--out", str(ray_out), "--engine", "ray")
    assert status == 0, said
    assert ray_out.read_bytes() == local.read_bytes()
    rewards = [json.loads(line)["reward"] for line in ray_out.read_text().splitlines()]
    assert rewards == [(n % 9) / 2 for n in range(300)]


def test_ray_blocks_come_back_in_data_order_from_many_actors(cluster: None, tmp_path: Path) -> None:
    from gradergen.grading.ray_engine import RowSource, grade_with_ray

    data = tmp_path / "rows.jsonl"
    expected = write_rows(data, 900)
    rows = list(
        grade_with_ray(EXACT, RowSource(str(data), id_field="id"), EngineConfig.load(environ={}),
                       actors=2, batch_rows=50)
    )  # fmt: skip
    assert [r["index"] for r in rows] == list(range(900))
    assert [r["reward"] for r in rows] == expected


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--ray-address", "127.0.0.1:1"], "--ray-address needs --engine ray"),
        (["--engine", "ray", "--data", "-"], "--engine ray reads the data on the cluster"),
    ],
)
def test_ray_options_are_checked(tmp_path: Path, extra: list[str], said: str) -> None:
    grader = grader_file(tmp_path, EXACT)
    argv = ["--grader", grader, "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o.jsonl")]
    if "--data" in extra:
        argv = ["--grader", grader, "--out", str(tmp_path / "o.jsonl")]
    status, err = grade(*argv, *extra)
    assert status == 2 and said in err, err


def test_compare_on_ray_is_refused(tmp_path: Path) -> None:
    grader = grader_file(tmp_path, EXACT)
    status, err = grade(
        "--compare", grader, grader, "--data", "x.jsonl", "--out", str(tmp_path / "o"), "--engine", "ray"
    )
    assert status == 2 and "--compare runs on the local engine" in err, err


def test_rewards_in_a_ray_worker_keep_their_sandbox_across_calls(cluster: None, tmp_path: Path) -> None:
    """verl's reward workers are Ray actors calling compute_score once per response: the grader is
    compiled once per process and its sandbox workers stay up between calls."""
    import ray

    if installed(DEFAULT_IMAGE) is None:
        pytest.fail(f"the python image {DEFAULT_IMAGE} is not built: run `make images`")
    grader = tmp_path / "grader.json"
    grader.write_text(json.dumps({
        "type": "python", "name": "truth", "source": "def grade(sample, item):\n"
        "    return 1.0 if sample['output_text'] == item['ground_truth'] else 0.0\n",
    }))  # fmt: skip

    @ray.remote(num_cpus=1)
    class RewardWorker:
        def score(self, solution: str, truth: str) -> tuple[dict[str, Any], list[int]]:
            from gradergen.engine.services import services_for
            from gradergen.rewards.core import shared_rewarder
            from gradergen.rewards.verl import compute_score

            answer = compute_score("d", solution, truth, {}, grader=str(grader))
            config = shared_rewarder(str(grader), None).compiled.config
            pool = services_for(config).sandbox()
            return answer, sorted(w.proc.pid for w in pool._workers)

    worker = RewardWorker.remote()  # type: ignore[attr-defined]
    calls = [ray.get(worker.score.remote(s, "4"), timeout=120) for s in ("4", "5", "4", "4")]
    assert [answer["score"] for answer, _ in calls] == [1.0, 0.0, 1.0, 1.0]
    pids = [p for _, p in calls]
    assert pids[0] and all(p == pids[0] for p in pids), pids
    ray.kill(worker)


def test_a_model_grader_on_ray_gives_the_local_file(cluster: None, tmp_path: Path) -> None:
    """Rows one at a time through `arun` in each actor, on one event loop for the actor's life."""
    from fake_openai import FakeOpenAI, score

    data = tmp_path / "rows.jsonl"
    with data.open("w") as out:
        for n in range(240):
            out.write(json.dumps({"id": n, "answer": "a", "model_sample": f"s{n}"}) + "\n")
    grader = grader_file(tmp_path, JUDGE)
    with FakeOpenAI() as fake:
        fake.always(score(0.5))
        config = tmp_path / "gradergen.toml"
        config.write_text(
            f'[models]\nbase_url = "{fake.url}"\napi_key_env = "{KEY_VARIABLE}"\nmax_retries = 1\n'
            "[cache]\nenabled = false\n"
        )
        common = ["--grader", grader, "--data", str(data), "--id-field", "id", "--config", str(config)]
        local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
        assert grade(*common, "--out", str(local))[0] == 0
        status, said = grade(*common, "--out", str(ray_out), "--engine", "ray")
        # one actor, many blocks: its model client outlives the first block
        from gradergen.grading.ray_engine import RowSource, ray_lines

        lines = list(
            ray_lines(JUDGE, RowSource(str(data), id_field="id"), EngineConfig.load(config),
                      actors=1, batch_rows=40)
        )  # fmt: skip
    assert status == 0, said
    assert ray_out.read_bytes() == local.read_bytes()
    assert "\n".join(lines) + "\n" == local.read_text()
    rows = [json.loads(line) for line in ray_out.read_text().splitlines()]
    assert [r["reward"] for r in rows] == [0.5] * 240
    assert all(r["response"]["metadata"]["errors"]["model_grader_server_error"] is False for r in rows)
