-- wrk script: every request carries the token of one of the logged-in bench users.
-- BENCH_TOKENS: a file with one access token per line. BENCH_PATHS: request paths joined by "|",
-- rotated per request. Each thread walks the tokens from its own offset, so the connections of
-- a run hit many different users. BENCH_RATE (optional) paces the run (bench/wrk_common.lua,
-- which also prints the JSON line bench/run.py parses).
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "") .. "wrk_common.lua")

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  paths = {}
  for path in string.gmatch(os.getenv("BENCH_PATHS"), "[^|]+") do paths[#paths + 1] = path end
  counter = (thread_id or 0) * 7919
  math.randomseed(os.time() + (thread_id or 0) * 104729)
end

function request()
  counter = counter + 1
  local token = tokens[counter % #tokens + 1]
  local path = paths[counter % #paths + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
