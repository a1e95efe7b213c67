# Issue 5's statement of the documented Ruby API: the seed 001 run example with an explicit `item: nil`.
# nil for an optional field that cannot be null leaves it out, so the body is the documented one.

require "openai"

openai = OpenAI::Client.new(api_key: "My API Key")

response = openai.fine_tuning.alpha.graders.run(
  grader: {input: "input", name: "name", operation: :eq, reference: "reference", type: :string_check},
  model_sample: "model_sample",
  item: nil
)

puts(response)
