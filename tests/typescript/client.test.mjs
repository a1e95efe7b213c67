// The client against the mock API: what it sends, environment defaults, per-call options, retries and
// errors.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { beforeEach, test } from "node:test";

import { MOCK_URL, assertJSONEqual, client, fixture, graders, mock, stringCheck } from "./support.mjs";

const RUN_PATH = "/v1/fine_tuning/alpha/graders/run";
const VALIDATE_PATH = "/v1/fine_tuning/alpha/graders/validate";
const FAST_RETRY = { "retry-after-ms": "1" };

beforeEach(() => mock.reset());

function withEnv(values, body) {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const apply = (entries) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(values);
  return Promise.resolve()
    .then(body)
    .finally(() => apply(saved));
}

test("run sends the documented body with bearer auth", async () => {
  const response = await client().fineTuning.alpha.graders.run({
    grader: stringCheck(),
    model_sample: "model_sample",
  });
  assertJSONEqual(response, fixture("responses/run/000_cli.json"));
  const [request, ...others] = await mock.requests();
  assert.equal(others.length, 0);
  assert.deepStrictEqual([request.method, request.path], ["POST", RUN_PATH]);
  assert.deepStrictEqual(request.json, fixture("requests/run/001_ruby.json"));
  assert.equal(request.headers.authorization, "Bearer sk-test");
  assert.equal(request.headers["content-type"], "application/json");
  assert.match(request.headers["user-agent"], /^openai\/\S+ node\/v\d+/);
  assert.match(request.headers["idempotency-key"], /^gradergen-[0-9a-f-]{36}$/);
});

test("withResponse gives the HTTP answer and its request id beside the parsed value", async () => {
  const answer = await client().fineTuning.alpha.graders.withResponse.validate({ grader: stringCheck() });
  assert.deepStrictEqual(answer.data.grader, stringCheck());
  assert.equal(answer.response.status, 200);
  assert.equal(answer.requestID, "req_mock_1");
  assert.equal(answer.response.headers.get("x-request-id"), "req_mock_1");
  assert.equal(answer.retriesTaken, 0);
  const [request] = await mock.requests();
  assert.equal(request.path, VALIDATE_PATH);
});

test("withResponse counts the retries it took", async () => {
  await mock.enqueue(503, { headers: FAST_RETRY });
  const answer = await client({ maxRetries: 2 }).fineTuning.alpha.graders.withResponse.run({
    grader: stringCheck(),
    model_sample: "model_sample",
  });
  assert.equal(answer.retriesTaken, 1);
  assert.equal(answer.data.reward, fixture("responses/run/000_cli.json").reward);
});

test("run sends the item as given, null included", async () => {
  const graders_ = client().fineTuning.alpha.graders;
  await graders_.run({ grader: stringCheck(), model_sample: "yes", item: { label: "yes", scores: [1, 2] } });
  await graders_.run({ grader: stringCheck(), model_sample: "yes", item: null });
  const [first, second] = await mock.requests();
  assert.deepStrictEqual(first.json, { grader: stringCheck(), model_sample: "yes", item: { label: "yes", scores: [1, 2] } });
  assert.deepStrictEqual(second.json, { grader: stringCheck(), model_sample: "yes", item: null });
});

test("validate echoes the grader", async () => {
  const response = await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  assert.deepStrictEqual(response.grader, stringCheck());
  const [request] = await mock.requests();
  assert.equal(request.path, VALIDATE_PATH);
  assert.deepStrictEqual(request.json, fixture("requests/validate/001_ruby.json"));
});

test("the environment gives the key and the base URL", async () => {
  await withEnv({ OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: `${MOCK_URL}/` }, async () => {
    const fromEnv = new graders.Client();
    assert.equal(fromEnv.baseURL, MOCK_URL);
    await fromEnv.fineTuning.alpha.graders.validate({ grader: stringCheck() });
    await new graders.Client({ apiKey: "sk-arg" }).fineTuning.alpha.graders.validate({ grader: stringCheck() });
  });
  const requests = await mock.requests();
  assert.deepStrictEqual(
    requests.map((r) => r.headers.authorization),
    ["Bearer sk-env", "Bearer sk-arg"],
  );
});

test("the defaults without an environment", async () => {
  await withEnv({ OPENAI_API_KEY: "sk-env", OPENAI_BASE_URL: undefined }, () => {
    const plain = new graders.Client();
    assert.equal(plain.baseURL, "https://api.openai.com/v1");
    assert.equal(graders.DEFAULT_BASE_URL, "https://api.openai.com/v1");
    assert.deepStrictEqual([plain.timeout, plain.maxRetries, plain.maxResponseBytes], [600_000, 2, 32 * 1024 * 1024]);
    assert.doesNotMatch(JSON.stringify(plain), /sk-env/, "the key is not an enumerable property");
  });
  assert.equal(graders.default, graders.Client, "the client is the default export");
});

test("a missing key and bad settings fail at construction", async () => {
  await withEnv({ OPENAI_API_KEY: undefined }, () => {
    assert.throws(() => new graders.Client({ baseURL: MOCK_URL }), {
      name: "GradersError",
      message: /OPENAI_API_KEY/,
    });
  });
  assert.throws(() => client({ maxRetries: -1 }), /maxRetries must be an integer, 0 or more, got -1/);
  assert.throws(() => client({ maxRetries: 1.5 }), /maxRetries/);
  assert.throws(() => client({ timeout: 0 }), /timeout must be a positive number of milliseconds, got 0/);
  assert.throws(() => client({ maxResponseBytes: 0 }), /maxResponseBytes must be an integer, 1 or more/);
  assert.throws(() => client({ baseURL: "ftp://example.com" }), /is not an http\(s\) URL/);
  assert.equal((await mock.requests()).length, 0);
});

test("bad per-call options fail the call before sending", async () => {
  const validate = client().fineTuning.alpha.graders.validate({ grader: stringCheck() }, { timeout: -5 });
  await assert.rejects(validate, { name: "GradersError", message: /timeout must be a positive number/ });
  assert.equal((await mock.requests()).length, 0);
});

test("per-call headers, idempotency key and retries", async () => {
  await mock.enqueue(500, { headers: FAST_RETRY });
  await client().fineTuning.alpha.graders.validate(
    { grader: stringCheck() },
    { headers: { "X-Trace": "t-1" }, idempotencyKey: "idem-1", maxRetries: 1 },
  );
  const requests = await mock.requests();
  assert.equal(requests.length, 2);
  for (const request of requests) {
    assert.equal(request.headers["x-trace"], "t-1");
    assert.equal(request.headers["idempotency-key"], "idem-1", "every attempt carries the same key");
  }
  await mock.reset();
  await mock.enqueue(500, { headers: FAST_RETRY });
  await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  const [first, retry] = await mock.requests();
  assert.equal(first.headers["idempotency-key"], retry.headers["idempotency-key"]);
  await mock.reset();
  await mock.enqueue(500);
  const once = client().fineTuning.alpha.graders.validate({ grader: stringCheck() }, { maxRetries: 0 });
  await assert.rejects(once, graders.InternalServerError);
  assert.equal((await mock.requests()).length, 1);
});

test("an aborted signal ends the call, and its retries", async () => {
  const controller = new AbortController();
  controller.abort();
  const aborted = client().fineTuning.alpha.graders.validate({ grader: stringCheck() }, { signal: controller.signal });
  await assert.rejects(aborted, graders.APIUserAbortError);
  assert.equal((await mock.requests()).length, 0);

  await mock.enqueue(200, { delay: 2 });
  const later = new AbortController();
  setTimeout(() => later.abort(), 100);
  const started = Date.now();
  const slow = client().fineTuning.alpha.graders.validate({ grader: stringCheck() }, { signal: later.signal });
  await assert.rejects(slow, (error) => error instanceof graders.APIUserAbortError && !(error instanceof graders.APIConnectionError));
  assert.ok(Date.now() - started < 1500);

  await mock.reset();
  await mock.enqueue(429, { headers: { "retry-after": "30" } });
  const waiting = new AbortController();
  setTimeout(() => waiting.abort(), 200);
  const retrying = client().fineTuning.alpha.graders.validate({ grader: stringCheck() }, { signal: waiting.signal });
  await assert.rejects(retrying, graders.APIUserAbortError);
  assert.equal((await mock.requests()).length, 1, "aborted while waiting to retry");
});

test("rate limits and server errors are retried", async () => {
  await mock.enqueue(429, { headers: FAST_RETRY });
  await mock.enqueue(503, { headers: FAST_RETRY });
  const response = await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  assert.equal(response.grader.type, "string_check");
  const requests = await mock.requests();
  assert.equal(requests.length, 3);
  assert.equal(requests[0].body, requests[2].body, "a retry sends the same body");
});

test("408 and 409 are retried", async () => {
  await mock.enqueue(408, { headers: FAST_RETRY });
  await mock.enqueue(409, { headers: FAST_RETRY });
  await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  assert.equal((await mock.requests()).length, 3);
});

test("two retries, then the typed error", async () => {
  const envelope = fixture("errors/500_server_error.json");
  for (let i = 0; i < 3; i++) await mock.enqueue(500, { body: envelope, headers: FAST_RETRY });
  const run = client().fineTuning.alpha.graders.run({ grader: stringCheck(), model_sample: "m" });
  await assert.rejects(run, (error) => {
    assert.ok(error instanceof graders.InternalServerError);
    assert.ok(error instanceof graders.APIStatusError && error instanceof graders.GradersError);
    assert.equal(error.status, 500);
    assert.equal(error.code, undefined);
    assert.equal(error.message, envelope.error.message);
    assert.equal(error.name, "InternalServerError");
    return true;
  });
  assert.equal((await mock.requests()).length, 3);
});

test("client errors are not retried and carry the envelope", async () => {
  const cases = [
    [400, "errors/400_invalid_grader.json", graders.BadRequestError],
    [401, "errors/401_invalid_api_key.json", graders.AuthenticationError],
    [429, "errors/429_rate_limit.json", graders.RateLimitError],
  ];
  for (const [status, file, ErrorClass] of cases) {
    await mock.reset();
    const envelope = fixture(file);
    await mock.enqueue(status, { body: envelope });
    const call = client({ maxRetries: 0 }).fineTuning.alpha.graders.validate({ grader: stringCheck() });
    await assert.rejects(call, (error) => {
      assert.ok(error instanceof ErrorClass, `${status}: ${error}`);
      assert.equal(error.status, status);
      const expected = envelope.error;
      assert.deepStrictEqual(
        [error.code, error.message, error.param, error.type],
        [expected.code ?? undefined, expected.message, expected.param ?? undefined, expected.type ?? undefined],
      );
      assert.deepStrictEqual(error.body, envelope);
      assert.equal(error.requestID, "req_mock_1");
      return true;
    });
  }
  await mock.reset();
  await mock.enqueue(400, { body: fixture("errors/400_invalid_grader.json") });
  await assert.rejects(client().fineTuning.alpha.graders.validate({ grader: stringCheck() }), graders.BadRequestError);
  assert.equal((await mock.requests()).length, 1, "a 400 is not retried");
});

test("the mock's own validation error reaches the caller", async () => {
  const broken = graders.parse("Grader", { type: "string_check", name: "n", operation: "eq", reference: "r" });
  assert.ok(broken instanceof graders.UnknownGrader);
  await assert.rejects(client().fineTuning.alpha.graders.validate({ grader: broken }), (error) => {
    assert.ok(error instanceof graders.BadRequestError);
    assert.equal(error.code, "invalid_request_body");
    assert.equal(error.param, "/grader/input");
    assert.match(error.message, /input/);
    return true;
  });
});

test("an error without an envelope still has a message", async () => {
  await mock.enqueue(502, { body: "Bad gateway" });
  const call = client({ maxRetries: 0 }).fineTuning.alpha.graders.validate({ grader: stringCheck() });
  await assert.rejects(call, (error) => {
    assert.ok(error instanceof graders.InternalServerError);
    assert.deepStrictEqual([error.status, error.message, error.code], [502, "Bad gateway", undefined]);
    return true;
  });
});

test("a dropped connection is retried", async () => {
  await mock.enqueue(200, { disconnect: true });
  const response = await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  assert.equal(response.grader.type, "string_check");
  assert.equal((await mock.requests()).length, 2);
});

test("connection errors after the retries", async () => {
  await mock.enqueue(200, { disconnect: true });
  await mock.enqueue(200, { disconnect: true });
  const call = client({ maxRetries: 1 }).fineTuning.alpha.graders.validate({ grader: stringCheck() });
  await assert.rejects(call, (error) => {
    assert.ok(error instanceof graders.APIConnectionError && !(error instanceof graders.APITimeoutError));
    assert.match(error.message, /Connection error/);
    assert.equal(error.url, `${MOCK_URL}/fine_tuning/alpha/graders/validate`);
    return true;
  });
  assert.equal((await mock.requests()).length, 2);
});

test("a refused connection is a connection error", async () => {
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  const refused = new graders.Client({ apiKey: "k", baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  await assert.rejects(refused.fineTuning.alpha.graders.validate({ grader: stringCheck() }), graders.APIConnectionError);
});

test("a slow answer is a timeout", async () => {
  await mock.enqueue(200, { delay: 1.5 });
  const started = Date.now();
  const call = client({ timeout: 200, maxRetries: 0 }).fineTuning.alpha.graders.validate({ grader: stringCheck() });
  await assert.rejects(call, (error) => error instanceof graders.APITimeoutError && error instanceof graders.APIConnectionError);
  assert.ok(Date.now() - started < 1200);
});

test("backoff waits between attempts", async () => {
  await mock.enqueue(500);
  const started = Date.now();
  await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  const waited = Date.now() - started;
  assert.ok(waited >= 375, `the first retry waits 0.5 s less up to a quarter, waited ${waited} ms`);
  assert.ok(waited < 2000);
});

test("Retry-After is honoured", async () => {
  await mock.enqueue(429, { headers: { "retry-after": "0.05" } });
  const started = Date.now();
  await client().fineTuning.alpha.graders.validate({ grader: stringCheck() });
  assert.ok(Date.now() - started < 350);
  assert.equal((await mock.requests()).length, 2);
});

test("an answer that is not JSON is a validation error", async () => {
  await mock.enqueue(200, { body: "<html>" });
  await assert.rejects(client().fineTuning.alpha.graders.validate({ grader: stringCheck() }), (error) => {
    assert.ok(error instanceof graders.APIResponseValidationError);
    assert.match(error.message, /invalid JSON/);
    return true;
  });
});
