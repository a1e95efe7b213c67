// What the suites share: the package under test, the mock API and fault server (started by
// tests/test_typescript.py, which sets MOCK_URL, FAULT_URL and FIXTURES) and JSON comparison.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import * as graders from "openai";

export { graders };

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through tests/test_typescript.py`);
  return value;
}

export const MOCK_URL = required("MOCK_URL");
export const FAULT_URL = required("FAULT_URL");
export const FIXTURES = required("FIXTURES");

export function fixture(file) {
  return JSON.parse(readFileSync(join(FIXTURES, file), "utf8"));
}

export const stringCheck = (overrides = {}) => ({
  input: "input",
  name: "name",
  operation: "eq",
  reference: "reference",
  type: "string_check",
  ...overrides,
});

export function client(options = {}) {
  return new graders.Client({ apiKey: "sk-test", baseURL: MOCK_URL, ...options });
}

/** Requests (and scripted answers) of the mock, through its control routes. */
export const mock = {
  async reset() {
    await control("POST", "/__mock/reset");
  },
  async enqueue(status, extra = {}) {
    await control("POST", "/__mock/enqueue", { status, ...extra });
  },
  async requests() {
    return control("GET", "/__mock/requests");
  },
};

async function control(method, path, body) {
  const origin = new URL(MOCK_URL).origin;
  const init = { method };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(origin + path, init);
  assert.equal(response.status, 200, `mock control ${path}`);
  return response.json();
}

/** Equal as JSON documents: what JSON.stringify writes, read back. */
export function assertJSONEqual(actual, expected, message) {
  assert.deepStrictEqual(JSON.parse(JSON.stringify(actual)), expected, message);
}

/** A round trip: JSON text parsed as `type` and written back. */
export function roundTrip(type, document) {
  const value = graders.parse(type, JSON.parse(JSON.stringify(document)));
  assert.deepStrictEqual(JSON.parse(JSON.stringify(value)), document);
  return value;
}
