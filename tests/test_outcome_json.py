"""The server writes each GraderRunResponse straight from the engine's outcome (`response_json`); it
must be what the response object gives (`as_json`), key for key and byte for byte once dumped."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from gradergen.engine.outcome import DETAILS, FLAGS, Outcome, Usage, as_json, response_json
from gradergen.server.operations import dumps


def clean() -> Outcome:
    return Outcome(reward=0.75)


def every_flag() -> Outcome:
    outcome = Outcome(reward=1.0)
    for flag in FLAGS:
        outcome.fail(flag)
    for detail in DETAILS:
        outcome.details[detail] = f"what {detail} says: é ✓ \u2028"
    return outcome


def models_used() -> Outcome:
    outcome = Outcome(reward=0.5, sampled_model_name="gpt-4o-2024-08-06")
    outcome.add_usage("gpt-4o", Usage(10, 5, 15, 2))
    outcome.add_usage("o3-mini", Usage(1, 2, 3, 0))
    outcome.add_usage("gpt-4o", Usage(1, 1, 2, 0))
    return outcome


def multi() -> Outcome:
    outcome = Outcome(reward=0.25, sub_rewards={"a": 1.0, "b": 0.0, "c": 1})
    outcome.absorb("d", models_used())
    outcome.fail("python_grader_runtime_error", "ZeroDivisionError", "python_grader_runtime_error_details")
    return outcome


def scores_of_every_plain_kind() -> Outcome:
    return Outcome(reward=0.1, scores={"bleu": 0.5, "count": 3, "label": "yes", "big": 2**70})


def scores_json_writes_its_own_way() -> Outcome:
    return Outcome(reward=0.2, scores={"passed": True, "nan": math.nan, "list": [1, 2], "none": None})


def a_reward_past_finite() -> Outcome:
    return Outcome(reward=math.inf, sub_rewards={"x": math.nan})


@pytest.mark.parametrize(
    "make",
    [
        clean,
        every_flag,
        models_used,
        multi,
        scores_of_every_plain_kind,
        scores_json_writes_its_own_way,
        a_reward_past_finite,
    ],
)
def test_the_response_from_the_outcome_is_the_response_objects(make: Callable[[], Outcome]) -> None:
    direct = response_json(make(), "my grader", "string_check", 0.0123)
    through_the_model = as_json(make().response("my grader", "string_check", 0.0123))
    assert direct == through_the_model
    assert list(direct) == list(through_the_model)
    assert list(direct["metadata"]) == list(through_the_model["metadata"])
    assert list(direct["metadata"]["errors"]) == list(through_the_model["metadata"]["errors"])
    assert dumps(direct) == dumps(through_the_model)


def test_every_error_field_is_written_in_the_services_order() -> None:
    errors = response_json(every_flag(), "g", "python", 0.0)["metadata"]["errors"]
    assert list(errors)[:3] == ["formula_parse_error", "sample_parse_error", "truncated_observation_error"]
    assert sorted(errors) == sorted([*FLAGS, *DETAILS])
    assert all(errors[flag] is True for flag in FLAGS)
