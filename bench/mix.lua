-- wrk script: a "mobile day" mix through nginx (bench/run.py's stack phase). Every request is
-- one of the kinds below, drawn at random by weight, for the next user in turn (tokens
-- rotate per request). Reads send Accept-Encoding: gzip as the apps do; writes send a fresh
-- Idempotency-Key. Per-request timings come from nginx's access log, not from here.
--
-- Environment (set by bench/run.py):
--   BENCH_USERS     file, a user a line: email access refresh goal_id today month_start (bench/mixdata.py)
--   BENCH_MIX       weights, "summary=370,diary=150,...": kinds absent or at 0 are not sent
--   BENCH_FOODS     public food ids (comma-separated) that the food writes log
--   BENCH_WORDS     food search words (comma-separated)
--   BENCH_PASSWORD  the bench users' password, for the logins
--   BENCH_RUN       unique to this wrk run: Idempotency-Keys are <run>-<thread>-<counter>
--   BENCH_REFRESH   "first,count": the users whose refresh tokens seed this run's refreshes.
--                   A refresh token works once (rotation; reusing one ends its session), so every run gets its
--                   own; each refresh or login response hands its new refresh token back.
--   BENCH_THREADS   wrk's -t (the seed tokens are split between threads)
--   BENCH_RATE      optional: pace the run at this many requests per second (bench/wrk_common.lua,
--                   which also prints the JSON line bench/run.py parses)
dofile((string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "") .. "wrk_common.lua")

local function split(text, separator)
  local items = {}
  for item in string.gmatch(text or "", "[^" .. separator .. "]+") do items[#items + 1] = item end
  return items
end

function init(args)
  users = {}
  for line in io.lines(os.getenv("BENCH_USERS")) do
    local f = split(line, " ")
    if #f == 6 then
      users[#users + 1] = { email = f[1], access = f[2], refresh = f[3], goal = f[4], today = f[5], month = f[6] }
    end
  end
  foods = split(os.getenv("BENCH_FOODS"), ",")
  words = split(os.getenv("BENCH_WORDS"), ",")
  password = os.getenv("BENCH_PASSWORD")
  run_id = os.getenv("BENCH_RUN") or tostring(os.time())
  thread_id = thread_id or 0
  math.randomseed(os.time() + thread_id * 104729)

  kinds, cumulative, total = {}, {}, 0
  for pair in string.gmatch(os.getenv("BENCH_MIX"), "[^,]+") do
    local name, weight = string.match(pair, "^([%w_]+)=(%d+)$")
    if name and tonumber(weight) > 0 then
      total = total + tonumber(weight)
      kinds[#kinds + 1] = name
      cumulative[#cumulative + 1] = total
    end
  end

  -- This thread's share of the run's seed refresh tokens.
  pool = {}
  local seed = split(os.getenv("BENCH_REFRESH") or "0,0", ",")
  local first, count = tonumber(seed[1]), tonumber(seed[2])
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  for i = first, first + count - 1 do
    if i % threads == thread_id then pool[#pool + 1] = users[i % #users + 1].refresh end
  end
  counter = 0
  position = thread_id * 7919
end

local function auth(user, extra)
  local headers = { ["Authorization"] = "Bearer " .. user.access }
  for name, value in pairs(extra or {}) do headers[name] = value end
  return headers
end

local function read(user, path)
  return wrk.format("GET", path, auth(user, { ["Accept-Encoding"] = "gzip" }))
end

local function write(user, path, body)
  local headers = auth(user, {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run_id, thread_id, counter),
  })
  return wrk.format("POST", path, headers, body)
end

local function now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

local meals = { "breakfast", "lunch", "dinner", "snack" }

local build = {
  summary = function(user)
    return read(user, "/api/v1/diary/summary/?start=" .. user.today .. "&end=" .. user.today)
  end,
  diary = function(user) return read(user, "/api/v1/diary/") end,
  search = function(user)
    return read(user, "/api/v1/foods/?search=" .. words[counter % #words + 1])
  end,
  log_food = function(user)
    local body = string.format('{"food":"%s","grams":%d,"meal":"%s","consumed_at":"%s"}',
      foods[math.random(#foods)], math.random(30, 400), meals[math.random(#meals)], now())
    return write(user, "/api/v1/diary/", body)
  end,
  weight = function(user)
    local body = string.format('{"type":"weight","value":%.1f,"measured_at":"%s"}', 60 + math.random() * 40, now())
    return write(user, "/api/v1/measurements/", body)
  end,
  trend = function(user)
    return read(user, "/api/v1/measurements/trend/?type=weight&start=" .. user.month .. "&end=" .. user.today)
  end,
  progress = function(user) return read(user, "/api/v1/goals/" .. user.goal .. "/progress/") end,
  login = function(user)
    local body = string.format('{"email":"%s","password":"%s"}', user.email, password)
    return wrk.format("POST", "/api/v1/auth/token/", { ["Content-Type"] = "application/json" }, body)
  end,
  refresh = function(user)
    local token = table.remove(pool)
    if token == nil then return nil end -- every seed token is in flight: send something else
    return wrk.format("POST", "/api/v1/auth/token/refresh/", { ["Content-Type"] = "application/json" },
      string.format('{"refresh":"%s"}', token))
  end,
}

function request()
  counter = counter + 1
  position = position + 1
  local user = users[position % #users + 1]
  local draw = math.random() * total
  local kind = kinds[#kinds]
  for i = 1, #cumulative do
    if draw < cumulative[i] then kind = kinds[i]; break end
  end
  return build[kind](user) or build.summary(user)
end

function response(status, headers, body)
  -- Logins and refreshes answer a new refresh token (a few hundred bytes, never gzipped).
  if status == 200 and body and #body < 2048 then
    local token = string.match(body, '"refresh"%s*:%s*"([^"]+)"')
    if token then pool[#pool + 1] = token end
  end
end
