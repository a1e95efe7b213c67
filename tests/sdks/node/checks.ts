// Calls the graders server with the official `openai` npm package and prints, one JSON object per line,
// what the SDK made of each answer. tests/test_official_sdks.py compiles this with `tsc --strict` (so
// the @ts-expect-error lines below pin where the SDK's types disagree with the service: when a new SDK
// fixes one, the directive is unused and the build fails) and judges the lines.
//
// Environment: GRADERS_BASE_URL (the server's base URL, ending in /v1) and OPENAI_API_KEY.
import OpenAI from 'openai';
import type { MultiGrader, StringCheckGrader, TextSimilarityGrader } from 'openai/resources/graders/grader-models';
import type { GraderRunResponse } from 'openai/resources/fine-tuning/alpha/graders';

interface Report {
  check: string;
  error?: string;
  values?: Record<string, unknown>;
}

const baseURL = process.env['GRADERS_BASE_URL'];
if (!baseURL) {
  console.error('checks: set GRADERS_BASE_URL to the server\'s base URL (…/v1)');
  process.exit(2);
}
const client = new OpenAI({ baseURL, maxRetries: 0 });

const exact: StringCheckGrader = {
  type: 'string_check',
  name: 'exact label',
  input: '{{sample.output_text}}',
  operation: 'eq',
  reference: '{{item.label}}',
};
const close: TextSimilarityGrader = {
  type: 'text_similarity',
  name: 'close label',
  input: '{{sample.output_text}}',
  evaluation_metric: 'fuzzy_match',
  reference: '{{item.label}}',
};
const multi: MultiGrader = {
  type: 'multi',
  name: 'label',
  calculate_output: '0.5 * exact + 0.5 * close',
  // @ts-expect-error MultiGrader.graders is typed as one grader; the service takes a key → grader map
  graders: { exact, close },
};

async function check(name: string, body: () => Promise<Record<string, unknown>>): Promise<void> {
  const report: Report = { check: name };
  try {
    report.values = await body();
  } catch (error) {
    report.error = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  }
  console.log(JSON.stringify(report));
}

function usageOf(response: GraderRunResponse): Record<string, unknown> {
  const usage = response.metadata.token_usage;
  // @ts-expect-error token_usage is typed `number | null`; the live response carries a usage object
  const typedAsObject: { prompt_tokens: number } | null = usage;
  return { token_usage: typedAsObject, token_usage_typeof: usage === null ? 'null' : typeof usage };
}

await check('run_string_check', async () => {
  const response = await client.fineTuning.alpha.graders.run({
    grader: exact,
    model_sample: 'Paris',
    item: { label: 'Paris' },
  });
  return {
    reward: response.reward,
    name: response.metadata.name,
    type: response.metadata.type,
    sampled_model_name: response.metadata.sampled_model_name,
    runtime_error_details: response.metadata.errors.python_grader_runtime_error_details,
    ...usageOf(response),
  };
});

await check('validate_multi_map', async () => {
  const response = await client.fineTuning.alpha.graders.validate({ grader: multi });
  const grader = response.grader;
  if (grader?.type !== 'multi') {
    return { type: grader?.type ?? null };
  }
  return { type: grader.type, calculate_output: grader.calculate_output, graders: grader.graders };
});

await check('run_multi_map', async () => {
  const response = await client.fineTuning.alpha.graders.run({
    grader: multi,
    model_sample: 'Paris',
    item: { label: 'Paris' },
  });
  return { reward: response.reward, type: response.metadata.type, sub_rewards: response.sub_rewards };
});

await check('run_score_model', async () => {
  const response = await client.fineTuning.alpha.graders.run({
    grader: {
      type: 'score_model',
      name: 'judge',
      model: 'gpt-4o-2024-08-06',
      input: [{ role: 'user', content: 'Score how close the answer {{sample.output_text}} is to {{item.label}}.' }],
    },
    model_sample: 'Paris',
    item: { label: 'Paris' },
  });
  return {
    reward: response.reward,
    sampled_model_name: response.metadata.sampled_model_name,
    usage_per_model: response.model_grader_token_usage_per_model,
    ...usageOf(response),
  };
});
