// The client against a misbehaving server (tests/fault_server.py): the timeout is one deadline for the
// whole attempt, the answer's size is bounded, and every failure is one of the package's errors.

import assert from "node:assert/strict";
import { test } from "node:test";

import { FAULT_URL, graders, stringCheck } from "./support.mjs";

const DEFAULT_LIMIT = 32 * 1024 * 1024;
const ANSWER_HEAD = '{"grader":{"input":"input","name":"';
const ANSWER_TAIL = '","operation":"eq","reference":"reference","type":"string_check"}}';
// A client that hangs fails its test here, not the whole run.
const HANG_GUARD = { timeout: 60_000 };

function faultClient(base, options = {}) {
  return new graders.Client({ apiKey: "sk-test", baseURL: FAULT_URL + base, timeout: 10_000, maxRetries: 0, ...options });
}

let counter = 0;
function unique(scenario) {
  counter += 1;
  return `${scenario}/node-${process.pid}-${Date.now()}-${counter}`;
}

async function hits(base) {
  const response = await fetch(`${FAULT_URL}/__fault/hits`);
  return (await response.json())[base] ?? 0;
}

const validate = (client) => client.fineTuning.alpha.graders.validate({ grader: stringCheck() });

async function rejectsWith(ErrorClass, client) {
  let caught;
  await assert.rejects(validate(client), (error) => {
    caught = error;
    return error instanceof ErrorClass && error instanceof graders.GradersError;
  });
  return caught;
}

test("a server that never answers times out", HANG_GUARD, async () => {
  const started = Date.now();
  await rejectsWith(graders.APITimeoutError, faultClient("/never-answers", { timeout: 1000 }));
  assert.ok(Date.now() - started < 5000);
});

test("a body dripped a byte at a time times out", HANG_GUARD, async () => {
  // one byte every 100 ms: no read waits as long as the timeout, the whole body would take ~10 s
  const base = unique("/slow-drip/100");
  await rejectsWith(graders.APITimeoutError, faultClient(base, { timeout: 1000, maxRetries: 1 }));
  assert.equal(await hits(base), 2, "each attempt has its own deadline");
});

test("a drip that ends in time succeeds", HANG_GUARD, async () => {
  const response = await validate(faultClient("/slow-drip/5", { timeout: 20_000 }));
  assert.equal(response.grader.type, "string_check");
});

test("a reset in the middle of the body is a connection error", HANG_GUARD, async () => {
  const base = unique("/reset-mid-body");
  const error = await rejectsWith(graders.APIConnectionError, faultClient(base, { maxRetries: 1 }));
  assert.ok(!(error instanceof graders.APITimeoutError));
  assert.equal(await hits(base), 2);
});

test("invalid JSON on success is a validation error, not retried", HANG_GUARD, async () => {
  const base = unique("/invalid-json");
  const error = await rejectsWith(graders.APIResponseValidationError, faultClient(base, { maxRetries: 2 }));
  assert.deepStrictEqual([error.status, error.body], [200, '{"grader": {"type": "string_check", "name": ']);
  assert.equal(await hits(base), 1);
});

test("JSON of the wrong shape is a validation error", HANG_GUARD, async () => {
  const error = await rejectsWith(graders.APIResponseValidationError, faultClient("/wrong-shape"));
  assert.equal(error.body, "[1, 2, 3]");
  assert.match(error.message, /expected an object, got an array/);
});

test("an oversized body is refused at the default limit", HANG_GUARD, async () => {
  for (const scenario of ["/oversized", "/oversized-declared"]) {
    const base = unique(scenario);
    const client = faultClient(base, { timeout: 30_000, maxRetries: 2 });
    assert.equal(client.maxResponseBytes, DEFAULT_LIMIT);
    const error = await rejectsWith(graders.APIResponseTooLargeError, client);
    assert.deepStrictEqual([error.limit, error.status], [DEFAULT_LIMIT, 200], scenario);
    assert.equal(await hits(base), 1, scenario);
  }
});

test("the limit is configurable and inclusive", HANG_GUARD, async () => {
  const size = 4096;
  const base = `/json-of-size/${size}`;
  const response = await validate(faultClient(base, { maxResponseBytes: size }));
  assert.equal(response.grader.type, "string_check");
  const error = await rejectsWith(graders.APIResponseTooLargeError, faultClient(base, { maxResponseBytes: size - 1 }));
  assert.equal(error.limit, size - 1);
});

test("a string of 25 MB parses", HANG_GUARD, async () => {
  const size = 25_000_000;
  const { grader } = await validate(faultClient(`/json-of-size/${size}`, { timeout: 30_000 }));
  assert.equal(grader.name.length, size - ANSWER_HEAD.length - ANSWER_TAIL.length);
  assert.equal(grader.name.replaceAll("x", ""), "");
});

test("a huge Retry-After is capped", HANG_GUARD, async () => {
  // Retry-After: 99999 is past the 60 s cap, so the client waits its usual backoff and tries again
  const base = unique("/retry-after-huge");
  const started = Date.now();
  const response = await validate(faultClient(base, { maxRetries: 1 }));
  assert.equal(response.grader.type, "string_check");
  assert.equal(await hits(base), 2);
  assert.ok(Date.now() - started < 5000);
});

test("a Retry-After date is waited for", HANG_GUARD, async () => {
  // 3 s ahead in whole seconds: the wait is over 2 s, where the first backoff is at most 0.5 s
  const base = unique("/retry-after-date/3");
  const started = Date.now();
  const response = await validate(faultClient(base, { maxRetries: 1 }));
  const waited = Date.now() - started;
  assert.equal(response.grader.type, "string_check");
  assert.equal(await hits(base), 2);
  assert.ok(waited >= 1900 && waited < 10_000, `waited ${waited} ms`);
});

test("a huge Retry-After without retries is a rate limit error", HANG_GUARD, async () => {
  const error = await rejectsWith(graders.RateLimitError, faultClient(unique("/retry-after-huge")));
  assert.deepStrictEqual([error.status, error.code], [429, "rate_limit_exceeded"]);
});

test("a bad request with an HTML page keeps the page", HANG_GUARD, async () => {
  const error = await rejectsWith(graders.BadRequestError, faultClient("/html-400"));
  assert.equal(error.status, 400);
  assert.ok(error.body.startsWith("<html>"), error.body);
  assert.equal(error.code, undefined);
  assert.match(error.message, /^<html>/);
});
