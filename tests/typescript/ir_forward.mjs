// Forward-compatibility cases made from the IR (tests/forward_cases.py): parses each document as the
// named type, says whether it landed where the rule puts it, and writes it back.
//
//   node ir_forward.mjs cases.json results.json     (the package under test is node_modules/openai)

import { readFileSync, writeFileSync } from "node:fs";

import * as graders from "openai";

const [casesPath, resultsPath] = process.argv.slice(2);
const { cases } = JSON.parse(readFileSync(casesPath, "utf8"));

const results = {};
for (const c of cases) {
  try {
    const value = graders.parse(c.type, c.document);
    let landed;
    if (c.kind === "struct") landed = Object.hasOwn(value, c.extra);
    else if (c.kind === "enum") landed = !c.values.includes(value);
    else landed = value instanceof graders[c.fallback];
    results[c.id] = { landed, written: JSON.parse(JSON.stringify(value)) };
  } catch (error) {
    results[c.id] = { error: `${error.name}: ${error.message}` };
  }
}
writeFileSync(resultsPath, JSON.stringify(results));
