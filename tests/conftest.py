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
