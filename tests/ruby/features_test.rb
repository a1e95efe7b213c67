# frozen_string_literal: true

require_relative "test_helper"

# The client's features beside the calls (issue 14), asserted on what reached the mock API: request_options:
# (timeout, max_retries, extra_headers, extra_query, extra_body), with_raw_response, User-Agent, one
# Idempotency-Key for every attempt of a call, and the request id of an answer and of an error.
class FeaturesTest < GradersTest
  FAST_RETRY = {"retry-after-ms" => "1"}.freeze
  KEY = /\Agradergen-\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/

  def graders = client.fine_tuning.alpha.graders

  def sent(header) = Mock.requests.map { |request| request["headers"][header] }

  def test_user_agent_names_the_gem_version_and_ruby
    graders.validate(grader: string_check)

    assert_equal ["openai/#{OpenAI::VERSION} ruby/#{RUBY_VERSION}"], sent("user-agent")
  end

  def test_one_idempotency_key_for_every_attempt_of_a_call
    Mock.enqueue(500, headers: FAST_RETRY)
    Mock.enqueue(429, headers: FAST_RETRY)
    graders.validate(grader: string_check)
    graders.validate(grader: string_check)
    keys = sent("idempotency-key")

    assert_equal 4, keys.size
    assert_equal 1, keys.first(3).uniq.size
    refute_equal keys[2], keys[3]
    keys.each { |key| assert_match KEY, key }
  end

  def test_request_options_send_headers_query_and_body
    graders.run(grader: string_check, model_sample: "s",
                request_options: {extra_headers: {"X-Trace" => "t-1", "idempotency-key" => "mine"},
                                  extra_query: {dry_run: "1 & more"},
                                  extra_body: {metadata: {team: "evals"}, model_sample: "overridden"}})
    (request,) = Mock.requests

    assert_equal "/v1/fine_tuning/alpha/graders/run?dry_run=1+%26+more", request["path"]
    assert_equal "t-1", request["headers"]["x-trace"]
    assert_equal "mine", request["headers"]["idempotency-key"]
    assert_equal({"team" => "evals"}, request["json"]["metadata"])
    assert_equal "overridden", request["json"]["model_sample"]
    assert_equal "string_check", request["json"]["grader"]["type"]
  end

  def test_a_calls_timeout_and_retries_apply_to_that_call_only
    Mock.enqueue(200, delay: 1.0)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(OpenAI::Errors::APITimeoutError) do
      graders.validate(grader: string_check, request_options: {timeout: 0.2, max_retries: 0})
    end
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 0.9
    Mock.enqueue(500, headers: FAST_RETRY)
    graders.validate(grader: string_check) # retried with the client's settings

    assert_equal 3, Mock.requests.size
  end

  def test_bad_request_options_send_nothing
    error = assert_raises(ArgumentError) { graders.validate(grader: string_check, request_options: {retries: 1}) }
    assert_match(/unknown request option :retries/, error.message)
    assert_raises(ArgumentError) { graders.validate(grader: string_check, request_options: {timeout: 0}) }
    assert_raises(ArgumentError) { graders.validate(grader: string_check, request_options: {extra_body: [1]}) }
    assert_empty Mock.requests
  end

  def test_with_raw_response_gives_status_headers_and_request_id
    Mock.enqueue(503, headers: FAST_RETRY)
    raw = graders.with_raw_response.run(grader: string_check, model_sample: "s")

    assert_instance_of OpenAI::RawResponse, raw
    assert_equal [200, "req_mock_2", 1], [raw.status, raw.request_id, raw.retries_taken]
    assert_equal "req_mock_2", raw.headers["x-request-id"]
    assert_instance_of OpenAI::GraderRunResponse, raw.parse
    assert_same raw.parse, raw.parse
  end

  def test_a_raw_response_that_is_not_the_model_raises_when_parsed
    Mock.enqueue(200, body: [1, 2])
    raw = graders.with_raw_response.validate(grader: string_check)

    error = assert_raises(OpenAI::Errors::APIResponseValidationError) { raw.parse }
    assert_equal "req_mock_1", error.request_id
  end

  def test_an_error_carries_the_request_id
    Mock.enqueue(400)
    error = assert_raises(OpenAI::Errors::BadRequestError) { graders.validate(grader: string_check) }

    assert_equal "req_mock_1", error.request_id
  end
end
