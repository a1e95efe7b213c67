// One fixture read as its type and written back: tests/test_typescript.py compares what this writes to
// ROUNDTRIP_OUT with the fixture. Documented examples must read as known members: a part that only the
// Unknown… fallback could read fails here, since the fallback would round-trip anything.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { UnknownMember, parse } from "openai";

const TYPES = {
  run_request: "GraderRunParams",
  validate_request: "GraderValidateParams",
  run_response: "GraderRunResponse",
  validate_response: "GraderValidateResponse",
  error: "ErrorResponse",
};

const { FIXTURES, FIXTURE, FIXTURE_KIND, ROUNDTRIP_OUT } = process.env;
const type = TYPES[FIXTURE_KIND];
if (!FIXTURES || !FIXTURE || !type || !ROUNDTRIP_OUT) {
  throw new Error("set FIXTURES, FIXTURE, FIXTURE_KIND (one of " + Object.keys(TYPES) + ") and ROUNDTRIP_OUT");
}

function unknownParts(value, path = "") {
  if (value instanceof UnknownMember) return [path || "/"];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => unknownParts(item, `${path}/${key}`));
}

const value = parse(type, JSON.parse(readFileSync(join(FIXTURES, FIXTURE), "utf8")));
const unknown = unknownParts(value);
if (unknown.length > 0) {
  console.error(`${FIXTURE}: read as Unknown… at ${unknown.join(", ")}`);
  process.exit(1);
}
writeFileSync(ROUNDTRIP_OUT, JSON.stringify(value));
