-- wrk script for bench/bench_server.py: POSTs the bodies of a Lua module (its path is the script's one
-- argument) in turn, each thread starting at its own place, and prints one JSON summary line at the end.
-- A module with `unique = true` has the mark __N__ in each body, replaced by a number no other request
-- of the run gets, so that no cache of the server sees a body twice.
-- With GRADERGEN_WRK_PAUSE_MS set, each connection waits that many milliseconds after an answer before
-- its next request: a load held near a rate instead of as fast as the server answers (wrk looks for
-- `delay` once, when it loads the script, so the pause cannot come from the module).
--   wrk -c64 -d10s --latency -s bench/server_wrk.lua http://127.0.0.1:PORT -- bodies.lua

local requests = {}
local module = nil
local next_index = 1
local sent = 0
local thread_number = 0
local pause_ms = tonumber(os.getenv("GRADERGEN_WRK_PAUSE_MS") or "")

if pause_ms then
  function delay()
    return pause_ms
  end
end

function setup(thread)
  thread:set("offset", thread_number)
  thread_number = thread_number + 1
end

function init(args)
  module = dofile(args[1])
  for i, body in ipairs(module.bodies) do
    requests[i] = module.unique and body or wrk.format("POST", module.path, module.headers, body)
  end
  next_index = ((offset or 0) * 97) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  if module.unique then
    sent = sent + 1
    local body = r:gsub("__N__", (offset or 0) .. "-" .. sent, 1)
    return wrk.format("POST", module.path, module.headers, body)
  end
  return r
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
