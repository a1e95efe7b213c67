"""Checked by mypy --strict in the tests: the public API reads as typed code should."""

from __future__ import annotations

from openai_graders import (
    APIResponse,
    APIStatusError,
    AsyncClient,
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


async def use_async(client: AsyncClient) -> str | None:
    strict: AsyncClient = client.with_options(timeout=30, max_retries=0)
    run: GraderRunResponse = await strict.fine_tuning.alpha.graders.run(
        grader={"type": "python"}, model_sample="s", extra_headers={"X-Trace": "t"}, timeout=5.0
    )
    raw: APIResponse[
        GraderValidateResponse
    ] = await client.fine_tuning.alpha.graders.with_raw_response.validate(
        grader={"type": "python"}, extra_body={"note": 1}, extra_query={"q": "1"}
    )
    parsed: GraderValidateResponse = raw.parse()
    print(run.reward, parsed.grader, raw.status_code, raw.headers.get("date"))
    return raw.request_id


def use_errors(client: Client) -> str | None:
    try:
        client.with_options(max_retries=1).fine_tuning.alpha.graders.validate(grader={"type": "python"})
    except APIStatusError as error:
        return error.request_id
    return None
