# frozen_string_literal: true

# Against `gradergen serve` (SERVER_URL, SERVER_API_KEY, given by tests/test_ruby.py): a run and a
# validate of every grader type in fixtures/server/every_grader_type.json, and the error of an invalid
# grader.

require_relative "test_helper"

class ServerTest < Minitest::Test
  include JSONAssertions

  CASES = Fixtures.json("server/every_grader_type.json")

  def client
    @client ||= OpenAI::Client.new(api_key: ENV.fetch("SERVER_API_KEY"), base_url: ENV.fetch("SERVER_URL"),
                                   max_retries: 0)
  end

  CASES.fetch("cases").each do |c|
    define_method("test_run_and_validate_#{c.fetch('name')}") do
      body = c.fetch("body")
      response = client.fine_tuning.alpha.graders.run(grader: body.fetch("grader"),
                                                      model_sample: body.fetch("model_sample"),
                                                      item: body["item"])
      assert_in_delta c.fetch("reward"), response.reward, 1e-12
      got = JSON.parse(response.to_json)
      flags = got.fetch("metadata").fetch("errors").select { |_, v| v == true }.keys.sort
      assert_equal c.fetch("flags"), flags
      assert_json_equal(c.fetch("sub_rewards", {}), got.fetch("sub_rewards"))
      if c.key?("sampled_model_name")
        assert_equal c["sampled_model_name"], got.fetch("metadata").fetch("sampled_model_name")
      end
      if c.key?("runtime_details_contain")
        assert_includes got["metadata"]["errors"]["python_grader_runtime_error_details"], c["runtime_details_contain"]
      end

      checked = client.fine_tuning.alpha.graders.validate(grader: body.fetch("grader"))
      assert_json_equal(body.fetch("grader"), JSON.parse(checked.grader.to_json))
    end
  end

  def test_an_invalid_grader_is_refused_by_the_server_with_its_param
    invalid = CASES.fetch("invalid_formula")
    error = assert_raises(OpenAI::Errors::BadRequestError) do
      client.fine_tuning.alpha.graders.validate(grader: invalid.fetch("body").fetch("grader"))
    end
    assert_equal [invalid["status"], invalid["code"], invalid["param"], "invalid_request_error"],
                 [error.status, error.code, error.param, error.type]
    assert_includes error.message, invalid["message_contains"]
  end

  # A value outside an enum never reaches the server: the gem refuses it first, naming the same
  # place the server would.
  def test_an_operation_outside_the_enum_is_refused_before_sending
    invalid = CASES.fetch("invalid")
    error = assert_raises(ArgumentError) do
      client.fine_tuning.alpha.graders.validate(grader: invalid.fetch("body").fetch("grader"))
    end
    assert_includes error.message, invalid["param"]
  end
end
