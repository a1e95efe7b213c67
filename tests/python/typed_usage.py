"""Checked by mypy --strict in the tests: the public API reads as typed code should."""

from __future__ import annotations

from openai_graders import (
    Client,
    GraderRunResponse,
    GraderValidateResponse,
    ModelTokenUsage,
    StringCheckGrader,
    UnknownGrader,
)


def use(client: Client) -> float:
    grader = StringCheckGrader(type="string_check", name="n", input="i", reference="r", operation="eq")
    run: GraderRunResponse = client.fine_tuning.alpha.graders.run(grader=grader, model_sample="s")
    checked: GraderValidateResponse = client.fine_tuning.alpha.graders.validate(grader={"type": "python"})
    if isinstance(checked.grader, UnknownGrader):
        print(checked.grader.type)
    usage = run.metadata.token_usage
    total = usage.total_tokens if isinstance(usage, ModelTokenUsage) else (usage or 0)
    return run.reward + total
