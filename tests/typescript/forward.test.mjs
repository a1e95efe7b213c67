// What a newer API may send: reading keeps it and writing gives it back unchanged.

import assert from "node:assert/strict";
import { test } from "node:test";

import { fixture, graders, roundTrip } from "./support.mjs";

function runResponse(metadata = {}, top = {}) {
  const document = fixture("responses/run/002_score_model_live.json");
  Object.assign(document.metadata, metadata);
  return { ...document, ...top };
}

test("an unknown grader type is kept", () => {
  const document = { grader: { type: "endpoint", name: "e", url: "https://example.com", weights: [1, 2] } };
  const { grader } = roundTrip("GraderValidateResponse", document);
  assert.ok(grader instanceof graders.UnknownGrader);
  assert.ok(grader instanceof graders.UnknownMember);
  assert.equal(grader.type, undefined, "the fallback has no type of its own: switch (grader.type) narrows");
  assert.deepStrictEqual(grader.json, document.grader);
});

test("an unknown sub-grader inside a multi grader is kept", () => {
  const document = {
    grader: {
      type: "multi",
      name: "m",
      calculate_output: "a",
      graders: { a: { type: "regex", pattern: "^y" }, b: { type: "python", name: "p", source: "s" } },
    },
  };
  const { grader } = roundTrip("GraderValidateResponse", document);
  assert.equal(grader.type, "multi");
  assert.ok(grader.graders.a instanceof graders.UnknownSubGrader);
  assert.equal(grader.graders.b.type, "python");
});

test("a known type that does not read as its member is kept whole", () => {
  const document = { grader: { type: "string_check", name: "n", operation: "eq", reference: "r" } };
  const { grader } = roundTrip("GraderValidateResponse", document);
  assert.ok(grader instanceof graders.UnknownGrader, "input is missing");
});

test("an unknown enum value is kept", () => {
  const document = {
    grader: { type: "string_check", name: "n", input: "i", reference: "r", operation: "regex" },
  };
  const { grader } = roundTrip("GraderValidateResponse", document);
  assert.equal(grader.type, "string_check");
  assert.equal(grader.operation, "regex");
});

test("an unknown reasoning effort and content parts are kept", () => {
  const document = {
    grader: {
      type: "score_model",
      name: "s",
      model: "m",
      sampling_params: { reasoning_effort: "extreme", seed: null },
      input: [
        { role: "critic", content: [{ type: "input_file", file_id: "f" }, "text", 7] },
        { role: "user", content: { type: "input_video", url: "v" } },
        { role: "user", content: { type: "input_text", text: "t" } },
      ],
    },
  };
  const { grader } = roundTrip("GraderValidateResponse", document);
  assert.equal(grader.sampling_params.reasoning_effort, "extreme");
  assert.equal(grader.sampling_params.seed, null);
  assert.equal(grader.input[0].role, "critic");
  const [file, text, number] = grader.input[0].content;
  assert.ok(file instanceof graders.UnknownGraderInputItem);
  assert.equal(text, "text");
  assert.ok(number instanceof graders.UnknownGraderInputItem, "no member reads a number");
  assert.equal(number.json, 7);
  assert.ok(grader.input[1].content instanceof graders.UnknownEvalItemContent);
  assert.equal(grader.input[2].content.text, "t");
});

test("unknown properties are kept at every level", () => {
  const document = runResponse({ trace_id: "t-1" }, { reward_model: { version: 2 } });
  document.metadata.errors.quota_error = false;
  const response = roundTrip("GraderRunResponse", document);
  assert.deepStrictEqual(response.reward_model, { version: 2 });
  assert.equal(response.metadata.trace_id, "t-1");
  assert.equal(response.metadata.errors.quota_error, false);
});

test("a property named __proto__ stays a property", () => {
  const document = JSON.parse('{"grader": {"type": "python", "name": "p", "source": "s", "__proto__": {"x": 1}}}');
  const { grader } = roundTrip("GraderValidateResponse", document);
  assert.equal(Object.getPrototypeOf(grader), Object.prototype);
  assert.equal(grader.x, undefined);
});

test("token usage as an integer, an object, null or absent", () => {
  assert.equal(roundTrip("GraderRunResponse", runResponse({ token_usage: 42 })).metadata.token_usage, 42);
  const usage = roundTrip("GraderRunResponse", runResponse()).metadata.token_usage;
  assert.equal(typeof usage.total_tokens, "number");
  const nulled = roundTrip("GraderRunResponse", runResponse({ token_usage: null })).metadata;
  assert.equal(nulled.token_usage, null);
  const absent = runResponse();
  delete absent.metadata.token_usage;
  const metadata = roundTrip("GraderRunResponse", absent).metadata;
  assert.equal("token_usage" in metadata, false);
  const text = roundTrip("GraderRunResponse", runResponse({ token_usage: "many" })).metadata.token_usage;
  assert.ok(text instanceof graders.UnknownGraderRunResponseMetadataTokenUsage);
});

test("null and absent stay apart", () => {
  const withNull = roundTrip("GraderRunResponse", runResponse({ sampled_model_name: null }));
  const without = runResponse();
  delete without.metadata.sampled_model_name;
  const absent = roundTrip("GraderRunResponse", without);
  assert.equal(withNull.metadata.sampled_model_name, null);
  assert.equal(Object.hasOwn(absent.metadata, "sampled_model_name"), false);
  assert.notDeepStrictEqual(withNull, absent);
});

test("a value of the wrong kind is an error naming where", () => {
  assert.throws(() => graders.parse("GraderRunResponse", runResponse({ execution_time: "slow" })), {
    name: "ParseError",
    path: "/metadata/execution_time",
    message: '/metadata/execution_time: expected a number, got "slow"',
  });
  assert.throws(() => graders.parse("GraderRunResponse", { reward: 0.5 }), {
    name: "ParseError",
    path: "/metadata",
    message: "/metadata: is required but missing",
  });
  assert.throws(() => graders.parse("GraderRunResponse", [1, 2]), { name: "ParseError", path: "" });
  const nulled = runResponse();
  nulled.metadata.name = null;
  assert.throws(() => graders.parse("GraderRunResponse", nulled), { path: "/metadata/name" });
});

test("an unknown grader from an answer can be sent back", () => {
  const { grader } = graders.parse("GraderValidateResponse", { grader: { type: "endpoint", url: "u" } });
  assert.equal(JSON.stringify({ grader }), '{"grader":{"type":"endpoint","url":"u"}}');
});
