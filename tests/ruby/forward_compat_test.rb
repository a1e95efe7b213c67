# frozen_string_literal: true

require_relative "test_helper"

# What a newer API may send: parsing keeps it and writing gives it back unchanged.
class ForwardCompatTest < GradersTest
  def round_trip(model_class, document)
    model = model_class.from_h(JSON.parse(JSON.generate(document)))

    assert_json_equal document, JSON.parse(model.to_json)
    model
  end

  def run_response(metadata = {}, top = {})
    document = Fixtures.json("responses/run/002_score_model_live.json")
    document["metadata"].merge!(metadata)
    document.merge(top)
  end

  def test_an_unknown_grader_type_is_kept
    document = {"grader" => {"type" => "endpoint", "name" => "e", "url" => "https://example.com", "weights" => [1, 2]}}
    grader = round_trip(OpenAI::GraderValidateResponse, document).grader

    assert_instance_of OpenAI::Grader::Unknown, grader
    assert_equal :endpoint, grader.type
    assert_equal "https://example.com", grader[:url]
    assert_equal({name: "e", url: "https://example.com", weights: [1, 2]}, grader.additional_properties)
  end

  def test_an_unknown_sub_grader_inside_a_multi_grader_is_kept
    document = {"grader" => {"type" => "multi", "name" => "m", "calculate_output" => "a",
                             "graders" => {"a" => {"type" => "regex", "pattern" => "^y"}}}}
    multi = round_trip(OpenAI::GraderValidateResponse, document).grader

    assert_instance_of OpenAI::MultiGrader, multi
    assert_instance_of OpenAI::SubGrader::Unknown, multi.graders[:a]
  end

  def test_an_unknown_enum_value_is_kept
    document = {"grader" => {"type" => "string_check", "name" => "n", "input" => "i", "reference" => "r",
                             "operation" => "regex"}}
    grader = round_trip(OpenAI::GraderValidateResponse, document).grader

    assert_instance_of OpenAI::StringCheckGrader, grader
    assert_equal :regex, grader.operation
  end

  def test_an_unknown_reasoning_effort_and_content_part_are_kept
    document = {"grader" => {
      "type" => "score_model", "name" => "s", "model" => "m",
      "sampling_params" => {"reasoning_effort" => "extreme", "seed" => nil},
      "input" => [{"role" => "critic", "content" => [{"type" => "input_file", "file_id" => "f"}, "text", 7]},
                  {"role" => "user", "content" => {"type" => "input_video", "url" => "v"}}]
    }}
    grader = round_trip(OpenAI::GraderValidateResponse, document).grader

    assert_equal :extreme, grader.sampling_params.reasoning_effort
    assert_equal :critic, grader.input[0].role
    file, text, number = grader.input[0].content

    assert_instance_of OpenAI::GraderInputItem::Unknown, file
    assert_equal "text", text
    assert_instance_of OpenAI::GraderInputItem::Unknown, number # no member takes a number
    assert_equal 7, number.json
    refute_predicate number, :object?
    assert_instance_of OpenAI::EvalItem::Content::Unknown, grader.input[1].content
  end

  def test_unknown_properties_are_kept_at_every_level
    document = run_response({"trace_id" => "t-1"}, {"reward_model" => {"version" => 2}})
    document["metadata"]["errors"]["quota_error"] = false
    response = round_trip(OpenAI::GraderRunResponse, document)

    assert_equal({"version" => 2}, response[:reward_model])
    assert_equal "t-1", response.metadata["trace_id"]
    refute response.metadata.errors[:quota_error]
    assert response.metadata.errors.key?("quota_error")
  end

  def test_token_usage_as_integer_object_null_or_absent
    assert_equal 42, round_trip(OpenAI::GraderRunResponse, run_response({"token_usage" => 42})).metadata.token_usage
    usage = round_trip(OpenAI::GraderRunResponse, run_response).metadata.token_usage

    assert_instance_of OpenAI::ModelTokenUsage, usage
    null = round_trip(OpenAI::GraderRunResponse, run_response({"token_usage" => nil})).metadata

    assert_nil null.token_usage
    assert null.key?(:token_usage)
    absent = run_response
    absent["metadata"].delete("token_usage")
    metadata = round_trip(OpenAI::GraderRunResponse, absent).metadata

    assert_nil metadata.token_usage
    refute metadata.key?(:token_usage)
  end

  def test_null_and_absent_stay_apart
    with_null = round_trip(OpenAI::GraderRunResponse, run_response({"sampled_model_name" => nil}))
    without = run_response
    without["metadata"].delete("sampled_model_name")
    absent = round_trip(OpenAI::GraderRunResponse, without)

    assert_nil with_null.metadata.sampled_model_name
    assert_nil absent.metadata.sampled_model_name
    assert with_null.metadata.key?(:sampled_model_name)
    refute absent.metadata.key?(:sampled_model_name)
    refute_equal with_null, absent
  end

  def test_values_of_an_unexpected_type_are_kept_as_received
    response = round_trip(OpenAI::GraderRunResponse, run_response({"execution_time" => "slow"}, {"reward" => "high"}))

    assert_equal "high", response.reward
    assert_equal "slow", response.metadata.execution_time
  end

  def test_missing_required_properties_stay_missing
    response = round_trip(OpenAI::GraderRunResponse, {"reward" => 0.5})

    assert_nil response.metadata
    assert_in_delta 0.5, response.reward
  end

  def test_an_unknown_grader_from_a_response_can_be_sent_back
    unknown = OpenAI::GraderValidateResponse.from_h("grader" => {"type" => "endpoint", "url" => "u"}).grader
    params = OpenAI::GraderValidateParams.new(grader: unknown)

    assert_equal({"grader" => {"type" => "endpoint", "url" => "u"}}, JSON.parse(params.to_json))
  end
end
