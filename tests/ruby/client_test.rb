# frozen_string_literal: true

require_relative "test_helper"

# The client against the mock API: what it sends, environment defaults, retries and errors.
class ClientTest < GradersTest
  RUN_PATH = "/v1/fine_tuning/alpha/graders/run"
  VALIDATE_PATH = "/v1/fine_tuning/alpha/graders/validate"
  FAST_RETRY = {"retry-after-ms" => "1"}.freeze

  def with_env(values)
    saved = values.keys.to_h { |key| [key, ENV.fetch(key, nil)] }
    values.each { |key, value| ENV[key] = value }
    yield
  ensure
    saved.each { |key, value| ENV[key] = value }
  end

  def test_run_sends_the_documented_body_with_bearer_auth
    response = client.fine_tuning.alpha.graders.run(grader: string_check, model_sample: "model_sample", item: nil)

    assert_instance_of OpenAI::GraderRunResponse, response
    assert_json_equal Fixtures.json("responses/run/000_cli.json"), JSON.parse(response.to_json)
    (request,) = Mock.requests

    assert_equal ["POST", RUN_PATH], [request["method"], request["path"]]
    assert_json_equal Fixtures.json("requests/run/001_ruby.json"), request["json"]
    assert_equal "Bearer sk-test", request["headers"]["authorization"]
    assert_equal "application/json", request["headers"]["content-type"]
    assert_match(%r{\Aopenai/\S+ ruby/}, request["headers"]["user-agent"])
  end

  def test_run_sends_the_item_and_model_objects
    grader = OpenAI::StringCheckGrader.new(**string_check)
    client.fine_tuning.alpha.graders.run(grader: grader, model_sample: "yes", item: {label: "yes", scores: [1, 2]})

    assert_json_equal({"grader" => JSON.parse(grader.to_json), "model_sample" => "yes",
                       "item" => {"label" => "yes", "scores" => [1, 2]}}, Mock.requests.first["json"])
  end

  def test_validate_echoes_the_grader
    response = client.fine_tuning.alpha.graders.validate(grader: string_check)

    assert_equal OpenAI::StringCheckGrader.new(**string_check), response.grader
    assert_equal VALIDATE_PATH, Mock.requests.first["path"]
    assert_json_equal Fixtures.json("requests/validate/001_ruby.json"), Mock.requests.first["json"]
  end

  def test_bad_arguments_send_nothing
    assert_raises(ArgumentError) { client.fine_tuning.alpha.graders.validate(grader: string_check(operation: :gt)) }
    assert_raises(ArgumentError) { client.fine_tuning.alpha.graders.run(grader: string_check) }
    assert_empty Mock.requests
  end

  def test_the_environment_gives_the_key_and_the_base_url
    with_env("OPENAI_API_KEY" => "sk-env", "OPENAI_BASE_URL" => "#{Mock::URL}/") do
      env_client = OpenAI::Client.new

      assert_equal Mock::URL, env_client.base_url
      env_client.fine_tuning.alpha.graders.validate(grader: string_check)
      OpenAI::Client.new(api_key: "sk-arg").fine_tuning.alpha.graders.validate(grader: string_check)
    end

    assert_equal ["Bearer sk-env", "Bearer sk-arg"], Mock.requests.map { |r| r["headers"]["authorization"] }
  end

  def test_defaults_without_environment
    with_env("OPENAI_API_KEY" => "sk-env", "OPENAI_BASE_URL" => nil) do
      default = OpenAI::Client.new

      assert_equal "https://api.openai.com/v1", default.base_url
      assert_equal [600.0, 2], [default.timeout, default.max_retries]
      refute_includes default.inspect, "sk-env", "inspect never shows the key"
    end
  end

  def test_a_missing_key_or_bad_settings_are_argument_errors
    with_env("OPENAI_API_KEY" => nil) do
      error = assert_raises(ArgumentError) { OpenAI::Client.new(base_url: Mock::URL) }
      assert_match(/OPENAI_API_KEY/, error.message)
    end
    assert_raises(ArgumentError) { client(max_retries: -1) }
    assert_raises(ArgumentError) { client(timeout: 0) }
    assert_raises(ArgumentError) { OpenAI::Client.new(api_key: "k", base_url: "ftp://example.com") }
  end

  def test_rate_limits_and_server_errors_are_retried
    Mock.enqueue(429, headers: FAST_RETRY)
    Mock.enqueue(503, headers: FAST_RETRY)
    response = client.fine_tuning.alpha.graders.validate(grader: string_check)

    assert_equal :string_check, response.grader.type
    assert_equal 3, Mock.requests.size
    assert_equal Mock.requests[0]["body"], Mock.requests[2]["body"], "a retry sends the same body"
  end

  def test_408_and_409_are_retried
    Mock.enqueue(408, headers: FAST_RETRY)
    Mock.enqueue(409, headers: FAST_RETRY)
    client.fine_tuning.alpha.graders.validate(grader: string_check)

    assert_equal 3, Mock.requests.size
  end

  def test_two_retries_then_the_typed_error
    3.times { Mock.enqueue(500, body: Fixtures.json("errors/500_server_error.json"), headers: FAST_RETRY) }
    error = assert_raises(OpenAI::Errors::InternalServerError) do
      client.fine_tuning.alpha.graders.run(grader: string_check, model_sample: "m")
    end

    assert_equal 3, Mock.requests.size
    assert_equal 500, error.status
    assert_nil error.code
    assert_equal Fixtures.json("errors/500_server_error.json")["error"]["message"], error.message
    assert_kind_of OpenAI::Errors::APIStatusError, error
  end

  def test_max_retries_zero_tries_once
    Mock.enqueue(429)
    assert_raises(OpenAI::Errors::RateLimitError) { client(max_retries: 0).fine_tuning.alpha.graders.validate(grader: string_check) }
    assert_equal 1, Mock.requests.size
  end

  def test_client_errors_are_not_retried_and_carry_the_envelope
    {400 => OpenAI::Errors::BadRequestError, 401 => OpenAI::Errors::AuthenticationError,
     429 => OpenAI::Errors::RateLimitError}.each do |status, error_class|
      Mock.reset
      envelope = Fixtures.json(Dir.glob("#{status}_*.json", base: File.join(Fixtures::ROOT, "errors")).then { |(f)| "errors/#{f}" })
      Mock.enqueue(status, body: envelope)
      error = assert_raises(error_class) { client(max_retries: 0).fine_tuning.alpha.graders.validate(grader: string_check) }

      assert_equal status, error.status
      assert_equal envelope["error"].values_at("code", "message", "param", "type"),
                   [error.code, error.message, error.param, error.type]
      assert_equal envelope, error.body
      assert_equal "req_mock_1", error.request_id
    end
    Mock.reset
    Mock.enqueue(400, body: Fixtures.json("errors/400_invalid_grader.json"))
    assert_raises(OpenAI::Errors::BadRequestError) { client.fine_tuning.alpha.graders.validate(grader: string_check) }
    assert_equal 1, Mock.requests.size, "a 400 is not retried"
  end

  def test_the_server_s_own_validation_error_reaches_the_caller
    # A model parsed leniently is sent as it is; the mock validates it against the spec.
    broken = OpenAI::Grader.from_h("type" => "string_check", "name" => "n", "operation" => "eq", "reference" => "r")
    error = assert_raises(OpenAI::Errors::BadRequestError) { client.fine_tuning.alpha.graders.validate(grader: broken) }

    assert_equal "invalid_request_body", error.code
    assert_equal "/grader/input", error.param
    assert_match(/input/, error.message)
  end

  def test_an_error_without_an_envelope_still_has_a_message
    Mock.enqueue(502, body: "Bad gateway")
    error = assert_raises(OpenAI::Errors::InternalServerError) do
      client(max_retries: 0).fine_tuning.alpha.graders.validate(grader: string_check)
    end

    assert_equal [502, "Bad gateway", nil], [error.status, error.message, error.code]
  end

  def test_a_dropped_connection_is_retried
    Mock.enqueue(200, disconnect: true)
    response = client.fine_tuning.alpha.graders.validate(grader: string_check)

    assert_equal :string_check, response.grader.type
    assert_equal 2, Mock.requests.size
  end

  def test_connection_errors_after_the_retries
    2.times { Mock.enqueue(200, disconnect: true) }
    error = assert_raises(OpenAI::Errors::APIConnectionError) do
      client(max_retries: 1).fine_tuning.alpha.graders.validate(grader: string_check)
    end

    assert_equal 2, Mock.requests.size
    assert_match(/Connection error/, error.message)
    assert_equal "#{Mock::URL}/fine_tuning/alpha/graders/validate", error.url
  end

  def test_a_refused_connection_is_an_api_connection_error
    closed = TCPServer.new("127.0.0.1", 0).then { |server| server.addr[1].tap { server.close } }
    refused = OpenAI::Client.new(api_key: "k", base_url: "http://127.0.0.1:#{closed}/v1", max_retries: 0)

    assert_raises(OpenAI::Errors::APIConnectionError) { refused.fine_tuning.alpha.graders.validate(grader: string_check) }
  end

  def test_a_slow_answer_is_a_timeout
    Mock.enqueue(200, delay: 1.5)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    error = assert_raises(OpenAI::Errors::APITimeoutError) do
      client(timeout: 0.2, max_retries: 0).fine_tuning.alpha.graders.validate(grader: string_check)
    end

    assert_kind_of OpenAI::Errors::APIConnectionError, error
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 1.2
  end

  def test_backoff_waits_between_attempts
    Mock.enqueue(500)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    client.fine_tuning.alpha.graders.validate(grader: string_check)
    waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started

    assert_operator waited, :>=, 0.375, "the first retry waits 0.5 s less up to a quarter"
    assert_operator waited, :<, 2.0
  end

  def test_retry_after_is_honoured
    Mock.enqueue(429, headers: {"retry-after" => "0.05"})
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    client.fine_tuning.alpha.graders.validate(grader: string_check)

    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 0.35
    assert_equal 2, Mock.requests.size
  end

  def test_an_answer_that_is_not_json_is_an_api_error
    Mock.enqueue(200, body: "<html>")
    error = assert_raises(OpenAI::Errors::APIError) { client.fine_tuning.alpha.graders.validate(grader: string_check) }
    assert_match(/invalid JSON/, error.message)
  end
end
