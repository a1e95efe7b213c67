# frozen_string_literal: true

# Loads the gem (GRADERS_LIB) and resolves every constant and lazy type reference, so that `ruby -w`
# sees all the code that would otherwise first run when a type is used. Prints nothing.

$LOAD_PATH.unshift(ENV.fetch("GRADERS_LIB"))
require "openai"

def resolve(type) = type.is_a?(Proc) ? type.call : type

def visit(mod, seen = {})
  return if seen[mod]

  seen[mod] = true
  mod.constants.each do |name|
    value = mod.const_get(name)
    visit(value, seen) if value.is_a?(Module) && value.name&.start_with?("OpenAI::")
  end
  mod.fields.each_value { |field| resolve(field.type) } if mod.is_a?(Class) && mod < OpenAI::Internal::Model
  mod.variants.each { |variant| resolve(variant.type) } if mod.is_a?(OpenAI::Internal::Union)
  raise "#{mod} lists no values" if mod.is_a?(OpenAI::Internal::Enum) && mod.values.empty?
end

visit(OpenAI)
