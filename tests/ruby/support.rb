# frozen_string_literal: true

# The generated gem (GRADERS_LIB, generated with --ruby-module OpenAI), the fixtures (FIXTURES) and the
# mock API (MOCK_URL), all given by tests/test_ruby.py.

$LOAD_PATH.unshift(ENV.fetch("GRADERS_LIB"))
require "openai"
require "json"
require "net/http"

module Fixtures
  ROOT = ENV.fetch("FIXTURES")

  def self.index = JSON.parse(File.read(File.join(ROOT, "index.json")))

  def self.text(relative) = File.read(File.join(ROOT, relative))

  def self.json(relative) = JSON.parse(text(relative))
end

# The mock API's control endpoints: script answers, read what the client sent.
module Mock
  URL = ENV.fetch("MOCK_URL")
  CONTROL = URI(URL.delete_suffix("/v1"))

  def self.reset = post("/__mock/reset", {})

  # status, body (nil: the endpoint's default), delay (s), disconnect, headers
  def self.enqueue(status = 200, body: nil, delay: 0, disconnect: false, headers: {})
    post("/__mock/enqueue", {status: status, body: body, delay: delay, disconnect: disconnect, headers: headers})
  end

  def self.requests
    JSON.parse(Net::HTTP.get(URI("#{CONTROL}/__mock/requests")))
  end

  def self.post(path, payload)
    response = Net::HTTP.post(URI("#{CONTROL}#{path}"), JSON.generate(payload), "Content-Type" => "application/json")
    raise "mock control #{path} failed: #{response.code} #{response.body}" unless response.is_a?(Net::HTTPSuccess)
  end
end

# The fault server (tests/fault_server.py, at FAULT_URL): a base URL per scenario, and its hit counts.
module Faults
  URL = ENV.fetch("FAULT_URL")

  # How many API requests came for a base path such as "/reset-mid-body/tag".
  def self.hits(base) = JSON.parse(Net::HTTP.get(URI("#{URL}/__fault/hits"))).fetch(base, 0)
end
