# frozen_string_literal: true

require_relative "test_helper"
require "timeout"

# The client against a misbehaving server (tests/fault_server.py): the timeout is one deadline for the
# whole attempt, the answer's size is bounded, and every failure is one of the gem's errors.
class FaultsTest < GradersTest
  # The documented default of max_response_bytes.
  DEFAULT_LIMIT = 32 * 1024 * 1024
  # The fault server's valid validate answer around its padded grader name.
  ANSWER_HEAD = '{"grader":{"input":"input","name":"'
  ANSWER_TAIL = '","operation":"eq","reference":"reference","type":"string_check"}}'
  # Only a client that hangs gets here; the test then fails instead of the whole suite.
  HANG_GUARD = 60

  def fault_client(base, **options)
    OpenAI::Client.new(api_key: "sk-test", base_url: "#{Faults::URL}#{base}", timeout: 10, max_retries: 0, **options)
  end

  def validate(client)
    Timeout.timeout(HANG_GUARD) { client.fine_tuning.alpha.graders.validate(grader: string_check) }
  end

  def unique(scenario) = "#{scenario}/ruby-#{name}-#{Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)}"

  def assert_gem_error(error_class, client)
    error = assert_raises(error_class) { validate(client) }
    assert_kind_of OpenAI::Errors::Error, error
    error
  end

  def test_a_server_that_never_answers_times_out
    assert_gem_error(OpenAI::Errors::APITimeoutError, fault_client("/never-answers", timeout: 1))
  end

  def test_a_body_dripped_a_byte_at_a_time_times_out
    # one byte every 100 ms: no read waits as long as the timeout, the whole body would take ~10 s
    base = unique("/slow-drip/100")
    assert_gem_error(OpenAI::Errors::APITimeoutError, fault_client(base, timeout: 1, max_retries: 1))
    assert_equal 2, Faults.hits(base), "each attempt has its own deadline"
  end

  def test_a_drip_that_ends_in_time_succeeds
    response = validate(fault_client("/slow-drip/5", timeout: 20))

    assert_instance_of OpenAI::StringCheckGrader, response.grader
  end

  def test_a_reset_in_the_middle_of_the_body_is_a_connection_error
    base = unique("/reset-mid-body")
    error = assert_gem_error(OpenAI::Errors::APIConnectionError, fault_client(base, max_retries: 1))

    refute_kind_of OpenAI::Errors::APITimeoutError, error
    assert_equal 2, Faults.hits(base)
  end

  def test_invalid_json_on_success_is_a_validation_error
    base = unique("/invalid-json")
    error = assert_gem_error(OpenAI::Errors::APIResponseValidationError, fault_client(base, max_retries: 2))

    assert_equal [200, '{"grader": {"type": "string_check", "name": '], [error.status, error.body]
    assert_equal 1, Faults.hits(base), "a bad answer is not retried"
  end

  def test_json_of_the_wrong_shape_is_a_validation_error
    error = assert_gem_error(OpenAI::Errors::APIResponseValidationError, fault_client("/wrong-shape"))

    assert_equal "[1, 2, 3]", error.body
    assert_match(/GraderValidateResponse/, error.message)
  end

  def test_an_oversized_body_is_refused_at_the_default_limit
    %w[/oversized /oversized-declared].each do |scenario|
      base = unique(scenario)
      client = fault_client(base, timeout: 30, max_retries: 2)

      assert_equal DEFAULT_LIMIT, client.max_response_bytes
      error = assert_gem_error(OpenAI::Errors::APIResponseTooLargeError, client)

      assert_equal [DEFAULT_LIMIT, 200], [error.limit, error.status], scenario
      assert_equal 1, Faults.hits(base), scenario
    end
  end

  def test_the_limit_is_configurable_and_inclusive
    size = 4096
    base = "/json-of-size/#{size}"

    assert_instance_of OpenAI::StringCheckGrader, validate(fault_client(base, max_response_bytes: size)).grader
    error = assert_gem_error(OpenAI::Errors::APIResponseTooLargeError, fault_client(base, max_response_bytes: size - 1))

    assert_equal size - 1, error.limit
    assert_raises(ArgumentError) { fault_client(base, max_response_bytes: 0) }
  end

  def test_a_string_of_25_mb_parses
    size = 25_000_000
    name = validate(fault_client("/json-of-size/#{size}", timeout: 30)).grader.name

    assert_equal size - ANSWER_HEAD.bytesize - ANSWER_TAIL.bytesize, name.bytesize
    assert_empty name.delete("x")
  end

  def test_a_huge_retry_after_is_capped
    # Retry-After: 99999 is past the 60 s cap, so the client waits its usual backoff and tries again
    base = unique("/retry-after-huge")

    assert_instance_of OpenAI::StringCheckGrader, validate(fault_client(base, max_retries: 1)).grader
    assert_equal 2, Faults.hits(base)
  end

  def test_a_retry_after_date_is_waited_for
    # 3 s ahead in whole seconds: the wait is over 2 s, where the first backoff is at most 0.5 s
    base = unique("/retry-after-date/3")
    began = Process.clock_gettime(Process::CLOCK_MONOTONIC)

    assert_instance_of OpenAI::StringCheckGrader, validate(fault_client(base, max_retries: 1)).grader
    waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - began

    assert_equal 2, Faults.hits(base)
    assert_operator waited, :>=, 1.9
    assert_operator waited, :<, 10
  end

  def test_a_huge_retry_after_without_retries_is_a_rate_limit_error
    error = assert_gem_error(OpenAI::Errors::RateLimitError, fault_client(unique("/retry-after-huge")))

    assert_equal [429, "rate_limit_exceeded"], [error.status, error.code]
  end

  def test_a_bad_request_with_an_html_page_keeps_the_page
    error = assert_gem_error(OpenAI::Errors::BadRequestError, fault_client("/html-400"))

    assert_equal 400, error.status
    assert error.body.start_with?("<html>"), error.body
    assert_nil error.code
  end

  def test_a_gzip_body_that_does_not_decode_is_a_connection_error
    base = unique("/corrupt-gzip")
    error = assert_gem_error(OpenAI::Errors::APIConnectionError, fault_client(base, max_retries: 1))

    refute_kind_of OpenAI::Errors::APITimeoutError, error
    assert_match(/Zlib/, error.message)
    assert_equal 2, Faults.hits(base), "retried like a broken connection"
  end

  def test_an_answer_nested_past_the_json_gems_default_parses
    grader = validate(fault_client("/deep-json/500")).grader

    assert_instance_of OpenAI::StringCheckGrader, grader
    deep = grader[:deep]
    levels = 0
    while deep.is_a?(Array) && !deep.empty?
      deep = deep.first
      levels += 1
    end
    assert_equal [499, []], [levels, deep], "500 nested arrays, the innermost empty"
  end

  def test_an_answer_nested_past_the_limit_is_a_validation_error
    depth = OpenAI::Client::MAX_JSON_NESTING # the answer's own two levels take it over the limit
    error = assert_gem_error(OpenAI::Errors::APIResponseValidationError, fault_client("/deep-json/#{depth}"))

    assert_match(/nesting of #{depth + 1} is too deep/, error.message)
  end
end
