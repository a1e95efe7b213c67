# frozen_string_literal: true

require_relative "test_helper"

# Models: keyword constructors, readers, to_h/to_json, ==, parsing, enums as constants, and the checks
# that run before anything is sent.
class ModelsTest < GradersTest
  def grader
    OpenAI::StringCheckGrader.new(input: "input", name: "name", operation: :eq, reference: "reference")
  end

  def test_keyword_constructor_readers_and_the_implied_tag
    assert_equal "input", grader.input
    assert_equal :eq, grader.operation
    assert_equal :string_check, grader.type
    assert_equal({input: "input", name: "name", operation: :eq, reference: "reference", type: :string_check}, grader.to_h)
    assert_equal Fixtures.json("requests/validate/001_ruby.json")["grader"], JSON.parse(grader.to_json)
    assert_equal grader.to_json, JSON.generate(grader)
  end

  def test_enum_values_are_constants
    assert_equal :eq, OpenAI::StringCheckGrader::Operation::EQ
    assert_equal %i[eq ne like ilike], OpenAI::StringCheckGrader::Operation.values
    assert_equal :rouge_l, OpenAI::TextSimilarityGrader::EvaluationMetric::ROUGE_L
    assert_equal :max, OpenAI::ReasoningEffort::MAX
    assert_equal :developer, OpenAI::EvalItem::Role::DEVELOPER
  end

  def test_equality_and_hashing_follow_the_content
    same = OpenAI::StringCheckGrader.from_h("input" => "input", "name" => "name", "operation" => "eq",
                                            "reference" => "reference", "type" => "string_check")

    assert_equal grader, same
    assert grader.eql?(same)
    assert_equal grader.hash, same.hash
    refute_equal grader, OpenAI::StringCheckGrader.new(**grader.to_h, operation: :ne)
    refute_equal grader, grader.to_h
  end

  def test_models_are_frozen
    assert_predicate grader, :frozen?
    refute_respond_to grader, :input=
  end

  def test_to_s_and_inspect_are_readable
    text = "#<OpenAI::StringCheckGrader input=\"input\" name=\"name\" operation=:eq reference=\"reference\" type=:string_check>"

    assert_equal text, grader.inspect
    assert_equal text, grader.to_s
  end

  def test_pattern_matching
    matched = case grader
              in {type: :string_check, operation: :eq | :ne => operation} then operation
              end

    assert_equal :eq, matched
  end

  def test_hashes_with_string_keys_and_values_build_the_same_model
    params = OpenAI::GraderRunParams.new(
      grader: {"input" => "input", "name" => "name", "operation" => "eq", "reference" => "reference", "type" => "string_check"},
      model_sample: "model_sample"
    )

    assert_equal grader, params.grader
    assert_json_equal Fixtures.json("requests/run/001_ruby.json"), JSON.parse(params.to_json)
  end

  def test_model_objects_are_accepted_where_hashes_are
    model = grader
    params = OpenAI::GraderValidateParams.new(grader: model)

    assert_same model, params.grader
  end

  def test_the_union_picks_the_member_by_type
    assert_instance_of OpenAI::PythonGrader, OpenAI::Grader.from_h(type: "python", name: "p", source: "def grade(s, i): return 1.0")
    sub = OpenAI::SubGrader.from_h("type" => "label_model", "name" => "l", "model" => "m", "input" => [],
                                   "labels" => ["a"], "passing_labels" => ["a"])

    assert_instance_of OpenAI::LabelModelGrader, sub
  end

  def test_a_multi_grader_combines_graders_by_key
    multi = OpenAI::MultiGrader.new(
      name: "multi", calculate_output: "(exact + 2 * close) / 3",
      graders: {
        exact: grader,
        close: {type: :text_similarity, name: "close", input: "a", reference: "b", evaluation_metric: :fuzzy_match}
      }
    )

    assert_equal %i[exact close], multi.graders.keys
    assert_instance_of OpenAI::TextSimilarityGrader, multi.graders[:close]
    assert_equal "fuzzy_match", JSON.parse(multi.to_json)["graders"]["close"]["evaluation_metric"]
    assert_equal "multi", JSON.parse(multi.to_json)["type"]
  end

  def test_field_names_follow_the_documented_ruby_names
    audio = OpenAI::ResponseInputAudio::InputAudio.new(data: "UklGR", format_: :wav)

    assert_equal :wav, audio.format_
    assert_equal({"data" => "UklGR", "format" => "wav"}, JSON.parse(audio.to_json))
    assert_equal audio, OpenAI::ResponseInputAudio::InputAudio.new(data: "UklGR", format: "wav"), "the wire name works too"
    error = assert_raises(ArgumentError) { OpenAI::ResponseInputAudio::InputAudio.new(data: "x", format: :wav, format_: :mp3) }
    assert_match(/format: given twice/, error.message)
  end

  def test_defaults_are_read_but_never_sent
    score = OpenAI::ScoreModelGrader.new(name: "s", model: "gpt-4o", input: [{role: :user, content: "Rate it"}])

    assert_equal [0.0, 1.0], score.range
    refute score.key?(:range)
    refute JSON.parse(score.to_json).key?("range")
    image = OpenAI::InputImage.new(image_url: "https://example.com/a.png")

    assert_equal "auto", image.detail
    assert_equal({"image_url" => "https://example.com/a.png", "type" => "input_image"}, JSON.parse(image.to_json))
  end

  def test_nil_leaves_out_what_cannot_be_null_and_sends_null_where_it_can
    params = OpenAI::SamplingParams.new(seed: nil, temperature: 0.5)

    assert_equal({"seed" => nil, "temperature" => 0.5}, JSON.parse(params.to_json))
    assert params.key?(:seed)
    refute params.key?(:top_p)
    assert_in_delta 1.0, params.top_p, 0, "the default is read when absent"
    python = OpenAI::PythonGrader.new(name: "p", source: "s", image_tag: nil)

    assert_equal({"name" => "p", "source" => "s", "type" => "python"}, JSON.parse(python.to_json))
    run = OpenAI::GraderRunParams.new(grader: grader, model_sample: "m", item: nil)

    refute JSON.parse(run.to_json).key?("item"), "item: nil is left out, as in the documented request body"
    assert_equal({"grader" => {}, "model_sample" => "m", "item" => nil},
                 JSON.parse(OpenAI::GraderRunParams.from_h("grader" => {}, "model_sample" => "m", "item" => nil).to_json),
                 "a parsed null item stays null")
  end

  def test_omit_leaves_out_a_field_that_may_be_null
    params = OpenAI::SamplingParams.new(seed: OpenAI::Internal::OMIT, top_p: 0.9)

    assert_equal({"top_p" => 0.9}, JSON.parse(params.to_json))
  end

  def test_integers_are_numbers_but_numbers_are_not_integers
    params = OpenAI::SamplingParams.new(temperature: 1, seed: 7)

    assert_equal 1.0, params.temperature
    assert_kind_of Float, params.temperature
    error = assert_raises(ArgumentError) { OpenAI::SamplingParams.new(seed: 1.5) }
    assert_equal "seed: expected an Integer, got 1.5 (Float)", error.message
  end

  def test_properties_the_spec_does_not_know_are_sent_as_given
    similarity = OpenAI::TextSimilarityGrader.new(name: "t", input: "a", reference: "b", evaluation_metric: :bleu,
                                                  pass_threshold: 0.8)

    assert_in_delta 0.8, similarity[:pass_threshold]
    assert_equal({pass_threshold: 0.8}, similarity.additional_properties)
    assert_in_delta 0.8, JSON.parse(similarity.to_json)["pass_threshold"]
  end

  def test_from_json_and_from_h_reject_what_is_not_an_object
    assert_raises(JSON::ParserError) { OpenAI::GraderRunResponse.from_json("{") }
    error = assert_raises(ArgumentError) { OpenAI::GraderRunResponse.from_h([1]) }
    assert_match(/expected a Hash, got \[1\]/, error.message)
  end

  BAD_ARGUMENTS = {
    "missing keyword: :input" => -> { OpenAI::StringCheckGrader.new(name: "n", operation: :eq, reference: "r") },
    "input: expected a String, got 1 (Integer)" =>
      -> { OpenAI::StringCheckGrader.new(input: 1, name: "n", operation: :eq, reference: "r") },
    "operation: expected one of :eq, :ne, :like, :ilike, got :eqq (Symbol)" =>
      -> { OpenAI::StringCheckGrader.new(input: "i", name: "n", operation: :eqq, reference: "r") },
    "type: expected :string_check, got :python (Symbol)" =>
      -> { OpenAI::StringCheckGrader.new(input: "i", name: "n", operation: :eq, reference: "r", type: :python) },
    "grader: missing keyword: :reference" =>
      -> { OpenAI::GraderValidateParams.new(grader: {input: "i", name: "n", operation: :eq, type: :string_check}) },
    "grader.type: expected one of :string_check, :text_similarity, :python, :score_model, :multi, got \"label_model\" (String)" =>
      -> { OpenAI::GraderValidateParams.new(grader: {type: "label_model", name: "n"}) },
    "grader.type: expected one of :string_check, :text_similarity, :python, :score_model, :multi, got nil" =>
      -> { OpenAI::GraderValidateParams.new(grader: {input: "i"}) },
    "grader: expected one of OpenAI::StringCheckGrader, OpenAI::TextSimilarityGrader, OpenAI::PythonGrader, " \
    "OpenAI::ScoreModelGrader, OpenAI::MultiGrader or a Hash, got #<OpenAI::EvalItem" =>
      -> { OpenAI::GraderValidateParams.new(grader: OpenAI::EvalItem.new(role: :user, content: "x")) },
    "input[0].content: expected a String or an Array or a Hash with \"type\" :input_text, :output_text" =>
      -> { OpenAI::ScoreModelGrader.new(name: "s", model: "m", input: [{role: :user, content: 42}]) },
    "grader.graders.inner.type: expected one of :string_check, :text_similarity, :python, :score_model, :label_model, got :multi" =>
      -> { OpenAI::GraderValidateParams.new(grader: {type: :multi, name: "m", calculate_output: "x", graders: {inner: {type: :multi}}}) },
    "model_sample: cannot be nil" =>
      -> { OpenAI::GraderRunParams.new(grader: {type: :python, name: "p", source: "s"}, model_sample: nil) },
    "grader: expected a Hash with \"type\" :string_check, :text_similarity, :python, :score_model, :multi, " \
    "got \"string_check\" (String)" => -> { OpenAI::GraderRunParams.new(grader: "string_check", model_sample: "m") }
  }.freeze

  BAD_ARGUMENTS.each_with_index do |(message, build), i|
    define_method("test_bad_argument_#{i}_is_an_argument_error_naming_its_path") do
      error = assert_raises(ArgumentError, &build)
      assert_includes error.message, message
    end
  end
end
