# frozen_string_literal: true

# Forward-compatibility cases made from the IR (tests/forward_cases.py): parses each document as the
# named constant, says whether it landed where the rule puts it, and writes it back.
#
#   ruby -I <gem>/lib ir_forward_compat.rb cases.json results.json
require "json"

cases_path, results_path = ARGV
cases = JSON.parse(File.read(cases_path))
require cases.fetch("require")
type = Object.const_get("#{cases.fetch('module')}::Internal::Type")

results = cases.fetch("cases").to_h do |c|
  result =
    begin
      constant = Object.const_get(c.fetch("constant"))
      document = c.fetch("document")
      value, landed =
        case c.fetch("kind")
        when "struct"
          parsed = constant.from_h(document)
          [parsed, parsed.additional_properties.key?(c.fetch("extra").to_sym)]
        when "enum"
          parsed = type.coerce(constant, document, strict: false, path: nil)
          [parsed, !constant.values.include?(parsed)]
        else
          parsed = constant.from_h(document)
          [parsed, parsed.is_a?(constant.const_get(c.fetch("fallback")))]
        end
      {"landed" => landed, "written" => JSON.parse(JSON.generate(type.dump(value)))}
    rescue StandardError => e
      {"error" => "#{e.class}: #{e.message}"}
    end
  [c.fetch("id"), result]
end
File.write(results_path, JSON.generate(results))
