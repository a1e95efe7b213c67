# frozen_string_literal: true

# Run under rbs/test/setup with RBS_TEST_TARGET=OpenAI::* and the gem's sig/ directory: every call into
# the gem below (constructors, readers, to_h/to_json, parsers, the client and its errors) is checked
# against the RBS signatures, so the signatures describe what the code really takes and returns.

require_relative "support"

def read_everything(value)
  case value
  when OpenAI::Internal::Model
    value.class.fields.each_key { |name| read_everything(value.public_send(name)) }
    [value.to_h, value.to_json, value.additional_properties, value.key?(:type), value.inspect, value.to_s,
     value == value.class.from_h(value.to_h), value.hash]
  when Array then value.each { |item| read_everything(item) }
  when Hash then value.each_value { |item| read_everything(item) }
  end
end

MODELS = {
  "run_request" => OpenAI::GraderRunParams, "validate_request" => OpenAI::GraderValidateParams,
  "run_response" => OpenAI::GraderRunResponse, "validate_response" => OpenAI::GraderValidateResponse
}.freeze

Fixtures.index.each { |entry| read_everything(MODELS.fetch(entry["kind"]).from_json(Fixtures.text(entry["file"]))) }
Dir[File.join(Fixtures::ROOT, "errors", "[0-9]*.json")].each { |path| read_everything(OpenAI::ErrorResponse.from_json(File.read(path))) }

string_check = OpenAI::StringCheckGrader.new(input: "i", name: "n", operation: OpenAI::StringCheckGrader::Operation::EQ, reference: "r")
similarity = OpenAI::TextSimilarityGrader.new(evaluation_metric: "rouge_l", input: "i", name: "t", reference: "r")
python = OpenAI::PythonGrader.new(name: "p", source: "def grade(sample, item): return 1.0", image_tag: "2025-05-08")
message = OpenAI::EvalItem.new(
  role: :user, type: :message,
  content: ["text", {type: :input_text, text: "t"}, OpenAI::OutputText.new(text: "o"),
            OpenAI::InputImage.new(image_url: "https://example.com/a.png", detail: "high", file_id: nil),
            {type: :input_audio, input_audio: {data: "UklGR", format_: :wav}}]
)
score = OpenAI::ScoreModelGrader.new(
  input: [message, {role: :developer, content: {type: :input_text, text: "Rate it"}}], model: "gpt-4o", name: "s",
  range: [1, 7], sampling_params: {max_completions_tokens: 100, reasoning_effort: :low, seed: nil, temperature: 0.2, top_p: 1}
)
label = OpenAI::LabelModelGrader.new(input: [message], labels: %w[a b], model: "m", name: "l", passing_labels: ["a"])
multi = OpenAI::MultiGrader.new(calculate_output: "a + b", graders: {a: string_check, b: label}, name: "m")
[string_check, similarity, python, message, score, label, multi].each { |model| read_everything(model) }
OpenAI::StringCheckGrader::Operation.values
read_everything(OpenAI::Grader.from_h(JSON.parse(python.to_json)))
read_everything(OpenAI::GraderRunParams.new(grader: score, model_sample: "s", item: {"label" => "a"}))

client = OpenAI::Client.new(api_key: "sk-test", base_url: Mock::URL, timeout: 30, max_retries: 1)
graders = client.fine_tuning.alpha.graders
[string_check, similarity, python, score, multi].each { |grader| read_everything(graders.validate(grader: grader)) }
read_everything(graders.run(grader: {input: "input", name: "name", operation: :eq, reference: "reference", type: :string_check},
                            model_sample: "model_sample"))
[client.base_url, client.timeout, client.max_retries, client.inspect]
raw = graders.with_raw_response.validate(grader: string_check, request_options: {timeout: 10, max_retries: 0,
                                                                               extra_headers: {"X-Trace" => "t"},
                                                                               extra_query: {q: "1"}, extra_body: {note: 1}})
[raw.status, raw.headers, raw.body, raw.retries_taken, raw.request_id, raw.inspect, raw.to_s]
read_everything(raw.parse)
read_everything(graders.run(grader: string_check, model_sample: "s", request_options: {timeout: 5}))

Mock.enqueue(400, body: Fixtures.json("errors/400_invalid_grader.json"))
begin
  graders.validate(grader: string_check)
  abort "expected a BadRequestError"
rescue OpenAI::Errors::APIStatusError => e
  [e.status, e.code, e.param, e.type, e.body, e.request_id, e.url, e.message]
end
puts "checked against the signatures"
