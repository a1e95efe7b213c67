# Seed 003 (Azure reference), Code Examples › Ruby, lines 889-897: the documented code, verbatim.

require "openai"

openai = OpenAI::Client.new(api_key: "My API Key")

response = openai.fine_tuning.alpha.graders.validate(
  grader: {input: "input", name: "name", operation: :eq, reference: "reference", type: :string_check}
)

puts(response)
