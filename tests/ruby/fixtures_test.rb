# frozen_string_literal: true

require_relative "test_helper"

# Every documented JSON example parses into its model and is written back as the same JSON.
class FixturesTest < GradersTest
  MODELS = {
    "run_request" => OpenAI::GraderRunParams,
    "validate_request" => OpenAI::GraderValidateParams,
    "run_response" => OpenAI::GraderRunResponse,
    "validate_response" => OpenAI::GraderValidateResponse
  }.freeze

  def test_the_index_lists_every_kind
    assert_equal MODELS.keys.sort, Fixtures.index.map { |entry| entry["kind"] }.uniq.sort
  end

  Fixtures.index.each do |entry|
    name = entry["file"].delete_suffix(".json").tr("/", "_")

    define_method("test_round_trip_#{name}") do
      text = Fixtures.text(entry["file"])
      model = MODELS.fetch(entry["kind"]).from_json(text)

      assert_instance_of MODELS.fetch(entry["kind"]), model
      written = JSON.parse(model.to_json)

      assert_json_equal JSON.parse(text), written
      assert_equal key_order(JSON.parse(text)), key_order(written), "keys come back in the order received"
      assert_equal model, MODELS.fetch(entry["kind"]).from_h(written), "parsing what was written gives an equal model"
      assert_empty unknown_properties(model), "documented examples use only declared properties"
    end
  end

  JSON.parse(File.read(File.join(Fixtures::ROOT, "errors", "index.json"))).each do |entry|
    define_method("test_round_trip_#{File.basename(entry['file'], '.json')}") do
      text = Fixtures.text(entry["file"])
      envelope = OpenAI::ErrorResponse.from_json(text)

      assert_json_equal JSON.parse(text), JSON.parse(envelope.to_json)
      assert_equal JSON.parse(text)["error"]["message"], envelope.error.message
    end
  end

  def test_parsed_documents_are_typed
    run = OpenAI::GraderRunParams.from_json(Fixtures.text("requests/run/002_curl_score_model_audio.json"))
    grader = run.grader

    assert_instance_of OpenAI::ScoreModelGrader, grader
    assert_equal :score_model, grader.type
    message = grader.input.first

    assert_instance_of OpenAI::EvalItem, message
    assert_equal OpenAI::EvalItem::Role::USER, message.role
    text, audio = message.content

    assert_instance_of OpenAI::ResponseInputText, text
    assert_instance_of OpenAI::ResponseInputAudio, audio
    assert_equal OpenAI::ResponseInputAudio::InputAudio::Format::MP3, audio.input_audio.format_
    assert_in_delta 0.2, grader.sampling_params.temperature
    assert_equal 123, grader.sampling_params.seed
    assert_equal({"target_phrase" => "Please deliver the package on Tuesday",
                  "audio_clip_b64" => "<base64-encoded mp3>"}, run.item)
  end

  def test_the_live_response_carries_token_usage_as_an_object
    response = OpenAI::GraderRunResponse.from_json(Fixtures.text("responses/run/002_score_model_live.json"))
    usage = response.metadata.token_usage

    assert_instance_of OpenAI::ModelTokenUsage, usage
    assert_equal [190, 134, 324, 0], [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.cached_tokens]
    assert_nil response.metadata.errors.python_grader_server_error_type
    assert response.metadata.errors.key?(:python_grader_server_error_type), "null is present, not absent"
    assert_in_delta 1.0, response.reward
    assert_equal({}, response.sub_rewards)
  end

  private

  def unknown_properties(value)
    case value
    when OpenAI::Internal::Model
      value.additional_properties.keys + value.to_h.keys.flat_map { |key| unknown_properties(value[key]) }
    when Array then value.flat_map { |item| unknown_properties(item) }
    when Hash then value.values.flat_map { |item| unknown_properties(item) }
    else []
    end
  end
end
