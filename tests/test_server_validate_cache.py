"""/validate leaves the compiled-grader cache alone: graders validated once (an editor sends a new one
each time) must not fill it, and so the heap the garbage collector walks. In process: the Service
that the app calls, with its cache in view."""

from __future__ import annotations

import json

import pytest

from gradergen.engine import EngineConfig
from gradergen.server.errors import ApiError
from gradergen.server.service import Service, Settings


def string_check(name: str, operation: str = "eq") -> dict[str, str]:
    return {"type": "string_check", "name": name, "input": "{{sample.output_text}}",
            "reference": "{{item.label}}", "operation": operation}  # fmt: skip


@pytest.fixture()
def service() -> Service:
    return Service(Settings(EngineConfig.load(environ={})))


def validate(service: Service, grader: dict[str, str]) -> dict[str, str]:
    prepared = service.prepare(json.dumps({"grader": grader}).encode(), False, {})
    assert prepared.entry is None
    return prepared.grader


def test_graders_validated_once_are_not_kept(service: Service) -> None:
    for number in range(50):
        assert validate(service, string_check(f"grader {number}")) == string_check(f"grader {number}")
    assert len(service.graders) == 0


def test_an_invalid_grader_is_refused_with_its_location(service: Service) -> None:
    with pytest.raises(ApiError) as refused:
        validate(service, string_check("bad", operation="neq"))
    assert refused.value.status == 400
    assert refused.value.envelope()["error"]["param"] == "grader.operation"
    assert len(service.graders) == 0


def test_a_grader_run_before_is_answered_from_the_cache(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"grader": string_check("ran"), "model_sample": "yes", "item": {"label": "yes"}}
    ran = service.prepare(json.dumps(body).encode(), True, {})
    assert ran.entry is not None and ran.entry.compiled is not None
    assert len(service.graders) == 1

    def not_again(grader: object) -> None:
        raise AssertionError("a grader in the cache was validated again")

    monkeypatch.setattr("gradergen.server.graders.validate", not_again)
    assert validate(service, {**string_check("ran"), "operation": "eq"}) == string_check("ran")
    assert len(service.graders) == 1
