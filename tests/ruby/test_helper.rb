# frozen_string_literal: true

# Shared by the minitest files.

require_relative "support"
require "minitest/autorun"

module JSONAssertions
  # Equal as JSON documents: numbers by value (1 == 1.0), true is not 1, null is not absent, key order
  # does not matter.
  def json_equal?(a, b)
    case a
    when true, false, nil then a.equal?(b)
    when Integer, Float then (b.is_a?(Integer) || b.is_a?(Float)) && a == b
    when Hash then b.is_a?(Hash) && a.keys.sort == b.keys.sort && a.all? { |k, v| json_equal?(v, b[k]) }
    when Array then b.is_a?(Array) && a.size == b.size && a.zip(b).all? { |x, y| json_equal?(x, y) }
    else a.instance_of?(b.class) && a == b
    end
  end

  def assert_json_equal(expected, actual, message = nil)
    assert json_equal?(expected, actual),
           "#{message || 'JSON differs'}\nexpected: #{JSON.generate(expected)}\n  actual: #{JSON.generate(actual)}"
  end

  # The keys of every object, depth first, in document order.
  def key_order(value)
    case value
    when Hash then value.flat_map { |k, v| [k, *key_order(v)] }
    when Array then value.flat_map { |v| key_order(v) }
    else []
    end
  end
end

class GradersTest < Minitest::Test
  include JSONAssertions

  def setup
    Mock.reset
  end

  def client(**options)
    OpenAI::Client.new(api_key: "sk-test", base_url: Mock::URL, **options)
  end

  def string_check(**overrides)
    {input: "input", name: "name", operation: :eq, reference: "reference", type: :string_check, **overrides}
  end
end
