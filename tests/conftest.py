from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_server import FaultServer
from harness import SPEC
from mock_server import MockServer


@pytest.fixture(scope="session")
def mock_server_session() -> Iterator[MockServer]:
    with MockServer(SPEC) as server:
        yield server


@pytest.fixture
def mock_server(mock_server_session: MockServer) -> Iterator[MockServer]:
    """The shared mock API, emptied of recorded requests and scripted answers for each test."""
    mock_server_session.reset()
    yield mock_server_session
    mock_server_session.reset()


@pytest.fixture(scope="session")
def fault_server_session() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fault_server(fault_server_session: FaultServer) -> Iterator[FaultServer]:
    """The misbehaving server of the failure tests, its hit counts cleared for each test."""
    fault_server_session.reset()
    yield fault_server_session


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make dist` builds, once per session, in a temporary directory."""
    from release import make_dist

    return make_dist(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="session")
def installed_gradergen(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a clean virtualenv with only gradergen's released wheel (and its pinned
    dependencies) installed: the gradergen another repository's build runs."""
    from release import make_venv, one, pip_install

    bin_dir = make_venv(tmp_path_factory.mktemp("gradergen-venv"))
    pip_install(bin_dir, str(one(dist / "gradergen", "gradergen-*.whl")))
    return bin_dir


# ------------------------------------------------------------------ `gradergen serve`, for every client
SERVER_API_KEY = "sk-gradergen-server-tests"


@pytest.fixture(scope="session")
def fake_models() -> Iterator[Any]:
    """The models behind the server's model graders: judge-score answers 0.8, judge-label 'good',
    and for the 002 curl bodies gpt-5-mini 1.0 and gpt-audio 0.9."""
    from fake_openai import FakeOpenAI, label, score

    with FakeOpenAI() as fake:
        fake.always(score(0.8), model="judge-score")
        fake.always(label("good"), model="judge-label")
        fake.always(score(1.0), model="gpt-5-mini")
        fake.always(score(0.9), model="gpt-audio")
        yield fake


def server_config(fake_models: Any, **python: Any) -> dict[str, dict[str, Any]]:
    return {
        "models": {"base_url": fake_models.url, "api_key_env": "GRADERGEN_TESTS_NO_KEY", "max_retries": 0,
                   "timeout": 20},
        "embeddings": {"base_url": fake_models.url, "api_key_env": "GRADERGEN_TESTS_NO_KEY"},
        "python": {"timeout": 10, "memory_mb": 512, "workers": 2, **python},
    }  # fmt: skip


@pytest.fixture(scope="session")
def graders_server(fake_models: Any) -> Iterator[Any]:
    """`gradergen serve` on 127.0.0.1 (a free port) with the bearer key SERVER_API_KEY; its `url` is
    the base URL an SDK takes (http://127.0.0.1:PORT/v1). Python graders run in the real sandbox
    (10 s limit); model graders are answered by `fake_models`."""
    from graders_server import GradersServer

    with GradersServer(server_config(fake_models), api_key=SERVER_API_KEY) as server:
        yield server
