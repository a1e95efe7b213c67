// Every grader type of tests/fixtures/server/every_grader_type.json run through the client against
// `gradergen serve` (GRADERS_URL, OPENAI_API_KEY); prints what each answer says, as JSON, for
// tests/test_typescript.py to compare with the fixture.

import { readFileSync } from "node:fs";
import { join } from "node:path";

import OpenAI from "openai";

const { FIXTURES, GRADERS_URL } = process.env;
const { cases } = JSON.parse(readFileSync(join(FIXTURES, "server", "every_grader_type.json"), "utf8"));
const client = new OpenAI({ baseURL: GRADERS_URL, maxRetries: 0 });

const results = [];
for (const { name, body } of cases) {
  const response = await client.fineTuning.alpha.graders.run(body);
  const { errors } = response.metadata;
  const flags = Object.keys(errors).filter((key) => errors[key] === true).sort();
  const validated = name === "multi" ? undefined : (await client.fineTuning.alpha.graders.validate({ grader: body.grader })).grader;
  results.push({
    name,
    reward: response.reward,
    flags,
    type: response.metadata.type,
    sub_rewards: response.sub_rewards,
    validated,
  });
}
console.log(JSON.stringify(results));
