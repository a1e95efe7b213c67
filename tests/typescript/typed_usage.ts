// Compiled by tests/test_typescript.py with tsc --strict, noUncheckedIndexedAccess and
// exactOptionalPropertyTypes: what must type-check does, and each @ts-expect-error must be an error
// (tsc fails on a directive with no error under it).

import OpenAI, {
  APIStatusError,
  UnknownGrader,
  parse,
  type Grader,
  type GraderRunParams,
  type GraderRunResponse,
  type MultiGrader,
  type SamplingParams,
  type StringCheckGraderOperation,
  type SubGrader,
} from "openai";

export function describe(grader: Grader): string {
  switch (grader.type) {
    case "string_check":
      return grader.operation;
    case "text_similarity":
      return grader.evaluation_metric;
    case "python":
      return grader.source;
    case "score_model":
      return grader.model;
    case "multi":
      return Object.keys(grader.graders).join(",");
    default: {
      const unknown: UnknownGrader = grader; // every known member is handled above
      return JSON.stringify(unknown.json);
    }
  }
}

export function firstSubGrader(multi: MultiGrader): SubGrader | undefined {
  const first = multi.graders["a"];
  // @ts-expect-error: with noUncheckedIndexedAccess an entry may be missing
  first.type;
  return first;
}

export async function useTheClient(): Promise<number> {
  const client = new OpenAI({ apiKey: process.env["OPENAI_API_KEY"], timeout: 5_000 });
  const params: GraderRunParams = {
    grader: { type: "string_check", name: "n", input: "i", reference: "r", operation: "eq" },
    model_sample: "sample",
    item: null,
  };
  try {
    const response: GraderRunResponse = await client.fineTuning.alpha.graders.run(params, {
      signal: AbortSignal.timeout(1_000),
      maxRetries: 0,
    });
    const usage = response.metadata.token_usage;
    if (typeof usage === "number") return usage;
    if (usage === null || usage === undefined) return 0;
    if ("total_tokens" in usage) return usage.total_tokens;
    return -1;
  } catch (error) {
    if (error instanceof APIStatusError) return error.status;
    throw error;
  }
}

export const known: StringCheckGraderOperation = "ilike";
export const open: StringCheckGraderOperation = "regex"; // enums are open
export const withNull: SamplingParams = { seed: null, reasoning_effort: null };
export const parsed: Grader = parse("Grader", { type: "python", name: "p", source: "s" });

// @ts-expect-error: exactOptionalPropertyTypes: leave an optional property out, or give it null
export const withUndefined: SamplingParams = { seed: undefined };

// @ts-expect-error: model_sample is required
export const missing: GraderRunParams = { grader: parsed };

// @ts-expect-error: "regex" is not a grader type this package knows
export const unknownTag: Grader = { type: "regex", name: "n" };

// @ts-expect-error: a misspelled property is caught
export const misspelled: Grader = { type: "python", name: "p", source: "s", sorce: "x" };

// @ts-expect-error: an enum value is a string
export const notAString: StringCheckGraderOperation = 3;

// @ts-expect-error: the type tag tells the members apart
export const mixed: Grader = { type: "python", name: "p", operation: "eq", input: "i", reference: "r" };
