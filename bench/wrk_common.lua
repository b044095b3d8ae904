-- Shared by bench/load.lua and bench/mix.lua (each loads it with dofile): thread numbers
-- (each thread's `thread_id`, from 0), pacing and the result line.
--
-- BENCH_RATE (optional): requests per second for the whole run (BENCH_THREADS threads).
-- Each thread schedules its requests as a Poisson process at its share of the rate: a
-- connection ready to send takes the next slot of the schedule and waits for it (wrk's
-- delay(), in whole milliseconds, rounded at random so the rounding does not bias the rate).
-- A schedule that falls behind (every connection busy) restarts from now rather than
-- sending a burst, so a rate the connections cannot sustain shows as a lower achieved rate.
local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

local ffi = require("ffi")
ffi.cdef [[
struct bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clock_id, struct bench_timespec *tp);
]]
local clock = ffi.new("struct bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate and rate > 0 then
  local gap_ms = 1000 * tonumber(os.getenv("BENCH_THREADS") or "1") / rate
  local slot = nil
  function delay()
    local now = now_ms()
    slot = math.max((slot or now) - gap_ms * math.log(1 - math.random()), now)
    return math.floor(slot - now + math.random())
  end
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
