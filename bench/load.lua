-- wrk script: every request carries the token of one of the logged-in bench users.
-- BENCH_TOKENS: a file with one access token per line. BENCH_PATHS: request paths joined by "|",
-- rotated per request. Each thread walks the tokens from its own offset, so the connections of
-- a run hit many different users. done() prints one JSON line (parsed by bench/run.py).
local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  paths = {}
  for path in string.gmatch(os.getenv("BENCH_PATHS"), "[^|]+") do paths[#paths + 1] = path end
  counter = (thread_id or 0) * 7919
end

function request()
  counter = counter + 1
  local token = tokens[counter % #tokens + 1]
  local path = paths[counter % #paths + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
