from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

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
