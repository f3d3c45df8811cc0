-- Shared by every scenario script: the seed files `make bench` wrote (BENCH_DATA), a distinct starting point per
-- wrk thread so threads do not walk the same users in step, and one machine-readable summary line for bench/run.sh.
local common = {}

local data = os.getenv("BENCH_DATA") or error("BENCH_DATA is not set")
local threads = 0

-- Fixed offered rate: with BENCH_THREAD_INTERVAL_US set (bench/measure.sh derives it from BENCH_OFFERED_RATE and the
-- threads it gives wrk), each wrk thread sends requests as independent clients would, at random moments whose gaps
-- average the interval (a Poisson process), on whichever of its connections is free. The rate is the one asked
-- for on every path, and the arrivals are those of many users: neither evenly spaced (each request alone) nor in
-- bursts. The earlier way, a fixed wait after each answer, offered connections ÷ (wait + latency), so a slower path
-- got fewer requests (1,770–1,900 of 2,000), and the connections, started together, stayed in step: the server saw
-- bursts of 64 requests 30 times a second, and its CPU per request looked 30–45 % lower than with arrivals spread out.
-- A thread that falls more than a second behind (the server stalled) drops the missed slots instead of bursting.
-- wrk calls a global delay() before each request when one exists; it takes whole milliseconds.
local interval_us = tonumber(os.getenv("BENCH_THREAD_INTERVAL_US") or "0")
if interval_us > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *now);
  ]]
  local clock_monotonic = 1
  local timespec = ffi.new("bench_timespec")
  local function now_us()
    ffi.C.clock_gettime(clock_monotonic, timespec)
    return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
  end
  local due
  function delay()
    local now = now_us()
    if due == nil then
      math.randomseed((thread_id or 1) * 7919 + now)
      due = now
    elseif due < now - 1e6 then
      due = now
    end
    local wait_ms = math.floor((due - now) / 1e3 + 0.5)
    due = due - interval_us * math.log(1 - math.random())
    return wait_ms > 0 and wait_ms or 0
  end
end

-- Rows of a tab-separated seed file, each a list of fields.
function common.rows(name)
  local rows = {}
  for line in io.lines(data .. "/" .. name) do
    local fields = {}
    for field in line:gmatch("[^\t]+") do
      fields[#fields + 1] = field
    end
    rows[#rows + 1] = fields
  end
  if #rows == 0 then
    error(name .. " is empty")
  end
  return rows
end

-- wrk calls setup once per thread in the main state; the id reaches the thread's own state as a global.
function common.setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

-- A cycling cursor over n prepared requests, starting at a different place in each thread.
function common.cursor(n)
  local index = ((thread_id or 1) * 7919) % n
  return function()
    index = index % n + 1
    return index
  end
end

function common.bearer(token)
  return { Authorization = "Bearer " .. token }
end

function common.login_body(email, password)
  return string.format('{"email":"%s","password":"%s"}', email, password)
end

-- wrk counts a status of 400 or more in errors.status; socket errors are counted apart.
function common.done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d status=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, errors.status, errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

return common
